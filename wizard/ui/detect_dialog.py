"""Step 1's "Buscar en este equipo": the search for the POS data (wizard.core.detect) in a small window.

A progress line and Cancelar while it runs; then the list, most likely first (what, where, size, "modificada
hace 3 minutos"), each with a check box, and Agregar, which puts the chosen ones in step 1's list as the
other add buttons do: files through ``SourceStep.add_paths``, databases as the entries "Agregar base de
datos..." makes. A MySQL server found gets a user field (the profile's user suggested) and a password field
to list its databases; nothing is ever guessed. The search runs on a worker thread that never touches a
widget (wizard.ui.worker). docs/detect.md.
"""

from __future__ import annotations

import logging
import threading
import tkinter
from typing import TYPE_CHECKING, Any

import ttkbootstrap as ttk

from wizard.core import detect, secrets
from wizard.core.config import ENGINE_USERS
from wizard.core.detect import describe, profiles
from wizard.core.detect.found import DetectResult, Found
from wizard.core.errors import UserError
from wizard.core.units import format_size
from wizard.i18n import _, ngettext
from wizard.ui.keyring_consent import not_stored
from wizard.ui.widgets import SMALL_FONT, WrapLabel, collect_garbage_soon
from wizard.ui.worker import BackgroundCall, EventBridge

if TYPE_CHECKING:
    from wizard.ui.pages.source import SourceStep

logger = logging.getLogger(__name__)

CHECKED, UNCHECKED = "\u2611", "\u2610"
ADDABLE = ("sqlite", "firebird", "access", "mysql-database")


class DetectRun(EventBridge):
    """``detect.detect`` on a thread; its progress and result reach the dialog on the Tk thread."""

    def __init__(self, dialog: DetectDialog, **options: Any):
        super().__init__(dialog)
        self.dialog = dialog
        self.cancel_event = threading.Event()
        self.options = options
        self.thread = threading.Thread(target=self._run, name="busqueda", daemon=True)

    def start(self) -> DetectRun:
        self.thread.start()
        self.start_polling()
        return self

    def cancel(self) -> None:
        self.cancel_event.set()

    def _run(self) -> None:
        def progress(folder: str, folders: int, found: int) -> None:  # worker thread: only a queue put
            self.events.put(("progress", (folder, folders, found)))

        try:
            result = detect.detect(cancel=self.cancel_event, progress=progress, **self.options)
        except Exception as exc:  # handed to the Tk thread
            logger.warning("the search failed", exc_info=True)
            self.events.put(("error", exc))
        else:
            self.events.put(("done", result))

    def handle(self, kind: str, payload: Any) -> None:
        if kind == "progress":
            self.dialog.show_progress(*payload)
        elif kind == "done":
            self.dialog.finished(payload)
        elif kind == "error":
            self.dialog.failed(payload)


