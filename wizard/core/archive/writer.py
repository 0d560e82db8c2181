"""The ZIP writer: members deflated in chunks on every core, Zip64 when needed, UTF-8 names, and (with
``read_back``) each chunk read back from the file and inflated again as soon as it is written. Why, and
how verification overlaps compression: docs/design.md, "Archive format and verification"."""

from __future__ import annotations

import hashlib
import logging
import os
import time
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import BinaryIO

from isal import isal_zlib

from wizard.core.archive import aes
from wizard.core.archive.allocator import keep_freed_buffers
from wizard.core.archive.deflate import CHUNK_SIZE, deflate_chunk, inflate_chunk, stored_blocks
from wizard.core.archive.headers import DEFLATED, ZIP64_LIMIT, local_header, write_central_directory

logger = logging.getLogger(__name__)


def _decrypt_and_inflate(decryption: aes.MemberDecryption, offset: int, data: bytes, final: bool) -> bytes:
    return inflate_chunk(decryption.decrypt_at(offset, data), final)


@dataclass
class _EarlyChunk:
    raw_size: int
    raw_crc: int | None  # None for the head, whose data is not known yet
    size: int  # compressed, in the file
    raw_adler: int = 0  # Adler-32 too: kept only if both match the final data (64 bits, not 32)


@dataclass
class ReadBack:
    """What the writer found re-reading one member from the file right after writing it: where its
    bytes lie, and the size and CRC-32 of what its chunks inflated to (or why one did not). No SHA-256: the
    manifest's is that of the data given to the writer, and the CRC-32 of what the archive holds matching
    that data's is the check (a second SHA-256 cost a ninth of a backup's CPU: docs/design.md)."""

    header_offset: int
    data_offset: int
    chunks: list[int]
    size: int = 0
    crc: int = 0
    error: str = ""
    compressed_crc: int = 0  # CRC-32 of the member's compressed bytes as read back


@dataclass
class Entry:
    """One member being written or written: what the central directory and the manifest need."""

    name: str
    mtime: float
    header_offset: int
    zip64: bool
    size: int = 0
    compress_size: int = 0
    crc: int = 0
    sha256: str = ""
    chunks: list[int] = field(default_factory=list)  # compressed size of each deflate chunk, in order
    read_back: ReadBack | None = None  # set once every chunk was re-read from the file (read_back writers)
    encrypted: bool = False  # WinZip AES-256 (AE-2): salt and verifier before the data, MAC after (aes.py)
    dos: tuple[int, int] | None = None  # (time, date) as DOS writes them, when copied from another archive

    @property
    def stored_size(self) -> int:
        """The member's size in the file: the compressed data, plus salt, verifier and MAC if encrypted."""
        return self.compress_size + (aes.OVERHEAD if self.encrypted else 0)


class _HashLane:
    """SHA-256 updates on a thread of their own, applied in the order given, so that the thread writing the
    chunks does not hash them too (why: docs/design.md, "Archive format and verification"). Small pieces
    are hashed in place, once the ones before them are done."""

    INLINE_BELOW = 256 << 10

    def __init__(self, depth: int):
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="sha256")
        self._pending: deque[Future[None]] = deque()
        self._depth = depth

    def update(self, sha, data: bytes) -> None:
        if len(data) < self.INLINE_BELOW:
            self.sync()
            sha.update(data)
            return
        self._pending.append(self._pool.submit(sha.update, data))
        while len(self._pending) > self._depth:
            self._pending.popleft().result()

    def sync(self) -> None:
        while self._pending:
            self._pending.popleft().result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._pending.clear()


class _MemberCheck:
    """The re-reading of one member in progress: chunks come back from the pool in file order."""

    def __init__(self, entry: Entry, data_offset: int, decryption: aes.MemberDecryption | None = None):
        self.entry = entry
        self.decryption = decryption
        self.data_offset = data_offset
        self.next_offset = data_offset  # where the next chunk to read back starts
        self.compressed_crc = 0
        self.size = 0
        self.crc = 0
        self.error = ""

    def add(self, data: bytes) -> None:
        self.crc = isal_zlib.crc32(data, self.crc)
        self.size += len(data)

    def finish(self) -> None:
        e = self.entry
        e.read_back = ReadBack(header_offset=e.header_offset, data_offset=self.data_offset,
                               chunks=list(e.chunks), size=self.size, crc=self.crc, error=self.error,
                               compressed_crc=self.compressed_crc)


