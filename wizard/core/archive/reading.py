"""Reading members back: open an archive (a missing or broken one is a sentence for the user), inflate one
member with ISA-L (its chunks in parallel when their sizes are known) and hash it as it goes."""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import zipfile
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

from isal import isal_zlib

from wizard.core import oserrors
from wizard.core.archive import aes
from wizard.core.archive.deflate import CHUNK_SIZE, inflate_chunk
from wizard.core.errors import ArchiveDamaged, Cancelled, UserError
from wizard.i18n import _

logger = logging.getLogger(__name__)

Report = Callable[[int], None]  # called with the number of bytes just processed


def damaged(archive: Path, member: str | None, what: str) -> ArchiveDamaged:
    """The error for a damaged archive: a Spanish sentence naming the archive and the member, if any."""
    if member:
        text = _("El respaldo {archive} está dañado: {member} {what}. Usa otro respaldo.").format(
            archive=archive.name, member=member, what=what)
    else:
        text = _("El respaldo {archive} está dañado: {what}. Usa otro respaldo.").format(
            archive=archive.name, what=what)
    return ArchiveDamaged(text, member=member)


def unreadable(archive: Path, member: str | None, what: str, exc: BaseException) -> UserError:
    """Why ``archive`` could not be read: the fault of its disk or folder in plain words (a failing disk,
    no permission: wizard.core.oserrors) when it is one, else damage of the archive itself. zipfile turns
    an OSError into "not a zip file": the OSError is then the exception's context."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    if cause is not None:
        problem = oserrors.plain_os_error(cause, archive, oserrors.ARCHIVE)
        if problem is not None:
            return problem
    return damaged(archive, member, what)


def open_zip(archive: Path) -> zipfile.ZipFile:
    """The archive opened with zipfile; a missing one is a UserError, one that is no whole ZIP is damaged."""
    try:
        return zipfile.ZipFile(archive)
    except FileNotFoundError:
        raise UserError(_("No se encontró el respaldo {archive}.").format(archive=archive)) from None
    except (zipfile.BadZipFile, OSError, ValueError, struct.error, EOFError) as exc:
        logger.info("cannot open %s as zip: %s", archive, exc)
        raise unreadable(archive, None, _("no es un archivo ZIP completo"), exc) from None


def _seek_data(fp: BinaryIO, info: zipfile.ZipInfo) -> None:
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile("bad local header")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    fp.seek(name_len + extra_len, os.SEEK_CUR)


def is_encrypted(info: zipfile.ZipInfo) -> bool:
    return info.compress_type == aes.AES_METHOD


def crc_matches(info: zipfile.ZipInfo, crc: int) -> bool:
    """Whether ``crc`` is the member's CRC-32 in the central directory; an AE-2 encrypted member has none
    there (0): its HMAC and the manifest's SHA-256 stand in for it."""
    if is_encrypted(info):
        found = aes.parse_extra(info.extra)
        if found is None or found[0] == aes.VENDOR_VERSION:
            return True
    return crc == info.CRC


def archive_of(fp: BinaryIO) -> Path:
    """The file behind ``fp`` (a plain file or an oserrors.PlainReader), for the sentences about it."""
    return Path(getattr(fp, "path", None) or getattr(fp, "name", "") or "respaldo")


class _Decrypting:
    """An encrypted member's compressed bytes, decrypted as they are read; the HMAC is checked once the last
    byte was read (AuthenticationFailed, a damaged member, when it differs)."""

    def __init__(self, fp: BinaryIO, info: zipfile.ZipInfo, unlocker: aes.Unlocker | None):
        found = aes.parse_extra(info.extra)
        if found is None:
            raise zipfile.BadZipFile("encrypted member without its AES extra field")
        self.method = found[2]
        self.size = info.compress_size - aes.OVERHEAD
        if self.size < 0:
            raise zipfile.BadZipFile("encrypted member shorter than its salt, verifier and MAC")
        header = fp.read(aes.HEADER_SIZE)
        if len(header) != aes.HEADER_SIZE:
            raise EOFError("member truncated")
        self._fp = fp
        self._left = self.size
        self._checked = False
        self._decryption = (unlocker or aes.Unlocker(archive_of(fp))).open(header)

    def read(self, size: int) -> bytes:
        data = self._fp.read(min(size, self._left))
        self._left -= len(data)
        out = self._decryption.decrypt(data)
        if not self._left and not self._checked:
            self._checked = True
            tag = self._fp.read(aes.MAC_SIZE)
            if len(tag) != aes.MAC_SIZE:
                raise EOFError("member truncated")
            self._decryption.check(tag)
        return out


