"""Finds in words, for the command line and the window: what, where, how big, when it last changed."""

from __future__ import annotations

import time

from wizard.core.detect.found import Found
from wizard.core.units import format_size
from wizard.i18n import _, ngettext


def what(found: Found) -> str:
    """ "base de datos MySQL 'sicar'", "base de datos SQLite"."""
    names = {
        "sqlite": _("base de datos SQLite"), "firebird": _("base de datos Firebird"),
        "access": _("archivo de Microsoft Access"), "mysql-server": _("servidor MySQL/MariaDB"),
        "firebird-server": _("servidor Firebird"), "mysql-database": _("base de datos MySQL"),
    }
    text = names.get(found.kind, found.kind)
    if found.database:
        text += f" '{found.database}'"
    return text


def where(found: Found) -> str:
    """The file, or the server's address."""
    if found.path:
        return found.path
    return f"{found.host}:{found.port}"


def headline(found: Found) -> str:
    """ "Encontramos SICAR: base de datos MySQL 'sicar' en este equipo" or "Base de datos SQLite: C:\\...\\x.db"."""
    if found.program:
        place = _("en este equipo") if found.path is None else _("en {path}").format(path=found.path)
        return _("Encontramos {program}: {what} {where}").format(program=found.program, what=what(found),
                                                                 where=place)
    text = what(found)
    return f"{text[:1].upper()}{text[1:]}: {where(found)}"


def age(modified: float | None, now: float | None = None) -> str:
    """ "modificada hace 3 minutos", "modificada hace 2 días"; "" when unknown."""
    if modified is None:
        return ""
    seconds = max(0.0, (time.time() if now is None else now) - modified)
    if seconds < 60:
        return _("modificada hace menos de un minuto")
    minutes = int(seconds // 60)
    if minutes < 60:
        return ngettext("modificada hace {n} minuto", "modificada hace {n} minutos", minutes).format(n=minutes)
    hours = minutes // 60
    if hours < 48:
        return ngettext("modificada hace {n} hora", "modificada hace {n} horas", hours).format(n=hours)
    days = hours // 24
    return ngettext("modificada hace {n} día", "modificada hace {n} días", days).format(n=days)


def details(found: Found, now: float | None = None) -> str:
    """ "1.2 MB · modificada hace 3 minutos"."""
    parts = []
    if found.size is not None:
        parts.append(format_size(found.size))
    changed = age(found.modified, now)
    if changed:
        parts.append(changed)
    return " · ".join(parts)




def access_warning() -> str:
    return _("copie estos archivos con el punto de venta cerrado")
