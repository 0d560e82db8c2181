"""The dialog's last view: what the restore did or why it did not, the server databases it left alone,
"Abrir la carpeta", "Volver a la lista" and, after another computer's backup, "Este equipo reemplaza a..."."""

from __future__ import annotations

import os
import tkinter
from pathlib import Path

import ttkbootstrap as ttk

from wizard.core import machine, restore
from wizard.core.errors import Cancelled, UserError
from wizard.i18n import _
from wizard.ui.password_dialogs import ask_archive_password, needs_password
from wizard.ui.text import log_location
from wizard.ui.widgets import HEADING_FONT, Notice


class ResultView:
    """Part of RestoreDialog: builds the "result" view and fills it when a job ends."""

    def _build_result(self) -> None:
        view = self.result_view = ttk.Frame(self, padding=(28, 28))
        view.columnconfigure(0, weight=1)
        view.rowconfigure(1, weight=1)
        self.result_title = ttk.Label(view, text="", font=HEADING_FONT)
        self.result_title.grid(row=0, column=0, sticky="w")
        self.result_notice = Notice(view, text="", bootstyle="success")
        self.result_notice.grid(row=1, column=0, sticky="new", pady=(14, 0))
        buttons = ttk.Frame(view)
        buttons.grid(row=2, column=0, sticky="ew", pady=(14, 0))
        self.open_button = ttk.Button(buttons, text=_("Abrir la carpeta"), bootstyle="primary-outline",
                                      command=self.open_folder, icon="folder2-open")
        self.back_button = ttk.Button(buttons, text=_("Volver a la lista"), bootstyle="primary-outline",
                                      command=self.back_to_list)
        self.done_button = ttk.Button(buttons, text=_("Cerrar"), bootstyle="primary", command=self.close)
        self.done_button.pack(side="right")
        self.adopt_button = ttk.Button(buttons, text="", bootstyle="success", command=self.adopt_other_machine)

    @property
    def result_text(self) -> str:
        return self.result_notice.text if self.view == "result" else ""

    def _done(self, report: restore.RestoreReport, archive: Path | str = "") -> None:
        self.report = report
        self.skipped_dumps = list(report.skipped_dumps)
        self.result_title.configure(text=_("Restauración terminada"))
        style = "success" if all(db.ok for db in report.databases) else "warning"
        text = report.message
        if self.skipped_dumps:
            style = "warning"
            text += "\n\n" + self._skipped_text(archive or report.archive)
        self.result_notice.set(text, style)
        self.back_button.pack_forget()
        self.adopt_button.pack_forget()
        self.open_button.pack(side="left")
        if self.skipped_dumps:  # the text sends the user back to the list for them
            self.back_button.pack(side="left", padx=8)
        owner = self.other_owner
        if owner is not None and report.to_original:
            text += "\n\n" + _("Si este equipo reemplaza a {name}, pulsa «Este equipo reemplaza a {name}»: sus "
                               "respaldos seguirán con los de ese equipo, con su nombre.").format(name=owner.name)
            self.result_notice.set(text, style)
            self.adopt_button.configure(text=_("Este equipo reemplaza a {name}").format(name=owner.name))
            self.adopt_button.pack(side="left", padx=8)
        self.show("result")
        self._refresh_summary()

    def adopt_other_machine(self) -> None:
        """Continue the other computer's backups: its id and name become this installation's."""
        owner = self.other_owner
        if owner is None:
            return
        try:
            me = machine.adopt_installation(self.config, self.app.config_path, owner.id,
                                            {owner.id: {"name": owner.name}})
        except UserError as exc:
            self.app.dialogs.warning(str(exc))
            return
        self.other_owner = None
        self.adopt_button.pack_forget()
        self.result_notice.set(_("Listo: este equipo se llama ahora {name} y sus respaldos siguen con los de ese "
                                 "equipo.").format(name=me.name), "success")
        summary = self.app.summary
        if summary is not None:
            try:
                summary.refresh()
            except tkinter.TclError:
                pass

    def _failed(self, exc: BaseException) -> None:
        self.error = exc
        if isinstance(exc, Cancelled):
            title, text = _("Restauración cancelada"), _("Restauración cancelada. No se cambió nada.")
        elif isinstance(exc, UserError):
            title, text = _("No se restauró el respaldo"), str(exc)
            if isinstance(exc, restore.RestoreFailed):
                title = _("La restauración no terminó")
        else:
            title = _("No se restauró el respaldo")
            text = _("La restauración falló por un error inesperado. Los detalles están en el registro: "
                     "{log}").format(log=log_location())
        self.result_title.configure(text=title)
        self.result_notice.set(text, "danger" if not isinstance(exc, Cancelled) else "secondary")
        self.open_button.pack_forget()
        self.back_button.pack(side="left")
        self.show("result")
        self._refresh_summary()
        choice = getattr(self, "started_choice", None)
        if needs_password(exc) and choice is not None:  # a cloud copy that needs a password: ask, then again
            self.password_dialog = ask_archive_password(
                self, self.app, choice.name, exc, retry=lambda: self._start(choice, self.target_folder))

    def _refresh_summary(self) -> None:
        summary = self.app.summary
        if summary is not None:
            try:
                summary.refresh_history()
            except tkinter.TclError:
                pass

    def back_to_list(self) -> None:
        self.load_backups(keep_selection=True)  # the backup just used: its databases may be restored next
        self.show("choose")

    def open_folder(self) -> None:
        report = self.report
        if report is None or not report.folders:
            return
        folder = report.folders[0]
        if folder.is_file():
            folder = folder.parent
        if os.path.isdir(folder):
            self.app.open_path(str(folder))
