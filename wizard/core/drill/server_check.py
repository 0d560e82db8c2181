"""A server database's dump, tested: loaded into a throwaway copy on its server (MySQL/MariaDB: a temporary
database ``respaldos_prueba_<installation>_<pid>_<hex>``; Firebird: ``gbak -c`` into a file in the sandbox),
checked there, and dropped in a ``finally``. Copies left by a killed drill of this installation (their pid
is gone) are dropped by the next one."""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
from collections.abc import Callable
from pathlib import Path

from wizard.core import machine
from wizard.core.archive import Manifest, ManifestFile
from wizard.core.config import Config, DatabaseSource
from wizard.core.drill import newest as dates
from wizard.core.drill.result import DatabaseCheck, DrillProgress
from wizard.core.drill.server_queries import queries_for
from wizard.core.errors import UserError
from wizard.core.fsutil import pid_alive
from wizard.core.restore.dumps import server_dumps
from wizard.core.servers import engine_of_kind, get_password, restore_dump
from wizard.core.servers.credentials import Login, PrivateFolder
from wizard.i18n import _

logger = logging.getLogger(__name__)

TEMP_PREFIX = "respaldos_prueba_"
DATE_TABLES = 3


def installation_mark() -> str:
    """Eight hex digits of this installation's id: copies another computer's drill made are never ours."""
    return re.sub(r"[^0-9a-f]", "", machine.installation_id().lower())[:8]


def temp_name() -> str:
    return f"{TEMP_PREFIX}{installation_mark()}_{os.getpid()}_{secrets.token_hex(3)}"


def leftover_pattern() -> str:
    return rf"{TEMP_PREFIX}{installation_mark()}_(\d+)_[0-9a-f]+"


def configured_source(config: Config, manifest: Manifest, mf: ManifestFile) -> DatabaseSource | None:
    """The config entry the dump in ``mf`` was made from (by its name and engine), None when there is none."""
    engine = engine_of_kind(mf.kind)
    names = [d.name for d in server_dumps(manifest) if d.member == mf.path]
    for db in config.source.databases:
        if db.engine == engine and names and db.label.casefold() == names[0].casefold():
            return db
    return None


def check_dump(config: Config, archive: Path, manifest: Manifest, mf: ManifestFile, sandbox: Path, *,
               report: Callable[[DrillProgress], None] | None = None,
               cancel: threading.Event | None = None) -> DatabaseCheck:
    """Load the dump ``mf`` of ``archive`` into a throwaway copy on its server and check it there."""
    kind = engine_of_kind(mf.kind) or mf.kind
    db = configured_source(config, manifest, mf)
    if db is None:
        return DatabaseCheck(mf.path, kind, _(
            "no se pudo cargar para probarla: su base de datos no está en la configuración de este equipo "
            "([[source.databases]])."))
    try:
        queries = queries_for(db)
        password = get_password(db)
    except UserError as exc:  # a client tool missing, a keyring that refuses
        return DatabaseCheck(mf.path, kind, str(exc))
    folder = PrivateFolder()
    login = Login(db, password, folder)
    target = None
    try:
        _drop_leftovers(queries, login)
        target = queries.target(temp_name(), sandbox)
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            done += n
            if report is not None:
                report(DrillProgress("server", min(100.0, 100.0 * done / max(mf.size, 1)), mf.path))

        restore_dump(archive, db, target=target, password=password, cancel=cancel, progress=progress)
        if report is not None:
            report(DrillProgress("check", 100.0, mf.path))
        counts = queries.counts(login, target)
        verdict = queries.integrity(login, target, sorted(counts))
        return DatabaseCheck(mf.path, kind, verdict, counts, _newest(queries, login, target, counts))
    except UserError as exc:
        logger.info("drill of dump %s failed: %s", mf.path, exc)
        return DatabaseCheck(mf.path, kind, str(exc))
    finally:
        try:
            if target is not None:
                queries.drop(login, target)
        finally:
            folder.cleanup()


def _drop_leftovers(queries, login: Login) -> None:
    """Drop the copies of this installation's killed drills (their pid is gone) on this server."""
    try:
        names = queries.leftovers(login, leftover_pattern())
    except UserError as exc:
        logger.info("leftover drill copies not listed: %s", exc)
        return
    for name in names:
        found = re.fullmatch(leftover_pattern(), name)
        if found and not pid_alive(int(found.group(1))):
            logger.info("dropping %s, left by a drill that was killed", name)
            queries.drop(login, name)


def _newest(queries, login: Login, target: str, counts: dict[str, int]):
    cap = dates.latest_allowed().strftime("%Y-%m-%d %H:%M:%S")
    biggest = set(sorted((t for t, n in counts.items() if n), key=lambda t: counts[t], reverse=True)[:DATE_TABLES])
    values = []
    try:
        for table, column in queries.date_columns(login, target):
            if table in biggest:
                values.append(queries.newest(login, target, table, column, cap))
    except UserError as exc:
        logger.info("newest date of %s not read: %s", target, exc)
    return dates.newest_of(values)
