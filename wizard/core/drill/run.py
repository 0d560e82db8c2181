"""One restore drill: the archive (this installation's newest, a given one, or a cloud copy downloaded for
it), every member checked against the manifest while the databases are extracted into the sandbox one at a
time, each SQLite database opened and checked, each server dump loaded into a throwaway database and
checked there; then the result, recorded in the history. docs/drills.md."""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from wizard.core import machine, oserrors, ownership
from wizard.core.archive import ManifestFile, open_zip, verify_archive
from wizard.core.config import Config
from wizard.core.drill import records, server_check
from wizard.core.drill.priority import lower_this_thread
from wizard.core.drill.result import DatabaseCheck, DrillProgress, DrillResult
from wizard.core.drill.sandbox import Sandbox
from wizard.core.drill.sqlite_check import check_sqlite
from wizard.core.errors import ArchiveDamaged, Cancelled, UserError
from wizard.core.names import parse_archive_name
from wizard.core.restore.downloads import download_backup, no_cloud_configured, not_a_backup_name
from wizard.core.servers import DUMP_KINDS
from wizard.i18n import _

logger = logging.getLogger(__name__)

Reporter = Callable[[DrillProgress], None]


class DrillUsage(UserError):
    """Arguments that make no sense together (exit code 2)."""

    exit_code = 2


def newest_own_archive(config: Config) -> Path:
    """This installation's newest backup in the destination; a sentence when there is none."""
    folder = Path(config.destination.folder or "")
    if not config.destination.folder or not folder.is_dir():
        raise UserError(_("No se encontró la carpeta {folder}. Conecta la memoria USB o elige otra carpeta.").format(
            folder=folder))
    found = ownership.own_archives(folder, machine.current(config.machine.name))
    if not found:
        raise UserError(_("No hay respaldos de este equipo en {folder} para probar. Haz un respaldo primero.").format(
            folder=folder))
    return found[0].path


def check_cloud_name(config: Config, name: str) -> None:
    """A name that is no backup's, or no cloud configured: bad usage, said before anything is recorded."""
    if parse_archive_name(name) is None:
        raise DrillUsage(not_a_backup_name(name))
    if config.cloud.provider == "none":
        raise UserError(no_cloud_configured())


def run_drill(config: Config, archive: Path | None = None, *, from_cloud: str | None = None,
              trigger: str = records.TRIGGER, report: Reporter | None = None,
              cancel: threading.Event | None = None, record: bool = True, low_priority: bool = True) -> DrillResult:
    """Test that a backup restores (docs/drills.md). A failed or cancelled drill is a DrillResult (ok False,
    its ``problem`` a sentence naming the archive); UserError only for bad usage or no backup at all.

    ``low_priority``: the work runs on a thread of its own whose CPU and I/O priority are lowered (the
    programs it starts inherit them), so the POS on the same computer keeps its speed.
    """
    if archive is not None and from_cloud is not None:
        raise DrillUsage(_("respaldos test-restore: indica un ARCHIVO o --from-cloud NOMBRE, no los dos."))
    cancel = cancel or threading.Event()
    started, clock = datetime.now(), time.monotonic()
    if from_cloud is not None:
        check_cloud_name(config, from_cloud)
    if archive is None and from_cloud is None:
        archive = newest_own_archive(config)
    elif archive is not None and not Path(archive).is_file():
        raise UserError(_("No se encontró el respaldo {archive}.").format(archive=archive))
    name = from_cloud or Path(archive).name  # type: ignore[arg-type]

    def work() -> DrillResult:
        if low_priority:
            lower_this_thread()
        return _drill(config, archive, from_cloud, name, report, cancel, lower_this_thread if low_priority else None)

    result = _on_thread(work) if low_priority else work()
    result.when = started
    result.seconds = time.monotonic() - clock
    logger.info("drill of %s: %s (extraction %.2f s, database checks %.2f s)", name,
                "passed" if result.ok else result.problem, result.extract_seconds, result.check_seconds)
    if record:
        records.record(result, trigger=trigger)
    return result


def _on_thread(work: Callable[[], DrillResult]) -> DrillResult:
    """``work()`` on a new thread (whose priority it may lower without touching this one's)."""
    box: dict[str, object] = {}

    def target() -> None:
        if hasattr(signal, "pthread_sigmask"):  # POSIX: Ctrl+C and SIGTERM go to the main thread, never to this
            # one or the threads it starts, so that the handler (install_stop_signals) runs at once instead of
            # when the main thread's next join() times out.
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            box["result"] = work()
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="drill", daemon=True)
    thread.start()
    while thread.is_alive():
        thread.join(0.2)  # short waits: a signal handler on the main thread runs meanwhile
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["result"]  # type: ignore[return-value]


