"""Restore: pick a backup, see what is in it, and put the POS data back safely.

Putting data back "in its original place" overwrites the shop's live files, so it goes step by step and
touches nothing until every check passed:

0. nothing in the archive is trusted unchecked: this installation's backup goes back only into the folders
   the configuration names; another installation's (this computer replaces it) only after the user saw
   whose it is and every folder it overwrites (``folders_to_overwrite``, ``OtherMachineBackup``); a member
   whose name climbs out, holds a ':' or would be the same file as another on Windows, or whose target a
   link leads out of its folder, is refused (``wizard.core.archive.check_restore_targets``);
1. the whole archive is verified (every member's CRC and SHA-256): a damaged one changes nothing;
2. the POS must not be using a database that would be overwritten (an exclusive SQLite lock cannot be
   taken, the -wal survives our own close, or, on Linux, another process has the file open):
   "Cierra el punto de venta y vuelve a intentar.";
3. the current data is saved by an ordinary backup marked ``before-restore`` ("Antes de restaurar") in
   the history, written to the usual destination, not uploaded, and kept outside the keep rules for
   ``SAFETY_KEEP_DAYS`` days (see ``wizard.core.backup.apply_retention``);
4. each file is written under a temporary name beside its target, checked against the manifest, fsynced,
   databases pass ``PRAGMA integrity_check``, and only then renamed over the old file. A kill or an error
   at any moment leaves, at every path, either the old file or the restored one, never a mix; an error
   says that the safety backup exists and where.

Restoring into another folder skips 2 and 3 (nothing is overwritten there). Listing the cloud and
downloading a cloud copy go through the provider (``CloudProvider.list`` / ``download``, whose checksum
is checked before the archive is used). Server-database dumps never go back to a place on disk: they are
loaded into the server by ``dbsources.restore_dump``, from a local archive or, with
``restore_dump_from_cloud``, from a cloud copy downloaded for the purpose.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from isal import isal_zlib

from wizard.core import history, machine, paths
from wizard.core.archive import (
    Manifest,
    ManifestFile,
    check_restore_targets,
    iter_member,
    open_zip,
    read_manifest,
    restore_archive,
    stays_inside,
    unrestorable_member_reason,
    verify_archive,
)
from wizard.core.config import CloudConfig, Config, DatabaseSource, RetentionConfig, SourceConfig
from wizard.core.dbsources import (
    DUMP_KINDS,
    ENGINE_NAMES,
    RestoredDatabase,
    engine_of_kind,
    find_dump,
    find_tool,
    restore_command,
    restore_dump,
    restore_target,
)
from wizard.core.errors import ArchiveDamaged, Cancelled, UserError
from wizard.core.fsutil import fsync_dir
from wizard.core.retention import SAFETY_KEEP_DAYS
from wizard.core.snapshot import SIDECAR_SUFFIXES, is_sqlite
from wizard.i18n import _, ngettext

logger = logging.getLogger(__name__)

SAFETY_TRIGGER = "before-restore"
TEMP_SUFFIX = ".restaurando"
ROW_COUNT_LIMIT = 256 << 20  # databases up to this size get their rows counted when listing contents
LOCK_TIMEOUT = 1.0  # seconds to wait for the POS to finish a transaction before calling it "in use"
DOWNLOADS_DIR_NAME = "descargas"

Report = Callable[["RestoreProgress"], None]

__all__ = [
    "SAFETY_KEEP_DAYS", "ArchiveOwner", "BackupChoice", "BackupContents", "DatabaseCheck", "OnlyServerDatabases",
    "OtherMachineBackup", "PosInUse", "RestoreFailed", "RestoreProgress", "RestoreReport", "ServerDump",
    "TableCount", "archive_owner", "changes_lost_sentence", "cloud_download_name", "count_rows",
    "count_rows_in_archive", "database_in_use", "download_backup", "dumps_named", "folders_to_overwrite",
    "list_cloud_backups", "list_local_backups", "original_targets", "other_machine_sentence", "read_contents",
    "restore_dump_from_cloud", "restore_to_folder", "restore_to_original", "server_dumps", "when_phrase",
]


# -- errors ---------------------------------------------------------------------------------------------

class PosInUse(UserError):
    """A database that would be overwritten is open in the POS (or another program)."""

    def __init__(self, path: Path):
        super().__init__(_("El punto de venta está usando {path}. Cierra el punto de venta y vuelve a "
                           "intentar.").format(path=path))
        self.path = path


class OnlyServerDatabases(UserError):
    """Restoring in place was asked of a backup that holds only server-database dumps."""


class OtherMachineBackup(UserError):
    """Restoring in place was asked of another installation's backup without saying that this computer
    replaces it; ``owner`` and ``folders`` (what would be overwritten) let the window ask for itself."""

    exit_code = 2

    def __init__(self, message: str, owner: ArchiveOwner, folders: list[Path]):
        super().__init__(message)
        self.owner = owner
        self.folders = folders


class RestoreFailed(UserError):
    """Restoring stopped after files were already replaced; the safety backup holds the data from before."""

    def __init__(self, message: str, safety_backup: Path | None, restored: list[Path]):
        super().__init__(message)
        self.safety_backup = safety_backup
        self.restored = restored


# -- sentences --------------------------------------------------------------------------------------------

def _weekday(index: int) -> str:
    return (_("lunes"), _("martes"), _("miércoles"), _("jueves"), _("viernes"), _("sábado"),
            _("domingo"))[index]


def _month(index: int) -> str:
    return (_("enero"), _("febrero"), _("marzo"), _("abril"), _("mayo"), _("junio"), _("julio"),
            _("agosto"), _("septiembre"), _("octubre"), _("noviembre"), _("diciembre"))[index - 1]


def when_phrase(created: datetime, now: datetime | None = None) -> str:
    """A backup's moment after "del respaldo" / "después": "del martes 25 a las 20:00", "de hoy a las 9:05"."""
    now = now or datetime.now()
    clock = created.strftime("%H:%M")
    days = (now.date() - created.date()).days
    if days == 0:
        return _("de hoy a las {time}").format(time=clock)
    if 0 < days < 28 and (created.year, created.month) == (now.year, now.month):
        return _("del {weekday} {day} a las {time}").format(
            weekday=_weekday(created.weekday()), day=created.day, time=clock)
    if 0 < days < 300:
        return _("del {weekday} {day} de {month} a las {time}").format(
            weekday=_weekday(created.weekday()), day=created.day, month=_month(created.month), time=clock)
    return _("del {day} de {month} de {year} a las {time}").format(
        day=created.day, month=_month(created.month), year=created.year, time=clock)


