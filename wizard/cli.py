"""Command line: ``respaldos [--config P] SUBCOMMAND``. Exit 0 ok, 1 failed, 2 bad usage or config.

Subcommands never import tkinter; with no subcommand the window opens.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from datetime import datetime
from pathlib import Path

from wizard import __version__
from wizard.core import paths
from wizard.core.errors import UserError
from wizard.core.logsetup import log_file, setup_logging
from wizard.core.units import format_size
from wizard.i18n import _, ngettext

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    # A subcommand whose first positional is optional (``db restore [ARCHIVO] NOMBRE``) sets ``intermixed``:
    # its positionals are then taken from before and after the options alike (``ARCHIVO --as NUEVA NOMBRE``
    # keeps working), where plain argparse would use the first one up as NOMBRE.
    intermixed = False
    _intermixing = False

    def error(self, message: str) -> None:  # argparse exits 2 on bad usage, as we want
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, _("{prog}: error: {message}\n").format(prog=self.prog, message=message))

    def parse_known_args(self, args=None, namespace=None):
        if not self.intermixed or self._intermixing:
            return super().parse_known_args(args, namespace)
        self._intermixing = True  # parse_known_intermixed_args calls back here, for the plain parse
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._intermixing = False


def build_parser() -> argparse.ArgumentParser:
    config_opt = argparse.ArgumentParser(add_help=False)
    config_opt.add_argument("--config", metavar="P", default=argparse.SUPPRESS, type=Path,
                            help=_("archivo de configuración (si no, RESPALDOS_CONFIG o el predeterminado)"))

    parser = _Parser(prog="respaldos", parents=[config_opt],
                     description=_("Respaldos verificados y programados de los datos del punto de venta."))
    parser.add_argument("--version", action="version", version=f"Respaldos {__version__}")
    parser.add_argument("--demo-data", metavar="DIR", type=Path,
                        help=_("crea en DIR una carpeta de datos de ejemplo de un punto de venta"))
    parser.add_argument("--minimized", action="store_true", help=_("abre la ventana minimizada"))
    parser.add_argument("--self-test", action="store_true",
                        help=_("comprueba esta instalación: respalda, verifica y restaura datos de ejemplo"))
    parser.add_argument("-v", "--verbose", action="store_true", help=_("muestra el registro en la terminal"))
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMANDO", parser_class=_Parser)

    sub.add_parser("backup", parents=[config_opt], help=_("hace un respaldo ahora"))
    sub.add_parser("list", parents=[config_opt], help=_("lista los respaldos de la carpeta de destino"))
    p = sub.add_parser("verify", parents=[config_opt], help=_("comprueba un respaldo contra su manifiesto"))
    p.add_argument("archive", metavar="ARCHIVO", type=Path)
    p = sub.add_parser("restore", parents=[config_opt], help=_("restaura un respaldo en una carpeta"))
    p.add_argument("archive", metavar="ARCHIVO", type=Path, nargs="?",
                   help=_("el respaldo (.zip); no se indica con --from-cloud"))
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--to", metavar="DIR", type=Path, help=_("carpeta donde restaurar"))
    where.add_argument("--to-original", action="store_true",
                       help=_("restaura cada archivo en su lugar original (antes guarda un respaldo de seguridad "
                              "de los datos actuales)"))
    p.add_argument("--from-cloud", metavar="NOMBRE",
                   help=_("descarga de la nube el respaldo NOMBRE (respaldo_AAAA-MM-DD_HH-MM-SS.zip) y lo restaura"))
    p.add_argument("--force", action="store_true", help=_("permite restaurar en una carpeta que no está vacía"))
    p.add_argument("--from-other-machine", action="store_true",
                   help=_("con --to-original: restaura el respaldo de otro equipo, al que este reemplaza, encima de "
                          "las carpetas que ese respaldo indica"))
    p = sub.add_parser("machine", parents=[config_opt], help=_("muestra el nombre y el identificador de este equipo"))
    actions = p.add_subparsers(dest="machine_command", metavar="ACCIÓN", parser_class=_Parser)
    p = actions.add_parser("adopt", parents=[config_opt],
                           help=_("este equipo reemplaza a otro: sigue con sus respaldos (su identificador y nombre)"))
    p.add_argument("id", metavar="ID", help=_("el identificador del otro equipo (respaldos list lo muestra)"))
    p.add_argument("--name", metavar="NOMBRE", help=_("el nombre que tendrá este equipo (si no, el del otro)"))
    sub.add_parser("run", parents=[config_opt],
                   help=_("mantiene los respaldos programados sin ventana (Ctrl+C para salir)"))
    _add_db_parsers(sub, config_opt)
    from wizard import cli_cloud as cloud_commands

    cloud_commands.add_parsers(sub, config_opt)
    from wizard import cli_notify as notify_commands

    notify_commands.add_parsers(sub, config_opt)
    from wizard import cli_detect as detect_commands

    detect_commands.add_parsers(sub, config_opt)
    from wizard import cli_password as password_commands

    password_commands.add_parsers(sub, config_opt)
    from wizard import cli_drill as drill_commands

    drill_commands.add_parsers(sub, config_opt)
    return parser


def _add_db_parsers(sub, config_opt: argparse.ArgumentParser) -> None:
    """``db password|test|restore``: the server databases of [[source.databases]]."""
    db = sub.add_parser("db", parents=[config_opt], help=_("bases de datos en un servidor (MySQL/MariaDB, Firebird)"))
    actions = db.add_subparsers(dest="db_command", metavar="ACCIÓN", required=True, parser_class=_Parser)
    p = actions.add_parser("password", parents=[config_opt],
                           help=_("guarda la contraseña de una base de datos en el llavero del sistema"))
    p.add_argument("name", metavar="NOMBRE", help=_("el nombre de la base de datos en la configuración"))
    p.add_argument("--stdin", action="store_true", help=_("lee la contraseña de la entrada estándar (una línea)"))
    p = actions.add_parser("test", parents=[config_opt], help=_("prueba la conexión con las bases de datos"))
    p.add_argument("name", metavar="NOMBRE", nargs="?", help=_("solo esta base de datos"))
    p = actions.add_parser("restore", parents=[config_opt],
                           help=_("restaura la copia de una base de datos en una base de datos nueva"),
                           description=_("Carga en el servidor la copia de una base de datos guardada en un "
                                         "respaldo: en una base de datos nueva (la original no se toca) o, con "
                                         "--replace, encima de la original. El respaldo es el ARCHIVO .zip o, con "
                                         "--from-cloud, uno que está en la nube: se descarga, se comprueba su suma "
                                         "y se borra al terminar."))
    p.intermixed = True
    p.add_argument("archive", metavar="ARCHIVO", type=Path, nargs="?",
                   help=_("el respaldo (.zip); no se indica con --from-cloud"))
    p.add_argument("name", metavar="NOMBRE", help=_("el nombre de la base de datos en la configuración"))
    p.add_argument("--from-cloud", metavar="RESPALDO",
                   help=_("descarga de la nube el respaldo RESPALDO (respaldo_AAAA-MM-DD_HH-MM-SS.zip), "
                          "comprueba su suma y carga de él la base de datos"))
    target = p.add_mutually_exclusive_group()
    target.add_argument("--as", dest="target", metavar="NUEVA",
                        help=_("nombre de la base de datos nueva (Firebird: ruta del archivo nuevo en el servidor)"))
    target.add_argument("--replace", action="store_true",
                        help=_("reemplaza la base de datos original (con el punto de venta cerrado; antes guarda "
                               "una copia de seguridad en la carpeta de destino)"))


def _config_path(args: argparse.Namespace) -> Path:
    return Path(getattr(args, "config", None) or paths.default_config_path())


def _load_config(args: argparse.Namespace):
    from wizard.core import config

    return config.load(_config_path(args))


class _ProgressPrinter:
    """Percent on one line on a terminal; a line every 10 % otherwise (logs, pipes)."""

    def __init__(self, stream=sys.stdout):
        self.stream = stream
        self.tty = stream.isatty()
        self.last = -1

    def __call__(self, event) -> None:
        percent = int(getattr(event, "percent", 0))
        if self.tty:
            if percent != self.last:
                current = getattr(event, "current", "")[-50:]
                self.stream.write(f"\r{percent:3d}% {current:<50}")
                self.stream.flush()
        elif percent // 10 != self.last // 10:
            # An upload's text is "<archive> a 1.2 MB/s": its speed is worth a log line too.
            detail = f" {event.current}" if getattr(event, "phase", "") == "upload" else ""
            self.stream.write(f"{percent:3d}%{detail}\n")
            self.stream.flush()
        self.last = percent

    def finish(self) -> None:
        if self.tty and self.last >= 0:
            self.stream.write("\r" + " " * 56 + "\r")
            self.stream.flush()


def _stop_on_signals(event: threading.Event) -> None:
    """Ctrl+C, SIGTERM and (Windows) Ctrl+Break set ``event``: the running step stops cleanly."""
    from wizard.core.service import install_stop_signals

    install_stop_signals(event)


def cmd_backup(args: argparse.Namespace) -> int:
    from wizard.core.jobs import run_backup_job

    config = _load_config(args)
    since = datetime.now().astimezone()
    cancel = threading.Event()
    _stop_on_signals(cancel)
    printer = _ProgressPrinter()
    result = run_backup_job(config, trigger="manual", report=printer, cancel=cancel)
    printer.finish()
    stream = sys.stdout if result.succeeded else sys.stderr
    print(result.message, file=stream)
    if result.cloud is not None and getattr(result.cloud, "message", ""):
        print(result.cloud.message, file=sys.stdout if result.cloud.ok else sys.stderr)
    _finish_notices(config, _config_path(args), since)
    return EXIT_OK if result.succeeded else EXIT_FAILED


def _finish_notices(config, config_path: Path, since: datetime) -> None:
    """Before a command-line run exits: the hourly check (retries, overdue, weekly), then up to 30 s for
    the notices to go out, so that a backup started by a task scheduler still alerts. What could not be
    sent waits in the outbox; its reason is printed."""
    from wizard.core import notify

    notify.tick(config, config_path=config_path)
    if not notify.wait(notify.CLI_WAIT):
        print(_("Algunos avisos no se alcanzaron a enviar; se reintentarán más tarde."), file=sys.stderr)
    for line in notify.problems_since(config, since):
        print(line, file=sys.stderr)


def cmd_sync(args: argparse.Namespace) -> int:
    """``respaldos sync`` (wizard.cli_cloud), then its notices: a failed upload is sent once a day."""
    from wizard import cli_cloud as cloud_commands
    from wizard.core import notify

    since = datetime.now().astimezone()
    code = cloud_commands.cmd_sync(args)
    if code == EXIT_USAGE:
        return code
    config = _load_config(args)
    notify.notify_sync_result(config, failed=code != EXIT_OK, detail=_pending_detail(config))
    _finish_notices(config, _config_path(args), since)
    return code


def _pending_detail(config) -> str:
    from wizard.core.cloud.queue import status

    st = status(config)
    if st.last_error and st.last_error.get("message"):
        return str(st.last_error["message"])
    return ngettext("Queda {count} respaldo pendiente de subir.", "Quedan {count} respaldos pendientes de subir.",
                    len(st.pending)).format(count=len(st.pending))


def cmd_list(args: argparse.Namespace) -> int:
    """This installation's backups first, as before; other installations' apart, each named."""
    from wizard.core.backup import check_destination
    from wizard.core.restore import list_local_backups

    config = _load_config(args)
    dest = check_destination(config.destination.folder)
    choices = list_local_backups(config)
    if not choices:
        print(_("No hay respaldos en {folder}.").format(folder=dest))
        return EXIT_OK
    mine = [c for c in choices if c.mine]
    others = [c for c in choices if not c.mine]
    for c in mine:
        print(f"{c.created:%Y-%m-%d %H:%M:%S}  {format_size(c.size):>10}  {c.name}")
    if mine:
        print(ngettext("{count} respaldo en {folder}.", "{count} respaldos en {folder}.", len(mine)).format(
            count=len(mine), folder=dest))
    else:
        print(_("No hay respaldos de este equipo en {folder}.").format(folder=dest))
    if others:
        print()
        print(_("De otros equipos (este equipo no los borra ni los cuenta):"))
        for c in others:
            print(f"{c.created:%Y-%m-%d %H:%M:%S}  {format_size(c.size):>10}  {c.name}  "
                  + _("de {name}").format(name=c.owner))
        owners: dict[str, str] = {}
        for c in others:
            owners.setdefault(c.owner_id, c.owner)
        for owner_id, name in owners.items():
            print("  " + _("{name}: identificador {id}").format(name=name, id=owner_id))
    return EXIT_OK


def cmd_machine(args: argparse.Namespace) -> int:
    """``machine``: this installation's name and id; ``machine adopt ID``: this computer replaces another."""
    from wizard.core import machine
    from wizard.core.backup import installations_in

    config = _load_config(args)
    if args.machine_command == "adopt":
        folder = Path(os.path.expanduser(config.destination.folder))
        known = installations_in(folder) if folder.is_dir() else {}
        previous = machine.current(config.machine.name)
        me = machine.adopt_installation(config, _config_path(args), args.id, known, name=args.name)
        print(_("Este equipo reemplaza a {name}: sus respaldos nuevos siguen con los de ese equipo (identificador "
                "{id}) y las reglas de conservación se aplican a ellos. El identificador anterior de este equipo "
                "era {previous}.").format(name=me.name, id=me.id, previous=previous.id))
        return EXIT_OK
    me = machine.current(config.machine.name)
    print(_("Este equipo: {name} (computadora {host})").format(name=me.name, host=me.host))
    print(_("Identificador: {id}").format(id=me.id))
    print(_("Sus respaldos se llaman respaldo_AAAA-MM-DD_HH-MM-SS_{tag}.zip").format(tag=me.tag))
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    from wizard.core.archive import verify_archive

    manifest = verify_archive(args.archive)
    print(_("{name}: correcto, {count} archivos verificados.").format(
        name=args.archive.name, count=len(manifest.files)))
    return EXIT_OK


