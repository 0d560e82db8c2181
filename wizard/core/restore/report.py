"""What a finished restore says: how many files went back where, each database's check and rows, the safety
backup, and the server databases it left for ``respaldos db restore``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from wizard.core.archive import Manifest
from wizard.core.names import parse_archive_name
from wizard.core.restore.databases import DatabaseCheck
from wizard.core.restore.dates import when_phrase
from wizard.core.restore.dumps import ServerDump, dumps_named
from wizard.i18n import _, ngettext


@dataclass
class RestoreReport:
    archive: Path
    created: datetime
    to_original: bool
    folders: list[Path]
    restored: list[Path] = field(default_factory=list)
    databases: list[DatabaseCheck] = field(default_factory=list)
    safety_backup: Path | None = None
    warnings: list[str] = field(default_factory=list)
    duration: float = 0.0
    # Server-database dumps a restore in place left alone; said by ``dumps_warning``, not by ``message``
    # (the window words it itself, next to its "Restaurar como base de datos nueva..." button).
    skipped_dumps: list[ServerDump] = field(default_factory=list)
    config_path: Path | None = None  # for the --config of the commands in dumps_warning

    @property
    def message(self) -> str:
        n = len(self.restored)
        where = ", ".join(str(f) for f in self.folders)
        if self.to_original:
            text = ngettext("Se restauró {count} archivo del respaldo {when} en su lugar original ({where}).",
                            "Se restauraron {count} archivos del respaldo {when} en su lugar original ({where}).",
                            n)
        else:
            text = ngettext("Se restauró {count} archivo del respaldo {when} en {where}.",
                            "Se restauraron {count} archivos del respaldo {when} en {where}.", n)
        lines = [text.format(count=n, when=when_phrase(self.created), where=where)]
        for db in self.databases:
            if not db.ok:
                lines.append(_("La base de datos {path} no pasó la revisión de integridad: {detail}").format(
                    path=db.path, detail=db.integrity))
            elif db.tables is None:
                lines.append(_("Base de datos {path}: revisada, sin errores.").format(path=db.path))
            else:
                lines.append(ngettext("Base de datos {path}: revisada, sin errores ({tables} tabla, {rows} "
                                      "registros).",
                                      "Base de datos {path}: revisada, sin errores ({tables} tablas, {rows} "
                                      "registros).", len(db.tables)).format(
                    path=db.path, tables=len(db.tables), rows=f"{db.rows:,}"))
        if self.safety_backup is not None:
            lines.append(_("Los datos que había antes quedaron guardados en el respaldo de seguridad "
                           "{path}.").format(path=self.safety_backup))
        lines += self.warnings
        return "\n".join(lines)

    @property
    def dumps_warning(self) -> str:
        """Which server databases were not put back, and the command that loads each one; "" if none."""
        if not self.skipped_dumps:
            return ""
        lines = [ngettext(
            "Aviso: la base de datos del servidor {names} no se cargó: restaurar en el lugar original solo "
            "devuelve archivos. Para cargarla usa (en una base de datos nueva; con --replace, encima de la "
            "original, con el punto de venta cerrado):",
            "Aviso: las bases de datos del servidor {names} no se cargaron: restaurar en el lugar original solo "
            "devuelve archivos. Para cargarlas usa (en una base de datos nueva; con --replace, encima de la "
            "original, con el punto de venta cerrado):",
            len(self.skipped_dumps)).format(names=dumps_named(self.skipped_dumps))]
        lines += [f"  {d.command(self.archive, self.config_path)}" for d in self.skipped_dumps]
        return "\n".join(lines)


def archive_created(archive: Path, manifest: Manifest) -> datetime:
    created = parse_archive_name(archive.name)
    if created is not None:
        return created
    try:
        return datetime.fromisoformat(manifest.created).astimezone().replace(tzinfo=None)
    except ValueError:
        return datetime.fromtimestamp(archive.stat().st_mtime)
