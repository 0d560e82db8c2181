"""The "Restaurar..." dialog: choose a backup, see what is in it, put it back, read what happened.

Three views in one window: the list (local backups, plus the cloud's once they arrive) with the chosen
backup's contents and the "Se perderán los cambios..." sentence; the progress of the restore, which runs
on a worker thread (``wizard.core.restore``; the worker only puts events on a queue); and the result.
The newest backup is chosen when the dialog opens, so from the summary "Restaurar...", "Restaurar en su
lugar original" and "Restaurar" bring the last backup's data back.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import tkinter
import traceback
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ttkbootstrap as ttk

from wizard.core import dbsources, restore
from wizard.core.config import DatabaseSource
from wizard.core.errors import Cancelled, UserError
from wizard.i18n import _, ngettext
from wizard.ui.text import format_bytes, format_count, format_when, provider_text
from wizard.ui.widgets import BOLD_FONT, HEADING_FONT, SMALL_FONT, Notice, WrapLabel
from wizard.ui.worker import BackgroundCall, EventBridge

if TYPE_CHECKING:
    from wizard.ui.app import RespaldosWindow

logger = logging.getLogger(__name__)

OTHERS_ROW = "otros"  # the line above other installations' backups in the list
MAX_FILES_SHOWN = 2000  # in the contents tree; a POS folder with more images gets a "y N más" line
SIZE = (820, 640)


class RestoreJob(EventBridge):
    """Runs ``func(report, cancel)`` on a thread; progress, result and errors arrive on the Tk thread."""

    def __init__(self, widget: tkinter.Misc, func: Callable[[Callable[[Any], None], threading.Event], Any], *,
                 on_progress: Callable[[Any], None], on_done: Callable[[Any], None],
                 on_error: Callable[[BaseException], None], on_ask: Callable[[Any], bool] | None = None):
        super().__init__(widget)
        self.func = func
        self.on_progress = on_progress
        self.on_done = on_done
        self.on_error = on_error
        self.on_ask = on_ask
        self.cancel_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name="restauracion", daemon=True)

    @property
    def running(self) -> bool:
        return not self._finished

    def start(self) -> RestoreJob:
        self.thread.start()
        self.start_polling()
        return self

    def cancel(self) -> None:
        self.cancel_event.set()

    def report(self, event: Any) -> None:
        """Called by the engine on the worker thread: only a queue put."""
        self.events.put(("progress", event))

    def ask(self, payload: Any) -> bool:
        """Worker thread: ``on_ask(payload)``'s answer on the Tk thread (False once cancelled)."""
        reply: queue.Queue[bool] = queue.Queue(maxsize=1)
        self.events.put(("ask", (payload, reply)))
        while not self.cancel_event.is_set():
            try:
                return reply.get(timeout=0.1)
            except queue.Empty:
                continue
        return False

    def _run(self) -> None:
        try:
            result = self.func(self.report, self.cancel_event)
        except BaseException as exc:  # noqa: BLE001 - handed to the Tk thread
            if not isinstance(exc, (UserError, Cancelled)):
                logger.error("restore failed with an unexpected error:\n%s", traceback.format_exc())
            self.events.put(("error", exc))
        else:
            self.events.put(("done", result))

    def handle(self, kind: str, payload: Any) -> None:
        if kind == "progress":
            self.on_progress(payload)
        elif kind == "done":
            self.on_done(payload)
        elif kind == "error":
            self.on_error(payload)
        elif kind == "ask":
            question, reply = payload
            reply.put(bool(self.on_ask(question)) if self.on_ask is not None else False)


def _state_text(choice: restore.BackupChoice) -> str:
    parts = [] if choice.mine else [_("De {name}").format(name=choice.owner)]
    if choice.safety:
        parts.append(_("Antes de restaurar"))
    parts.append(_("Verificado") if choice.verified else _("Sin verificar"))
    return " · ".join(parts)


def _where_text(choice: restore.BackupChoice, other_file: bool, provider: str) -> str:
    if not choice.local:
        return provider_text(choice.location)
    text = _("Otra carpeta") if other_file else _("Carpeta de respaldos")
    if choice.in_cloud:
        text = _("{where} y {provider}").format(where=text, provider=provider_text(provider))
    return text


