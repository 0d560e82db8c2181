"""Automatic drills as ``respaldos run`` performs them (wizard.core.drill.auto in service.run_service): real
backups, real drills, the weekly/monthly choice and the quiet moment with the clock moved by time-machine."""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timedelta

import time_machine

from tests.helpers import make_sales_db
from wizard.core import config as config_mod
from wizard.core import history
from wizard.core.backup import run_backup
from wizard.core.config import Config, DestinationConfig, ScheduleConfig, SourceConfig
from wizard.core.drill import auto
from wizard.core.drill.auto import DrillRunner, run_due
from wizard.core.schedule import LOCAL
from wizard.core.service import run_service


def shop(tmp_path, test_restore: str = "weekly"):
    data = tmp_path / "datos"
    data.mkdir()
    make_sales_db(data / "punto_de_venta.db", rows=300)
    dest = tmp_path / "usb"
    dest.mkdir()
    config = Config(source=SourceConfig(paths=[str(data)]), destination=DestinationConfig(folder=str(dest)),
                    schedule=ScheduleConfig(frequency="daily", time="20:00", test_restore=test_restore))
    path = tmp_path / "respaldos.toml"
    config_mod.save(config, path)
    return path, config


def at(day: int, hhmm: str, month: int = 3) -> datetime:
    hh, mm = map(int, hhmm.split(":"))
    return datetime(2026, month, day, hh, mm, tzinfo=LOCAL)


def drills() -> list[history.HistoryEntry]:
    return [e for e in history.read() if e.trigger == "test-restore"]


def no_backup(cfg, *, trigger, cancel):
    raise AssertionError(f"no backup was due ({trigger})")


def service_round(config_path, rng=None) -> list[history.HistoryEntry]:
    """Start the service, let the drills' first check (at start) and what it ran end, stop it; the drills
    it recorded."""
    before = len(drills())
    checked = threading.Event()

    def run(config, now, **kwargs):
        try:
            return run_due(config, now, **kwargs)
        finally:
            checked.set()

    stop = threading.Event()
    runner = DrillRunner(first_delay=timedelta(0), rng=rng, run=run)
    thread = threading.Thread(target=run_service, args=(config_path, stop, no_backup),
                              kwargs={"tick_period": 0.01, "drills": runner})
    thread.start()
    try:
        assert checked.wait(60), "the service never checked for drills"
    finally:
        stop.set()
        thread.join(60)
    assert not thread.is_alive()
    return drills()[before:]


def test_respaldos_run_tests_the_newest_weekly_an_older_one_monthly_and_waits_for_a_quiet_moment(tmp_path):
    config_path, config = shop(tmp_path)
    with time_machine.travel(at(27, "20:00", month=2), tick=True) as clock:
        names = []
        for when in (at(27, "20:00", month=2), at(28, "20:00", month=2), at(1, "20:00")):
            clock.move_to(when)
            result = run_backup(config, trigger="scheduled")
            assert result.succeeded, result.message
            names.append(result.archive.name)
        newest = names[-1]

        clock.move_to(at(2, "10:00"))
        first = service_round(config_path, random.Random(3))
        assert [(e.archive, e.status) for e in first] == [
            (newest, "ok"), (random.Random(3).choice(sorted(names[:-1])), "ok")]
        assert "300 ventas" in first[0].message and first[0].drill["databases"][0]["tables"] == {"sales": 300}
        assert auto.extras_done()["older"] is not None

        clock.move_to(at(5, "10:00"))
        assert service_round(config_path) == []  # three days later: nothing
        clock.move_to(at(9, "10:05"))
        assert [e.archive for e in service_round(config_path)] == [newest]  # a week later: the newest only
        clock.move_to(at(16, "19:30"))
        assert service_round(config_path) == []  # due, but the backup of 20:00 is within the hour
        clock.move_to(at(16, "21:00"))
        assert [e.archive for e in service_round(config_path)] == [newest]

        config.schedule.test_restore = "monthly"
        config_mod.save(config, config_path)
        clock.move_to(at(24, "10:00"))
        assert service_round(config_path) == []  # monthly: eight days are not enough
        clock.move_to(at(16, "21:05", month=4))
        monthly = service_round(config_path, random.Random(5))
        assert [e.archive for e in monthly] == [newest, random.Random(5).choice(sorted(names[:-1]))]

        config.schedule.test_restore = "off"
        config_mod.save(config, config_path)
        clock.move_to(at(1, "10:00", month=6))
        runner = DrillRunner(first_delay=timedelta(0))
        assert not runner.maybe_start(config_mod.load(config_path))
    assert all(e.status == "ok" for e in drills())


