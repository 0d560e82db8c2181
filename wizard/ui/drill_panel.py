"""Restore drills in the window (issue 17): the summary's line and "Probar ahora", and the automatic drills.

``DrillPanel`` (in the summary) shows the last drill from the history ("Última prueba de restauración: lunes
30 a las 09:12, correcta: 12,345 ventas, ...", a failure in red) and, while one runs, its progress and
Cancelar. ``WindowDrills`` (one per window) checks every 15 minutes whether a drill is due
(wizard.core.drill.auto) and runs it, or the one "Probar ahora" asks for, on a ``DrillWorker`` thread that
only puts events on a queue (wizard.ui.worker.EventBridge). Never two drills, never during a backup, an
upload or a restore; a backup that starts cancels the drill and waits for its thread (docs/drills.md).
"""

from __future__ import annotations

import logging
import threading
import tkinter
import traceback
from datetime import datetime
from typing import TYPE_CHECKING, Any

import ttkbootstrap as ttk

from wizard.core import history
from wizard.core.config import WEEKDAYS, Config
from wizard.core.errors import UserError
from wizard.i18n import _
from wizard.ui.text import format_time, month_short, weekday_name
from wizard.ui.widgets import BOLD_FONT, SMALL_FONT, WrapLabel
from wizard.ui.worker import EventBridge

if TYPE_CHECKING:
    from wizard.ui.app import RespaldosWindow

logger = logging.getLogger(__name__)

FIRST_CHECK_MS = 3 * 60 * 1000  # after the window opens (a catch-up backup starts after one minute)
CHECK_MS = 15 * 60 * 1000


def past_moment(when: datetime, now: datetime) -> str:
    """ "hoy a las 09:12", "ayer a las 09:12", "lunes 30 a las 09:12", "lunes 30 de nov a las 09:12"."""
    clock = format_time(when)
    days = (now.date() - when.date()).days
    if days == 0:
        return _("hoy a las {time}").format(time=clock)
    if days == 1:
        return _("ayer a las {time}").format(time=clock)
    weekday = weekday_name(WEEKDAYS[when.weekday()])
    if 0 < days < 7:
        return _("{weekday} {day} a las {time}").format(weekday=weekday, day=when.day, time=clock)
    return _("{weekday} {day} de {month} a las {time}").format(
        weekday=weekday, day=when.day, month=month_short(when.month), time=clock)


def last_drill_line(entries: list[history.HistoryEntry], config: Config, now: datetime) -> tuple[str, str]:
    """The summary's line about the last drill and its style ("danger" when it failed)."""
    from wizard.core.drill import last_drill, result_of

    entry = last_drill(entries)
    if entry is None:
        text, style = _("Última prueba de restauración: todavía no se ha probado ningún respaldo."), "secondary"
    else:
        result = result_of(entry)
        when = past_moment(entry.start, now)
        if result.ok:
            figures = result.figures(now)
            text = (_("Última prueba de restauración: {when}, correcta: {figures}.").format(when=when, figures=figures)
                    if figures else _("Última prueba de restauración: {when}, correcta.").format(when=when))
            style = "default"
        else:
            text = _("Última prueba de restauración: {when}, falló. {problem}").format(
                when=when, problem=result.sentence(now))
            style = "danger"
    if config.schedule.test_restore == "off":
        text += "\n" + _("Las pruebas automáticas están apagadas (Modificar configuración, paso Cuándo).")
    return text, style


def drill_phase_text(phase: str) -> str:
    return {
        "download": _("Descargando la copia de la nube..."),
        "extract": _("Comprobando cada archivo del respaldo..."),
        "check": _("Revisando la base de datos..."),
        "server": _("Cargando la base de datos en el servidor..."),
    }.get(phase, "")


