"""Putting files back over the live ones: each under a temporary name beside its target, checked against
the manifest, fsynced, a database integrity-checked, and only then renamed over the old file, so every path
holds either the old file or the restored one, never a mix."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import zipfile
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, cast

from isal import isal_zlib

from wizard.core import oserrors
from wizard.core.archive import (
    ManifestFile,
    check_restore_targets,
    crc_matches,
    iter_member,
    open_zip,
    stays_inside,
)
from wizard.core.errors import ArchiveDamaged, UserError
from wizard.core.fsutil import fsync_dir, temporary_beside
from wizard.core.restore.databases import DatabaseCheck, check_database, with_row_counts
from wizard.core.restore.progress import StepProgress
from wizard.core.snapshot import SIDECAR_SUFFIXES
from wizard.i18n import _

logger = logging.getLogger(__name__)

TEMP_SUFFIX = ".restaurando"


def _remove_sidecars(target: Path) -> None:
    """A stale -wal or -journal beside a replaced database would be applied to the new file: remove them."""
    for suffix in SIDECAR_SUFFIXES:
        side = Path(f"{target}{suffix}")
        with contextlib.suppress(FileNotFoundError):
            side.unlink()
            logger.info("removed %s before restoring %s", side, target)


def _write_member(fp, info: zipfile.ZipInfo, mf: ManifestFile, tmp: Path, archive: Path, steps: StepProgress,
                  progress: Callable[[int], None]) -> None:
    sha = hashlib.sha256()
    crc = 0
    size = 0
    try:
        with open(tmp, "wb") as out:
            for chunk in iter_member(fp, info):
                steps.check_cancel()
                sha.update(chunk)
                crc = zlib.crc32(chunk, crc)
                size += len(chunk)
                out.write(chunk)
                progress(len(chunk))
            if sha.hexdigest() != mf.sha256 or not crc_matches(info, crc) or size != mf.size:
                raise ArchiveDamaged(_("El respaldo {archive} está dañado: {member} no coincide con su suma "
                                       "SHA-256. Usa otro respaldo.").format(archive=archive.name, member=mf.path),
                                     member=mf.path)
            out.flush()
            os.fsync(out.fileno())
    except (zipfile.BadZipFile, zlib.error, isal_zlib.IsalError, EOFError) as exc:
        logger.info("member %s of %s unreadable: %s", mf.path, archive, exc)
        raise ArchiveDamaged(_("El respaldo {archive} está dañado: {member} no se puede descomprimir. Usa otro "
                               "respaldo.").format(archive=archive.name, member=mf.path), member=mf.path) from None


def _set_mtime(target: Path, iso: str) -> None:
    try:
        ts = datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return
    with contextlib.suppress(OSError):
        os.utime(target, (ts, ts))


def put_back_files(archive: Path, targets: list[tuple[ManifestFile, Path, Path]], steps: StepProgress,
              restored: list[Path], checks: list[DatabaseCheck]) -> None:
    """Each file: temporary name beside it, checked, fsynced, databases integrity-checked, then renamed.
    Every target is checked again to stay inside its root (a link may have appeared since), each one again
    just before its folder is made."""
    check_restore_targets(archive, [(mf.path, target, root) for mf, target, root in targets])
    total = max(sum(mf.size for mf, _t, _r in targets), 1)
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        steps.emit("restore", 100.0 * done / total, current)

    with open_zip(archive) as zf, open(archive, "rb") as raw:
        fp = cast(BinaryIO, oserrors.PlainReader(raw, archive))  # its failures are the backup's, not the folder written to
        infos = {i.filename: i for i in zf.infolist()}
        for mf, target, root in targets:
            steps.check_cancel()
            current = mf.path
            info = infos.get(mf.path)
            if info is None:
                raise ArchiveDamaged(_("El respaldo {archive} está dañado: {member} falta en el archivo. Usa otro "
                                       "respaldo.").format(archive=archive.name, member=mf.path), member=mf.path)
            if not stays_inside(target, root):
                raise UserError(_("El respaldo {archive} contiene una ruta no permitida ({name}); no se "
                                  "restauró.").format(archive=archive.name, name=mf.path))
            target.parent.mkdir(parents=True, exist_ok=True)
            if target.is_symlink() or (target.exists() and not target.is_file()):
                raise UserError(_("{path} existe y no es un archivo; no se restauró.").format(path=target))
            tmp = temporary_beside(target, TEMP_SUFFIX)
            try:
                with oserrors.plain_errors(target.parent, oserrors.RESTORE):  # writing beside the target
                    _write_member(fp, info, mf, tmp, archive, steps, progress)
                    if target.exists():
                        with contextlib.suppress(OSError):
                            shutil.copymode(target, tmp)
                    if mf.kind == "sqlite":
                        steps.emit("integrity", 100.0 * done / total, mf.path)
                        check = check_database(tmp)
                        if not check.ok:
                            raise UserError(_("La base de datos {name} del respaldo no pasó la revisión de "
                                              "integridad ({detail}); no se restauró.").format(
                                name=mf.path, detail=check.integrity))
                        _remove_sidecars(target)
                    os.replace(tmp, target)
            finally:
                with contextlib.suppress(OSError):  # a folder gone or read-only: the error above says it
                    tmp.unlink()
            _set_mtime(target, mf.mtime)
            fsync_dir(target.parent)
            restored.append(target)
            if mf.kind == "sqlite":
                checks.append(with_row_counts(check, target))
