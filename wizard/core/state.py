"""Small facts the app remembers between runs, in a JSON file in the user data dir.

Today that is when the app last saved each config file: the scheduler does not run a catch-up for a
scheduled time that passed before the schedule was chosen. A config edited by hand (no save recorded,
or modified after the recorded save) counts as saved at its modification time.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard.core import paths
from wizard.core.fsutil import atomic_write_bytes

logger = logging.getLogger(__name__)

STATE_FILE_NAME = "state.json"
_lock = threading.Lock()


def state_path() -> Path:
    return paths.data_dir() / STATE_FILE_NAME


def _key(config_path: Path | str) -> str:
    return os.path.normcase(str(Path(config_path).expanduser().resolve(strict=False)))


def _aware(when: datetime) -> datetime:
    # A naive time is the computer's local time; store it with its offset so it stays unambiguous.
    return when if when.tzinfo is not None else when.astimezone()


def _read() -> dict[str, Any]:
    path = state_path()
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("state file %s ignored: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def record_config_saved(config_path: Path | str, when: datetime | None = None) -> None:
    """Remember that the app saved ``config_path`` at ``when`` (now by default).

    Call it right after ``config.save``: the file's current modification time is stored with it, so a
    later hand edit is noticed.
    """
    when = _aware(when or datetime.now(UTC))
    entry: dict[str, Any] = {"saved_at": when.isoformat()}
    try:
        entry["mtime_ns"] = Path(config_path).stat().st_mtime_ns
    except OSError:
        pass
    with _lock:
        data = _read()
        saves = data.get("config_saved")
        if not isinstance(saves, dict):
            saves = {}
        saves[_key(config_path)] = entry
        data["config_saved"] = saves
        path = state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def _recorded(config_path: Path | str) -> tuple[datetime | None, int | None]:
    saves = _read().get("config_saved")
    entry = saves.get(_key(config_path)) if isinstance(saves, dict) else None
    if not isinstance(entry, dict):
        return None, None
    try:
        saved_at = _aware(datetime.fromisoformat(str(entry["saved_at"])))
    except (KeyError, ValueError):
        return None, None
    mtime_ns = entry.get("mtime_ns")
    return saved_at, mtime_ns if isinstance(mtime_ns, int) else None


def config_saved_at(config_path: Path | str) -> datetime | None:
    """When the config was last saved: the time the app recorded, or the file's modification time.

    The modification time wins when the app recorded nothing or the file changed after the recorded
    save (a hand edit). None when there is neither a record nor a file. The result is tz-aware.
    """
    recorded, recorded_mtime_ns = _recorded(config_path)
    try:
        st = Path(config_path).stat()
    except OSError:
        return recorded
    mtime = datetime.fromtimestamp(st.st_mtime, tz=UTC)
    if recorded is None:
        return mtime
    if recorded_mtime_ns is not None and st.st_mtime_ns == recorded_mtime_ns:
        return recorded
    return max(recorded, mtime)


def first_time(name: str) -> bool:
    """True the first time ``name`` is asked for on this installation (then remembered): a hint shown
    once, such as the tray's "Respaldos sigue funcionando aquí"."""
    with _lock:
        data = _read()
        seen = data.get("seen")
        if not isinstance(seen, list):
            seen = []
        if name in seen:
            return False
        data["seen"] = [*seen, name]
        path = state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
    return True


def recall(name: str) -> Any:
    """A small JSON value remembered under ``name`` (such as when the monthly restore drills last ran), or
    None."""
    values = _read().get("values")
    return values.get(name) if isinstance(values, dict) else None


def remember(name: str, value: Any) -> None:
    """Keep ``value`` (JSON) under ``name``; None forgets it."""
    with _lock:
        data = _read()
        values = data.get("values")
        if not isinstance(values, dict):
            values = {}
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
        data["values"] = values
        path = state_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(path, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))
