"""Which stored values are moments (wizard.core.drill.newest): best effort, never an error on odd data."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from wizard.core.drill.newest import looks_like_date_column, moment, mostly_dates, newest_of

NOW = datetime(2026, 12, 4, 12, 0)
LOCAL_1700 = datetime.fromtimestamp(1_700_000_000)


@pytest.mark.parametrize(("value", "expected"), [
    ("2026-11-30 19:42:05", datetime(2026, 11, 30, 19, 42, 5)),
    ("2026-11-30T19:42:05.123456", datetime(2026, 11, 30, 19, 42, 5, 123456)),
    ("2026-11-30", datetime(2026, 11, 30)),
    ("30/11/2026 19:42", datetime(2026, 11, 30, 19, 42)),
    ("2026-11-30T19:42:05Z", datetime(2026, 11, 30, 19, 42, 5, tzinfo=timezone.utc).astimezone().replace(tzinfo=None)),
    (1_700_000_000, LOCAL_1700),
    (1_700_000_000_000, LOCAL_1700),
    (1_700_000_000.5, datetime.fromtimestamp(1_700_000_000.5)),
    ("1700000000", LOCAL_1700),
    (b"2026-11-30 10:00", datetime(2026, 11, 30, 10, 0)),
    (date(2026, 11, 30), datetime(2026, 11, 30)),
])
def test_moments_are_read_from_text_numbers_and_dates(value, expected):
    assert moment(value, NOW) == expected


@pytest.mark.parametrize("value", [
    None, True, 12.5, 0, -1, 10**30, float("nan"), "9999-12-31", "3026-01-01T00:00:00", "1899-12-30",
    "no es fecha", "", "12345678", "2026-13-45", b"\xff\xfe\x00", [1, 2], "30/11/26",
])
def test_odd_values_and_moments_out_of_range_are_none(value):
    assert moment(value, NOW) is None


def test_the_newest_is_the_latest_moment_and_columns_are_told_by_type_name_or_values():
    assert newest_of(["2026-11-01", None, "x", 1_700_000_000, "2026-12-04 11:00", "2099-01-01"], NOW) == \
        datetime(2026, 12, 4, 11, 0)
    assert newest_of([], NOW) is None
    assert looks_like_date_column("FECHA_VENTA", "") and looks_like_date_column("x", "TIMESTAMP")
    assert looks_like_date_column("creado_en", "INTEGER") and not looks_like_date_column("vence", "TEXT")
    assert not looks_like_date_column("total", "REAL")
    assert mostly_dates(["2026-11-01", "2026-11-02", "2026-11-03", "3026-01-01", "x"])
    assert not mostly_dates(["2026-11-01", "abc", "def", "ghi"]) and not mostly_dates([1_700_000_000] * 5)
