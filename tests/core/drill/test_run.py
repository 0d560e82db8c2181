"""Restore drills of real backups of real SQLite databases (wizard.core.drill.run_drill): what passes, what
fails and how it is said, the sandbox, the history, the thread's priority."""

from __future__ import annotations

import ctypes
import hashlib
import json
import os
import platform
import random
import sqlite3
import sys
import threading
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from tests.core.drill.helpers import NEWEST_SALE, counts, flip_byte_inside, make_pos_db, make_shop, member_of
from tests.faults import mounted
from tests.helpers import write_config
from wizard.core import config as config_mod
from wizard.core import history
from wizard.core.archive import MANIFEST_NAME, Manifest, ManifestFile
from wizard.core.drill import DrillUsage, last_drill, passed_archives, run_drill
from wizard.core.drill.sandbox import sandboxes_dir
from wizard.core.errors import UserError


def sandboxes() -> list[str]:
    folder = sandboxes_dir()
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def files_under(*folders: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for folder in folders for p in folder.rglob("*")}


def test_a_good_backup_passes_with_the_row_counts_of_the_source_and_its_newest_sale(tmp_path):
    shop = make_shop(tmp_path)
    member = member_of(shop.archive, "punto_de_venta.db")
    before = files_under(shop.data, shop.usb)

    result = run_drill(shop.config)

    assert result.ok, result.problem
    assert files_under(shop.data, shop.usb) == before, "nothing written where the POS data or the backups are"
    assert result.archive == shop.archive.name and result.problem is None
    (check,) = result.databases
    assert (check.path, check.kind, check.integrity) == (member, "sqlite", "ok")
    assert check.tables == counts(shop.db) and check.tables["ventas"] == 400
    assert check.newest == NEWEST_SALE
    assert "400 ventas, último movimiento del " in result.sentence()
    assert result.sentence().startswith("El respaldo de hoy a las ")
    assert sandboxes() == [], "the sandbox is deleted at the end"

    data = result.to_dict()
    assert list(data) == ["archive", "ok", "seconds", "problem", "databases"]
    assert data["databases"] == [{"path": member, "kind": "sqlite", "integrity": "ok", "tables": counts(shop.db),
                                  "newest": "2026-11-30T19:42:05"}]
    json.dumps(data)

    entries = history.read()
    entry = entries[-1]
    assert (entry.trigger, entry.status, entry.archive) == ("test-restore", "ok", shop.archive.name)
    assert entry.message == result.sentence() and entry.drill == data
    assert last_drill(entries) == entry and passed_archives(entries) == {shop.archive.name}
    assert history.last_success(entries).trigger == "manual", "a drill is not the last backup"


def test_the_log_says_how_long_the_extraction_and_the_database_checks_took(tmp_path, caplog):
    """bench/bench_drill.py reads this line to set the drill's extraction against `unzip` (issue 21)."""
    shop = make_shop(tmp_path)
    caplog.set_level("INFO", logger="wizard.core.drill.run")

    result = run_drill(shop.config)

    assert result.ok, result.problem
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("drill of ")]
    assert line == (f"drill of {shop.archive.name}: passed (extraction {result.extract_seconds:.2f} s, "
                    f"database checks {result.check_seconds:.2f} s)")
    assert result.extract_seconds > 0 and result.check_seconds > 0
    assert result.extract_seconds + result.check_seconds <= result.seconds
    assert "extract_seconds" not in result.to_dict(), "the JSON stays the documented object"


def test_a_byte_changed_inside_the_database_member_fails_naming_it(tmp_path):
    shop = make_shop(tmp_path)
    member = member_of(shop.archive, "punto_de_venta.db")
    flip_byte_inside(shop.archive, member)

    result = run_drill(shop.config)

    assert not result.ok
    assert result.problem.startswith(f"El respaldo {shop.archive.name} está dañado: {member} ")
    assert [d.path for d in result.databases] == [member] and not result.databases[0].ok
    assert sandboxes() == []
    entry = history.read()[-1]
    assert (entry.status, entry.message) == ("failed", result.problem)
    assert passed_archives(history.read()) == set()


def garbage_in_pages(db: Path, pages: list[int]) -> None:
    page_size = sqlite3.connect(db).execute("PRAGMA page_size").fetchone()[0]
    rng = random.Random(7)
    with open(db, "r+b") as fh:
        for page in pages:
            fh.seek((page - 1) * page_size + 100)
            fh.write(rng.randbytes(page_size - 200))


def archive_around(folder: Path, db: Path, member: str) -> Path:
    """An archive with a valid manifest and hashes (Python's zipfile, deflated) holding ``db`` as ``member``."""
    data = db.read_bytes()
    manifest = Manifest(app="Respaldos", version="test", created=datetime.now().isoformat(), host="caja",
                        sources=[], files=[ManifestFile(member, len(data), datetime.now().isoformat(),
                                                        hashlib.sha256(data).hexdigest(), kind="sqlite")])
    path = folder / "respaldo_2026-11-30_21-00-00.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(member, data)
        zf.writestr(MANIFEST_NAME, manifest.to_json())
    return path


