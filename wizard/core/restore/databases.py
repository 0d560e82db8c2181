"""SQLite files of a restore: opened read-only without leaving -wal/-shm beside them, their rows counted per
table, and their integrity checked once they are back."""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

logger = logging.getLogger(__name__)

ROW_COUNT_LIMIT = 256 << 20  # databases up to this size get their rows counted when listing contents


@dataclass
class TableCount:
    name: str
    rows: int | None  # None: the table could not be counted (a virtual table whose module is missing)


def sqlite_uri(path: Path, params: str) -> str:
    """A ``file:`` URI for ``sqlite3.connect(..., uri=True)`` with ``params`` (``mode=rw``, ...)."""
    p = Path(path).absolute().as_posix()
    if not p.startswith("/"):
        p = "/" + p  # Windows drive paths: file:///C:/...
    return f"file:{quote(p, safe='/:')}?{params}"


def read_only_uri(path: Path) -> str:
    """Read-only and immutable: opening creates no -wal/-shm beside the file and takes no lock."""
    return sqlite_uri(path, "mode=ro&immutable=1")


def count_rows(db: Path) -> list[TableCount]:
    """Rows per table of a database file, read-only (creates no -wal/-shm next to it)."""
    conn = sqlite3.connect(read_only_uri(db), uri=True)
    try:
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        counts = []
        for name in names:
            quoted = '"' + name.replace('"', '""') + '"'
            try:
                counts.append(TableCount(name, int(conn.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0])))
            except sqlite3.Error:
                counts.append(TableCount(name, None))
        return counts
    finally:
        conn.close()


@dataclass
class DatabaseCheck:
    path: Path
    integrity: str  # "ok" or SQLite's first complaints
    tables: list[TableCount] | None = None  # None: not counted (too big)

    @property
    def ok(self) -> bool:
        return self.integrity == "ok"

    @property
    def rows(self) -> int:
        return sum(t.rows or 0 for t in self.tables or [])


def check_database(path: Path) -> DatabaseCheck:
    """``PRAGMA integrity_check`` of a database file, read-only; its first complaints when not "ok"."""
    try:
        conn = sqlite3.connect(read_only_uri(path), uri=True)
        try:
            rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        rows = [str(exc)]
    return DatabaseCheck(path, "ok" if rows == ["ok"] else "; ".join(rows[:3]))


def with_row_counts(check: DatabaseCheck, path: Path) -> DatabaseCheck:
    """Row counts for the report, when the database is small enough for that to be quick."""
    try:
        if path.stat().st_size <= ROW_COUNT_LIMIT:
            check.tables = count_rows(path)
    except (OSError, sqlite3.Error) as exc:
        logger.info("rows of %s not counted: %s", path, exc)
    check.path = path
    return check