def changes_lost_sentence(created: datetime, now: datetime | None = None) -> str:
    """ "Se perderán los cambios hechos después del martes 25 a las 20:00." """
    now = now or datetime.now()
    if created.date() == now.date():
        return _("Se perderán los cambios hechos hoy después de las {time}.").format(
            time=created.strftime("%H:%M"))
    return _("Se perderán los cambios hechos después {when}.").format(when=when_phrase(created, now))


# -- which backups there are -------------------------------------------------------------------------------

@dataclass
class BackupChoice:
    """One backup that can be restored: a local archive, or a copy in the cloud downloaded on demand."""

    name: str
    created: datetime
    size: int
    location: str  # "local", or the provider's name ("dropbox") for a cloud-only copy
    path: Path | None = None  # the local archive
    verified: bool | None = None  # True: verified when it was made (history); None: not known
    safety: bool = False  # made automatically before a restore
    in_cloud: bool = False  # a local archive that also has a copy in the cloud
    mine: bool = True  # made by this installation (wizard.core.machine); others are listed apart
    owner: str = ""  # for another installation's backup: its name ("Caja 2"), or its short id
    owner_id: str = ""  # that installation's id when its manifest was read, else its short id from the name

    @property
    def local(self) -> bool:
        return self.location == "local"

    def changes_lost(self, now: datetime | None = None) -> str:
        return changes_lost_sentence(self.created, now)


def _history_marks() -> tuple[set[str], set[str]]:
    """Names of archives the history says were verified, and of the safety backups."""
    verified, safety = set(), set()
    for entry in history.read():
        if entry.archive and entry.succeeded:
            if entry.verified:
                verified.add(entry.archive)
            if entry.trigger == SAFETY_TRIGGER:
                safety.add(entry.archive)
    return verified, safety


def _owner_fields(name: str, me: machine.Machine, path: Path | None = None) -> dict:
    """``mine``/``owner``/``owner_id`` of a backup: by its name's tag; a local untagged one by its manifest."""
    from wizard.core.backup import archive_tag, manifest_machine_of

    tag = archive_tag(name)
    owned = me.owns_tag(tag)
    if owned is None:  # made before installations had ids, or renamed: only a local manifest can tell
        found = manifest_machine_of(path) if path is not None else None
        if me.owns_manifest(found):
            return {"mine": True}
        return {"mine": False, "owner": found["name"] or found["host"] or machine.short_id(found["id"]),
                "owner_id": found["id"]}
    if owned:
        return {"mine": True}
    found = manifest_machine_of(path) if path is not None else None
    if found is not None and machine.short_id(found["id"]) == machine.tag_short(tag):
        return {"mine": False, "owner": found["name"] or found["host"] or machine.tag_label(tag),
                "owner_id": found["id"]}
    return {"mine": False, "owner": machine.tag_label(tag), "owner_id": machine.tag_short(tag)}


def _mine_first(choices: list[BackupChoice]) -> list[BackupChoice]:
    """This installation's backups first, newest first; then the others', newest first."""
    return sorted(choices, key=lambda c: (not c.mine, -c.created.timestamp(), c.name))


def list_local_backups(config: Config) -> list[BackupChoice]:
    """The backups in the destination folder, this installation's first, each part newest first (empty when
    the folder is not there)."""
    from wizard.core.backup import list_archives

    folder = Path(os.path.expanduser(config.destination.folder)) if config.destination.folder else None
    if folder is None or not folder.is_dir():
        return []
    verified, safety = _history_marks()
    me = machine.current(config.machine.name)
    return _mine_first([BackupChoice(name=a.name, created=a.created, size=a.size, location="local", path=a.path,
                                     verified=True if a.name in verified else None, safety=a.name in safety,
                                     **_owner_fields(a.name, me, a.path))
                        for a in list_archives(folder)])


def list_cloud_backups(config: Config) -> list[BackupChoice]:
    """The backups in the cloud folder, newest first. Network: raises the provider's CloudError."""
    if config.cloud.provider == "none":
        return []
    from wizard.core.backup import parse_archive_name
    from wizard.core.cloud import NeedsLogin, get_provider

    provider = get_provider(config.cloud)
    try:
        if not provider.signed_in():
            raise NeedsLogin(_("Inicia sesión con {provider} para ver los respaldos que hay en la nube.").format(
                provider=provider.title))
        files = provider.list()
    finally:
        provider.close()
    me = machine.current(config.machine.name)
    found = []
    for remote in files:
        created = parse_archive_name(remote.name)
        if created is not None:
            found.append(BackupChoice(name=remote.name, created=created, size=remote.size,
                                      location=config.cloud.provider, verified=True,
                                      **_owner_fields(remote.name, me)))
    return _mine_first(found)


def merge_choices(local: list[BackupChoice], cloud: list[BackupChoice]) -> list[BackupChoice]:
    """One row per backup: a local archive wins over its cloud copy (no download needed)."""
    names = {c.name for c in cloud}
    merged = [replace(c, in_cloud=c.name in names) for c in local]
    have = {c.name for c in local}
    merged += [c for c in cloud if c.name not in have]
    return _mine_first(merged)


def downloads_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir(paths.APP_DIR_NAME, appauthor=False)) / DOWNLOADS_DIR_NAME


def cloud_download_name(archive: Path | str) -> str | None:
    """The cloud backup's name when ``archive`` is a download of it in ``downloads_dir()`` (deleted once the
    restore is done, so a command must name the cloud copy, not this file); otherwise None."""
    archive = Path(archive)
    return archive.name if archive.absolute().parent == downloads_dir().absolute() else None


