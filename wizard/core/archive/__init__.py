"""Write, verify and restore backup archives: standard ZIP files with a ``respaldo.json`` manifest.

Why a ZIP writer of our own: Python's zipfile compresses one entry on one core with zlib level 6
(~19 MB/s here). This writer splits each entry into 1 MiB chunks and deflates them on every core with
ISA-L. Each chunk is compressed on its own and ends on a byte boundary (a sync flush), so the chunks join
into one ordinary deflate stream that Windows Explorer, 7-Zip, unzip and Python's zipfile open, and each
chunk can be inflated on its own too. (Priming each chunk with the previous 32 KiB, as pigz does, saved
only ~0.3 % on POS databases and makes a chunk impossible to inflate before the one before it.)

Verification overlaps compression: a ``read_back`` writer reads every chunk again from the file, through
a second handle, as soon as it is written, and inflates it on the same pool while later chunks are
compressed; its SHA-256 and CRC-32 are those of the data as re-read. Once the file is complete and
fsynced, ``verify_archive`` goes through zipfile's central directory (so the standard reader checks every
archive we make), re-reads each local header and each member's compressed bytes (a CRC-32, to prove they
are the bytes that were inflated) and compares everything with the manifest.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import platform
import posixpath
import struct
import sys
import threading
import time
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Self

from isal import isal_zlib

from wizard.core.errors import ArchiveDamaged, Cancelled, UserError
from wizard.core.fsutil import fsync_dir
from wizard.core.machine import manifest_machine
from wizard.i18n import _

logger = logging.getLogger(__name__)

from wizard.core.archive.deflate import CHUNK_SIZE, COMPRESS_LEVEL, deflate_chunk, inflate_chunk, stored_blocks  # noqa: F401
from wizard.core.archive.allocator import keep_freed_buffers  # noqa: F401
from wizard.core.archive.safe_paths import check_restore_targets, colliding_members, stays_inside, unrestorable_member_reason, unsafe_member_reason  # noqa: F401
from wizard.core.archive.reading import Report, damaged, hash_member, iter_member, open_zip  # noqa: F401
from wizard.core.archive.manifest import MANIFEST_FORMAT, MANIFEST_NAME, Manifest, ManifestFile, read_manifest  # noqa: F401
from wizard.core.archive.writer import Entry, ReadBack, ZIP64_LIMIT, ZipWriter  # noqa: F401
from wizard.core.archive.early import EarlyCompression  # noqa: F401


def verify_archive(archive: Path, report: Report | None = None, cancel=None,
                   chunk_plan: dict[str, list[int]] | None = None,
                   read_back: dict[str, ReadBack | None] | None = None) -> Manifest:
    """Check every member's CRC and sha256 against the manifest; raise ArchiveDamaged naming the first bad one.

    ``chunk_plan`` (member name -> compressed chunk sizes, from the ZipWriter that just wrote the archive)
    lets the members be inflated on every core; without it they are inflated as one stream.

    ``read_back`` (member name -> what a ``read_back`` ZipWriter found inflating that member's bytes again
    from this file while writing it) spares inflating those members a second time: their place in the
    file is checked against the central directory and the local header instead, and their CRC and
    sha256 as re-read against both and the manifest, exactly as for a member inflated here.
    """
    archive = Path(archive)
    pool = ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="inflate") \
        if chunk_plan else None
    try:
        return _verify(archive, report, cancel, chunk_plan or {}, pool, read_back or {})
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


def _verify(archive: Path, report: Report | None, cancel, chunk_plan: dict[str, list[int]],
            pool: ThreadPoolExecutor | None, read_back: dict[str, ReadBack | None]) -> Manifest:
    with open_zip(archive) as zf:
        manifest = read_manifest(archive, zf)
        infos = {i.filename: i for i in zf.infolist()}
        listed = {f.path for f in manifest.files}
        for name in infos:
            if name != MANIFEST_NAME and name not in listed and not name.endswith("/"):
                raise damaged(archive, name, _("no figura en el manifiesto"))
        with open(archive, "rb") as fp:
            for mf in manifest.files:
                if unsafe_member_reason(mf.path):
                    raise damaged(archive, mf.path, _("tiene una ruta no permitida"))
                info = infos.get(mf.path)
                if info is None:
                    raise damaged(archive, mf.path, _("falta en el archivo"))
                checked = read_back.get(mf.path)
                try:
                    if checked is not None:
                        if cancel is not None and cancel.is_set():
                            raise Cancelled()
                        size, crc, sha = _read_back_result(fp, info, checked)
                    else:
                        size, crc, sha = hash_member(fp, info, None, report, cancel, chunk_plan.get(mf.path), pool)
                except _ChangedSinceReadBack:
                    logger.info("member %s of %s changed after it was read back", mf.path, archive)
                    raise damaged(archive, mf.path, _("no coincide con su CRC")) from None
                except (zipfile.BadZipFile, zlib.error, isal_zlib.IsalError, EOFError, OSError) as exc:
                    logger.info("member %s of %s unreadable: %s", mf.path, archive, exc)
                    raise damaged(archive, mf.path, _("no se puede descomprimir")) from None
                if crc != info.CRC or size != info.file_size:
                    raise damaged(archive, mf.path, _("no coincide con su CRC"))
                if sha != mf.sha256 or size != mf.size:
                    raise damaged(archive, mf.path, _("no coincide con su suma SHA-256"))
    return manifest


class _ChangedSinceReadBack(Exception):
    """A member's compressed bytes in the finished file are not the ones inflated and checked."""