class UsageError(UserError):
    """Arguments that make no sense together (exit code 2, like argparse's own errors)."""

    exit_code = EXIT_USAGE


def cmd_restore(args: argparse.Namespace) -> int:
    if (args.archive is None) == (args.from_cloud is None):
        raise UsageError(_("respaldos restore: indica un ARCHIVO o --from-cloud NOMBRE (uno de los dos)."))
    if args.from_other_machine and not args.to_original:
        raise UsageError(_("respaldos restore: --from-other-machine solo sirve con --to-original."))
    if args.to_original or args.from_cloud is not None:
        return _restore_with_checks(args)
    from wizard.core.archive import restore_archive

    cancel = threading.Event()
    _stop_on_signals(cancel)
    restored = restore_archive(args.archive, args.to, force=args.force, cancel=cancel)
    print(_("Se restauraron {count} archivos en {folder}.").format(count=len(restored), folder=args.to))
    return EXIT_OK


class _RestorePrinter(_ProgressPrinter):
    """"Paso 2 de 4: Verificando el respaldo..." once per step, then the percent as for a backup."""

    def __init__(self, stream=sys.stdout):
        super().__init__(stream)
        self.step = 0

    def __call__(self, event) -> None:
        from wizard.core.restore import phase_sentence

        if event.step != self.step:
            self.finish()
            self.step = event.step
            self.last = -1
            self.stream.write(_("Paso {step} de {steps}: {phase}").format(
                step=event.step, steps=event.steps, phase=phase_sentence(event.phase)) + "\n")
            self.stream.flush()
        super().__call__(event)


