"""Early compression: chunks compressed while the file is still being written are kept only when the
finished file has the same CRC there, and a member with early chunks always verifies like any other."""

from __future__ import annotations

import errno
import hashlib
import subprocess
import threading
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.core.archive.helpers import (
    FIRST_MTIME,
    MEMBER,
    SEVEN_ZIP,
    UNZIP,
    finish_archive,
    mixed_bytes,
    needs_7z,
    needs_unzip,
)
from wizard.core.archive import CHUNK_SIZE, EarlyCompression, ZipWriter, verify_archive
from wizard.core.archive import early as early_module
from wizard.core.archive.deflate import deflate_chunk

EARLY_HEAD = 64 << 10


# -- early chunks: compressed while the data is still being written, confirmed by CRC afterwards ---------------
def pieces(data: bytes, writer: ZipWriter):
    """Feed ``data`` the way the backup reads a snapshot: in the sizes the writer asks for."""
    offset = 0
    while offset < len(data):
        n = writer.next_piece
        yield data[offset:offset + n]
        offset += n


def early_member(path: Path, final: bytes, early: bytes, early_chunks: int):
    """A member whose first ``early_chunks`` chunks after the head were compressed from ``early`` (what the
    file held while it was written), then written for real from ``final``."""
    with open(path, "xb") as fp:
        writer = ZipWriter(fp, read_back=path)
        entry = writer.begin(MEMBER, FIRST_MTIME, len(final), early_head=EARLY_HEAD)
        early_sizes = []
        for i in range(early_chunks):
            chunk = early[EARLY_HEAD + i * CHUNK_SIZE:EARLY_HEAD + (i + 1) * CHUNK_SIZE]
            compressed = deflate_chunk(chunk, False)
            writer.add_early(chunk, compressed)
            early_sizes.append(len(compressed))
        for piece in pieces(final, writer):
            writer.write(piece)
        writer.end()
        finish_archive(writer, [entry])
        read_back = {e.name: e.read_back for e in writer.entries}
    return entry, early_sizes, read_back


def assert_member_is(archive: Path, data: bytes, read_back) -> None:
    with zipfile.ZipFile(archive) as zf:
        assert zf.read(MEMBER) == data
    assert verify_archive(archive, read_back=read_back).files[0].sha256 == hashlib.sha256(data).hexdigest()
    assert verify_archive(archive).files[0].sha256 == hashlib.sha256(data).hexdigest()  # as one stream


def test_early_chunks_that_match_the_final_data_are_kept_and_the_head_is_filled_in(tmp_path):
    final = mixed_bytes(EARLY_HEAD + 5 * CHUNK_SIZE + 1234, seed=31)
    early = bytes(EARLY_HEAD) + final[EARLY_HEAD:]  # the head is written last: zeros while the rest lands
    archive = tmp_path / "a.zip"

    entry, early_sizes, read_back = early_member(archive, final, early, early_chunks=4)

    # the head as stored blocks (its final bytes), the four early chunks as they were, then the rest
    assert entry.chunks[0] == EARLY_HEAD + 10
    assert entry.chunks[1:5] == early_sizes
    assert_member_is(archive, final, read_back)


@needs_unzip
@needs_7z
def test_a_member_with_early_chunks_tests_clean_in_unzip_and_7z(tmp_path):
    final = mixed_bytes(EARLY_HEAD + 3 * CHUNK_SIZE + 99, seed=32)
    archive = tmp_path / "a.zip"
    early_member(archive, final, final, early_chunks=2)

    unzip = subprocess.run([UNZIP, "-t", str(archive)], check=False, capture_output=True)
    seven = subprocess.run([SEVEN_ZIP, "t", str(archive)], check=False, capture_output=True)
    assert unzip.returncode == 0 and b"No errors detected" in unzip.stdout
    assert seven.returncode == 0 and b"Everything is Ok" in seven.stdout


def test_an_early_chunk_that_changed_is_compressed_again_with_every_one_after_it(tmp_path):
    final = mixed_bytes(EARLY_HEAD + 6 * CHUNK_SIZE, seed=33)
    early = bytearray(final)
    early[EARLY_HEAD + 2 * CHUNK_SIZE + 500] ^= 0xFF  # the third early chunk saw a page before its last write
    archive = tmp_path / "a.zip"

    entry, early_sizes, read_back = early_member(archive, final, bytes(early), early_chunks=5)

    assert entry.chunks[1:3] == early_sizes[:2]
    assert_member_is(archive, final, read_back)