def _drill(config: Config, archive: Path | None, from_cloud: str | None, name: str, report: Reporter | None,
           cancel: threading.Event, thread_setup: Callable[[], None] | None) -> DrillResult:
    result = DrillResult(archive=name, ok=False, seconds=0.0)
    try:
        if from_cloud is not None:
            def downloading(event) -> None:
                if report is not None:
                    report(DrillProgress("download", event.percent, name))

            path = download_backup(config, from_cloud, report=downloading, cancel=cancel)
            try:
                _test(config, path, result, report, cancel, thread_setup)
            finally:
                with contextlib.suppress(OSError):
                    path.unlink()
        else:
            assert archive is not None
            _test(config, Path(archive), result, report, cancel, thread_setup)
    except Cancelled:
        result.cancelled = True
        result.problem = _("La prueba del respaldo {archive} se canceló antes de terminar.").format(archive=name)
    except UserError as exc:  # a damaged archive, a disk that fails, a cloud copy that cannot be had
        result.problem = str(exc)
        member = getattr(exc, "member", None)
        if isinstance(exc, ArchiveDamaged) and member and not any(d.path == member for d in result.databases):
            kind = "sqlite" if member.lower().endswith((".db", ".sqlite", ".sqlite3", ".db3", ".s3db")) else ""
            if kind:
                result.databases.append(DatabaseCheck(member, kind, str(exc)))
    if result.problem is None:
        failed = [d for d in result.databases if not d.ok]
        if failed:
            result.problem = _failure_sentence(name, failed[0])
    result.ok = result.problem is None
    return result


def _failure_sentence(archive: str, check: DatabaseCheck) -> str:
    if check.kind == "sqlite":
        return _("La prueba del respaldo {archive} falló: la base de datos {member} está dañada ({detail}). "
                 "Usa otro respaldo y revisa el disco donde se guardan.").format(
            archive=archive, member=check.path, detail=check.integrity)
    return _("La prueba del respaldo {archive} falló en la base de datos {member}: {detail}").format(
        archive=archive, member=check.path, detail=check.integrity)


def _test(config: Config, archive: Path, result: DrillResult, report: Reporter | None, cancel: threading.Event,
          thread_setup: Callable[[], None] | None) -> None:
    """Verify ``archive`` member by member, checking each database as soon as its bytes passed."""
    with open_zip(archive) as zf:  # the manifest is read (and, when encrypted, opened) by verify_archive
        sizes = [info.file_size for info in zf.infolist()]
    total = max(sum(sizes), 1)
    with Sandbox() as box:
        sandbox = box.path
        assert sandbox is not None
        problem = box.room_problem(result.archive, max(sizes, default=0))  # the largest member is the most needed
        if problem is not None:
            result.problem = problem
            return
        done = 0
        current = ""
        open_file: dict[str, BinaryIO] = {}

        def progress(n: int) -> None:
            nonlocal done
            done += n
            if report is not None:
                report(DrillProgress("extract", min(100.0, 100.0 * done / total), current))

        def sink_for(mf: ManifestFile):
            nonlocal current
            current = mf.path
            if mf.kind != "sqlite":
                return None
            with oserrors.plain_errors(sandbox, oserrors.RESTORE):
                handle = open(box.file(f"base-{len(result.databases) + 1}.sqlite"), "wb")  # noqa: SIM115
            open_file[mf.path] = handle

            def write(chunk: bytes) -> None:
                # The sandbox's own failures (a disk filled meanwhile) are said as such, never as the backup's.
                try:
                    handle.write(chunk)
                except OSError as exc:
                    raise oserrors.plain_os_error(exc, sandbox, oserrors.RESTORE) or UserError(str(exc)) from exc

            return write

        def checked(mf: ManifestFile) -> None:
            handle = open_file.pop(mf.path, None)
            if handle is None:
                return
            with oserrors.plain_errors(sandbox, oserrors.RESTORE):
                handle.close()
            path = Path(handle.name)
            if report is not None:
                report(DrillProgress("check", 100.0 * done / total, mf.path))
            check_started = time.monotonic()
            try:
                result.databases.append(check_sqlite(path, mf.path, cancel=cancel, thread_setup=thread_setup))
            finally:
                path.unlink()  # room for the next one: the sandbox holds one database at a time
                result.check_seconds += time.monotonic() - check_started

        extract_started = time.monotonic()
        try:
            manifest = verify_archive(archive, report=progress, cancel=cancel, sink_for=sink_for,
                                      member_passed=checked)
        finally:
            result.extract_seconds = time.monotonic() - extract_started - result.check_seconds
            for handle in open_file.values():
                with contextlib.suppress(OSError):  # a disk that filled up: the error on its way says so
                    handle.close()
        for mf in [mf for mf in manifest.files if mf.kind in DUMP_KINDS]:
            if cancel.is_set():
                raise Cancelled()
            result.databases.append(server_check.check_dump(config, archive, manifest, mf, sandbox,
                                                             report=report, cancel=cancel))
