"""``respaldos --self-test``: proves that this installation works, from source or as the built executable.

Every step is a real use of the program on throwaway data in one temporary folder: a demo POS folder is
written, backed up with the real engine, verified, restored and compared with the original (bytes for
plain files, rows for SQLite databases); the files the executable must carry (icon, English catalog, CA
bundle, Google Drive discovery document) are loaded; and, when there is a screen, the real window opens
on the test's configuration and closes again.

The run never touches the user's files: history, state and the backup lock go to the temporary folder
(``RESPALDOS_DATA_DIR``), and the configuration is a temporary one. One line per step goes to stdout and
to the log; ``RESPALDOS_SELFTEST_OUTPUT=FILE`` also appends them to FILE, which is how a windowed Windows
executable (it has no stdout) reports to a script. Exit 0 when every step passes, 1 naming the first
step that failed.
"""

from __future__ import annotations

import gettext
import hashlib
import logging
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from wizard.core.errors import UserError
from wizard.core.units import format_size
from wizard.i18n import _, ngettext

logger = logging.getLogger(__name__)

OUTPUT_ENV = "RESPALDOS_SELFTEST_OUTPUT"
EXIT_OK, EXIT_FAILED = 0, 1


class StepFailed(Exception):
    """A step found something wrong; the text says what."""


