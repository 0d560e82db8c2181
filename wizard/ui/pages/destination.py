"""Step 2, Dónde guardar: the destination folder, its free space, its drive, and a write test."""

from __future__ import annotations

import os
import tkinter
from pathlib import Path

import ttkbootstrap as ttk

from wizard.core import drives, machine
from wizard.core.config import Config, Problem
from wizard.core.units import format_size
from wizard.i18n import _
from wizard.ui.pages.base import Step
from wizard.ui.widgets import BOLD_FONT, Notice, ProblemLabel, WrapLabel
from wizard.ui.worker import BackgroundCall

DESCRIBE_DELAY_MS = 350  # wait for the user to stop typing before probing the folder


class DestinationStep(Step):
    section = "destination"
    also_sections = ("machine",)
    short_title = _("Dónde guardar")
    heading = _("¿Dónde guardar los respaldos?")
    intro = _(
        "Lo más seguro es una memoria USB o un disco externo: si la computadora se daña o se la "
        "roban, los respaldos siguen a salvo. Deja la memoria conectada a la hora del respaldo."
    )

    def build(self) -> None:
        self.info: drives.FolderInfo | None = None
        self._info_for = ""
        self._call: BackgroundCall | None = None
        self._after_id: str | None = None
        self._create_error = ""

        box = self.content
        row = ttk.Frame(box)
        row.grid(row=0, column=0, sticky="ew")
        row.columnconfigure(1, weight=1)
        ttk.Label(row, text=_("Carpeta:")).grid(row=0, column=0, padx=(0, 8))
        self.folder_var = ttk.StringVar()
        self.entry = ttk.Entry(row, textvariable=self.folder_var)
        self.entry.grid(row=0, column=1, sticky="ew")
        self.choose_button = ttk.Button(
            row, text=_("Elegir carpeta..."), bootstyle="primary", command=self.ask_folder
        )
        self.choose_button.grid(row=0, column=2, padx=(8, 0))
        self.folder_problem = ProblemLabel(box)
        self.folder_problem.grid(row=1, column=0, sticky="ew", pady=(6, 0))
        self.problem_labels["destination.folder"] = self.folder_problem

        self.create_button = ttk.Button(
            box, text=_("Crear la carpeta"), bootstyle="success", command=self.create_folder
        )

        details = ttk.Frame(box, padding=(0, 10, 0, 0))
        details.grid(row=3, column=0, sticky="ew")
        details.columnconfigure(1, weight=1)
        self.lines: dict[str, WrapLabel] = {}
        for i, (key, title) in enumerate(
            [
                ("status", _("Prueba de escritura:")),
                ("space", _("Espacio libre:")),
                ("drive", _("Tipo de disco:")),
            ]
        ):
            ttk.Label(details, text=title, font=BOLD_FONT).grid(
                row=i, column=0, sticky="nw", pady=2, padx=(0, 12)
            )
            self.lines[key] = WrapLabel(details, text="")
            self.lines[key].grid(row=i, column=1, sticky="ew", pady=2)
        self.inside_notice = Notice(box, bootstyle="info")
        self.advice_notice = Notice(box, bootstyle="warning")
        self.folder_var.trace_add("write", self._folder_changed)

        # Several tills or stores may share one USB disk or one Dropbox: each needs its own name.
        named = ttk.Frame(box, padding=(0, 14, 0, 0))
        named.grid(row=6, column=0, sticky="ew")
        named.columnconfigure(1, weight=1)
        ttk.Label(named, text=_("Nombre de este equipo:"), font=BOLD_FONT).grid(row=0, column=0, padx=(0, 8))
        self.machine_var = ttk.StringVar()
        self.machine_entry = ttk.Entry(named, textvariable=self.machine_var, width=30)
        self.machine_entry.grid(row=0, column=1, sticky="w")
        WrapLabel(named, text=_("Si varias cajas o tiendas guardan en la misma memoria USB o en la misma cuenta "
                                "de la nube, pon a cada una su nombre (por ejemplo «Caja 1»): cada equipo solo "
                                "borra sus propios respaldos."), bootstyle="secondary").grid(
            row=1, column=0, columnspan=2, sticky="ew", pady=(4, 0))
        self.machine_problem = ProblemLabel(named)
        self.machine_problem.grid(row=2, column=0, columnspan=2, sticky="ew")
        self.problem_labels["machine.name"] = self.machine_problem
        self.machine_var.trace_add("write", self.changed)

    # -- config ---------------------------------------------------------------------------------

    def load(self, config: Config) -> None:
        self.folder_var.set(config.destination.folder)
        self.machine_var.set(config.machine.name.strip() or machine.computer_name())

    def store(self, config: Config) -> None:
        config.destination.folder = self.folder_var.get().strip()
        name = self.machine_var.get().strip()
        # The computer's name is the default: left as is, the config follows a rename of the computer.
        config.machine.name = "" if name == machine.computer_name() else name

    @property
    def busy(self) -> bool:
        folder = self.folder_var.get().strip()
        if not folder or not os.path.isabs(os.path.expanduser(folder)):
            return False  # nothing to find out: the problem line already says what is wrong
        return self.info is None or self._info_for != folder

    def extra_problems(self, config: Config) -> list[Problem]:
        folder = self.folder_var.get().strip()
        if not folder:
            return []
        key = "destination.folder"
        if not os.path.isabs(os.path.expanduser(folder)):
            return [
                Problem(
                    key,
                    _("Escribe la ruta completa de la carpeta, por ejemplo {example}.").format(
                        example="E:\\Respaldos" if os.name == "nt" else "/media/usb/Respaldos"
                    ),
                )
            ]
        for source in config.source.paths:
            if source.strip() and drives.is_inside(source, folder):
                return [
                    Problem(
                        key,
                        _(
                            "Esta carpeta contiene los datos a respaldar ({source}). Elige una "
                            "carpeta aparte, por ejemplo dentro de una memoria USB."
                        ).format(source=source),
                    )
                ]
        if self._create_error:
            return [Problem(key, self._create_error)]
        info = self.info
        if info is None or self._info_for != folder:
            return []  # still finding out; Next stays disabled meanwhile (busy)
        if not info.exists:
            return [
                Problem(
                    key,
                    _(
                        "La carpeta no existe. Créala con «Crear la carpeta», o conecta la "
                        "memoria USB, o elige otra."
                    ),
                )
            ]
        if not info.is_dir:
            return [Problem(key, _("Es un archivo, no una carpeta. Elige una carpeta."))]
        if not info.writable:
            return [
                Problem(
                    key,
                    _("No se puede guardar en esta carpeta ({error}). Elige otra.").format(
                        error=info.error or _("sin permiso")
                    ),
                )
            ]
        return []

    # -- actions --------------------------------------------------------------------------------

    def ask_folder(self) -> None:
        current = self.folder_var.get().strip() or None
        folder = self.app.dialogs.choose_directory(_("Elige dónde guardar los respaldos"), current)
        if folder:
            self.folder_var.set(str(Path(folder)))

    def create_folder(self) -> None:
        folder = Path(os.path.expanduser(self.folder_var.get().strip()))
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._create_error = ""
        except OSError as exc:
            self._create_error = _("No se pudo crear la carpeta ({error}). Elige otra.").format(
                error=exc.strerror or exc
            )
        self._describe_now()

    def _folder_changed(self, *_args: object) -> None:
        self._create_error = ""
        self.info = None
        if self._after_id is not None:
            self.after_cancel(self._after_id)
        self._after_id = self.after(DESCRIBE_DELAY_MS, self._describe_now)
        self._show_info()
        self.changed()

    def _describe_now(self) -> None:
        self._after_id = None
        folder = self.folder_var.get().strip()
        if self._call is not None:
            self._call.cancel()
            self._call = None
        if not folder or not os.path.isabs(os.path.expanduser(folder)):
            self.info = None
            self._info_for = ""
            self._show_info()
            self.changed()
            return
        self.info = None  # pending: Next waits for the answer
        self._call = BackgroundCall(
            self,
            lambda: drives.describe_folder(folder),
            lambda info: self._described(folder, info),
            lambda exc: self._described(folder, None),
        ).start()

    def _described(self, folder: str, info: drives.FolderInfo | None) -> None:
        self._call = None
        if folder != self.folder_var.get().strip():
            return
        self.info = info
        self._info_for = folder
        self._show_info()
        self.changed()

    def refresh(self) -> None:
        """Probe the folder again (after plugging in a USB drive, for example)."""
        self._describe_now()

    # -- display --------------------------------------------------------------------------------

    def _show_info(self) -> None:
        info = self.info
        folder = self.folder_var.get().strip()
        if info is None or self._info_for != folder:
            for line in self.lines.values():
                line.configure(text="", bootstyle="default")
            if folder and os.path.isabs(os.path.expanduser(folder)):
                self.lines["status"].configure(text=_("Revisando la carpeta..."), bootstyle="secondary")
            self.create_button.grid_forget()
            self.inside_notice.grid_forget()
            self.advice_notice.grid_forget()
            return

        if not info.exists:
            self.lines["status"].configure(text=_("La carpeta todavía no existe."), bootstyle="warning")
            self.create_button.grid(row=2, column=0, sticky="w", pady=(6, 0))
        elif not info.is_dir:
            self.lines["status"].configure(text=_("Es un archivo, no una carpeta."), bootstyle="danger")
            self.create_button.grid_forget()
        elif info.writable:
            self.lines["status"].configure(
                text="\u2713 " + _("Se puede guardar en esta carpeta."), bootstyle="success"
            )
            self.create_button.grid_forget()
        else:
            self.lines["status"].configure(
                text="\u2717 " + _("No se puede guardar en esta carpeta."), bootstyle="danger"
            )
            self.create_button.grid_forget()

        if info.free_bytes is not None:
            space = _("{free} libres de {total}").format(
                free=format_size(info.free_bytes), total=format_size(info.total_bytes)
            )
            size = self.wizard.source_size
            if size is not None and size.total_bytes and info.free_bytes < size.total_bytes * 0.6:
                space += "  ·  " + _("Poco espacio: tus datos ocupan {size}.").format(
                    size=format_size(size.total_bytes)
                )
                self.lines["space"].configure(text=space, bootstyle="warning")
            else:
                self.lines["space"].configure(text=space, bootstyle="default")
        else:
            self.lines["space"].configure(text=_("No se pudo saber."), bootstyle="secondary")

        where = f" ({info.label})" if info.label else ""
        if info.removable is True:
            self.lines["drive"].configure(text=_("Memoria USB o disco externo") + where, bootstyle="success")
        elif info.removable is False:
            self.lines["drive"].configure(text=_("Disco de esta computadora") + where, bootstyle="default")
        else:
            self.lines["drive"].configure(text=_("No se pudo saber") + where, bootstyle="secondary")

        sources = self.wizard.draft.source.paths
        inside = [s for s in sources if s.strip() and drives.is_inside(folder, s)]
        if inside:
            self.inside_notice.set(
                _(
                    "Esta carpeta está dentro de los datos a respaldar ({source}). Está "
                    "permitido: los respaldos se dejan fuera automáticamente."
                ).format(source=inside[0])
            )
            self.inside_notice.grid(row=4, column=0, sticky="ew", pady=(10, 0))
        else:
            self.inside_notice.grid_forget()

        if info.removable is not True:
            self.advice_notice.set(
                _(
                    "Recomendación: guarda también una copia fuera de esta computadora, "
                    "en una memoria USB, un disco externo o la nube (paso 4). Si la "
                    "computadora se daña, un respaldo en su mismo disco se pierde con ella."
                )
            )
            self.advice_notice.grid(row=5, column=0, sticky="ew", pady=(10, 0))
        else:
            self.advice_notice.grid_forget()

    def on_show(self) -> None:
        self._describe_now()
        self.entry.focus_set()

    def on_hide(self) -> None:
        if self._after_id is not None:
            try:
                self.after_cancel(self._after_id)
            except tkinter.TclError:  # the page is already gone
                pass
            self._after_id = None

    @property
    def status_text(self) -> str:
        return str(self.lines["status"].cget("text"))
