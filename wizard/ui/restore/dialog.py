"""The "Restaurar..." dialog: choose a backup, see what is in it, put it back, read what happened.

Three views in one window: the list (local backups, plus the cloud's once they arrive) with the chosen
backup's contents and the "Se perderán los cambios..." sentence; the progress of the restore, which runs
on a worker thread (``wizard.core.restore``; the worker only puts events on a queue); and the result.
The newest backup is chosen when the dialog opens, so from the summary "Restaurar...", "Restaurar en su
lugar original" and "Restaurar" bring the last backup's data back. Each view is a class of its own module
that RestoreDialog inherits; this one holds the window and starts the restores of files.
"""

from __future__ import annotations

import threading
import tkinter
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ttkbootstrap as ttk

from wizard.core import restore, servers
from wizard.core.errors import Cancelled
from wizard.i18n import _
from wizard.ui.restore.choose_view import ChooseView
from wizard.ui.restore.contents_tree import ContentsTree
from wizard.ui.restore.job import RestoreJob
from wizard.ui.restore.progress_view import ProgressView
from wizard.ui.restore.result_view import ResultView
from wizard.ui.restore.scale import SIZE, text_scale
from wizard.ui.restore.server_databases import ServerDatabaseRestore
from wizard.ui.widgets import grab_when_viewable
from wizard.ui.worker import BackgroundCall

if TYPE_CHECKING:
    from wizard.ui.app import RespaldosWindow


