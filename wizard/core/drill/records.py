"""Drills in the run history: one entry per drill (trigger ``test-restore``, its figures in ``drill``), and
what the window, the schedule and the restore dialog read back from it."""

from __future__ import annotations

from datetime import datetime

from wizard.core import history
from wizard.core.drill.result import DrillResult

TRIGGER = "test-restore"


def status_of(result: DrillResult) -> str:
    if result.cancelled:
        return "cancelled"
    return "ok" if result.ok else "failed"


def record(result: DrillResult, *, trigger: str = TRIGGER, now: datetime | None = None) -> history.HistoryEntry:
    """Append the drill to the history (status ok / failed / cancelled, the sentence, the figures)."""
    entry = history.HistoryEntry(
        start=result.when, end=now or datetime.now(), trigger=trigger, status=status_of(result),
        archive=result.archive or None, duration=result.seconds, message=result.sentence(),
        verified=result.ok, drill=result.to_dict())
    history.append(entry)
    return entry


def latest_drills(entries: list[history.HistoryEntry]) -> list[history.HistoryEntry]:
    """The drills in the history, newest first."""
    return [e for e in reversed(entries) if e.is_drill]


def last_drill(entries: list[history.HistoryEntry]) -> history.HistoryEntry | None:
    """The newest drill that ran to its end (passed or failed; a cancelled one says nothing)."""
    for entry in latest_drills(entries):
        if entry.status != "cancelled":
            return entry
    return None


def passed_archives(entries: list[history.HistoryEntry]) -> set[str]:
    """Names of the archives whose latest finished drill passed."""
    verdict: dict[str, bool] = {}
    for entry in latest_drills(entries):
        if entry.archive and entry.status != "cancelled" and entry.archive not in verdict:
            verdict[entry.archive] = entry.status == "ok"
    return {name for name, passed in verdict.items() if passed}


def result_of(entry: history.HistoryEntry) -> DrillResult:
    """The drill an entry recorded, as a DrillResult (for the window's line)."""
    if entry.drill is not None:
        result = DrillResult.from_dict(entry.drill, when=entry.start)
    else:
        result = DrillResult(archive=entry.archive or "", ok=entry.status == "ok", seconds=entry.duration,
                             problem=None if entry.status == "ok" else entry.message, when=entry.start)
    result.cancelled = entry.status == "cancelled"
    return result