def _restore_with_checks(args: argparse.Namespace) -> int:
    """--to-original and --from-cloud: verified first; in place only after a safety backup."""
    from contextlib import nullcontext

    from wizard.core import restore
    from wizard.core.backup import parse_archive_name
    from wizard.core.errors import Cancelled

    config = _load_config(args)
    cancel = threading.Event()
    _stop_on_signals(cancel)
    printer = _RestorePrinter()
    extra = 1 if args.from_cloud else 0
    name = args.from_cloud or args.archive.name
    created = parse_archive_name(name)
    if args.to_original and created is not None:
        print(restore.changes_lost_sentence(created), flush=True)
    source = (restore.downloaded(config, args.from_cloud, report=printer, cancel=cancel,
                                 steps=(4 if args.to_original else 2) + extra)
              if args.from_cloud else nullcontext(args.archive))
    try:
        with source as archive:
            if args.to_original:
                if args.from_other_machine:  # say whose backup goes over which folders before doing it
                    owner, folders = restore.folders_to_overwrite(archive, config)
                    if not owner.mine:
                        printer.finish()
                        print(restore.other_machine_sentence(archive, owner, folders), flush=True)
                report = restore.restore_to_original(archive, config, report=printer, cancel=cancel,
                                                     download_steps=extra, config_path=_config_path(args),
                                                     from_cloud=args.from_cloud,
                                                     from_other_machine=args.from_other_machine)
            else:
                report = restore.restore_to_folder(archive, args.to, force=args.force, report=printer,
                                                   cancel=cancel, download_steps=extra)
    except Cancelled:
        print(_("Restauración cancelada. No se cambió nada."), file=sys.stderr)
        return EXIT_FAILED
    finally:
        printer.finish()
    print(report.message)
    if report.dumps_warning:
        print(report.dumps_warning)
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    from wizard import single_instance
    from wizard.core.drill.auto import DrillRunner
    from wizard.core.jobs import run_backup_job
    from wizard.core.service import run_service

    instance = single_instance.claim(single_instance.RUN)
    if instance is None:  # the window, or another `run`, keeps the schedule already
        return _another_copy_runs(single_instance.RUN)
    instance.serve()
    stop = threading.Event()
    _stop_on_signals(stop)
    # A technician watching the console sees one line per run, as the log file does.
    console = logging.StreamHandler(sys.stdout)
    console.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    console.setLevel(logging.INFO)
    logging.getLogger("wizard.core.schedule").addHandler(console)  # "starting scheduled backup"
    logging.getLogger("wizard.core.service").addHandler(console)  # "... backup finished: ok ..."
    logging.getLogger("wizard.core.drill.auto").addHandler(console)  # the automatic restore drills
    print(_("Respaldos programados en marcha. Ctrl+C para salir."), flush=True)
    try:
        return run_service(_config_path(args), stop, run_backup_job, sync_fn=_sync_pending,
                           notify_fn=_notify_tick, drills=DrillRunner())
    finally:
        instance.release()