class DetectDialog(ttk.Toplevel):
    """The search window of step 1 (``SourceStep.open_detect_dialog``). ``options`` go to ``detect.detect``
    (roots, budget, extra ports)."""

    def __init__(self, step: SourceStep, **options: Any):
        super().__init__(title=_("Buscar en este equipo"), master=step, transient=step.winfo_toplevel(),
                         resizable=(True, True))
        self.step = step
        self.options = options
        self.result: DetectResult | None = None
        self.rows: dict[str, Found] = {}
        self.checked: set[str] = set()
        self.run: DetectRun | None = None
        self.list_call: BackgroundCall | None = None
        self.server: Found | None = None
        self.added: list[str] = []
        # (host, port) of a MySQL server -> the (user, password) that listed its databases, kept for Agregar
        self.logins: dict[tuple[str | None, int | None], tuple[str, str]] = {}  # what the last Agregar put in step 1, in words

        box = ttk.Frame(self, padding=16)
        box.pack(fill="both", expand=True)
        box.columnconfigure(0, weight=1)
        box.rowconfigure(2, weight=1)
        WrapLabel(box, text=_(
            "Buscamos en este equipo las bases de datos de tu punto de venta. Solo se leen los primeros bytes "
            "de cada archivo: no se cambia nada y el punto de venta puede seguir abierto.")).grid(
            row=0, column=0, sticky="ew")
        line = ttk.Frame(box)
        line.grid(row=1, column=0, sticky="ew", pady=(10, 6))
        line.columnconfigure(0, weight=1)
        self.status = ttk.Label(line, text=_("Buscando..."), bootstyle="secondary", font=SMALL_FONT)
        self.status.grid(row=0, column=0, sticky="ew")
        self.cancel_button = ttk.Button(line, text=_("Cancelar"), bootstyle="secondary-outline",
                                        command=self.cancel)
        self.cancel_button.grid(row=0, column=1, padx=(8, 0))

        frame = ttk.Frame(box)
        frame.grid(row=2, column=0, sticky="nsew")
        frame.columnconfigure(0, weight=1)
        frame.rowconfigure(0, weight=1)
        self.tree = ttk.Treeview(frame, columns=("add", "what", "where", "size", "changed"), show="headings",
                                 height=8, bootstyle="table", selectmode="browse")
        for column, title, width, stretch in (("add", "", 30, False), ("what", _("Qué"), 235, False),
                                              ("where", _("Dónde"), 320, True), ("size", _("Tamaño"), 75, False),
                                              ("changed", _("Último cambio"), 255, False)):
            self.tree.heading(column, text=title, anchor="w")
            self.tree.column(column, width=width, stretch=stretch, anchor="w")
        self.tree.grid(row=0, column=0, sticky="nsew")
        scroll = ttk.Scrollbar(frame, orient="vertical", command=self.tree.yview)
        scroll.grid(row=0, column=1, sticky="ns")
        self.tree.configure(yscrollcommand=scroll.set)
        self.tree.bind("<ButtonRelease-1>", self._clicked)
        self.tree.bind("<space>", lambda _e: self.toggle(self.tree.focus()))

        self.warning = WrapLabel(box, text="", bootstyle="warning")
        self.notes = WrapLabel(box, text="", bootstyle="secondary")
        self.notes.grid(row=4, column=0, sticky="ew", pady=(6, 0))

        # A MySQL server found: its user and password, to list its databases (never guessed, never stored here).
        self.server_box = ttk.Labelframe(box, text="", padding=10)
        self.server_box.columnconfigure(1, weight=1)
        self.user_var = ttk.StringVar(value=ENGINE_USERS["mysql"])
        self.password_var = ttk.StringVar()
        ttk.Label(self.server_box, text=_("Usuario:")).grid(row=0, column=0, sticky="w", padx=(0, 8))
        ttk.Entry(self.server_box, textvariable=self.user_var, width=18).grid(row=0, column=1, sticky="w")
        ttk.Label(self.server_box, text=_("Contraseña:")).grid(row=1, column=0, sticky="w", padx=(0, 8), pady=4)
        ttk.Entry(self.server_box, textvariable=self.password_var, show="\u2022", width=24).grid(
            row=1, column=1, sticky="w", pady=4)
        self.list_button = ttk.Button(self.server_box, text=_("Ver sus bases de datos"),
                                      bootstyle="secondary-outline", command=self.list_databases)
        self.list_button.grid(row=0, column=2, rowspan=2, padx=(12, 0))
        self.server_status = WrapLabel(self.server_box, text="", bootstyle="secondary")
        self.server_status.grid(row=2, column=0, columnspan=3, sticky="ew")

        # Firebird files found: the user and password the backups will connect with (stored on Agregar).
        self.firebird_box = ttk.Labelframe(box, text=_("Bases de datos Firebird"), padding=10)
        self.firebird_box.columnconfigure(1, weight=1)  # extra width goes beside the fields, not between them
        self.firebird_user_var = ttk.StringVar(value=ENGINE_USERS["firebird"])
        self.firebird_password_var = ttk.StringVar()
        ttk.Label(self.firebird_box, text=_("Usuario:")).grid(row=0, column=0, sticky="w", padx=(0, 8))
        ttk.Entry(self.firebird_box, textvariable=self.firebird_user_var, width=18).grid(row=0, column=1, sticky="w")
        ttk.Label(self.firebird_box, text=_("Contraseña:")).grid(row=1, column=0, sticky="w", padx=(0, 8), pady=4)
        ttk.Entry(self.firebird_box, textvariable=self.firebird_password_var, show="\u2022", width=24).grid(
            row=1, column=1, sticky="w", pady=4)
        WrapLabel(self.firebird_box, bootstyle="secondary", text=_(
            "Con estos datos se respaldan las bases de datos Firebird que agregues; la contraseña se guarda en el "
            "llavero del sistema. Puedes cambiarlos después con Editar...")).grid(
            row=2, column=0, columnspan=2, sticky="ew")

        buttons = ttk.Frame(box, padding=(0, 12, 0, 0))
        buttons.grid(row=7, column=0, sticky="ew")
        self.add_button = ttk.Button(buttons, text=_("Agregar"), bootstyle="primary", command=self.add_checked)
        self.add_button.pack(side="right")
        ttk.Button(buttons, text=_("Cerrar"), bootstyle="secondary", command=self.close).pack(side="right", padx=8)
        self.add_button.state(["disabled"])
        self.bind("<Escape>", lambda _e: self.close())
        self.protocol("WM_DELETE_WINDOW", self.close)
        # A fixed first size: the long sentences would otherwise ask for the whole screen's width.
        self.geometry(f"{min(1020, self.winfo_screenwidth() - 40)}x{min(640, self.winfo_screenheight() - 80)}")
        self.run = DetectRun(self, **options).start()

    # -- the search ------------------------------------------------------------------------------

    def show_progress(self, folder: str, folders: int, found: int) -> None:
        self.status.configure(text=ngettext(
            "Buscando... {n} carpeta revisada, {found} encontradas: {folder}",
            "Buscando... {n} carpetas revisadas, {found} encontradas: {folder}", folders).format(
            n=folders, found=found, folder=folder))

    def finished(self, result: DetectResult) -> None:
        self.run = None
        self.result = result
        self.cancel_button.state(["disabled"])
        for found in result.found:
            self._insert(found, checked=found.kind in ADDABLE and found.program is not None)
        self.status.configure(text=self._summary(result))
        self._show_extras()

    def failed(self, exc: BaseException) -> None:
        self.run = None
        self.cancel_button.state(["disabled"])
        text = str(exc) if isinstance(exc, UserError) else _("No se pudo terminar la búsqueda: {error}").format(
            error=exc)
        self.status.configure(text=text, bootstyle="danger")

    def cancel(self) -> None:
        if self.run is not None:
            self.run.cancel()
            self.status.configure(text=_("Cancelando..."))

    def _summary(self, result: DetectResult) -> str:
        parts = [ngettext("Se encontró {n} cosa.", "Se encontraron {n} cosas.", len(result.found)).format(
            n=len(result.found)) if result.found else _("No se encontraron datos de un punto de venta.")]
        if result.unreadable:
            parts.append(ngettext("No se pudo entrar en {n} carpeta.", "No se pudo entrar en {n} carpetas.",
                                  len(result.unreadable)).format(n=len(result.unreadable)))
        if result.stopped:
            parts.append((_("Se acabó el tiempo de búsqueda.") if result.stopped == "budget"
                          else _("Búsqueda cancelada.")) + " " + ngettext(
                "Faltó revisar {n} carpeta: {first}", "Faltó revisar {n} carpetas, como {first}",
                len(result.not_covered)).format(n=len(result.not_covered),
                                                first=result.not_covered[0] if result.not_covered else ""))
        parts.extend(result.problems)
        return " ".join(parts)

    def _insert(self, found: Found, checked: bool) -> str:
        iid = f"f{len(self.rows)}"
        self.rows[iid] = found
        if checked:
            self.checked.add(iid)
        box = (CHECKED if checked else UNCHECKED) if found.kind in ADDABLE else ""
        what = describe.what(found)
        if found.program:
            what = f"{found.program}: {what}"
        self.tree.insert("", "end", iid=iid, values=(
            box, what, describe.where(found), format_size(found.size) if found.size is not None else "",
            describe.age(found.modified)))
        self._update_add()
        return iid

    def _show_extras(self) -> None:
        rows = list(self.rows.values())
        if any(f.kind == "access" for f in rows):
            self.warning.configure(text=_("Archivos de Microsoft Access: {warning}.").format(
                warning=describe.access_warning()))
            self.warning.grid(row=3, column=0, sticky="ew", pady=(6, 0))
        notes = list(dict.fromkeys(n for f in rows for n in (f"{f.program}: {x}" for x in f.notes)))
        if any(f.kind == "firebird" for f in rows):
            self.firebird_box.grid(row=5, column=0, sticky="ew", pady=(10, 0))
        self.notes.configure(text="\n".join(notes))
        servers = [f for f in rows if f.kind == "mysql-server"]
        if servers:
            self.choose_server(servers[0])
            self.server_box.grid(row=6, column=0, sticky="ew", pady=(10, 0))

    def choose_server(self, server: Found) -> None:
        """The MySQL server whose databases the login fields list (the first found, or the one clicked)."""
        self.server = server
        self.server_box.configure(text=_("Servidor MySQL/MariaDB en {where}").format(where=describe.where(server)))
        self.user_var.set(server.suggested_user or ENGINE_USERS["mysql"])
        self.server_status.configure(text="")

    # -- choosing --------------------------------------------------------------------------------

    def _clicked(self, event: tkinter.Event) -> None:
        row = self.tree.identify_row(event.y)
        if row:
            self.toggle(row)

    def toggle(self, iid: str) -> None:
        found = self.rows.get(iid)
        if found is not None and found.kind == "mysql-server":
            self.choose_server(found)
        if found is None or found.kind not in ADDABLE:
            return
        if iid in self.checked:
            self.checked.discard(iid)
        else:
            self.checked.add(iid)
        self.tree.set(iid, "add", CHECKED if iid in self.checked else UNCHECKED)
        self._update_add()

    def _update_add(self) -> None:
        self.add_button.state(["!disabled"] if self.checked else ["disabled"])

    # -- a MySQL server's databases ----------------------------------------------------------------

    def list_databases(self) -> None:
        if self.server is None or self.list_call is not None:
            return
        server, user, password = self.server, self.user_var.get().strip(), self.password_var.get()
        if not user:
            self.server_status.configure(text=_("Escribe el usuario de MySQL."), bootstyle="danger")
            return
        self.server_status.configure(text=_("Conectando..."), bootstyle="secondary")
        self.list_button.state(["disabled"])
        self.list_call = BackgroundCall(self, lambda: detect.mysql_databases(server, user, password),
                                        lambda found: self._listed(found, server, user, password),
                                        self._list_failed).start()

    def _listed(self, found: list[Found], server: Found, user: str, password: str) -> None:
        self.list_call = None
        self.logins[(server.host, server.port)] = (user, password)
        self.list_button.state(["!disabled"])
        known = {(f.host, f.port, f.database) for f in self.rows.values() if f.kind == "mysql-database"}
        new = [f for f in found if (f.host, f.port, f.database) not in known]
        profiles.apply(new)
        for item in sorted(new, key=lambda f: (f.program is None, f.database or "")):
            item.suggested_user = user
            self._insert(item, checked=item.program is not None)
        self.server_status.configure(text=ngettext(
            "{n} base de datos en el servidor.", "{n} bases de datos en el servidor.", len(found)).format(
            n=len(found)), bootstyle="success")

    def _list_failed(self, exc: BaseException) -> None:
        self.list_call = None
        self.list_button.state(["!disabled"])
        text = str(exc) if isinstance(exc, UserError) else _("No se pudo conectar: {error}").format(error=exc)
        self.server_status.configure(text=text, bootstyle="danger")

    # -- adding ----------------------------------------------------------------------------------

    def add_checked(self) -> None:
        """Put the checked finds in step 1's list; a MySQL database with the password typed above (stored
        in the keyring as "Agregar base de datos..." does)."""
        step = self.step
        files: list[str] = []
        self.added = []
        taken = {d.label.casefold() for d in step.databases}
        for iid in [i for i in self.rows if i in self.checked]:
            found = self.rows[iid]
            login = self._login_for(found)
            entry = found.database_entry(login[0] if login else "")
            if entry is None:
                files.append(found.path or "")
            elif entry.label.casefold() in taken:
                continue  # already in the list
            else:
                if login and login[1]:
                    try:
                        step.store_password(entry, login[1])
                    except secrets.KeyringUnavailable as exc:  # no keyring, and the user did not want the file
                        self.status.configure(text=not_stored(exc), bootstyle="danger")
                        return
                    except OSError as exc:  # no keyring and the fallback file cannot be written
                        self.status.configure(text=_("No se pudo guardar la contraseña: {error}").format(
                            error=exc), bootstyle="danger")
                        return
                step.add_database(entry)
                taken.add(entry.label.casefold())
            self.added.append(describe.headline(found))
        if files:
            step.add_paths([f for f in files if f])
        self.close()

    def _login_for(self, found: Found) -> tuple[str, str] | None:
        """(user, password) a database entry for ``found`` connects with: for a MySQL database those that listed
        it, for a Firebird file the Firebird fields; None for files added as files."""
        if found.kind == "mysql-database":
            return self.logins.get((found.host, found.port), (found.suggested_user, ""))
        if found.kind == "firebird":
            return self.firebird_user_var.get().strip(), self.firebird_password_var.get()
        return None

    def close(self) -> None:
        if self.run is not None:
            self.run.cancel()
            self.run.stop_polling()
        if self.list_call is not None:
            self.list_call.cancel()
        self.password_var.set("")
        self.firebird_password_var.set("")
        self.logins.clear()
        if getattr(self.step, "detect_dialog", None) is self:
            self.step.detect_dialog = None
        root = self._root()
        try:
            self.destroy()
        except tkinter.TclError:
            pass
        collect_garbage_soon(root)