class DrillWorker(EventBridge):
    """Runs the due drills (``manual=False``) or a drill of the newest backup ("Probar ahora") on a thread.

    Events, handled on the Tk thread by ``on_event(kind, payload)``: "started" (the PlannedDrill, None for
    "Probar ahora"), "progress" (DrillProgress), "done" (the list of DrillResults, or the UserError that
    said there was nothing to test), "error" ((exception, traceback text): a bug).
    """

    def __init__(self, widget: tkinter.Misc, config: Config, *, manual: bool, on_event: Any):
        super().__init__(widget)
        self.config = config
        self.manual = manual
        self.on_event = on_event
        self.cancel_event = threading.Event()
        self.thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self.thread is not None and not self._finished

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="prueba", daemon=True)
        self.thread.start()
        self.start_polling()

    def cancel(self) -> None:
        self.cancel_event.set()

    def report(self, event: Any) -> None:
        """The drill's thread: only a queue put."""
        self.events.put(("progress", event))

    def _run(self) -> None:
        try:
            from wizard.core.drill import auto, run_drill

            if self.manual:
                self.events.put(("started", None))
                result = run_drill(self.config, report=self.report, cancel=self.cancel_event)
                if not result.ok and not result.cancelled:
                    auto.say_failure(self.config, result)
                results = [result]
            else:
                results = auto.run_due(self.config, report=self.report, cancel=self.cancel_event,
                                       on_start=lambda planned: self.events.put(("started", planned)))
        except UserError as exc:  # nothing to test: a sentence for the line
            self.events.put(("done", exc))
        except BaseException as exc:  # noqa: BLE001 - reported to the Tk thread, logged there
            self.events.put(("error", (exc, traceback.format_exc())))
        else:
            self.events.put(("done", results))

    def handle(self, kind: str, payload: Any) -> None:
        if kind == "error":
            logger.error("restore drill worker crashed:\n%s", payload[1])
        self.on_event(kind, payload)


class WindowDrills:
    """The window's drills: the 15-minute check, "Probar ahora", cancel, and what a backup needs of them."""

    def __init__(self, app: RespaldosWindow):
        self.app = app
        self.worker: DrillWorker | None = None
        self._after_id: str | None = None
        self.shown = False  # the panel shows a drill in progress (an automatic check that found nothing never)

    @property
    def running(self) -> bool:
        return self.worker is not None and self.worker.running

    @property
    def panel(self) -> DrillPanel | None:
        summary = self.app.summary
        return getattr(summary, "drill_panel", None) if summary is not None else None

    def start_checks(self, delay_ms: int = FIRST_CHECK_MS) -> None:
        """Check for due drills after ``delay_ms``, then every CHECK_MS (once: later calls change nothing)."""
        if self._after_id is None:
            self._after_id = self.app.root.after(delay_ms, self._check)

    def _check(self) -> None:
        self._after_id = self.app.root.after(CHECK_MS, self._check)
        self.start(manual=False)

    def start(self, *, manual: bool) -> bool:
        """Start the due drills or "Probar ahora"; False when something else runs (or, for the automatic
        ones, when they are off)."""
        app = self.app
        config = app.config
        if config is None or self.running or app.backup_running or app.sync_running or app.restore_running:
            return False
        if not manual and config.schedule.test_restore == "off":
            return False
        self.shown = False
        self.worker = DrillWorker(app.root, config, manual=manual, on_event=self._event)
        self.worker.start()
        return True

    def cancel(self) -> None:
        if self.running:
            self.worker.cancel()  # type: ignore[union-attr]
            if self.panel is not None:
                self.panel.cancelling()

    def stop_for_backup(self) -> threading.Thread | None:
        """A backup is starting: a drill in progress is cancelled; the backup waits for the returned thread."""
        if not self.running:
            return None
        logger.info("a backup is starting: the restore drill in progress is cancelled")
        self.cancel()
        return self.worker.thread  # type: ignore[union-attr]

    def stop(self) -> None:
        """The window is closing."""
        if self._after_id is not None:
            try:
                self.app.root.after_cancel(self._after_id)
            except tkinter.TclError:
                pass
            self._after_id = None
        if self.worker is not None:
            self.worker.cancel()
            self.worker.stop_polling()

    def _event(self, kind: str, payload: Any) -> None:
        panel = self.panel
        if kind == "started":
            self.shown = True
            if panel is not None:
                panel.started(payload)
        elif kind == "progress":
            if panel is not None:
                panel.show_progress(payload)
        else:
            manual = self.worker is not None and self.worker.manual
            message = ""
            if kind == "error":
                message = _("La prueba de restauración falló por un error inesperado. Los detalles se guardaron en "
                            "el registro.")
            elif isinstance(payload, UserError) and manual:
                message = str(payload)
            if panel is not None and (self.shown or message or manual):
                panel.finished(message)
                summary = self.app.summary
                if summary is not None:
                    summary.refresh_history()