def test_early_chunks_past_the_end_of_the_final_data_are_cut_off(tmp_path):
    early = mixed_bytes(EARLY_HEAD + 6 * CHUNK_SIZE, seed=34)
    final = early[:EARLY_HEAD + 3 * CHUNK_SIZE + 10]
    archive = tmp_path / "a.zip"

    _entry, _sizes, read_back = early_member(archive, final, early, early_chunks=6)

    assert_member_is(archive, final, read_back)


def test_final_data_that_does_not_line_up_with_the_early_chunks_is_compressed_from_the_start(tmp_path):
    final = mixed_bytes(EARLY_HEAD + 4 * CHUNK_SIZE, seed=35)
    archive = tmp_path / "a.zip"
    with open(archive, "xb") as fp:
        writer = ZipWriter(fp, read_back=archive)
        entry = writer.begin(MEMBER, FIRST_MTIME, len(final), early_head=EARLY_HEAD)
        chunk = final[EARLY_HEAD:EARLY_HEAD + CHUNK_SIZE]
        writer.add_early(chunk, deflate_chunk(chunk, False))
        writer.write(final[:1000])  # not the head's size: nothing early can be used
        writer.write(final[1000:])
        writer.end()
        finish_archive(writer, [entry])
        read_back = {e.name: e.read_back for e in writer.entries}

    assert_member_is(archive, final, read_back)


def test_early_compression_follows_a_file_written_front_to_back_and_its_head_last(tmp_path):
    """The way an SQLite online backup fills its destination, done slowly by a thread: chunks are
    compressed as they land; one is rewritten after it was taken, and the head is written at the end."""
    final = mixed_bytes(EARLY_HEAD + 8 * CHUNK_SIZE, seed=36)
    target = tmp_path / "copia.db"
    archive = tmp_path / "a.zip"
    taken = threading.Event()

    def copy() -> None:
        with open(target, "r+b") as out:
            out.write(bytes(EARLY_HEAD))
            for i in range(8):
                piece = bytearray(final[EARLY_HEAD + i * CHUNK_SIZE:EARLY_HEAD + (i + 1) * CHUNK_SIZE])
                if i == 5:
                    piece[100] ^= 1  # written wrong first...
                out.write(piece)
                out.flush()
                time.sleep(0.05)
            deadline = time.monotonic() + 10
            while early.chunks < 8 and time.monotonic() < deadline:
                time.sleep(0.01)
            out.seek(EARLY_HEAD + 5 * CHUNK_SIZE + 100)
            out.write(final[EARLY_HEAD + 5 * CHUNK_SIZE + 100:EARLY_HEAD + 5 * CHUNK_SIZE + 101])  # ...then fixed
            out.seek(0)
            out.write(final[:EARLY_HEAD])
        taken.set()

    target.write_bytes(b"")
    with open(archive, "xb") as fp:
        writer = ZipWriter(fp, read_back=archive)
        entry = writer.begin(MEMBER, FIRST_MTIME, len(final), early_head=EARLY_HEAD)
        copier = threading.Thread(target=copy)
        with EarlyCompression(writer, target, EARLY_HEAD) as early:
            copier.start()
            copier.join()
        assert taken.is_set() and early.chunks == 8
        with open(target, "rb") as fh:
            while piece := fh.read(writer.next_piece):
                writer.write(piece)
        writer.end()
        finish_archive(writer, [entry])
        read_back = {e.name: e.read_back for e in writer.entries}

    assert len(entry.chunks) == 1 + 5 + 3 + 1  # head, five early chunks kept, three compressed again, end
    assert_member_is(archive, final, read_back)


