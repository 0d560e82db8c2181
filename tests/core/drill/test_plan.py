"""Which drills are due (wizard.core.drill.plan): fixed times, a seeded Random, no files."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import pytest

from wizard.core.config import ScheduleConfig
from wizard.core.drill.plan import SLOW_UPLOAD, plan_drills, quiet_moment
from wizard.core.history import HistoryEntry
from wizard.core.names import archive_name

# Monday 2 March 2026, 10:00; the backup is at 20:00 every day.
NOW = datetime(2026, 3, 2, 10, 0)
DAILY = ScheduleConfig(frequency="daily", time="20:00")


def kept(days: int) -> list[tuple[str, datetime]]:
    """One backup each evening for ``days`` days, the newest yesterday."""
    out = []
    for i in range(1, days + 1):
        created = datetime.combine((NOW - timedelta(days=i)).date(), datetime.min.time()).replace(hour=20)
        out.append((archive_name(created, "caja1-ab12"), created))
    return out


def drill(when: datetime, status: str = "ok", archive: str = "x.zip") -> HistoryEntry:
    return HistoryEntry(start=when, end=when + timedelta(minutes=2), trigger="test-restore", status=status,
                        archive=archive)


def backup(when: datetime) -> HistoryEntry:
    return HistoryEntry(start=when, end=when + timedelta(minutes=1), trigger="scheduled", status="ok",
                        archive=archive_name(when))


def kinds(plan) -> list[str]:
    return [d.kind for d in plan.drills]


def monthly_done(days_ago: int = 3) -> dict[str, datetime]:
    return {"older": NOW - timedelta(days=days_ago), "cloud": NOW - timedelta(days=days_ago)}


def test_nothing_to_do_without_backups_or_when_off():
    assert plan_drills(NOW, [], DAILY, []).drills == []
    assert plan_drills(NOW, [], ScheduleConfig(test_restore="off"), kept(5), cloud=True).drills == []


def test_the_first_drill_tests_the_newest_backup_and_the_monthly_older_one_at_once():
    backups = kept(5)
    plan = plan_drills(NOW, [backup(NOW - timedelta(days=1))], DAILY, backups, rng=random.Random(1))
    assert kinds(plan) == ["newest", "older"]
    assert plan.drills[0].archive == backups[0][0]
    assert plan.drills[0].why == "prueba semanal del respaldo más reciente"
    assert plan.drills[1].archive in {name for name, _ in backups[1:]}
    assert plan.wait == ""


def test_weekly_the_newest_again_only_after_seven_days_of_any_drill():
    backups = kept(10)
    done = monthly_done()
    assert kinds(plan_drills(NOW, [drill(NOW - timedelta(days=6, hours=23))], DAILY, backups,
                             extras_done=done)) == []
    assert kinds(plan_drills(NOW, [drill(NOW - timedelta(days=7, minutes=3))], DAILY, backups,
                             extras_done=done)) == ["newest"]
    # A failed drill counts as done (its failure was said); a cancelled one does not.
    assert kinds(plan_drills(NOW, [drill(NOW - timedelta(days=2), "failed")], DAILY, backups,
                             extras_done=done)) == []
    assert kinds(plan_drills(NOW, [drill(NOW - timedelta(days=9)), drill(NOW - timedelta(days=2), "cancelled")],
                             DAILY, backups, extras_done=done)) == ["newest"]


def test_monthly_setting_tests_the_newest_once_a_month():
    monthly = ScheduleConfig(frequency="daily", time="20:00", test_restore="monthly")
    backups = kept(10)
    done = monthly_done()
    assert kinds(plan_drills(NOW, [drill(NOW - timedelta(days=8))], monthly, backups, extras_done=done)) == []
    assert kinds(plan_drills(NOW, [drill(NOW - timedelta(days=29))], monthly, backups, extras_done=done)) == []
    plan = plan_drills(NOW, [drill(NOW - timedelta(days=31))], monthly, backups, extras_done=done)
    assert kinds(plan) == ["newest"] and plan.drills[0].why == "prueba mensual del respaldo más reciente"


@pytest.mark.parametrize("setting", ["weekly", "monthly"])
def test_once_a_month_an_older_backup_picked_at_random_and_the_cloud_copy(setting):
    sched = ScheduleConfig(frequency="daily", time="20:00", test_restore=setting)
    backups = kept(12)
    recent = [drill(NOW - timedelta(days=1))]
    extras = {"older": NOW - timedelta(days=31), "cloud": NOW - timedelta(days=30)}
    plan = plan_drills(NOW, recent, sched, backups, cloud=True, extras_done=extras, rng=random.Random(7))
    assert kinds(plan) == ["older", "cloud"]
    older = sorted(name for name, _ in backups[1:])
    assert plan.drills[0].archive == random.Random(7).choice(older)
    assert plan.drills[1].archive is None  # the newest cloud copy, found when it runs
    assert sorted(plan.considered) == []
    # The same seed picks the same backup; other seeds spread over the kept ones, never the newest.
    picks = {plan_drills(NOW, recent, sched, backups, extras_done=extras, rng=random.Random(seed)).drills[0].archive
             for seed in range(40)}
    assert backups[0][0] not in picks and len(picks) > 5
    # A month has not passed: neither.
    assert plan_drills(NOW, recent, sched, backups, cloud=True, extras_done=monthly_done(29)).drills == []


def test_no_older_pick_with_a_single_backup_and_no_cloud_drill_without_a_cloud():
    plan = plan_drills(NOW, [drill(NOW - timedelta(days=1))], DAILY, kept(1), cloud=False)
    assert plan.drills == [] and plan.skipped == []


def test_the_cloud_copy_is_skipped_and_said_when_the_last_upload_was_under_1_mb_per_second():
    recent = [drill(NOW - timedelta(days=1))]
    done = {"older": NOW - timedelta(days=2)}
    slow = plan_drills(NOW, recent, DAILY, kept(3), cloud=True, upload_speed=400_000, extras_done=done)
    assert slow.drills == []
    assert slow.considered == ["cloud"]
    assert slow.skipped == [("La copia en la nube no se prueba este mes: la última subida fue de 391 KB/s, menos de "
                             "1 MB/s, y descargarla ocuparía la conexión demasiado tiempo.")]
    fast = plan_drills(NOW, recent, DAILY, kept(3), cloud=True, upload_speed=SLOW_UPLOAD, extras_done=done)
    assert kinds(fast) == ["cloud"] and fast.skipped == []
    unknown = plan_drills(NOW, recent, DAILY, kept(3), cloud=True, upload_speed=None, extras_done=done)
    assert kinds(unknown) == ["cloud"]


def test_not_during_a_backup_and_not_within_the_hour_before_the_next_one():
    backups = kept(3)
    busy = plan_drills(NOW, [], DAILY, backups, backup_running=True)
    assert busy.drills == [] and busy.wait == "Hay un respaldo en curso: la prueba de restauración espera a que termine."
    close = plan_drills(NOW.replace(hour=19, minute=5), [], DAILY, backups)
    assert close.drills == []
    assert close.wait == "El próximo respaldo es a las 20:00: la prueba de restauración espera a después."
    assert kinds(plan_drills(NOW.replace(hour=18, minute=59), [], DAILY, backups)) == ["newest", "older"]
    assert kinds(plan_drills(NOW.replace(hour=20, minute=1), [], DAILY, backups)) == ["newest", "older"]
    # Weekly backups on Friday: Monday 19:30 is quiet.
    friday = ScheduleConfig(frequency="weekly", weekdays=["friday"], time="20:00")
    assert quiet_moment(NOW.replace(hour=19, minute=30), friday) == ""
    assert quiet_moment(datetime(2026, 3, 6, 19, 30), friday) != ""


def test_aware_times_compare_with_the_naive_local_history():
    from wizard.core.schedule import LOCAL

    aware_now = NOW.replace(tzinfo=LOCAL)
    assert kinds(plan_drills(aware_now, [drill(NOW - timedelta(days=8))], DAILY, kept(2),
                             extras_done=monthly_done())) == ["newest"]
    assert kinds(plan_drills(aware_now, [drill(NOW - timedelta(days=1))], DAILY, kept(2),
                             extras_done=monthly_done())) == []
