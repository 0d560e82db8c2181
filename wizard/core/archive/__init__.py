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

ZIP64_LIMIT = 0xFFFFFFFF
UTF8_FLAG = 0x0800
DEFLATED = 8
MADE_BY_UNIX = 3 << 8
FILE_ATTRIBUTES = (0o100644 << 16) | 0x20  # regular file rw-r--r--, DOS archive bit


def _dos_datetime(mtime: float) -> tuple[int, int]:
    t = time.localtime(mtime)
    year = min(max(t.tm_year, 1980), 2107)
    dos_time = (t.tm_hour << 11) | (t.tm_min << 5) | (t.tm_sec // 2)
    dos_date = ((year - 1980) << 9) | (t.tm_mon << 5) | t.tm_mday
    return dos_time, dos_date


@dataclass
class _EarlyChunk:
    raw_size: int
    raw_crc: int | None  # None for the head, whose data is not known yet
    size: int  # compressed, in the file


@dataclass
class ReadBack:
    """What the writer found re-reading one member from the file right after writing it: where its
    bytes lie, and the size, CRC-32 and SHA-256 of what its chunks inflated to (or why one did not)."""

    header_offset: int
    data_offset: int
    chunks: list[int]
    size: int = 0
    crc: int = 0
    sha256: str = ""
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


class _HashLane:
    """SHA-256 updates on a thread of their own, applied in the order given.

    A member's hash is a sequential chain that would otherwise sit on the thread that reads, writes and
    hands out chunks; there it made that thread the slowest link once verification moved alongside
    compression. Small pieces are hashed in place (once the ones before them are done).
    """

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

    def __init__(self, entry: Entry, data_offset: int, lane: _HashLane):
        self.entry = entry
        self.data_offset = data_offset
        self.next_offset = data_offset  # where the next chunk to read back starts
        self.compressed_crc = 0
        self.sha = hashlib.sha256()
        self.lane = lane
        self.size = 0
        self.crc = 0
        self.error = ""

    def add(self, data: bytes) -> None:
        self.lane.update(self.sha, data)
        self.crc = isal_zlib.crc32(data, self.crc)
        self.size += len(data)

    def finish(self) -> None:
        e = self.entry
        self.lane.sync()
        e.read_back = ReadBack(header_offset=e.header_offset, data_offset=self.data_offset,
                               chunks=list(e.chunks), size=self.size, crc=self.crc,
                               sha256=self.sha.hexdigest(), error=self.error,
                               compressed_crc=self.compressed_crc)


class ZipWriter:
    """A ZIP writer for a seekable file: parallel deflate, Zip64 when needed, UTF-8 names.

    ``begin``/``write``/``end`` stream one member; ``discard`` throws the member being written away
    (truncating the file back), used when a source file changed while it was read.

    With ``read_back`` (the path of the file being written) every chunk is read again from the file
    through a second handle as soon as it is written and inflated on the same pool, so verification
    overlaps compression instead of following it; ``verify_archive(..., read_back=...)`` then checks
    those results against the finished file's central directory, local headers and manifest.
    """

    def __init__(self, fp: BinaryIO, workers: int | None = None, read_back: str | os.PathLike[str] | None = None):
        keep_freed_buffers()
        self.fp = fp
        self.entries: list[Entry] = []
        self.workers = workers or max(1, min(4, os.cpu_count() or 1))
        self._depth = 2 * self.workers + 2  # chunks in flight per queue: enough to keep every worker busy
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="deflate")
        self._current: Entry | None = None
        self._pending: deque[tuple[Future[bytes], bool]] = deque()
        self._sha = hashlib.sha256()
        self._sha_lane = _HashLane(self._depth)
        self._check_lane = _HashLane(self._depth) if read_back is not None else None
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
        entry = Entry(name=name, mtime=mtime, header_offset=self.fp.tell(), zip64=zip64)
        header = self._local_header(entry)
        self.fp.write(header)
        self._current = entry
        self._sha = hashlib.sha256()
        self._early_confirmed = 0
        if self._reader is not None:
            assert self._check_lane is not None
            self._check = _MemberCheck(entry, entry.header_offset + len(header), self._check_lane)
        if early_head:
            placeholder = stored_blocks(bytes(early_head))
            self.fp.write(placeholder)
            self._early = deque([_EarlyChunk(early_head, None, len(placeholder))])
            entry.chunks.append(len(placeholder))
            entry.compress_size += len(placeholder)
        return entry

    def add_early(self, data: bytes, compressed: bytes) -> None:
        """Append a chunk compressed (``deflate_chunk``) from data that may still change; ``write`` keeps
        it only if the final data has the same CRC there, and otherwise cuts it and every later one off."""
        entry = self._current
        assert entry is not None and self._early is not None and not self._pending
        self.fp.write(compressed)
        self._early.append(_EarlyChunk(len(data), isal_zlib.crc32(data), len(compressed)))
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
                self.fp.write(stored_blocks(piece))
                self.fp.seek(end)
            elif isal_zlib.crc32(piece) != early.raw_crc:
                break
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
        """Bytes from a member's local header to its data (the header's size never changes)."""
        return 30 + len(entry.name.encode("utf-8")) + (20 if entry.zip64 else 0)

    def _drain(self, block_above: int) -> None:
        entry = self._current
        assert entry is not None
        while self._pending and (len(self._pending) > block_above or self._pending[0][0].done()):
            future, final = self._pending.popleft()
            out = future.result()
            self.fp.write(out)
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
        self._checks.append((check, self._pool.submit(inflate_chunk, data, final), final))
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
        if not entry.zip64 and (entry.size > ZIP64_LIMIT or entry.compress_size > ZIP64_LIMIT):
            raise OSError("member grew past 4 GiB without a Zip64 header")  # size_hint was wrong
        end = self.fp.tell()
        self.fp.seek(entry.header_offset)
        self.fp.write(self._local_header(entry))
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

    # -- headers --------------------------------------------------------------------------------
    def _local_header(self, e: Entry) -> bytes:
        name = e.name.encode("utf-8")
        dos_time, dos_date = _dos_datetime(e.mtime)
        if e.zip64:
            extra = struct.pack("<HHQQ", 1, 16, e.size, e.compress_size)
            size32 = csize32 = ZIP64_LIMIT
            version = 45
        else:
            extra = b""
            size32, csize32 = e.size, e.compress_size
            version = 20
        return struct.pack(
            "<IHHHHHIIIHH", 0x04034B50, version, UTF8_FLAG, DEFLATED, dos_time, dos_date,
            e.crc, csize32, size32, len(name), len(extra),
        ) + name + extra

    def close(self) -> None:
        """Write the central directory. The caller flushes and fsyncs the file."""
        if self._closed:
            return
        assert self._current is None, "member not ended"
        self._settle_checks()
        self._pool.shutdown(wait=True)
        self._release()
        cd_offset = self.fp.tell()
        for e in self.entries:
            name = e.name.encode("utf-8")
            dos_time, dos_date = _dos_datetime(e.mtime)
            fields = []
            size32, csize32, offset32 = e.size, e.compress_size, e.header_offset
            if e.size >= ZIP64_LIMIT:
                fields.append(e.size)
                size32 = ZIP64_LIMIT
            if e.compress_size >= ZIP64_LIMIT:
                fields.append(e.compress_size)
                csize32 = ZIP64_LIMIT
            if e.header_offset >= ZIP64_LIMIT:
                fields.append(e.header_offset)
                offset32 = ZIP64_LIMIT
            extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""
            version = 45 if (fields or e.zip64) else 20
            # "made by" Unix: Info-ZIP unzip then honours the UTF-8 flag instead of applying CP437.
            self.fp.write(struct.pack(
                "<IHHHHHHIIIHHHHHII", 0x02014B50, MADE_BY_UNIX | version, version, UTF8_FLAG, DEFLATED,
                dos_time, dos_date, e.crc, csize32, size32, len(name), len(extra), 0, 0, 0,
                FILE_ATTRIBUTES, offset32,
            ) + name + extra)
        cd_end = self.fp.tell()
        cd_size = cd_end - cd_offset
        count = len(self.entries)
        if count >= 0xFFFF or cd_offset >= ZIP64_LIMIT or cd_size >= ZIP64_LIMIT:
            self.fp.write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count,
                                      cd_size, cd_offset))
            self.fp.write(struct.pack("<IIQI", 0x07064B50, 0, cd_end, 1))
            self.fp.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF,
                                      ZIP64_LIMIT, ZIP64_LIMIT, 0))
        else:
            self.fp.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, cd_size,
                                      cd_offset, 0))
        self._closed = True

    def abort(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._release()
        self._closed = True

    def _release(self) -> None:
        self._sha_lane.close()
        if self._check_lane is not None:
            self._check_lane.close()
        if self._reader is not None:
            self._reader.close()
            self._reader = None


class EarlyCompression:
    """Compress a file into the member being written while another program is still writing that file
    front to back, so that a core the other program leaves idle does useful work.

    Made for the SQLite online backup: it fills its destination page by page in order (the first page
    last of all, so that sits in the writer's head placeholder), and nothing else can start before it is
    done. Only whole chunks below the file's current size are taken, compressed on this one thread. None of
    this is trusted: ``ZipWriter.write`` later compares each chunk's CRC with the finished file and
    compresses again from the first one that differs; verification then checks the whole member as usual.
    A chunk that cannot be read (e.g. a byte range the other program has locked) just ends the early work.
    """

    def __init__(self, writer: ZipWriter, path: Path, head: int, end: int | None = None):
        self._writer = writer
        self._path = Path(path)
        self._head = head
        self._end = end  # no chunk reaching past this offset is taken
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="early-deflate", daemon=True)
        self.chunks = 0

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        """End the early work (the chunk being compressed is finished first); a failed write to the
        archive is raised here."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _run(self) -> None:
        try:
            fh = self._open()
            if fh is None:
                return
            with fh:
                pos = self._head
                while not self._stop.is_set():
                    if self._end is not None and pos + CHUNK_SIZE > self._end:
                        return
                    if os.fstat(fh.fileno()).st_size < pos + CHUNK_SIZE:
                        self._stop.wait(0.005)
                        continue
                    fh.seek(pos)
                    data = fh.read(CHUNK_SIZE)
                    if len(data) != CHUNK_SIZE:
                        return
                    compressed = deflate_chunk(data, False)
                    try:
                        self._writer.add_early(data, compressed)
                    except BaseException as exc:  # noqa: BLE001 - the archive could not be written: stop() raises it
                        self._error = exc
                        return
                    pos += CHUNK_SIZE
                    self.chunks += 1
        except OSError as exc:
            logger.info("early compression of %s stopped: %s", self._path, exc)
        except Exception:  # only a head start: the member is compressed from the finished file anyway
            logger.warning("early compression of %s failed", self._path, exc_info=True)

    def _open(self) -> BinaryIO | None:
        while not self._stop.is_set():
            try:
                return open(self._path, "rb", buffering=0)
            except FileNotFoundError:
                self._stop.wait(0.005)
        return None


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