def test_an_archive_that_cannot_be_written_during_early_compression_fails_the_member(tmp_path):
    target = tmp_path / "copia.db"
    target.write_bytes(mixed_bytes(EARLY_HEAD + 3 * CHUNK_SIZE, seed=37))

    class AlmostFullDisk:
        """Room for the member's header and head placeholder, not for a chunk."""

        def __init__(self, path: Path):
            self._fp = open(path, "xb")  # noqa: SIM115 - closed by the test through close()
            self.refused = threading.Event()

        def write(self, data) -> int:
            if self._fp.tell() + len(data) > EARLY_HEAD + 1024:
                self.refused.set()
                raise OSError(errno.ENOSPC, "No space left on device")
            return self._fp.write(data)

        def __getattr__(self, name):
            return getattr(self._fp, name)

    fp = AlmostFullDisk(tmp_path / "a.zip")
    writer = ZipWriter(fp)
    writer.begin(MEMBER, FIRST_MTIME, 0, early_head=EARLY_HEAD)
    with pytest.raises(OSError) as caught, EarlyCompression(writer, target, EARLY_HEAD):
        assert fp.refused.wait(10)
    assert caught.value.errno == errno.ENOSPC
    writer.abort()
    fp.close()


def with_crc_of(data: bytes, changed: bytes) -> bytes:
    """``changed`` with its last four bytes set so that its CRC-32 is that of ``data`` (same length):
    CRC-32 is affine over GF(2) in those 32 bits, so they are found by solving a linear system."""
    assert len(data) == len(changed)
    body, target = changed[:-4], zlib.crc32(data)
    prefix = zlib.crc32(body)

    def crc_of(tail: int) -> int:
        return zlib.crc32(tail.to_bytes(4, "little"), prefix)

    base = crc_of(0)
    columns = [crc_of(1 << bit) ^ base for bit in range(32)]
    rows = [(columns[bit], 1 << bit) for bit in range(32)]  # (crc contribution, tail bits that give it)
    basis: dict[int, tuple[int, int]] = {}
    for value, bits in rows:
        for top in sorted(basis, reverse=True):
            if value >> top & 1:
                value, bits = value ^ basis[top][0], bits ^ basis[top][1]
        if value:
            basis[value.bit_length() - 1] = (value, bits)
    want, tail = target ^ base, 0
    for top in sorted(basis, reverse=True):
        if want >> top & 1:
            want, tail = want ^ basis[top][0], tail ^ basis[top][1]
    assert want == 0
    forged = body + tail.to_bytes(4, "little")
    assert zlib.crc32(forged) == target and forged != data
    return forged


def test_an_early_chunk_with_the_same_crc_but_other_bytes_is_compressed_again(tmp_path):
    """A kept early chunk must match the final data's CRC-32 and Adler-32: a page SQLite wrote again after
    its chunk was taken, with by a 1 in 2**32 chance the same CRC-32, is still told apart, and the archive
    holds the final data."""
    final = mixed_bytes(EARLY_HEAD + 4 * CHUNK_SIZE, seed=38)
    chunk = slice(EARLY_HEAD + CHUNK_SIZE, EARLY_HEAD + 2 * CHUNK_SIZE)
    stale = bytearray(final[chunk])
    stale[1000] ^= 0x55
    early = bytearray(final)
    early[chunk] = with_crc_of(final[chunk], bytes(stale))
    archive_path = tmp_path / "a.zip"

    entry, _sizes, read_back = early_member(archive_path, final, bytes(early), early_chunks=3)

    assert entry.sha256 == hashlib.sha256(final).hexdigest()
    verify_archive(archive_path, read_back=read_back)
    verify_archive(archive_path)  # inflated as one stream, as `respaldos verify` does
    with zipfile.ZipFile(archive_path) as zf:
        assert zf.read(MEMBER) == final


def wait_for_early_chunks(early: EarlyCompression, count: int) -> None:
    """Until ``count`` chunks were taken, and a moment more for any it should not take."""
    deadline = time.monotonic() + 10
    while early.chunks < count and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)