@dataclass
class _Context:
    """What the steps hand to each other."""

    work: Path
    source: Path = field(init=False)
    destination: Path = field(init=False)
    restored: Path = field(init=False)
    config_path: Path = field(init=False)
    config: object = None
    archive: Path | None = None
    manifest: object = None

    def __post_init__(self) -> None:
        self.source = self.work / "pos"
        self.destination = self.work / "respaldos"
        self.restored = self.work / "restaurado"
        self.config_path = self.work / "respaldos.toml"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _table_digests(path: Path) -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row of every table, in rowid order."""
    conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        digests = {}
        for table in tables:
            digest = hashlib.sha256()
            count = 0
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
                digest.update(repr(row).encode("utf-8"))
                count += 1
            digests[table] = (count, digest.hexdigest())
        return digests
    finally:
        conn.close()


def _format_size(n: int) -> str:

    return format_size(n)


# -- the steps ----------------------------------------------------------------------------------------

def step_demo_data(ctx: _Context) -> str:
    from wizard.core.demo import make_demo_folder

    folder = Path(make_demo_folder(ctx.source))
    ctx.source = folder
    files = [p for p in folder.rglob("*") if p.is_file()]
    databases = [p for p in files if p.read_bytes()[:16] == b"SQLite format 3\x00"]
    if not databases:
        raise StepFailed(_("la carpeta de ejemplo no tiene ninguna base de datos SQLite"))
    return _("{files} archivos, {databases} base(s) de datos, {size}").format(
        files=len(files), databases=len(databases), size=_format_size(sum(p.stat().st_size for p in files)))


def step_backup(ctx: _Context) -> str:
    from wizard.core import config as config_mod
    from wizard.core import history
    from wizard.core.backup import run_backup
    from wizard.core.config import Config, DestinationConfig, SourceConfig

    ctx.destination.mkdir()
    config = Config(source=SourceConfig(paths=[str(ctx.source)]),
                    destination=DestinationConfig(folder=str(ctx.destination)))
    problems = config_mod.validate(config)
    if problems:
        raise StepFailed("; ".join(str(p) for p in problems))
    config_mod.save(config, ctx.config_path)
    ctx.config = config_mod.load(ctx.config_path)
    result = run_backup(ctx.config, trigger="self-test")
    if result.status != "ok":
        raise StepFailed(result.message or result.status)
    if result.archive is None or not result.archive.is_file() or not result.verified:
        raise StepFailed(_("el respaldo terminó sin un archivo verificado"))
    entries = history.read()
    if not entries or entries[-1].trigger != "self-test" or entries[-1].status != "ok":
        raise StepFailed(_("el historial no registró el respaldo"))
    ctx.archive = result.archive
    return _("{name}, {size}").format(name=result.archive.name, size=_format_size(result.size))


def step_verify(ctx: _Context) -> str:
    from wizard.core.archive import verify_archive

    manifest = verify_archive(ctx.archive)
    ctx.manifest = manifest
    kinds = {f.kind for f in manifest.files}
    if "sqlite" not in kinds:
        raise StepFailed(_("el respaldo no tiene ninguna base de datos copiada con SQLite"))
    return _("{count} archivos coinciden con su suma SHA-256").format(count=len(manifest.files))


def step_restore(ctx: _Context) -> str:
    from wizard.core.archive import restore_archive
    from wizard.core.snapshot import SIDECAR_SUFFIXES

    restored = restore_archive(ctx.archive, ctx.restored)
    manifest = ctx.manifest
    (root,) = manifest.sources
    source_root, archive_root = Path(root["path"]), root["archive_path"]
    expected = sorted(p.relative_to(ctx.source).as_posix() for p in ctx.source.rglob("*")
                      if p.is_file() and not p.name.endswith(SIDECAR_SUFFIXES))
    got = sorted(f.path[len(archive_root) + 1:] for f in manifest.files)
    if got != expected:
        missing = sorted(set(expected) - set(got)) or sorted(set(got) - set(expected))
        raise StepFailed(_("la lista de archivos no coincide con el original: {names}").format(
            names=", ".join(missing[:3])))
    rows = 0
    for f in manifest.files:
        relative = f.path[len(archive_root) + 1:]
        original = source_root / relative
        copy = ctx.restored / f.path
        if f.kind == "sqlite":
            before, after = _table_digests(original), _table_digests(copy)
            if before != after:
                raise StepFailed(_("{name}: las filas restauradas no coinciden con el original").format(
                    name=f.path))
            rows += sum(count for count, _digest in after.values())
        elif _sha256(original) != _sha256(copy):
            raise StepFailed(_("{name}: el archivo restaurado no es igual al original").format(name=f.path))
    return _("{count} archivos iguales al original, {rows} filas de base de datos comparadas").format(
        count=len(restored), rows=rows)


def step_components(ctx: _Context) -> str:
    """What a built executable must carry besides code; a missing one only shows up at run time."""
    from wizard.i18n import DOMAIN, LOCALE_DIR
    from wizard.ui.app import asset_path

    for name in ("respaldos.png", "respaldos.ico"):
        if asset_path(name) is None:
            raise StepFailed(_("falta el icono {name}").format(name=name))
    try:
        gettext.translation(DOMAIN, LOCALE_DIR, languages=["en"])
    except OSError:
        raise StepFailed(_("falta la traducción al inglés en {folder}").format(folder=LOCALE_DIR)) from None

    import smtplib  # noqa: F401 - notices by e-mail (wizard.core.notify.email imports it on first use)
    import urllib.request  # noqa: F401 - Telegram and pings
    from email.message import EmailMessage  # noqa: F401

    import certifi
    import dropbox  # noqa: F401 - the import itself is the check
    import httplib2
    from googleapiclient.discovery_cache import get_static_doc

    for bundle in (certifi.where(), httplib2.certs.where()):
        if not Path(bundle).is_file():
            raise StepFailed(_("falta el archivo de certificados {path}").format(path=bundle))
    if not get_static_doc("drive", "v2"):
        raise StepFailed(_("falta la descripción de la API de Google Drive (drive v2)"))
    return _("icono, traducción, certificados, Dropbox y Google Drive")


class _NonBlockingDialogs:
    """Stands in for the modal dialogs: a self-test must never wait for a click. Any message is a failure."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def info(self, message, title=None):
        self.messages.append(message)

    warning = error = info

    def confirm(self, message, title=None, yes=None, no=None):
        self.messages.append(message)
        return False

    def choose_directory(self, title, initial=None):
        return None

    def choose_files(self, title, initial=None):
        return []


def has_display() -> bool:
    """Windows and macOS always have one; elsewhere Tk needs an X server (or XWayland)."""
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY"))


