"""When backups run: pure next-run / missed-run logic, and the thin loop that acts on it.

The pure functions take the time as an argument and work in the time zone of that argument, so they are
right across daylight-saving changes: a wall time that does not exist that day (spring forward) runs
once at the first valid minute after it; a wall time that happens twice (fall back) runs once, the
first time. The window's "Próximo respaldo" and the scheduler use the same ``next_run``.

``BackupScheduler`` ticks a private ``schedule.Scheduler`` (from the Tk thread with ``after()`` or from
a thread), hands due backups to the caller's worker through ``submit(trigger)``, runs one catch-up after
start or wake for a time missed while closed or asleep, retries every 10 minutes while the destination
(a USB disk) is missing, and never starts a backup while another one runs. ``respaldos run`` (no window)
drives it from wizard/core/service.py.
"""

from __future__ import annotations

import logging
import threading
import time as _time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path

import schedule as schedule_lib

from wizard.core import history, state
from wizard.core.config import WEEKDAYS, ScheduleConfig
from wizard.i18n import _, ngettext

logger = logging.getLogger(__name__)

TICK_PERIOD = 20.0  # seconds between ticks; a due backup starts at most this late
RETRY_INTERVAL = timedelta(minutes=10)  # while the destination is missing
CATCH_UP_DELAY = timedelta(seconds=60)  # after start or wake, so a USB disk has time to mount
_EPOCH = datetime(1970, 1, 1)


class SystemLocalZone(tzinfo):
    """The computer's own time zone, daylight-saving rules included, as the C library knows it.

    ``datetime.now().astimezone()`` gives only a fixed offset, which is wrong on the other side of a
    DST change; zoneinfo needs an IANA name that Windows does not have. This asks the OS instead.
    """

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        if dt is None:
            return None
        wall = dt.replace(tzinfo=None)
        # Naive .timestamp() treats the value as local time and honours fold (PEP 495).
        return timedelta(seconds=round((wall - _EPOCH).total_seconds() - wall.timestamp()))

    def dst(self, dt: datetime | None) -> timedelta | None:
        return None

    def tzname(self, dt: datetime | None) -> str | None:
        if dt is None:
            return None
        return _time.strftime("%Z", _time.localtime(dt.replace(tzinfo=None).timestamp()))

    def fromutc(self, dt: datetime) -> datetime:
        seconds = (dt.replace(tzinfo=None) - _EPOCH).total_seconds()
        # fromtimestamp sets fold=1 on the second pass through a repeated hour.
        return datetime.fromtimestamp(seconds).replace(tzinfo=self)

    def __repr__(self) -> str:
        return "SystemLocalZone()"


LOCAL = SystemLocalZone()


def local_now() -> datetime:
    """Now, tz-aware in the computer's time zone (the scheduler's default clock)."""
    return datetime.now(LOCAL)


def _aware(dt: datetime) -> datetime:
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=LOCAL)


def _utc(dt: datetime) -> datetime:
    # Aware datetimes that share a tzinfo compare by wall time, ignoring fold: compare in UTC.
    return _aware(dt).astimezone(UTC)


# ---------------------------------------------------------------------------------------------------
# Pure functions


def _weekday_indexes(sched: ScheduleConfig) -> list[int]:
    if sched.frequency == "daily":
        return list(range(7))
    days = sorted({WEEKDAYS.index(d) for d in sched.weekdays})
    if not days:
        raise ValueError("a weekly schedule needs at least one weekday")
    return days


def _hour_minute(sched: ScheduleConfig) -> tuple[int, int]:
    hh, mm = sched.time.split(":")
    return int(hh), int(mm)


