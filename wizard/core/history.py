"""Run history: one JSON object per line in the user data dir. A corrupt line is skipped, not fatal."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from wizard.core import paths

logger = logging.getLogger(__name__)

HISTORY_FILE_NAME = "history.jsonl"
TRIGGERS = ("manual", "scheduled", "catch-up", "before-restore", "self-test", "test-restore")
# Runs that test a backup instead of making one (wizard.core.drill): never "the last backup".
NOT_BACKUPS = ("test-restore",)
STATUSES = ("ok", "warning", "failed", "cancelled", "skipped")


@dataclass
class HistoryEntry:
    start: datetime
    end: datetime
    trigger: str
    status: str
    archive: str | None = None
    size: int = 0
    duration: float = 0.0
    message: str = ""
    verified: bool = False
    drill: dict | None = None  # a restore drill's figures (DrillResult.to_dict); only drills have it

    def to_json(self) -> str:
        data = asdict(self)
        if self.drill is None:
            del data["drill"]  # older readers and lines stay as they were
        data["start"] = self.start.isoformat(timespec="seconds")
        data["end"] = self.end.isoformat(timespec="seconds")
        data["duration"] = round(self.duration, 3)
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, line: str) -> HistoryEntry:
        data = json.loads(line)
        if not isinstance(data, dict):
            raise ValueError("not an object")  # noqa: TRY004 - read() skips a line on ValueError
        return cls(
            start=datetime.fromisoformat(data["start"]),
            end=datetime.fromisoformat(data["end"]),
            trigger=str(data["trigger"]),
            status=str(data["status"]),
            archive=data.get("archive"),
            size=int(data.get("size") or 0),
            duration=float(data.get("duration") or 0.0),
            message=str(data.get("message") or ""),
            verified=bool(data.get("verified", False)),
            drill=data["drill"] if isinstance(data.get("drill"), dict) else None,
        )

    @property
    def is_drill(self) -> bool:
        """A restore drill (wizard.core.drill), whatever trigger started it: it tests a backup, makes none."""
        return self.trigger in NOT_BACKUPS or self.drill is not None

    @property
    def succeeded(self) -> bool:
        return self.status in ("ok", "warning")


def history_path() -> Path:
    return paths.data_dir() / HISTORY_FILE_NAME


def append(entry: HistoryEntry, path: Path | None = None) -> None:
    """Append one run durably (one write of one whole line, then fsync)."""
    path = path or history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (entry.to_json() + "\n").encode("utf-8")
    with open(path, "ab") as fh:
        fh.write(line)
        fh.flush()
        os.fsync(fh.fileno())


def read(path: Path | None = None) -> list[HistoryEntry]:
    """All runs, oldest first. Lines that cannot be read (a torn write, a hand edit) are skipped."""
    path = path or history_path()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    entries = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entries.append(HistoryEntry.from_json(line.decode("utf-8")))
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            logger.warning("history %s line %d skipped: %s", path, number, exc)
    return entries


def last_success(entries: list[HistoryEntry]) -> HistoryEntry | None:
    """The newest backup that succeeded (a restore drill is not a backup)."""
    for entry in reversed(entries):
        if entry.succeeded and not entry.is_drill:
            return entry
    return None
