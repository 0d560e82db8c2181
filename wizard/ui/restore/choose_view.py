"""The dialog's first view: the list of backups (this installation's first, other installations' under a
line of their own), the chosen one's contents below it, and the buttons that restore it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import ttkbootstrap as ttk

from wizard.core import history, restore
from wizard.core.drill import passed_archives
from wizard.core.errors import UserError
from wizard.core.names import parse_archive_name
from wizard.core.units import format_size
from wizard.i18n import _, ngettext
from wizard.ui.restore.scale import text_scale
from wizard.ui.text import format_when, provider_text
from wizard.ui.widgets import BOLD_FONT, HEADING_FONT, SMALL_FONT, Notice, WrapLabel
from wizard.ui.worker import BackgroundCall

OTHERS_ROW = "otros"  # the line above other installations' backups in the list


def _state_text(choice: restore.BackupChoice, tested: bool = False) -> str:
    parts = [] if choice.mine else [_("De {name}").format(name=choice.owner)]
    if choice.safety:
        parts.append(_("Antes de restaurar"))
    parts.append(_("Verificado") if choice.verified else _("Sin verificar"))
    if tested:  # its latest restore drill passed (wizard.core.drill)
        parts.append(_("✓ probado"))
    return " · ".join(parts)


def _where_text(choice: restore.BackupChoice, other_file: bool, provider: str) -> str:
    if not choice.local:
        return provider_text(choice.location)
    text = _("Otra carpeta") if other_file else _("Carpeta de respaldos")
    if choice.in_cloud:
        text = _("{where} y {provider}").format(where=text, provider=provider_text(provider))
    return text


class ChooseView:
    """Part of RestoreDialog: builds the "choose" view, lists the backups and follows the selection."""

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
        self.tested = passed_archives(history.read())
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
                format_size(choice.size), _state_text(choice, choice.name in getattr(self, "tested", ()))))
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

    def choose_other_file(self) -> None:
        files = self.app.dialogs.choose_files(_("Elige un respaldo (.zip)"))
        if not files:
            return
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
