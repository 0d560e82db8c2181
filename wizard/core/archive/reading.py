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


def iter_member(fp: BinaryIO, info: zipfile.ZipInfo, chunks: list[int] | None = None,
                pool: ThreadPoolExecutor | None = None) -> Iterator[bytes]:
    """Decompressed chunks of one member, read through its local header with ISA-L inflate.

    With ``chunks`` (the compressed chunk sizes ZipWriter recorded) and a thread ``pool``, the chunks
    are inflated in parallel, each one checked to end exactly where the next begins.
    """
    _seek_data(fp, info)
    if chunks and pool is not None and info.compress_type == zipfile.ZIP_DEFLATED:
        yield from _iter_chunks_parallel(fp, info, chunks, pool)
        return
    remaining = info.compress_size
    if info.compress_type == zipfile.ZIP_STORED:
        while remaining:
            data = fp.read(min(CHUNK_SIZE, remaining))
            if not data:
                raise EOFError("member truncated")
            remaining -= len(data)
            yield data
        return
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise zipfile.BadZipFile(f"unsupported compression {info.compress_type}")
    inflater = isal_zlib.decompressobj(-15)
    while remaining:
        data = fp.read(min(CHUNK_SIZE, remaining))
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


def _iter_chunks_parallel(fp: BinaryIO, info: zipfile.ZipInfo, chunks: list[int],
                          pool: ThreadPoolExecutor) -> Iterator[bytes]:
    if sum(chunks) != info.compress_size:
        raise zipfile.BadZipFile("chunk sizes do not add up to the member's compressed size")
    pending: deque[Future[bytes]] = deque()
    depth = 2 * getattr(pool, "_max_workers", 2) + 2
    try:
        for index, size in enumerate(chunks):
            data = fp.read(size)
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
                 pool: ThreadPoolExecutor | None = None) -> tuple[int, int, str]:
    """Size, CRC-32 and SHA-256 of one member as inflated, each chunk also given to ``sink`` and counted
    in ``report``; raises Cancelled as soon as ``cancel`` is set."""
    sha = _Sha256Pipe()
    crc = 0
    size = 0
    try:
        for chunk in iter_member(fp, info, chunks, pool):
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