def test_a_database_with_garbage_in_its_pages_fails_integrity_check_and_is_named(tmp_path):
    db = make_pos_db(tmp_path / "pos.db", sales=600)
    sqlite3.connect(db).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
    pages = os.path.getsize(db) // 4096
    garbage_in_pages(db, [pages // 2, pages // 2 + 1, pages - 2])
    archive = archive_around(tmp_path, db, "datos/pos.db")
    cfg = config_mod.load(write_config(tmp_path / "r.toml", [tmp_path], tmp_path))

    result = run_drill(cfg, archive, record=False)

    assert not result.ok
    (check,) = result.databases
    assert check.path == "datos/pos.db" and check.integrity != "ok"
    assert result.problem.startswith("La prueba del respaldo respaldo_2026-11-30_21-00-00.zip falló: la base de "
                                     "datos datos/pos.db está dañada (")
    assert check.integrity in result.problem
    assert history.read() == [], "record=False writes no history"


def test_the_newest_moment_is_found_in_odd_data_and_sentinels_are_ignored(tmp_path):
    db = tmp_path / "raro.db"
    conn = sqlite3.connect(db)
    conn.executescript("""
        CREATE TABLE tickets (id INTEGER PRIMARY KEY, creado_en INTEGER, vence TEXT, extra BLOB);
        CREATE TABLE movimientos (id INTEGER PRIMARY KEY, dia, descripcion TEXT);
        CREATE TABLE vacia (fecha TEXT);
    """)
    ms = int(datetime(2026, 10, 3, 8, 15).timestamp() * 1000)
    conn.executemany("INSERT INTO tickets (creado_en, vence, extra) VALUES (?, ?, ?)",
                     [(ms, "9999-12-31", b"\x00\xff"), (ms - 5000, "nunca", None), (None, None, b"x")])
    # no declared type, no telling name: found by its values (ISO with a T and a Z, and one that is garbage)
    conn.executemany("INSERT INTO movimientos (dia, descripcion) VALUES (?, ?)",
                     [("2026-11-02T10:00:00Z", "a"), ("2026-11-01T09:00:00", "b"), ("2026-10-30 08:00", "c"),
                      ("no es fecha", "d"), ("3026-01-01T00:00:00", "futuro")])
    conn.commit()
    conn.close()
    archive = archive_around(tmp_path, db, "raro.db")
    cfg = config_mod.load(write_config(tmp_path / "r.toml", [tmp_path], tmp_path))

    result = run_drill(cfg, archive, record=False)

    assert result.ok, result.problem
    (check,) = result.databases
    assert check.tables == {"tickets": 3, "movimientos": 5, "vacia": 0}
    expected = datetime.fromisoformat("2026-11-02T10:00:00+00:00").astimezone().replace(tzinfo=None)
    assert check.newest == expected
    assert "3 ventas" in result.sentence(), "tickets look like the sales"


def test_a_cancelled_drill_is_recorded_as_cancelled_and_leaves_no_sandbox(tmp_path):
    shop = make_shop(tmp_path)
    cancel = threading.Event()

    result = run_drill(shop.config, report=lambda event: cancel.set(), cancel=cancel)

    assert not result.ok and result.problem == (f"La prueba del respaldo {shop.archive.name} se canceló antes de "
                                                "terminar.")
    assert sandboxes() == []
    entry = history.read()[-1]
    assert entry.status == "cancelled" and last_drill(history.read()) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_the_drill_runs_at_low_priority_on_its_own_thread_only(tmp_path):
    shop = make_shop(tmp_path)
    seen = set()

    def report(event) -> None:
        seen.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        if platform.machine() == "x86_64":  # ioprio_get(IOPRIO_WHO_PROCESS, this thread): the idle class
            seen.add(("io class", ctypes.CDLL(None).syscall(252, 1, threading.get_native_id()) >> 13))

    result = run_drill(shop.config, report=report)

    assert result.ok and seen - {("io class", 3)} == {19}
    assert platform.machine() != "x86_64" or ("io class", 3) in seen
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == 0, "the caller's thread keeps its priority"

    seen.clear()
    assert run_drill(shop.config, report=report, low_priority=False).ok
    assert 0 in seen and 19 not in seen and ("io class", 3) not in seen


def test_without_a_backup_or_with_both_sources_it_is_a_usage_problem(tmp_path):
    usb = tmp_path / "usb"
    usb.mkdir()
    cfg = config_mod.load(write_config(tmp_path / "r.toml", [tmp_path], usb))
    with pytest.raises(UserError) as info:
        run_drill(cfg)
    assert str(info.value) == f"No hay respaldos de este equipo en {usb} para probar. Haz un respaldo primero."
    with pytest.raises(DrillUsage) as usage:
        run_drill(cfg, tmp_path / "x.zip", from_cloud="respaldo_2026-11-30_21-00-00.zip")
    assert usage.value.exit_code == 2
    assert history.read() == []


def test_a_sandbox_left_by_a_killed_drill_is_removed_by_the_next_one(tmp_path):
    shop = make_shop(tmp_path)
    dead = sandboxes_dir() / "prueba-999999-abcd1234"
    dead.mkdir(parents=True)
    (dead / "base-1.sqlite").write_bytes(b"x" * 1000)

    assert run_drill(shop.config).ok
    assert sandboxes() == []


def test_a_sandbox_disk_without_room_for_the_largest_database_says_so_before_starting(tmp_path, monkeypatch):
    shop = make_shop(tmp_path, sales=15_000)
    cache = tmp_path / "cache"
    cache.mkdir()
    with mounted("a small tmpfs", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(cache)):
        monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
        result = run_drill(shop.config)
        assert list((cache / "Respaldos" / "pruebas").iterdir()) == []

    assert not result.ok and result.databases == []
    assert result.problem.startswith(f"No se pudo probar el respaldo {shop.archive.name}: la prueba necesita ")
    assert result.problem.endswith(" Libera espacio en ese disco y vuelve a intentar.")
    assert history.read()[-1].status == "failed"
