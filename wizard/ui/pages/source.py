"""Step 1, Qué respaldar: the POS data folders and files, their total size and databases found."""

from __future__ import annotations

import dataclasses
import os
import tkinter
from pathlib import Path

import ttkbootstrap as ttk

from wizard.core import drives, secrets, servers
from wizard.core.config import ENGINE_PORTS, ENGINE_USERS, Config, DatabaseSource, Problem, validate_dict
from wizard.core.errors import UserError
from wizard.core.units import format_size
from wizard.i18n import _, ngettext
from wizard.ui.detect_dialog import DetectDialog
from wizard.ui.keyring_consent import allowed_by_config, ask_to_store_in_file, not_stored
from wizard.ui.pages.base import Step, sentence
from wizard.ui.text import format_count
from wizard.ui.widgets import SMALL_FONT, Notice, ProblemLabel, WrapLabel, collect_garbage_soon
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
        self.databases: list[DatabaseSource] = []
        # Entries whose password this edit put in the keyring: the wizard forgets those not saved in the end.
        self.passwords_stored: list[DatabaseSource] = []
        self.database_dialog: DatabaseDialog | None = None
        self.detect_dialog: DetectDialog | None = None
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
        self.tree.bind("<Double-1>", self._double_clicked)

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
        self.edit_database_button = ttk.Button(
            buttons,
            text=_("Editar..."),
            bootstyle="secondary-outline",
            command=self.edit_selected_database,
            width=18,
        )
        self.edit_database_button.pack(fill="x", pady=(6, 0))
        self.add_database_button = ttk.Button(
            buttons,
            text=_("Agregar base de datos..."),
            bootstyle="primary-link",
            command=self.open_database_dialog,
        )
        self.add_database_button.pack(fill="x", pady=(6, 0))
        self.detect_button = ttk.Button(
            buttons, text=_("Buscar en este equipo"), bootstyle="primary-link", command=self.open_detect_dialog
        )
        self.detect_button.pack(fill="x")

        self.paths_problem = ProblemLabel(box)
        self.paths_problem.grid(row=1, column=0, sticky="ew", pady=(6, 0))
        self.problem_labels["source.paths"] = self.paths_problem
        self.problem_labels["source.databases"] = self.paths_problem

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
        self.databases = [dataclasses.replace(db) for db in config.source.databases]
        self.exclude_var.set(", ".join(config.source.exclude))
        self.advanced_open.set(bool(config.source.exclude))
        self._show_advanced()
        self._refresh_list()

    def store(self, config: Config) -> None:
        config.source.paths = list(self.paths)
        config.source.exclude = split_patterns(self.exclude_var.get())
        config.source.databases = [dataclasses.replace(db) for db in self.databases]

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
        self.databases = [d for i, d in enumerate(self.databases) if f"db{i}" not in selected]
        self._refresh_list()

    def open_database_dialog(self, index: int | None = None) -> DatabaseDialog:
        """ "Agregar base de datos...", or with ``index`` "Editar..." of that entry: a small window with the
        connection and "Probar conexión". One at a time."""
        if self.database_dialog is not None and self.database_dialog.winfo_exists():
            self.database_dialog.lift()
            return self.database_dialog
        self.database_dialog = DatabaseDialog(self, index)
        return self.database_dialog

    def open_detect_dialog(self, **options) -> DetectDialog:
        """ "Buscar en este equipo": the search for the POS data (wizard.ui.detect_dialog); ``options`` go to
        wizard.core.detect.detect (roots, budget...). One at a time."""
        if self.detect_dialog is not None and self.detect_dialog.winfo_exists():
            self.detect_dialog.lift()
            return self.detect_dialog
        self.detect_dialog = DetectDialog(self, **options)
        return self.detect_dialog

    def selected_database(self) -> int | None:
        """The index of the database entry selected in the list, when exactly one row (a database) is."""
        selected = self.tree.selection()
        if len(selected) != 1 or not str(selected[0]).startswith("db"):
            return None
        index = int(str(selected[0])[2:])
        return index if index < len(self.databases) else None

    def edit_selected_database(self) -> DatabaseDialog | None:
        index = self.selected_database()
        return None if index is None else self.open_database_dialog(index)

    def _double_clicked(self, event: tkinter.Event) -> str | None:
        row = self.tree.identify_row(event.y)
        if not str(row).startswith("db"):
            return None
        self.tree.selection_set(row)
        self.edit_selected_database()
        return "break"

    def store_password(self, db: DatabaseSource, password: str) -> None:
        """To the keyring; with none, to the file only once the user agreed (wizard.ui.keyring_consent)."""
        app = self.app
        try:
            with secrets.allow_file_storage(allowed_by_config(app)):
                servers.set_password(db, password)
        except secrets.KeyringUnavailable as exc:
            if not ask_to_store_in_file(app.dialogs, exc):
                raise
            with secrets.allow_file_storage():
                servers.set_password(db, password)
        self.passwords_stored.append(db)

    def add_database(self, db: DatabaseSource) -> None:
        self.databases.append(db)
        self._refresh_list()

    def replace_database(self, index: int, db: DatabaseSource) -> None:
        self.databases[index] = db
        self._refresh_list()
        self.tree.selection_set(f"db{index}")

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
        self.edit_database_button.state(["!disabled"] if self.selected_database() is not None else ["disabled"])

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
        for i, db in enumerate(self.databases):
            self.tree.insert(
                "",
                "end",
                iid=f"db{i}",
                text=f"{db.label}: {servers.describe(db)}",
                values=(_("Base de datos"),),
            )
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
            if self._size_call is None:
                self._show_size()  # the server databases in the list may have changed
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
        servers = len(self.databases)
        on_servers = ngettext(
            "{n} base de datos en un servidor", "{n} bases de datos en un servidor", servers
        ).format(n=servers)
        if info is None or not self.paths:
            self.totals.configure(text=on_servers if servers else "", bootstyle="default")
            self.db_notice.grid_forget()
            return
        files = ngettext("{n} archivo", "{n} archivos", info.files).format(n=format_count(info.files))
        dbs = ngettext(
            "{n} base de datos encontrada", "{n} bases de datos encontradas", info.databases
        ).format(n=info.databases)
        text = _("Total: {size} en {files}  ·  {databases}").format(
            size=format_size(info.total_bytes), files=files, databases=dbs
        )
        if servers:
            text += "  ·  " + on_servers
        if info.truncated:
            text += "  ·  " + _("(hay más; se contó solo una parte)")
        self.totals.configure(text=text, bootstyle="default")
        if info.databases == 0 and info.files and not servers:
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