def test_without_backups_nothing_is_tested_and_nothing_fails(tmp_path):
    _path, config = shop(tmp_path)
    assert run_due(config) == []
    assert drills() == []


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def test_a_backup_due_while_a_drill_runs_cancels_the_drill_and_starts_once_it_ended(tmp_path):
    config_path, _config = shop(tmp_path)
    clock = FakeClock(datetime.now(LOCAL).replace(hour=19, minute=59, second=50))
    events: list[str] = []
    drill_started = threading.Event()

    def slow_drill(config, now, *, cancel, rng=None):
        events.append("drill")
        drill_started.set()
        assert cancel.wait(20), "the drill was never cancelled"
        time.sleep(0.2)  # a drill takes a moment to stop (its sandbox is removed on the way out)
        events.append("drill cancelled")

    def backup(cfg, *, trigger, cancel):
        events.append(trigger)
        return type("Result", (), {"status": "ok"})()

    from wizard.core import state

    state.record_config_saved(config_path, clock.now - timedelta(hours=1))
    stop = threading.Event()
    runner = DrillRunner(clock=clock, first_delay=timedelta(0), run=slow_drill)
    thread = threading.Thread(target=run_service, args=(config_path, stop, backup),
                              kwargs={"tick_period": 0.01, "drills": runner, "clock": clock})
    thread.start()
    try:
        assert drill_started.wait(20)
        clock.now = clock.now.replace(hour=20, minute=0, second=5)
        deadline = time.monotonic() + 20
        while "scheduled" not in events and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(30)
    assert events == ["drill", "drill cancelled", "scheduled"]


def test_no_upload_starts_beside_a_drill_in_respaldos_run_it_waits_for_the_drill_to_end(tmp_path):
    config_path, config = shop(tmp_path)
    config.cloud.provider = "dropbox"
    config_mod.save(config, config_path)
    clock = FakeClock(datetime.now(LOCAL).replace(hour=10, minute=0))
    events: list[str] = []
    release = threading.Event()

    def drill(config, now, *, cancel, rng=None):
        events.append("drill")
        release.wait(20)
        events.append("drill ended")

    def sync(cfg, *, cancel):
        events.append("sync")

    stop = threading.Event()
    runner = DrillRunner(clock=clock, first_delay=timedelta(0), period=timedelta(hours=1), run=drill)
    thread = threading.Thread(target=run_service, args=(config_path, stop, no_backup),
                              kwargs={"tick_period": 0.01, "drills": runner, "clock": clock, "sync_fn": sync})
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while events != ["sync", "drill"] and time.monotonic() < deadline:
            time.sleep(0.01)
        clock.now += timedelta(minutes=16)  # the next upload pass is due while the drill runs
        time.sleep(0.3)
        assert events == ["sync", "drill"]
        release.set()
        while events[-1:] != ["sync"] and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        release.set()
        stop.set()
        thread.join(30)
    assert events == ["sync", "drill", "drill ended", "sync"]


def test_stopping_respaldos_run_cancels_a_drill_in_progress_and_waits_for_it(tmp_path):
    config_path, _config = shop(tmp_path)
    clock = FakeClock(datetime.now(LOCAL).replace(hour=10, minute=0))
    started, ended = threading.Event(), threading.Event()

    def drill(config, now, *, cancel, rng=None):
        started.set()
        assert cancel.wait(20), "the drill was never cancelled"
        time.sleep(0.2)
        ended.set()

    stop = threading.Event()
    runner = DrillRunner(clock=clock, first_delay=timedelta(0), run=drill)
    thread = threading.Thread(target=run_service, args=(config_path, stop, no_backup),
                              kwargs={"tick_period": 0.01, "drills": runner, "clock": clock})
    thread.start()
    assert started.wait(20)
    stop.set()
    thread.join(30)
    assert not thread.is_alive()
    assert ended.is_set()  # run_service returned only after the drill had stopped
