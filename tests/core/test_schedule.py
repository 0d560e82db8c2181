"""The schedule: pure next/previous/missed-run rules (DST included) and the loop around them.

No real waiting: the loop gets a fake clock that the test moves forward, ticking every 20 seconds.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from wizard.core import config as config_mod
from wizard.core import history, state
from wizard.core.config import WEEKDAYS, ScheduleConfig
from wizard.core.schedule import (
    LOCAL,
    BackupScheduler,
    describe,
    describe_overdue,
    format_next_run,
    interval,
    local_now,
    missed_run,
    next_run,
    overdue,
    previous_run,
)
from wizard.core.service import install_stop_signals, run_service

MADRID = ZoneInfo("Europe/Madrid")
CHICAGO = ZoneInfo("America/Chicago")
MEXICO = ZoneInfo("America/Mexico_City")
# 2026-11-23 is a Monday.
MONDAY = date(2026, 11, 23)


def at(day: date, hhmm: str, tz=MADRID, fold: int = 0, second: int = 0) -> datetime:
    hh, mm = map(int, hhmm.split(":"))
    return datetime(day.year, day.month, day.day, hh, mm, second, tzinfo=tz, fold=fold)


def daily(time: str = "20:00", catch_up: bool = True) -> ScheduleConfig:
    return ScheduleConfig(frequency="daily", time=time, catch_up=catch_up)


def weekly(*days: str, time: str = "20:00") -> ScheduleConfig:
    return ScheduleConfig(frequency="weekly", weekdays=list(days), time=time)


# ---------------------------------------------------------------------------------------------------
# next_run / previous_run


def test_daily_next_run_is_today_before_the_time_and_tomorrow_after_it():
    assert next_run(daily(), at(MONDAY, "19:59")) == at(MONDAY, "20:00")
    assert next_run(daily(), at(MONDAY, "20:01")) == at(MONDAY + timedelta(days=1), "20:00")


def test_next_run_is_strictly_after_now():
    assert next_run(daily(), at(MONDAY, "20:00")) == at(MONDAY + timedelta(days=1), "20:00")


def test_previous_run_includes_now():
    assert previous_run(daily(), at(MONDAY, "20:00")) == at(MONDAY, "20:00")
    assert previous_run(daily(), at(MONDAY, "19:59")) == at(MONDAY - timedelta(days=1), "20:00")


def test_weekly_friday_next_run_from_every_day_of_the_week():
    friday = MONDAY + timedelta(days=4)
    for offset in range(5):
        assert next_run(weekly("friday"), at(MONDAY + timedelta(days=offset), "12:00")) == at(friday, "20:00")
    assert next_run(weekly("friday"), at(friday, "20:00")) == at(friday + timedelta(days=7), "20:00")


def test_next_run_keeps_the_time_zone_of_now():
    when = next_run(daily("08:30"), at(MONDAY, "09:00", tz=MEXICO))
    assert when.tzinfo is MEXICO
    assert (when.hour, when.minute) == (8, 30)


def _reference_next(days: set[int], hh: int, mm: int, now: datetime) -> datetime:
    for i in range(9):
        day = now.date() + timedelta(days=i)
        candidate = datetime(day.year, day.month, day.day, hh, mm, tzinfo=now.tzinfo)
        if day.weekday() in days and candidate > now:
            return candidate
    raise AssertionError


def _reference_previous(days: set[int], hh: int, mm: int, now: datetime) -> datetime:
    for i in range(9):
        day = now.date() - timedelta(days=i)
        candidate = datetime(day.year, day.month, day.day, hh, mm, tzinfo=now.tzinfo)
        if day.weekday() in days and candidate <= now:
            return candidate
    raise AssertionError


ALL_WEEKDAY_SETS = [combo for n in range(1, 8) for combo in itertools.combinations(WEEKDAYS, n)]


@pytest.mark.parametrize("days", ALL_WEEKDAY_SETS, ids=lambda c: "+".join(d[:2] for d in c))
def test_weekly_next_and_previous_run_for_every_weekday_combination(days):
    sched = weekly(*days, time="07:15")
    indexes = {WEEKDAYS.index(d) for d in days}
    for offset in range(7):
        for hhmm in ("00:00", "07:14", "07:15", "07:16", "23:59"):
            now = at(MONDAY + timedelta(days=offset), hhmm, tz=UTC)
            assert next_run(sched, now) == _reference_next(indexes, 7, 15, now)
            assert previous_run(sched, now) == _reference_previous(indexes, 7, 15, now)


def test_weekly_with_all_seven_days_is_the_same_as_daily():
    now = at(MONDAY, "21:00")
    assert next_run(weekly(*WEEKDAYS), now) == next_run(daily(), now)


def test_naive_now_is_taken_as_local_time():
    now = datetime(2026, 11, 23, 19, 0)
    assert next_run(daily(), now) == datetime(2026, 11, 23, 20, 0, tzinfo=LOCAL)


# ---------------------------------------------------------------------------------------------------
# Daylight saving


@pytest.mark.parametrize("tz, day, skipped, first_valid", [
    (CHICAGO, date(2024, 3, 10), "02:30", "03:00"),
    (MADRID, date(2024, 3, 31), "02:30", "03:00"),
    (MEXICO, date(2022, 4, 3), "02:00", "03:00"),
    (MEXICO, date(2022, 4, 3), "02:59", "03:00"),
])
def test_a_time_that_does_not_exist_runs_at_the_first_valid_minute_after_it(tz, day, skipped, first_valid):
    sched = daily(skipped)
    when = next_run(sched, at(day, "00:00", tz=tz))
    assert when.replace(tzinfo=None) == at(day, first_valid, tz=None)
    assert when.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == at(day, first_valid, tz=None)
    # Once only: the next one is the normal time the day after.
    assert next_run(sched, when) == at(day + timedelta(days=1), skipped, tz=tz)


@pytest.mark.parametrize("tz, day", [
    (CHICAGO, date(2024, 11, 3)),
    (MADRID, date(2024, 10, 27)),
    (MEXICO, date(2022, 10, 30)),
])
def test_a_repeated_hour_runs_once_the_first_time(tz, day):
    hhmm = "02:30" if tz is MADRID else "01:30"
    sched = daily(hhmm)
    first = next_run(sched, at(day, "00:00", tz=tz))
    second_pass = at(day, hhmm, tz=tz, fold=1)
    assert first.astimezone(UTC) == at(day, hhmm, tz=tz, fold=0).astimezone(UTC)
    assert first.astimezone(UTC) < second_pass.astimezone(UTC)
    after = next_run(sched, first + timedelta(minutes=1))
    assert after.date() == day + timedelta(days=1)
    # During the second pass the last run is still the first one.
    assert previous_run(sched, second_pass).astimezone(UTC) == first.astimezone(UTC)


def test_the_computer_time_zone_follows_dst(monkeypatch):
    with time_machine.travel(datetime(2024, 11, 2, 12, 0, tzinfo=CHICAGO), tick=False):
        now = local_now()
        assert now.utcoffset() == timedelta(hours=-5)
        when = next_run(daily("01:30"), now + timedelta(days=1))
        assert when.utcoffset() == timedelta(hours=-6)
        spring = next_run(daily("02:30"), datetime(2024, 3, 10, 0, 0, tzinfo=LOCAL))
        assert spring.astimezone(UTC) == datetime(2024, 3, 10, 8, 0, tzinfo=UTC)


# ---------------------------------------------------------------------------------------------------
# missed_run and the watchdog


def test_missed_run_is_the_latest_time_after_the_last_success_and_the_save():
    now = at(MONDAY, "09:00")
    saved = at(MONDAY - timedelta(days=10), "12:00")
    last_ok = at(MONDAY - timedelta(days=4), "20:05")
    assert missed_run(daily(), last_ok, saved, now) == at(MONDAY - timedelta(days=1), "20:00")


def test_missed_run_is_none_when_the_config_was_saved_after_the_missed_time():
    now = at(MONDAY, "09:00")
    assert missed_run(daily(), None, at(MONDAY, "08:00"), now) is None
    assert missed_run(daily(), None, at(MONDAY - timedelta(days=1), "20:30"), now) is None


def test_missed_run_is_none_when_the_last_success_came_after_it():
    now = at(MONDAY, "09:00")
    assert missed_run(daily(), at(MONDAY - timedelta(days=1), "20:03"), None, now) is None


def test_missed_run_with_no_history_and_no_save_is_the_previous_time():
    assert missed_run(weekly("friday"), None, None, at(MONDAY, "09:00")) == at(MONDAY - timedelta(days=3), "20:00")


def test_interval_is_a_day_or_the_widest_weekday_gap():
    assert interval(daily()) == timedelta(days=1)
    assert interval(weekly("friday")) == timedelta(days=7)
    assert interval(weekly("monday", "wednesday", "friday")) == timedelta(days=3)
    assert interval(weekly("monday", "tuesday")) == timedelta(days=6)


@pytest.mark.parametrize("sched, limit", [
    (daily(), timedelta(days=2)),
    (weekly("friday"), timedelta(days=8)),
    (weekly("monday", "wednesday", "friday"), timedelta(days=4)),
])
def test_watchdog_warns_only_past_the_interval_plus_one_day(sched, limit):
    last_ok = at(MONDAY, "20:05")
    assert overdue(sched, last_ok, last_ok + limit) is None
    assert overdue(sched, last_ok, last_ok + limit + timedelta(minutes=1)) == limit + timedelta(minutes=1)


def test_watchdog_with_no_backup_ever_measures_from_since():
    now = at(MONDAY, "09:00")
    assert overdue(daily(), None, now) is None
    assert overdue(daily(), None, now, since=now - timedelta(days=3)) == timedelta(days=3)


def test_watchdog_sentence_says_how_many_days():
    assert describe_overdue(timedelta(days=3, hours=5)) == "Hace 3 días que no se hace un respaldo"


# ---------------------------------------------------------------------------------------------------
# Sentences


def test_describe_reads_like_a_sentence():
    assert describe(daily()) == "Todos los días a las 20:00"
    assert describe(weekly("friday")) == "Todos los viernes a las 20:00"
    assert describe(weekly("monday", "wednesday", "friday")) == "Los lunes, miércoles y viernes a las 20:00"
    assert describe(weekly("saturday", "sunday", time="09:30")) == "Los sábados y domingos a las 09:30"
    assert describe(weekly(*WEEKDAYS)) == "Todos los días a las 20:00"


def test_format_next_run_names_the_weekday_and_day_of_month():
    friday = at(MONDAY + timedelta(days=4), "20:00")
    assert format_next_run(friday, at(MONDAY, "10:00")) == "Próximo respaldo: viernes 27 a las 20:00"
    assert format_next_run(friday, at(MONDAY + timedelta(days=4), "10:00")) == "Próximo respaldo: hoy a las 20:00"
    assert format_next_run(friday, at(MONDAY + timedelta(days=3), "10:00")) == (
        "Próximo respaldo: mañana a las 20:00")


def test_format_next_run_shows_local_wall_time():
    when = next_run(daily(), at(MONDAY, "10:00"))
    assert format_next_run(when.astimezone(UTC), at(MONDAY, "10:00")) == "Próximo respaldo: hoy a las 20:00"


# ---------------------------------------------------------------------------------------------------
# The loop


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start
        self.reads = 0

    def __call__(self) -> datetime:
        self.reads += 1
        return self.now

    def set(self, when: datetime) -> None:
        self.now = when

    def advance(self, **delta) -> None:
        self.now = (self.now.astimezone(UTC) + timedelta(**delta)).astimezone(self.now.tzinfo)


@dataclass
class Run:
    trigger: str
    at: datetime


class Shop:
    """The app around a BackupScheduler: a worker that records what it was asked to run."""

    def __init__(self, sched: ScheduleConfig, start: datetime, *, last_success=None, config_saved=None,
                 destination_ready=None, record=None, catch_up_delay=timedelta(seconds=60), auto_finish=None):
        self.clock = FakeClock(start)
        self.auto_finish = auto_finish  # status every submitted run ends with, one tick later
        self.runs: list[Run] = []
        self.manual_running = False
        self.last_success = last_success
        self.config_saved = config_saved
        self.recorded: list[history.HistoryEntry] = []
        self.submit_error: Exception | None = None
        self.scheduler = BackupScheduler(
            sched, submit=self.submit, is_busy=lambda: self.manual_running, clock=self.clock,
            last_success=lambda: self.last_success, config_saved=lambda: self.config_saved,
            destination_ready=destination_ready, tick_period=20, catch_up_delay=catch_up_delay,
            record=record if record is not None else self.recorded.append,
        )

    def submit(self, trigger: str) -> None:
        if self.submit_error is not None:
            raise self.submit_error
        self.runs.append(Run(trigger, self.clock()))

    def finish(self, status: str = "ok", destination_missing: bool = False) -> None:
        if status in ("ok", "warning"):
            self.last_success = self.clock()
        self.scheduler.run_finished(status, destination_missing)

    def run_until(self, end: datetime, step: float = 20) -> None:
        while self.clock().astimezone(UTC) < end.astimezone(UTC):
            count = len(self.runs)
            self.clock.advance(seconds=step)
            self.scheduler.tick()
            if self.auto_finish and len(self.runs) > count:
                self.finish(self.auto_finish)

    def triggers(self) -> list[str]:
        return [r.trigger for r in self.runs]


def test_a_scheduled_backup_starts_at_the_chosen_minute_once():
    shop = Shop(daily(), at(MONDAY, "19:58"), last_success=at(MONDAY - timedelta(days=1), "20:01"))
    shop.scheduler.tick()
    shop.run_until(at(MONDAY, "20:10"))
    assert shop.triggers() == ["scheduled"]
    assert at(MONDAY, "20:00") <= shop.runs[0].at < at(MONDAY, "20:00", second=21)


def test_daily_schedule_runs_every_day_for_a_week():
    shop = Shop(daily("13:00"), at(MONDAY, "00:00"), config_saved=at(MONDAY, "00:00"), auto_finish="ok")
    shop.scheduler.tick()
    shop.run_until(at(MONDAY + timedelta(days=7), "00:00"), step=60)
    assert [r.at.date() for r in shop.runs] == [MONDAY + timedelta(days=i) for i in range(7)]
    assert all(r.at.hour == 13 and r.at.minute == 0 for r in shop.runs)


def test_weekly_schedule_runs_only_on_the_chosen_days():
    shop = Shop(weekly("monday", "wednesday", "friday"), at(MONDAY, "00:00"), config_saved=at(MONDAY, "00:00"),
                auto_finish="ok")
    shop.scheduler.tick()
    shop.run_until(at(MONDAY + timedelta(days=14), "00:00"), step=60)
    assert [r.at.strftime("%A") for r in shop.runs] == ["Monday", "Wednesday", "Friday"] * 2


def test_the_loop_runs_once_on_a_spring_forward_day_at_the_first_valid_minute():
    day = date(2024, 3, 10)
    shop = Shop(daily("02:30"), at(day - timedelta(days=1), "12:00", tz=CHICAGO),
                config_saved=at(day - timedelta(days=1), "12:00", tz=CHICAGO), auto_finish="ok")
    shop.scheduler.tick()
    shop.run_until(at(day + timedelta(days=1), "12:00", tz=CHICAGO))
    assert len(shop.runs) == 2
    assert shop.runs[0].at.astimezone(UTC) < datetime(2024, 3, 10, 8, 0, 21, tzinfo=UTC)
    assert shop.runs[0].at.astimezone(UTC) >= datetime(2024, 3, 10, 8, 0, tzinfo=UTC)  # 03:00 CDT
    assert shop.runs[1].at.replace(tzinfo=None).date() == date(2024, 3, 11)


def test_the_loop_runs_once_on_a_fall_back_day():
    day = date(2024, 10, 27)
    shop = Shop(daily("02:30"), at(day - timedelta(days=1), "12:00"), config_saved=at(day - timedelta(days=1), "12:00"),
                auto_finish="ok")
    shop.scheduler.tick()
    shop.run_until(at(day + timedelta(days=1), "12:00"))
    assert [r.at.date() for r in shop.runs] == [day, day + timedelta(days=1)]
    assert shop.runs[0].at.astimezone(UTC) < datetime(2024, 10, 27, 0, 31, tzinfo=UTC)  # 02:30 CEST


def test_catch_up_after_the_app_was_closed_runs_once_within_two_minutes():
    opened = at(MONDAY, "09:00")
    shop = Shop(daily(), opened, last_success=at(MONDAY - timedelta(days=4), "20:02"),
                config_saved=at(MONDAY - timedelta(days=30), "10:00"))
    shop.scheduler.tick()
    shop.run_until(at(MONDAY, "12:00"))
    assert shop.triggers() == ["catch-up"]
    assert shop.runs[0].at - opened <= timedelta(minutes=2)


def test_three_missed_days_give_one_catch_up_then_the_normal_schedule():
    shop = Shop(daily(), at(MONDAY, "09:00"), last_success=at(MONDAY - timedelta(days=3), "20:02"))
    shop.scheduler.tick()
    shop.run_until(at(MONDAY, "09:05"))
    shop.finish("ok")
    shop.run_until(at(MONDAY, "20:05"))
    assert shop.triggers() == ["catch-up", "scheduled"]


def test_no_catch_up_when_the_config_was_saved_after_the_missed_time():
    shop = Shop(daily(), at(MONDAY, "09:00"), config_saved=at(MONDAY, "08:00"))
    shop.scheduler.tick()
    shop.run_until(at(MONDAY, "12:00"))
    assert shop.runs == []


def test_no_catch_up_when_it_is_turned_off():
    shop = Shop(daily(catch_up=False), at(MONDAY, "09:00"), last_success=at(MONDAY - timedelta(days=3), "20:00"))
    shop.scheduler.tick()
    shop.run_until(at(MONDAY, "12:00"))
    assert shop.runs == []


def test_catch_up_after_the_computer_slept_through_the_time():
    shop = Shop(daily(), at(MONDAY, "19:00"), last_success=at(MONDAY - timedelta(days=1), "20:03"))
    shop.scheduler.tick()
    shop.run_until(at(MONDAY, "19:30"))
    shop.clock.set(at(MONDAY, "23:10"))  # asleep from 19:30 to 23:10
    shop.scheduler.tick()
    shop.run_until(at(MONDAY, "23:30"))
    assert shop.triggers() == ["catch-up"]
    assert shop.runs[0].at - at(MONDAY, "23:10") <= timedelta(minutes=2)


def test_sleeping_through_several_days_gives_one_catch_up():
    shop = Shop(daily(), at(MONDAY, "19:00"), last_success=at(MONDAY - timedelta(days=1), "20:03"))
    shop.scheduler.tick()
    shop.clock.set(at(MONDAY + timedelta(days=3), "08:00"))
    shop.scheduler.tick()
    shop.run_until(at(MONDAY + timedelta(days=3), "10:00"))
    assert shop.triggers() == ["catch-up"]


def test_sleeping_through_the_time_with_catch_up_off_runs_nothing_late():
    shop = Shop(daily(catch_up=False), at(MONDAY, "19:00"), auto_finish="ok")
    shop.scheduler.tick()
    shop.clock.set(at(MONDAY, "23:10"))
    shop.scheduler.tick()
    shop.run_until(at(MONDAY + timedelta(days=1), "20:01"))
    assert [(r.trigger, r.at.date()) for r in shop.runs] == [("scheduled", MONDAY + timedelta(days=1))]


def test_no_catch_up_after_waking_when_the_backup_already_ran():
    shop = Shop(daily(), at(MONDAY, "19:59"), last_success=at(MONDAY - timedelta(days=1), "20:03"))
    shop.scheduler.tick()
    shop.run_until(at(MONDAY, "20:01"))
    shop.finish("ok")
    shop.clock.set(at(MONDAY, "23:00"))
    shop.scheduler.tick()
    shop.run_until(at(MONDAY, "23:10"))
    assert shop.triggers() == ["scheduled"]


def test_a_scheduled_time_during_a_manual_backup_is_skipped_and_recorded_in_history():
    # The real history file (in the test's own data dir), as the app uses it.
    shop = Shop(daily(), at(MONDAY, "19:50"), last_success=at(MONDAY - timedelta(days=1), "20:01"),
                record=history.append)
    shop.scheduler.tick()
    shop.manual_running = True
    shop.run_until(at(MONDAY, "20:05"))
    shop.manual_running = False
    shop.last_success = at(MONDAY, "20:06")
    shop.scheduler.run_finished("ok", trigger="manual")
    shop.run_until(at(MONDAY, "21:00"))
    assert shop.runs == []
    entries = history.read()
    assert [(e.trigger, e.status) for e in entries] == [("scheduled", "skipped")]
    assert entries[0].message == "Ya hay un respaldo en curso."
    assert entries[0].start.tzinfo is None  # naive local time, like the engine's entries


def test_a_scheduled_backup_still_running_blocks_the_next_one():
    shop = Shop(daily("20:00"), at(MONDAY, "19:59"), last_success=at(MONDAY - timedelta(days=1), "20:01"))
    shop.scheduler.tick()
    shop.run_until(at(MONDAY + timedelta(days=1), "20:01"))  # never finishes
    assert shop.triggers() == ["scheduled"]
    assert [(e.trigger, e.status) for e in shop.recorded] == [("scheduled", "skipped")]


def test_destination_missing_is_retried_every_ten_minutes_until_it_is_back():
    shop = Shop(daily(), at(MONDAY, "19:59"), last_success=at(MONDAY - timedelta(days=1), "20:01"))
    shop.scheduler.tick()
    shop.run_until(at(MONDAY, "20:00", second=30))
    shop.finish("failed", destination_missing=True)
    for _ in range(3):
        before = len(shop.runs)
        shop.run_until(shop.clock() + timedelta(minutes=10, seconds=20))
        assert len(shop.runs) == before + 1
        shop.finish("failed", destination_missing=True)
    shop.run_until(shop.clock() + timedelta(minutes=10, seconds=20))
    shop.finish("ok")  # the USB disk is back
    shop.run_until(at(MONDAY, "23:00"))
    assert shop.triggers() == ["scheduled"] * 5
    gaps = [b.at - a.at for a, b in zip(shop.runs, shop.runs[1:])]
    assert all(timedelta(minutes=10) <= g <= timedelta(minutes=10, seconds=40) for g in gaps)


def test_destination_missing_retries_stop_at_the_next_scheduled_time():
    shop = Shop(daily(), at(MONDAY, "19:59"), last_success=at(MONDAY - timedelta(days=1), "20:01"))
    shop.scheduler.tick()
    next_slot = at(MONDAY + timedelta(days=1), "20:00")
    while shop.clock() < next_slot - timedelta(minutes=1):
        count = len(shop.runs)
        shop.run_until(shop.clock() + timedelta(seconds=20))
        if len(shop.runs) > count:
            shop.finish("failed", destination_missing=True)
    retries = [r for r in shop.runs[1:]]
    assert 140 <= len(retries) <= 144
    assert all(r.at < next_slot for r in retries)
    shop.run_until(next_slot + timedelta(minutes=30))
    last = shop.runs[-1]
    assert next_slot <= last.at < next_slot + timedelta(seconds=21)
    # The last retry came at 19:50; 20:00 is the scheduled run itself, not a retry on top of it.
    assert [r.at for r in shop.runs if r.at > next_slot - timedelta(minutes=10)] == [last.at]


def test_a_retry_waits_quietly_while_the_destination_is_still_missing():
    present = {"usb": False}
    shop = Shop(daily(), at(MONDAY, "19:59"), last_success=at(MONDAY - timedelta(days=1), "20:01"),
                destination_ready=lambda: present["usb"])
    shop.scheduler.tick()
    shop.run_until(at(MONDAY, "20:00", second=30))
    shop.finish("failed", destination_missing=True)
    shop.run_until(at(MONDAY, "20:45"))
    assert shop.triggers() == ["scheduled"]  # no run submitted while the disk is away
    present["usb"] = True
    shop.run_until(at(MONDAY, "21:00"))
    assert shop.triggers() == ["scheduled", "scheduled"]
    assert at(MONDAY, "20:50") <= shop.runs[1].at < at(MONDAY, "20:51")


def test_a_failure_that_is_not_a_missing_destination_is_not_retried():
    shop = Shop(daily(), at(MONDAY, "19:59"), last_success=at(MONDAY - timedelta(days=1), "20:01"))
    shop.scheduler.tick()
    shop.run_until(at(MONDAY, "20:01"))
    shop.finish("failed", destination_missing=False)
    shop.run_until(at(MONDAY, "23:00"))
    assert shop.triggers() == ["scheduled"]


def test_a_manual_run_with_the_usb_unplugged_starts_no_retries():
    shop = Shop(daily(), at(MONDAY, "10:00"), last_success=at(MONDAY - timedelta(days=1), "20:01"),
                config_saved=at(MONDAY, "10:00"))
    shop.scheduler.tick()
    shop.scheduler.run_finished("failed", True, trigger="manual")
    shop.run_until(at(MONDAY, "12:00"))
    assert shop.runs == []


def test_a_catch_up_with_the_usb_missing_is_retried_as_catch_up():
    shop = Shop(daily(), at(MONDAY, "09:00"), last_success=at(MONDAY - timedelta(days=2), "20:01"))
    shop.scheduler.tick()
    shop.run_until(at(MONDAY, "09:02"))
    shop.finish("failed", destination_missing=True)
    shop.run_until(at(MONDAY, "09:13"))
    assert shop.triggers() == ["catch-up", "catch-up"]


def test_a_job_that_raises_is_logged_and_rescheduled(caplog):
    shop = Shop(daily(), at(MONDAY, "19:59"), last_success=at(MONDAY - timedelta(days=1), "20:01"))
    shop.scheduler.tick()
    shop.submit_error = RuntimeError("worker is gone")
    with caplog.at_level(logging.ERROR, logger="wizard.core.schedule"):
        shop.run_until(at(MONDAY, "20:10"))
    assert "worker is gone" in caplog.text
    assert caplog.text.count("worker is gone") == 1  # not again on every tick
    shop.submit_error = None
    shop.run_until(at(MONDAY + timedelta(days=1), "20:01"))
    assert [(r.trigger, r.at.date()) for r in shop.runs] == [("scheduled", MONDAY + timedelta(days=1))]


def test_a_job_function_that_raises_inside_run_pending_does_not_fire_on_every_tick(caplog):
    shop = Shop(daily(), at(MONDAY, "19:59"), config_saved=at(MONDAY, "19:59"))
    calls = []

    def broken():
        calls.append(shop.clock())
        raise ValueError("boom")

    for job in shop.scheduler._scheduler.get_jobs():
        job.job_func = broken
    with caplog.at_level(logging.ERROR, logger="wizard.core.schedule"):
        shop.scheduler.tick()
        shop.run_until(at(MONDAY, "20:30"))
    assert len(calls) == 1
    assert "boom" in caplog.text
    assert shop.scheduler._scheduler.get_jobs()[0].next_run == at(MONDAY + timedelta(days=1), "20:00").astimezone(UTC)


def test_set_schedule_moves_the_next_backup():
    shop = Shop(daily("20:00"), at(MONDAY, "10:00"), config_saved=at(MONDAY, "10:00"))
    shop.scheduler.tick()
    shop.scheduler.set_schedule(daily("21:30"))
    assert shop.scheduler.next_run() == at(MONDAY, "21:30")
    shop.run_until(at(MONDAY, "22:00"))
    assert [r.at.strftime("%H:%M") for r in shop.runs] == ["21:30"]


def test_the_loop_uses_the_schedule_package_jobs():
    shop = Shop(weekly("monday", "friday"), at(MONDAY, "10:00"))
    jobs = shop.scheduler._scheduler.get_jobs()
    assert sorted(j.start_day for j in jobs) == ["friday", "monday"]
    assert all(j.at_time.strftime("%H:%M") == "20:00" for j in jobs)


# ---------------------------------------------------------------------------------------------------
# The headless service


@dataclass
class FakeResult:
    status: str
    archive: Path | None = None
    message: str = ""
    destination_missing: bool = False


def _service_config(tmp_path: Path, time: str = "20:00") -> Path:
    source = tmp_path / "datos"
    source.mkdir(exist_ok=True)
    dest = tmp_path / "respaldos"
    dest.mkdir(exist_ok=True)
    cfg = config_mod.Config(
        source=config_mod.SourceConfig(paths=[str(source)]),
        destination=config_mod.DestinationConfig(folder=str(dest)),
        schedule=ScheduleConfig(time=time),
    )
    path = tmp_path / "respaldos.toml"
    config_mod.save(cfg, path)
    return path


def _wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def _start_service(config_path, stop, fn, clock, **kw):
    result: dict = {}
    thread = threading.Thread(
        target=lambda: result.setdefault("code", run_service(config_path, stop, fn, tick_period=0.01,
                                                              clock=clock, **kw)))
    thread.start()
    # Moving the clock before the service made its jobs would move its start instead.
    assert _wait_for(lambda: clock.reads > 10)
    return thread, result


def test_run_service_runs_the_scheduled_backup_in_a_worker_and_stops_cleanly(tmp_path):
    config_path = _service_config(tmp_path)
    clock = FakeClock(at(MONDAY, "19:59", second=50))
    state.record_config_saved(config_path, at(MONDAY, "19:00"))
    calls = []

    def fake_backup(cfg, *, trigger, cancel):
        calls.append((cfg.destination.folder, trigger, cancel, threading.current_thread()))
        return FakeResult("ok")

    stop = threading.Event()
    thread, result = _start_service(config_path, stop, fake_backup, clock)
    try:
        assert not _wait_for(lambda: calls, timeout=0.3)
        clock.set(at(MONDAY, "20:00", second=5))
        assert _wait_for(lambda: calls)
    finally:
        stop.set()
        thread.join(10)
    assert result["code"] == 0
    folder, trigger, cancel, worker = calls[0]
    assert (folder, trigger) == (str(tmp_path / "respaldos"), "scheduled")
    assert cancel is stop
    assert worker is not thread


def test_run_service_catches_up_a_time_missed_while_it_was_not_running(tmp_path):
    config_path = _service_config(tmp_path)
    state.record_config_saved(config_path, at(MONDAY - timedelta(days=5), "10:00"))
    history.append(history.HistoryEntry(start=datetime(2026, 11, 20, 20, 0), end=datetime(2026, 11, 20, 20, 1),
                                        trigger="scheduled", status="ok"))
    clock = FakeClock(at(MONDAY, "09:00"))
    calls = []
    stop = threading.Event()
    thread, result = _start_service(config_path, stop, lambda cfg, *, trigger, cancel: calls.append(trigger),
                                    clock, catch_up_delay=timedelta(0))
    try:
        assert _wait_for(lambda: calls)
    finally:
        stop.set()
        thread.join(10)
    assert calls == ["catch-up"]
    assert result["code"] == 0


def test_stopping_the_service_cancels_the_backup_in_progress_and_waits_for_it(tmp_path):
    config_path = _service_config(tmp_path)
    state.record_config_saved(config_path, at(MONDAY, "19:00"))
    clock = FakeClock(at(MONDAY, "20:00", second=5) - timedelta(seconds=20))
    started, finished = threading.Event(), threading.Event()

    def slow_backup(cfg, *, trigger, cancel):
        started.set()
        assert cancel.wait(10), "the backup was never cancelled"
        finished.set()
        return FakeResult("cancelled")

    stop = threading.Event()
    thread, result = _start_service(config_path, stop, slow_backup, clock)
    clock.set(at(MONDAY, "20:00", second=5))
    assert started.wait(10)
    stop.set()
    thread.join(10)
    assert not thread.is_alive()
    assert finished.is_set()  # run_service returned only after the backup had ended
    assert result["code"] == 0


def test_run_service_follows_a_changed_config(tmp_path):
    config_path = _service_config(tmp_path, time="20:00")
    state.record_config_saved(config_path, at(MONDAY, "19:00"))
    clock = FakeClock(at(MONDAY, "19:00"))
    calls = []
    stop = threading.Event()
    thread, result = _start_service(config_path, stop, lambda cfg, *, trigger, cancel: calls.append(clock()), clock)
    try:
        cfg = config_mod.load(config_path)
        cfg.schedule.time = "21:00"
        config_mod.save(cfg, config_path)
        os.utime(config_path, ns=(config_path.stat().st_atime_ns, config_path.stat().st_mtime_ns + 10**9))
        time.sleep(0.2)  # a few ticks to notice the change
        clock.set(at(MONDAY, "20:00", second=5))
        assert not _wait_for(lambda: calls, timeout=0.2)
        clock.set(at(MONDAY, "21:00", second=5))
        assert _wait_for(lambda: calls)
    finally:
        stop.set()
        thread.join(10)
    assert result["code"] == 0


def test_run_service_retries_while_the_usb_disk_is_missing(tmp_path):
    config_path = _service_config(tmp_path)
    state.record_config_saved(config_path, at(MONDAY, "19:00"))
    dest = tmp_path / "respaldos"
    dest.rmdir()
    clock = FakeClock(at(MONDAY, "19:59", second=50))
    calls = []

    def backup(cfg, *, trigger, cancel):
        calls.append(clock())
        if not Path(cfg.destination.folder).is_dir():
            return FakeResult("failed", message="No se encontró la carpeta", destination_missing=True)
        return FakeResult("ok")

    stop = threading.Event()
    thread, result = _start_service(config_path, stop, backup, clock)
    try:
        clock.set(at(MONDAY, "20:00", second=5))
        assert _wait_for(lambda: len(calls) == 1)
        clock.set(at(MONDAY, "20:10", second=10))
        assert not _wait_for(lambda: len(calls) > 1, timeout=0.2)  # still unplugged: waits quietly
        dest.mkdir()
        clock.set(at(MONDAY, "20:20", second=15))
        assert _wait_for(lambda: len(calls) == 2)
    finally:
        stop.set()
        thread.join(10)
    assert result["code"] == 0


def test_install_stop_signals_sets_the_event_on_sigterm_and_can_be_undone():
    stop = threading.Event()
    before = signal.getsignal(signal.SIGTERM)
    restore = install_stop_signals(stop)
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(5)
    finally:
        restore()
    assert signal.getsignal(signal.SIGTERM) == before


def test_install_stop_signals_outside_the_main_thread_does_not_crash():
    outcome = []
    thread = threading.Thread(target=lambda: outcome.append(install_stop_signals(threading.Event())))
    thread.start()
    thread.join()
    assert callable(outcome[0])


def test_the_scheduler_modules_never_import_tkinter():
    code = ("import sys, wizard.core.schedule, wizard.core.state, wizard.core.autostart; "
            "sys.exit('tkinter' in sys.modules)")
    root = Path(__file__).resolve().parents[2]
    assert subprocess.run([sys.executable, "-c", code], cwd=root, check=False).returncode == 0


def _cloud_config(tmp_path: Path, provider: str) -> Path:
    path = _service_config(tmp_path)
    cfg = config_mod.load(path)
    cfg.cloud.provider = provider
    config_mod.save(cfg, path)
    return path


def test_run_service_uploads_pending_cloud_copies_at_start_and_every_15_minutes(tmp_path):
    config_path = _cloud_config(tmp_path, "dropbox")
    state.record_config_saved(config_path, at(MONDAY, "10:00"))
    clock = FakeClock(at(MONDAY, "10:00"))
    syncs = []

    def sync(cfg, *, cancel):
        syncs.append((clock(), cfg.cloud.provider, cancel))

    stop = threading.Event()
    thread, result = _start_service(config_path, stop, lambda cfg, *, trigger, cancel: FakeResult("ok"), clock,
                                    sync_fn=sync)
    try:
        assert _wait_for(lambda: len(syncs) == 1)
        clock.set(at(MONDAY, "10:14"))
        assert not _wait_for(lambda: len(syncs) > 1, timeout=0.2)
        clock.set(at(MONDAY, "10:15", second=1))
        assert _wait_for(lambda: len(syncs) == 2)
    finally:
        stop.set()
        thread.join(10)
    assert result["code"] == 0
    assert [s[1] for s in syncs] == ["dropbox", "dropbox"]
    assert syncs[0][2] is stop  # Ctrl+C cancels an upload in progress too


def test_run_service_never_syncs_while_a_backup_runs_and_a_slow_sync_never_delays_a_backup(tmp_path):
    config_path = _cloud_config(tmp_path, "dropbox")
    state.record_config_saved(config_path, at(MONDAY, "19:00"))
    clock = FakeClock(at(MONDAY, "19:59", second=50))
    events = []
    sync_may_end = threading.Event()

    def sync(cfg, *, cancel):
        events.append("sync")
        sync_may_end.wait(10)

    def backup(cfg, *, trigger, cancel):
        events.append(trigger)
        return FakeResult("ok")

    stop = threading.Event()
    thread, result = _start_service(config_path, stop, backup, clock, sync_fn=sync)
    try:
        assert _wait_for(lambda: events == ["sync"])
        clock.set(at(MONDAY, "20:00", second=5))  # the sync is still uploading
        assert _wait_for(lambda: events == ["sync", "scheduled"])
    finally:
        sync_may_end.set()
        stop.set()
        thread.join(10)
    assert result["code"] == 0


def test_run_service_does_not_sync_without_a_cloud_provider(tmp_path):
    config_path = _cloud_config(tmp_path, "none")
    clock = FakeClock(at(MONDAY, "10:00"))
    syncs = []
    stop = threading.Event()
    thread, result = _start_service(config_path, stop, lambda cfg, *, trigger, cancel: FakeResult("ok"), clock,
                                    sync_fn=lambda cfg, *, cancel: syncs.append(cfg))
    try:
        clock.set(at(MONDAY, "11:00"))
        assert not _wait_for(lambda: syncs, timeout=0.3)
    finally:
        stop.set()
        thread.join(10)
    assert result["code"] == 0
