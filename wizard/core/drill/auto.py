"""Automatic restore drills: gather what ``plan.plan_drills`` needs, run the due drills one at a time, and say
a failure through the owner's notices (``notify_failure(config, "restore_test", ...)``).

The window runs ``run_due`` on a worker thread of its own (wizard.ui.drill_panel); ``respaldos run`` uses
``DrillRunner``. Both check every CHECK_PERIOD (the first check FIRST_CHECK_DELAY after start, so that a
catch-up backup goes first), never start a drill while a backup, a restore or an upload runs, and cancel
a drill when a backup is about to start: the backup never waits behind a drill, and the cancelled drill
(recorded as cancelled, which does not count as done) runs at a later check. docs/drills.md.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from wizard.core import history, machine, ownership, state
from wizard.core.config import Config
from wizard.core.drill.plan import MONTH, Plan, PlannedDrill, plan_drills
from wizard.core.drill.result import DrillProgress, DrillResult
from wizard.core.drill.run import run_drill
from wizard.core.errors import UserError
from wizard.core.schedule import local_now

logger = logging.getLogger(__name__)

CHECK_PERIOD = timedelta(minutes=15)
FIRST_CHECK_DELAY = timedelta(minutes=3)
RETRY_AFTER = timedelta(days=1)  # a monthly drill that could not run (offline, no copy): tried again then
STATE_KEY = "restore_drills"  # wizard.core.state: when the monthly older and cloud drills were last decided


def extras_done() -> dict[str, datetime | None]:
    """When the monthly "older" and "cloud" drills were last decided (run, skipped or put off)."""
    raw = state.recall(STATE_KEY)
    done: dict[str, datetime | None] = {"older": None, "cloud": None}
    if isinstance(raw, dict):
        for kind in done:
            try:
                done[kind] = datetime.fromisoformat(str(raw[kind])) if raw.get(kind) else None
            except ValueError:
                done[kind] = None
    return done


def mark_done(kind: str, when: datetime) -> None:
    raw = state.recall(STATE_KEY)
    raw = dict(raw) if isinstance(raw, dict) else {}
    raw[kind] = when.replace(tzinfo=None).isoformat(timespec="seconds")
    state.remember(STATE_KEY, raw)


def kept_archives(config: Config, entries: list[history.HistoryEntry]) -> list[tuple[str, datetime]]:
    """This installation's backups in the destination (name, created), leaving out the safety backups made
    before a restore (they hold only what was overwritten). Empty when the folder is not there."""
    folder = Path(config.destination.folder).expanduser() if config.destination.folder else None
    if folder is None or not folder.is_dir():
        return []
    safety = {e.archive for e in entries if e.trigger == "before-restore" and e.archive}
    return [(a.name, a.created) for a in ownership.own_archives(folder, machine.current(config.machine.name))
            if a.name not in safety]


def _upload_speed(config: Config) -> float | None:
    if config.cloud.provider == "none":
        return None
    from wizard.core.cloud.queue import last_upload_speed

    try:
        return last_upload_speed()
    except Exception:  # an unreadable queue: the speed is simply unknown
        logger.info("last upload speed unknown", exc_info=True)
        return None


def current_plan(config: Config, now: datetime, *, backup_running: bool = False,
                 rng: random.Random | None = None) -> Plan:
    """The plan at ``now`` from the history, the destination, the upload queue and the state file."""
    entries = history.read()
    return plan_drills(now, entries, config.schedule, kept_archives(config, entries),
                       cloud=config.cloud.provider != "none", upload_speed=_upload_speed(config),
                       extras_done=extras_done(), backup_running=backup_running, rng=rng)


def newest_cloud_copy(config: Config) -> str | None:
    """The name of this installation's newest backup in the cloud (network; CloudError/UserError)."""
    from wizard.core.restore import list_cloud_backups

    mine = [c for c in list_cloud_backups(config) if c.mine]
    return max(mine, key=lambda c: c.created).name if mine else None


def say_failure(config: Config, result: DrillResult) -> None:
    """A failed drill is a failure: logged, and sent through the owner's notices when they are configured."""
    from wizard.core import notify

    logger.warning("restore drill failed: %s", result.sentence())
    notify.notify_failure(config, "restore_test", result.sentence(), datetime.now())


