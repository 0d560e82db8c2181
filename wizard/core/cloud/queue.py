"""The upload queue: every local backup waits here until its cloud copy is uploaded and verified.

The queue is a JSON file in the data folder (``nube_pendientes.json``, written atomically under a file
lock, readable only by its owner: it holds resumable upload addresses), so a backup made offline, or a
run killed mid-upload, is uploaded by the next backup, the next start, the 15-minute retry or
``respaldos sync``, and a resumable upload continues where it stopped.
Nothing here raises for a network or account problem: callers get a ``CloudOutcome`` whose ``message``
is the line for the summary ("Nube: 2 respaldos pendientes de subir (sin conexión)"). The local backup
never depends on it.

After an upload, the same keep rules as for the local folder are applied to the cloud folder, to this
installation's backups only: files named exactly like a backup (``respaldo_YYYY-MM-DD_HH-MM-SS[_TAG].zip``)
whose tag is this installation's, or that have none (made before installations had ids). Other
installations sharing the folder keep theirs: making room, skipping old uploads and retention never count,
delete or rename another installation's backup.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import filelock

from wizard.core import machine, oserrors, paths
from wizard.core.cloud import encrypted, get_provider
from wizard.core.cloud.base import (
    CloudError,
    CloudFull,
    CloudProvider,
    LocalFileProblem,
    NeedsLogin,
    RemoteFile,
    UploadProgress,
)
from wizard.core.config import Config
from wizard.core.errors import Cancelled
from wizard.core.fsutil import atomic_write_bytes
from wizard.core.logsetup import log_file
from wizard.core.names import archive_tag, parse_archive_name
from wizard.core.retention import select_expired
from wizard.i18n import _, ngettext

logger = logging.getLogger(__name__)

QUEUE_FILE_NAME = "nube_pendientes.json"
QUEUE_LOCK_NAME = "nube_pendientes.lock"
UPLOAD_LOCK_NAME = "nube_subida.lock"
QUEUE_LOCK_TIMEOUT = 30.0


@dataclass
class PendingUpload:
    """One local archive waiting for its cloud copy."""

    path: str
    name: str
    size: int
    added: str  # ISO local time it entered the queue
    attempts: int = 0
    reason: str = ""  # why the last attempt did not finish: offline, login, full, server, verify, ...
    last_error: str = ""
    resume: dict[str, Any] | None = None  # the provider's resumable-upload state

    @property
    def created(self) -> datetime:
        return parse_archive_name(self.name) or datetime.fromisoformat(self.added)


@dataclass
class CloudOutcome:
    """What happened to the cloud copies in one pass; ``message`` is the summary's one line."""

    status: str  # ok | pending | cancelled | busy | disabled
    message: str = ""
    pending: int = 0
    uploaded: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    needs_login: bool = False  # show "Vuelve a iniciar sesión con ..." and the sign-in button
    reason: str = ""  # for pending: offline | login | full | server | verify | config | unavailable | error

    @property
    def ok(self) -> bool:
        return self.status in ("ok", "disabled")


@dataclass
class CloudStatus:
    provider: str
    title: str
    account: str
    folder: str
    signed_in: bool
    pending: list[PendingUpload]
    last_upload: dict[str, Any] | None  # name, at (ISO local time), size, provider, speed (bytes/s, if measured)
    last_error: dict[str, Any] | None  # at, reason, message


# -- the queue file -------------------------------------------------------------------------------------

def queue_path() -> Path:
    return paths.data_dir() / QUEUE_FILE_NAME


def _empty() -> dict[str, Any]:
    return {"version": 1, "items": [], "last_upload": None, "last_error": None}


def _load() -> dict[str, Any]:
    path = queue_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise ValueError("not a queue")  # noqa: TRY004 - handled below like a parse error
    except FileNotFoundError:
        return _empty()
    except (OSError, ValueError) as exc:
        aside = path.with_name(f"{path.name}.invalido-{time.strftime('%Y%m%d-%H%M%S')}")
        logger.warning("upload queue %s unreadable (%s); set aside as %s", path, exc, aside)
        try:
            path.replace(aside)
        except OSError:
            pass
        return _empty()
    return {**_empty(), **data}