def iter_member(fp: BinaryIO, info: zipfile.ZipInfo, chunks: list[int] | None = None,
                pool: ThreadPoolExecutor | None = None, unlocker: aes.Unlocker | None = None) -> Iterator[bytes]:
    """Decompressed chunks of one member, read through its local header with ISA-L inflate.

    With ``chunks`` (the compressed chunk sizes ZipWriter recorded) and a thread ``pool``, the chunks
    are inflated in parallel, each one checked to end exactly where the next begins. An encrypted member
    (WinZip AES) is decrypted with the passwords of ``unlocker`` (by default every one this computer knows).
    """
    _seek_data(fp, info)
    method, remaining, read = info.compress_type, info.compress_size, fp.read
    if method == aes.AES_METHOD:
        source = _Decrypting(fp, info, unlocker)
        method, remaining, read = source.method, source.size, source.read
        if not remaining:
            read(0)  # the MAC of an empty member
    if pool is not None and method == zipfile.ZIP_DEFLATED and usable_chunks(chunks, remaining):
        yield from _iter_chunks_parallel(read, remaining, chunks, pool)
        return
    if method == zipfile.ZIP_STORED:
        while remaining:
            data = read(min(CHUNK_SIZE, remaining))
            if not data:
                raise EOFError("member truncated")
            remaining -= len(data)
            yield data
        return
    if method != zipfile.ZIP_DEFLATED:
        raise zipfile.BadZipFile(f"unsupported compression {method}")
    inflater = isal_zlib.decompressobj(-15)
    while remaining:
        data = read(min(CHUNK_SIZE, remaining))
        if not data:
            raise EOFError("member truncated")
        remaining -= len(data)
        while data:
            out = inflater.decompress(data, CHUNK_SIZE)
            data = inflater.unconsumed_tail
            if out:
                yield out
    while not inflater.eof:
        out = inflater.decompress(b"", CHUNK_SIZE)
        if not out:
            break
        yield out
    if not inflater.eof:
        raise EOFError("deflate stream incomplete")


# A chunk of CHUNK_SIZE bytes deflates to at most a little more (stored blocks: 5 bytes per 64 KiB); a list
# with a larger one is not ours, and reading it whole would take memory for nothing.
_LARGEST_CHUNK = CHUNK_SIZE + (64 << 10)


def inflate_pool() -> ThreadPoolExecutor:
    """Threads for inflating a member's chunks in parallel (started only when used); shut it down after."""
    return ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="inflate")


def usable_chunks(chunks: list[int] | None, compress_size: int) -> bool:
    """Whether ``chunks`` (compressed chunk sizes, from the writer or the manifest) can be trusted to cut a
    member's ``compress_size`` bytes for inflating in parallel; if not, the member is inflated as one stream.
    A list that passes but does not fall on the chunks' real ends fails the inflate, as damage would."""
    return bool(chunks) and sum(chunks) == compress_size and all(0 < n <= _LARGEST_CHUNK for n in chunks)


def _iter_chunks_parallel(read: Callable[[int], bytes], compress_size: int, chunks: list[int],
                          pool: ThreadPoolExecutor) -> Iterator[bytes]:
    if sum(chunks) != compress_size:
        raise zipfile.BadZipFile("chunk sizes do not add up to the member's compressed size")
    pending: deque[Future[bytes]] = deque()
    depth = 2 * getattr(pool, "_max_workers", 2) + 2
    try:
        for index, size in enumerate(chunks):
            data = read(size)
            if len(data) != size:
                raise EOFError("member truncated")
            pending.append(pool.submit(inflate_chunk, data, index == len(chunks) - 1))
            while len(pending) > depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for fut in pending:
            fut.cancel()


class _Sha256Pipe:
    """SHA-256 on a second thread, fed in order, so inflating and hashing use two cores."""

    def __init__(self, depth: int = 4):
        self._sha = hashlib.sha256()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sha256")
        self._pending: deque[Future[None]] = deque()
        self._depth = depth

    def update(self, chunk: bytes) -> None:
        self._pending.append(self._pool.submit(self._sha.update, chunk))
        while len(self._pending) > self._depth:
            self._pending.popleft().result()

    def hexdigest(self) -> str:
        try:
            while self._pending:
                self._pending.popleft().result()
            return self._sha.hexdigest()
        finally:
            self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def hash_member(fp: BinaryIO, info: zipfile.ZipInfo, sink: Callable[[bytes], None] | None,
                 report: Report | None, cancel, chunks: list[int] | None = None,
                 pool: ThreadPoolExecutor | None = None, unlocker: aes.Unlocker | None = None) -> tuple[int, int, str]:
    """Size, CRC-32 and SHA-256 of one member as inflated, each chunk also given to ``sink`` and counted
    in ``report``; raises Cancelled as soon as ``cancel`` is set."""
    sha = _Sha256Pipe()
    crc = 0
    size = 0
    try:
        for chunk in iter_member(fp, info, chunks, pool, unlocker):
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            sha.update(chunk)
            crc = isal_zlib.crc32(chunk, crc)
            size += len(chunk)
            if sink is not None:
                sink(chunk)
            if report is not None:
                report(len(chunk))
    finally:
        digest = sha.hexdigest()
    return size, crc, digest
