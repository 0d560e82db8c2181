"""Database servers on this computer: MySQL/MariaDB and Firebird listening on their ports or installed as
Windows services, and the databases a MySQL server holds (with a user and password the user gives).

Read-only: a TCP connect that sends nothing, ``sc query`` (Windows), and ``SHOW DATABASES`` plus one query
on information_schema through the mysql client the backups use (wizard.core.servers).
"""

from __future__ import annotations

import logging
import re
import socket
import subprocess
import sys

from wizard.core import servers as db_servers
from wizard.core.config import ENGINE_PORTS, DatabaseSource
from wizard.core.detect.found import Found
from wizard.core.servers.credentials import Login, PrivateFolder, popen_flags
from wizard.core.servers.mysql import MySQL

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 0.5  # seconds for each port
LOCAL_HOST = "localhost"
SYSTEM_SCHEMAS = frozenset({"information_schema", "performance_schema", "mysql", "sys"})
SERVER_KIND = {"mysql": "mysql-server", "firebird": "firebird-server"}
# Windows service names (case-folded) of each engine's server, as their installers name them.
SERVICE_PATTERNS = {"mysql": re.compile(r"^(mysql|mariadb)", re.IGNORECASE), "firebird": re.compile(r"^(firebird|interbase)", re.IGNORECASE)}


def listening(port: int, host: str = "127.0.0.1", timeout: float = CONNECT_TIMEOUT) -> bool:
    """Whether something accepts TCP connections at host:port (connect and close, nothing sent)."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def services_in(sc_output: str) -> dict[str, list[str]]:
    """{"mysql": [service names], "firebird": [...]} in the output of ``sc query type= service state= all``."""
    found: dict[str, list[str]] = {"mysql": [], "firebird": []}
    for name in re.findall(r"^\s*SERVICE_NAME:\s*(.+?)\s*$", sc_output, re.MULTILINE):
        for engine, pattern in SERVICE_PATTERNS.items():
            if pattern.search(name):
                found[engine].append(name)
    return found


def windows_services() -> dict[str, list[str]]:
    """The MySQL/MariaDB and Firebird services installed on this Windows computer (best effort)."""
    if sys.platform != "win32":
        return {"mysql": [], "firebird": []}
    try:
        out = subprocess.run(["sc", "query", "type=", "service", "state=", "all"], capture_output=True, text=True,
                             timeout=20, check=False, stdin=subprocess.DEVNULL, **popen_flags()).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {"mysql": [], "firebird": []}
    return services_in(out)


def find_servers(ports: dict[str, list[int]] | None = None) -> list[Found]:
    """The servers listening on this computer's usual ports (plus ``ports``: {"mysql": [3307]}), and those
    installed as services that do not answer (listed at their usual port)."""
    found: list[Found] = []
    services = windows_services()
    for engine, usual in ENGINE_PORTS.items():
        wanted = [usual, *(ports or {}).get(engine, [])]
        answering = [p for p in dict.fromkeys(wanted) if listening(p)]
        for port in answering:
            found.append(Found(SERVER_KIND[engine], host=LOCAL_HOST, port=port))
        if not answering and services[engine]:
            found.append(Found(SERVER_KIND[engine], host=LOCAL_HOST, port=usual))
    return found


def mysql_databases(server: Found, user: str, password: str) -> list[Found]:
    """The databases a MySQL/MariaDB server holds, with their size and last change when the server knows
    them. Raises the same plain errors a connection test does (WrongPassword, ServerNotRunning...)."""
    db = DatabaseSource(engine="mysql", host=server.host or LOCAL_HOST, port=server.port or ENGINE_PORTS["mysql"],
                        user=user)
    engine = db_servers.engine_of(db)
    assert isinstance(engine, MySQL)
    tool = db_servers.find_tool(db, "query")
    folder = PrivateFolder()
    try:
        login = Login(db, password, folder)
        sql = ("SHOW DATABASES; SELECT table_schema, COALESCE(SUM(data_length + index_length), 0), "
               "UNIX_TIMESTAMP(MAX(COALESCE(update_time, create_time))) FROM information_schema.tables "
               "GROUP BY table_schema")
        out = engine.run([*engine.common_args(login, tool), "--batch", "--skip-column-names", "-e", sql], login)
    finally:
        folder.cleanup()
    names: list[str] = []
    facts: dict[str, tuple[int | None, float | None]] = {}
    for line in out.splitlines():
        fields = line.split("\t")
        if len(fields) == 1 and fields[0]:
            names.append(fields[0])
        elif len(fields) == 3:
            size = int(fields[1]) if fields[1].isdigit() else None
            try:
                when = float(fields[2])
            except ValueError:
                when = None
            facts[fields[0]] = (size, when)
    return [Found("mysql-database", host=server.host, port=server.port, database=name,
                  size=facts.get(name, (None, None))[0], modified=facts.get(name, (None, None))[1])
            for name in names if name.casefold() not in SYSTEM_SCHEMAS]