def _items(data: dict[str, Any]) -> list[PendingUpload]:
    items = []
    known = set(PendingUpload.__dataclass_fields__)
    for raw in data["items"]:
        try:
            items.append(PendingUpload(**{k: v for k, v in raw.items() if k in known}))
        except (TypeError, AttributeError):
            logger.warning("dropping a damaged upload queue entry: %r", raw)
    items.sort(key=lambda i: i.created, reverse=True)
    return items


@contextmanager
def _edit() -> Iterator[dict[str, Any]]:
    """Read-modify-write of the queue under its lock (other processes may add to it meanwhile)."""
    folder = paths.ensure_dir(paths.data_dir())
    with filelock.FileLock(str(folder / QUEUE_LOCK_NAME), timeout=QUEUE_LOCK_TIMEOUT):
        data = _load()
        yield data
        # Owner-only: a Google resumable session's address in ``resume`` lets anyone holding it upload.
        atomic_write_bytes(queue_path(), json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"),
                           mode=0o600)


def _read() -> dict[str, Any]:
    folder = paths.ensure_dir(paths.data_dir())
    with filelock.FileLock(str(folder / QUEUE_LOCK_NAME), timeout=QUEUE_LOCK_TIMEOUT):
        return _load()


def enqueue(archive: Path) -> None:
    """Add a finished local archive (again: the entry is refreshed, not duplicated)."""
    archive = Path(archive).resolve()
    entry = PendingUpload(path=str(archive), name=archive.name, size=archive.stat().st_size,
                          added=datetime.now().isoformat(timespec="seconds"))
    with _edit() as data:
        data["items"] = [i for i in data["items"] if i.get("name") != archive.name] + [asdict(entry)]
    logger.info("queued %s for the cloud", archive.name)


def _update(name: str, **changes: Any) -> None:
    with _edit() as data:
        for raw in data["items"]:
            if raw.get("name") == name:
                raw.update(changes)


def _remove(name: str) -> None:
    with _edit() as data:
        data["items"] = [i for i in data["items"] if i.get("name") != name]


# -- public API ---------------------------------------------------------------------------------------

def pending(config: Config) -> list[PendingUpload]:
    """Archives waiting for the cloud, newest first (none while the cloud is off)."""
    if config.cloud.provider == "none":
        return []
    return _items(_read())


def status(config: Config) -> CloudStatus:
    """Provider, account, pending uploads and the last upload; no network."""
    data = _read()
    provider = config.cloud.provider
    signed_in, title = False, provider
    if provider != "none":
        try:
            instance = get_provider(config.cloud)
            title, signed_in = instance.title, instance.signed_in()
        except CloudError:
            pass
    return CloudStatus(provider=provider, title=title, account=config.cloud.account, folder=config.cloud.folder,
                       signed_in=signed_in, pending=_items(data) if provider != "none" else [],
                       last_upload=data.get("last_upload"), last_error=data.get("last_error"))


def last_upload_speed() -> float | None:
    """The last upload's speed in bytes per second, when it was measured (reads the queue file; no network)."""
    last = _read().get("last_upload")
    speed = last.get("speed") if isinstance(last, dict) else None
    return float(speed) if isinstance(speed, (int, float)) and not isinstance(speed, bool) else None


def after_backup(config: Config, archive_path: Path | None, report: Callable[[object], None] | None = None,
                 cancel: threading.Event | None = None) -> CloudOutcome:
    """Queue a new local archive and upload everything pending. Never raises for network/user problems."""
    if config.cloud.provider == "none":
        return CloudOutcome("disabled")
    if archive_path is not None:
        try:
            enqueue(Path(archive_path))
        except (OSError, filelock.Timeout) as exc:
            logger.error("could not queue %s for the cloud: %s", archive_path, exc)
    return _upload_pending_safely(config, report, cancel)


def sync_pending(config: Config, report: Callable[[object], None] | None = None,
                 cancel: threading.Event | None = None) -> CloudOutcome:
    """Upload what is pending now (``respaldos sync``, the start of the app, the 15-minute retry)."""
    if config.cloud.provider == "none":
        return CloudOutcome("disabled")
    return _upload_pending_safely(config, report, cancel)


