"""Helpers shared by tests: small POS-like databases, configs, the CLI command, skips that fail in CI."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def in_ci() -> bool:
    """.ci/run sets RESPALDOS_CI=1: there every test must run, none may skip for a missing tool."""
    return bool(os.environ.get("RESPALDOS_CI"))


def skip_unless_ci(reason: str) -> None:
    """Skip where a tool, a server, a display or root is missing, but fail in CI: CI must run the test."""
    if in_ci():
        pytest.fail(f"{reason} (RESPALDOS_CI is set: in CI this test must run, not skip)", pytrace=False)
    pytest.skip(reason)


def without_dac_override(cmd: list[str]) -> list[str]:
    """``cmd`` as root runs it with the capabilities that bypass file permissions dropped (util-linux
    setpriv), so a permission check is real; as any other user, unchanged."""
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *cmd]
    return cmd


def make_sales_db(path: Path, rows: int = 1000, journal: str = "wal", pad: int = 200) -> Path:
    """A small POS-like database: sales with a text column so it has some bulk."""
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA journal_mode={journal}")
    conn.execute("CREATE TABLE sales (id INTEGER PRIMARY KEY, ts TEXT, total REAL, note TEXT)")
    conn.executemany(
        "INSERT INTO sales (ts, total, note) VALUES (?, ?, ?)",
        ((f"2026-11-{1 + i % 28:02d} 10:{i % 60:02d}", i * 1.5, f"venta {i} " + "x" * (pad + i % 50))
         for i in range(rows)),
    )
    conn.commit()
    conn.close()
    return path


def write_config(path: Path, sources: list[Path], dest: Path, extra: str = "") -> Path:
    lines = [
        "[source]",
        "paths = [" + ", ".join(f'"{p.as_posix()}"' for p in sources) + "]",
        "[destination]",
        f'folder = "{dest.as_posix()}"',
        extra,
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def respaldos_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "wizard", *args]