def _another_copy_runs(wanted: str) -> int:
    """Another copy holds the one-copy lock: a window is asked to show itself (exit 0); otherwise say which
    copy runs (exit 1): the window and `respaldos run` exclude each other."""
    from wizard import single_instance as one

    running = one.ask_running_copy(one.SHOW if wanted == one.WINDOW else one.WHO)
    if wanted == one.WINDOW and running.kind == one.WINDOW:
        print(_("Respaldos ya estaba abierto: se muestra su ventana."), flush=True)
        return EXIT_OK
    if running.kind == one.WINDOW:
        message = _("La ventana de Respaldos ya está abierta (proceso {pid}) y hace los respaldos programados. "
                    "Sal de ella (Salir, en el icono junto al reloj) antes de usar respaldos run.")
    elif running.kind == one.RUN:
        message = _("respaldos run ya está en marcha (proceso {pid}) y hace los respaldos programados sin ventana. "
                    "Detenlo (Ctrl+C) antes de abrir otro.") if wanted == one.RUN else _(
            "Respaldos ya está funcionando sin ventana (respaldos run, proceso {pid}) y hace ahí los respaldos "
            "programados. Detenlo (Ctrl+C) antes de abrir la ventana.")
    else:
        message = _("Respaldos ya se está ejecutando, pero no respondió. Si no lo ves, espera un momento y vuelve "
                    "a intentarlo.")
    logger.info("another copy holds the lock (%s, process %s): %s refused", running.kind, running.pid, wanted)
    print(message.format(pid=running.pid), file=sys.stderr)
    return EXIT_FAILED