def is_own_remote(name: str, me: machine.Machine) -> bool:
    """Whether a backup in the cloud folder is this installation's, by the tag in its name. An untagged one
    (made before installations had ids) counts as this installation's: its manifest cannot be read there."""
    return me.owns_tag(archive_tag(name)) is not False


# -- processing -------------------------------------------------------------------------------------------

def _upload_pending_safely(config: Config, report, cancel) -> CloudOutcome:
    """Upload what is pending; a bug becomes a logged traceback and a "pending" outcome, never a raise."""
    try:
        return _upload_pending_locked(config, report, cancel or threading.Event())
    except Exception:
        logger.exception("cloud upload failed with an unexpected error")
        try:
            count = len(_items(_read()))
        except Exception:  # noqa: BLE001 - the message matters more than the count here
            count = 0
        return CloudOutcome("pending", _pending_line(count) + " " + _(
            "(error inesperado; los detalles están en el registro: {log})").format(log=log_file()),
            pending=count, reason="error")


def _upload_pending_locked(config: Config, report, cancel: threading.Event) -> CloudOutcome:
    """One pass under the upload lock (another process uploading now: "busy")."""
    folder = paths.ensure_dir(paths.data_dir())
    lock = filelock.FileLock(str(folder / UPLOAD_LOCK_NAME), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        count = len(_items(_read()))
        return CloudOutcome("busy", _pending_line(count) + " " + _("(se están subiendo en este momento)"),
                            pending=count, reason="busy")
    try:
        provider = get_provider(config.cloud)
        try:
            return QueuePass(config, provider, report, cancel).run()
        finally:
            provider.close()
    except CloudError as exc:  # no provider by that name
        count = len(_items(_read()))
        return CloudOutcome("pending", f"{_pending_line(count)}. {exc}", pending=count, reason=exc.reason)
    finally:
        lock.release()


class UploadSpeedMeter:
    """Turns a provider's (done, total) calls into UploadProgress events with the speed so far."""

    MEASURED = 4 * 1024 * 1024  # bytes sent in this run before ``average`` says anything (a tiny file's is noise)

    def __init__(self, report, name: str, index: int, count: int):
        self.report, self.name, self.index, self.count = report, name, index, count
        self.start: tuple[float, int] | None = None
        self.average: float | None = None  # bytes per second over this run, once MEASURED bytes went

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.start is None:
            self.start = (now, done)  # a resumed upload starts past 0: speed counts this run only
        elapsed = now - self.start[0]
        speed = (done - self.start[1]) / elapsed if elapsed > 0 else 0.0
        if done - self.start[1] >= self.MEASURED and elapsed > 0:
            self.average = speed
        if self.report is not None:
            self.report(UploadProgress(self.name, done, total, speed, self.index, self.count))


class QueuePass:
    """One pass over the queue: upload newest first, then cloud retention."""

    def __init__(self, config: Config, provider: CloudProvider, report, cancel: threading.Event):
        self.config = config
        self.provider = provider
        self.report = report
        self.cancel = cancel
        self.uploaded: list[str] = []
        self.deleted: list[str] = []
        self.me = machine.current(config.machine.name)
        self.others: list[str] = []  # names of the other installations with backups in the cloud folder

    def run(self) -> CloudOutcome:
        items = self._available(_items(_read()))
        if not items:
            left = len(_items(_read()))
            if left:
                return self._outcome_pending(left, "unavailable", "")
            return CloudOutcome("ok", _("Nube: no hay respaldos pendientes de subir."))
        current: PendingUpload | None = None
        try:
            remote = {f.name: f for f in self.provider.list()}
            self.others = sorted({machine.tag_label(tag) for name in remote if parse_archive_name(name)
                                  and not is_own_remote(name, self.me) and (tag := archive_tag(name))})
            items = self._worth_uploading(items, remote)
            for index, item in enumerate(items, 1):
                if self.cancel.is_set():
                    raise Cancelled()
                current = item
                self._upload(item, remote, index, len(items))
            current = None
            if self.uploaded:
                self._retention(remote)
        except Cancelled:
            left = len(_items(_read()))
            return CloudOutcome("cancelled", _pending_line(left) + " " + _("(subida cancelada)"), left,
                                self.uploaded, self.deleted, reason="cancelled")
        except CloudError as exc:
            text = self._error_text(exc)
            self._record_failure(current, exc, text)
            return self._outcome_pending(len(_items(_read())), exc.reason, text,
                                         needs_login=isinstance(exc, NeedsLogin))
        left = len(_items(_read()))
        if left:
            return self._outcome_pending(left, "unavailable", "")
        return CloudOutcome("ok", self._done_line(), 0, self.uploaded, self.deleted)

    def _available(self, items: list[PendingUpload]) -> list[PendingUpload]:
        """Drop entries whose archive is gone (local retention, deleted by hand); keep, but skip now,
        those whose folder is missing (a USB disk unplugged for the moment)."""
        ready = []
        for item in items:
            path = Path(item.path)
            if path.is_file():
                ready.append(item)
            elif path.parent.is_dir():
                logger.info("%s no longer exists; removed from the upload queue", path)
                _remove(item.name)
            else:
                logger.info("folder of %s not available now; upload postponed", path)
        return ready

    def _own_archives(self, names) -> list[tuple[datetime, str]]:
        """This installation's backups among ``names``, with their times; another's are never counted."""
        return [(when, name) for name in names
                if (when := parse_archive_name(name)) is not None and is_own_remote(name, self.me)]

    def _worth_uploading(self, items: list[PendingUpload], remote: dict[str, RemoteFile]) -> list[PendingUpload]:
        """Leave out archives already in the cloud with the same content (an earlier run uploaded them
        and stopped before saying so) and old ones the keep rules would delete right after uploading."""
        expired = set(select_expired(self._own_archives(set(remote) | {i.name for i in items}),
                                     self.config.retention))
        worth = []
        for item in items:
            there = remote.get(item.name)
            if there is not None and _reading(item, self.provider.same_content, Path(item.path), there):
                logger.info("%s is already in %s with the same content", item.name, self.provider.title)
                self._uploaded(item, there)
            elif item.name in expired and there is None:
                logger.info("%s not uploaded: the keep rules would delete it from the cloud", item.name)
                _remove(item.name)
            else:
                worth.append(item)
        return worth

    def _upload(self, item: PendingUpload, remote: dict[str, RemoteFile], index: int, count: int) -> None:
        self._make_room(item, remote)
        _update(item.name, attempts=item.attempts + 1)
        # With [encryption] enabled, the encrypted copy goes up under the archive's name (cloud/encrypted.py).
        source, fresh = encrypted.upload_source(self.config, Path(item.path), self.cancel)
        meter = UploadSpeedMeter(self.report, item.name, index, count)
        uploaded = _reading(item, self.provider.upload, source, progress=meter, cancel=self.cancel,
                            resume=None if fresh else item.resume,
                            checkpoint=lambda state: _update(item.name, resume=state))
        remote[uploaded.name] = uploaded
        self._uploaded(item, uploaded, meter.average)
        encrypted.forget(Path(item.path))

    def _uploaded(self, item: PendingUpload, remote_file: RemoteFile, speed: float | None = None) -> None:
        with _edit() as data:
            data["items"] = [i for i in data["items"] if i.get("name") != item.name]
            data["last_upload"] = {"name": item.name, "at": datetime.now().isoformat(timespec="seconds"),
                                   "size": remote_file.size, "provider": self.provider.name}
            if speed is not None:  # bytes per second; the monthly cloud drill is skipped below 1 MB/s
                data["last_upload"]["speed"] = round(speed)
            data["last_error"] = None
        self.uploaded.append(item.name)

    def _make_room(self, item: PendingUpload, remote: dict[str, RemoteFile]) -> None:
        """When the account lacks room, first delete what the keep rules would delete anyway once this
        archive is up (never this installation's newest one in the cloud), and only this installation's
        backups; if that is not enough, CloudFull."""
        free = self.provider.free_space()
        if free is None or free >= item.size:
            return
        present = self._own_archives(remote)
        newest = max(present)[1] if present else None
        expired = select_expired(present + self._own_archives([item.name]), self.config.retention)
        expendable = sorted((n for n in expired if n in remote and n != newest),
                            key=lambda n: parse_archive_name(n) or datetime.min)
        if free + sum(remote[n].size for n in expendable) < item.size:
            raise CloudFull(self.provider.title, item.name, item.size, free)
        for name in expendable:
            logger.info("making room in %s: deleting %s ahead of retention", self.provider.title, name)
            self.provider.delete(name)
            free += remote.pop(name).size
            self.deleted.append(name)
            if free >= item.size:
                return

    def _retention(self, remote: dict[str, RemoteFile]) -> None:
        """The local keep rules, applied to this installation's backups in the cloud folder; other files,
        and other installations' backups, are left alone."""
        try:
            present = {f.name: f for f in self.provider.list()}
        except (CloudError, Cancelled) as exc:
            logger.warning("cloud retention skipped: %s", exc)
            return
        for name in select_expired(self._own_archives(present), self.config.retention):
            try:
                self.provider.delete(name)
            except (CloudError, Cancelled) as exc:
                logger.warning("cloud retention could not delete %s: %s", name, exc)
                return
            logger.info("cloud retention deleted %s from %s", name, self.provider.title)
            remote.pop(name, None)
            self.deleted.append(name)

    def _error_text(self, exc: CloudError) -> str:
        """The error's sentence; for a full account whose folder also holds other installations' backups,
        which this one never deletes to make room, it says so."""
        text = str(exc)
        if isinstance(exc, CloudFull) and self.others:
            text += " " + _("La carpeta {folder} también tiene respaldos de otros equipos ({names}), que este "
                            "equipo no borra: para liberar ese espacio, conserva menos respaldos en esos "
                            "equipos.").format(folder=self.provider.folder, names=", ".join(self.others))
        return text

    def _record_failure(self, current: PendingUpload | None, exc: CloudError, text: str) -> None:
        logger.warning("cloud upload postponed (%s): %s", exc.reason, text)
        with _edit() as data:
            for raw in data["items"]:
                raw["reason"] = exc.reason
                if current is not None and raw.get("name") == current.name:
                    raw["last_error"] = text
            data["last_error"] = {"at": datetime.now().isoformat(timespec="seconds"), "reason": exc.reason,
                                  "message": text}

    def _outcome_pending(self, count: int, reason: str, text: str, needs_login: bool = False) -> CloudOutcome:
        title = self.provider.title
        why = {
            "offline": _("sin conexión"),
            "server": _("{provider} no responde").format(provider=title),
            "verify": _("la copia en {provider} no coincidía; se volverá a intentar").format(provider=title),
            "unavailable": _("la carpeta de los respaldos no está conectada"),
        }.get(reason)
        line = _pending_line(count)
        message = f"{line} ({why})" if why else f"{line}. {text}"
        if self.uploaded:
            message = self._done_line() + " " + message
        return CloudOutcome("pending", message, count, self.uploaded, self.deleted, needs_login, reason)

    def _done_line(self) -> str:
        n = len(self.uploaded)
        line = ngettext("Nube: {count} respaldo subido y verificado en {provider}.",
                        "Nube: {count} respaldos subidos y verificados en {provider}.", n).format(
            count=n, provider=self.provider.title)
        if self.deleted:
            line += " " + ngettext("Se borró {count} respaldo antiguo de la nube.",
                                   "Se borraron {count} respaldos antiguos de la nube.",
                                   len(self.deleted)).format(count=len(self.deleted))
        return line


def _reading(item: PendingUpload, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``call(*args, **kwargs)``, which reads the archive on this computer: a failure of its disk or folder (damaged, no
    permission, unplugged) is said in words (LocalFileProblem) and the archive stays pending. The network's
    failures are the provider's to say."""
    try:
        with oserrors.plain_errors(Path(item.path), oserrors.ARCHIVE):
            return call(*args, **kwargs)
    except oserrors.EnvironmentProblem as problem:
        raise LocalFileProblem(str(problem)) from problem


def _pending_line(count: int) -> str:
    return ngettext("Nube: {count} respaldo pendiente de subir", "Nube: {count} respaldos pendientes de subir",
                    count).format(count=count)
