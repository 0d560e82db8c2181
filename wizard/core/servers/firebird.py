"""Firebird: gbak to dump (-b, a snapshot transaction) and to load (-c / -rep), isql to query.

A dump counts only when gbak's log says it finished; a restore on a server goes through its service
manager. docs/design.md, "Server databases".
"""

from __future__ import annotations

import re
import sys
from pathlib import Path, PurePosixPath, PureWindowsPath

from wizard.core.config import DatabaseSource
from wizard.core.servers import errors
from wizard.core.servers.credentials import Login
from wizard.core.servers.engine import Engine, ServerFacts
from wizard.i18n import _

GBAK_BACKUP_DONE = "closing file, committing, and finishing"
GBAK_RESTORE_DONE = "finishing, closing, and going home"


class Firebird(Engine):
    display_name = "Firebird"
    kind = "firebird-gbak"
    suffix = ".fbk"
    dump_tools = ("gbak",)
    query_tools = ("isql-fb", "isql")
    restore_role = "dump"
    query_tool_on_path = ("isql-fb",)
    query_tool_word = "isql"
    default_admin = "SYSDBA"
    password_file = "clave"

    def install_patterns(self, program_folders: list[str]) -> list[str]:
        patterns = [f"{b}/{p}" for b in program_folders for p in ("Firebird/*/bin", "Firebird/*")]
        if sys.platform != "win32":
            patterns += ["/opt/firebird/bin", "/Library/Frameworks/Firebird.framework/Resources/bin"]
        return patterns

    def query_tool_missing(self, folder: Path) -> errors.ClientNotFound:
        return errors.ClientNotFound(_("No se encontró el programa isql de Firebird junto a {folder}.").format(
            folder=folder))

    def target(self, db: DatabaseSource, path: str | None = None) -> str:
        """The database as gbak and isql name it: ``host/port:path``, or the path alone without a host."""
        path = db.path if path is None else path
        return f"{db.host}/{db.effective_port}:{path}" if db.host.strip() else path

    def auth_args(self, login: Login) -> list[str]:
        args = ["-user", login.db.effective_user]
        secret = self.password_path(login)
        if secret is not None:
            args += ["-fetch_password", secret]
        return args

    def read_server(self, login: Login, query_tool: Path) -> ServerFacts:
        sql = ("SET LIST ON;\nSELECT MON$PAGE_SIZE * MON$PAGES AS TAMANO, "
               "RDB$GET_CONTEXT('SYSTEM', 'ENGINE_VERSION') AS VERSION FROM MON$DATABASE;\n")
        out = self.run([str(query_tool), "-q", *self.auth_args(login), self.target(login.db)], login,
                       stdin_text=sql)
        size_m = re.search(r"^TAMANO\s+(\d+)", out, re.MULTILINE)
        version_m = re.search(r"^VERSION\s+(\S+)", out, re.MULTILINE)
        return ServerFacts(version_m.group(1) if version_m else "", int(size_m.group(1)) if size_m else None, [])

    def check_with_dump_tool(self, login: Login, dump_tool: Path) -> None:
        self.run([str(dump_tool), "-b", "-m", *self.auth_args(login), self.target(login.db), "stdout"], login)

    def dump_command(self, login: Login, tool: Path, log: Path) -> list[str]:
        return [str(tool), "-b", "-g", *self.auth_args(login), "-v", "-y", str(log), self.target(login.db),
                "stdout"]

    def dump_completed(self, tail: bytes, log: str) -> bool:
        return GBAK_BACKUP_DONE in log

    def manifest_fields(self, db: DatabaseSource) -> dict[str, object]:
        return {"file": db.path}

    def default_restore_target(self, db: DatabaseSource, stamp: str) -> str:
        pure = PureWindowsPath(db.path) if ("\\" in db.path or re.match(r"^[A-Za-z]:", db.path)) \
            else PurePosixPath(db.path)
        if len(pure.parts) < 2:
            raise errors.DatabaseError(_(
                "La base de datos {name} está configurada con un alias ({path}); indica la ruta completa del "
                "archivo nuevo en el servidor.").format(name=db.label, path=db.path))
        return str(pure.with_name(f"{pure.stem}_restaurada_{stamp}{pure.suffix or '.fdb'}"))

    def count_other_connections(self, login: Login, query_tool: Path) -> tuple[int | None, bool]:
        args = [str(query_tool), "-q", *self.auth_args(login), self.target(login.db)]
        # Monitoring tables show other users' attachments to SYSDBA, the owner and RDB$ADMIN only (Firebird 3);
        # Firebird 4 adds the MONITOR_ANY_ATTACHMENT privilege (an unknown name on 3: that statement fails).
        done = self.run_raw(args, login, stdin_text=(
            "SET LIST ON;\n"
            "SELECT COUNT(*) AS OTRAS FROM MON$ATTACHMENTS "
            "WHERE MON$ATTACHMENT_ID <> CURRENT_CONNECTION AND MON$SYSTEM_FLAG = 0;\n"
            "SELECT IIF(CURRENT_USER = 'SYSDBA' OR CURRENT_ROLE = 'RDB$ADMIN' OR CURRENT_USER = (SELECT "
            "TRIM(RDB$OWNER_NAME) FROM RDB$RELATIONS WHERE RDB$RELATION_NAME = 'RDB$DATABASE'), 1, 0) AS VE_TODAS "
            "FROM RDB$DATABASE;\n"
            "SELECT IIF(RDB$SYSTEM_PRIVILEGE(MONITOR_ANY_ATTACHMENT), 1, 0) AS PRIVILEGIO FROM RDB$DATABASE;\n"))
        found = re.search(r"^OTRAS\s+(\d+)", done.stdout, re.MULTILINE)
        if found is None:
            raise self.failed(args, login, done)
        sees_all = bool(re.search(r"^(VE_TODAS|PRIVILEGIO)\s+1\b", done.stdout, re.MULTILINE))
        return int(found.group(1)), sees_all

    def admin_hint(self) -> str:
        return _("SYSDBA o el dueño de la base de datos")

    def load_command(self, login: Login, tool: Path, target: str, replace: bool, log: Path) -> list[str]:
        db = login.db
        # Through the server's service manager when there is a server: the server writes the pages
        # itself (a plain remote restore sends every row over the network, ~20 times slower).
        where_to = ["-se", f"{db.host}/{db.effective_port}:service_mgr", target] if db.host.strip() else [target]
        return [str(tool), "-rep" if replace else "-c", *self.auth_args(login), "-v", "-y", str(log),
                *where_to[:-1], "stdin", where_to[-1]]

    def load_completed(self, text: str) -> bool:
        return GBAK_RESTORE_DONE in text

    def error_signs(self, text: str) -> errors.ErrorSigns:
        low = text.lower()
        return errors.ErrorSigns(
            unreachable="unable to complete network request" in low or "failed to establish a connection" in low
            or "connection refused" in low,
            unknown_host="failed to locate host machine" in low or "undefined service" in low,
            wrong_password="user name and password are not defined" in low or "login" in low and "not defined" in low,
            missing=('error during "open" operation' in low or "no such file or directory" in low
                     or "is not a valid database" in low or "error while trying to open file" in low),
            denied="no permission" in low,
            exists="already exists" in low,
        )

    def missing_error(self, db: DatabaseSource) -> errors.DatabaseMissing:
        return errors.DatabaseMissing(_(
            "No se encontró la base de datos {path} en el servidor {where}. Revisa la ruta (es la ruta en el "
            "equipo del servidor) o el alias en la configuración.").format(path=db.path, where=errors.where(db)))

    def statement_failed(self, stderr: str) -> bool:
        return "Statement failed" in stderr
