"""Messages waiting to be sent, and what the summary shows about notices, in ``avisos.json`` in the data folder.

The file is readable only by the user and holds no secret: each waiting message keeps its channel, subject
and text (never a password, token or ping address); recipients come from the config when it is sent. A
message is written here before the first try, so a process that exits meanwhile loses nothing; it is
retried at the hourly tick for up to a day. The same file remembers the last message sent and the last
problem of each channel, and when the overdue and weekly messages went out (every process shares them).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import filelock

from wizard.core import paths
from wizard.core.fsutil import atomic_write_bytes
from wizard.core.notify.messages import Alert

logger = logging.getLogger(__name__)

FILE_NAME = "avisos.json"
LOCK_NAME = "avisos.lock"
LOCK_TIMEOUT = 10.0
RETRY_AFTER = timedelta(minutes=50)  # a message that failed waits for the next hourly tick
KEEP_FOR = timedelta(hours=24)  # then it is dropped (the problem stays in the summary)
_thread_lock = threading.RLock()


@dataclass
class Waiting:
    """A message not delivered yet through one channel."""

    id: str
    channel: str
    event: str
    subject: str
    text: str
    created: str  # ISO time with its offset
    attempts: int = 0
    last_try: str | None = None
    last_error: str = ""

    @property
    def alert(self) -> Alert:
        return Alert(self.event, self.subject, self.text)


def path() -> Path:
    return paths.data_dir() / FILE_NAME


def _empty() -> dict[str, Any]:
    return {"version": 1, "waiting": [], "sent": {}, "errors": {}, "overdue_sent_at": None, "weekly_sent": None,
            "sync_failure": None}


def _load() -> dict[str, Any]:
    try:
        data = json.loads(path().read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return _empty()
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        logger.warning("notices file %s unreadable (%s); starting a new one", path(), type(exc).__name__)
        return _empty()
    if not isinstance(data, dict):
        return _empty()
    merged = _empty()
    merged.update(data)
    for key in ("sent", "errors"):
        if not isinstance(merged[key], dict):
            merged[key] = {}
    if not isinstance(merged["waiting"], list):
        merged["waiting"] = []
    return merged


@contextmanager
def edit() -> Iterator[dict[str, Any]]:
    """The file's contents to change in place; written back (owner-only, atomically) on leaving."""
    folder = paths.ensure_dir(paths.data_dir())
    with _thread_lock, filelock.FileLock(str(folder / LOCK_NAME), timeout=LOCK_TIMEOUT):
        data = _load()
        yield data
        atomic_write_bytes(path(), json.dumps(data, indent=1, ensure_ascii=False).encode("utf-8"), mode=0o600)


def read() -> dict[str, Any]:
    folder = paths.ensure_dir(paths.data_dir())
    with _thread_lock, filelock.FileLock(str(folder / LOCK_NAME), timeout=LOCK_TIMEOUT):
        return _load()


def parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _waiting(data: dict[str, Any]) -> list[Waiting]:
    found = []
    for raw in data["waiting"]:
        try:
            found.append(Waiting(**raw))
        except TypeError:
            logger.warning("a waiting notice could not be read and was dropped")
    return found


def waiting() -> list[Waiting]:
    return _waiting(read())


def add(channel: str, alert: Alert, now: datetime) -> Waiting:
    """Keep ``alert`` for ``channel`` and claim it for a try now (another process will not take it too)."""
    item = Waiting(uuid.uuid4().hex, channel, alert.event, alert.subject, alert.text,
                   created=now.isoformat(timespec="seconds"), last_try=now.isoformat(timespec="seconds"))
    with edit() as data:
        data["waiting"].append(asdict(item))
    return item


def take_due(now: datetime) -> tuple[list[Waiting], list[Waiting]]:
    """The messages to retry now (claimed: their ``last_try`` becomes now) and those dropped for being older
    than a day."""
    due: list[Waiting] = []
    expired: list[Waiting] = []
    if not path().exists():  # nothing was ever queued: do not create the file
        return due, expired
    with edit() as data:
        keep = []
        for item in _waiting(data):
            created = parse_time(item.created)
            last_try = parse_time(item.last_try)
            if created is None or now - created >= KEEP_FOR:
                expired.append(item)
                continue
            if last_try is None or now - last_try >= RETRY_AFTER:
                item.last_try = now.isoformat(timespec="seconds")
                due.append(item)
            keep.append(asdict(item))
        data["waiting"] = keep
    return due, expired


def delivered(item: Waiting, now: datetime) -> None:
    """``item`` went out: forget it, remember it as the channel's last message, clear its problem."""
    with edit() as data:
        data["waiting"] = [w for w in data["waiting"] if w.get("id") != item.id]
        _record_sent(data, item.channel, item.alert, now)


def failed(item: Waiting, reason: str, now: datetime) -> None:
    with edit() as data:
        for raw in data["waiting"]:
            if raw.get("id") == item.id:
                raw["attempts"] = int(raw.get("attempts") or 0) + 1
                raw["last_error"] = reason
        _record_error(data, item.channel, reason, now)


def drop(item_ids: set[str]) -> None:
    with edit() as data:
        data["waiting"] = [w for w in data["waiting"] if w.get("id") not in item_ids]


def record(channel: str, now: datetime, *, alert: Alert | None = None, error: str | None = None) -> None:
    """A send that did not go through the queue (a test message, a ping): its outcome for the summary."""
    with edit() as data:
        if error is None:
            _record_sent(data, channel, alert, now)
        else:
            _record_error(data, channel, error, now)


def _record_sent(data: dict[str, Any], channel: str, alert: Alert | None, now: datetime) -> None:
    if alert is not None:
        data["sent"][channel] = {"at": now.isoformat(timespec="seconds"), "event": alert.event,
                                 "subject": alert.subject, "text": alert.text}
    data["errors"].pop(channel, None)


def _record_error(data: dict[str, Any], channel: str, reason: str, now: datetime) -> None:
    data["errors"][channel] = {"at": now.isoformat(timespec="seconds"), "reason": reason}


def claim_marker(key: str, value: Any, only_if: Any = None) -> bool:
    """Set ``key`` (overdue_sent_at, weekly_sent, ...) to ``value`` unless another process changed it from
    ``only_if`` first; True when this process may go on and send."""
    with edit() as data:
        if data.get(key) != only_if:
            return False
        data[key] = value
        return True


def set_marker(key: str, value: Any) -> None:
    with edit() as data:
        data[key] = value
