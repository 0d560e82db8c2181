"""Extracting an archive into a folder: every file checked against the manifest before it takes its place."""

from __future__ import annotations

import contextlib
import logging
import os
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO, cast

from isal import isal_zlib

from wizard.core import oserrors
from wizard.core.archive.aes import Unlocker
from wizard.core.archive.manifest import read_manifest
from wizard.core.archive.reading import Report, crc_matches, damaged, hash_member, inflate_pool, open_zip
from wizard.core.archive.safe_paths import check_restore_targets, stays_inside, unrestorable_member_reason
from wizard.core.errors import UserError
from wizard.core.fsutil import fsync_dir, temporary_beside
from wizard.i18n import _

logger = logging.getLogger(__name__)


def _is_empty_dir(folder: Path) -> bool:
    return not any(folder.iterdir())


def restore_archive(archive: Path, to_dir: Path, *, force: bool = False, report: Report | None = None,
                    cancel=None, members: Iterable[str] | None = None,
                    passwords: Sequence[str] | None = None) -> list[Path]:
    """Extract into ``to_dir``, verifying each file's sha256. Nothing is ever written outside ``to_dir``.

    Each file is written under a temporary name, checked, fsynced and only then renamed, so a file in
    ``to_dir`` is always either absent, the old one, or the whole restored one. An archive with a name that
    could leave ``to_dir`` or that Windows cannot hold, two members that would be one file, or a link in
    ``to_dir`` leading out is refused before anything (``to_dir`` included) is created. An encrypted archive
    is opened with ``passwords`` (by default every one this computer knows: aes.Unlocker).
    """
    archive = Path(archive)
    to_dir = Path(to_dir)
    if to_dir.exists() and not to_dir.is_dir():
        raise UserError(_("{folder} no es una carpeta.").format(folder=to_dir))
    if to_dir.exists() and not force and not _is_empty_dir(to_dir):
        raise UserError(_("La carpeta {folder} no está vacía. Elige una carpeta vacía o usa --force "
                          "para escribir encima.").format(folder=to_dir))
    restored: list[Path] = []
    with open_zip(archive) as zf:
        unlocker = Unlocker(archive, passwords)
        manifest = read_manifest(archive, zf, unlocker)
        infos = {i.filename: i for i in zf.infolist()}
        wanted = set(members) if members is not None else None
        # Refuse the whole archive before writing anything (to_dir included) if any name could escape to_dir.
        for name in list(infos) + [f.path for f in manifest.files]:
            reason = unrestorable_member_reason(name)
            if reason:
                raise UserError(_("El respaldo {archive} contiene una ruta no permitida ({name}); no se "
                                  "restauró nada.").format(archive=archive.name, name=name))
        targets = [(mf, to_dir.joinpath(*mf.path.replace("\\", "/").split("/"))) for mf in manifest.files
                   if wanted is None or mf.path in wanted]
        check_restore_targets(archive, [(mf.path, target, to_dir) for mf, target in targets])
        with oserrors.plain_errors(to_dir, oserrors.RESTORE):
            to_dir.mkdir(parents=True, exist_ok=True)
        with open(archive, "rb") as raw, inflate_pool() as pool:  # the manifest's chunks inflate on every core
            fp = cast(BinaryIO, oserrors.PlainReader(raw, archive))  # its failures are the backup's, not the folder's
            for mf, target in targets:
                info = infos.get(mf.path)
                if info is None:
                    raise damaged(archive, mf.path, _("falta en el archivo"))
                if not stays_inside(target, to_dir):  # a link made while we were writing
                    raise UserError(_("El respaldo {archive} contiene una ruta no permitida ({name}); "
                                      "no se restauró.").format(archive=archive.name, name=mf.path))
                tmp = temporary_beside(target, ".restaurando")
                try:
                    with oserrors.plain_errors(to_dir, oserrors.RESTORE):
                        target.parent.mkdir(parents=True, exist_ok=True)
                        if target.is_symlink() or (target.exists() and not target.is_file()):
                            raise UserError(_("{path} existe y no es un archivo; no se restauró.").format(
                                path=target))
                        with open(tmp, "wb") as out:
                            size, crc, sha = hash_member(fp, info, out.write, report, cancel, mf.chunks, pool,
                                                         unlocker=unlocker)
                            if sha != mf.sha256 or not crc_matches(info, crc) or size != mf.size:
                                raise damaged(archive, mf.path, _("no coincide con su suma SHA-256"))
                            out.flush()
                            os.fsync(out.fileno())
                        os.replace(tmp, target)
                except (zipfile.BadZipFile, zlib.error, isal_zlib.IsalError, EOFError) as exc:
                    logger.info("member %s of %s unreadable: %s", mf.path, archive, exc)
                    raise damaged(archive, mf.path, _("no se puede descomprimir")) from None
                finally:
                    with contextlib.suppress(OSError):  # a folder gone or read-only: the error says it
                        tmp.unlink()
                _set_mtime(target, mf.mtime)
                fsync_dir(target.parent)
                restored.append(target)
    return restored


def _set_mtime(target: Path, iso: str) -> None:
    try:
        ts = datetime.fromisoformat(iso).timestamp()
    except ValueError:
        return
    os.utime(target, (ts, ts))
