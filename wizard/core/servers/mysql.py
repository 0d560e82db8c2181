"""MySQL and MariaDB: mysqldump --single-transaction to dump, the mysql client to query and to load.

--single-transaction copies the InnoDB tables as of one moment without locking them (the POS keeps
selling); tables of other engines are named in the connection test's warning. docs/design.md, "Server
databases".
"""

from __future__ import annotations

import logging
import re
import subprocess
import sys
from pathlib import Path

from wizard.core.config import DatabaseSource
from wizard.core.servers import errors
from wizard.core.servers.credentials import Login, popen_flags
from wizard.core.servers.engine import Engine, ServerFacts
from wizard.i18n import _

logger = logging.getLogger(__name__)

MYSQL_TRAILER = b"-- Dump completed"
CONNECT_TIMEOUT = 15  # seconds to reach the server
# Engines whose tables mysqldump --single-transaction copies as of one moment (MVCC snapshots).
SNAPSHOT_ENGINES = ("InnoDB", "ROCKSDB")
_CODES = r"(1044|1045|1049|1007|1142|1227|1698|2002|2003|2005|2006|2013)"
# Where the clients put a code: "ERROR 1045 (28000): ...", "mysqldump: Got error: 1045: ...", "... (1227)"; not
# a number that merely appears in the failing statement they echo (a product called "ñandú 1007").
ERROR_CODES = re.compile(rf"(?:\bERROR |\berror: ){_CODES}\b|\({_CODES}\)")


