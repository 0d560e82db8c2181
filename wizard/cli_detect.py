"""``respaldos detect``: look for the point of sale's data on this computer and list it, most likely first.

``add_parsers`` adds the subcommand to the main parser; ``COMMANDS`` maps it to its handler, which returns the
exit code. A MySQL password is never an argument: with ``--mysql-user`` it is read from standard input (one
line) or, at a terminal, asked for without showing it. docs/detect.md.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import time

from wizard.core.detect import MySQLLogin, describe, detect, walk
from wizard.i18n import _, ngettext

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
NOT_COVERED_SHOWN = 10  # folders named before "y N más"


def add_parsers(subparsers, config_parent: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser("detect", parents=[config_parent],
                              help=_("busca en este equipo los datos del punto de venta (bases de datos y servidores)"))
    p.add_argument("--roots", metavar="DIR", nargs="+",
                   help=_("busca solo en estas carpetas (si no, en los lugares habituales de este sistema)"))
    p.add_argument("--json", action="store_true", help=_("imprime un objeto JSON en vez de una lista en palabras"))
    p.add_argument("--budget", metavar="SEGUNDOS", type=float, default=walk.DEFAULT_BUDGET,
                   help=_("tiempo máximo de búsqueda en las carpetas (predeterminado: {n} s)").format(
                       n=int(walk.DEFAULT_BUDGET)))
    p.add_argument("--removable", action="store_true",
                   help=_("busca también en memorias USB, discos externos y unidades de red"))
    p.add_argument("--no-servers", dest="servers", action="store_false",
                   help=_("no busca servidores MySQL/MariaDB ni Firebird"))
    p.add_argument("--mysql-user", metavar="USUARIO",
                   help=_("lista las bases de datos de los servidores MySQL/MariaDB con este usuario; la contraseña "
                          "se lee de la entrada estándar (o se pide sin mostrarla)"))
    p.add_argument("--mysql-port", metavar="PUERTO", type=int, action="append", default=[],
                   help=_("busca también un servidor MySQL/MariaDB en este puerto (además del 3306)"))
    p.add_argument("--firebird-port", metavar="PUERTO", type=int, action="append", default=[],
                   help=_("busca también un servidor Firebird en este puerto (además del 3050)"))


def _read_password(user: str) -> str:
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(_("Contraseña de MySQL de {user} (no se muestra): ").format(user=user))
    return (sys.stdin.readline() if sys.stdin is not None else "").rstrip("\r\n")


def cmd_detect(args: argparse.Namespace) -> int:
    if args.budget < 0:
        print(_("--budget debe ser un número de segundos, 0 o más."), file=sys.stderr)
        return EXIT_USAGE
    login = MySQLLogin(args.mysql_user, _read_password(args.mysql_user)) if args.mysql_user else None
    result = detect(args.roots, budget=args.budget, mysql_login=login, include_removable=args.removable,
                    look_for_servers=args.servers,
                    extra_ports={"mysql": args.mysql_port, "firebird": args.firebird_port})
    if args.json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
    else:
        print_in_words(result)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    return EXIT_OK


def print_in_words(result) -> None:
    now = time.time()
    if not result.found:
        print(_("No se encontraron datos de un punto de venta."))
    for found in result.found:
        print(describe.headline(found))
        line = describe.details(found, now)
        if line:
            print("   " + line)
        if found.kind == "access":
            print("   " + _("Aviso: {warning}.").format(warning=describe.access_warning()))
        for note in found.notes:
            print("   " + note)
        if found.kind == "mysql-server" and not any(
                f.kind == "mysql-database" and (f.host, f.port) == (found.host, found.port) for f in result.found):
            print("   " + _("Para ver sus bases de datos: respaldos detect --mysql-user USUARIO "
                          "(la contraseña se pide aparte)."))
    if result.unreadable:
        print(ngettext("No se pudo entrar en {n} carpeta:", "No se pudo entrar en {n} carpetas:",
                       len(result.unreadable)).format(n=len(result.unreadable)))
        for folder in result.unreadable[:NOT_COVERED_SHOWN]:
            print("   " + folder)
    if result.stopped:
        seconds = round(result.seconds) if result.seconds >= 1 else round(result.seconds, 2)
        reason = (_("Se acabó el tiempo de búsqueda ({n} s).").format(n=seconds)
                  if result.stopped == "budget" else _("Búsqueda cancelada."))
        print(reason + " " + ngettext("Faltó revisar {n} carpeta:", "Faltó revisar {n} carpetas:",
                                      len(result.not_covered)).format(n=len(result.not_covered)))
        for folder in result.not_covered[:NOT_COVERED_SHOWN]:
            print("   " + folder)
        more = len(result.not_covered) - NOT_COVERED_SHOWN
        if more > 0:
            print("   " + ngettext("y {n} más", "y {n} más", more).format(n=more))
        print(_("Para buscar más tiempo: respaldos detect --budget SEGUNDOS, o solo en una carpeta: "
                "respaldos detect --roots CARPETA."))


COMMANDS = {"detect": cmd_detect}
