"""The command line for the backups' password (wizard.core.encryption): ``password set`` and ``password sheet``.

``add_parsers`` adds them to the main parser; ``COMMANDS`` maps the subcommand to its handler, which returns
the exit code. UserError is left to the caller (``wizard.cli.main`` prints it and exits with its code).
The password is never printed or logged; the recovery sheet that holds it is written only by the user (0600).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from wizard.core import paths, secrets
from wizard.core.encryption import password as passwords
from wizard.core.encryption import sheet
from wizard.i18n import _

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parsers(subparsers, config_parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("password", parents=[config_parent],
                                   help=_("la contraseña que protege los respaldos y su hoja de recuperación"))
    actions = parser.add_subparsers(dest="password_command", metavar="ACCIÓN", required=True)
    actions.add_parser("set", parents=[config_parent],
                       help=_("guarda en el llavero del sistema la contraseña de los respaldos nuevos (de la "
                              "entrada estándar si no es una terminal) y escribe la hoja de recuperación"))
    p = actions.add_parser("sheet", parents=[config_parent],
                           help=_("vuelve a escribir la hoja de recuperación con la contraseña actual"))
    p.add_argument("--out", metavar="ARCHIVO", type=Path,
                   help=_("dónde guardarla (además de la copia en la carpeta de datos)"))


def _config_path(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "config", None) or paths.default_config_path())


def _config(args: argparse.Namespace):
    """The config when there is one (the sheet names where backups go); defaults before the first setup."""
    from wizard.core import config

    path = _config_path(args)
    return config.load(path) if path.exists() else config.Config()


def cmd_password(args: argparse.Namespace) -> int:
    return {"set": cmd_set, "sheet": cmd_sheet}[args.password_command](args)


def _read_new_password() -> tuple[str, list[str]]:
    """From standard input when it is not a terminal (one line, kept as typed), else a hidden prompt twice."""
    if sys.stdin is not None and sys.stdin.isatty():
        value = getpass.getpass(_("Contraseña nueva de los respaldos (no se muestra; al menos {n} caracteres): ")
                                .format(n=passwords.MIN_LENGTH))
        if len(value) < passwords.MIN_LENGTH:
            return value, passwords.check_new_password(value, value)
        again = getpass.getpass(_("Escríbela otra vez: "))
        return value, passwords.check_new_password(value, again)
    value = (sys.stdin.readline() if sys.stdin is not None else "").rstrip("\r\n")
    return value, passwords.check_new_password(value, value)


def cmd_set(args: argparse.Namespace) -> int:
    cfg = _config(args)
    value, problems = _read_new_password()
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return EXIT_USAGE
    had_one = bool(secrets.get_secret(passwords.secret_name()))
    try:
        passwords.set_password(cfg, value)
    except secrets.KeyringUnavailable as exc:
        print(f"{exc}\n{secrets.config_hint(_config_path(args))}", file=sys.stderr)
        return EXIT_FAILED
    notice = secrets.file_notice(passwords.secret_name())
    print(notice or _("Contraseña de los respaldos guardada en el llavero del sistema."))
    if had_one:
        print(_("Vale para los respaldos nuevos; los anteriores se siguen abriendo con la contraseña anterior, "
                "que también queda guardada."))
    _print_sheet(cfg, value, None)
    if os.environ.get(passwords.ENV_VAR):
        print(_("Aviso: la variable de entorno RESPALDOS_PASSWORD está definida; mientras lo esté, los respaldos "
                "nuevos usan esa y no la que acabas de guardar."), file=sys.stderr)
    encryption = getattr(cfg, "encryption", None)
    if encryption is not None and not encryption.enabled:
        print(_("Los respaldos todavía no se cifran: activa «Proteger los respaldos con contraseña» en la ventana, "
                "o pon enabled = true en la sección [encryption] de {path}.").format(path=_config_path(args)))
    return EXIT_OK


def cmd_sheet(args: argparse.Namespace) -> int:
    cfg = _config(args)
    value = passwords.require_password(cfg)
    _print_sheet(cfg, value, args.out)
    return EXIT_OK


def _print_sheet(cfg, value: str, out: Path | None) -> None:
    written = [sheet.write_sheet(cfg, value)]
    if out is not None:
        written.append(sheet.write_sheet(cfg, value, out))
    for path in written:
        print(_("Hoja de recuperación: {path}").format(path=path))
    print(_("Ábrela en el navegador, imprímela y guárdala lejos de la computadora. Si pierdes esta contraseña, "
            "pierdes los respaldos: nadie puede abrirlos sin ella."))


COMMANDS = {"password": cmd_password}