class RestoreDialog(ChooseView, ContentsTree, ServerDatabaseRestore, ProgressView, ResultView, ttk.Toplevel):
    """Opened by the summary's "Restaurar..." button. ``app`` is the RespaldosWindow (config, dialogs)."""

    def __init__(self, master: tkinter.Misc, app: RespaldosWindow):
        super().__init__(title=_("Restaurar un respaldo"), master=master, transient=app.root,
                         minsize=(640, 480), on_close=self.close)
        self.app = app
        assert app.config is not None
        self.config = app.config
        self.choices: list[restore.BackupChoice] = []
        self.extra: list[restore.BackupChoice] = []  # archives picked with "Elegir otro archivo..."
        self.cloud: list[restore.BackupChoice] = []
        self.contents: restore.BackupContents | None = None
        self.job: RestoreJob | None = None
        self.report: restore.RestoreReport | None = None
        self.error: BaseException | None = None
        self.target_folder: Path | None = None
        self.skipped_dumps: list[restore.ServerDump] = []  # dumps a restore to the original place left alone
        self.restored_database: servers.RestoredDatabase | None = None
        self.other_owner: restore.ArchiveOwner | None = None  # another installation's backup, once confirmed
        self._db_bytes = (0, 1)  # (loaded so far, size of the dump) while a database is restored
        self._calls: list[BackgroundCall] = []
        self._cloud_call: BackgroundCall | None = None
        self.columnconfigure(0, weight=1)
        self.rowconfigure(0, weight=1)
        self._place()
        self._build_choose()
        self._build_progress()
        self._build_result()
        self.show("choose")
        self.bind("<Escape>", lambda _e: self.close())
        self.load_backups()
        self.after_idle(lambda: grab_when_viewable(self, focus=True))

    # -- window ------------------------------------------------------------------------------------

    def _place(self) -> None:
        root = self.app.root
        root.update_idletasks()
        factor = text_scale(root)  # larger text (150 %) needs a larger dialog
        width = min(int(SIZE[0] * factor), root.winfo_screenwidth() - 40)
        height = min(int(SIZE[1] * factor), root.winfo_screenheight() - 90)
        x = root.winfo_rootx() + max((root.winfo_width() - width) // 2, 0)
        y = root.winfo_rooty() + max((root.winfo_height() - height) // 2, 0)
        self.geometry(f"{width}x{height}+{x}+{y}")

    def show(self, view: str) -> None:
        for name, frame in (("choose", self.choose_view), ("progress", self.progress_view),
                            ("result", self.result_view)):
            if name == view:
                frame.grid(row=0, column=0, sticky="nsew")
            else:
                frame.grid_forget()
        self.view = view

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def close(self) -> None:
        """The window's close button, Esc and "Cerrar". While restoring: ask to cancel instead."""
        if self.running:
            self.cancel()
            return
        self.destroy()

    def destroy(self) -> None:
        for call in self._calls:
            call.cancel()
        if self._cloud_call is not None:
            self._cloud_call.cancel()
        if self.job is not None:
            self.job.cancel()
            self.job.stop_polling()
        try:
            self.grab_release()
        except tkinter.TclError:
            pass
        super().destroy()

    # -- starting a restore of files ----------------------------------------------------------------

    def restore_original(self) -> None:
        choice = self.selected
        if choice is None or self.running:
            return
        if self.app.backup_running:
            self.app.dialogs.warning(_("Hay un respaldo en curso. Espera a que termine y vuelve a intentar."))
            return
        contents = self.contents if choice.local else None
        dumps = restore.server_dumps(contents.manifest) if contents is not None else []
        names = ", ".join(d.name for d in dumps)
        if not choice.local:  # contents not known before the download: those the config backs up
            names = ", ".join(db.label for db in self.config.source.databases)
        if dumps and len(dumps) == len(contents.files):  # type: ignore[union-attr]
            self.app.dialogs.info(_(
                "Este respaldo solo tiene copias de bases de datos del servidor ({names}), y esas no vuelven a su "
                "lugar original. Elige una en «Contenido» y pulsa «Restaurar como base de datos nueva...»: se "
                "crea una base de datos nueva y la que usa el punto de venta no se toca.").format(names=names))
            return
        question = "\n\n".join([
            _("¿Restaurar el respaldo {when} en su lugar original?").format(
                when=restore.when_phrase(choice.created)),
            *([] if choice.mine else [_(
                "Es un respaldo de otro equipo, {name}. Antes de escribir nada se te mostrará qué carpetas de este "
                "equipo reemplaza.").format(name=choice.owner)]),
            choice.changes_lost(),
            _("Antes se guardará un respaldo de seguridad de los datos actuales en {folder}.").format(
                folder=self.config.destination.folder),
        ])
        if names:
            question += "\n\n" + _(
                "Las bases de datos del servidor ({names}) no se restauran en su lugar original; después puedes "
                "restaurarlas como bases de datos nuevas.").format(names=names)
        if not self.app.dialogs.confirm(question, _("Restaurar"), yes=_("Restaurar"), no=_("Cancelar")):
            return
        self._start(choice, None)

    def restore_elsewhere(self) -> None:
        choice = self.selected
        if choice is None or self.running:
            return
        chosen = self.app.dialogs.choose_directory(_("Elige la carpeta donde restaurar"))
        if not chosen:
            return
        self._start(choice, restore.folder_for(Path(chosen), choice.name))

    def _start(self, choice: restore.BackupChoice, folder: Path | None) -> None:
        config = self.config
        self.started_choice = choice  # to start it again once a missing password was typed
        self.target_folder = folder
        self.report = None
        self.error = None
        self.skipped_dumps = []
        self.restored_database = None
        self.other_owner = None
        extra = 0 if choice.local else 1
        steps = (4 if folder is None else 2) + extra

        config_path = self.app.config_path

        def work(report: Callable[[Any], None], cancel: threading.Event) -> restore.RestoreReport:
            source = (nullcontext(choice.path) if choice.local
                      else restore.downloaded(config, choice.name, report=report, cancel=cancel, steps=steps))
            with source as archive:
                if folder is None:
                    # Another installation's backup: the folders it would overwrite are shown and confirmed
                    # first (after the download for a cloud copy: only its manifest names them).
                    owner, folders = restore.folders_to_overwrite(archive, config)
                    if not owner.mine and not job.ask((archive, owner, folders)):
                        raise Cancelled()
                    return restore.restore_to_original(archive, config, report=report, cancel=cancel,
                                                       download_steps=extra, config_path=config_path,
                                                       from_other_machine=not owner.mine)
                return restore.restore_to_folder(archive, folder, report=report, cancel=cancel,
                                                 download_steps=extra)

        self.progress_title.configure(text=_("Restaurando el respaldo {when}").format(
            when=restore.when_phrase(choice.created)))
        self.step_label.configure(text="")
        self.percent_label.configure(text="0 %")
        self.progress.configure(value=0)
        self.current_label.configure(text="")
        self.cancel_button.state(["!disabled"])
        self.cancel_button.configure(text=_("Cancelar"))
        self.show("progress")
        archive_name = choice.path if choice.local and choice.path is not None else choice.name
        job = RestoreJob(self, work, on_progress=self._progress, on_done=lambda done: self._done(done, archive_name),
                         on_error=self._failed, on_ask=self._confirm_other_machine)
        self.job = job
        job.start()

    def _confirm_other_machine(self, question: tuple[Path, restore.ArchiveOwner, list[Path]]) -> bool:
        archive, owner, folders = question
        text = "\n\n".join([
            restore.other_machine_sentence(archive, owner, folders),
            _("Hazlo solo si este equipo reemplaza a {name} (por ejemplo, porque aquel se dañó). Antes se guardará "
              "un respaldo de seguridad de lo que hay ahora en esas carpetas.").format(name=owner.name),
        ])
        if not self.app.dialogs.confirm(text, _("Respaldo de otro equipo"), yes=_("Restaurar"), no=_("Cancelar")):
            return False
        self.other_owner = owner
        return True


def open_restore_dialog(master: tkinter.Misc, app: RespaldosWindow) -> RestoreDialog:
    return RestoreDialog(master, app)
