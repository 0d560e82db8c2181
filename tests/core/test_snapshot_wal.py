"""A source whose `-wal` is large (a POS that turned automatic checkpoints off) is checkpointed (PASSIVE)
before the copy, since every page read looks the WAL's index up; a small WAL is left to the POS. The copy
holds every committed sale either way."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from wizard.core.snapshot import LARGE_WAL, snapshot_sqlite

WRITER = r"""
import os, sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA wal_autocheckpoint=0")
conn.execute("BEGIN")
for i in range(int(sys.argv[2])):
    conn.execute("INSERT INTO sales (note) VALUES (?)", ("venta sin checkpoint %d " % i + "x" * 900,))
conn.execute("COMMIT")
os._exit(0)  # as a killed POS: the WAL is neither checkpointed nor removed
"""


def pos_database(path: Path, wal_rows: int) -> int:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA page_size=1024")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE sales (id INTEGER PRIMARY KEY, note TEXT)")
    conn.executemany("INSERT INTO sales (note) VALUES (?)", [(f"venta {i}",) for i in range(1000)])
    conn.close()
    subprocess.run([sys.executable, "-c", WRITER, str(path), str(wal_rows)], check=True, timeout=120)
    return 1000 + wal_rows


def count(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT count(*) FROM sales").fetchone()[0]


@pytest.mark.parametrize(("wal_rows", "checkpointed"), [(22_000, True), (2_000, False)],
                         ids=["large-wal", "small-wal"])
def test_a_large_wal_is_checkpointed_before_the_copy_and_a_small_one_is_left_alone(tmp_path, wal_rows,
                                                                                    checkpointed):
    db = tmp_path / "tienda.db"
    rows = pos_database(db, wal_rows)
    wal = Path(f"{db}-wal")
    assert (wal.stat().st_size > LARGE_WAL) == checkpointed
    pos = sqlite3.connect(db)  # the POS is still open: closing our connection does not checkpoint
    pos.execute("SELECT count(*) FROM sales").fetchone()
    size_before = db.stat().st_size
    try:
        snapshot_sqlite(db, tmp_path / "copia.sqlite")
        grew = db.stat().st_size > size_before  # the WAL's pages were copied into the database file
        assert grew == checkpointed
        assert count(tmp_path / "copia.sqlite") == rows
        assert pos.execute("SELECT count(*) FROM sales").fetchone()[0] == rows
    finally:
        pos.close()
