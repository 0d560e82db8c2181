"""Sentences and formats the window shows (no display needed)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from wizard.core.config import RetentionConfig, ScheduleConfig
from wizard.ui import text


@pytest.mark.parametrize(
    "schedule, expected",
    [
        (ScheduleConfig(), "Todos los días a las 20:00"),
        (ScheduleConfig("weekly", ["friday"], "20:00"), "Todos los viernes a las 20:00"),
        (ScheduleConfig("weekly", ["saturday"], "09:30"), "Todos los sábados a las 09:30"),
        (
            ScheduleConfig("weekly", ["friday", "monday", "wednesday"], "21:30"),
            "Los lunes, miércoles y viernes a las 21:30",
        ),
        (
            ScheduleConfig(
                "weekly", ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
            ),
            "Todos los días a las 20:00",
        ),
    ],
)
def test_describe_schedule_reads_like_a_sentence(schedule, expected):
    assert text.describe_schedule(schedule) == expected


def test_describe_retention_in_plain_words():
    assert text.describe_retention(RetentionConfig(0, 7, 4, 12)) == (
        "Se conservan uno por día de los últimos 7 días, uno por semana de las últimas 4 semanas "
        "y uno por mes de los últimos 12 meses. Los demás se borran solos, y el más reciente nunca se borra."
    )
    assert text.describe_retention(RetentionConfig(1, 0, 0, 0)).startswith("Se conservan el último respaldo.")
    assert "todos los respaldos" in text.describe_retention(RetentionConfig(0, 0, 0, 0))


def test_estimate_kept_follows_the_schedule_and_the_rules():
    today = date(2025, 3, 28)
    assert text.estimate_kept(ScheduleConfig(), RetentionConfig(), today) == 23
    assert text.estimate_kept(ScheduleConfig(), RetentionConfig(3, 0, 0, 0), today) == 3
    weekly = text.estimate_kept(ScheduleConfig("weekly", ["friday"]), RetentionConfig(), today)
    assert 12 < weekly < 23
    assert text.estimate_kept(ScheduleConfig(), RetentionConfig(0, 0, 0, 0), today) is None



def test_dates_are_short_and_relative():
    now = datetime(2025, 3, 26, 10, 0)  # a Wednesday
    assert text.format_when(datetime(2025, 3, 26, 8, 5), now) == "hoy 08:05"
    assert text.format_when(datetime(2025, 3, 25, 20, 0), now) == "ayer 20:00"
    assert text.format_when(datetime(2025, 3, 21, 20, 1), now) == "vie 21 mar 20:01"
    assert text.format_when(datetime(2023, 1, 2, 20, 0), now) == "2 ene 2023 20:00"
    assert text.format_next(datetime(2025, 3, 28, 20, 0), now) == "viernes 28 a las 20:00"
    assert text.format_next(datetime(2025, 3, 26, 20, 0), now) == "hoy a las 20:00"
    assert text.format_next(datetime(2025, 3, 27, 20, 0), now) == "mañana a las 20:00"


def test_durations():
    assert text.format_duration(2.4) == "2 s"
    assert text.format_duration(125) == "2 min 5 s"
    assert text.format_duration(3 * 3600 + 120) == "3 h 2 min"
