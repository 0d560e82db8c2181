"""Is the POS still using a database that a restore would overwrite? An exclusive SQLite lock, the -wal
after our own close and, on Linux, the other processes' open files tell."""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
from pathlib import Path

from wizard.core.errors import UserError
from wizard.core.restore.databases import sqlite_uri
from wizard.core.snapshot import is_sqlite
from wizard.i18n import _

logger = logging.getLogger(__name__)

LOCK_TIMEOUT = 1.0  # seconds to wait for the POS to finish a transaction before calling it "in use"


class PosInUse(UserError):
    """A database that would be overwritten is open in the POS (or another program)."""

    def __init__(self, path: Path):
        super().__init__(_("El punto de venta está usando {path}. Cierra el punto de venta y vuelve a "
                           "intentar.").format(path=path))
        self.path = path


def _open_by_another_process(path: Path) -> bool:
    """Linux: another process has ``path`` open (seen in /proc/*/fd). Elsewhere: False (not known)."""
    if not sys.platform.startswith("linux") or not os.path.isdir("/proc/self/fd"):
        return False
    try:
        st = path.stat()
    except OSError:
        return False
    key = (st.st_dev, st.st_ino)
    me = str(os.getpid())
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or pid == me:
            continue
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                other = os.stat(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if (other.st_dev, other.st_ino) == key:
                logger.info("%s is open in process %s", path, pid)
                return True
    return False


def database_in_use(path: Path, timeout: float = LOCK_TIMEOUT) -> bool:
    """True when another connection uses the SQLite database at ``path``.

    An exclusive lock (``locking_mode=EXCLUSIVE`` then ``BEGIN EXCLUSIVE``) cannot be taken while another
    process has a transaction open, nor, in WAL mode, while another connection is open at all. Closing our
    connection checkpoints and removes the -wal; one that is still there belongs to someone else.
    """
    path = Path(path)
    if not path.is_file() or not is_sqlite(path):
        return False
    wal = Path(f"{path}-wal")
    try:
        conn = sqlite3.connect(sqlite_uri(path, "mode=rw"), uri=True, timeout=timeout, isolation_level=None)
    except sqlite3.Error as exc:
        logger.info("cannot open %s to check it is free: %s", path, exc)
        return False
    try:
        conn.execute("PRAGMA locking_mode=EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "locked" in text or "busy" in text:
            logger.info("%s is locked by another connection: %s", path, exc)
            return True
        logger.info("could not lock %s (%s); treating it as not in use", path, exc)
    except sqlite3.DatabaseError as exc:
        logger.info("%s is not a readable database (%s); treating it as not in use", path, exc)
    finally:
        conn.close()
    if wal.exists():
        logger.info("%s still exists after our connection closed: another connection has it open", wal)
        return True
    return _open_by_another_process(path)


def check_not_in_use(databases: list[Path]) -> None:
    for db in databases:
        if database_in_use(db):
            raise PosInUse(db)