class DrillPanel(ttk.Frame):
    """The summary's drill line, "Probar ahora", and the progress of a drill in progress."""

    def __init__(self, master: tkinter.Misc, app: RespaldosWindow):
        super().__init__(master, padding=(0, 10, 0, 0))
        self.app = app
        self.columnconfigure(0, weight=1)
        self.line = WrapLabel(self, text="")
        self.line.grid(row=0, column=0, columnspan=2, sticky="ew")
        self.test_button = ttk.Button(self, text=_("Probar ahora"), bootstyle="primary-outline",
                                      command=self.test_now, icon="clipboard-check")
        self.test_button.grid(row=1, column=0, sticky="w", pady=(6, 0))
        self.progress_box = ttk.Frame(self, padding=(0, 6, 0, 0))
        self.progress_box.columnconfigure(0, weight=1)
        self.phase_label = ttk.Label(self.progress_box, text="", font=BOLD_FONT)
        self.phase_label.grid(row=0, column=0, sticky="w")
        self.percent_label = ttk.Label(self.progress_box, text="", font=BOLD_FONT)
        self.percent_label.grid(row=0, column=1, sticky="e")
        self.progress = ttk.Progressbar(self.progress_box, maximum=100, bootstyle="info-striped")
        self.progress.grid(row=1, column=0, columnspan=2, sticky="ew", pady=4)
        self.detail_label = ttk.Label(self.progress_box, text="", bootstyle="secondary", font=SMALL_FONT)
        self.detail_label.grid(row=2, column=0, columnspan=2, sticky="w")
        self.cancel_button = ttk.Button(self.progress_box, text=_("Cancelar"), bootstyle="danger-outline",
                                        command=self.app.drills.cancel)
        self.cancel_button.grid(row=3, column=1, sticky="e", pady=(4, 0))
        self.message = ""  # what the last "Probar ahora" said when it could not test anything
        if self.app.drills.running and self.app.drills.shown:  # the summary was rebuilt while one runs
            self.started(None)

    @property
    def line_text(self) -> str:
        return str(self.line.cget("text"))

    def show_last(self, entries: list[history.HistoryEntry]) -> None:
        """The line from the history (the summary calls it whenever it re-reads the history)."""
        config = self.app.config
        if config is None:
            return
        text, style = last_drill_line(entries, config, datetime.now())
        if self.message:
            text += "\n" + self.message
        self.line.configure(text=text, bootstyle=style)
        if not self.app.drills.running:
            self.test_button.state(["disabled"] if self.app.backup_running else ["!disabled"])

    def test_now(self) -> None:
        self.message = ""
        if self.app.backup_running:
            self.message = _("Espera a que termine el respaldo para probarlo.")
        elif not self.app.drills.start(manual=True):
            self.message = _("Ahora no se puede probar: espera a que termine lo que está en curso.")
        if self.message:
            self.line.configure(text=self.line_text.split("\n")[0] + "\n" + self.message)

    def started(self, planned: Any) -> None:
        self.test_button.state(["disabled"])
        self.cancel_button.state(["!disabled"])
        self.cancel_button.configure(text=_("Cancelar"))
        why = getattr(planned, "why", "")
        title = _("Probando el respaldo ({why})...").format(why=why) if why else _("Probando el respaldo...")
        self.phase_label.configure(text=title)
        self.percent_label.configure(text="0 %")
        self.progress.configure(value=0)
        self.detail_label.configure(text="")
        self.progress_box.grid(row=2, column=0, columnspan=2, sticky="ew")

    def show_progress(self, event: Any) -> None:
        if not self.progress_box.winfo_manager():
            self.started(None)
        percent = float(getattr(event, "percent", 0.0))
        self.progress.configure(value=percent)
        self.percent_label.configure(text=_("{p:.0f} %").format(p=percent))
        detail = drill_phase_text(getattr(event, "phase", ""))
        member = (getattr(event, "detail", "") or "").replace("\\", "/").rsplit("/", 1)[-1]
        if len(member) > 30:
            member = "..." + member[-27:]
        self.detail_label.configure(text=f"{detail} {member}".strip())

    def cancelling(self) -> None:
        self.cancel_button.state(["disabled"])
        self.cancel_button.configure(text=_("Cancelando..."))

    def finished(self, message: str = "") -> None:
        self.progress_box.grid_forget()
        self.message = message
        self.test_button.state(["!disabled"])