def _occurrence(day: date, at: time, tz: tzinfo) -> datetime:
    """The instant of wall time ``at`` on ``day`` in ``tz``: the first one if it happens twice, the
    first valid minute after it if it does not exist."""
    wall = datetime.combine(day, at)
    first = wall.replace(tzinfo=tz, fold=0)
    back = first.astimezone(UTC).astimezone(tz)
    if back.replace(tzinfo=None) == wall:
        return back
    # In a gap. fold=0 reads it with the offset before the change, fold=1 with the one after; the
    # change lies between those two instants. Find the first whole minute whose wall time is >= ``wall``.
    a = _utc(first)
    b = _utc(wall.replace(tzinfo=tz, fold=1))
    lo_minute = int(min(a, b).timestamp() // 60)
    hi_minute = int(-(-max(a, b).timestamp() // 60))
    while lo_minute < hi_minute:
        mid = (lo_minute + hi_minute) // 2
        local = datetime.fromtimestamp(mid * 60, UTC).astimezone(tz)
        if local.replace(tzinfo=None) >= wall:
            hi_minute = mid
        else:
            lo_minute = mid + 1
    return datetime.fromtimestamp(hi_minute * 60, UTC).astimezone(tz)


def _occurrences(sched: ScheduleConfig, tz: tzinfo, first_day: date, days: int, step: int):
    weekdays = _weekday_indexes(sched)
    hh, mm = _hour_minute(sched)
    at = time(hh, mm)
    for i in range(days):
        day = first_day + timedelta(days=i * step)
        if day.weekday() in weekdays:
            yield _occurrence(day, at, tz)


def next_run(schedule: ScheduleConfig, now: datetime) -> datetime:
    """The next scheduled time strictly after ``now``, in ``now``'s time zone (naive = local)."""
    now = _aware(now)
    tz = now.tzinfo
    assert tz is not None
    now_utc = _utc(now)
    # Start a day early: a gap at midnight can push yesterday's time into today.
    for when in _occurrences(schedule, tz, now.date() - timedelta(days=1), 10, 1):
        if _utc(when) > now_utc:
            return when
    raise AssertionError("no scheduled time within 10 days")  # pragma: no cover


def previous_run(schedule: ScheduleConfig, now: datetime) -> datetime:
    """The latest scheduled time at or before ``now``, in ``now``'s time zone (naive = local)."""
    now = _aware(now)
    tz = now.tzinfo
    assert tz is not None
    now_utc = _utc(now)
    for when in _occurrences(schedule, tz, now.date() + timedelta(days=1), 10, -1):
        if _utc(when) <= now_utc:
            return when
    raise AssertionError("no scheduled time within 10 days")  # pragma: no cover


def missed_run(
    schedule: ScheduleConfig, last_success: datetime | None, config_saved: datetime | None, now: datetime
) -> datetime | None:
    """The scheduled time a catch-up should make up for, or None.

    That is the latest scheduled time before ``now`` that came after both the last successful backup
    and the last save of the config. Only the latest counts: three missed days give one catch-up.
    Whether catch-up is on (``schedule.catch_up``) is the caller's business.
    """
    slot = previous_run(schedule, now)
    if _utc(slot) >= _utc(now):
        return None
    for after in (last_success, config_saved):
        if after is not None and _utc(slot) <= _utc(after):
            return None
    return slot


def interval(schedule: ScheduleConfig) -> timedelta:
    """The longest time between two scheduled runs: a day when daily, the widest weekday gap when weekly."""
    days = _weekday_indexes(schedule)
    gaps = [(days[(i + 1) % len(days)] - d) % 7 or 7 for i, d in enumerate(days)]
    return timedelta(days=max(gaps))


def overdue(
    schedule: ScheduleConfig, last_success: datetime | None, now: datetime, *, since: datetime | None = None
) -> timedelta | None:
    """How long since the last successful backup, when that is longer than the interval plus one day.

    None means all is well. With no successful backup at all, ``since`` (e.g. when the config was first
    saved) is the reference; without it there is nothing to measure and the result is None.
    """
    reference = last_success if last_success is not None else since
    if reference is None:
        return None
    elapsed = _utc(now) - _utc(reference)
    if elapsed > interval(schedule) + timedelta(days=1):
        return elapsed
    return None


def describe_overdue(elapsed: timedelta) -> str:
    """The watchdog warning: "Hace 3 días que no se hace un respaldo"."""
    days = elapsed.days
    return ngettext("Hace {n} día que no se hace un respaldo", "Hace {n} días que no se hace un respaldo",
                    days).format(n=days)


def _every_weekday_sentence(index: int) -> str:
    # One whole sentence per day so each language can say "every Friday" its own way.
    return (
        _("Todos los lunes a las {time}"),
        _("Todos los martes a las {time}"),
        _("Todos los miércoles a las {time}"),
        _("Todos los jueves a las {time}"),
        _("Todos los viernes a las {time}"),
        _("Todos los sábados a las {time}"),
        _("Todos los domingos a las {time}"),
    )[index]


def _plural_weekday(index: int) -> str:
    return (_("lunes"), _("martes"), _("miércoles"), _("jueves"), _("viernes"), _("sábados"),
            _("domingos"))[index]


def describe(schedule: ScheduleConfig) -> str:
    """The schedule as a sentence: "Los lunes, miércoles y viernes a las 20:00"."""
    days = _weekday_indexes(schedule)
    if len(days) == 7:
        return _("Todos los días a las {time}").format(time=schedule.time)
    if len(days) == 1:
        return _every_weekday_sentence(days[0]).format(time=schedule.time)
    names = [_plural_weekday(d) for d in days]
    listed = _("{first} y {last}").format(first=", ".join(names[:-1]), last=names[-1])
    return _("Los {days} a las {time}").format(days=listed, time=schedule.time)


def format_next_run(dt: datetime, now: datetime) -> str:
    """ "Próximo respaldo: viernes 28 a las 20:00" ("hoy" / "mañana" when it is that close)."""
    now = _aware(now)
    local = _aware(dt).astimezone(now.tzinfo)
    hhmm = local.strftime("%H:%M")
    days_ahead = (local.date() - now.date()).days
    if days_ahead == 0:
        return _("Próximo respaldo: hoy a las {time}").format(time=hhmm)
    if days_ahead == 1:
        return _("Próximo respaldo: mañana a las {time}").format(time=hhmm)
    sentence = (
        _("Próximo respaldo: lunes {day} a las {time}"),
        _("Próximo respaldo: martes {day} a las {time}"),
        _("Próximo respaldo: miércoles {day} a las {time}"),
        _("Próximo respaldo: jueves {day} a las {time}"),
        _("Próximo respaldo: viernes {day} a las {time}"),
        _("Próximo respaldo: sábado {day} a las {time}"),
        _("Próximo respaldo: domingo {day} a las {time}"),
    )[local.weekday()]
    return sentence.format(day=local.day, time=hhmm)


# ---------------------------------------------------------------------------------------------------
# The loop


class _SlotJob(schedule_lib.Job):
    """A ``schedule`` job whose next time comes from ``next_run`` on the scheduler's own clock.

    ``schedule`` computes next times on naive wall clock time, which goes wrong across DST changes,
    and reads the real clock; these two methods are the only ones it uses to decide when a job runs.
    ``next_run`` holds a UTC-aware datetime.
    """

    def __init__(self, scheduler: schedule_lib.Scheduler, sub_schedule: ScheduleConfig,
                 clock: Callable[[], datetime], not_before: Callable[[], datetime | None]):
        super().__init__(1, scheduler)
        self.sub_schedule = sub_schedule
        self._clock = clock
        self._not_before = not_before

    @property
    def should_run(self) -> bool:
        return self.next_run is not None and _utc(self._clock()) >= self.next_run

    def _schedule_next_run(self) -> None:
        now = _aware(self._clock())
        floor = self._not_before()
        # Never schedule a time already handled, even if the clock was set back.
        if floor is not None and _utc(floor) > _utc(now):
            now = floor.astimezone(now.tzinfo)
        self.next_run = _utc(next_run(self.sub_schedule, now))


class BackupScheduler:
    """Decides when backups run; the caller's worker runs them.

    Call ``tick()`` every ``tick_period`` seconds (Tk ``after()`` or a thread; each tick is quick and
    does no I/O except reading the history and config times after start or wake). When a backup is due
    it calls ``submit(trigger)`` with "scheduled" or "catch-up": that must hand the backup to the worker
    and return at once. When that run ends (and after any other run, e.g. F8) the caller reports it with
    ``run_finished(status, destination_missing)``. ``is_busy()`` says whether a backup is running now.

    ``clock`` returns tz-aware now (default: the computer's zone); ``last_success`` and ``config_saved``
    default to the history file and the state file of ``config_path``. ``destination_ready`` (optional)
    lets a USB retry wait quietly instead of logging another failed run while the disk is still missing.
    """

    def __init__(
        self,
        schedule: ScheduleConfig,
        *,
        submit: Callable[[str], None],
        is_busy: Callable[[], bool] = lambda: False,
        clock: Callable[[], datetime] = local_now,
        config_path: Path | str | None = None,
        last_success: Callable[[], datetime | None] | None = None,
        config_saved: Callable[[], datetime | None] | None = None,
        destination_ready: Callable[[], bool] | None = None,
        tick_period: float = TICK_PERIOD,
        catch_up_delay: timedelta = CATCH_UP_DELAY,
        record: Callable[[history.HistoryEntry], None] | None = None,
    ):
        self._submit = submit
        self._is_busy = is_busy
        self._clock = clock
        self._last_success = last_success or _last_success_from_history
        if config_saved is None:
            config_saved = (lambda: state.config_saved_at(config_path)) if config_path else (lambda: None)
        self._config_saved = config_saved
        self._destination_ready = destination_ready
        self.tick_period = tick_period
        self._catch_up_delay = catch_up_delay
        self._record = record or history.append
        # A gap this long between two ticks means the computer slept (or the process was stopped).
        self._wake_gap = timedelta(seconds=max(4 * tick_period, 60.0))
        # A scheduled time found later than this is a missed one: catch-up rules decide, not the job.
        self._late_limit = self._wake_gap

        self._lock = threading.RLock()
        self._scheduler = schedule_lib.Scheduler()
        self._schedule = schedule
        self._last_tick: datetime | None = None
        self._handled_slot: datetime | None = None  # UTC; newest scheduled time already acted on
        self._catch_up_at: datetime | None = None
        self._in_flight: str | None = None  # trigger of the run we submitted and that has not finished
        self._retry_at: datetime | None = None
        self._retry_until: datetime | None = None
        self._retry_trigger = "scheduled"
        self._build_jobs()

    # -- configuration ---------------------------------------------------------------------------

    @property
    def schedule(self) -> ScheduleConfig:
        return self._schedule

    def set_schedule(self, schedule: ScheduleConfig) -> None:
        """Use a new schedule (after the user saved the config). Pending retries keep going."""
        with self._lock:
            self._schedule = schedule
            self._build_jobs()
            now = self._clock()
            if self._retry_until is not None:
                self._retry_until = _utc(next_run(schedule, now))
            logger.info("schedule changed: %s", describe(schedule))

    def _build_jobs(self) -> None:
        self._scheduler.clear()
        sched = self._schedule
        if sched.frequency == "daily":
            subs = [("day", replace(sched, frequency="daily", weekdays=[]))]
        else:
            subs = [(d, replace(sched, frequency="weekly", weekdays=[d])) for d in sched.weekdays]
        for unit, sub in subs:
            job = _SlotJob(self._scheduler, sub, self._clock, lambda: self._handled_slot)
            getattr(job, unit).at(sched.time).do(self._on_job_due, job)

    def next_run(self) -> datetime:
        """When the next scheduled backup will start, in the clock's time zone."""
        return next_run(self._schedule, self._clock())

    # -- the tick --------------------------------------------------------------------------------

    def tick(self) -> None:
        """Start whatever is due now. Never raises; never blocks on a backup."""
        with self._lock:
            try:
                self._tick(_aware(self._clock()))
            except Exception:
                logger.exception("scheduler tick failed")

    def _tick(self, now: datetime) -> None:
        previous = self._last_tick
        self._last_tick = now
        if previous is None:
            self._look_for_missed(now, "start")
        elif abs(_utc(now) - _utc(previous)) > self._wake_gap:
            logger.info("clock jumped from %s to %s (sleep or wake)", previous.isoformat(timespec="seconds"),
                        now.isoformat(timespec="seconds"))
            self._look_for_missed(now, "wake")
        if self._catch_up_at is not None and _utc(now) >= self._catch_up_at:
            self._catch_up_at = None
            self._fire("catch-up", now)
        self._maybe_retry(now)
        try:
            self._scheduler.run_pending()
        except Exception:
            # schedule leaves a job that raised unscheduled, so it would fire on every tick.
            logger.exception("scheduled job failed")
            for job in self._scheduler.get_jobs():
                if job.should_run:
                    job._schedule_next_run()

    def _look_for_missed(self, now: datetime, why: str) -> None:
        if not self._schedule.catch_up:
            return
        try:
            last_success = self._last_success()
            saved = self._config_saved()
        except Exception:
            logger.exception("could not read the last backup or config times; no catch-up check")
            return
        slot = missed_run(self._schedule, last_success, saved, now)
        if slot is None or self._already_handled(slot):
            return
        self._handled_slot = _utc(slot)
        self._catch_up_at = _utc(now) + self._catch_up_delay
        logger.info("missed the backup of %s (found at %s); catch-up at %s", slot.isoformat(timespec="minutes"),
                    why, self._catch_up_at.astimezone(now.tzinfo).isoformat(timespec="seconds"))

    def _already_handled(self, slot: datetime) -> bool:
        return self._handled_slot is not None and _utc(slot) <= self._handled_slot

    def _on_job_due(self, job: _SlotJob) -> None:
        # Runs inside run_pending; must not raise or schedule would not reschedule the job.
        try:
            slot = job.next_run
            now = _aware(self._clock())
            if self._already_handled(slot):
                return
            self._handled_slot = slot
            late = _utc(now) - slot
            if late > self._late_limit:
                logger.info("backup of %s missed by %s; left to catch-up", slot.isoformat(timespec="minutes"), late)
                return
            self._fire("scheduled", now)
        except Exception:
            logger.exception("scheduled backup could not be started")

    def _busy(self) -> bool:
        return self._in_flight is not None or bool(self._is_busy())

    def _fire(self, trigger: str, now: datetime, *, retry: bool = False) -> None:
        if self._busy():
            logger.info("%s backup skipped: another backup is running", trigger)
            try:
                # Naive local time, like the entries the engine writes.
                wall = now.astimezone(LOCAL).replace(tzinfo=None)
                self._record(history.HistoryEntry(start=wall, end=wall, trigger=trigger, status="skipped",
                                                  message=_("Ya hay un respaldo en curso.")))
            except Exception:
                logger.exception("could not record the skipped backup")
            return
        self._in_flight = trigger
        if not retry:
            # A new scheduled or catch-up run replaces any pending retry.
            self._retry_at = self._retry_until = None
        logger.info("starting %s backup", trigger)
        try:
            self._submit(trigger)
        except Exception:
            self._in_flight = None
            logger.exception("could not hand the %s backup to the worker", trigger)

    def _maybe_retry(self, now: datetime) -> None:
        if self._retry_at is None or _utc(now) < self._retry_at:
            return
        if self._retry_until is not None and _utc(now) >= self._retry_until:
            logger.info("no more retries: the next scheduled backup is due")
            self._retry_at = self._retry_until = None
            return
        if self._busy():
            self._retry_at = _utc(now) + RETRY_INTERVAL
            return
        if self._destination_ready is not None:
            try:
                ready = self._destination_ready()
            except Exception:
                logger.exception("destination check failed")
                ready = True
            if not ready:
                logger.info("destination still missing; next try in %s", RETRY_INTERVAL)
                self._retry_at = _utc(now) + RETRY_INTERVAL
                self._drop_retry_past_next_slot()
                return
        # The run sets the next retry through run_finished if the disk is still missing.
        self._retry_at = None
        self._fire(self._retry_trigger, now, retry=True)

    def _drop_retry_past_next_slot(self) -> None:
        if self._retry_at is not None and self._retry_until is not None and self._retry_at >= self._retry_until:
            self._retry_at = self._retry_until = None

    # -- outcomes --------------------------------------------------------------------------------

    def run_finished(self, status: str, destination_missing: bool = False, now: datetime | None = None,
                     *, trigger: str | None = None) -> None:
        """Tell the scheduler a backup ended (any backup: pass ``trigger="manual"`` for F8).

        A success stops any retry. A run of ours that failed because the destination was missing is
        retried every 10 minutes until it succeeds or the next scheduled time comes.
        """
        with self._lock:
            now = _aware(now or self._clock())
            ours = None
            if trigger != "manual":
                ours, self._in_flight = self._in_flight, None
            if status in ("ok", "warning"):
                self._retry_at = self._retry_until = None
                return
            if not destination_missing:
                if ours is not None:
                    self._retry_at = self._retry_until = None
                return
            if ours is None and self._retry_at is None:
                return  # a manual run with the USB unplugged: the user is there and sees it
            if ours is not None:
                self._retry_trigger = ours
            if self._retry_until is None:
                self._retry_until = _utc(next_run(self._schedule, now))
            self._retry_at = _utc(now) + RETRY_INTERVAL
            self._drop_retry_past_next_slot()
            if self._retry_at is not None:
                logger.info("destination missing; retry at %s",
                            self._retry_at.astimezone(now.tzinfo).isoformat(timespec="minutes"))

    @property
    def retry_at(self) -> datetime | None:
        """When the next USB retry is due (UTC), or None."""
        return self._retry_at

    def run_forever(self, stop: threading.Event) -> None:
        """Tick every ``tick_period`` seconds until ``stop`` is set (for a thread or ``respaldos run``)."""
        while not stop.is_set():
            self.tick()
            stop.wait(self.tick_period)


def _last_success_from_history() -> datetime | None:
    entry = history.last_success(history.read())
    return entry.end if entry is not None else None
