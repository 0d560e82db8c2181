"""Step 1, Qué respaldar: the POS data folders and files, their total size and databases found."""

from __future__ import annotations

import os
from pathlib import Path

import ttkbootstrap as ttk

from wizard.core import drives
from wizard.core.config import Config, Problem
from wizard.i18n import _, ngettext
from wizard.ui.pages.base import Step
from wizard.ui.text import format_bytes, format_count
from wizard.ui.widgets import Notice, ProblemLabel, WrapLabel
from wizard.ui.worker import BackgroundCall


def split_patterns(text: str) -> list[str]:
    """ "*.log, temp/" -> ["*.log", "temp/"]; commas, semicolons or new lines separate patterns."""
    for sep in (";", "\n"):
        text = text.replace(sep, ",")
    return [p.strip() for p in text.split(",") if p.strip()]


class SourceStep(Step):
    section = "source"
    short_title = _("Qué respaldar")
    heading = _("¿Qué quieres respaldar?")
    intro = _(
        "Agrega la carpeta donde tu punto de venta guarda sus datos (por ejemplo C:\\SICAR). "
        "Puedes agregar varias carpetas o archivos. Las bases de datos se copian de forma segura "
        "aunque el punto de venta esté abierto y vendiendo."
    )

    def build(self) -> None:
        self.paths: list[str] = []
        self.size_info: drives.SizeInfo | None = None
        self._size_call: BackgroundCall | None = None
        self._size_key: tuple = ()

        box = self.content
        list_frame = ttk.Frame(box)
        list_frame.grid(row=0, column=0, sticky="nsew")
        list_frame.columnconfigure(0, weight=1)
        list_frame.rowconfigure(0, weight=1)
        self.tree = ttk.Treeview(
            list_frame,
            columns=("kind",),
            show="tree headings",
            height=6,
            bootstyle="table",
            selectmode="extended",
        )
        self.tree.heading("#0", text=_("Carpeta o archivo"), anchor="w")
        self.tree.heading("kind", text=_("Tipo"), anchor="w")
        self.tree.column("#0", stretch=True, width=420)
        self.tree.column("kind", stretch=False, width=110)
        self.tree.grid(row=0, column=0, sticky="nsew")
        scroll = ttk.Scrollbar(list_frame, orient="vertical", command=self.tree.yview)
        scroll.grid(row=0, column=1, sticky="ns")
        self.tree.configure(yscrollcommand=scroll.set)
        self.tree.bind("<Delete>", lambda e: self.remove_selected())
        self.tree.bind("<<TreeviewSelect>>", lambda e: self._update_buttons())

        buttons = ttk.Frame(list_frame)
        buttons.grid(row=0, column=2, sticky="n", padx=(12, 0))
        self.add_folder_button = ttk.Button(
            buttons, text=_("Agregar carpeta..."), bootstyle="primary", command=self.ask_folder, width=18
        )
        self.add_folder_button.pack(fill="x")
        self.add_files_button = ttk.Button(
            buttons,
            text=_("Agregar archivos..."),
            bootstyle="primary-outline",
            command=self.ask_files,
            width=18,
        )
        self.add_files_button.pack(fill="x", pady=6)
        self.remove_button = ttk.Button(
            buttons, text=_("Quitar"), bootstyle="secondary-outline", command=self.remove_selected, width=18
        )
        self.remove_button.pack(fill="x")

        self.paths_problem = ProblemLabel(box)
        self.paths_problem.grid(row=1, column=0, sticky="ew", pady=(6, 0))
        self.problem_labels["source.paths"] = self.paths_problem

        self.totals = WrapLabel(box, text="")
        self.totals.grid(row=2, column=0, sticky="ew", pady=(8, 0))
        self.db_notice = Notice(box, bootstyle="warning")

        # Exclusions live under a collapsed "Opciones avanzadas": most shops never need them.
        self.advanced_open = ttk.BooleanVar(value=False)
        self.advanced_toggle = ttk.Button(
            box, text="", bootstyle="primary-link", command=self.toggle_advanced
        )
        self.advanced_toggle.grid(row=4, column=0, sticky="w", pady=(12, 0))
        self.advanced = ttk.Frame(box, padding=(0, 8, 0, 0))
        self.advanced.columnconfigure(1, weight=1)
        ttk.Label(self.advanced, text=_("No respaldar:")).grid(row=0, column=0, sticky="w", padx=(0, 8))
        self.exclude_var = ttk.StringVar()
        self.exclude_entry = ttk.Entry(self.advanced, textvariable=self.exclude_var)
        self.exclude_entry.grid(row=0, column=1, sticky="ew")
        WrapLabel(
            self.advanced,
            bootstyle="secondary",
            text=_("Patrones separados por comas. Ejemplo: *.log, temp/ (una carpeta termina en /)."),
        ).grid(row=1, column=1, sticky="ew", pady=(2, 0))
        self.exclude_problem = ProblemLabel(self.advanced)
        self.exclude_problem.grid(row=2, column=1, sticky="ew")
        self.problem_labels["source.exclude"] = self.exclude_problem
        self.exclude_var.trace_add("write", self._exclude_changed)
        self._update_buttons()

    # -- config ---------------------------------------------------------------------------------

    def load(self, config: Config) -> None:
        self.paths = list(config.source.paths)
        self.exclude_var.set(", ".join(config.source.exclude))
        self.advanced_open.set(bool(config.source.exclude))
        self._show_advanced()
        self._refresh_list()

    def store(self, config: Config) -> None:
        config.source.paths = list(self.paths)
        config.source.exclude = split_patterns(self.exclude_var.get())

    def extra_problems(self, config: Config) -> list[Problem]:
        problems = []
        for i, path in enumerate(self.paths):
            if path.strip() and not os.path.exists(os.path.expanduser(path)):
                problems.append(
                    Problem(
                        f"source.paths[{i}]",
                        _(
                            "No se encontró {path}. Revisa que el disco esté conectado o quítala de la lista."
                        ).format(path=path),
                    )
                )
        return problems

    # -- actions --------------------------------------------------------------------------------

    def ask_folder(self) -> None:
        initial = self.paths[-1] if self.paths else None
        folder = self.app.dialogs.choose_directory(_("Elige la carpeta de datos del punto de venta"), initial)
        if folder:
            self.add_paths([folder])

    def ask_files(self) -> None:
        initial = os.path.dirname(self.paths[-1]) if self.paths else None
        files = self.app.dialogs.choose_files(_("Elige archivos a respaldar"), initial)
        if files:
            self.add_paths(files)

    def add_paths(self, paths: list[str]) -> None:
        for raw in paths:
            path = str(Path(raw))
            if any(drives.is_inside(path, existing) for existing in self.paths):
                continue  # already covered by a folder in the list
            # A folder added around paths already listed replaces them.
            self.paths = [p for p in self.paths if not drives.is_inside(p, path)]
            self.paths.append(path)
        self._refresh_list()

    def remove_selected(self) -> None:
        selected = set(self.tree.selection())
        if not selected:
            return
        self.paths = [p for i, p in enumerate(self.paths) if str(i) not in selected]
        self._refresh_list()

    def toggle_advanced(self) -> None:
        self.advanced_open.set(not self.advanced_open.get())
        self._show_advanced()

    def _show_advanced(self) -> None:
        if self.advanced_open.get():
            self.advanced_toggle.configure(text="\u25be " + _("Opciones avanzadas"))
            self.advanced.grid(row=5, column=0, sticky="ew")
        else:
            self.advanced_toggle.configure(text="\u25b8 " + _("Opciones avanzadas"))
            self.advanced.grid_forget()

    def _exclude_changed(self, *_args: object) -> None:
        self._schedule_size()
        self.changed()

    def _update_buttons(self) -> None:
        self.remove_button.state(["!disabled"] if self.tree.selection() else ["disabled"])

    def _refresh_list(self) -> None:
        self.tree.delete(*self.tree.get_children())
        for i, path in enumerate(self.paths):
            if os.path.isdir(path):
                kind = _("Carpeta")
            elif os.path.isfile(path):
                kind = _("Archivo")
            else:
                kind = _("No encontrado")
            self.tree.insert("", "end", iid=str(i), text=path, values=(kind,))
        self._update_buttons()
        self._schedule_size()
        self.changed()

    # -- size, counted off the Tk thread --------------------------------------------------------

    def _schedule_size(self) -> None:
        key = (
            tuple(self.paths),
            tuple(split_patterns(self.exclude_var.get())),
            self.wizard.draft.destination.folder,
        )
        if key == self._size_key:
            return
        self._size_key = key
        if self._size_call is not None:
            self._size_call.cancel()
        if not self.paths:
            self.size_info = None
            self._show_size()
            return
        self.totals.configure(text=_("Calculando el tamaño..."), bootstyle="secondary")
        paths, exclude, dest = list(key[0]), list(key[1]), key[2]
        skip = [dest] if dest else []
        self._size_call = BackgroundCall(
            self,
            lambda: drives.folder_size(paths, exclude, skip=skip),
            self._size_done,
            lambda exc: self._size_done(None),
        ).start()

    def _size_done(self, info: drives.SizeInfo | None) -> None:
        self._size_call = None
        self.size_info = info
        self.wizard.source_size = info
        self._show_size()

    def _show_size(self) -> None:
        info = self.size_info
        if info is None:
            self.totals.configure(text="", bootstyle="default")
            self.db_notice.grid_forget()
            return
        files = ngettext("{n} archivo", "{n} archivos", info.files).format(n=format_count(info.files))
        dbs = ngettext(
            "{n} base de datos encontrada", "{n} bases de datos encontradas", info.databases
        ).format(n=info.databases)
        text = _("Total: {size} en {files}  ·  {databases}").format(
            size=format_bytes(info.total_bytes), files=files, databases=dbs
        )
        if info.truncated:
            text += "  ·  " + _("(hay más; se contó solo una parte)")
        self.totals.configure(text=text, bootstyle="default")
        if info.databases == 0 and info.files:
            self.db_notice.set(
                _(
                    "No se encontró ninguna base de datos en lo que elegiste. Revisa que sea la "
                    "carpeta de datos de tu punto de venta."
                ),
                "warning",
            )
            self.db_notice.grid(row=3, column=0, sticky="ew", pady=(8, 0))
        elif info.truncated:
            self.db_notice.set(
                _(
                    "Elegiste muchísimos archivos. ¿Seguro que es solo la carpeta del punto de "
                    "venta y no todo el disco?"
                ),
                "warning",
            )
            self.db_notice.grid(row=3, column=0, sticky="ew", pady=(8, 0))
        else:
            self.db_notice.grid_forget()

    def on_show(self) -> None:
        self._schedule_size()
        self.add_folder_button.focus_set()

    def on_hide(self) -> None:
        pass

    @property
    def totals_text(self) -> str:
        return str(self.totals.cget("text"))