def _read_back_result(fp: io.BufferedReader, info: zipfile.ZipInfo, checked: ReadBack) -> tuple[int, int, str]:
    """The size, CRC and sha256 a member inflated to when it was read back while writing, once the finished
    file shows it is the same member with the same bytes: the central directory's offset and compressed
    size, a local header (re-read here) with the same name, CRC and sizes, and compressed bytes (re-read
    here too, which costs a CRC-32 instead of an inflate and a SHA-256) identical to the ones checked."""
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) != 30:
        raise EOFError("local header truncated")
    (signature, _version, _flags, method, _time, _date, crc, csize, size, name_len,
     extra_len) = struct.unpack("<IHHHHHIIIHH", header)
    name = fp.read(name_len)
    extra = fp.read(extra_len)
    if csize == ZIP64_LIMIT and size == ZIP64_LIMIT and extra_len == 20 and extra[:4] == struct.pack("<HH", 1, 16):
        size, csize = struct.unpack("<QQ", extra[4:20])
    if (signature != 0x04034B50 or method != info.compress_type or name != info.orig_filename.encode("utf-8")
            or (crc, csize, size) != (info.CRC, info.compress_size, info.file_size)):
        raise zipfile.BadZipFile("local header differs from the central directory")
    if (info.header_offset != checked.header_offset or fp.tell() != checked.data_offset
            or sum(checked.chunks) != info.compress_size):
        raise zipfile.BadZipFile("member is not where it was written and read back")
    if checked.error:
        raise zlib.error(checked.error)
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    remaining, compressed_crc = info.compress_size, 0
    while remaining:
        n = fp.readinto(view[:min(CHUNK_SIZE, remaining)])
        if not n:
            raise EOFError("member truncated")
        compressed_crc = isal_zlib.crc32(view[:n], compressed_crc)
        remaining -= n
    if compressed_crc != checked.compressed_crc:
        raise _ChangedSinceReadBack()
    return checked.size, checked.crc, checked.sha256


def _is_empty_dir(folder: Path) -> bool:
    return not any(folder.iterdir())


def restore_archive(archive: Path, to_dir: Path, *, force: bool = False, report: Report | None = None,
                    cancel=None, members: Iterable[str] | None = None) -> list[Path]:
    """Extract into ``to_dir``, verifying each file's sha256. Nothing is ever written outside ``to_dir``.

    Each file is written under a temporary name, checked, fsynced and only then renamed, so a file in
    ``to_dir`` is always either absent, the old one, or the whole restored one. An archive with a name that
    could leave ``to_dir`` or that Windows cannot hold, two members that would be one file, or a link in
    ``to_dir`` leading out is refused before anything (``to_dir`` included) is created.
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
        manifest = read_manifest(archive, zf)
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
        to_dir.mkdir(parents=True, exist_ok=True)
        with open(archive, "rb") as fp:
            for mf, target in targets:
                info = infos.get(mf.path)
                if info is None:
                    raise damaged(archive, mf.path, _("falta en el archivo"))
                if not stays_inside(target, to_dir):  # a link made while we were writing
                    raise UserError(_("El respaldo {archive} contiene una ruta no permitida ({name}); "
                                      "no se restauró.").format(archive=archive.name, name=mf.path))
                target.parent.mkdir(parents=True, exist_ok=True)
                if target.is_symlink() or (target.exists() and not target.is_file()):
                    raise UserError(_("{path} existe y no es un archivo; no se restauró.").format(path=target))
                tmp = target.with_name(f".{target.name}.restaurando")
                try:
                    with open(tmp, "wb") as out:
                        size, crc, sha = hash_member(fp, info, out.write, report, cancel)
                        if sha != mf.sha256 or crc != info.CRC or size != mf.size:
                            raise damaged(archive, mf.path, _("no coincide con su suma SHA-256"))
                        out.flush()
                        os.fsync(out.fileno())
                    os.replace(tmp, target)
                except (zipfile.BadZipFile, zlib.error, isal_zlib.IsalError, EOFError) as exc:
                    logger.info("member %s of %s unreadable: %s", mf.path, archive, exc)
                    raise damaged(archive, mf.path, _("no se puede descomprimir")) from None
                finally:
                    if tmp.exists():
                        tmp.unlink()
                _set_mtime(target, mf.mtime)
                fsync_dir(target.parent)
                restored.append(target)
    return restored


def _set_mtime(target: Path, iso: str) -> None:
    from datetime import datetime

    try:
        ts = datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return
    os.utime(target, (ts, ts))


def member_archive_path(*parts: str) -> str:
    return posixpath.join(*parts)
