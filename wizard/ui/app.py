"""The Respaldos window: one ``ttk.App``, the wizard or the summary inside it, the scheduler ticking.

``main(config_path)`` is what ``respaldos`` (no subcommand) calls. No config file opens the wizard at step
1; a valid one opens the summary; an invalid one shows its problems and opens the wizard with defaults.
``RespaldosWindow`` builds into any root, so the tests share one root for the whole session.
"""

from __future__ import annotations

import copy
import gc
import logging
import os
import subprocess
import sys
import tkinter
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import ttkbootstrap as ttk

from wizard.core import config as config_mod
from wizard.core import notify
from wizard.core.config import Config
from wizard.core.errors import ConfigError
from wizard.core.schedule import TICK_PERIOD, BackupScheduler, local_now
from wizard.i18n import _
from wizard.ui.dialogs import Dialogs
from wizard.ui.drill_panel import WindowDrills
from wizard.ui.pages.summary import SummaryPage
from wizard.ui.pages.wizard import WizardPage
from wizard.ui.text import log_location
from wizard.ui.widgets import setup_fonts_and_styles
from wizard.ui.worker import BackupWorker, CloudSyncWorker, ThreadInbox

logger = logging.getLogger(__name__)

THEME = "bootstrap-light"
DEFAULT_SIZE = (1040, 720)
MIN_SIZE = (880, 600)  # fits a 1366x768 screen with a taskbar, at 100 %
ASSET_NAMES = ("respaldos.png", "respaldos.ico")
SYNC_START_MS = 1500  # pending cloud uploads are retried this soon after the summary opens...
SYNC_PERIOD_MS = 15 * 60 * 1000  # ...and every 15 minutes while the window is open (as `respaldos run`)
NOTIFY_TICK_MS = int(notify.TICK_PERIOD.total_seconds() * 1000)  # notices: retries, overdue, weekly
TRAY_START_MS = 250


def asset_path(name: str) -> Path | None:
    """A file from assets/: in the PyInstaller bundle, in the installed package (wizard/assets, a copy
    tools/make_icon.py keeps identical), or next to the package in a checkout."""
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "assets" / name)
    candidates.append(Path(__file__).resolve().parents[1] / "assets" / name)
    candidates.append(Path(__file__).resolve().parents[2] / "assets" / name)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None




def install_error_handler(root: tkinter.Tk, dialogs: Any) -> None:
    """A bug in a callback: the traceback goes to the log, the user sees one short sentence."""
    state = {"showing": False}

    def report(exc_type, exc_value, exc_tb) -> None:
        logger.error(
            "unexpected error in the window:\n%s",
            "".join(traceback.format_exception(exc_type, exc_value, exc_tb)),
        )
        if state["showing"]:
            return
        state["showing"] = True
        try:
            dialogs.error(
                _(
                    "Algo salió mal en Respaldos. Los detalles se guardaron en el registro:\n{log}\n\n"
                    "Si vuelve a pasar, envía ese archivo a quien te da soporte."
                ).format(log=log_location())
            )
        except Exception:
            logger.exception("could not show the error message")
        finally:
            state["showing"] = False

    root.report_callback_exception = report  # type: ignore[method-assign]


def configure_root(root: tkinter.Tk) -> None:
    """Title, icon, size limits and fonts: everything main() gives the window besides its content."""
    root.title(_("Respaldos"))
    icon = asset_path("respaldos.ico" if sys.platform == "win32" else "respaldos.png")
    try:
        if icon is not None and icon.suffix == ".ico":
            root.iconbitmap(default=str(icon))
        elif icon is not None:
            image = tkinter.PhotoImage(master=root, file=str(icon))
            root.iconphoto(True, image)
            root._respaldos_icon = image  # type: ignore[attr-defined]  # keep a reference
    except tkinter.TclError:
        logger.warning("could not load the window icon %s", icon)
    screen_w, screen_h = root.winfo_screenwidth(), root.winfo_screenheight()
    width = min(DEFAULT_SIZE[0], screen_w - 40)
    height = min(DEFAULT_SIZE[1], screen_h - 90)  # leave room for the taskbar and the title bar
    root.minsize(min(MIN_SIZE[0], width), min(MIN_SIZE[1], height))
    root.geometry(
        f"{width}x{height}+{max((screen_w - width) // 2, 0)}+{max((screen_h - height - 40) // 2, 0)}"
    )
    setup_fonts_and_styles(root)


