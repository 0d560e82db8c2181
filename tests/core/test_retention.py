"""Retention keeps what restic would keep, and never touches files that are not ours."""

from __future__ import annotations

from datetime import datetime, timedelta

from wizard.core import backup
from wizard.core.config import Config, RetentionConfig
from wizard.core.retention import select_expired, select_kept


def days(n, start=datetime(2026, 8, 1, 20, 0)):
    return [start + timedelta(days=i) for i in range(n)]


def test_keep_last_keeps_the_newest_n():
    stamps = days(10)
    kept = select_kept([(s, s) for s in stamps], RetentionConfig(3, 0, 0, 0))
    assert kept == sorted(stamps, reverse=True)[:3]


def test_keep_daily_keeps_the_newest_of_each_of_the_last_n_days_that_have_backups():
    stamps = [datetime(2026, 11, 1, 9), datetime(2026, 11, 1, 20), datetime(2026, 11, 3, 20),
              datetime(2026, 11, 10, 8), datetime(2026, 11, 10, 21)]
    kept = select_kept([(s, s) for s in stamps], RetentionConfig(0, 3, 0, 0))
    assert kept == [datetime(2026, 11, 10, 21), datetime(2026, 11, 3, 20), datetime(2026, 11, 1, 20)]


def test_weekly_and_monthly_use_iso_weeks_and_calendar_months():
    stamps = days(120)
    kept = select_kept([(s, s) for s in stamps], RetentionConfig(0, 0, 4, 3))
    weeks = {s.isocalendar()[:2] for s in kept if s >= stamps[-1] - timedelta(days=28)}
    assert len(weeks) >= 4
    months = sorted({(s.year, s.month) for s in kept})
    assert months[-3:] == [(2026, 9), (2026, 10), (2026, 11)]
    # each kept weekly backup is the newest of its week
    for s in kept:
        same_week = [t for t in stamps if t.isocalendar()[:2] == s.isocalendar()[:2]]
        same_month = [t for t in stamps if (t.year, t.month) == (s.year, s.month)]
        assert s == max(same_week) or s == max(same_month)


def test_a_backup_kept_by_any_rule_stays_and_the_rest_expire():
    stamps = days(120)
    policy = RetentionConfig(10, 7, 4, 12)
    items = [(s, s) for s in stamps]
    kept, expired = select_kept(items, policy), select_expired(items, policy)
    assert set(kept).isdisjoint(expired) and len(kept) + len(expired) == 120
    assert stamps[-1] in kept
    # 10 last, 7 daily (inside the 10), 4 weekly and 4 monthly (Aug..Nov) heads
    assert 10 < len(kept) <= 10 + 4 + 4


def test_the_newest_is_never_deleted_and_all_rules_off_keeps_everything():
    stamps = days(5)
    items = [(s, s) for s in stamps]
    assert select_kept(items, RetentionConfig(0, 0, 0, 0)) == sorted(stamps, reverse=True)
    assert select_kept(items, RetentionConfig(0, 0, 0, 1)) == [stamps[-1]]


def test_local_retention_over_120_days_touches_only_archives_with_the_exact_name(tmp_path):
    for stamp in days(120):
        (tmp_path / backup.archive_name(stamp)).write_bytes(b"zip")
    others = ["notas.txt", "respaldo_manual.zip", "respaldo_2026-11-01_20-00-00.zip.bak",
              "Respaldo_2026-08-01_20-00-00.zip", "respaldo_2026-13-01_20-00-00.zip"]
    for name in others:
        (tmp_path / name).write_text("del usuario")
    (tmp_path / "respaldo_2026-08-02_20-00-00.zip.d").mkdir()
    cfg = Config()
    deleted = backup.apply_retention(cfg, tmp_path)
    remaining = {a.created for a in backup.list_archives(tmp_path)}
    expected = set(select_kept([(s, s) for s in days(120)], cfg.retention))
    assert remaining == expected
    assert len(deleted) == 120 - len(expected)
    for name in others:
        assert (tmp_path / name).read_text() == "del usuario"
    assert (tmp_path / "respaldo_2026-08-02_20-00-00.zip.d").is_dir()