def text_scale(widget: tkinter.Misc) -> float:
    """How much larger than 100 % the text is (Tk's scaling is 1.33 pixels per point at 100 %)."""
    try:
        return max(float(widget.tk.call("tk", "scaling")) / 1.3333, 1.0)
    except (tkinter.TclError, ValueError):
        return 1.0


def dump_detail(db: DatabaseSource) -> str:
    """How a configured server database is described in the contents ("MySQL/MariaDB · host:port · sicar"), as
    ``restore.server_dumps`` describes a dump from its manifest."""
    return " · ".join([dbsources.ENGINE_NAMES.get(db.engine, db.engine), dbsources.where(db),
                       db.server_database])


def dump_entry(contents: restore.BackupContents, dump: restore.ServerDump) -> dict[str, Any]:
    """The manifest's ``databases`` entry of a dump (engine, host, port, database or file, user); only its
    name and engine when an older manifest has none."""
    for entry in contents.manifest.databases:
        if str(entry.get("path", "")) == dump.member:
            return dict(entry)
    kind = next((f.kind for f in contents.files if f.path == dump.member), "")
    engine = dbsources.engine_of_kind(kind, default="mysql")
    return {"path": dump.member, "name": dump.name, "engine": engine}


def database_for(entry: dict[str, Any], databases: list[DatabaseSource]) -> DatabaseSource:
    """The configured ``[[source.databases]]`` entry a dump came from (same name and engine), so its client
    folder and stored password are used; one rebuilt from the manifest when the config no longer has it."""
    name, engine = str(entry.get("name", "")), str(entry.get("engine", ""))
    for db in databases:
        if db.engine == engine and db.label.casefold() == name.casefold():
            return db
    return DatabaseSource(engine=engine, name=name, host=str(entry.get("host") or "localhost"),
                          port=int(entry.get("port") or 0), database=str(entry.get("database") or ""),
                          path=str(entry.get("file") or ""), user=str(entry.get("user") or ""))


