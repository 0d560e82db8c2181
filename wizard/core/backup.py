"""One backup run: snapshot -> archive -> verify -> rename -> retention, recorded in the history.

Safety rules: the archive is written as ``respaldo_<time>.zip.part`` in the destination, every chunk read
back from that file and checked as it is written, fsynced, verified against its central directory and
manifest, and only then renamed; older archives are only touched by retention after a verified success;
the destination is never created here (an unplugged USB disk would otherwise fill the system disk).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import filelock

from wizard import __version__
from wizard.core import history, machine, oserrors, paths, servers
from wizard.core.archive import (
    MANIFEST_NAME,
    ZIP64_LIMIT,
    EarlyCompression,
    Manifest,
    ManifestFile,
    ReadBack,
    ZipWriter,
    read_manifest,
    verify_archive,
)
from wizard.core.config import Config
from wizard.core.encryption.password import require_password
from wizard.core.errors import Cancelled, UserError
from wizard.core.fsutil import fsync_dir, remove_stale_dirs
from wizard.core.names import (  # noqa: F401 - re-exported: callers know them as backup.*
    ARCHIVE_NAME_RE,
    NAME_TIME_FORMAT,
    PART_NAME_RE,
    ArchiveInfo,
    archive_name,
    archive_tag,
    list_archives,
    parse_archive_name,
)
from wizard.core.ownership import installations_in, is_own, manifest_machine_of, own_archives  # noqa: F401
from wizard.core.phases import PhaseClock
from wizard.core.retention import select_expired_with_safety
from wizard.core.snapshot import Item, Scan, check_snapshot, is_inside, scan_sources, snapshot_sqlite
from wizard.core.units import format_size
from wizard.i18n import _

logger = logging.getLogger(__name__)

LEGACY_PART_AGE = 3600  # an untagged .part (an older version's) is left alone this long: it may be in use
READ_ATTEMPTS = 3
LOCK_FILE_NAME = "respaldo.lock"
COMPRESS_SHARE = 85.0  # percent of the progress bar for reading+compressing; the rest is verification
# A server database whose size the server did not report (no mysql/isql next to the dump tool): room
# for the compressed dump of a POS database of about 1 GB.
DUMP_ALLOWANCE = 256 << 20
EARLY_MIN_SIZE = 16 << 20  # databases from this size on are compressed while their snapshot is written
EARLY_HEAD = 64 << 10  # an SQLite backup writes its first page (at most 64 KiB) last
SQLITE_PENDING_BYTE = 1 << 30


@dataclass
class Progress:
    phase: str  # scan | snapshot | compress | verify | retention
    percent: float
    current: str = ""
    done_bytes: int = 0
    total_bytes: int = 0


@dataclass
class BackupResult:
    status: str  # ok | warning | failed | cancelled | skipped
    trigger: str
    started: datetime
    ended: datetime
    archive: Path | None = None
    size: int = 0
    message: str = ""
    warnings: list[str] = field(default_factory=list)
    verified: bool = False
    destination_missing: bool = False
    cloud: object | None = None  # wizard.core.cloud.queue.CloudOutcome once the copy to the cloud was tried

    @property
    def duration(self) -> float:
        return (self.ended - self.started).total_seconds()

    @property
    def succeeded(self) -> bool:
        return self.status in ("ok", "warning")


class DestinationMissing(UserError):
    pass


class _SourceUnreadable(Exception):
    """Reading a source file failed (locked, no permission, I/O error): skip it with a warning."""

    def __init__(self, error: OSError):
        super().__init__(str(error))
        self.error = error


def check_destination(folder: str | Path) -> Path:
    """The destination must exist already; it is never created here."""
    path = Path(os.path.expanduser(str(folder)))
    if not path.is_dir():
        raise DestinationMissing(
            _("No se encontró la carpeta {folder}. Conecta la memoria USB o elige otra carpeta.").format(
                folder=folder))
    return path


def _disk_full(folder: Path, needed: int) -> UserError:
    """Refused before writing: the estimate does not fit (a disk that fills up mid-write is oserrors' FULL)."""
    free = shutil.disk_usage(folder).free
    return UserError(_("No hay espacio suficiente en {folder}: se necesitan unos {needed} y quedan {free}. "
                       "Libera espacio, conserva menos respaldos o elige otra carpeta.").format(
        folder=folder, needed=format_size(needed), free=format_size(free)))


def _plain_failure(exc: OSError, config: Config) -> oserrors.EnvironmentProblem | None:
    """What an OSError that stopped the run means, in a sentence: writing to the destination (an error
    without a file name is one on the archive being written), or reading a source."""
    dest = Path(os.path.expanduser(config.destination.folder))
    name = os.fsdecode(exc.filename) if exc.filename else None
    if name is None or is_inside(name, dest):
        return oserrors.plain_os_error(exc, dest, oserrors.BACKUP)
    if any(is_inside(name, os.path.expanduser(root)) for root in config.source.paths):
        return oserrors.plain_os_error(exc, name, oserrors.SOURCE)
    return oserrors.plain_os_error(exc, Path(name).parent, oserrors.BACKUP)  # the snapshot folder


def estimate_archive_size(scan: Scan, dest: Path, dumps: Sequence[servers.PreparedDump] = (),
                          me: machine.Machine | None = None) -> int:
    """A cautious guess: this installation's last archive's size plus 20 %, or 60 % of the data for a first
    backup.

    Server databases the last archive does not hold yet (all of them for a first backup) add 60 % of the
    size the server reports for them, or DUMP_ALLOWANCE when it reported none.
    """
    previous = own_archives(dest, me) if me is not None else list_archives(dest)
    if previous:
        held = _dumps_in(previous[0].path)
        estimate = int(previous[0].size * 1.2) + (1 << 20)
    else:
        held = set()
        estimate = int(scan.total_bytes * 0.6) + (1 << 20)
    for dump in dumps:
        if dump.archive_path not in held:
            estimate += int(dump.info.size * 0.6) if dump.info.size is not None else DUMP_ALLOWANCE
    return estimate


def _dumps_in(archive: Path) -> set[str]:
    """The server-database dumps an archive holds, by member name (none if its manifest cannot be read)."""
    try:
        manifest = read_manifest(archive)
    except (UserError, OSError):
        return set()
    return {str(d.get("path", "")) for d in manifest.databases}


def _sqlite_size_hint(item: Item) -> int:
    """How large a snapshot may get before it is made: the database plus its WAL, whose pages it holds."""
    try:
        wal = os.stat(f"{item.source}-wal").st_size
    except OSError:
        wal = 0
    return item.size + wal


LEGACY_SNAPSHOT_DIR_PREFIX = "respaldos-snap-"  # before installations had ids: respaldos-snap-<pid>-...


def snapshot_dir_prefix(me: machine.Machine) -> str:
    """``respaldos-snapshot-<short id>-``: a folder beside the archives, on a disk other tills share, is
    only ever cleaned up by the installation that made it."""
    return f"respaldos-snapshot-{me.short}-"

# Snapshot folders of the runs going on in this process: the only ones with this process's id to keep.
_live_snapshot_dirs: set[Path] = set()


def remove_leftovers(dest: Path, me: machine.Machine) -> None:
    """What a run that was killed left: half-written archives (never a final name) and its private snapshot
    folder (a full copy of the databases, in the temp folder or beside the archives), removed on the next
    run. A folder whose process still runs (a backup of another user, or another destination) is kept,
    except this process's own from an earlier run whose snapshot could not be deleted then (on Windows, a
    file another program, e.g. an antivirus, still had open): the window and the scheduler run for weeks.
    Only this installation's: another till's .part in a shared folder may be being written right now. An
    untagged .part (an older version's) goes once it is LEGACY_PART_AGE old."""
    for parent in (Path(tempfile.gettempdir()), dest):
        remove_stale_dirs(parent, snapshot_dir_prefix(me), max_age_without_pid=86400, keep_own=_live_snapshot_dirs)
    remove_stale_dirs(Path(tempfile.gettempdir()), LEGACY_SNAPSHOT_DIR_PREFIX, max_age_without_pid=86400)
    for entry in os.scandir(dest):
        m = PART_NAME_RE.match(entry.name)
        if not m:
            continue
        try:
            owned = me.owns_tag(m.group(1))
            if owned is None:
                owned = time.time() - entry.stat().st_mtime > LEGACY_PART_AGE
            if not owned:
                continue
            os.unlink(entry.path)
            logger.info("removed leftover %s", entry.path)
        except OSError as exc:
            logger.warning("could not remove leftover %s: %s", entry.path, exc)


class BackupRun:
    """The state of one run; ``execute`` is the sequence of steps."""

    def __init__(self, config: Config, trigger: str, report: Callable[[object], None] | None,
                 cancel: threading.Event | None):
        self.config = config
        self.trigger = trigger
        self._report = report
        self.cancel = cancel or threading.Event()
        self.warnings: list[str] = []
        self.total = 0
        self.done = 0
        self.verified_bytes = 0
        self._last_percent = -1.0
        self.read_back: dict[str, ReadBack | None] = {}
        self.dumps: list[servers.PreparedDump] = []
        self._deleting: list[threading.Thread] = []
        self.me = machine.current(config.machine.name)
        self.password: str | None = None  # the archive is encrypted with it ([encryption] scope = "all")
        self.clock = PhaseClock()  # where the time went, logged at the end (wizard/core/phases.py)

    def report(self, phase: str, current: str = "") -> None:
        if self._report is None:
            return
        total = max(self.total, 1)
        percent = COMPRESS_SHARE * min(self.done, total) / total
        percent += (100 - COMPRESS_SHARE) * min(self.verified_bytes, total) / total
        self._report(Progress(phase, round(min(percent, 100.0), 1), current, self.done, self.total))

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()

    def execute(self, started: datetime) -> tuple[Path, int]:
        # Encrypted local archives (docs/encryption.md): without the password nothing is started.
        self.password = require_password(self.config) if self.config.encryption.applies_to_local() else None
        dest = check_destination(self.config.destination.folder)
        remove_leftovers(dest, self.me)
        self.report("scan")
        # Sources may be server databases only (no folders).
        with self.clock.timed("scan"):
            scan = scan_sources(self.config.source.paths, self.config.source.exclude, dest) \
                if self.config.source.paths else Scan()
        self.warnings += scan.warnings
        # Each server database is reached before anything is written: a stopped server fails right away.
        self.dumps = servers.prepare_dumps(self.config.source.databases, {r["archive_path"] for r in scan.roots})
        self.total = scan.total_bytes + sum(d.expected_bytes for d in self.dumps)
        needed = estimate_archive_size(scan, dest, self.dumps, self.me)
        if shutil.disk_usage(dest).free < needed:
            raise _disk_full(dest, needed)
        name = archive_name(started, self.me.tag)
        while (dest / name).exists():
            started += timedelta(seconds=1)
            name = archive_name(started, self.me.tag)
        final = dest / name
        part = dest / f"{name}.part"
        try:
            manifest = self._write(part, scan, started, dest)
            self.check_cancel()
            with self.clock.timed("verify"):
                self._verify(part, manifest)
            with self.clock.timed("rename"):
                os.replace(part, final)
                fsync_dir(dest)
        except BaseException:
            try:
                part.unlink()
            except OSError:
                pass
            raise
        return final, final.stat().st_size

    def _write(self, part: Path, scan: Scan, started: datetime, dest: Path) -> Manifest:
        manifest = Manifest(app="Respaldos", version=__version__,
                            created=started.astimezone().isoformat(timespec="seconds"),
                            host=self.me.host, sources=scan.roots, machine=self.me.manifest_entry())
        snap_dir = Path(tempfile.mkdtemp(prefix=f"{snapshot_dir_prefix(self.me)}{os.getpid()}-",
                                         dir=self._snapshot_parent(scan, dest)))
        _live_snapshot_dirs.add(snap_dir.resolve())
        try:
            with open(part, "xb") as fp:
                # every chunk is read back from the file and inflated while later ones are compressed
                writer = ZipWriter(fp, read_back=part, password=self.password)
                try:
                    for item in scan.items:
                        self.check_cancel()
                        entry_file = self._add(writer, item, snap_dir)
                        if entry_file is not None:
                            manifest.files.append(entry_file)
                    for dump in self.dumps:
                        self.check_cancel()
                        manifest.files.append(self._add_dump(writer, dump))
                        manifest.databases.append(dump.manifest_entry())
                    with self.clock.timed("close"):
                        writer.add_bytes(MANIFEST_NAME, manifest.to_json())
                        writer.close()
                    self.read_back = {e.name: e.read_back for e in writer.entries}
                    self.verified_bytes = writer.checked_bytes
                except BaseException:
                    writer.abort()
                    raise
                with self.clock.timed("fsync"):
                    fp.flush()
                    os.fsync(fp.fileno())
        finally:
            self._wait_for_deletions()
            shutil.rmtree(snap_dir, ignore_errors=True)
            if snap_dir.exists():
                logger.warning("could not remove the snapshot folder %s; the next backup removes it", snap_dir)
            _live_snapshot_dirs.discard(snap_dir.resolve())
        return manifest

    def _snapshot_parent(self, scan: Scan, dest: Path) -> str | None:
        """Snapshots go to the system temp folder, or next to the archive when that lacks room."""
        biggest = max((i.size for i in scan.items if i.kind == "sqlite"), default=0)
        if biggest and shutil.disk_usage(tempfile.gettempdir()).free < biggest * 1.2:
            return str(dest)
        return None

    def _add(self, writer: ZipWriter, item: Item, snap_dir: Path) -> ManifestFile | None:
        if item.kind == "sqlite":
            return self._add_sqlite(writer, item, snap_dir)
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                try:
                    before = os.stat(item.source)
                    fh = open(item.source, "rb")  # noqa: SIM115 - closed by the with below, after the stat
                except OSError as exc:
                    raise _SourceUnreadable(exc) from None
                with fh, self.clock.timed("compress"):
                    entry = self._stream(writer, item, fh, before.st_size)
                try:
                    after = os.stat(item.source)
                except OSError as exc:
                    raise _SourceUnreadable(exc) from None
            except _SourceUnreadable as wrapped:
                error = wrapped.error
                if oserrors.kind_of(error) == oserrors.TOO_MANY_FILES:
                    raise error from None  # every file after it would be skipped too: the run fails
                if writer.in_member:
                    writer.discard()
                self.warnings.append(_skipped(error, item.source))
                return None
            if (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns) \
                    and entry.size == after.st_size:
                return self._manifest_file(item, entry, after.st_mtime)
            if attempt == READ_ATTEMPTS:
                self.warnings.append(_("{path} cambió mientras se leía; se guardó la última lectura.").format(
                    path=item.source))
                return self._manifest_file(item, entry, after.st_mtime)
            logger.info("%s changed while read (attempt %d), reading again", item.source, attempt)
            writer.drop_last()
            self.done -= entry.size
        return None

    def _add_sqlite(self, writer: ZipWriter, item: Item, snap_dir: Path) -> ManifestFile:
        """Snapshot with the online backup API, then compress the copy while quick_check reads it.

        The copy takes one core for a while and nothing else can start before it is done, so a large one
        is compressed early on the other core as its pages land in the file (EarlyCompression); whatever
        changed afterwards is compressed again when the finished copy is read.
        """
        self.report("snapshot", item.archive_path)
        # One snapshot at a time: the snapshot folder was chosen for having room for the largest alone.
        self._wait_for_deletions()
        snap = snap_dir / f"db{len(writer.entries)}.sqlite"
        try:
            early = None
            if item.size >= EARLY_MIN_SIZE:
                begun = writer.begin(item.archive_path, item.mtime, _sqlite_size_hint(item), early_head=EARLY_HEAD)
                # Past 1 GiB lies SQLite's lock-byte page: locked on Windows, and with destination pages
                # larger than the source's the bytes after it are written last.
                with self.clock.timed("snapshot"), \
                        EarlyCompression(writer, snap, EARLY_HEAD, end=SQLITE_PENDING_BYTE) as early:
                    snapshot_sqlite(item.source, snap)
                logger.info("%s: %d chunk(s) compressed while the snapshot was written", item.archive_path,
                            early.chunks)
            else:
                with self.clock.timed("snapshot"):
                    snapshot_sqlite(item.source, snap)
            self.check_cancel()
            size = snap.stat().st_size
            if early is not None and (size * 1.05 >= ZIP64_LIMIT) != begun.zip64:
                writer.discard()  # the copy is on the other side of the Zip64 line than the source was
            # quick_check reads the snapshot on another core while it is compressed
            with ThreadPoolExecutor(1, thread_name_prefix="quick_check") as pool:
                checked = pool.submit(self._check_timed, item.source, snap)
                try:
                    with open(snap, "rb") as fh, self.clock.timed("compress"):
                        entry = self._stream(writer, item, fh, size)
                finally:
                    checked.result()
        except BaseException:
            if writer.in_member:
                writer.discard()
            raise
        self._delete_later(snap)
        return self._manifest_file(item, entry)

    def _check_timed(self, source: Path, snap: Path) -> None:
        with self.clock.timed("quick_check"):
            check_snapshot(source, snap)

    def _delete_later(self, path: Path) -> None:
        """Deleting a large copy takes the kernel a while: let it overlap the work still to come."""

        def delete() -> None:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:  # the folder is removed at the end of the run, or by the next one
                logger.warning("could not delete the snapshot %s: %s", path, exc)

        thread = threading.Thread(target=delete, name="delete-snapshot", daemon=True)
        thread.start()
        self._deleting.append(thread)

    def _wait_for_deletions(self) -> None:
        while self._deleting:
            self._deleting.pop().join()

    def _add_dump(self, writer: ZipWriter, dump: servers.PreparedDump) -> ManifestFile:
        """A server database's dump, streamed into the archive; counts only once the tool completed it."""
        self.report("snapshot", dump.archive_path)

        def progress(n: int) -> None:
            self.done += n
            self.report("snapshot", dump.archive_path)

        return servers.write_dump(writer, dump, cancel=self.cancel, progress=progress)

    def _stream(self, writer: ZipWriter, item: Item, fh, size_hint: int):
        if not writer.in_member:
            writer.begin(item.archive_path, item.mtime, size_hint)
        while True:
            try:
                # CHUNK_SIZE, or the size of the next early chunk; larger reads cost a fresh mmap and page
                # faults each time
                chunk = fh.read(writer.next_piece)
            except OSError as exc:
                raise _SourceUnreadable(exc) from None
            if not chunk:
                break
            writer.write(chunk)
            self.done += len(chunk)
            self.verified_bytes = writer.checked_bytes
            self.report("compress", item.archive_path)
            if self.cancel.is_set():
                writer.discard()
                raise Cancelled()
        return writer.end()

    @staticmethod
    def _manifest_file(item: Item, entry, mtime: float | None = None) -> ManifestFile:
        when = datetime.fromtimestamp(item.mtime if mtime is None else mtime).astimezone()
        return ManifestFile(path=item.archive_path, size=entry.size,
                            mtime=when.isoformat(timespec="seconds"), sha256=entry.sha256, kind=item.kind,
                            chunks=list(entry.chunks))

    def _verify(self, part: Path, manifest: Manifest) -> None:
        def progress(n: int) -> None:
            self.verified_bytes += n
            self.report("verify")

        self.report("verify")
        os.stat(part)  # gone now (the destination was unmounted meanwhile): a lost folder, said as such
        verified = verify_archive(part, report=progress, cancel=self.cancel, read_back=self.read_back,
                                  passwords=[self.password] if self.password is not None else None)
        if [f.sha256 for f in verified.files] != [f.sha256 for f in manifest.files]:
            raise AssertionError("verified manifest differs from the one written")


def apply_retention(config: Config, dest: Path, keep: Path | None = None) -> list[str]:
    """Delete this installation's archives no rule keeps; returns the names deleted. Other files, and other
    installations' archives, are never touched nor counted. Safety backups (made before a restore) are kept
    SAFETY_KEEP_DAYS days, outside the rules."""
    archives = own_archives(dest, machine.current(config.machine.name))
    safety = {e.archive for e in history.read() if e.trigger == "before-restore" and e.succeeded and e.archive}
    expired = select_expired_with_safety([(a.created, a) for a in archives], config.retention,
                                         lambda a: a.name in safety, datetime.now())
    deleted = []
    for archive in expired:
        if keep is not None and archive.path == keep:
            continue
        try:
            archive.path.unlink()
            deleted.append(archive.name)
            logger.info("retention deleted %s", archive.path)
        except OSError as exc:
            logger.warning("retention could not delete %s: %s", archive.path, exc)
    return deleted


def lock_path() -> Path:
    return paths.data_dir() / LOCK_FILE_NAME


class RunHooks(Protocol):
    """What happens around a run without the engine knowing it (wizard.core.jobs: the cloud copy, the
    notices): ``started`` once the run holds the lock, ``finished`` after its result is recorded."""

    def started(self, config: Config, trigger: str) -> None: ...

    def finished(self, config: Config, result: BackupResult, report: Callable[[object], None] | None,
                 cancel: threading.Event | None) -> None: ...


def run_backup(config: Config, *, trigger: str = "manual", report: Callable[[object], None] | None = None,
               cancel: threading.Event | None = None, hooks: RunHooks | None = None) -> BackupResult:
    """One whole backup. Never raises for a user problem: the result says what happened and what to do.
    Local only: ``wizard.core.jobs.run_backup_job`` adds the cloud copy and the notices."""
    started = datetime.now()
    t0 = time.monotonic()
    paths.ensure_dir(paths.data_dir())
    lock = filelock.FileLock(str(lock_path()), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        result = BackupResult("skipped", trigger, started, datetime.now(),
                              message=_("Ya hay un respaldo en curso."))
        _record(result)
        return result
    run = BackupRun(config, trigger, report, cancel)
    if hooks is not None:
        hooks.started(config, trigger)
    try:
        try:
            archive, size = run.execute(started)
        except OSError as exc:
            problem = _plain_failure(exc, config)
            if problem is None:
                raise
            raise problem from exc
        deleted = []
        try:
            run.report("retention")
            deleted = apply_retention(config, archive.parent, keep=archive)
        except OSError as exc:
            run.warnings.append(_("No se pudieron borrar respaldos antiguos: {error}").format(error=exc))
        status = "warning" if run.warnings else "ok"
        elapsed = time.monotonic() - t0
        message = _("Respaldo guardado y verificado: {name} ({size}) en {seconds:.1f} s.").format(
            name=archive.name, size=format_size(size), seconds=elapsed)
        if run.warnings:
            message += " " + _("Con advertencias: {warnings}").format(warnings=" ".join(run.warnings))
        if deleted:
            logger.info("retention removed %d archive(s)", len(deleted))
        result = BackupResult(status, trigger, started, datetime.now(), archive, size, message,
                              run.warnings, verified=True)
        logger.info("%s", run.clock.line())
    except Cancelled:
        result = BackupResult("cancelled", trigger, started, datetime.now(),
                              message=_("Respaldo cancelado. No se guardó ningún archivo a medias."))
    except UserError as exc:
        message = str(exc)
        if isinstance(exc, oserrors.EnvironmentProblem):
            message += " " + oserrors.nothing_saved()
        gone = isinstance(exc, oserrors.EnvironmentProblem) and exc.kind == oserrors.GONE \
            and exc.action == oserrors.BACKUP
        result = BackupResult("failed", trigger, started, datetime.now(), message=message,
                              warnings=run.warnings, destination_missing=gone or isinstance(exc, DestinationMissing))
    except Exception:
        logger.exception("backup failed with an unexpected error")
        result = BackupResult("failed", trigger, started, datetime.now(), message=_(
            "El respaldo falló por un error inesperado. Los detalles están en el registro: {log}").format(
            log=paths.log_dir() / "respaldos.log"))
    finally:
        lock.release()
    logger.info("backup %s (%s): %s", result.status, trigger, result.message)
    _record(result)
    if hooks is not None:
        hooks.finished(config, result, report, cancel)
    return result


def _skipped(exc: OSError, source: Path) -> str:
    """The warning for a source file that could not be read and was left out."""
    problem = oserrors.plain_os_error(exc, source, oserrors.SOURCE)
    if problem is not None:
        return _("{problem} No se respaldó ese archivo.").format(problem=problem)
    return _("No se pudo leer {path} ({error}); no se respaldó.").format(path=source, error=exc.strerror or exc)


def _record(result: BackupResult) -> None:
    try:
        history.append(history.HistoryEntry(
            start=result.started, end=result.ended, trigger=result.trigger, status=result.status,
            archive=result.archive.name if result.archive else None, size=result.size,
            duration=result.duration, message=result.message, verified=result.verified))
    except OSError as exc:
        logger.error("could not write history: %s", exc)