class ZipWriter:
    """A ZIP writer for a seekable file: parallel deflate, Zip64 when needed, UTF-8 names.

    ``begin``/``write``/``end`` stream one member; ``discard`` throws the member being written away
    (truncating the file back), used when a source file changed while it was read.

    With ``read_back`` (the path of the file being written) every chunk is read again from the file
    through a second handle as soon as it is written and inflated on the same pool; each finished member's
    ``read_back`` then goes to ``verify_archive(..., read_back=...)``.
    """

    def __init__(self, fp: BinaryIO, workers: int | None = None, read_back: str | os.PathLike[str] | None = None,
                 password: str | None = None):
        keep_freed_buffers()
        self.fp = fp
        self._password = password  # every member encrypted with it (WinZip AES-256), when given
        self._encryption: aes.MemberEncryption | None = None
        self._mac_lane = _HashLane(2 * (workers or 2) + 2) if password is not None else None
        self.entries: list[Entry] = []
        self.workers = workers or max(1, min(4, os.cpu_count() or 1))
        self._depth = 2 * self.workers + 2  # chunks in flight per queue: enough to keep every worker busy
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="deflate")
        self._current: Entry | None = None
        self._pending: deque[tuple[Future[bytes], bool]] = deque()
        self._sha = hashlib.sha256()
        self._sha_lane = _HashLane(self._depth)
        self._closed = False
        self._reader: BinaryIO | None = (
            open(read_back, "rb", buffering=0) if read_back is not None else None  # noqa: SIM115 - closed in close()/abort()
        )
        self._check: _MemberCheck | None = None
        self._checks: deque[tuple[_MemberCheck, Future[bytes], bool]] = deque()
        self.checked_bytes = 0  # bytes of kept members inflated again from the file so far
        self._early: deque[_EarlyChunk] | None = None  # written before their data was final, not yet confirmed
        self._early_confirmed = 0  # how many of the member's chunks are confirmed (or were never early)

    # -- one member -------------------------------------------------------------------------------
    def begin(self, name: str, mtime: float, size_hint: int = 0, *, early_head: int = 0) -> Entry:
        """Start a member. With ``early_head`` its data may first be compressed from a file that is still
        being written (``add_early``, see EarlyCompression): the first ``early_head`` bytes, which such a
        writer changes last, get a placeholder of stored blocks of known size, filled in by ``write``."""
        assert self._current is None, "previous member not ended"
        zip64 = size_hint * 1.05 >= ZIP64_LIMIT
        entry = Entry(name=name, mtime=mtime, header_offset=self.fp.tell(), zip64=zip64,
                      encrypted=self._password is not None)
        self.fp.write(local_header(entry))
        self._encryption = None
        if self._password is not None:
            self._encryption = aes.MemberEncryption(self._password)
            self.fp.write(self._encryption.header)
        self._current = entry
        self._sha = hashlib.sha256()
        self._early_confirmed = 0
        if self._reader is not None:
            self._check = _MemberCheck(entry, entry.header_offset + self._data_start(entry),
                                       self._encryption.reader() if self._encryption is not None else None)
        if early_head:
            placeholder = stored_blocks(bytes(early_head))
            self._early = deque([_EarlyChunk(early_head, None, len(placeholder))])
            self._put(placeholder, 0)
            entry.chunks.append(len(placeholder))
            entry.compress_size += len(placeholder)
        return entry

    def add_early(self, data: bytes, compressed: bytes) -> None:
        """Append a chunk compressed (``deflate_chunk``) from data that may still change; ``write`` keeps
        it only if the final data has the same CRC there, and otherwise cuts it and every later one off."""
        entry = self._current
        assert entry is not None and self._early is not None and not self._pending
        self._put(compressed, entry.compress_size)
        self._early.append(_EarlyChunk(len(data), isal_zlib.crc32(data), len(compressed), isal_zlib.adler32(data)))
        entry.chunks.append(len(compressed))
        entry.compress_size += len(compressed)

    @property
    def next_piece(self) -> int:
        """How much data the next ``write`` should bring: the size of the next early chunk to confirm, or
        CHUNK_SIZE. (Other sizes work too; an early chunk they do not line up with is compressed again.)"""
        return self._early[0].raw_size if self._early else CHUNK_SIZE

    def write(self, data: bytes) -> None:
        entry = self._current
        assert entry is not None
        if self._early:
            data = self._confirm_early(data)
        for start in range(0, len(data), CHUNK_SIZE):
            chunk = data[start:start + CHUNK_SIZE] if len(data) > CHUNK_SIZE else data
            self._account(chunk)
            self._pending.append((self._pool.submit(deflate_chunk, chunk, False), False))
            self._drain(block_above=self._depth)

    def _account(self, chunk: bytes) -> None:
        entry = self._current
        assert entry is not None
        self._sha_lane.update(self._sha, chunk)
        entry.crc = isal_zlib.crc32(chunk, entry.crc)
        entry.size += len(chunk)

    def _confirm_early(self, data: bytes) -> bytes:
        """Match the final data against the early chunks, in order: the head fills its placeholder, a chunk
        with the same size and CRC is kept. Returns the data no early chunk covers any more."""
        entry = self._current
        assert entry is not None and self._early is not None
        while self._early and data:
            early = self._early[0]
            if len(data) < early.raw_size:
                break
            piece = data if len(data) == early.raw_size else data[:early.raw_size]
            if early.raw_crc is None:  # the head: its final bytes go into the placeholder
                end = self.fp.tell()
                self.fp.seek(entry.header_offset + self._data_start(entry))
                self._put(stored_blocks(piece), 0, mac=True)
                self.fp.seek(end)
            elif isal_zlib.crc32(piece) != early.raw_crc or isal_zlib.adler32(piece) != early.raw_adler:
                break
            elif self._encryption is not None:  # authenticated now that the bytes before it are final
                self._mac(self._reread(entry.header_offset + self._data_start(entry) + sum(
                    entry.chunks[:self._early_confirmed]), early.size))
            self._account(piece)
            self._early.popleft()
            self._early_confirmed += 1
            if self._check is not None:
                self._read_back(early.size, False)
            data = data[early.raw_size:] if len(data) > early.raw_size else b""
        if self._early and data:
            self._drop_early()
        return data

    def _drop_early(self) -> None:
        """Cut off every early chunk not confirmed: the data from there on is compressed again."""
        entry = self._current
        assert entry is not None
        keep = entry.chunks[:self._early_confirmed]
        logger.info("%s: %d early chunk(s) did not match the final data; compressing them again",
                    entry.name, len(entry.chunks) - len(keep))
        self.fp.seek(entry.header_offset + self._data_start(entry) + sum(keep))
        self.fp.truncate()
        entry.chunks = keep
        entry.compress_size = sum(keep)
        self._early = None

    @staticmethod
    def _data_start(entry: Entry) -> int:
        """Bytes from a member's local header to its (compressed) data: the header's size never changes; an
        encrypted member's AES extra field, salt and verifier come before its data."""
        start = 30 + len(entry.name.encode("utf-8")) + (20 if entry.zip64 else 0)
        return start + (len(aes.extra_field(DEFLATED)) + aes.HEADER_SIZE if entry.encrypted else 0)

    def _put(self, data: bytes, offset: int, mac: bool | None = None) -> None:
        """Write compressed ``data``, the member's bytes at ``offset``: encrypted, and fed to the MAC in
        order, when the member is. Bytes written while early chunks wait for confirmation are authenticated
        only once they are confirmed (``mac`` None: unless some wait)."""
        if self._encryption is None:
            self.fp.write(data)
            return
        data = self._encryption.encrypt_at(offset, data)
        self.fp.write(data)
        if mac or (mac is None and not self._early):
            self._mac(data)

    def _mac(self, data: bytes) -> None:
        assert self._encryption is not None and self._mac_lane is not None
        self._mac_lane.update(self._encryption.mac, data)

    def _reread(self, offset: int, size: int) -> bytes:
        """``size`` bytes of the file at ``offset``, as written (through the read-back handle)."""
        self.fp.flush()
        if self._reader is None:
            self._reader = open(self.fp.name, "rb", buffering=0)  # noqa: SIM115 - closed in _release()
        self._reader.seek(offset)
        data = b""
        while len(data) < size:
            more = self._reader.read(size - len(data))
            if not more:
                raise OSError(f"{self.fp.name}: shorter than written")
            data += more
        return data

    def _drain(self, block_above: int) -> None:
        entry = self._current
        assert entry is not None
        while self._pending and (len(self._pending) > block_above or self._pending[0][0].done()):
            future, final = self._pending.popleft()
            out = future.result()
            self._put(out, entry.compress_size)
            entry.compress_size += len(out)
            entry.chunks.append(len(out))
            self._early_confirmed += 1
            if self._check is not None:
                self._read_back(len(out), final)

    def _read_back(self, size: int, final: bool) -> None:
        """Read the member's next chunk back from the file and queue its inflate behind the others."""
        check = self._check
        assert check is not None and self._reader is not None
        self.fp.flush()
        self._reader.seek(check.next_offset)
        check.next_offset += size
        data = self._reader.read(size)
        while len(data) < size:
            more = self._reader.read(size - len(data))
            if not more:
                break
            data += more
        if len(data) != size:
            check.error = check.error or "chunk shorter in the file than written"
        check.compressed_crc = isal_zlib.crc32(data, check.compressed_crc)
        if check.decryption is not None:  # decrypted on the pool too, like the inflate
            future = self._pool.submit(_decrypt_and_inflate, check.decryption,
                                       check.next_offset - size - check.data_offset, data, final)
        else:
            future = self._pool.submit(inflate_chunk, data, final)
        self._checks.append((check, future, final))
        if final:
            self._check = None
        self._consume_checks(block_above=self._depth)

    def _consume_checks(self, block_above: int) -> None:
        while self._checks and (len(self._checks) > block_above or self._checks[0][1].done()):
            check, future, final = self._checks.popleft()
            try:
                out = future.result()
            except (isal_zlib.error, zlib.error, ValueError) as exc:
                check.error = check.error or str(exc)
            else:
                if not check.error:
                    check.add(out)
                    self.checked_bytes += len(out)
            if final:
                check.finish()

    def _settle_checks(self) -> None:
        """Wait for every chunk being re-read; a member cut off meanwhile is simply forgotten."""
        while self._checks:
            self._consume_checks(block_above=0)

    def end(self) -> Entry:
        entry = self._current
        assert entry is not None
        if self._early:
            self._drop_early()  # the final data was shorter than what was compressed early
        self._early = None
        self._pending.append((self._pool.submit(deflate_chunk, b"", True), True))
        self._drain(block_above=0)
        self._sha_lane.sync()
        entry.sha256 = self._sha.hexdigest()
        if self._encryption is not None:
            assert self._mac_lane is not None
            self._mac_lane.sync()
            self.fp.write(self._encryption.tag())
            self._encryption = None
        if not entry.zip64 and (entry.size > ZIP64_LIMIT or entry.stored_size > ZIP64_LIMIT):
            raise OSError("member grew past 4 GiB without a Zip64 header")  # size_hint was wrong
        end = self.fp.tell()
        self.fp.seek(entry.header_offset)
        self.fp.write(local_header(entry))
        self.fp.seek(end)
        self.entries.append(entry)
        self._current = None
        return entry

    def discard(self) -> None:
        """Forget the member being written and cut the file back to where it started."""
        entry = self._current
        assert entry is not None
        for fut, _final in self._pending:
            fut.cancel()
        for fut, _final in self._pending:
            if not fut.cancelled():
                fut.result()
        self._pending.clear()
        self._early = None
        self._sha_lane.sync()
        if self._mac_lane is not None:
            self._mac_lane.sync()
        self._encryption = None
        check, self._check = self._check, None
        self._settle_checks()
        if entry.read_back is not None:
            self.checked_bytes -= entry.read_back.size
        elif check is not None:
            self.checked_bytes -= check.size
        self.fp.seek(entry.header_offset)
        self.fp.truncate()
        self._current = None

    @property
    def in_member(self) -> bool:
        return self._current is not None

    def drop_last(self) -> Entry:
        """Take back the last finished member (cutting the file back), e.g. to write it again."""
        self._settle_checks()
        entry = self.entries.pop()
        if entry.read_back is not None:
            self.checked_bytes -= entry.read_back.size
        self.fp.seek(entry.header_offset)
        self.fp.truncate()
        return entry

    def add_bytes(self, name: str, data: bytes, mtime: float | None = None) -> Entry:
        self.begin(name, time.time() if mtime is None else mtime, len(data))
        self.write(data)
        return self.end()

    def close(self) -> None:
        """Write the central directory. The caller flushes and fsyncs the file."""
        if self._closed:
            return
        assert self._current is None, "member not ended"
        self._settle_checks()
        self._pool.shutdown(wait=True)
        self._release()
        write_central_directory(self.fp, self.entries)
        self._closed = True

    def abort(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._release()
        self._closed = True

    def _release(self) -> None:
        self._sha_lane.close()
        if self._mac_lane is not None:
            self._mac_lane.close()
        if self._reader is not None:
            self._reader.close()
            self._reader = None
