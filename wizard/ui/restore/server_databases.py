"""Server databases (MySQL/MariaDB, Firebird) in a backup: never put back in their original place but
restored as a new database beside the one the POS uses, from a local archive or from a cloud copy that is
downloaded and checked first."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wizard.core import restore, servers
from wizard.core.config import DatabaseSource
from wizard.core.errors import UserError
from wizard.i18n import _
from wizard.ui.restore.job import RestoreJob
from wizard.ui.text import provider_text


def dump_detail(db: DatabaseSource) -> str:
    """How a configured server database is described in the contents ("MySQL/MariaDB · host:port · sicar"), as
    ``restore.server_dumps`` describes a dump from its manifest."""
    return " · ".join([servers.ENGINE_NAMES.get(db.engine, db.engine), servers.where(db),
                       db.server_database])


def dump_entry(contents: restore.BackupContents, dump: restore.ServerDump) -> dict[str, Any]:
    """The manifest's ``databases`` entry of a dump (engine, host, port, database or file, user); only its
    name and engine when an older manifest has none."""
    for entry in contents.manifest.databases:
        if str(entry.get("path", "")) == dump.member:
            return dict(entry)
    kind = next((f.kind for f in contents.files if f.path == dump.member), "")
    engine = servers.engine_of_kind(kind, default="mysql")
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


class ServerDatabaseRestore:
    """Part of RestoreDialog: the "Restaurar como base de datos nueva..." row, its job, and what a restore in
    place says about the server databases it left alone."""

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
        (``servers.restore_dump``, on a worker thread); the database the POS uses is not touched."""
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

        def work(report: Callable[[Any], None], cancel: threading.Event) -> servers.RestoredDatabase:
            return servers.restore_dump(archive, db, target=target, cancel=cancel, progress=report)

        self._start_database_job(db, work, self._db_progress, target, _(
            "Cargando la copia en el servidor {where}...").format(where=servers.where(db)))

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

        def work(report: Callable[[Any], None], cancel: threading.Event) -> servers.RestoredDatabase:
            return restore.restore_dump_from_cloud(config, name, db, target=target, report=report, cancel=cancel)

        self._start_database_job(db, work, self._progress, name, _("Paso {step} de {steps}: {phase}").format(
            step=1, steps=2, phase=restore.phase_sentence("download")))

    def _confirm_new_database(self, db: DatabaseSource, choice: restore.BackupChoice, *more: str) -> str | None:
        """The new database's name, once the user agreed to create it from ``choice`` (``more``: further
        paragraphs of the question); None when refused or when no name can be made (said in a dialog)."""
        try:
            target = servers.default_restore_target(db)
        except UserError as exc:
            self.app.dialogs.error(str(exc))
            return None
        question = "\n\n".join([
            _("¿Restaurar la base de datos {name} del respaldo {when} como una base de datos nueva?").format(
                name=db.label, when=restore.when_phrase(choice.created)),
            _("Se creará {target} en el servidor {where}. La base de datos que usa el punto de venta no se "
              "toca.").format(target=target, where=servers.where(db)),
            *more,
        ])
        if not self.app.dialogs.confirm(question, _("Restaurar"), yes=_("Restaurar"), no=_("Cancelar")):
            return None
        return target

    def _start_database_job(self, db: DatabaseSource, work: Callable[..., servers.RestoredDatabase],
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

    def _db_done(self, restored: servers.RestoredDatabase) -> None:
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
