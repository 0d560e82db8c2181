"""Testing a connection as a backup would: the server's version, the database's size, and what a consistent
dump would not cover."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from wizard.core.config import DatabaseSource
from wizard.core.servers.credentials import Login, PrivateFolder, get_password
from wizard.core.servers.errors import ClientNotFound, where
from wizard.core.servers.registry import ENGINE_NAMES, engine_of
from wizard.core.servers.tools import find_tool
from wizard.core.units import format_size
from wizard.i18n import _, ngettext

TABLES_NAMED = 5  # tables named in a warning before "y N más"


@dataclass
class ServerInfo:
    """What a connection test found: the server's version and how much the database takes there."""

    version: str = ""
    size: int | None = None  # bytes, when known
    dump_tool: Path | None = None
    # MySQL tables whose engine is not InnoDB, "clientes (MyISAM)": --single-transaction does not cover them
    inconsistent_tables: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        if not self.inconsistent_tables:
            return []
        shown = self.inconsistent_tables[:TABLES_NAMED]
        more = len(self.inconsistent_tables) - len(shown)
        names = ", ".join(shown)
        if more:
            names += " " + ngettext("y {n} más", "y {n} más", more).format(n=more)
        return [ngettext(
            "Aviso: la tabla {tables} no es InnoDB, así que su copia no es de un solo momento: si el punto de "
            "venta la cambia durante el respaldo, puede quedar desigual con las demás. Respalda con el punto de "
            "venta cerrado o pregunta a su proveedor si puede pasarla a InnoDB.",
            "Aviso: las tablas {tables} no son InnoDB, así que su copia no es de un solo momento: si el punto de "
            "venta las cambia durante el respaldo, pueden quedar desiguales con las demás. Respalda con el punto "
            "de venta cerrado o pregunta a su proveedor si puede pasarlas a InnoDB.",
            len(self.inconsistent_tables)).format(tables=names)]

    def summary(self, db: DatabaseSource) -> str:
        text = _("Conexión correcta con {engine} {version} en {where}.").format(
            engine=ENGINE_NAMES[db.engine], version=self.version, where=where(db)).replace("  ", " ")
        if self.size is not None:
            text += " " + _("La base de datos ocupa {size} en el servidor.").format(size=format_size(self.size))
        return "\n".join([text, *self.warnings])


def test_connection(db: DatabaseSource, password: str | None = None, *, use_keyring: bool = True) -> ServerInfo:
    """Connect as a backup would and read the server version and the database size.

    ``password`` None takes the one in the keyring (when ``use_keyring``). Raises the same plain-word
    errors a backup would: ClientNotFound, ServerNotRunning, WrongPassword, DatabaseMissing.
    """
    if password is None and use_keyring:
        password = get_password(db)
    engine = engine_of(db)
    dump_tool = find_tool(db, "dump")
    folder = PrivateFolder()
    try:
        login = Login(db, password, folder)
        try:
            query_tool = find_tool(db, "query")
        except ClientNotFound:
            query_tool = None
        if query_tool is None:
            # No mysql/isql next to the dump tool: a metadata-only dump proves the connection works.
            engine.check_with_dump_tool(login, dump_tool)
            return ServerInfo(dump_tool=dump_tool)
        facts = engine.read_server(login, query_tool)
        return ServerInfo(version=facts.version, size=facts.size, dump_tool=dump_tool,
                          inconsistent_tables=facts.inconsistent_tables)
    finally:
        folder.cleanup()
