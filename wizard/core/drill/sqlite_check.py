"""An SQLite database extracted into the sandbox, checked: the full ``PRAGMA integrity_check`` on one
connection while a second one counts the rows of every table and looks for the newest date (two cores,
one pass over the file each). Read-only and immutable: nothing is written beside it."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from wizard.core.drill import newest as dates
from wizard.core.drill.result import DatabaseCheck
from wizard.core.errors import Cancelled
from wizard.core.restore.databases import read_only_uri

logger = logging.getLogger(__name__)

DATE_TABLES = 3  # the newest date is looked for in the tables with the most rows
DATE_COLUMNS = 4  # per table, at most this many date-looking columns are scanned
SAMPLE = 20  # values sampled from a column whose name and type say nothing


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(read_only_uri(path), uri=True, check_same_thread=False)


def integrity(conn: sqlite3.Connection) -> str:
    """``ok``, or SQLite's first three complaints."""
    try:
        rows = [str(r[0]) for r in conn.execute("PRAGMA integrity_check")]
    except sqlite3.Error as exc:
        return str(exc)
    return "ok" if rows == ["ok"] else "; ".join(rows[:3])


def table_names(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]


def row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows of every table (one that cannot be counted, a virtual table whose module is missing, is left out)."""
    counts = {}
    for name in table_names(conn):
        try:
            counts[name] = int(conn.execute(f"SELECT count(*) FROM {quote(name)}").fetchone()[0])
        except sqlite3.Error as exc:
            logger.info("rows of %s not counted: %s", name, exc)
    return counts


def date_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    """Columns that look like dates: by declared type or name, else by a sample of their values."""
    try:
        columns = [(str(c[1]), str(c[2] or "")) for c in conn.execute(f"PRAGMA table_info({quote(table)})")]
    except sqlite3.Error:
        return []
    found = [name for name, declared in columns if dates.looks_like_date_column(name, declared)]
    if not found:
        for name, declared in columns:
            if declared.strip().upper() in ("", "TEXT") or "CHAR" in declared.upper():
                try:
                    sample = [r[0] for r in conn.execute(
                        f"SELECT {quote(name)} FROM {quote(table)} WHERE {quote(name)} IS NOT NULL LIMIT {SAMPLE}")]
                except sqlite3.Error:
                    continue
                if dates.mostly_dates(sample):
                    found.append(name)
    return found[:DATE_COLUMNS]


def newest_moment(conn: sqlite3.Connection, counts: dict[str, int], now: datetime | None = None) -> datetime | None:
    """The latest date or time in the date-looking columns of the tables with the most rows.

    Text is compared as text (ISO 8601 sorts by time) below a cap of tomorrow, numbers (unix seconds or
    milliseconds) as numbers: a sentinel far in the future does not hide the real newest value.
    """
    cap = dates.latest_allowed(now)
    text_cap = cap.strftime("%Y-%m-%dT%H:%M:%S")
    biggest = sorted((t for t, n in counts.items() if n), key=lambda t: counts[t], reverse=True)[:DATE_TABLES]
    values: list[object] = []
    for table in biggest:
        for column in date_columns(conn, table):
            col, tab = quote(column), quote(table)
            try:
                values.append(conn.execute(
                    f"SELECT max({col}) FROM {tab} WHERE typeof({col}) = 'text' AND {col} <= ?",
                    (text_cap,)).fetchone()[0])
                values.append(conn.execute(
                    f"SELECT max({col}) FROM {tab} WHERE typeof({col}) IN ('integer', 'real') AND {col} <= ?",
                    (cap.timestamp() * 1000,)).fetchone()[0])
            except sqlite3.Error as exc:
                logger.info("newest value of %s.%s not read: %s", table, column, exc)
    return dates.newest_of(values, now)


def check_sqlite(path: Path, member: str, *, cancel: threading.Event | None = None,
                 thread_setup: Callable[[], None] | None = None) -> DatabaseCheck:
    """The integrity, row counts and newest date of the database at ``path`` (``member`` in the archive)."""
    try:
        first, second = _connect(path), _connect(path)
    except sqlite3.Error as exc:
        return DatabaseCheck(member, "sqlite", str(exc))
    pool = ThreadPoolExecutor(2, thread_name_prefix="drill-sqlite", initializer=thread_setup)
    try:
        checked: Future[str] = pool.submit(integrity, first)
        figures: Future[tuple[dict[str, int], datetime | None]] = pool.submit(_figures, second)
        while not (checked.done() and figures.done()):
            if cancel is not None and cancel.is_set():
                first.interrupt()
                second.interrupt()
                raise Cancelled()
            time.sleep(0.05)
        if cancel is not None and cancel.is_set():
            raise Cancelled()  # asked to stop while the check was finishing: stopped all the same
        verdict = checked.result()
        try:
            counts, newest = figures.result()
        except sqlite3.Error as exc:
            logger.info("figures of %s not read: %s", member, exc)
            counts, newest = {}, None
        return DatabaseCheck(member, "sqlite", verdict, counts, newest)
    finally:
        pool.shutdown(wait=True)
        first.close()
        second.close()


def _figures(conn: sqlite3.Connection) -> tuple[dict[str, int], datetime | None]:
    counts = row_counts(conn)
    return counts, newest_moment(conn, counts)