ENGINE_CHOICES = {"mysql": "MySQL / MariaDB", "firebird": "Firebird"}


class DatabaseDialog(ttk.Toplevel):
    """Agregar (or Editar) base de datos: engine, server, port, database (or file on the server), user, password.

    "Probar conexión" connects on a worker thread, as a backup would. "Agregar" / "Guardar" checks the entry
    with the config's one validator, stores the password in the keyring (never in the config) and adds or
    replaces the entry. Editing keeps what the form does not show (name, client); an empty password keeps
    the one already stored (carried over if the entry's name changes with its database).
    """

    def __init__(self, step: SourceStep, index: int | None = None):
        self.index = index
        self.original = step.databases[index] if index is not None else None
        super().__init__(
            title=_("Agregar base de datos") if index is None else _("Editar base de datos"),
            master=step,
            transient=step.winfo_toplevel(),
            resizable=(True, False),
        )
        self.step = step
        self.call: BackgroundCall | None = None
        self.result: servers.ServerInfo | BaseException | None = None
        box = ttk.Frame(self, padding=18)
        box.pack(fill="both", expand=True)
        box.columnconfigure(1, weight=1)
        self.engine_var = ttk.StringVar(value=ENGINE_CHOICES["mysql"])
        self.host_var = ttk.StringVar(value="localhost")
        self.port_var = ttk.StringVar(value=str(ENGINE_PORTS["mysql"]))
        self.database_var = ttk.StringVar()
        self.user_var = ttk.StringVar(value=ENGINE_USERS["mysql"])
        self.password_var = ttk.StringVar()
        self.engine_box = ttk.Combobox(
            box,
            textvariable=self.engine_var,
            values=list(ENGINE_CHOICES.values()),
            state="readonly",
            width=18,
        )
        self.database_label = ttk.Label(box, text="")
        rows = [
            (ttk.Label(box, text=_("Tipo:")), self.engine_box),
            (ttk.Label(box, text=_("Servidor:")), ttk.Entry(box, textvariable=self.host_var)),
            (ttk.Label(box, text=_("Puerto:")), ttk.Entry(box, textvariable=self.port_var, width=8)),
            (self.database_label, ttk.Entry(box, textvariable=self.database_var, width=40)),
            (ttk.Label(box, text=_("Usuario:")), ttk.Entry(box, textvariable=self.user_var)),
            (
                ttk.Label(box, text=_("Contraseña:")),
                ttk.Entry(box, textvariable=self.password_var, show="\u2022"),
            ),
        ]
        for row, (label, field) in enumerate(rows):
            label.grid(row=row, column=0, sticky="w", padx=(0, 10), pady=3)
            field.grid(row=row, column=1, sticky="ew" if field is not rows[2][1] else "w", pady=3)
        last = len(rows)
        self.password_hint = ttk.Label(
            box,
            text=_("Déjala vacía para conservar la contraseña guardada."),
            bootstyle="secondary",
            font=SMALL_FONT,
        )
        if self.original is not None:
            self.password_hint.grid(row=last, column=1, sticky="w")
            last += 1
        # A fixed wrap width: a long error must grow the dialog downwards, not off the screen sideways.
        self.status = ttk.Label(box, text="", bootstyle="secondary", wraplength=440, justify="left")
        self.status.grid(row=last, column=0, columnspan=2, sticky="ew", pady=(10, 0))
        buttons = ttk.Frame(box, padding=(0, 14, 0, 0))
        buttons.grid(row=last + 1, column=0, columnspan=2, sticky="ew")
        self.test_button = ttk.Button(
            buttons, text=_("Probar conexión"), bootstyle="secondary-outline", command=self.test_connection
        )
        self.test_button.pack(side="left")
        self.add_button = ttk.Button(
            buttons,
            text=_("Agregar") if self.original is None else _("Guardar"),
            bootstyle="primary",
            command=self.accept,
        )
        self.add_button.pack(side="right")
        ttk.Button(buttons, text=_("Cancelar"), bootstyle="secondary", command=self.close).pack(
            side="right", padx=8
        )
        self.engine_box.bind("<<ComboboxSelected>>", lambda _e: self._engine_changed())
        self.bind("<Escape>", lambda _e: self.close())
        self.bind("<Return>", self._on_return)
        self.bind("<KP_Enter>", self._on_return)
        self.protocol("WM_DELETE_WINDOW", self.close)
        self._engine = "mysql"
        if self.original is not None:
            self._fill(self.original)
        self._engine_changed()
        self.after_idle(self.engine_box.focus_set)  # typing goes to the dialog, not the window behind it

    def _fill(self, db: DatabaseSource) -> None:
        """The form as the entry is now (editing)."""
        self.engine_var.set(ENGINE_CHOICES.get(db.engine, ENGINE_CHOICES["mysql"]))
        self._engine = self.engine
        self.host_var.set(db.host)
        self.port_var.set(str(db.effective_port))
        self.database_var.set(db.server_database)
        self.user_var.set(db.effective_user)

    def _on_return(self, event: tkinter.Event) -> None:
        """Enter = Agregar / Guardar, as Enter = Siguiente in the wizard; a focused button does its own."""
        if isinstance(event.widget, (ttk.Button, tkinter.Button)):
            return
        self.accept()

    @property
    def engine(self) -> str:
        return next((k for k, v in ENGINE_CHOICES.items() if v == self.engine_var.get()), "mysql")

    def _engine_changed(self) -> None:
        engine = self.engine
        self.database_label.configure(
            text=_("Base de datos:") if engine == "mysql" else _("Archivo en el servidor:")
        )
        # Usual port and user follow the engine unless the user typed others.
        if self.port_var.get().strip() in ("", str(ENGINE_PORTS[self._engine])):
            self.port_var.set(str(ENGINE_PORTS[engine]))
        if self.user_var.get().strip() in ("", ENGINE_USERS[self._engine]):
            self.user_var.set(ENGINE_USERS[engine])
        self._engine = engine

    def entry(self) -> dict:
        """The fields as a ``[[source.databases]]`` table (the port as typed when it is not a number). When
        editing, what the form does not show (name, client) comes from the entry being edited."""
        port_text = self.port_var.get().strip()
        port: int | str = int(port_text) if port_text.isdigit() else (port_text or 0)
        value = self.database_var.get().strip()
        entry: dict = {
            "engine": self.engine,
            "host": self.host_var.get().strip(),
            "port": port,
            "database": value if self.engine == "mysql" else "",
            "path": value if self.engine != "mysql" else "",
            "user": self.user_var.get().strip(),
        }
        if self.original is not None:
            entry["name"] = self.original.name
            entry["client"] = self.original.client
            # The usual port and user were left out of the entry: keep them out if they were not changed.
            if not self.original.port and port == ENGINE_PORTS[self.engine]:
                entry["port"] = 0
            if not self.original.user and entry["user"] == ENGINE_USERS[self.engine]:
                entry["user"] = ""
        return entry

    def problems(self) -> list[Problem]:
        """The one validator's verdict on the entry, and whether another entry in the list (not the one being
        edited) already goes by its name: names are keyring keys and file names inside the archive."""
        entry = self.entry()
        data = {"source": {"paths": ["-"], "databases": [entry]}, "destination": {"folder": "-"}}
        problems = [p for p in validate_dict(data) if p.key.startswith("source.databases[0]")]
        if problems:
            return problems
        label = DatabaseSource(**entry).label
        taken = {d.label.casefold() for i, d in enumerate(self.step.databases) if i != self.index}
        if label.casefold() in taken:
            problems.append(Problem("source.databases.name", _(
                "ya hay otra base de datos llamada «{name}» en la lista; quítala o edítala en vez de agregarla "
                "otra vez").format(name=label)))
        return problems

    def _password_for(self, db: DatabaseSource, typed: str) -> str | None:
        """What to connect with: the ``typed`` password; when editing with the field left empty, the stored
        one (None: nothing stored). May read the keyring, and touches no widget (worker threads call it)."""
        original = self.original
        if typed or original is None:
            return typed
        stored = servers.get_password(original)
        return stored if stored is not None else servers.get_password(db)

    def _show(self, text: str, style: str) -> None:
        self.status.configure(text=text, bootstyle=style)

    def test_connection(self) -> None:
        problems = self.problems()
        if problems:
            self._show("\n".join(sentence(p.message) for p in problems), "danger")
            return
        db = DatabaseSource(**self.entry())
        typed = self.password_var.get()
        if self.call is not None:
            self.call.cancel()
        self.result = None
        self._show(_("Probando la conexión..."), "secondary")
        self.test_button.state(["disabled"])
        self.call = BackgroundCall(
            self,
            lambda: servers.test_connection(db, self._password_for(db, typed), use_keyring=False),
            lambda info: self._tested(info, db),
            self._failed,
        ).start()

    def _tested(self, info: servers.ServerInfo, db: DatabaseSource) -> None:
        self.call = None
        self.result = info
        self.test_button.state(["!disabled"])
        self._show(info.summary(db), "success")

    def _failed(self, exc: BaseException) -> None:
        self.call = None
        self.result = exc
        self.test_button.state(["!disabled"])
        text = (
            str(exc)
            if isinstance(exc, UserError)
            else _("No se pudo probar la conexión: {error}").format(error=exc)
        )
        self._show(text, "danger")

    def accept(self) -> None:
        problems = self.problems()
        if problems:
            self._show("\n".join(sentence(p.message) for p in problems), "danger")
            return
        db = DatabaseSource(**self.entry())
        try:
            password = self._password_for(db, self.password_var.get())
            if password is not None:
                self._store_password(db, password)
        except secrets.KeyringUnavailable as exc:  # no keyring, and the user did not want the file
            self._show(not_stored(exc), "danger")
            return
        except OSError as exc:  # no keyring and the fallback file cannot be written: say so, stay open
            self._show(_("No se pudo guardar la contraseña: {error}").format(error=exc), "danger")
            return
        if self.index is None:
            self.step.add_database(db)
        else:
            self.step.replace_database(self.index, db)
        self.close()

    def _store_password(self, db: DatabaseSource, password: str) -> None:
        self.step.store_password(db, password)

    def close(self) -> None:
        if self.call is not None:
            self.call.cancel()
        self.password_var.set("")
        if self.step.database_dialog is self:
            self.step.database_dialog = None
        root = self._root()
        try:
            self.destroy()
        except tkinter.TclError:
            pass
        collect_garbage_soon(root)
