"""The command line for notices (wizard.core.notify): ``notify password smtp|telegram`` and ``notify test``.

``add_parsers`` adds them to the main parser; ``COMMANDS`` maps the subcommand to its handler, which returns
the exit code. UserError is left to the caller (``wizard.cli.main`` prints it and exits with its code).
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from wizard.core import notify, paths, secrets
from wizard.i18n import _

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parsers(subparsers, config_parent: argparse.ArgumentParser) -> None:
    parser = subparsers.add_parser("notify", parents=[config_parent],
                                   help=_("avisos al dueño por correo, Telegram y vigilancia (ping)"))
    actions = parser.add_subparsers(dest="notify_command", metavar="ACCIÓN", required=True)
    p = actions.add_parser("password", parents=[config_parent],
                           help=_("guarda en el llavero del sistema la contraseña del correo o el token del bot "
                                  "de Telegram (de la entrada estándar si no es una terminal)"))
    p.add_argument("kind", choices=sorted(notify.PASSWORDS), metavar="smtp|telegram")
    actions.add_parser("test", parents=[config_parent],
                       help=_("envía un mensaje de prueba por cada medio configurado"))


def _config_path(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "config", None) or paths.default_config_path())


def cmd_notify(args: argparse.Namespace) -> int:
    return {"password": cmd_password, "test": cmd_test}[args.notify_command](args)


def cmd_password(args: argparse.Namespace) -> int:
    """The secret comes from standard input when it is not a terminal (one line), else a hidden prompt."""
    prompt = (_("Contraseña del correo (no se muestra): ") if args.kind == "smtp"
              else _("Token del bot de Telegram (no se muestra): "))
    if sys.stdin is not None and sys.stdin.isatty():
        value = getpass.getpass(prompt)
    else:
        value = (sys.stdin.readline() if sys.stdin is not None else "").rstrip("\r\n")
    try:
        notify.set_password(args.kind, value)
    except secrets.KeyringUnavailable as exc:
        if not _file_allowed(args):
            print(f"{exc}\n{secrets.config_hint(_config_path(args))}", file=sys.stderr)
            return EXIT_FAILED
        with secrets.allow_file_storage():
            notify.set_password(args.kind, value)
    notice = secrets.file_notice(notify.PASSWORDS[args.kind].SECRET)
    if notice:
        print(_("Contraseña del correo guardada.") if args.kind == "smtp" else _("Token del bot de Telegram guardado."))
        print(notice)
    else:
        print(_("Contraseña del correo guardada en el llavero del sistema.") if args.kind == "smtp"
              else _("Token del bot de Telegram guardado en el llavero del sistema."))
    print(_("Pruébalo con: respaldos notify test"))
    return EXIT_OK


def _file_allowed(args: argparse.Namespace) -> bool:
    """``[secrets] allow_file`` in the config (read only when no keyring took the secret)."""
    from wizard.core import config

    path = _config_path(args)
    return path.exists() and config.load(path).secrets.allow_file


def cmd_test(args: argparse.Namespace) -> int:
    """One line per configured channel; exit 0 only if every one worked."""
    from wizard.core import config

    cfg = config.load(_config_path(args))
    results = notify.send_test(cfg)
    if not results:
        print(_("No hay avisos configurados: indica email_to y smtp_host, telegram_chat_id o ping_url en la "
                "sección [notify] de {path}, o configúralos desde la ventana.").format(path=_config_path(args)),
              file=sys.stderr)
        return EXIT_USAGE
    for result in results:
        title = result.title[:1].upper() + result.title[1:]
        if result.ok:
            print(_("{title} a {target}: enviado").format(title=title, target=result.target), flush=True)
        else:
            print(_("{title} a {target}: no se pudo enviar: {reason}").format(
                title=title, target=result.target, reason=result.message), flush=True)
    return EXIT_OK if all(r.ok for r in results) else EXIT_FAILED


COMMANDS = {"notify": cmd_notify}
