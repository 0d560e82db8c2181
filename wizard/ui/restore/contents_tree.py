"""The chosen backup's contents in the "choose" view: folders with their sizes and file counts, databases
opened with their rows per table (counted in the background), server-database dumps first."""

from __future__ import annotations

from pathlib import Path

from wizard.core import restore
from wizard.core.errors import UserError
from wizard.core.units import format_size
from wizard.i18n import _, ngettext
from wizard.ui.password_dialogs import ask_archive_password, needs_password
from wizard.ui.text import format_count
from wizard.ui.worker import BackgroundCall

MAX_FILES_SHOWN = 2000  # in the contents tree; a POS folder with more images gets a "y N más" line


class ContentsTree:
    """Part of RestoreDialog: fills ``contents_tree`` for the chosen local backup."""

    def _contents_failed(self, exc: BaseException) -> None:
        self.contents_tree.delete(*self.contents_tree.get_children())
        reason = str(exc) if isinstance(exc, UserError) else _("No se pudo leer el contenido de este respaldo.")
        self.contents_tree.insert("", "end", text=reason)
        choice = self.selected
        if needs_password(exc) and choice is not None:  # an encrypted backup: ask, then read it again
            self.password_dialog = ask_archive_password(self, self.app, choice.name, exc, retry=self._selected)

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
                              values=(format_size(f.size), detail))
            if f.kind == "sqlite":
                tree.insert(iid, "end", iid=f"rows:{f.path}", text=_("Contando registros..."))
                while iid:  # databases are what matters most: show them without a click
                    tree.item(iid, open=True)
                    iid = tree.parent(iid)
        for rel, iid in folders.items():
            n = counts.get(rel, 0)
            source = tree.set(iid, "detail")
            files = ngettext("{count} archivo", "{count} archivos", n).format(count=format_count(n))
            tree.set(iid, "size", format_size(sizes.get(rel, 0)))
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
                            values=(format_size(sizes.get(dump.member)), dump.detail))
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
