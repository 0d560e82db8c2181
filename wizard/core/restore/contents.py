"""What a backup holds, read from its manifest without verifying it, and the rows of its databases."""

from __future__ import annotations

import logging
import sqlite3
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from wizard.core.archive import Manifest, ManifestFile, iter_member, open_zip, read_manifest
from wizard.core.errors import Cancelled
from wizard.core.restore.databases import ROW_COUNT_LIMIT, TableCount, count_rows

logger = logging.getLogger(__name__)


@dataclass
class BackupContents:
    """The manifest of an archive, for showing what it holds (read without verifying)."""

    manifest: Manifest

    @property
    def files(self) -> list[ManifestFile]:
        return self.manifest.files

    @property
    def databases(self) -> list[ManifestFile]:
        return [f for f in self.manifest.files if f.kind == "sqlite"]

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.manifest.files)

    @property
    def created(self) -> datetime | None:
        try:
            return datetime.fromisoformat(self.manifest.created).astimezone().replace(tzinfo=None)
        except ValueError:
            return None

    def source_of(self, top: str) -> str | None:
        """The original path recorded for a top-level folder of the archive."""
        for source in self.manifest.sources:
            if source.get("archive_path") == top:
                return source.get("path")
        return None


def read_contents(archive: Path) -> BackupContents:
    return BackupContents(read_manifest(Path(archive)))


def count_rows_in_archive(archive: Path, member: str, *, limit: int = ROW_COUNT_LIMIT,
                          cancel: threading.Event | None = None) -> list[TableCount] | None:
    """Rows per table of a database inside an archive, or None when it is too big to be worth extracting."""
    archive = Path(archive)
    with open_zip(archive) as zf:
        try:
            info = zf.getinfo(member)
        except KeyError:
            return None
        if info.file_size > limit:
            return None
        with tempfile.TemporaryDirectory(prefix="respaldos-contenido-") as tmp:
            db = Path(tmp) / "db.sqlite"
            with open(archive, "rb") as fp, open(db, "wb") as out:
                for chunk in iter_member(fp, info):
                    if cancel is not None and cancel.is_set():
                        raise Cancelled()
                    out.write(chunk)
            try:
                return count_rows(db)
            except sqlite3.Error as exc:
                logger.info("cannot count rows of %s in %s: %s", member, archive, exc)
                return None