class MySQL(Engine):
    display_name = "MySQL/MariaDB"
    kind = "mysql-dump"
    suffix = ".sql"
    dump_tools = ("mariadb-dump", "mysqldump")
    query_tools = ("mariadb", "mysql")
    restore_role = "query"
    query_tool_word = "mysql"
    default_admin = "root"
    password_file = "cliente.cnf"

    def install_patterns(self, program_folders: list[str]) -> list[str]:
        patterns = [f"{b}/{p}" for b in program_folders for p in ("MySQL/*/bin", "MariaDB*/bin", "MariaDB/*/bin")]
        if sys.platform == "win32":
            patterns += ["C:/xampp/mysql/bin", "C:/wamp64/bin/mysql/*/bin", "C:/wamp/bin/mysql/*/bin"]
        else:
            patterns += ["/usr/local/mysql/bin", "/opt/lampp/bin", "/opt/homebrew/bin", "/usr/local/bin"]
        return patterns

    def password_text(self, password: str) -> str:
        return "[client]\npassword=" + option_value(password) + "\n"

    def common_args(self, login: Login, tool: Path) -> list[str]:
        """The program, the password file, host, user and port: the start of every command line."""
        db = login.db
        args = [str(tool)]
        secret = self.password_path(login)
        if secret is not None:
            args.append(f"--defaults-extra-file={secret}")  # must come first
        args += [f"--host={db.host}", f"--user={db.effective_user}"]
        if "dump" not in tool.stem:  # mysqldump has no such option
            args.append(f"--connect-timeout={CONNECT_TIMEOUT}")
        if db.port or db.host.strip().lower() != "localhost":
            args += [f"--port={db.effective_port}", "--protocol=TCP"]
        return args

    def read_server(self, login: Login, query_tool: Path) -> ServerFacts:
        db = login.db
        sql = ("SELECT VERSION(), COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables "
               "WHERE table_schema = DATABASE(); "
               "SELECT CONCAT(table_name, ' (', engine, ')') FROM information_schema.tables "
               "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' "
               f"AND engine NOT IN ({', '.join(repr(e) for e in SNAPSHOT_ENGINES)}) ORDER BY table_name")
        out = self.run([*self.common_args(login, query_tool), "--batch", "--skip-column-names",
                        f"--database={db.database}", "-e", sql], login)
        lines = out.strip().splitlines() or [""]
        fields = lines[0].split("\t")
        size = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
        others = [line.strip() for line in lines[1:] if line.strip()]
        if others:
            logger.warning("database %s has tables that --single-transaction does not cover: %s", db.label,
                           ", ".join(others))
        return ServerFacts(fields[0], size, others)

    def check_with_dump_tool(self, login: Login, dump_tool: Path) -> None:
        self.run([*self.common_args(login, dump_tool), "--no-data", "--skip-triggers", "--no-tablespaces",
                  login.db.database], login)

    def dump_command(self, login: Login, tool: Path, log: Path) -> list[str]:
        args = [*self.common_args(login, tool), "--single-transaction", "--routines", "--triggers",
                "--events", "--hex-blob", "--no-tablespaces"]
        flavour, major = client_major(tool)
        if flavour == "mysql" and major >= 8:
            args.append("--column-statistics=0")  # MySQL 8's mysqldump against MariaDB or 5.7 servers
        args.append(login.db.database)
        return args

    def dump_completed(self, tail: bytes, log: str) -> bool:
        return MYSQL_TRAILER in tail

    def manifest_fields(self, db: DatabaseSource) -> dict[str, object]:
        return {"database": db.database}

    def default_restore_target(self, db: DatabaseSource, stamp: str) -> str:
        return f"{db.database[:40]}_restaurada_{stamp}"

    def count_other_connections(self, login: Login, query_tool: Path) -> tuple[int | None, bool]:
        # INNODB_TRX needs the PROCESS privilege, as seeing other users' rows of PROCESSLIST does.
        sql = ("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID(); "
               "SELECT COUNT(*) FROM information_schema.INNODB_TRX")
        args = [*self.common_args(login, query_tool), "--batch", "--skip-column-names",
                f"--database={login.db.database}", "-e", sql]
        done = self.run_raw(args, login)
        lines = done.stdout.split()
        count = int(lines[0]) if lines and lines[0].isdigit() else None
        sees_all = done.returncode == 0 and len(lines) == 2
        if done.returncode != 0 and not ("1227" in done.stderr and "PROCESS" in done.stderr and count is not None):
            raise self.failed(args, login, done)
        return count, sees_all

    def admin_hint(self) -> str:
        return _("root, o uno con el permiso PROCESS")

    def create_target(self, login: Login, tool: Path, target: str) -> None:
        self.run([*self.common_args(login, tool), "--batch", "-e", f"CREATE DATABASE {quote_ident(target)}"], login)

    def load_command(self, login: Login, tool: Path, target: str, replace: bool, log: Path) -> list[str]:
        return [*self.common_args(login, tool), "--batch", f"--database={target}"]

    def remove_failed_target(self, login: Login, tool: Path, target: str) -> None:
        try:
            self.run([*self.common_args(login, tool), "--batch", "-e",
                      f"DROP DATABASE IF EXISTS {quote_ident(target)}"], login)
        except errors.DatabaseError as exc:
            logger.warning("could not drop the half-restored database %s: %s", target, exc)

    def error_signs(self, text: str) -> errors.ErrorSigns:
        low = text.lower()
        found = ERROR_CODES.search(text)
        code = (found.group(1) or found.group(2)) if found else ""
        return errors.ErrorSigns(
            unreachable=code in ("2002", "2003", "2006", "2013") or "can't connect" in low,
            unknown_host=code == "2005" or "unknown mysql server host" in low or "unknown server host" in low,
            wrong_password=code in ("1045", "1698") or ("access denied for user" in low and "to database" not in low),
            missing=code == "1049" or "unknown database" in low,
            denied=code in ("1044", "1142", "1227") or "access denied" in low,
            exists=code == "1007" or "database exists" in low,
        )

    def missing_error(self, db: DatabaseSource) -> errors.DatabaseMissing:
        return errors.DatabaseMissing(_(
            "La base de datos {database} no existe en el servidor {where}. Revisa su nombre en la configuración."
        ).format(database=db.database, where=errors.where(db)))


def option_value(text: str) -> str:
    """A value for a MySQL option file: double-quoted, with backslash and quote escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def client_major(tool: Path) -> tuple[str, int]:
    """("mysql" | "mariadb", major version) of a mysqldump, from its --version line."""
    try:
        out = subprocess.run([str(tool), "--version"], check=False, capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL, **popen_flags()).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "mysql", 0
    if "mariadb" in out.lower():
        return "mariadb", 10
    m = re.search(r"Ver (\d+)\.", out)
    return "mysql", int(m.group(1)) if m else 0
