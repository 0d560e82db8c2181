"""The command line for the cloud: ``cloud login PROVEEDOR``, ``cloud status``, ``cloud logout``, ``sync``.

``add_parsers`` adds them to the main parser; ``COMMANDS`` maps each subcommand to its handler, which
returns the exit code (0 ok, 1 failed, 2 bad usage or config). UserError is left to the caller
(``wizard.cli.main`` prints it and exits with its code). The backup, queue and restore modules are imported
inside the commands that use them, so that building the parser for every command stays cheap.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from wizard.core import config, paths, secrets
from wizard.core.cloud import PROVIDERS
from wizard.core.cloud.base import CloudError, Offline
from wizard.core.config import CloudConfig, Config
from wizard.core.errors import Cancelled
from wizard.core.units import format_size
from wizard.i18n import _

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_parsers(subparsers, config_parent: argparse.ArgumentParser) -> None:
    """Add ``cloud {login,status,logout}`` and ``sync`` to the main parser's subcommands."""
    cloud = subparsers.add_parser("cloud", parents=[config_parent],
                                  help=_("conecta la nube (Dropbox o Google Drive) y muestra su estado"))
    actions = cloud.add_subparsers(dest="cloud_command", metavar="ACCIÓN", required=True)
    login = actions.add_parser("login", parents=[config_parent],
                               help=_("inicia sesión en la nube desde el navegador"))
    login.add_argument("provider", choices=sorted(PROVIDERS), metavar="PROVEEDOR",
                       help=_("la nube: {names}").format(names=", ".join(sorted(PROVIDERS))))
    login.add_argument("--no-browser", action="store_true",
                       help=_("no abre el navegador: muestra una dirección y pide el código de autorización"))
    actions.add_parser("status", parents=[config_parent],
                       help=_("muestra la nube, la cuenta, los respaldos pendientes y la última subida"))
    actions.add_parser("logout", parents=[config_parent],
                       help=_("cierra la sesión de la nube en esta computadora"))
    subparsers.add_parser("sync", parents=[config_parent], help=_("sube ahora los respaldos pendientes a la nube"))


def _config_path(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "config", None) or paths.default_config_path())


def _load(args: argparse.Namespace) -> Config:
    return config.load(_config_path(args))


def _load_if_present(args: argparse.Namespace) -> Config | None:
    """The config, or None when there is no file yet (signing in may come before the wizard)."""
    return _load(args) if _config_path(args).exists() else None


def _save(cfg: Config, args: argparse.Namespace) -> None:
    config.save(cfg, _config_path(args))


class _UploadPrinter:
    """Percent and speed on one line on a terminal; a line every 10 % per file otherwise."""

    def __init__(self, stream=sys.stdout):
        self.stream = stream
        self.tty = stream.isatty()
        self.last: tuple[str, int] = ("", -1)

    def __call__(self, event) -> None:
        name, percent = getattr(event, "name", ""), int(getattr(event, "percent", 0))
        if self.tty:
            self.stream.write(f"\r{percent:3d}% {event.current:<60}")
            self.stream.flush()
        elif name != self.last[0] or percent // 10 != self.last[1] // 10:
            self.stream.write(f"{percent:3d}% {event.current}\n")
            self.stream.flush()
        self.last = (name, percent)

    def finish(self) -> None:
        if self.tty and self.last[1] >= 0:
            self.stream.write("\r" + " " * 66 + "\r")
            self.stream.flush()


def cmd_cloud(args: argparse.Namespace) -> int:
    return {"login": cmd_login, "status": cmd_status, "logout": cmd_logout}[args.cloud_command](args)


def cmd_login(args: argparse.Namespace) -> int:
    """Sign in through the browser; with a config, remember the provider and the account in it."""
    cfg = _load_if_present(args)
    cloud = CloudConfig(**vars(cfg.cloud)) if cfg is not None else CloudConfig()
    cloud.provider = args.provider
    provider = PROVIDERS[args.provider](cloud)

    def show_url(url: str) -> None:
        print(_("Se abrirá el navegador para iniciar sesión en {provider}. Si no se abre, copia esta "
                "dirección en un navegador:").format(provider=provider.title), flush=True)
        print(url, flush=True)

    def ask_code(url: str) -> str | None:
        # Google shows no code after approval: its provider says what to paste instead (paste_hint).
        hint, prompt = provider.paste_hint()
        print(hint, flush=True)
        print(url, flush=True)
        try:
            return input(prompt)
        except EOFError:
            return None

    try:
        # With no keyring the sign-in is refused before the browser opens, unless the config agrees to a file.
        with secrets.allow_file_storage(cfg is not None and cfg.secrets.allow_file):
            account = provider.sign_in(show_url=show_url, ask_code=ask_code, use_browser=not args.no_browser)
    except (Cancelled, KeyboardInterrupt):
        print(_("Inicio de sesión cancelado. No se guardó nada."), file=sys.stderr)
        return EXIT_FAILED
    except secrets.KeyringUnavailable as exc:
        print(f"{exc}\n{secrets.config_hint(_config_path(args))}", file=sys.stderr)
        return EXIT_FAILED
    notice = secrets.file_notice(provider.name)
    if notice:
        print(notice)
    if cfg is None:
        print(_("Sesión iniciada en {provider}: {account}. Aún no hay configuración en {path}: abre "
                "Respaldos, configura los respaldos y elige {provider} en el paso Nube.").format(
            provider=provider.title, account=account, path=_config_path(args)))
        return EXIT_OK
    cfg.cloud.provider = args.provider
    cfg.cloud.account = account
    _save(cfg, args)
    print(_("Sesión iniciada en {provider}: {account}. Cada respaldo se subirá también a {folder}.").format(
        provider=provider.title, account=account, folder=provider.folder))
    return EXIT_OK