def download_backup(config: Config, name: str, *, report: Report | None = None,
                    cancel: threading.Event | None = None, step: int = 1, steps: int = 1) -> Path:
    """Download ``name`` from the configured cloud into the downloads folder, its checksum checked by the
    provider; returns the local path (the caller deletes it when done)."""
    from wizard.core.backup import parse_archive_name
    from wizard.core.cloud import NotConfigured, get_provider

    if parse_archive_name(name) is None:
        raise UserError(_("«{name}» no es el nombre de un respaldo (respaldo_AAAA-MM-DD_HH-MM-SS.zip).").format(
            name=name))
    if config.cloud.provider == "none":
        raise NotConfigured(_("No hay ninguna nube configurada. Elige Dropbox o Google Drive en el paso "
                              "Nube de la configuración."))
    folder = paths.ensure_dir(downloads_dir())
    dest = folder / name

    def progress(done: int, total: int) -> None:
        if report is not None:
            report(RestoreProgress("download", round(100.0 * done / total, 1) if total else 100.0, name,
                                   step, steps))

    provider = get_provider(config.cloud)
    try:
        return provider.download(name, dest, progress=progress, cancel=cancel)
    finally:
        provider.close()


# -- what is inside ---------------------------------------------------------------------------------------

@dataclass
class TableCount:
    name: str
    rows: int | None  # None: the table could not be counted (a virtual table whose module is missing)


@dataclass
class BackupContents:
    """The manifest of an archive, for showing what it holds (read without verifying)."""

    manifest: Manifest

    @property
    def files(self) -> list[ManifestFile]:
        return self.manifest.files

    @property
    def databases(self) -> list[ManifestFile]:
        return [f for f in self.manifest.files if f.kind == "sqlite"]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.manifest.files)

    @property
    def created(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.manifest.created).astimezone().replace(tzinfo=None)
        except ValueError:
            return None

    def source_of(self, top: str) -> str | None:
        """The original path recorded for a top-level folder of the archive."""
        for source in self.manifest.sources:
            if source.get("archive_path") == top:
                return source.get("path")
        return None


def read_contents(archive: Path) -> BackupContents:
    return BackupContents(read_manifest(Path(archive)))


def _uri(path: Path, params: str) -> str:
    from urllib.parse import quote

    p = Path(path).absolute().as_posix()
    if not p.startswith("/"):
        p = "/" + p  # Windows drive paths: file:///C:/...
    return f"file:{quote(p, safe='/:')}?{params}"


def _ro_uri(path: Path) -> str:
    """Read-only and immutable: opening creates no -wal/-shm beside the file and takes no lock."""
    return _uri(path, "mode=ro&immutable=1")


def count_rows(db: Path) -> list[TableCount]:
    """Rows per table of a database file, read-only (creates no -wal/-shm next to it)."""
    conn = sqlite3.connect(_ro_uri(db), uri=True)
    try:
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        counts = []
        for name in names:
            quoted = '"' + name.replace('"', '""') + '"'
            try:
                counts.append(TableCount(name, int(conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0])))
            except sqlite3.Error:
                counts.append(TableCount(name, None))
        return counts
    finally:
        conn.close()


def count_rows_in_archive(archive: Path, member: str, *, limit: int = ROW_COUNT_LIMIT,
                          cancel: threading.Event | None = None) -> list[TableCount] | None:
    """Rows per table of a database inside an archive, or None when it is too big to be worth extracting."""
    archive = Path(archive)
    with open_zip(archive) as zf:
        try:
            info = zf.getinfo(member)
        except KeyError:
            return None
        if info.file_size > limit:
            return None
        with tempfile.TemporaryDirectory(prefix="respaldos-contenido-") as tmp:
            db = Path(tmp) / "db.sqlite"
            with open(archive, "rb") as fp, open(db, "wb") as out:
                for chunk in iter_member(fp, info):
                    if cancel is not None and cancel.is_set():
                        raise Cancelled()
                    out.write(chunk)
            try:
                return count_rows(db)
            except sqlite3.Error as exc:
                logger.info("cannot count rows of %s in %s: %s", member, archive, exc)
                return None


# -- whose backup, and where files go back to ----------------------------------------------------------------

@dataclass
class ArchiveOwner:
    """Whose backup an archive is (``wizard.core.machine``), for a restore in its original place."""

    mine: bool
    id: str  # the full id when the manifest has it, else the short id of the name's tag; "" for an older own one
    name: str  # for people: the manifest's machine name (or host), else what the name's tag tells

    @property
    def label(self) -> str:
        """ "Caja 2 (3f2a9c1b-...)", or the one of the two there is."""
        if self.name and self.id and self.name != self.id:
            return f"{self.name} ({self.id})"
        return self.name or self.id


def archive_owner(archive: Path, manifest: Manifest, config: Config) -> ArchiveOwner:
    """The manifest's ``machine`` decides when it has one; else the tag in the name; else (an archive older
    than installation ids) it is this installation's."""
    from wizard.core.backup import archive_tag

    me = machine.current(config.machine.name)
    found = manifest.machine
    if found:
        return ArchiveOwner(me.owns_manifest(found), found["id"],
                            found.get("name") or found.get("host") or machine.short_id(found["id"]))
    tag = archive_tag(Path(archive).name)
    if tag is None:
        return ArchiveOwner(True, "", me.name)
    return ArchiveOwner(bool(me.owns_tag(tag)), machine.tag_short(tag), machine.tag_label(tag))


def _path_key(path: Path | str) -> str:
    """A path as the OS compares it: absolute, links followed, without a trailing separator, case-folded on
    Windows."""
    return os.path.normcase(os.path.realpath(os.path.expanduser(str(path))))