def _notify_tick(config, now, *, config_path: Path) -> None:
    from wizard.core import notify

    notify.tick(config, now, config_path=config_path)


def _sync_pending(config, *, cancel: threading.Event):
    from wizard.core.cloud.queue import sync_pending

    return sync_pending(config, cancel=cancel)


def _configured_database(config, name: str):
    databases = config.source.databases
    for db in databases:
        if db.label.casefold() == name.casefold():
            return db
    if not databases:
        raise UsageError(_("La configuración no tiene bases de datos en un servidor ([[source.databases]])."))
    raise UsageError(_("No hay ninguna base de datos llamada {name} en la configuración (hay: {names}).").format(
        name=name, names=", ".join(d.label for d in databases)))


def cmd_db(args: argparse.Namespace) -> int:
    from wizard.core import secrets, servers

    if args.db_command == "restore" and (args.archive is None) == (args.from_cloud is None):
        raise UsageError(_("respaldos db restore: indica un ARCHIVO o --from-cloud RESPALDO (uno de los dos), y el "
                           "NOMBRE de la base de datos."))
    config = _load_config(args)
    if args.db_command == "password":
        import getpass

        db = _configured_database(config, args.name)
        if args.stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = getpass.getpass(_("Contraseña del usuario {user} para {name} ({where}): ").format(
                user=db.effective_user, name=db.label, where=servers.where(db)))
        try:
            with secrets.allow_file_storage(config.secrets.allow_file):
                servers.set_password(db, password)
        except secrets.KeyringUnavailable as exc:
            print(f"{exc}\n{secrets.config_hint(_config_path(args))}", file=sys.stderr)
            return EXIT_FAILED
        print(_("Contraseña guardada para {name}.").format(name=db.label))
        if notice := secrets.file_notice(servers.secret_name(db)):
            print(notice)
        try:
            info = servers.test_connection(db, password)
        except UserError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_FAILED
        print(info.summary(db))
        return EXIT_OK
    if args.db_command == "test":
        databases = [_configured_database(config, args.name)] if args.name else config.source.databases
        if not databases:
            raise UsageError(_("La configuración no tiene bases de datos en un servidor ([[source.databases]])."))
        failed = 0
        for db in databases:
            try:
                print(f"{db.label}: {servers.test_connection(db).summary(db)}", flush=True)
            except UserError as exc:
                failed += 1
                print(f"{db.label}: {exc}", file=sys.stderr, flush=True)
        return EXIT_FAILED if failed else EXIT_OK
    return _db_restore(args, config)


