"""What a drill asks a server about a dump it loaded, one class per engine with the same few functions:
where the throwaway copy goes, which leftovers of killed drills there are, how to drop one, the integrity
check, the rows of every table and the date-looking columns. Read-only queries through the engine's query
tool (``Engine.run``: the password never on a command line)."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from pathlib import Path, PurePosixPath, PureWindowsPath

from wizard.core.config import DatabaseSource
from wizard.core.servers import errors, find_tool
from wizard.core.servers.credentials import Login
from wizard.core.servers.registry import engine_of
from wizard.core.servers.tools import exe, is_program
from wizard.i18n import _

logger = logging.getLogger(__name__)

LOCAL_HOSTS = ("", "localhost", "127.0.0.1", "::1")


class MySQLQueries:
    """MySQL/MariaDB: a temporary database on the configured server, CHECK TABLE, COUNT(*)."""

    def __init__(self, db: DatabaseSource):
        self.db = db
        self.engine = engine_of(db)
        self.tool = find_tool(db, "query")

    def target(self, name: str, sandbox: Path) -> str:
        return name

    def leftovers(self, login: Login, pattern: str) -> list[str]:
        out = self._run(login, None, "SHOW DATABASES LIKE 'respaldos\\_prueba\\_%'")
        return [line.strip() for line in out.splitlines() if re.fullmatch(pattern, line.strip())]

    def drop(self, login: Login, target: str) -> None:
        self.engine.remove_failed_target(login, self.tool, target)

    def integrity(self, login: Login, target: str, tables: list[str]) -> str:
        if not tables:
            return "ok"
        out = self._run(login, target, "CHECK TABLE " + ", ".join(_backquote(t) for t in tables))
        bad = []
        for line in out.splitlines():
            fields = line.split("\t")
            if len(fields) >= 4 and (fields[2].lower() == "error" or
                                     (fields[2].lower() == "status" and fields[3].strip().upper() != "OK")):
                bad.append(f"{fields[0]}: {fields[3].strip()}")
        return "ok" if not bad else "; ".join(bad[:3])

    def counts(self, login: Login, target: str) -> dict[str, int]:
        out = self._run(login, target, "SELECT table_name FROM information_schema.tables WHERE table_schema = "
                                       "DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name")
        tables = [line for line in out.splitlines() if line]
        if not tables:
            return {}
        sql = " UNION ALL ".join(f"SELECT COUNT(*) FROM {_backquote(t)}" for t in tables)
        values = self._run(login, target, sql).split()
        return {t: int(v) for t, v in zip(tables, values, strict=False) if v.isdigit()}

    def date_columns(self, login: Login, target: str) -> list[tuple[str, str]]:
        out = self._run(login, target, "SELECT table_name, column_name FROM information_schema.columns WHERE "
                                       "table_schema = DATABASE() AND data_type IN ('date', 'datetime', 'timestamp')")
        return [tuple(line.split("\t", 1)) for line in out.splitlines() if "\t" in line]  # type: ignore[misc]

    def newest(self, login: Login, target: str, table: str, column: str, cap: str) -> str | None:
        col = _backquote(column)
        out = self._run(login, target, f"SELECT MAX({col}) FROM {_backquote(table)} WHERE {col} <= '{cap}'").strip()
        return None if out in ("", "NULL") else out

    def _run(self, login: Login, database: str | None, sql: str) -> str:
        common = self.engine.common_args(login, self.tool)  # type: ignore[attr-defined]
        args = [*common, "--batch", "--skip-column-names"]
        if database:
            args.append(f"--database={database}")
        return self.engine.run([*args, "-e", sql], login)


class FirebirdQueries:
    """Firebird: ``gbak -c`` into a file in the sandbox (a local server) or beside the original (a remote one,
    dropped afterwards), ``gfix -v -full`` when it is installed, COUNT(*) through isql."""

    def __init__(self, db: DatabaseSource):
        self.db = db
        self.engine = engine_of(db)
        self.tool = find_tool(db, "query")
        gfix = find_tool(db, "dump").parent / exe("gfix")
        self.gfix = gfix if is_program(gfix) else None

    def local(self) -> bool:
        return self.db.host.strip().lower() in LOCAL_HOSTS

    def target(self, name: str, sandbox: Path) -> str:
        if self.local():
            return str(sandbox / f"{name}.fdb")
        path = self.db.path
        pure = PureWindowsPath(path) if ("\\" in path or re.match(r"^[A-Za-z]:", path)) else PurePosixPath(path)
        if len(pure.parts) < 2:  # an alias: no folder known on the server
            raise errors.DatabaseError(_(
                "La base de datos {name} está configurada con un alias ({path}); la prueba necesita la ruta "
                "completa de su archivo en el servidor.").format(name=self.db.label, path=path))
        return str(pure.with_name(f"{name}.fdb"))

    def leftovers(self, login: Login, pattern: str) -> list[str]:
        return []  # local copies live in the sandbox, removed with it; a server's files cannot be listed

    def drop(self, login: Login, target: str) -> None:
        if self.local():
            return  # the file is in the sandbox
        try:
            self._isql(login, target, "DROP DATABASE;\n")
        except errors.DatabaseError:
            pass

    def integrity(self, login: Login, target: str, tables: list[str]) -> str:
        if self.gfix is None:
            return "ok"  # gbak -c rebuilt every page and index without complaint
        args = [str(self.gfix), "-v", "-full", "-n", *self.engine.auth_args(login),  # type: ignore[attr-defined]
                self.engine.target(self.db, target)]  # type: ignore[attr-defined]
        done = self.engine.run_raw(args, login)
        text = (done.stdout + "\n" + done.stderr).strip()
        logger.info("gfix -v -full of %s: exit %s %s", target, done.returncode, text[-500:])
        if done.returncode != 0 or re.search(r"error|corrupt", text, re.IGNORECASE):
            return errors.last_lines(text) or "gfix"
        return "ok"

    def counts(self, login: Login, target: str) -> dict[str, int]:
        out = self._isql(login, target, "SET LIST ON;\nSELECT TRIM(RDB$RELATION_NAME) AS TABLA FROM RDB$RELATIONS "
                                        "WHERE COALESCE(RDB$SYSTEM_FLAG, 0) = 0 AND RDB$VIEW_BLR IS NULL ORDER BY 1;\n")
        tables = re.findall(r"^TABLA\s+(.+?)\s*$", out, re.MULTILINE)
        if not tables:
            return {}
        sql = "SET LIST ON;\n" + "".join(f"SELECT COUNT(*) AS N FROM {_dquote(t)};\n" for t in tables)
        values = re.findall(r"^N\s+(\d+)", self._isql(login, target, sql), re.MULTILINE)
        return {t: int(v) for t, v in zip(tables, values, strict=False)}

    def date_columns(self, login: Login, target: str) -> list[tuple[str, str]]:
        out = self._isql(login, target, (
            "SET LIST ON;\nSELECT TRIM(RF.RDB$RELATION_NAME) AS T, TRIM(RF.RDB$FIELD_NAME) AS C "
            "FROM RDB$RELATION_FIELDS RF "
            "JOIN RDB$FIELDS F ON F.RDB$FIELD_NAME = RF.RDB$FIELD_SOURCE JOIN RDB$RELATIONS R ON "
            "R.RDB$RELATION_NAME = RF.RDB$RELATION_NAME WHERE F.RDB$FIELD_TYPE IN (12, 29, 35) AND "
            "COALESCE(R.RDB$SYSTEM_FLAG, 0) = 0 AND R.RDB$VIEW_BLR IS NULL;\n"))
        return re.findall(r"^T\s+(.+?)\s*\nC\s+(.+?)\s*$", out, re.MULTILINE)

    def newest(self, login: Login, target: str, table: str, column: str, cap: str) -> str | None:
        col = _dquote(column)
        out = self._isql(login, target, f"SET LIST ON;\nSELECT MAX({col}) AS M FROM {_dquote(table)} "
                                        f"WHERE {col} <= '{cap}';\n")
        found = re.search(r"^M\s+(.+?)\s*$", out, re.MULTILINE)
        return None if found is None or found.group(1) == "<null>" else found.group(1)

    def _isql(self, login: Login, target: str, sql: str) -> str:
        engine = self.engine
        where = engine.target(self.db, target)  # type: ignore[attr-defined]
        return engine.run([str(self.tool), "-q", *engine.auth_args(login), where],  # type: ignore[attr-defined]
                          login, stdin_text=sql)


def queries_for(db: DatabaseSource) -> MySQLQueries | FirebirdQueries:
    """The engine's queries (finding its tools: ClientNotFound when they are missing)."""
    if db.engine == "firebird":
        return FirebirdQueries(db)
    return MySQLQueries(db)


def on_target(db: DatabaseSource, target: str) -> DatabaseSource:
    """The config entry pointed at the throwaway copy (for sentences and tools that name the database)."""
    return replace(db, database=target) if db.engine == "mysql" else replace(db, path=target)


def _backquote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _dquote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
