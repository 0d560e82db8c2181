"""What went wrong with a server database, as plain sentences that say what to do.

Every error here is a UserError (shown without a traceback). Each engine reads its tools' error output into
``ErrorSigns``; ``Engine.classify`` (engine.py) turns them into one of these sentences.
"""

from __future__ import annotations

from dataclasses import dataclass

from wizard.core.config import DatabaseSource
from wizard.core.errors import UserError
from wizard.i18n import _, ngettext


class DatabaseError(UserError):
    """A server database could not be reached, dumped or restored."""


class ClientNotFound(DatabaseError):
    """mysqldump / gbak (or mysql / isql) is not on this computer."""


class ServerNotRunning(DatabaseError):
    """Nothing answers at host:port, or the host name is unknown."""


class WrongPassword(DatabaseError):
    """The server refused the user or its password."""


class DatabaseMissing(DatabaseError):
    """The server runs but has no such database (or file)."""


class DumpIncomplete(DatabaseError):
    """The tool ended without saying the dump (or restore) completed."""


class DatabaseInUse(DatabaseError):
    """Other connections use the database that would be replaced."""


class ConnectionsUnknown(DatabaseError):
    """Whether other connections use the database cannot be checked (no query tool, or not allowed)."""


@dataclass(frozen=True)
class ErrorSigns:
    """What a tool's error output says happened, as its engine reads it."""

    unknown_host: bool = False
    unreachable: bool = False
    wrong_password: bool = False
    missing: bool = False
    denied: bool = False
    exists: bool = False


def where(db: DatabaseSource) -> str:
    """host:port as the user typed them, for messages."""
    return f"{db.host}:{db.effective_port}"


def unknown_host(db: DatabaseSource, engine: str) -> ServerNotRunning:
    return ServerNotRunning(_(
        "No se encontró el equipo {host} del servidor {engine}. Revisa el nombre del equipo (host) de la "
        "base de datos {name}.").format(host=db.host, engine=engine, name=db.label))


def unreachable(db: DatabaseSource, engine: str) -> ServerNotRunning:
    return ServerNotRunning(_(
        "No se pudo conectar con el servidor {engine} en {where}. Revisa que el servidor de la base de "
        "datos esté encendido y que el equipo y el puerto sean correctos.").format(engine=engine,
                                                                                  where=where(db)))


def no_answer(db: DatabaseSource, engine: str) -> ServerNotRunning:
    return ServerNotRunning(_(
        "El servidor {engine} en {where} no respondió a tiempo. Revisa que esté encendido y vuelve a "
        "intentar.").format(engine=engine, where=where(db)))


def wrong_password(db: DatabaseSource, engine: str) -> WrongPassword:
    return WrongPassword(_(
        "El servidor {engine} rechazó el usuario {user} o su contraseña para la base de datos {name}. "
        "Escribe la contraseña otra vez en Respaldos (Qué respaldar) o con: respaldos db password {name}").format(
        engine=engine, user=db.effective_user, name=db.label))


def already_exists(db: DatabaseSource) -> DatabaseError:
    return DatabaseError(_(
        "Ya existe una base de datos con ese nombre en el servidor {where}; elige otro nombre.").format(
        where=where(db)))


def not_allowed(db: DatabaseSource, admin: str) -> DatabaseError:
    """The user lacks a permission; ``admin`` names one who has them all ("root", "SYSDBA")."""
    return DatabaseError(_(
        "El usuario {user} no tiene permiso para respaldar la base de datos {name}. Usa un usuario con todos "
        "los permisos de lectura sobre ella (por ejemplo {default}).").format(
        user=db.effective_user, name=db.label, default=admin))


def tool_failed(db: DatabaseSource, text: str, action: str = "backup") -> DatabaseError:
    """Any other failure: the last lines the tool wrote, and where the rest is."""
    detail = last_lines(text) or _("sin más detalles")
    if action == "restore":
        return DatabaseError(_("No se pudo restaurar la base de datos {name}: {detail}. Los detalles están en el "
                               "registro.").format(name=db.label, detail=detail))
    return DatabaseError(_("No se pudo respaldar la base de datos {name}: {detail}. Los detalles están en el "
                           "registro.").format(name=db.label, detail=detail))


def cannot_start(tool: str, exc: OSError) -> ClientNotFound:
    return ClientNotFound(_("No se pudo ejecutar {tool}: {error}").format(tool=tool, error=exc.strerror or exc))


def in_use(count: int, db: DatabaseSource) -> DatabaseInUse:
    return DatabaseInUse(ngettext(
        "Hay {n} conexión abierta a la base de datos {name}. Cierra el punto de venta en todas las cajas y "
        "vuelve a intentar.",
        "Hay {n} conexiones abiertas a la base de datos {name}. Cierra el punto de venta en todas las cajas y "
        "vuelve a intentar.", count).format(n=count, name=db.label))


def last_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines[-count:])