def _manifest_roots(manifest: Manifest, archive: Path) -> dict[str, tuple[Path, str]]:
    """The manifest's sources, checked: top folder in the archive -> (original absolute path, its type)."""
    roots: dict[str, tuple[Path, str]] = {}
    for source in manifest.sources:
        top = str(source.get("archive_path", ""))
        raw = str(source.get("path", ""))
        if (not top or "/" in top or "\\" in top or unrestorable_member_reason(top) or not raw
                or top.casefold() in (t.casefold() for t in roots)):
            raise UserError(_("El respaldo {archive} no indica bien de dónde salieron sus archivos; "
                              "restáuralo en otra carpeta.").format(archive=archive.name))
        if not Path(raw).is_absolute():
            raise UserError(_("El respaldo {archive} guarda una ruta de origen incompleta ({path}); "
                              "restáuralo en otra carpeta.").format(archive=archive.name, path=raw))
        roots[top] = (Path(os.path.normpath(raw)), str(source.get("type", "folder")))
    return roots


def _check_configured(archive: Path, roots: dict[str, tuple[Path, str]], config: Config) -> None:
    """This installation's backup goes back only into what the configuration backs up now (a single file
    only over that same file)."""
    configured = {_path_key(p) for p in config.source.paths if p.strip()}
    for path, _kind in roots.values():
        if _path_key(path) not in configured:
            cloud = cloud_download_name(archive)
            command = (f"respaldos restore --from-cloud {cloud} --to CARPETA" if cloud
                       else f'respaldos restore "{archive}" --to CARPETA')
            raise UserError(_("El respaldo {archive} guarda datos de {path}, que no está entre lo que respalda "
                              "este equipo, así que no se restauró nada en su lugar original. Restáuralo en otra "
                              "carpeta ({command}) o agrega {path} a la configuración.").format(
                archive=archive.name, path=path, command=command))


def _targets(manifest: Manifest, archive: Path) -> list[tuple[ManifestFile, Path, Path]]:
    """Each archived file with the path it came from and the source root that must hold it, all checked by
    ``check_restore_targets`` (server dumps left out: they go back into their server)."""
    roots = _manifest_roots(manifest, archive)
    targets = []
    for mf in manifest.files:
        if mf.kind in DUMP_KINDS:
            continue  # a server database's dump goes back into the server: "respaldos db restore"
        if unrestorable_member_reason(mf.path):
            raise UserError(_("El respaldo {archive} contiene una ruta no permitida ({name}); no se restauró "
                              "nada.").format(archive=archive.name, name=mf.path))
        top, _sep, rest = mf.path.replace("\\", "/").partition("/")
        root = roots.get(top)
        if root is None or not rest:
            raise UserError(_("El respaldo {archive} no indica dónde estaba {name}; restáuralo en otra "
                              "carpeta.").format(archive=archive.name, name=mf.path))
        base, kind = root
        parts = [p for p in rest.split("/") if p not in ("", ".")]
        targets.append((mf, base if kind == "file" else base.joinpath(*parts), base))
    check_restore_targets(archive, [(mf.path, target, base) for mf, target, base in targets])
    return targets


def original_targets(manifest: Manifest, archive: Path) -> list[tuple[ManifestFile, Path]]:
    """Each archived file with the path it came from, using the source roots the manifest recorded; raises
    UserError naming the member when any would not stay inside its root (see ``_targets``)."""
    return [(mf, target) for mf, target, _root in _targets(manifest, Path(archive))]


def _owner_and_folders(archive: Path, manifest: Manifest, config: Config) -> tuple[ArchiveOwner, list[Path]]:
    owner = archive_owner(archive, manifest, config)
    roots = _manifest_roots(manifest, archive)
    if owner.mine:
        _check_configured(archive, roots, config)
    return owner, [path for path, _kind in roots.values()]


def folders_to_overwrite(archive: Path, config: Config) -> tuple[ArchiveOwner, list[Path]]:
    """Whose backup ``archive`` is and the folders (or single files) restoring it in its original place would
    write into, from its manifest (not verified). This installation's own backups must name only what the
    configuration backs up; an unsafe manifest or member name raises UserError."""
    archive = Path(archive)
    manifest = read_manifest(archive)
    found = _owner_and_folders(archive, manifest, config)
    _targets(manifest, archive)
    return found


def other_machine_sentence(archive: Path, owner: ArchiveOwner, folders: list[Path]) -> str:
    """Whose backup it is and every folder a restore in place would overwrite, one per line."""
    lines = [_("El respaldo {archive} es de otro equipo, {owner}. Restaurarlo en su lugar original escribe "
               "encima de lo que hay en este equipo en:").format(archive=Path(archive).name, owner=owner.label)]
    lines += [f"  {folder}" for folder in folders]
    return "\n".join(lines)


@dataclass
class ServerDump:
    """A server database's dump in an archive: it goes back into the server with ``respaldos db restore``,
    never to a place on disk."""

    name: str  # the entry's name in the config (``respaldos db restore ARCHIVO NOMBRE``)
    member: str
    detail: str  # "MySQL/MariaDB · caja1:3306 · sicar"
    # The archive is a download of this cloud backup, deleted after the restore: the command downloads it again.
    from_cloud: str | None = None

    def command(self, archive: Path | str, config_path: Path | str | None = None) -> str:
        """``respaldos db restore "ARCHIVO" NOMBRE``, or ``respaldos db restore --from-cloud RESPALDO NOMBRE``
        for a dump of a cloud download (``archive`` is then not named)."""
        return restore_command(archive, self.name, config_path, from_cloud=self.from_cloud)