def step_window(ctx: _Context) -> str:
    import tkinter

    from wizard.ui.app import RespaldosWindow, create_root

    started = time.monotonic()
    try:
        root = create_root()
    except tkinter.TclError as exc:
        raise StepFailed(_("no se pudo abrir la ventana: {error}").format(error=exc)) from None
    dialogs = _NonBlockingDialogs()
    window = None
    try:
        window = RespaldosWindow(root, ctx.config_path, dialogs=dialogs, run_scheduler=False)
        deadline = started + 15
        while not root.winfo_viewable() and time.monotonic() < deadline:
            root.update()
            time.sleep(0.01)
        if not root.winfo_viewable():
            raise StepFailed(_("la ventana no apareció en 15 s"))
        shown = time.monotonic() - started
        for _turn in range(20):  # let the summary's background questions come back
            root.update()
            time.sleep(0.01)
        if window.summary is None:
            raise StepFailed(_("la ventana no mostró el resumen de la configuración"))
        if dialogs.messages:
            raise StepFailed(dialogs.messages[0])
        title = root.title()
    finally:
        if window is not None:
            window.destroy()
        root.destroy()
    return _("\"{title}\" abierta en {seconds:.1f} s y cerrada").format(title=title, seconds=shown)


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[_Context], str]
    needs_display: bool = False


def steps() -> list[Step]:
    """The steps in order; the names are what the printed lines say."""
    return [
        Step(_("datos de ejemplo"), step_demo_data),
        Step(_("respaldo"), step_backup),
        Step(_("verificación"), step_verify),
        Step(_("restauración"), step_restore),
        Step(_("componentes"), step_components),
        Step(_("ventana"), step_window, needs_display=True),
    ]


# -- running them -------------------------------------------------------------------------------------

class _Output:
    """stdout (absent in a windowed Windows executable), the log, and the file named by the env var."""

    def __init__(self) -> None:
        self.path = os.environ.get(OUTPUT_ENV)

    def line(self, text: str) -> None:
        logger.info("self-test: %s", text)
        if sys.stdout is not None:
            print(text, flush=True)
        if self.path:
            with open(self.path, "a", encoding="utf-8") as fh:
                fh.write(text + "\n")


def run_self_test() -> int:
    """Run every step, print one line each; 0 when all pass, 1 naming the first that failed."""
    out = _Output()
    all_steps = steps()
    total = len(all_steps)
    started = time.monotonic()
    skipped = 0
    previous_data_dir = os.environ.get("RESPALDOS_DATA_DIR")
    with tempfile.TemporaryDirectory(prefix="respaldos-autoprueba-", ignore_cleanup_errors=True) as tmp:
        ctx = _Context(Path(tmp))
        # History, state and the lock of this run go to the temporary folder, not the user's.
        os.environ["RESPALDOS_DATA_DIR"] = str(ctx.work / "datos-de-la-app")
        try:
            for number, step in enumerate(all_steps, 1):
                label = _("paso {number}/{total} {name}").format(number=number, total=total, name=step.name)
                if step.needs_display and not has_display():
                    out.line(_("OMITIDO {step}: no hay pantalla (DISPLAY)").format(step=label))
                    skipped += 1
                    continue
                t0 = time.monotonic()
                try:
                    detail = step.run(ctx)
                except StepFailed as exc:
                    reason = str(exc)
                except UserError as exc:
                    reason = str(exc)
                except Exception as exc:  # any crash is a failed step; its traceback goes to the log
                    logger.exception("self-test step %s crashed", step.name)
                    reason = f"{type(exc).__name__}: {exc}"
                else:
                    out.line(_("OK  {step}: {detail} ({seconds:.1f} s)").format(
                        step=label, detail=detail, seconds=time.monotonic() - t0))
                    continue
                out.line(_("FALLO {step}: {reason}").format(step=label, reason=reason))
                out.line(_("La autoprueba falló en el paso \"{name}\".").format(name=step.name))
                return EXIT_FAILED
        finally:
            if previous_data_dir is None:
                os.environ.pop("RESPALDOS_DATA_DIR", None)
            else:
                os.environ["RESPALDOS_DATA_DIR"] = previous_data_dir
    passed = total - skipped
    summary = _("Autoprueba correcta: {passed} de {total} pasos en {seconds:.1f} s.").format(
        passed=passed, total=total, seconds=time.monotonic() - started)
    if skipped:
        summary += " " + ngettext("{count} omitido.", "{count} omitidos.", skipped).format(count=skipped)
    out.line(summary)
    return EXIT_OK