class RestoreDialog(ttk.Toplevel):
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
        self.restored_database: dbsources.RestoredDatabase | None = None
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
        self.after_idle(self._grab)

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

    def _grab(self) -> None:
        try:
            self.grab_set()
            self.focus_set()
        except tkinter.TclError:
            pass  # not viewable yet, or another grab: the dialog still works

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

    # -- the list ----------------------------------------------------------------------------------

    def _build_choose(self) -> None:
        view = self.choose_view = ttk.Frame(self, padding=(20, 16))
        view.columnconfigure(0, weight=1)
        view.rowconfigure(1, weight=2)
        view.rowconfigure(5, weight=3)
        head = ttk.Frame(view)
        head.grid(row=0, column=0, sticky="ew")
        ttk.Label(head, text=_("Elige el respaldo que quieres restaurar"), font=HEADING_FONT).pack(side="left")
        self.other_button = ttk.Button(head, text=_("Elegir otro archivo..."), bootstyle="link",
                                       command=self.choose_other_file)
        self.other_button.pack(side="right")

        box = ttk.Frame(view)
        box.grid(row=1, column=0, sticky="nsew", pady=(8, 0))
        box.columnconfigure(0, weight=1)
        box.rowconfigure(0, weight=1)
        columns = ("when", "where", "size", "state")
        self.backups = ttk.Treeview(box, columns=columns, show="headings", height=6, selectmode="browse",
                                    bootstyle="table")
        scale = text_scale(self)
        for col, title, width, stretch in (("when", _("Fecha"), 170, False), ("where", _("Dónde"), 190, False),
                                           ("size", _("Tamaño"), 90, False), ("state", _("Estado"), 200, True)):
            self.backups.heading(col, text=title, anchor="w")
            self.backups.column(col, width=int(width * scale), stretch=stretch, anchor="w")
        self.backups.grid(row=0, column=0, sticky="nsew")
        scroll = ttk.Scrollbar(box, orient="vertical", command=self.backups.yview)
        scroll.grid(row=0, column=1, sticky="ns")
        self.backups.configure(yscrollcommand=scroll.set)
        self.backups.bind("<<TreeviewSelect>>", lambda _e: self._selected(), add="+")
        self.backups.bind("<Double-1>", lambda _e: self.restore_original(), add="+")
        self.backups.tag_configure("group", font=BOLD_FONT)

        self.list_status = ttk.Label(view, text="", bootstyle="secondary", font=SMALL_FONT)
        self.list_status.grid(row=2, column=0, sticky="w", pady=(4, 0))
        self.lost = Notice(view, text="", bootstyle="warning")
        self.lost.grid(row=3, column=0, sticky="ew", pady=(10, 6))

        ttk.Label(view, text=_("Contenido"), font=BOLD_FONT).grid(row=4, column=0, sticky="w", pady=(4, 2))
        tree_box = ttk.Frame(view)
        tree_box.grid(row=5, column=0, sticky="nsew")
        tree_box.columnconfigure(0, weight=1)
        tree_box.rowconfigure(0, weight=1)
        self.contents_tree = ttk.Treeview(tree_box, columns=("size", "detail"), show="tree headings", height=8,
                                          selectmode="browse")
        self.contents_tree.heading("#0", text=_("Carpetas, archivos y bases de datos"), anchor="w")
        self.contents_tree.heading("size", text=_("Tamaño"), anchor="w")
        self.contents_tree.heading("detail", text=_("Detalle"), anchor="w")
        self.contents_tree.column("#0", width=int(330 * scale), stretch=True)
        self.contents_tree.column("size", width=int(90 * scale), stretch=False, anchor="w")
        self.contents_tree.column("detail", width=int(240 * scale), stretch=True, anchor="w")
        self.contents_tree.grid(row=0, column=0, sticky="nsew")
        cscroll = ttk.Scrollbar(tree_box, orient="vertical", command=self.contents_tree.yview)
        cscroll.grid(row=0, column=1, sticky="ns")
        self.contents_tree.configure(yscrollcommand=cscroll.set)
        self.contents_tree.bind("<<TreeviewSelect>>", lambda _e: self._update_dump_button(), add="+")

        # Shown when the backup holds server databases: they go back as NEW databases, never in place.
        self.dump_row = ttk.Frame(view, padding=(0, 8, 0, 0))
        self.dump_row.columnconfigure(0, weight=1)
        self.dump_note = WrapLabel(self.dump_row, text="", bootstyle="secondary", font=SMALL_FONT)
        self.dump_note.grid(row=0, column=0, sticky="ew", padx=(0, 10))
        self.dump_button = ttk.Button(self.dump_row, text=_("Restaurar como base de datos nueva..."),
                                      bootstyle="primary-outline", command=self.restore_database,
                                      icon="database")
        self.dump_button.grid(row=0, column=1, sticky="e")

        buttons = ttk.Frame(view)
        buttons.grid(row=7, column=0, sticky="ew", pady=(14, 0))
        self.original_button = ttk.Button(buttons, text=_("Restaurar en su lugar original"), bootstyle="primary",
                                          command=self.restore_original, icon="arrow-counterclockwise")
        self.original_button.pack(side="left")
        self.folder_button = ttk.Button(buttons, text=_("Restaurar en otra carpeta..."),
                                        bootstyle="primary-outline", command=self.restore_elsewhere,
                                        icon="folder2-open")
        self.folder_button.pack(side="left", padx=8)
        self.close_button = ttk.Button(buttons, text=_("Cerrar"), bootstyle="secondary", command=self.close)
        self.close_button.pack(side="right")

    def load_backups(self, keep_selection: bool = False) -> None:
        """Local backups now; the cloud's in the background (they need the network)."""
        self.local = restore.list_local_backups(self.config)
        self._fill(keep_selection=keep_selection)
        if self.config.cloud.provider != "none":
            self.list_status.configure(text=_("Buscando respaldos en {provider}...").format(
                provider=provider_text(self.config.cloud.provider)))
            config = self.config
            self._cloud_call = BackgroundCall(self, lambda: restore.list_cloud_backups(config),
                                              self._cloud_listed, self._cloud_failed).start()
        elif not self.choices:
            self.list_status.configure(text=_("No hay respaldos en {folder}. Usa «Elegir otro archivo...» para "
                                               "buscar uno en otra carpeta.").format(
                folder=self.config.destination.folder))

    def _cloud_listed(self, found: list[restore.BackupChoice]) -> None:
        self._cloud_call = None
        self.cloud = found
        self.list_status.configure(text=ngettext(
            "{count} respaldo en {provider}.", "{count} respaldos en {provider}.", len(found)).format(
            count=len(found), provider=provider_text(self.config.cloud.provider)))
        self._fill(keep_selection=True)

    def _cloud_failed(self, exc: BaseException) -> None:
        self._cloud_call = None
        reason = str(exc) if isinstance(exc, UserError) else _("error inesperado")
        self.list_status.configure(text=_("No se pudieron ver los respaldos de {provider}: {reason}").format(
            provider=provider_text(self.config.cloud.provider), reason=reason))

    def _fill(self, keep_selection: bool = False) -> None:
        """This installation's backups first; other installations' after a line of their own, never chosen
        unless the user chose one."""
        selected = self.selected.name if keep_selection and self.selected is not None else None
        self.choices = self.extra + restore.merge_choices(self.local, self.cloud)
        self.backups.delete(*self.backups.get_children())
        for i, choice in enumerate(self.choices):
            if i >= len(self.extra) and not choice.mine and not self.backups.exists(OTHERS_ROW):
                self.backups.insert("", "end", iid=OTHERS_ROW, tags=("group",), values=(
                    _("De otros equipos:"), "", "", _("este equipo no los borra")))
            self.backups.insert("", "end", iid=str(i), values=(
                format_when(choice.created), _where_text(choice, i < len(self.extra), self.config.cloud.provider),
                format_bytes(choice.size), _state_text(choice)))
        index = next((i for i, c in enumerate(self.choices) if c.name == selected), None)
        if index is None:
            index = next((i for i, c in enumerate(self.choices) if c.mine or i < len(self.extra)), None)
        if index is None:
            self.backups.selection_set(())
            self._selected()
            return
        self.select(index)

    def select(self, index: int) -> None:
        self.backups.selection_set(str(index))
        self.backups.focus(str(index))
        self.backups.see(str(index))
        self._selected()

    @property
    def selected(self) -> restore.BackupChoice | None:
        sel = self.backups.selection() if hasattr(self, "backups") else ()
        if not sel or sel[0] == OTHERS_ROW:
            return None
        index = int(sel[0])
        return self.choices[index] if index < len(self.choices) else None

    def _selected(self) -> None:
        choice = self.selected
        enabled = ["!disabled"] if choice is not None else ["disabled"]
        self.original_button.state(enabled)
        self.folder_button.state(enabled)
        for call in self._calls:
            call.cancel()
        self._calls = []
        self.contents = None
        self.contents_tree.delete(*self.contents_tree.get_children())
        self.dump_row.grid_forget()
        if choice is None:
            self.lost.set(_("Elige un respaldo de la lista."), "info")
            return
        self.lost.set(choice.changes_lost(), "warning")
        if not choice.local or choice.path is None:
            self.contents_tree.insert("", "end", text=_("Este respaldo está en {provider}: se descargará y se "
                                                        "comprobará al restaurarlo.").format(
                provider=provider_text(choice.location)))
            self._show_cloud_databases(choice)
            return
        path = choice.path
        self.contents_tree.insert("", "end", iid="loading", text=_("Leyendo el contenido..."))
        self._calls.append(BackgroundCall(self, lambda: restore.read_contents(path),
                                          lambda contents: self._show_contents(path, contents),
                                          self._contents_failed).start())

    def _show_cloud_databases(self, choice: restore.BackupChoice) -> None:
        """A cloud-only backup's contents are not known until it is downloaded; its server databases can still
        be restored as new ones: those of the config are offered (the same ones ``respaldos db restore
        --from-cloud`` accepts), and a backup without a copy of the one chosen says so after the download."""
        databases = self.config.source.databases
        if not databases:
            return
        tree = self.contents_tree
        top = tree.insert("", 0, iid="dumps", text=_("Bases de datos del servidor"), open=True,
                          values=("", _("las de la configuración")))
        for i, db in enumerate(databases):
            tree.insert(top, "end", iid=f"db:{i}", text=db.label, values=("", dump_detail(db)))
        self.dump_note.configure(text=_(
            "Las bases de datos del servidor no vuelven a su lugar original: se restauran como una base de datos "
            "nueva, sin tocar la que usa el punto de venta. Antes se descarga el respaldo de {provider} y se "
            "comprueba.").format(provider=provider_text(choice.location)))
        self.dump_row.grid(row=6, column=0, sticky="ew")
        self._update_dump_button()

    def _contents_failed(self, exc: BaseException) -> None:
        self.contents_tree.delete(*self.contents_tree.get_children())
        reason = str(exc) if isinstance(exc, UserError) else _("No se pudo leer el contenido de este respaldo.")
        self.contents_tree.insert("", "end", text=reason)

    def _show_contents(self, path: Path, contents: restore.BackupContents) -> None:
        if self.selected is None or self.selected.path != path:
            return
        self.contents = contents
        tree = self.contents_tree
        tree.delete(*tree.get_children())
        folders: dict[str, str] = {}
        sizes: dict[str, int] = {}
        counts: dict[str, int] = {}

        def folder(rel: str) -> str:
            if rel in folders:
                return folders[rel]
            parent_rel, _sep, name = rel.rpartition("/")
            parent = folder(parent_rel) if parent_rel else ""
            detail = ""
            if not parent_rel:
                detail = contents.source_of(name) or ""
            iid = tree.insert(parent, "end", text=name, open=not parent_rel, values=("", detail))
            folders[rel] = iid
            return iid

        shown = 0
        dumps = restore.server_dumps(contents.manifest)
        dump_paths = {d.member for d in dumps}
        for f in contents.files:
            if f.path in dump_paths:
                continue  # listed under "Bases de datos del servidor" below
            parent_rel = f.path.rpartition("/")[0]
            part = parent_rel
            while part:
                sizes[part] = sizes.get(part, 0) + f.size
                counts[part] = counts.get(part, 0) + 1
                part = part.rpartition("/")[0]
            if shown >= MAX_FILES_SHOWN and f.kind != "sqlite":
                continue
            shown += 1
            parent = folder(parent_rel) if parent_rel else ""
            detail = _("base de datos") if f.kind == "sqlite" else ""
            iid = tree.insert(parent, "end", text=f.path.rpartition("/")[2],
                              values=(format_bytes(f.size), detail))
            if f.kind == "sqlite":
                tree.insert(iid, "end", iid=f"rows:{f.path}", text=_("Contando registros..."))
                while iid:  # databases are what matters most: show them without a click
                    tree.item(iid, open=True)
                    iid = tree.parent(iid)
        for rel, iid in folders.items():
            n = counts.get(rel, 0)
            source = tree.set(iid, "detail")
            files = ngettext("{count} archivo", "{count} archivos", n).format(count=format_count(n))
            tree.set(iid, "size", format_bytes(sizes.get(rel, 0)))
            tree.set(iid, "detail", f"{files} · {source}" if source else files)
        hidden = len(contents.files) - len(dumps) - shown
        if dumps:
            # First in the tree: a long folder list must not push them out of sight.
            top = tree.insert("", 0, iid="dumps", text=_("Bases de datos del servidor"), open=True,
                              values=("", ngettext("{count} copia", "{count} copias", len(dumps)).format(
                                  count=len(dumps))))
            sizes = {f.path: f.size for f in contents.files if f.path in dump_paths}
            for dump in dumps:
                tree.insert(top, "end", iid=f"dump:{dump.member}", text=dump.name,
                            values=(format_bytes(sizes.get(dump.member)), dump.detail))
            self.dump_note.configure(text=_(
                "Las bases de datos del servidor no vuelven a su lugar original: se restauran como una base de "
                "datos nueva en el servidor, sin tocar la que usa el punto de venta."))
            self.dump_row.grid(row=6, column=0, sticky="ew")
            self._update_dump_button()
        if hidden > 0:
            tree.insert("", "end", text=ngettext("... y {count} archivo más", "... y {count} archivos más",
                                                 hidden).format(count=format_count(hidden)))
        databases = [f.path for f in contents.databases]
        if databases:
            self._calls.append(BackgroundCall(
                self, lambda: {m: restore.count_rows_in_archive(path, m) for m in databases},
                lambda counted: self._show_rows(path, counted), lambda exc: self._show_rows(path, {})).start())

    def _show_rows(self, path: Path, counted: dict[str, list[restore.TableCount] | None]) -> None:
        if self.selected is None or self.selected.path != path or self.contents is None:
            return
        tree = self.contents_tree
        for db in self.contents.databases:
            iid = f"rows:{db.path}"
            if not tree.exists(iid):
                continue
            parent = tree.parent(iid)
            tables = counted.get(db.path)
            tree.delete(iid)
            if tables is None:
                tree.insert(parent, "end", text=_("(los registros se cuentan al restaurarla)"))
                continue
            total = sum(t.rows or 0 for t in tables)
            tree.set(parent, "detail", ngettext("base de datos: {tables} tabla, {rows} registros",
                                                "base de datos: {tables} tablas, {rows} registros",
                                                len(tables)).format(tables=len(tables), rows=format_count(total)))
            for table in tables:
                rows = "?" if table.rows is None else ngettext("{count} registro", "{count} registros",
                                                               table.rows).format(count=format_count(table.rows))
                tree.insert(parent, "end", text=table.name, values=("", rows))

    def choose_other_file(self) -> None:
        files = self.app.dialogs.choose_files(_("Elige un respaldo (.zip)"))
        if not files:
            return
        from datetime import datetime

        from wizard.core.backup import parse_archive_name

        path = Path(files[0])
        try:
            size = path.stat().st_size
        except OSError as exc:
            self.app.dialogs.error(_("No se pudo abrir {path}: {error}").format(path=path, error=exc.strerror or exc))
            return
        created = parse_archive_name(path.name) or datetime.fromtimestamp(path.stat().st_mtime)
        self.extra = [restore.BackupChoice(name=path.name, created=created, size=size, location="local",
                                           path=path)] + [c for c in self.extra if c.path != path]
        self._fill()

    # -- server databases ----------------------------------------------------------------------------

    def chosen_dump(self) -> restore.ServerDump | None:
        """The dump selected in the contents tree, or the only one the backup has."""
        if self.contents is None:
            return None
        dumps = restore.server_dumps(self.contents.manifest)
        selected = self.contents_tree.selection()
        if selected and str(selected[0]).startswith("dump:"):
            member = str(selected[0])[len("dump:"):]
            return next((d for d in dumps if d.member == member), None)
        return dumps[0] if len(dumps) == 1 else None

    def chosen_cloud_database(self) -> DatabaseSource | None:
        """For a cloud-only backup: the configured database selected in the contents tree, or the only one."""
        choice = self.selected
        databases = self.config.source.databases
        if choice is None or choice.local or not databases:
            return None
        selected = self.contents_tree.selection()
        if selected and str(selected[0]).startswith("db:"):
            index = int(str(selected[0])[len("db:"):])
            return databases[index] if index < len(databases) else None
        return databases[0] if len(databases) == 1 else None

    def _update_dump_button(self) -> None:
        chosen = self.chosen_dump() or self.chosen_cloud_database()
        enabled = chosen is not None and not self.running
        self.dump_button.state(["!disabled"] if enabled else ["disabled"])

    def restore_database(self) -> None:
        """ "Restaurar como base de datos nueva...": the dump goes into a new database beside the original
        (``dbsources.restore_dump``, on a worker thread); the database the POS uses is not touched."""
        choice, dump, contents = self.selected, self.chosen_dump(), self.contents
        if choice is not None and not choice.local:
            self._restore_database_from_cloud(choice)
            return
        if choice is None or choice.path is None or dump is None or contents is None or self.running:
            if dump is None and contents is not None and restore.server_dumps(contents.manifest):
                self.app.dialogs.info(_("Elige en «Contenido» la base de datos que quieres restaurar."))
            return
        entry = dump_entry(contents, dump)
        db = database_for(entry, self.config.source.databases)
        target = self._confirm_new_database(db, choice)
        if target is None:
            return
        archive = choice.path
        size = next((f.size for f in contents.files if f.path == dump.member), 0)
        self._db_bytes = (0, max(size, 1))

        def work(report: Callable[[Any], None], cancel: threading.Event) -> dbsources.RestoredDatabase:
            return dbsources.restore_dump(archive, db, target=target, cancel=cancel, progress=report)

        self._start_database_job(db, work, self._db_progress, target, _(
            "Cargando la copia en el servidor {where}...").format(where=dbsources.where(db)))

    def _restore_database_from_cloud(self, choice: restore.BackupChoice) -> None:
        """The same for a cloud-only backup (``restore.restore_dump_from_cloud``): step 1 downloads it with the
        provider's checksum checked, step 2 loads the dump; the download is deleted afterwards."""
        db = self.chosen_cloud_database()
        if db is None or self.running:
            if db is None and self.config.source.databases:
                self.app.dialogs.info(_("Elige en «Contenido» la base de datos que quieres restaurar."))
            return
        target = self._confirm_new_database(db, choice, _(
            "Primero se descargará el respaldo de {provider} y se comprobará que llegó completo.").format(
            provider=provider_text(choice.location)))
        if target is None:
            return
        config, name = self.config, choice.name

        def work(report: Callable[[Any], None], cancel: threading.Event) -> dbsources.RestoredDatabase:
            return restore.restore_dump_from_cloud(config, name, db, target=target, report=report, cancel=cancel)

        self._start_database_job(db, work, self._progress, name, _("Paso {step} de {steps}: {phase}").format(
            step=1, steps=2, phase=restore.phase_sentence("download")))

    def _confirm_new_database(self, db: DatabaseSource, choice: restore.BackupChoice, *more: str) -> str | None:
        """The new database's name, once the user agreed to create it from ``choice`` (``more``: further
        paragraphs of the question); None when refused or when no name can be made (said in a dialog)."""
        try:
            target = dbsources.default_restore_target(db)
        except UserError as exc:
            self.app.dialogs.error(str(exc))
            return None
        question = "\n\n".join([
            _("¿Restaurar la base de datos {name} del respaldo {when} como una base de datos nueva?").format(
                name=db.label, when=restore.when_phrase(choice.created)),
            _("Se creará {target} en el servidor {where}. La base de datos que usa el punto de venta no se "
              "toca.").format(target=target, where=dbsources.where(db)),
            *more,
        ])
        if not self.app.dialogs.confirm(question, _("Restaurar"), yes=_("Restaurar"), no=_("Cancelar")):
            return None
        return target

    def _start_database_job(self, db: DatabaseSource, work: Callable[..., dbsources.RestoredDatabase],
                            on_progress: Callable[[Any], None], current: str, step: str) -> None:
        """Show the progress view for loading ``db`` and run ``work`` on a worker thread."""
        self.restored_database = None
        self.report = None
        self.error = None
        self.target_folder = None
        self.progress_title.configure(text=_("Restaurando la base de datos {name}").format(name=db.label))
        self.step_label.configure(text=step)
        self.percent_label.configure(text="0 %")
        self.progress.configure(value=0)
        self.current_label.configure(text=current)
        self.cancel_button.state(["!disabled"])
        self.cancel_button.configure(text=_("Cancelar"))
        self.show("progress")
        self.job = RestoreJob(self, work, on_progress=on_progress, on_done=self._db_done,
                              on_error=self._failed).start()

    def _db_progress(self, loaded: int) -> None:
        done, total = self._db_bytes
        done += int(loaded)
        self._db_bytes = (done, total)
        percent = min(100.0 * done / total, 100.0)
        self.progress.configure(value=percent)
        self.percent_label.configure(text=_("{p:.0f} %").format(p=percent))

    def _db_done(self, restored: dbsources.RestoredDatabase) -> None:
        self.restored_database = restored
        self.result_title.configure(text=_("Base de datos restaurada"))
        self.result_notice.set(restored.message, "success")
        self.open_button.pack_forget()
        self.back_button.pack(side="left")
        self.show("result")

    def _skipped_text(self, archive: Path | str) -> str:
        """Which server databases a restore to the original place left alone, and how to bring them back."""
        if not self.skipped_dumps:
            return ""
        lines = [_("No se restauraron las bases de datos del servidor: {names}. Esas no vuelven a su lugar "
                   "original.").format(names=restore.dumps_named(self.skipped_dumps))]
        configured = {db.label.casefold() for db in self.config.source.databases}
        if not any(d.from_cloud for d in self.skipped_dumps):
            lines.append(_("Para recuperarlas sin tocar las que usa el punto de venta, vuelve a la lista, elígelas "
                           "en «Contenido» y pulsa «Restaurar como base de datos nueva...», o usa en una terminal:"))
        elif all(d.name.casefold() in configured for d in self.skipped_dumps):
            # The download is deleted: the button downloads the backup again, as the command does.
            lines.append(_("Para recuperarlas sin tocar las que usa el punto de venta, vuelve a la lista, elígelas "
                           "en «Contenido» y pulsa «Restaurar como base de datos nueva...» (el respaldo se "
                           "descarga otra vez de {provider}), o usa en una terminal:").format(
                provider=provider_text(self.config.cloud.provider)))
        else:
            lines.append(_("Para recuperarlas sin tocar las que usa el punto de venta, usa en una terminal (el "
                           "respaldo se descarga otra vez de {provider}):").format(
                provider=provider_text(self.config.cloud.provider)))
        lines += [d.command(archive, self.app.config_path) for d in self.skipped_dumps]
        return "\n".join(lines)

    # -- starting a restore --------------------------------------------------------------------------

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

    # -- progress ------------------------------------------------------------------------------------

    def _build_progress(self) -> None:
        view = self.progress_view = ttk.Frame(self, padding=(28, 28))
        view.columnconfigure(0, weight=1)
        self.progress_title = ttk.Label(view, text="", font=HEADING_FONT)
        self.progress_title.grid(row=0, column=0, columnspan=2, sticky="w")
        self.step_label = ttk.Label(view, text="", font=BOLD_FONT)
        self.step_label.grid(row=1, column=0, sticky="w", pady=(18, 0))
        self.percent_label = ttk.Label(view, text="", font=BOLD_FONT)
        self.percent_label.grid(row=1, column=1, sticky="e", pady=(18, 0))
        self.progress = ttk.Progressbar(view, maximum=100, bootstyle="success-striped")
        self.progress.grid(row=2, column=0, columnspan=2, sticky="ew", pady=6)
        self.current_label = ttk.Label(view, text="", bootstyle="secondary", font=SMALL_FONT)
        self.current_label.grid(row=3, column=0, columnspan=2, sticky="w")
        WrapLabel(view, text=_("No abras el punto de venta hasta que termine la restauración."),
                  bootstyle="secondary").grid(row=4, column=0, columnspan=2, sticky="ew", pady=(18, 0))
        self.cancel_button = ttk.Button(view, text=_("Cancelar"), bootstyle="danger-outline", command=self.cancel)
        self.cancel_button.grid(row=5, column=1, sticky="e", pady=(18, 0))

    def _progress(self, event: restore.RestoreProgress) -> None:
        self.step_label.configure(text=_("Paso {step} de {steps}: {phase}").format(
            step=event.step, steps=event.steps, phase=restore.phase_sentence(event.phase)))
        self.progress.configure(value=event.percent)
        self.percent_label.configure(text=_("{p:.0f} %").format(p=event.percent))
        current = event.current or ""
        self.current_label.configure(text=current if len(current) <= 70 else "..." + current[-67:])
        # Once files are being replaced, stopping halfway would leave a mix of old and restored files.
        if event.phase in ("restore", "integrity") and self.target_folder is None:
            self.cancel_button.state(["disabled"])

    def cancel(self) -> None:
        if self.running and not self.cancel_button.instate(["disabled"]):
            self.job.cancel()  # type: ignore[union-attr]
            self.cancel_button.state(["disabled"])
            self.cancel_button.configure(text=_("Cancelando..."))

    # -- result --------------------------------------------------------------------------------------

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
        from wizard.core import machine

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
            from wizard.ui.app import log_location

            title = _("No se restauró el respaldo")
            text = _("La restauración falló por un error inesperado. Los detalles están en el registro: "
                     "{log}").format(log=log_location())
        self.result_title.configure(text=title)
        self.result_notice.set(text, "danger" if not isinstance(exc, Cancelled) else "secondary")
        self.open_button.pack_forget()
        self.back_button.pack(side="left")
        self.show("result")
        self._refresh_summary()

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


def open_restore_dialog(master: tkinter.Misc, app: RespaldosWindow) -> RestoreDialog:
    return RestoreDialog(master, app)