def server_dumps(manifest: Manifest, *, from_cloud: str | None = None) -> list[ServerDump]:
    """The server-database dumps in a manifest, described from its ``databases`` list (or, for a manifest
    without one, from the member's name and kind). ``from_cloud``: the name of the cloud backup the archive
    was downloaded from, for the commands that load them."""
    entries = {str(e.get("path", "")): e for e in manifest.databases}
    found = []
    for mf in manifest.files:
        if mf.kind not in DUMP_KINDS:
            continue
        entry = entries.get(mf.path, {})
        engine = str(entry.get("engine") or engine_of_kind(mf.kind))
        parts = [ENGINE_NAMES.get(engine, engine)]
        if entry.get("host"):
            parts.append(f"{entry['host']}:{entry.get('port') or ''}".rstrip(":"))
        what = entry.get("database") or entry.get("file")
        if what:
            parts.append(str(what))
        name = str(entry.get("name") or mf.path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
        found.append(ServerDump(name=name, member=mf.path, detail=" · ".join(parts), from_cloud=from_cloud))
    return found


def dumps_named(dumps: list[ServerDump]) -> str:
    """``caja1 (MySQL/MariaDB · caja1:3306 · sicar), ...``: the dumps as sentences name them."""
    return ", ".join(f"{d.name} ({d.detail})" for d in dumps)


# -- is the POS still using a database? ---------------------------------------------------------------

def _open_by_another_process(path: Path) -> bool:
    """Linux: another process has ``path`` open (seen in /proc/*/fd). Elsewhere: False (not known)."""
    if not sys.platform.startswith("linux") or not os.path.isdir("/proc/self/fd"):
        return False
    try:
        st = path.stat()
    except OSError:
        return False
    key = (st.st_dev, st.st_ino)
    me = str(os.getpid())
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or pid == me:
            continue
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                other = os.stat(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == key:
                logger.info("%s is open in process %s", path, pid)
                return True
    return False


def database_in_use(path: Path, timeout: float = LOCK_TIMEOUT) -> bool:
    """True when another connection uses the SQLite database at ``path``.

    An exclusive lock (``locking_mode=EXCLUSIVE`` then ``BEGIN EXCLUSIVE``) cannot be taken while another
    process has a transaction open, nor, in WAL mode, while another connection is open at all. Closing our
    connection checkpoints and removes the -wal; one that is still there belongs to someone else.
    """
    path = Path(path)
    if not path.is_file() or not is_sqlite(path):
        return False
    wal = Path(f"{path}-wal")
    try:
        conn = sqlite3.connect(_uri(path, "mode=rw"), uri=True, timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        logger.info("cannot open %s to check it is free: %s", path, exc)
        return False
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            logger.info("%s is locked by another connection: %s", path, exc)
            return True
        logger.info("could not lock %s (%s); treating it as not in use", path, exc)
    except sqlite3.DatabaseError as exc:
        logger.info("%s is not a readable database (%s); treating it as not in use", path, exc)
    finally:
        conn.close()
    if wal.exists():
        logger.info("%s still exists after our connection closed: another connection has it open", wal)
        return True
    return _open_by_another_process(path)


def check_not_in_use(databases: list[Path]) -> None:
    for db in databases:
        if database_in_use(db):
            raise PosInUse(db)


# -- progress and the report --------------------------------------------------------------------------

@dataclass
class RestoreProgress:
    """``phase``: download | verify | check | safety | restore | integrity | database (a dump loaded into its
    server); ``percent`` is for the phase."""

    phase: str
    percent: float
    current: str = ""
    step: int = 1
    steps: int = 1


def phase_sentence(phase: str) -> str:
    """What a restore is doing, for the progress line."""
    return {
        "download": _("Descargando el respaldo de la nube..."),
        "verify": _("Verificando el respaldo..."),
        "check": _("Revisando que el punto de venta esté cerrado..."),
        "safety": _("Guardando un respaldo de seguridad de los datos actuales..."),
        "restore": _("Restaurando los archivos..."),
        "integrity": _("Revisando las bases de datos..."),
        "database": _("Cargando la base de datos en el servidor..."),
    }.get(phase, "")


@dataclass
class DatabaseCheck:
    path: Path
    integrity: str  # "ok" or SQLite's first complaints
    tables: list[TableCount] | None = None  # None: not counted (too big)

    @property
    def ok(self) -> bool:
        return self.integrity == "ok"

    @property
    def rows(self) -> int:
        return sum(t.rows or 0 for t in self.tables or [])


@dataclass
class RestoreReport:
    archive: Path
    created: datetime
    to_original: bool
    folders: list[Path]
    restored: list[Path] = field(default_factory=list)
    databases: list[DatabaseCheck] = field(default_factory=list)
    safety_backup: Path | None = None
    warnings: list[str] = field(default_factory=list)
    duration: float = 0.0
    # Server-database dumps a restore in place left alone; said by ``dumps_warning``, not by ``message``
    # (the window words it itself, next to its "Restaurar como base de datos nueva..." button).
    skipped_dumps: list[ServerDump] = field(default_factory=list)
    config_path: Path | None = None  # for the --config of the commands in dumps_warning

    @property
    def message(self) -> str:
        n = len(self.restored)
        where = ", ".join(str(f) for f in self.folders)
        if self.to_original:
            text = ngettext("Se restauró {count} archivo del respaldo {when} en su lugar original ({where}).",
                            "Se restauraron {count} archivos del respaldo {when} en su lugar original ({where}).",
                            n)
        else:
            text = ngettext("Se restauró {count} archivo del respaldo {when} en {where}.",
                            "Se restauraron {count} archivos del respaldo {when} en {where}.", n)
        lines = [text.format(count=n, when=when_phrase(self.created), where=where)]
        for db in self.databases:
            if not db.ok:
                lines.append(_("La base de datos {path} no pasó la revisión de integridad: {detail}").format(
                    path=db.path, detail=db.integrity))
            elif db.tables is None:
                lines.append(_("Base de datos {path}: revisada, sin errores.").format(path=db.path))
            else:
                lines.append(ngettext("Base de datos {path}: revisada, sin errores ({tables} tabla, {rows} "
                                      "registros).",
                                      "Base de datos {path}: revisada, sin errores ({tables} tablas, {rows} "
                                      "registros).", len(db.tables)).format(
                    path=db.path, tables=len(db.tables), rows=f"{db.rows:,}"))
        if self.safety_backup is not None:
            lines.append(_("Los datos que había antes quedaron guardados en el respaldo de seguridad "
                           "{path}.").format(path=self.safety_backup))
        lines += self.warnings
        return "\n".join(lines)

    @property
    def dumps_warning(self) -> str:
        """Which server databases were not put back, and the command that loads each one; "" if none."""
        if not self.skipped_dumps:
            return ""
        lines = [ngettext(
            "Aviso: la base de datos del servidor {names} no se cargó: restaurar en el lugar original solo "
            "devuelve archivos. Para cargarla usa (en una base de datos nueva; con --replace, encima de la "
            "original, con el punto de venta cerrado):",
            "Aviso: las bases de datos del servidor {names} no se cargaron: restaurar en el lugar original solo "
            "devuelve archivos. Para cargarlas usa (en una base de datos nueva; con --replace, encima de la "
            "original, con el punto de venta cerrado):",
            len(self.skipped_dumps)).format(names=dumps_named(self.skipped_dumps))]
        lines += [f"  {d.command(self.archive, self.config_path)}" for d in self.skipped_dumps]
        return "\n".join(lines)


# -- the steps ---------------------------------------------------------------------------------------

class _Steps:
    """Numbered progress events for one restore."""

    def __init__(self, report: Report | None, steps: int, cancel: threading.Event):
        self.report = report
        self.steps = steps
        self.step = 0
        self.cancel = cancel
        self._last = (-1.0, "")

    def next(self, phase: str, current: str = "") -> None:
        self.step += 1
        self._last = (-1.0, "")
        self.emit(phase, 0.0, current)

    def emit(self, phase: str, percent: float, current: str = "") -> None:
        if self.report is None:
            return
        percent = round(min(max(percent, 0.0), 100.0), 1)
        if (percent, current) == self._last:
            return
        self._last = (percent, current)
        self.report(RestoreProgress(phase, percent, current, self.step, self.steps))

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()


def _verify(archive: Path, steps: _Steps) -> Manifest:
    manifest = read_manifest(archive)
    total = max(sum(f.size for f in manifest.files), 1)
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        steps.emit("verify", 100.0 * done / total)

    return verify_archive(archive, report=progress, cancel=steps.cancel)


def _archive_created(archive: Path, manifest: Manifest) -> datetime:
    from wizard.core.backup import parse_archive_name

    created = parse_archive_name(archive.name)
    if created is not None:
        return created
    try:
        return datetime.fromisoformat(manifest.created).astimezone().replace(tzinfo=None)
    except ValueError:
        return datetime.fromtimestamp(archive.stat().st_mtime)


def _check_database(path: Path) -> DatabaseCheck:
    try:
        conn = sqlite3.connect(_ro_uri(path), uri=True)
        try:
            rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        rows = [str(exc)]
    return DatabaseCheck(path, "ok" if rows == ["ok"] else "; ".join(rows[:3]))


def _with_counts(check: DatabaseCheck, path: Path) -> DatabaseCheck:
    """Row counts for the report, when the database is small enough for that to be quick."""
    try:
        if path.stat().st_size <= ROW_COUNT_LIMIT:
            check.tables = count_rows(path)
    except (OSError, sqlite3.Error) as exc:
        logger.info("rows of %s not counted: %s", path, exc)
    check.path = path
    return check


def _lock_for_restore():
    """The one-backup-per-machine lock: no backup runs while files are being put back."""
    import filelock

    from wizard.core.backup import lock_path

    paths.ensure_dir(paths.data_dir())
    lock = filelock.FileLock(str(lock_path()), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise UserError(_("Ya hay un respaldo en curso. Espera a que termine y vuelve a intentar.")) from None
    return lock


def _safety_backup(config: Config, roots: list[Path], steps: _Steps) -> Path | None:
    """An ordinary backup of the folders about to be overwritten, marked "antes de restaurar".

    Not uploaded (the restore should not wait for the internet) and with no keep rules applied (it must not
    push out the very backup being restored); ``apply_retention`` keeps it for SAFETY_KEEP_DAYS days.
    """
    from wizard.core.backup import run_backup

    existing = [str(r) for r in roots if r.exists()]
    if not existing:
        logger.info("no current data at %s: no safety backup needed", roots)
        return None
    safety_config = replace(
        config,
        source=SourceConfig(paths=existing, exclude=list(config.source.exclude)),
        retention=RetentionConfig(keep_last=0, keep_daily=0, keep_weekly=0, keep_monthly=0),
        cloud=CloudConfig(provider="none"),
    )

    def progress(event: object) -> None:
        steps.emit("safety", float(getattr(event, "percent", 0.0)), str(getattr(event, "current", "")))

    result = run_backup(safety_config, trigger=SAFETY_TRIGGER, report=progress, cancel=steps.cancel)
    if result.status == "cancelled":
        raise Cancelled()
    if not result.succeeded or result.archive is None:
        raise UserError(_("No se pudo guardar un respaldo de seguridad de los datos actuales, así que no se "
                          "restauró nada. {reason}").format(reason=result.message))
    logger.info("safety backup before restoring: %s", result.archive)
    return result.archive


def _remove_sidecars(target: Path) -> None:
    """A stale -wal or -journal beside a replaced database would be applied to the new file: remove them."""
    for suffix in SIDECAR_SUFFIXES:
        side = Path(f"{target}{suffix}")
        with contextlib.suppress(FileNotFoundError):
            side.unlink()
            logger.info("removed %s before restoring %s", side, target)


def _write_member(fp, info: zipfile.ZipInfo, mf: ManifestFile, tmp: Path, archive: Path, steps: _Steps,
                  progress: Callable[[int], None]) -> None:
    sha = hashlib.sha256()
    crc = 0
    size = 0
    try:
        with open(tmp, "wb") as out:
            for chunk in iter_member(fp, info):
                steps.check_cancel()
                sha.update(chunk)
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
                out.write(chunk)
                progress(len(chunk))
            if sha.hexdigest() != mf.sha256 or crc != info.CRC or size != mf.size:
                raise ArchiveDamaged(_("El respaldo {archive} está dañado: {member} no coincide con su suma "
                                       "SHA-256. Usa otro respaldo.").format(archive=archive.name, member=mf.path),
                                     member=mf.path)
            out.flush()
            os.fsync(out.fileno())
    except (zipfile.BadZipFile, zlib.error, isal_zlib.IsalError, EOFError) as exc:
        logger.info("member %s of %s unreadable: %s", mf.path, archive, exc)
        raise ArchiveDamaged(_("El respaldo {archive} está dañado: {member} no se puede descomprimir. Usa otro "
                               "respaldo.").format(archive=archive.name, member=mf.path), member=mf.path) from None


def _set_mtime(target: Path, iso: str) -> None:
    try:
        ts = datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return
    with contextlib.suppress(OSError):
        os.utime(target, (ts, ts))


def _put_back(archive: Path, targets: list[tuple[ManifestFile, Path, Path]], steps: _Steps,
              restored: list[Path], checks: list[DatabaseCheck]) -> None:
    """Each file: temporary name beside it, checked, fsynced, databases integrity-checked, then renamed.
    Every target is checked again to stay inside its root (a link may have appeared since), each one again
    just before its folder is made."""
    check_restore_targets(archive, [(mf.path, target, root) for mf, target, root in targets])
    total = max(sum(mf.size for mf, _t, _r in targets), 1)
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        steps.emit("restore", 100.0 * done / total, current)

    with open_zip(archive) as zf, open(archive, "rb") as fp:
        infos = {i.filename: i for i in zf.infolist()}
        for mf, target, root in targets:
            steps.check_cancel()
            current = mf.path
            info = infos.get(mf.path)
            if info is None:
                raise ArchiveDamaged(_("El respaldo {archive} está dañado: {member} falta en el archivo. Usa otro "
                                       "respaldo.").format(archive=archive.name, member=mf.path), member=mf.path)
            if not stays_inside(target, root):
                raise UserError(_("El respaldo {archive} contiene una ruta no permitida ({name}); no se "
                                  "restauró.").format(archive=archive.name, name=mf.path))
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or (target.exists() and not target.is_file()):
                raise UserError(_("{path} existe y no es un archivo; no se restauró.").format(path=target))
            tmp = target.with_name(f".{target.name}{TEMP_SUFFIX}")
            try:
                _write_member(fp, info, mf, tmp, archive, steps, progress)
                if target.exists():
                    with contextlib.suppress(OSError):
                        shutil.copymode(target, tmp)
                if mf.kind == "sqlite":
                    steps.emit("integrity", 100.0 * done / total, mf.path)
                    check = _check_database(tmp)
                    if not check.ok:
                        raise UserError(_("La base de datos {name} del respaldo no pasó la revisión de integridad "
                                          "({detail}); no se restauró.").format(name=mf.path,
                                                                              detail=check.integrity))
                    _remove_sidecars(target)
                os.replace(tmp, target)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
            _set_mtime(target, mf.mtime)
            fsync_dir(target.parent)
            restored.append(target)
            if mf.kind == "sqlite":
                checks.append(_with_counts(check, target))


def restore_to_original(archive: Path, config: Config, *, report: Report | None = None,
                        cancel: threading.Event | None = None, download_steps: int = 0,
                        config_path: Path | None = None, from_cloud: str | None = None,
                        from_other_machine: bool = False) -> RestoreReport:
    """Put every file of ``archive`` back where it was backed up from (the manifest's source paths).

    This installation's backup goes back only into what the configuration backs up now. Another
    installation's (this computer replaces it) only with ``from_other_machine``, after the user saw its
    ``folders_to_overwrite``; without it OtherMachineBackup is raised. Every target must stay inside its
    source folder, links followed, and no two members may be one file on Windows (``_targets``).

    Server-database dumps are not files of a place: they are left to ``respaldos db restore`` and listed in
    the report's ``skipped_dumps`` / ``dumps_warning`` (with ``config_path`` in the commands). An archive with
    nothing else raises OnlyServerDatabases at once. When ``archive`` is a download of the cloud backup
    ``from_cloud`` (default: known from ``cloud_download_name``), the commands load the dumps with
    ``--from-cloud``, since the download is deleted afterwards.

    Raises before touching anything: OnlyServerDatabases, OtherMachineBackup, ArchiveDamaged, PosInUse,
    UserError (a folder not in the configuration, an unsafe name, no safety backup possible), Cancelled.
    Once files are being replaced, any failure (or cancel) raises RestoreFailed, whose text says where the
    safety backup is. ``download_steps`` counts a download done before (for "paso 2 de 5").
    """
    t0 = time.monotonic()
    archive = Path(archive)
    listed = read_manifest(archive)  # read again (and checked) by the verification below
    from_cloud = from_cloud or cloud_download_name(archive)
    dumps = server_dumps(listed, from_cloud=from_cloud)
    if dumps and len(dumps) == len(listed.files):
        raise OnlyServerDatabases("\n".join([ngettext(
            "El respaldo {archive} solo tiene la copia de la base de datos del servidor {names}, y restaurar en el "
            "lugar original solo devuelve archivos: no se cambió nada. Para cargarla usa respaldos db restore (en "
            "una base de datos nueva; con --replace, encima de la original, con el punto de venta cerrado):",
            "El respaldo {archive} solo tiene copias de las bases de datos del servidor {names}, y restaurar en el "
            "lugar original solo devuelve archivos: no se cambió nada. Para cargarlas usa respaldos db restore (en "
            "una base de datos nueva; con --replace, encima de la original, con el punto de venta cerrado):",
            len(dumps)).format(archive=archive.name, names=dumps_named(dumps)),
            *(f"  {d.command(archive, config_path)}" for d in dumps)]))
    owner, folders = _owner_and_folders(archive, listed, config)
    if not owner.mine and not from_other_machine:
        raise OtherMachineBackup("\n".join([
            other_machine_sentence(archive, owner, folders),
            _("Si este equipo reemplaza a {name}, vuelve a intentarlo con --from-other-machine.").format(
                name=owner.name or owner.id)]), owner, folders)
    _targets(listed, archive)  # a bad name or a link leading out is refused before the long verification
    steps = _Steps(report, 4 + download_steps, cancel or threading.Event())
    steps.step = download_steps
    steps.next("verify")
    manifest = _verify(archive, steps)
    if _owner_and_folders(archive, manifest, config) != (owner, folders):
        raise UserError(_("El respaldo {archive} cambió mientras se verificaba; no se restauró nada. Vuelve a "
                          "intentar.").format(archive=archive.name))
    targets = _targets(manifest, archive)
    for _mf, target, _root in targets:
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise UserError(_("{path} existe y no es un archivo; no se restauró nada.").format(path=target))
    databases = [t for mf, t, _r in targets if t.is_file() and (mf.kind == "sqlite" or is_sqlite(t))]
    steps.next("check")
    check_not_in_use(databases)
    steps.check_cancel()
    steps.next("safety")
    safety = _safety_backup(config, folders, steps)
    created = _archive_created(archive, manifest)
    result = RestoreReport(archive, created, True, folders, safety_backup=safety,
                           skipped_dumps=server_dumps(manifest, from_cloud=from_cloud), config_path=config_path)
    lock = _lock_for_restore()
    try:
        steps.next("restore")
        # The POS may have been opened while the safety backup ran.
        check_not_in_use([t for t in databases if t.exists()])
        try:
            _put_back(archive, targets, steps, result.restored, result.databases)
        except Exception as exc:  # noqa: BLE001 - whatever stopped it, say where the safety backup is
            raise _failed_midway(exc, result, len(targets)) from None
    finally:
        lock.release()
    result.duration = time.monotonic() - t0
    logger.info("restored %d files of %s to their original place in %.1f s (safety backup %s; server databases "
                "left to db restore: %s)", len(result.restored), archive.name, result.duration, safety,
                ", ".join(d.name for d in result.skipped_dumps) or "none")
    return result


def _failed_midway(exc: BaseException, result: RestoreReport, total: int) -> RestoreFailed:
    done = len(result.restored)
    if isinstance(exc, Cancelled):
        first = _("Restauración cancelada.")
    elif isinstance(exc, UserError):
        first = str(exc)
    elif isinstance(exc, OSError):
        logger.error("restore stopped: %r", exc)
        name = exc.filename or ""
        first = _("La restauración se detuvo en {path}: {error}.").format(path=name, error=exc.strerror or exc)
    else:
        from wizard.core.logsetup import log_file

        logger.error("restore stopped by an unexpected error", exc_info=exc)
        first = _("La restauración se detuvo por un error inesperado (los detalles están en el registro: "
                  "{log}).").format(log=log_file())
    second = _("Se restauraron {done} de {total} archivos; cada archivo quedó completo (el anterior o el del "
               "respaldo).").format(done=done, total=total)
    if result.safety_backup is not None:
        third = _("Los datos que había antes están en el respaldo de seguridad {path}: restáuralo para dejar todo "
                  "como estaba, o corrige el problema y vuelve a restaurar.").format(path=result.safety_backup)
    else:
        third = _("No había datos anteriores que guardar; corrige el problema y vuelve a restaurar.")
    return RestoreFailed(f"{first} {second} {third}", result.safety_backup, list(result.restored))


def folder_for(chosen: Path, archive_name: str) -> Path:
    """Where "Restaurar en otra carpeta" writes: the chosen folder when it is empty (or new), otherwise a new
    subfolder named after the backup."""
    chosen = Path(chosen)
    if not chosen.exists() or (chosen.is_dir() and not any(chosen.iterdir())):
        return chosen
    base = chosen / Path(archive_name).stem
    candidate, n = base, 2
    while candidate.exists():
        candidate = base.with_name(f"{base.name}_{n}")
        n += 1
    return candidate


def restore_to_folder(archive: Path, folder: Path, *, force: bool = False, report: Report | None = None,
                      cancel: threading.Event | None = None, download_steps: int = 0) -> RestoreReport:
    """Verify ``archive``, then extract it into ``folder`` (empty unless ``force``) and check its databases."""
    t0 = time.monotonic()
    archive = Path(archive)
    folder = Path(folder)
    steps = _Steps(report, 2 + download_steps, cancel or threading.Event())
    steps.step = download_steps
    steps.next("verify")
    manifest = _verify(archive, steps)
    steps.next("restore")
    total = max(sum(f.size for f in manifest.files), 1)
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        steps.emit("restore", 100.0 * done / total)

    restored = restore_archive(archive, folder, force=force, report=progress, cancel=steps.cancel)
    result = RestoreReport(archive, _archive_created(archive, manifest), False, [folder], restored=restored)
    by_path = {str(folder.joinpath(*f.path.split("/"))): f for f in manifest.files}
    for path in restored:
        mf = by_path.get(str(path))
        if mf is not None and mf.kind == "sqlite":
            steps.emit("integrity", 100.0, mf.path)
            result.databases.append(_with_counts(_check_database(path), path))
    result.duration = time.monotonic() - t0
    logger.info("restored %d files of %s into %s in %.1f s", len(restored), archive.name, folder, result.duration)
    return result


@contextlib.contextmanager
def downloaded(config: Config, name: str, *, report: Report | None = None,
               cancel: threading.Event | None = None, steps: int = 1) -> Iterator[Path]:
    """A cloud backup downloaded (step 1 of ``steps``) for the time of a ``with`` block, then deleted."""
    path = download_backup(config, name, report=report, cancel=cancel, step=1, steps=steps)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()


# -- server databases from the cloud ------------------------------------------------------------------

def restore_dump_from_cloud(config: Config, name: str, db: DatabaseSource, *, target: str | None = None,
                            replace: bool = False, safety_folder: Path | None = None,
                            report: Report | None = None, cancel: threading.Event | None = None
                            ) -> RestoredDatabase:
    """Load the dump of ``db`` from the cloud backup ``name``, for a backup with no local copy.

    Step 1 of 2 downloads it as a restore does (``downloaded``: the provider's checksum checked, a copy that
    does not match refused before anything is loaded); step 2 loads it exactly as a local archive
    (``dbsources.restore_dump``: into a new database, or with ``replace`` over the original); the download is
    deleted at the end, whatever happened. A refused target name or a missing client tool is said before
    the download.
    """
    cancel = cancel or threading.Event()
    if not replace:
        target = restore_target(db, target)  # fixed now: the default name has the time in it
    find_tool(db, "restore")
    steps = _Steps(report, 2, cancel)
    with downloaded(config, name, report=report, cancel=cancel, steps=2) as archive:
        total = max(find_dump(archive, db).size, 1)
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            done += n
            steps.emit("database", 100.0 * done / total, db.label)

        steps.step = 1
        steps.next("database", db.label)
        return restore_dump(archive, db, target=target, replace=replace, safety_folder=safety_folder,
                            cancel=cancel, progress=progress)
