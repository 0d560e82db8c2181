"""Verification of a finished archive against its manifest, naming the first damaged member."""

from __future__ import annotations

import io
import logging
import struct
import zipfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from isal import isal_zlib

from wizard.core.archive import aes
from wizard.core.archive.deflate import CHUNK_SIZE
from wizard.core.archive.manifest import MANIFEST_NAME, Manifest, ManifestFile, read_manifest
from wizard.core.archive.reading import (
    Report,
    crc_matches,
    damaged,
    hash_member,
    inflate_pool,
    is_encrypted,
    open_zip,
    unreadable,
)
from wizard.core.archive.safe_paths import unsafe_member_reason
from wizard.core.archive.writer import ZIP64_LIMIT, ReadBack
from wizard.core.errors import Cancelled
from wizard.i18n import _

logger = logging.getLogger(__name__)


def verify_archive(archive: Path, report: Report | None = None, cancel=None,
                   chunk_plan: dict[str, list[int]] | None = None,
                   read_back: dict[str, ReadBack | None] | None = None,
                   sink_for: Callable[[ManifestFile], Callable[[bytes], None] | None] | None = None,
                   member_passed: Callable[[ManifestFile], None] | None = None,
                   passwords: Sequence[str] | None = None) -> Manifest:
    """Check every member's CRC and sha256 against the manifest; raise ArchiveDamaged naming the first bad one.

    Encrypted members (WinZip AES) are decrypted with ``passwords`` (by default every one this computer
    knows, aes.Unlocker) and their HMAC checked; none given or known is PasswordMissing, none that opens
    them WrongPassword.

    ``sink_for(member)`` may return a callable that receives that member's bytes as they are inflated (a
    restore drill writes a database into its sandbox this way, while it is checked); ``member_passed(member)`` is
    called once a member passed, before the next one is read.

    ``chunk_plan`` (member name -> compressed chunk sizes, from the ZipWriter that just wrote the archive)
    lets the members be inflated on every core; without it the manifest's ``chunks`` do, and a member
    without either (an archive from elsewhere, or from before manifests had them) is inflated as one stream.

    ``read_back`` (member name -> what a ``read_back`` ZipWriter found inflating that member's bytes again
    from this file while writing it) spares inflating those members a second time: their place in the
    file is checked against the central directory and the local header instead, their compressed bytes
    against the ones read back, and the size and CRC-32 they inflated to against both and the manifest.
    """
    archive = Path(archive)
    pool = inflate_pool()
    try:
        return _verify(archive, report, cancel, chunk_plan or {}, pool, read_back or {}, sink_for,
                       member_passed, aes.Unlocker(archive, passwords))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _verify(archive: Path, report: Report | None, cancel, chunk_plan: dict[str, list[int]],
            pool: ThreadPoolExecutor | None, read_back: dict[str, ReadBack | None],
            sink_for: Callable[[ManifestFile], Callable[[bytes], None] | None] | None = None,
            member_passed: Callable[[ManifestFile], None] | None = None,
            unlocker: aes.Unlocker | None = None) -> Manifest:
    with open_zip(archive) as zf:
        manifest = read_manifest(archive, zf, unlocker)
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
                        size, crc, sha = _read_back_result(fp, info, checked, unlocker)
                    else:
                        sink = sink_for(mf) if sink_for is not None else None
                        size, crc, sha = hash_member(fp, info, sink, report, cancel,
                                                     chunk_plan.get(mf.path) or mf.chunks, pool, unlocker)
                except _ChangedSinceReadBack:
                    logger.info("member %s of %s changed after it was read back", mf.path, archive)
                    raise damaged(archive, mf.path, _("no coincide con su CRC")) from None
                except (zipfile.BadZipFile, zlib.error, isal_zlib.IsalError, EOFError, OSError) as exc:
                    logger.info("member %s of %s unreadable: %s", mf.path, archive, exc)
                    raise unreadable(archive, mf.path, _("no se puede descomprimir"), exc) from None
                if not crc_matches(info, crc) or size != info.file_size:
                    raise damaged(archive, mf.path, _("no coincide con su CRC"))
                if (sha is not None and sha != mf.sha256) or size != mf.size:
                    raise damaged(archive, mf.path, _("no coincide con su suma SHA-256"))
                if member_passed is not None:
                    member_passed(mf)
    return manifest


class _ChangedSinceReadBack(Exception):
    """A member's compressed bytes in the finished file are not the ones inflated and checked."""


def _read_back_result(fp: io.BufferedReader, info: zipfile.ZipInfo, checked: ReadBack,
                      unlocker: aes.Unlocker | None = None) -> tuple[int, int, None]:
    """The size and CRC a member inflated to when it was read back while writing (no SHA-256: the CRC of
    what it holds matching that of the data written is the check, ReadBack), once the finished
    file shows it is the same member with the same bytes: the central directory's offset and compressed
    size, a local header (re-read here) with the same name, CRC and sizes, and compressed bytes (re-read
    here too, which costs a CRC-32 instead of an inflate and a SHA-256) identical to the ones checked. An
    encrypted member's salt and verifier are checked against the password and its HMAC over those bytes."""
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) != 30:
        raise EOFError("local header truncated")
    (signature, _version, _flags, method, _time, _date, crc, csize, size, name_len,
     extra_len) = struct.unpack("<IHHHHHIIIHH", header)
    name = fp.read(name_len)
    extra = fp.read(extra_len)
    if csize == ZIP64_LIMIT and size == ZIP64_LIMIT and extra_len >= 20 and extra[:4] == struct.pack("<HH", 1, 16):
        size, csize = struct.unpack("<QQ", extra[4:20])
    if (signature != 0x04034B50 or method != info.compress_type or name != info.orig_filename.encode("utf-8")
            or (crc, csize, size) != (info.CRC, info.compress_size, info.file_size)):
        raise zipfile.BadZipFile("local header differs from the central directory")
    decryption = None
    remaining = info.compress_size
    if is_encrypted(info):
        decryption = (unlocker or aes.Unlocker(Path(fp.name))).open(fp.read(aes.HEADER_SIZE))
        remaining -= aes.OVERHEAD
    if (info.header_offset != checked.header_offset or fp.tell() != checked.data_offset
            or sum(checked.chunks) != remaining):
        raise zipfile.BadZipFile("member is not where it was written and read back")
    if checked.error:
        raise zlib.error(checked.error)
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    compressed_crc = 0
    while remaining:
        n = fp.readinto(view[:min(CHUNK_SIZE, remaining)])
        if not n:
            raise EOFError("member truncated")
        compressed_crc = isal_zlib.crc32(view[:n], compressed_crc)
        if decryption is not None and decryption.mac is not None:
            decryption.mac.update(view[:n])
        remaining -= n
    if compressed_crc != checked.compressed_crc:
        raise _ChangedSinceReadBack()
    if decryption is not None:
        decryption.check(fp.read(aes.MAC_SIZE))
    return checked.size, checked.crc, None