def cmd_status(args: argparse.Namespace) -> int:
    from wizard.core.cloud.queue import status

    cfg = _load(args)
    st = status(cfg)
    if st.provider == "none":
        print(_("Nube: ninguna. Los respaldos se guardan solo en {folder}.").format(
            folder=cfg.destination.folder))
        return EXIT_OK
    print(_("Nube: {provider}").format(provider=st.title))
    if st.signed_in:
        print(_("Cuenta: {account}").format(account=st.account or _("sesión iniciada")))
    else:
        print(_("Cuenta: sin sesión iniciada (usa: respaldos cloud login {name})").format(name=st.provider))
    print(_("Carpeta: {folder}").format(folder=st.folder))
    print(_("Pendientes de subir: {count}").format(count=len(st.pending)))
    for item in st.pending:
        why = f" ({item.last_error or item.reason})" if (item.last_error or item.reason) else ""
        print(f"  {item.name}  {format_size(item.size)}{why}")
    if st.last_upload:
        print(_("Última subida: {name}, {when}").format(name=st.last_upload["name"],
                                                       when=st.last_upload["at"].replace("T", " ")))
    else:
        print(_("Última subida: ninguna todavía"))
    if st.last_error and st.pending:
        print(_("Último problema: {message}").format(message=st.last_error["message"]))
    if st.signed_in:
        _print_cloud_owners(cfg)
    return EXIT_OK


def _print_cloud_owners(cfg: Config) -> None:
    """How many backups in the cloud folder are this installation's and, apart, each other one's (the only
    lines of ``cloud status`` that need the network: printed last)."""
    from wizard.core.restore import list_cloud_backups

    sys.stdout.flush()
    try:
        backups = list_cloud_backups(cfg)
    except Offline:
        print(_("Respaldos en la nube: no se pudieron contar (sin conexión)."))
        return
    except CloudError as exc:
        print(_("Respaldos en la nube: no se pudieron contar. {error}").format(error=exc))
        return
    print(_("Respaldos de este equipo en la nube: {count}").format(count=sum(b.mine for b in backups)))
    others: dict[str, list] = {}  # owner id -> [name, count]
    for backup in backups:
        if not backup.mine:
            others.setdefault(backup.owner_id, [backup.owner, 0])[1] += 1
    if others:
        print(_("De otros equipos (este equipo no los borra ni los cuenta): {owners}").format(
            owners=", ".join(f"{name} ({count})" for name, count in sorted(
                others.values(), key=lambda entry: entry[0].casefold()))))


def cmd_logout(args: argparse.Namespace) -> int:
    """Forget the credentials of every provider on this computer and stop uploading."""
    cfg = _load_if_present(args)
    cloud = cfg.cloud if cfg is not None else CloudConfig()
    titles = []
    for name, cls in PROVIDERS.items():
        provider = cls(CloudConfig(**{**vars(cloud), "provider": name}))
        if provider.signed_in() or (cfg is not None and cfg.cloud.provider == name):
            titles.append(provider.title)
        provider.sign_out()
    if cfg is not None and (cfg.cloud.provider != "none" or cfg.cloud.account):
        cfg.cloud.provider = "none"
        cfg.cloud.account = ""
        _save(cfg, args)
    if titles:
        print(_("Se cerró la sesión de {provider} en esta computadora. Los respaldos ya no se suben a la "
                "nube.").format(provider=", ".join(titles)))
    else:
        print(_("No había ninguna sesión de nube iniciada en esta computadora."))
    return EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    """Upload the pending backups now; exit 1 when some are still pending."""
    from wizard.core.cloud.queue import sync_pending

    cfg = _load(args)
    if cfg.cloud.provider == "none":
        print(_("La nube no está activada: elige Dropbox o Google Drive en el paso Nube de Respaldos o usa "
                "«respaldos cloud login dropbox» o «respaldos cloud login google_drive»."), file=sys.stderr)
        return EXIT_USAGE
    cancel = threading.Event()
    previous = signal.signal(signal.SIGINT, lambda signum, frame: cancel.set())
    printer = _UploadPrinter()
    try:
        outcome = sync_pending(cfg, report=printer, cancel=cancel)
    finally:
        signal.signal(signal.SIGINT, previous)
        printer.finish()
    print(outcome.message, file=sys.stdout if outcome.ok else sys.stderr)
    return EXIT_OK if outcome.ok else EXIT_FAILED


COMMANDS = {"cloud": cmd_cloud, "sync": cmd_sync}
