"""Real database files for the search's tests: SQLite under odd names, a Firebird file made by the Firebird
tools, Access headers."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.helpers import skip_unless_ci

ACCESS_JET = b"\x00\x01\x00\x00Standard Jet DB\x00" + bytes(2048 - 20)
ACCESS_ACE = b"\x00\x01\x00\x00Standard ACE DB\x00" + bytes(4096 - 20)


def make_sqlite(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE venta (id INTEGER PRIMARY KEY, total REAL)")
    conn.executemany("INSERT INTO venta (total) VALUES (?)", [(i * 1.5,) for i in range(50)])
    conn.commit()
    conn.close()
    return path


def make_firebird(path: Path) -> Path:
    """A Firebird database made by embedded isql (the tools CI installs; no server needed)."""
    isql = shutil.which("isql-fb")
    if isql is None:
        skip_unless_ci("isql-fb is not installed (apt-get install firebird3.0-utils)")
    path.parent.mkdir(parents=True, exist_ok=True)
    done = subprocess.run([isql, "-q", "-b", "-user", "SYSDBA"], input=f"CREATE DATABASE '{path}';\n", text=True,
                          capture_output=True, timeout=60, check=False)
    if done.returncode != 0 or not path.exists():
        skip_unless_ci(f"embedded isql-fb could not create a database here: {done.stderr.strip()}")
    return path


@pytest.fixture(scope="session")
def firebird_file(tmp_path_factory) -> Path:
    """One real Firebird database for the session (copied where a test needs it)."""
    return make_firebird(tmp_path_factory.mktemp("firebird") / "PLANTILLA.FDB")