def _db_restore(args: argparse.Namespace, config) -> int:
    """``db restore ARCHIVO NOMBRE`` from a local backup, or ``db restore --from-cloud RESPALDO NOMBRE``."""
    from wizard.core import restore, servers
    from wizard.core.errors import Cancelled

    db = _configured_database(config, args.name)
    cancel = threading.Event()
    _stop_on_signals(cancel)
    safety = None
    if args.replace:
        from wizard.core.backup import check_destination

        safety = check_destination(config.destination.folder)
    printer = _RestorePrinter()
    try:
        if args.from_cloud is not None:
            restored = restore.restore_dump_from_cloud(config, args.from_cloud, db, target=args.target,
                                                       replace=args.replace, safety_folder=safety, report=printer,
                                                       cancel=cancel)
        else:
            restored = servers.restore_dump(args.archive, db, target=args.target, replace=args.replace,
                                            safety_folder=safety, cancel=cancel)
    except Cancelled:
        if args.replace:
            print(_("Restauración cancelada. Si ya había empezado a cargarse encima de la original, la base de "
                    "datos {name} puede haber quedado incompleta: vuelve a restaurarla. La copia de seguridad de lo "
                    "que tenía, si se alcanzó a hacer, está en {folder}.").format(name=db.label, folder=safety),
                  file=sys.stderr)
        else:
            print(_("Restauración cancelada. La base de datos original no se tocó."), file=sys.stderr)
        return EXIT_FAILED
    finally:
        printer.finish()
    print(restored.message)
    return EXIT_OK


def cmd_demo_data(folder: Path) -> int:
    from wizard.core.demo import make_demo_folder

    made = make_demo_folder(folder)
    print(_("Datos de ejemplo creados en {folder}.").format(folder=made))
    return EXIT_OK


def cmd_window(args: argparse.Namespace) -> int:
    from wizard import single_instance

    instance = single_instance.claim(single_instance.WINDOW)
    if instance is None:  # a second start: the first copy shows its window (tkinter is never loaded here)
        return _another_copy_runs(single_instance.WINDOW)
    try:
        try:
            from wizard.ui.app import main as window_main
        except ImportError as exc:
            logger.exception("cannot load the window")
            print(_("No se pudo abrir la ventana ({error}). Usa un subcomando; ver respaldos --help.").format(
                error=exc), file=sys.stderr)
            return EXIT_FAILED
        return window_main(_config_path(args), minimized=args.minimized, instance=instance)
    finally:
        instance.release()


def _commands() -> dict:
    from wizard import cli_cloud as cloud_commands
    from wizard import cli_detect as detect_commands
    from wizard import cli_drill as drill_commands
    from wizard import cli_notify as notify_commands
    from wizard import cli_password as password_commands

    return {**detect_commands.COMMANDS,
            "backup": cmd_backup, "list": cmd_list, "verify": cmd_verify, "restore": cmd_restore,
            "run": cmd_run, "db": cmd_db, "machine": cmd_machine, **cloud_commands.COMMANDS, "sync": cmd_sync,
            **notify_commands.COMMANDS, **password_commands.COMMANDS, **drill_commands.COMMANDS}


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(verbose=args.verbose)
    try:
        if args.self_test:
            from wizard.selftest import run_self_test

            return run_self_test()
        if args.demo_data is not None:
            return cmd_demo_data(args.demo_data)
        if args.command is None:
            return cmd_window(args)
        return _commands()[args.command](args)
    except UserError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(_("Interrumpido."), file=sys.stderr)
        return EXIT_FAILED
    except Exception:
        logger.exception("unexpected error in %s", args.command)
        print(_("Error inesperado. Los detalles están en el registro: {log}").format(log=log_file()),
              file=sys.stderr)
        return EXIT_FAILED
