"""One search: the servers first (a second), then the folders within the time budget, then the MySQL
databases when a login was given; each find named after its program and ranked."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from wizard.core.detect import profiles, rank, roots, servers, walk
from wizard.core.detect.found import DetectResult, Found
from wizard.core.errors import UserError

logger = logging.getLogger(__name__)


@dataclass
class MySQLLogin:
    user: str
    password: str


def detect(search_roots: list[str] | None = None, *, budget: float = walk.DEFAULT_BUDGET,
           cancel: threading.Event | None = None, progress: Callable[[str, int, int], None] | None = None,
           mysql_login: MySQLLogin | None = None, extra_ports: dict[str, list[int]] | None = None,
           include_removable: bool = False, look_for_servers: bool = True) -> DetectResult:
    """Look for POS data on this computer (or under ``search_roots``) and return what was found, most likely
    first. Never writes; reads only file headers; server checks are read-only."""
    started = time.monotonic()
    result = DetectResult(roots=list(search_roots) if search_roots else roots.default_roots(include_removable))
    found: list[Found] = []
    if look_for_servers:
        found += servers.find_servers(extra_ports)
        if mysql_login is not None:
            for server in [f for f in found if f.kind == "mysql-server"]:
                found += databases_of(server, mysql_login, result.problems)
    walked = walk.walk(result.roots, budget=max(0.0, budget - (time.monotonic() - started)), cancel=cancel,
                       progress=progress)
    found += [Found(f.kind, path=f.path, size=f.size, modified=f.modified) for f in walked.files]
    profiles.apply(found)
    result.found = rank.rank(found, time.time())
    result.unreadable, result.not_covered, result.stopped = walked.unreadable, walked.not_covered, walked.stopped
    result.seconds = time.monotonic() - started
    logger.info("detect: %d found, %d folders, %d unreadable, %d not covered (%s) in %.1f s", len(found),
                walked.folders, len(walked.unreadable), len(walked.not_covered), walked.stopped, result.seconds)
    return result


def databases_of(server: Found, login: MySQLLogin, problems: list[str]) -> list[Found]:
    """The server's databases, or none with the reason added to ``problems`` (wrong password...)."""
    try:
        return servers.mysql_databases(server, login.user, login.password)
    except UserError as exc:
        problems.append(str(exc))
        return []
