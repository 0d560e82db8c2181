"""Drills in the run history (wizard.core.drill.records) and their JSON (DrillResult): read back by the window
and the schedule; older history lines, without the drill field, still read."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from wizard.core import history
from wizard.core.drill import (
    DatabaseCheck,
    DrillResult,
    last_drill,
    latest_drills,
    passed_archives,
    result_of,
)
from wizard.core.drill.records import record

T0 = datetime(2026, 11, 30, 9, 12)


def drill(archive: str, ok: bool, minutes: int, cancelled: bool = False) -> DrillResult:
    result = DrillResult(archive=archive, ok=ok, seconds=3.0, problem=None if ok else f"{archive} falló.",
                         databases=[DatabaseCheck("datos/pos.db", "sqlite", "ok" if ok else "malformed",
                                                  {"ventas": 12345, "venta_lineas": 40000},
                                                  datetime(2026, 11, 30, 19, 42))],
                         when=T0 + timedelta(minutes=minutes), cancelled=cancelled)
    record(result, now=T0 + timedelta(minutes=minutes, seconds=3))
    return result


def test_the_latest_finished_drill_of_each_archive_decides_whether_it_passed():
    drill("a.zip", True, 0)
    drill("b.zip", True, 1)
    drill("a.zip", False, 2)
    drill("c.zip", True, 3)
    drill("c.zip", False, 4, cancelled=True)

    entries = history.read()

    assert passed_archives(entries) == {"b.zip", "c.zip"}, "a cancelled drill says nothing about c.zip"
    assert [e.archive for e in latest_drills(entries)] == ["c.zip", "c.zip", "a.zip", "b.zip", "a.zip"]
    last = last_drill(entries)
    assert (last.archive, last.status) == ("c.zip", "ok")
    assert [e.status for e in latest_drills(entries)][:3] == ["cancelled", "ok", "failed"]


def test_a_drill_entry_keeps_the_figures_and_reads_back_as_a_result():
    original = drill("respaldo_2026-11-30_09-00-00.zip", True, 0)

    (entry,) = history.read()
    again = result_of(entry)

    assert entry.trigger == "test-restore" and entry.drill == original.to_dict()
    assert again.to_dict() == original.to_dict() and again.when == original.when
    assert again.sentence(now=T0) == ("El respaldo de hoy a las 09:00 se restaura: 12,345 ventas, último "
                                      "movimiento de hoy a las 19:42.")
    assert history.last_success(history.read()) is None, "a drill is not a backup"


def test_older_history_lines_without_the_drill_field_still_read_and_backups_write_none():
    path = history.history_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    old = {"start": "2026-11-29T20:00:00", "end": "2026-11-29T20:01:00", "trigger": "scheduled", "status": "ok",
           "archive": "respaldo_2026-11-29_20-00-00.zip", "size": 10, "duration": 60.0, "message": "",
           "verified": True}
    path.write_text(json.dumps(old) + "\n", encoding="utf-8")
    history.append(history.HistoryEntry(start=T0, end=T0, trigger="manual", status="ok"))

    entries = history.read()

    assert [e.drill for e in entries] == [None, None] and last_drill(entries) is None
    assert "drill" not in path.read_text(encoding="utf-8").splitlines()[1]
    assert history.last_success(entries).trigger == "manual"


def test_the_sentence_counts_all_rows_without_a_sales_table_and_says_a_failure_as_its_problem():
    plain = DrillResult("respaldo_2026-11-30_09-00-00.zip", True, 1.0,
                        databases=[DatabaseCheck("x.db", "sqlite", "ok", {"clientes": 3, "productos": 1})])
    failed = DrillResult("x.zip", False, 1.0, problem="El respaldo x.zip está dañado.")

    assert plain.sentence(now=T0) == "El respaldo de hoy a las 09:00 se restaura: 4 filas."
    assert failed.sentence() == "El respaldo x.zip está dañado."
    assert DrillResult.from_dict(json.loads(json.dumps(plain.to_dict()))).to_dict() == plain.to_dict()