def run_planned(config: Config, plan: Plan, *, report: Callable[[DrillProgress], None] | None = None,
                cancel: threading.Event | None = None,
                on_start: Callable[[PlannedDrill], None] | None = None) -> list[DrillResult]:
    """Run the planned drills one after the other (stopping at a cancel); a failed one is said through the
    notices. Returns the results of those that ran."""
    cancel = cancel or threading.Event()
    now = datetime.now()
    for sentence in plan.skipped:
        logger.info("%s", sentence)
    for kind in plan.considered:
        mark_done(kind, now)
    folder = Path(config.destination.folder).expanduser()
    results: list[DrillResult] = []
    for planned in plan.drills:
        if cancel.is_set():
            break
        try:
            if planned.kind == "cloud":
                name = newest_cloud_copy(config)
                if name is None:
                    logger.info("monthly cloud drill: no backup of this installation in the cloud yet")
                    mark_done("cloud", now - MONTH + RETRY_AFTER)
                    continue
                planned = PlannedDrill(planned.kind, name, planned.why)
                if on_start is not None:
                    on_start(planned)
                result = run_drill(config, from_cloud=name, report=report, cancel=cancel)
            else:
                if on_start is not None:
                    on_start(planned)
                result = run_drill(config, folder / str(planned.archive), report=report, cancel=cancel)
        except UserError as exc:  # the archive went meanwhile, the cloud cannot be reached: not a failed backup
            logger.info("%s drill not run: %s", planned.kind, exc)
            if planned.kind != "newest":
                mark_done(planned.kind, now - MONTH + RETRY_AFTER)
            continue
        if result.cancelled:
            logger.info("drill of %s cancelled", result.archive)
            break
        logger.info("%s drill (%s): %s", planned.kind, planned.why, result.sentence())
        results.append(result)
        if planned.kind != "newest":
            mark_done(planned.kind, now)
        if not result.ok:
            say_failure(config, result)
    return results


def run_due(config: Config, now: datetime | None = None, *, report: Callable[[DrillProgress], None] | None = None,
            cancel: threading.Event | None = None, rng: random.Random | None = None,
            on_start: Callable[[PlannedDrill], None] | None = None) -> list[DrillResult]:
    """Plan at ``now`` and run what is due (the caller made sure no backup runs)."""
    plan = current_plan(config, now or local_now(), rng=rng)
    if plan.wait:
        logger.debug("drills due but not now: %s", plan.wait)
    if not plan.drills and not plan.considered:
        return []
    return run_planned(config, plan, report=report, cancel=cancel, on_start=on_start)


class DrillRunner:
    """The automatic drills of ``respaldos run``: ``maybe_start(config, busy=...)`` on every tick of its loop
    starts the due drills on a thread of their own, at most every ``period``; ``stop()`` cancels a drill in
    progress and waits until it ended (before a backup starts, and when the service stops)."""

    def __init__(self, *, clock: Callable[[], datetime] = local_now, period: timedelta = CHECK_PERIOD,
                 first_delay: timedelta = FIRST_CHECK_DELAY, rng: random.Random | None = None,
                 run: Callable[..., Any] = run_due):
        self._clock = clock
        self._period = period
        self._first_delay = first_delay
        self._rng = rng
        self._run = run
        self._due: datetime | None = None
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def maybe_start(self, config: Config, *, busy: bool = False) -> bool:
        """Start a check (and the drills it finds due) when one is due and nothing else runs."""
        with self._lock:
            now = self._clock()
            if self._due is None:
                self._due = now + self._first_delay
            if busy or self.running or now < self._due or config.schedule.test_restore == "off":
                return False
            self._due = now + self._period
            self._cancel = threading.Event()
            self._thread = threading.Thread(target=self._work, args=(config, now, self._cancel),
                                            name="respaldo-prueba", daemon=True)
            self._thread.start()
            return True

    def _work(self, config: Config, now: datetime, cancel: threading.Event) -> None:
        try:
            self._run(config, now, cancel=cancel, rng=self._rng)
        except Exception:
            logger.exception("automatic restore drill crashed")

    def stop(self, timeout: float | None = None) -> None:
        """Cancel a drill in progress and wait for it to end (its sandbox is removed on the way out)."""
        with self._lock:
            thread = self._thread
            self._cancel.set()
        if thread is not None and thread.is_alive():
            logger.info("cancelling the restore drill in progress")
            thread.join(timeout)
