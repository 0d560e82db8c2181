"""The command line of restore drills (wizard.core.drill): ``respaldos test-restore [ARCHIVO] [--from-cloud
NOMBRE] [--json]``. Exit 0 when everything passed, 1 when something did not, 2 for bad usage.

``add_parsers`` adds it to the main parser; ``COMMANDS`` maps the subcommand to its handler. UserError is
left to the caller (``wizard.cli.main`` prints it and exits with its code).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from pathlib import Path

from wizard.core import paths
from wizard.core.errors import UserError
from wizard.i18n import _, ngettext

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parsers(subparsers, config_parent: argparse.ArgumentParser) -> None:
    p = subparsers.add_parser(
        "test-restore", parents=[config_parent], help=_("prueba que un respaldo se puede restaurar"),
        description=_("Prueba que un respaldo se puede restaurar: lo extrae en una carpeta temporal, comprueba "
                      "cada archivo contra su manifiesto, abre cada base de datos (solo lectura), revisa su "
                      "integridad y cuenta sus filas; las copias de bases de datos de un servidor se cargan en una "
                      "base de datos temporal que se borra al terminar. Sin ARCHIVO, prueba el respaldo más "
                      "reciente de este equipo."))
    p.add_argument("archive", metavar="ARCHIVO", type=Path, nargs="?",
                   help=_("el respaldo (.zip); si no, el más reciente de este equipo en la carpeta de destino"))
    p.add_argument("--from-cloud", metavar="NOMBRE",
                   help=_("descarga de la nube el respaldo NOMBRE (respaldo_AAAA-MM-DD_HH-MM-SS.zip), comprueba "
                          "su suma y lo prueba; la descarga se borra al terminar"))
    p.add_argument("--json", action="store_true", help=_("escribe el resultado como un objeto JSON"))


def _config_path(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "config", None) or paths.default_config_path())


class _Progress:
    """A line per phase and every 10 % on the error stream (standard output keeps only the result)."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.last = (None, -1)

    def __call__(self, event) -> None:
        step = (event.phase, int(event.percent) // 10)
        if step != self.last:
            self.last = step
            self.stream.write(f"{int(event.percent):3d}% {event.detail}\n")
            self.stream.flush()


def cmd_test_restore(args: argparse.Namespace) -> int:
    from wizard.core import config as config_mod
    from wizard.core.drill import DrillUsage, run_drill
    from wizard.core.service import install_stop_signals

    if args.archive is not None and args.from_cloud is not None:
        raise DrillUsage(_("respaldos test-restore: indica un ARCHIVO o --from-cloud NOMBRE, no los dos."))
    config = config_mod.load(_config_path(args))
    cancel = threading.Event()
    install_stop_signals(cancel)  # Ctrl+C, SIGTERM: the sandbox and any temporary database go
    report = None if args.json or not sys.stderr.isatty() else _Progress()
    try:
        result = run_drill(config, args.archive, from_cloud=args.from_cloud, report=report, cancel=cancel)
    except UserError as exc:
        if args.json and exc.exit_code == EXIT_FAILED:  # no backup to test: still one object for a script
            name = args.from_cloud or (args.archive.name if args.archive is not None else None)
            print(json.dumps({"archive": name, "ok": False, "seconds": 0.0, "problem": str(exc), "databases": []},
                             ensure_ascii=False))
        raise
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        stream = sys.stdout if result.ok else sys.stderr
        print(result.sentence(), file=stream)
        for check in result.databases:
            print("  " + _line(check), file=stream)
    return EXIT_OK if result.ok else EXIT_FAILED


def _line(check) -> str:
    """ "datos/pos.db (sqlite): correcta, 3 tablas, 12,345 filas" """
    state = _("correcta") if check.ok else check.integrity
    tables = ngettext("{count} tabla", "{count} tablas", len(check.tables)).format(count=len(check.tables))
    rows = ngettext("{count} fila", "{count} filas", check.rows).format(count=f"{check.rows:,}")
    return f"{check.path} ({check.kind}): {state}, {tables}, {rows}"


COMMANDS = {"test-restore": cmd_test_restore}