def create_root() -> ttk.App:
    root = ttk.App(title=_("Respaldos"), theme=THEME, iconphoto=None)
    configure_root(root)
    return root


def open_path(path: str) -> None:
    """Show a folder in the system's file manager."""
    if sys.platform == "win32":
        os.startfile(path)  # type: ignore[attr-defined]
    elif sys.platform == "darwin":
        subprocess.Popen(["open", path])
    else:
        subprocess.Popen(["xdg-open", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class RespaldosWindow:
    """What is inside the root window, and the backups it starts (by F8, the button or the schedule).

    ``clock`` (tz-aware now) and ``tick_period`` (seconds) go to the window's ``BackupScheduler``; the summary
    reads the same clock for "Próximo respaldo" and the watchdog.
    """

    def __init__(
        self,
        root: tkinter.Tk,
        config_path: Path | str,
        *,
        dialogs: Any = None,
        run_scheduler: bool = True,
        sync_cloud: bool = True,
        on_quit: Any = None,
        clock: Callable[[], datetime] = local_now,
        tick_period: float = TICK_PERIOD,
    ):
        self.root = root
        # What "now" is for the scheduler, "Próximo respaldo" and the watchdog: one clock, so they agree.
        self.clock = clock
        self.tick_period = tick_period
        self.on_quit = on_quit or root.destroy
        self.config_path = Path(config_path)
        self.dialogs = dialogs or Dialogs(root)
        self.open_path = open_path
        self.run_scheduler = run_scheduler
        self.config: Config | None = None
        self.page: WizardPage | SummaryPage | None = None
        self.worker: BackupWorker | None = None
        self.sync_worker: CloudSyncWorker | None = None
        self.sync_cloud = sync_cloud
        self.scheduler: BackupScheduler | None = None
        self._tick_id: str | None = None
        self._sync_id: str | None = None
        self._notify_id: str | None = None
        self._icons: dict[int, tkinter.PhotoImage] = {}
        self.inbox = ThreadInbox(root)  # calls from the tray's and the single-copy channel's threads
        self.tray: Any = None  # wizard.ui.tray.Tray once start_tray() found a tray
        self.drills = WindowDrills(self)  # restore drills: the automatic ones and "Probar ahora"
        self.container = ttk.Frame(root)
        self.container.pack(fill="both", expand=True)
        self._bindings = [
            (seq, root.bind(seq, handler, add="+"))
            for seq, handler in (
                ("<F8>", self._on_f8),
                ("<Return>", self._on_return),
                ("<KP_Enter>", self._on_return),
                ("<Escape>", self._on_escape),
            )
        ]
        self._start()

    # -- pages ----------------------------------------------------------------------------------

    def _start(self) -> None:
        if not self.config_path.exists():
            self.show_wizard(Config(), first_run=True)
            return
        try:
            self.config = config_mod.load(self.config_path)
        except ConfigError as exc:
            logger.warning("config %s not usable: %s", self.config_path, exc)
            self.show_wizard(Config(), first_run=True)
            message = (
                str(exc)
                + "\n\n"
                + _(
                    "Vuelve a configurar los respaldos. Al guardar se reemplaza ese "
                    "archivo (se guarda una copia del anterior si no se podía leer)."
                )
            )
            self.root.after_idle(lambda: self.dialogs.error(message, _("La configuración tiene problemas")))
            return
        self.show_summary()
        self._start_scheduler()
        self._schedule_sync(SYNC_START_MS)
        self._start_notify_ticks()

    def _show(self, page: WizardPage | SummaryPage) -> None:
        if self.page is not None:
            self.page.destroy()
            # Free the old page's Tk variables now, on the Tk thread: left in reference cycles, the garbage
            # collector may free them from a worker thread, which Tk does not allow.
            gc.collect()
        self.page = page
        page.pack(fill="both", expand=True)

    def show_wizard(self, config: Config, *, first_run: bool) -> None:
        self._show(WizardPage(self.container, self, config, first_run=first_run))

    def show_summary(self) -> None:
        page = SummaryPage(self.container, self)
        self._show(page)
        if self.backup_running:  # a scheduled run that started while the wizard was open
            page.backup_started(self.worker.trigger)  # type: ignore[union-attr]
        elif self.sync_running:
            page.sync_started()

    @property
    def wizard(self) -> WizardPage | None:
        return self.page if isinstance(self.page, WizardPage) else None

    @property
    def summary(self) -> SummaryPage | None:
        return self.page if isinstance(self.page, SummaryPage) else None

    def edit_config(self) -> None:
        if self.config is not None and not self.backup_running:
            self.show_wizard(self.config, first_run=False)

    def finish_wizard(self, config: Config) -> None:
        """Save through the core (validated, atomic) and show the summary."""
        try:
            config_mod.save(config, self.config_path)
        except ConfigError as exc:
            self.dialogs.error(str(exc))
            return
        except OSError as exc:
            logger.exception("could not save the config")
            self.dialogs.error(
                _("No se pudo guardar la configuración en {path}: {error}").format(
                    path=self.config_path, error=exc.strerror or exc
                )
            )
            return
        try:
            from wizard.core import state

            state.record_config_saved(self.config_path)
        except Exception:
            logger.exception("could not record the config save time")
        self._apply_start_with_system(config.schedule.start_with_system)
        self.config = config
        self._forget_unsaved_passwords()
        self.show_summary()
        if self.scheduler is not None:
            self.scheduler.set_schedule(config.schedule)
        else:
            self._start_scheduler()
        if self.tray is not None:
            self.tray.refresh()
        self._schedule_sync(SYNC_START_MS)  # a cloud just chosen may have uploads waiting
        self._start_notify_ticks()  # the first configuration: from now on (later ones: already ticking)

    def _apply_start_with_system(self, wanted: bool) -> None:
        try:
            from wizard.core import autostart

            if wanted:
                autostart.enable(config_path=self.config_path)
            elif autostart.is_enabled():
                autostart.disable()
        except Exception as exc:
            logger.exception("start with the system could not be changed")
            self.dialogs.warning(_("No se pudo cambiar el inicio con el sistema: {error}").format(error=exc))

    def cancel_wizard(self, *, changed: bool) -> None:
        if self.config is None:
            if self.dialogs.confirm(
                _("¿Salir sin terminar? Los respaldos no se harán hasta que termines de configurarlos."),
                yes=_("Salir"),
                no=_("Seguir configurando"),
            ):
                self._forget_unsaved_passwords()
                self.quit()
            return
        if changed and not self.dialogs.confirm(
            _("¿Descartar los cambios?"), yes=_("Descartar"), no=_("Seguir editando")
        ):
            return
        self._forget_unsaved_passwords()
        self.show_summary()

    def _forget_unsaved_passwords(self) -> None:
        """The wizard is closing: database passwords that no entry of the saved config uses go (entries
        removed or renamed and saved, or added and then dropped); those of saved entries stay."""
        if self.wizard is not None:
            self.wizard.forget_stale_passwords(self.config)

    # -- backups --------------------------------------------------------------------------------

    @property
    def backup_running(self) -> bool:
        return self.worker is not None and self.worker.running

    @property
    def restore_running(self) -> bool:
        """The "Restaurar..." dialog is putting data back (files in place, or a database into the server)."""
        dialog = getattr(self.summary, "restore_dialog", None) if self.summary is not None else None
        try:
            return bool(dialog is not None and dialog.winfo_exists() and dialog.running)
        except tkinter.TclError:
            return False

    def backup_now(self) -> bool:
        return self.start_backup("manual")

    def start_backup(self, trigger: str) -> bool:
        """Start a backup in the worker thread; False when there is no config or one is running.

        F8 is refused while the wizard is editing (the user is there and is told why); a scheduled run goes
        ahead with the saved config, and the summary shows its progress once the wizard closes.
        """
        if self.config is None or self.backup_running or self.restore_running:
            return False  # a scheduled run is recorded as skipped; a restore holds the data meanwhile
        if self.wizard is not None and trigger == "manual":
            return False
        if self.page is None:
            self.show_summary()
        waiting_sync = None
        if self.sync_running:
            # Never both at once: the upload stops at the next chunk (it resumes from there) and the backup
            # starts once it has; the backup then uploads everything pending itself.
            self.sync_worker.cancel()  # type: ignore[union-attr]
            waiting_sync = self.sync_worker.thread  # type: ignore[union-attr]
        elif self.drills.running:  # a restore drill is cancelled (it runs again later): the backup goes first
            waiting_sync = self.drills.stop_for_backup()
        self.worker = BackupWorker(
            self.root,
            self.config,
            trigger=trigger,
            on_progress=self._on_progress,
            on_done=self._on_done,
            on_error=self._on_error,
            wait_for=waiting_sync,
        )
        if self.summary is not None:
            self.summary.backup_started(trigger)
        self.worker.start()
        if self.tray is not None:
            self.tray.backup_started()
        return True

    def cancel_backup(self) -> None:
        if self.backup_running:
            self.worker.cancel()  # type: ignore[union-attr]
            if self.summary is not None:
                self.summary.cancelling()

    def _on_progress(self, event: Any) -> None:
        if self.summary is not None:
            self.summary.show_progress(event)
        if self.tray is not None:
            self.tray.progress(float(getattr(event, "percent", 0.0)))

    def _on_done(self, result: Any) -> None:
        trigger = self.worker.trigger if self.worker else "manual"
        if self.scheduler is not None:
            self.scheduler.run_finished(
                result.status, bool(getattr(result, "destination_missing", False)), trigger=trigger
            )
        if self.summary is not None:
            self.summary.backup_finished(result)
        if self.tray is not None:
            self.tray.backup_finished(self._failure_to_notify(result.status, result.message, trigger))
        elif trigger != "manual" and self.root.state() == "iconic":
            self._toast(result)

    def _on_error(self, exc: BaseException, text: str) -> None:
        if self.scheduler is not None:
            self.scheduler.run_finished("failed", trigger=self.worker.trigger if self.worker else "manual")
        message = _(
            "El respaldo falló por un error inesperado. Los detalles se guardaron en el registro: {log}"
        ).format(log=log_location())
        if self.summary is not None:
            self.summary.backup_crashed(message)
        if self.tray is not None:
            self.tray.backup_finished(
                self._failure_to_notify("failed", message, self.worker.trigger if self.worker else "manual")
            )

    def _failure_to_notify(self, status: str, message: str, trigger: str) -> str | None:
        """A failed backup's message for a system notification, unless the user started it from the window
        and is looking at it (the banner says it there)."""
        if status != "failed" or (trigger == "manual" and self.root.state() == "normal"):
            return None
        return message

    # -- cloud --------------------------------------------------------------------------------------

    @property
    def sync_running(self) -> bool:
        return self.sync_worker is not None and self.sync_worker.running

    def start_sync(self) -> bool:
        """Upload the pending cloud copies on a worker thread; False when there is nothing to do it with
        (no config, no cloud) or a backup or another sync is running (a backup uploads them itself)."""
        if self.config is None or self.config.cloud.provider == "none":
            return False
        if self.backup_running or self.sync_running or self.drills.running:
            return False
        self.sync_worker = CloudSyncWorker(
            self.root,
            self.config,
            on_progress=self._on_sync_progress,
            on_done=self._on_sync_done,
            on_error=self._on_sync_error,
        )
        if self.summary is not None:
            self.summary.sync_started()
        self.sync_worker.start()
        return True

    def cancel_sync(self) -> None:
        if self.sync_running:
            self.sync_worker.cancel()  # type: ignore[union-attr]

    def _schedule_sync(self, delay_ms: int) -> None:
        """(Re)start the cloud retry timer: the first pass after ``delay_ms``, then every 15 minutes."""
        if not self.sync_cloud:
            return
        if self._sync_id is not None:
            self.root.after_cancel(self._sync_id)
        self._sync_id = self.root.after(delay_ms, self._sync_tick)

    def _sync_tick(self) -> None:
        self._sync_id = self.root.after(SYNC_PERIOD_MS, self._sync_tick)
        self.start_sync()

    def _on_sync_progress(self, event: Any) -> None:
        if self.summary is not None and not self.backup_running:
            self.summary.show_progress(event)

    def _on_sync_done(self, outcome: Any) -> None:
        logger.info("cloud sync: %s", getattr(outcome, "message", outcome))
        if self.summary is not None:
            self.summary.sync_finished(outcome, backup_running=self.backup_running)

    def _on_sync_error(self, exc: BaseException, text: str) -> None:
        if self.summary is not None:
            self.summary.sync_finished(None, backup_running=self.backup_running)

    def cloud_signed_in(self, provider: str, account: str) -> None:
        """The summary renewed the sign-in: remember the account in the config, then upload what waits."""
        if self.config is None:
            return
        if self.config.cloud.provider == provider and self.config.cloud.account != account:
            config = copy.deepcopy(self.config)
            config.cloud.account = account
            try:
                config_mod.save(config, self.config_path)
            except (ConfigError, OSError):
                logger.exception("could not save the cloud account in the config")
            else:
                self.config = config
        if self.summary is not None:
            self.summary.refresh()
        self.start_sync()

    def _toast(self, result: Any) -> None:
        style = {"ok": "success", "warning": "warning"}.get(result.status, "danger")
        try:
            ttk.ToastNotification(
                title=_("Respaldos"), message=result.message, duration=10_000, bootstyle=style
            ).show_toast()
        except tkinter.TclError:
            logger.debug("toast failed", exc_info=True)

    # -- scheduler ------------------------------------------------------------------------------

    def _start_scheduler(self) -> None:
        if not self.run_scheduler or self.config is None:
            return
        self.scheduler = BackupScheduler(
            self.config.schedule,
            submit=self._submit_scheduled,
            is_busy=lambda: self.backup_running,
            clock=self.clock,
            tick_period=self.tick_period,
            config_path=self.config_path,
            destination_ready=lambda: (
                self.config is not None and os.path.isdir(os.path.expanduser(self.config.destination.folder))
            ),
        )
        self._tick()
        self.drills.start_checks()

    def _submit_scheduled(self, trigger: str) -> None:
        # Called inside scheduler.tick() on the Tk thread; start on the next turn of the event loop.
        def start() -> None:
            if not self.start_backup(trigger) and self.scheduler is not None:
                self.scheduler.run_finished("skipped", trigger=trigger)

        self.root.after_idle(start)

    def _tick(self) -> None:
        self._tick_id = None
        if self.scheduler is None:
            return
        self.scheduler.tick()
        self._tick_id = self.root.after(int(self.scheduler.tick_period * 1000), self._tick)

    def _start_notify_ticks(self) -> None:
        """The notices' hourly check, now and every hour while the window is open (``notify.tick`` only
        queues it on the notices thread and returns)."""
        if self._notify_id is None:
            self._notify_tick()

    def _notify_tick(self) -> None:
        self._notify_id = self.root.after(NOTIFY_TICK_MS, self._notify_tick)
        if self.config is not None:
            notify.tick(self.config, self.clock(), config_path=self.config_path)

    # -- keys and closing -----------------------------------------------------------------------

    def _on_f8(self, event: tkinter.Event | None = None) -> str:
        if self.wizard is not None:
            self.wizard.on_f8()
        else:
            self.backup_now()
        return "break"

    def _on_return(self, event: tkinter.Event) -> None:
        if self.wizard is not None:
            self.wizard.on_return(event)

    def _on_escape(self, event: tkinter.Event) -> None:
        if self.wizard is not None:
            self.wizard.on_escape(event)

    def icon_image(self, size: int) -> tkinter.PhotoImage | None:
        if size in self._icons:
            return self._icons[size]
        path = asset_path("respaldos.png")
        if path is None:
            return None
        try:
            image = tkinter.PhotoImage(master=self.root, file=str(path))
            factor = max(image.width() // size, 1)
            image = image.subsample(factor, factor)
        except tkinter.TclError:
            return None
        self._icons[size] = image
        return image

    # -- the tray and the single copy -------------------------------------------------------------

    def start_tray(self) -> bool:
        """Put the icon by the clock (main() does once the window is up); False where there is no tray."""
        from wizard.ui.tray import Tray

        tray = Tray(self, self.inbox)
        if tray.start():
            self.tray = tray
        return self.tray is not None

    def show_window(self) -> None:
        """Back from the tray or the taskbar, restored and in front: the tray's "Abrir Respaldos", a second
        start of the program."""
        self.root.deiconify()
        self.root.lift()
        # Windows brings a window of a process that is not in front forward only this way.
        self.root.attributes("-topmost", True)
        self.root.after_idle(self.root.attributes, "-topmost", False)
        self.root.focus_force()

    def backup_from_tray(self) -> None:
        """ "Respaldar ahora" in the tray's menu; when refused (one running, the wizard open) the window
        comes up and says why."""
        if not self.backup_now():
            self.show_window()

    def quit_from_tray(self) -> None:
        """ "Salir" in the tray's menu: the window comes up to ask, since scheduled backups stop."""
        self.show_window()
        if self.restore_running:
            self.dialogs.warning(_("Hay una restauración en curso. Espera a que termine y después sal de Respaldos."))
            return
        if self.backup_running:
            if not self.dialogs.confirm(
                _("Hay un respaldo en curso. ¿Cancelarlo y salir de Respaldos? Los respaldos programados no se "
                  "harán hasta que lo vuelvas a abrir."),
                yes=_("Cancelar y salir"),
                no=_("Seguir respaldando"),
            ):
                return
            self.worker.cancel()  # type: ignore[union-attr]
            self.worker.thread.join(timeout=30)  # type: ignore[union-attr]  # the engine stops within a chunk
        elif not self.dialogs.confirm(
            _("Si sales de Respaldos, los respaldos programados no se harán hasta que lo vuelvas a abrir. ¿Salir?"),
            yes=_("Salir"),
            no=_("Seguir funcionando"),
        ):
            return
        self._forget_unsaved_passwords()
        self.quit()

    def on_close(self) -> bool:
        """The title bar's close button. Returns False to keep the window open."""
        if self.tray is not None and self.config is not None:
            # The schedule keeps running: the window only goes to the tray ("Salir" there quits).
            self.root.withdraw()
            self.tray.hidden_hint()
            return False
        if self.restore_running:
            # Stopping halfway would leave part of the data restored and part not: let it finish.
            self.dialogs.warning(_("Hay una restauración en curso. Espera a que termine y después cierra Respaldos."))
            return False
        if self.backup_running:
            if not self.dialogs.confirm(
                _("Hay un respaldo en curso. ¿Cancelarlo y cerrar Respaldos?"),
                yes=_("Cancelar y cerrar"),
                no=_("Seguir respaldando"),
            ):
                return False
            self.worker.cancel()  # type: ignore[union-attr]
            self.worker.thread.join(timeout=30)  # type: ignore[union-attr]  # the engine stops within a chunk
        elif self.config is not None:
            # Also from "Modificar configuración": closing there stops the schedule just the same.
            if self.wizard is not None and self.wizard.has_changes():
                question = _(
                    "Los cambios de la configuración no están guardados y se perderán. Además, si cierras "
                    "Respaldos, los respaldos programados no se harán hasta que lo vuelvas a abrir. ¿Cerrar de "
                    "todos modos?"
                )
            else:
                question = _(
                    "Si cierras Respaldos, los respaldos programados no se harán hasta que "
                    "lo vuelvas a abrir. ¿Cerrar de todos modos?"
                )
            if not self.dialogs.confirm(question, yes=_("Cerrar"), no=_("Minimizar")):
                self.root.iconify()
                return False
        self._forget_unsaved_passwords()
        self.destroy()
        return True

    def quit(self) -> None:
        """Leave the app (Cancel on the first run)."""
        self.destroy()
        try:
            self.on_quit()
        except tkinter.TclError:
            pass

    def destroy(self) -> None:
        """Take everything out of the root (the root itself stays: tests reuse it)."""
        self.inbox.stop_polling()
        self.drills.stop()
        if self.tray is not None:
            self.tray.stop()
            self.tray = None
        if self.worker is not None and self.worker.running:
            self.worker.cancel()
        if self.sync_running:
            self.sync_worker.cancel()  # type: ignore[union-attr]  # it resumes from there next time
        if self._sync_id is not None:
            try:
                self.root.after_cancel(self._sync_id)
            except tkinter.TclError:
                pass
            self._sync_id = None
        if self._tick_id is not None:
            try:
                self.root.after_cancel(self._tick_id)
            except tkinter.TclError:
                pass
            self._tick_id = None
        if self._notify_id is not None:
            try:
                self.root.after_cancel(self._notify_id)
            except tkinter.TclError:
                pass
            self._notify_id = None
        self.scheduler = None
        for seq, funcid in self._bindings:
            try:
                self.root.unbind(seq, funcid)
            except tkinter.TclError:
                pass
        self._bindings = []
        try:
            self.container.destroy()
        except tkinter.TclError:
            pass
        # Free the images now, on the Tk thread: left to the garbage collector they may be deleted from a
        # worker thread, which Tk does not allow. The same for the pages' Tk variables.
        self._icons.clear()
        gc.collect()


def main(config_path: Path, minimized: bool = False, instance: Any = None) -> int:
    """Open the window; returns the exit code when it closes. ``instance`` (wizard.single_instance) is this
    process's claim to be the one copy: a later start asks through it to show this window."""
    try:
        from wizard.core.logsetup import setup_logging

        setup_logging()
    except Exception:
        # The window still opens; say why there will be no log file (on stderr, when there is one).
        logger.warning("could not set up the log file", exc_info=True)
    root = create_root()
    dialogs = Dialogs(root)
    install_error_handler(root, dialogs)
    window = RespaldosWindow(root, config_path, dialogs=dialogs)
    root.on_close(window.on_close)
    in_tray = minimized and window.config is not None
    if in_tray:
        root.withdraw()  # --minimized: in the tray, or on the taskbar where there is none (below)

    scheduled: list[str] = []

    def once_shown() -> None:
        if instance is not None:  # a later start asks this window to show itself (it retries meanwhile)
            instance.serve(on_show=lambda: window.inbox.post(window.show_window))
        if not window.start_tray() and in_tray:
            root.iconify()

    def first_map(event: tkinter.Event) -> None:
        # pystray and the single-copy channel load once the first window is on the screen: never delay it.
        if event.widget is root and not scheduled:
            scheduled.append(root.after(TRAY_START_MS, once_shown))

    root.bind("<Map>", first_map, add="+")
    if in_tray:  # hidden from the start: nothing to wait for
        scheduled.append(root.after(TRAY_START_MS, once_shown))
    root.mainloop()
    return 0