def test_early_compression_takes_no_chunk_reaching_past_the_lock_byte_page(tmp_path, monkeypatch):
    """SQLite locks bytes at 1 GiB of a file it holds, and on Windows reading locked bytes fails; the
    backup passes that offset as ``end``. A file that refuses those reads stands in for Windows here."""
    final = mixed_bytes(EARLY_HEAD + 8 * CHUNK_SIZE, seed=39)
    target = tmp_path / "copia.db"
    target.write_bytes(final)
    lock_byte = EARLY_HEAD + 5 * CHUNK_SIZE + 4096
    refused = []
    real_open = open

    class LockedRange:
        def __init__(self, fh):
            self._fh = fh

        def read(self, n):
            start = self._fh.tell()
            if start < lock_byte + 512 and start + n > lock_byte:
                refused.append(start)
                raise PermissionError(13, "The process cannot access the file because another process has "
                                          "locked a portion of the file")
            return self._fh.read(n)

        def __getattr__(self, name):
            return getattr(self._fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._fh.close()

    def open_with_locks(path, *args, **kwargs):
        fh = real_open(path, *args, **kwargs)
        return LockedRange(fh) if Path(path) == target else fh

    monkeypatch.setattr(early_module, "open", open_with_locks, raising=False)
    archive_path = tmp_path / "a.zip"
    with real_open(archive_path, "xb") as fp:
        writer = ZipWriter(fp, read_back=archive_path)
        entry = writer.begin(MEMBER, FIRST_MTIME, len(final), early_head=EARLY_HEAD)
        with EarlyCompression(writer, target, EARLY_HEAD, end=lock_byte) as early:
            wait_for_early_chunks(early, 5)
        with real_open(target, "rb") as fh:
            while piece := fh.read(writer.next_piece):
                writer.write(piece)
        writer.end()
        finish_archive(writer, [entry])
        read_back = {e.name: e.read_back for e in writer.entries}

    assert early.chunks == 5 and refused == []
    assert_member_is(archive_path, final, read_back)


def test_a_chunk_that_cannot_be_read_ends_early_compression_and_the_member_is_still_right(tmp_path, monkeypatch):
    """Without ``end`` (or on a read error of any other kind) the early work just stops there."""
    final = mixed_bytes(EARLY_HEAD + 6 * CHUNK_SIZE, seed=40)
    target = tmp_path / "copia.db"
    target.write_bytes(final)
    archive_path = tmp_path / "a.zip"

    class RefusingFile:
        def __init__(self, fh):
            self._fh = fh

        def read(self, n):
            if self._fh.tell() >= EARLY_HEAD + 2 * CHUNK_SIZE:
                raise PermissionError(13, "locked")
            return self._fh.read(n)

        def __getattr__(self, name):
            return getattr(self._fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self._fh.close()

    real_open = open
    monkeypatch.setattr(early_module, "open", lambda path, *a, **k: RefusingFile(real_open(path, *a, **k))
                        if Path(path) == target else real_open(path, *a, **k), raising=False)
    with real_open(archive_path, "xb") as fp:
        writer = ZipWriter(fp, read_back=archive_path)
        entry = writer.begin(MEMBER, FIRST_MTIME, len(final), early_head=EARLY_HEAD)
        with EarlyCompression(writer, target, EARLY_HEAD) as early:
            wait_for_early_chunks(early, 2)
        with real_open(target, "rb") as fh:
            while piece := fh.read(writer.next_piece):
                writer.write(piece)
        writer.end()
        finish_archive(writer, [entry])
        read_back = {e.name: e.read_back for e in writer.entries}

    assert early.chunks == 2
    assert_member_is(archive_path, final, read_back)


def test_an_unexpected_error_in_early_compression_is_logged_and_the_member_is_still_right(tmp_path, monkeypatch,
                                                                                           caplog):
    final = mixed_bytes(EARLY_HEAD + 4 * CHUNK_SIZE, seed=41)
    target = tmp_path / "copia.db"
    target.write_bytes(final)
    archive_path = tmp_path / "a.zip"
    real_deflate = early_module.deflate_chunk
    thread_errors = []

    def deflate_failing_early(data, final_chunk):
        if threading.current_thread().name == "early-deflate":
            raise ValueError("isal said no")
        return real_deflate(data, final_chunk)

    monkeypatch.setattr(early_module, "deflate_chunk", deflate_failing_early)
    monkeypatch.setattr(threading, "excepthook", thread_errors.append)
    with open(archive_path, "xb") as fp:
        writer = ZipWriter(fp, read_back=archive_path)
        entry = writer.begin(MEMBER, FIRST_MTIME, len(final), early_head=EARLY_HEAD)
        with EarlyCompression(writer, target, EARLY_HEAD):
            deadline = time.monotonic() + 10
            while "isal said no" not in caplog.text and time.monotonic() < deadline:
                time.sleep(0.01)
        for piece in pieces(final, writer):
            writer.write(piece)
        writer.end()
        finish_archive(writer, [entry])
        read_back = {e.name: e.read_back for e in writer.entries}

    assert thread_errors == []  # no traceback on the console
    assert "early compression of" in caplog.text and "isal said no" in caplog.text
    assert_member_is(archive_path, final, read_back)
