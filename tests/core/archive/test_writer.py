"""ZipWriter's archives open in every common reader (Python's zipfile, unzip, 7-Zip), with UTF-8 names,
Zip64 past 65,535 members or 4 GiB, and members that can be discarded or taken back."""

from __future__ import annotations

import os
import subprocess
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.core.archive.helpers import (
    BIG_MEMBER,
    FIRST_MTIME,
    SEVEN_ZIP,
    SHOP_FILES,
    SHOP_ROOT,
    UNZIP,
    MiB,
    expected_tree,
    mixed_bytes,
    needs_7z,
    needs_unzip,
    tree,
)
from wizard import __version__
from wizard.core.archive import MANIFEST_NAME, Manifest, ManifestFile, ZipWriter, verify_archive


# -- the archive opens everywhere ---------------------------------------------------------------------------
def test_a_backup_opens_in_pythons_zipfile_with_utf8_names_identical_bytes_and_header_times(shop_archive):
    with zipfile.ZipFile(shop_archive) as zf:
        assert zf.testzip() is None
        assert sorted(zf.namelist()) == sorted([*expected_tree(), MANIFEST_NAME])
        for name, data in expected_tree().items():
            info = zf.getinfo(name)
            assert info.flag_bits & 0x800, f"{name} is not flagged as a UTF-8 name"
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert zf.read(name) == data
        # ZIP headers keep local time in 2-second steps
        for i, rel in enumerate(SHOP_FILES):
            assert zf.getinfo(f"{SHOP_ROOT}/{rel}").date_time == time.localtime(FIRST_MTIME + 120 * i)[:6]
        empty = zf.getinfo(f"{SHOP_ROOT}/vacío.txt")
        assert empty.file_size == 0
        big = zf.getinfo(BIG_MEMBER)
        assert big.file_size > MiB
        assert big.compress_size < big.file_size  # text parts shrank, random parts did not grow it


@needs_unzip
def test_unzip_tests_a_backup_without_errors(shop_archive):
    proc = subprocess.run([UNZIP, "-t", str(shop_archive)], check=False, capture_output=True)
    assert proc.returncode == 0, proc.stdout
    assert b"No errors detected" in proc.stdout


@needs_7z
def test_7z_tests_a_backup_without_errors(shop_archive):
    proc = subprocess.run([SEVEN_ZIP, "t", str(shop_archive)], check=False, capture_output=True)
    assert proc.returncode == 0, proc.stdout
    assert b"Everything is Ok" in proc.stdout


@needs_7z
def test_7z_extracts_utf8_names_with_spaces_and_identical_bytes(shop_archive, tmp_path):
    out = tmp_path / "extraído con 7z"
    proc = subprocess.run([SEVEN_ZIP, "x", f"-o{out}", str(shop_archive)], check=False, capture_output=True)
    assert proc.returncode == 0, proc.stdout
    extracted = tree(out)
    assert extracted.pop(MANIFEST_NAME)
    assert extracted == expected_tree()


@needs_unzip
def test_unzip_extracts_utf8_names_with_spaces_and_identical_bytes(shop_archive, tmp_path):
    out = tmp_path / "extraído con unzip"
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    proc = subprocess.run([UNZIP, "-q", str(shop_archive), "-d", str(out)], check=False,
                          capture_output=True, env=env)
    assert proc.returncode == 0, proc.stderr
    extracted = tree(out)
    assert extracted.pop(MANIFEST_NAME)
    assert extracted == expected_tree()


# -- Zip64 ---------------------------------------------------------------------------------------------------
TICKETS = 65_536  # one more than a classic ZIP's end record can count


@pytest.fixture(scope="module")
def many_entries_archive(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("zip64") / "muchos tickets.zip"
    with open(path, "wb") as fp:
        writer = ZipWriter(fp)
        for i in range(TICKETS):
            writer.add_bytes(f"tickets/ticket_{i:05d}.txt", f"ticket {i}: café 25.00\n".encode(), FIRST_MTIME)
        writer.close()
    return path


def test_more_than_65535_entries_get_a_zip64_end_record_that_zipfile_reads(many_entries_archive):
    raw_tail = many_entries_archive.read_bytes()[-200:]
    assert b"PK\x06\x06" in raw_tail and b"PK\x06\x07" in raw_tail
    with zipfile.ZipFile(many_entries_archive) as zf:
        infos = zf.infolist()
        assert len(infos) == TICKETS
        assert zf.testzip() is None
        assert zf.read("tickets/ticket_65535.txt") == "ticket 65535: café 25.00\n".encode()


@needs_unzip
def test_unzip_tests_more_than_65535_entries_without_errors(many_entries_archive):
    proc = subprocess.run([UNZIP, "-t", str(many_entries_archive)], check=False, capture_output=True)
    assert proc.returncode == 0, proc.stdout[-500:]
    assert b"No errors detected" in proc.stdout


@needs_7z
def test_7z_tests_more_than_65535_entries_without_errors(many_entries_archive):
    proc = subprocess.run([SEVEN_ZIP, "t", str(many_entries_archive)], check=False, capture_output=True)
    assert proc.returncode == 0, proc.stdout[-500:]
    assert b"Everything is Ok" in proc.stdout and f"Files: {TICKETS}".encode() in proc.stdout


HUGE_SIZE = (4 << 30) + 3 * MiB + 17  # past the 4 GiB a classic header can hold, not a chunk multiple
HUGE_MEMBER = "datos/base enorme.sdb"


@pytest.fixture(scope="module")
def huge_archive(tmp_path_factory):
    """One member of zeros past 4 GiB between two small ones, with its manifest; about 4 MB on disk."""
    path = tmp_path_factory.mktemp("zip64big") / "respaldo enorme.zip"
    zeros = bytes(4 * MiB)
    with open(path, "wb") as fp:
        writer = ZipWriter(fp)
        before = writer.add_bytes("datos/antes.txt", b"antes", FIRST_MTIME)
        writer.begin(HUGE_MEMBER, FIRST_MTIME, HUGE_SIZE)
        left = HUGE_SIZE
        while left:
            chunk = zeros if left >= len(zeros) else zeros[:left]
            writer.write(chunk)
            left -= len(chunk)
        huge = writer.end()
        after = writer.add_bytes("datos/después.txt", "después".encode(), FIRST_MTIME)
        manifest = Manifest(app="Respaldos", version=__version__, created="2026-11-27T20:14:00-06:00",
                            host="caja-1", sources=[], files=[
                                ManifestFile(e.name, e.size, "2026-11-27T20:14:00-06:00", e.sha256)
                                for e in (before, huge, after)])
        writer.add_bytes(MANIFEST_NAME, manifest.to_json(), FIRST_MTIME)
        writer.close()
    return path, huge


@pytest.mark.slow
def test_a_member_over_4_gib_is_written_with_zip64_sizes_that_zipfile_reads(huge_archive):
    path, huge = huge_archive
    # (the writing speed is measured by bench/bench_backup.py, not asserted here)
    assert huge.zip64 and huge.size == HUGE_SIZE
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(HUGE_MEMBER)
        assert info.file_size == HUGE_SIZE
        assert info.compress_size == huge.compress_size < HUGE_SIZE // 200
        # the member after the big one is found and read through the Zip64 central directory
        assert zf.read("datos/después.txt") == "después".encode()
    crc = 0
    zeros = bytes(64 * MiB)
    for _ in range(HUGE_SIZE // len(zeros)):
        crc = zlib.crc32(zeros, crc)
    assert info.CRC == zlib.crc32(bytes(HUGE_SIZE % len(zeros)), crc)


@pytest.mark.slow
def test_a_member_over_4_gib_passes_our_own_verification(huge_archive):
    path, _huge = huge_archive
    manifest = verify_archive(path)
    assert [f.size for f in manifest.files] == [5, HUGE_SIZE, len("después".encode())]


@pytest.mark.slow
@needs_7z
def test_7z_tests_a_member_over_4_gib_without_errors(huge_archive):
    path, _huge = huge_archive
    proc = subprocess.run([SEVEN_ZIP, "t", str(path)], check=False, capture_output=True)
    assert proc.returncode == 0, proc.stdout[-500:]
    assert b"Everything is Ok" in proc.stdout


@pytest.mark.slow
@needs_unzip
def test_unzip_lists_the_real_size_of_a_member_over_4_gib_and_tests_its_neighbours(huge_archive):
    path, _huge = huge_archive
    listing = subprocess.run([UNZIP, "-Z", "-l", str(path), HUGE_MEMBER], check=False, capture_output=True)
    assert listing.returncode == 0, listing.stderr
    assert str(HUGE_SIZE).encode() in listing.stdout
    # inflating the 4 GiB takes unzip ~25 s: 7z checks those bytes above; here unzip must find the
    # members around it through the Zip64 records
    proc = subprocess.run([UNZIP, "-t", str(path), "datos/antes.txt", MANIFEST_NAME], check=False,
                          capture_output=True)
    assert proc.returncode == 0, proc.stdout
    assert b"No errors detected" in proc.stdout


# -- discard and drop_last ---------------------------------------------------------------------------------
def write_members(path: Path, members: list[tuple[str, bytes]], between=None) -> None:
    with open(path, "wb") as fp:
        writer = ZipWriter(fp)
        for i, (name, data) in enumerate(members):
            writer.add_bytes(name, data, FIRST_MTIME)
            if between is not None and i == 0:
                between(writer, fp)
        writer.close()


def test_discard_cuts_the_file_back_so_the_archive_is_the_same_as_if_the_member_never_started(tmp_path):
    kept = [("primero.txt", b"uno " * 1000), ("segundo.txt", mixed_bytes(2 * MiB, seed=2))]
    offsets = {}

    def start_and_discard(writer, fp):
        offsets["before"] = fp.tell()
        writer.begin("descartado ñ.bin", FIRST_MTIME, 3 * MiB)
        for _ in range(3):
            writer.write(mixed_bytes(MiB, seed=3))  # several chunks deflating on the pool
        writer.discard()
        offsets["after"] = fp.tell()
        assert fp.seek(0, os.SEEK_END) == offsets["before"]

    write_members(tmp_path / "con descarte.zip", kept, between=start_and_discard)
    write_members(tmp_path / "sin descarte.zip", kept)
    assert offsets["after"] == offsets["before"]
    assert (tmp_path / "con descarte.zip").read_bytes() == (tmp_path / "sin descarte.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "con descarte.zip") as zf:
        assert zf.namelist() == ["primero.txt", "segundo.txt"]
        assert zf.testzip() is None


def test_drop_last_takes_back_a_finished_member_so_it_can_be_written_again(tmp_path):
    first, again, last = ("primero.txt", b"uno " * 1000), ("ventas.csv", b"v2 " * 5000), ("fin.txt", b"fin")

    def write_then_drop(writer, fp):
        start = fp.tell()
        writer.add_bytes("ventas.csv", mixed_bytes(2 * MiB, seed=4), FIRST_MTIME)
        dropped = writer.drop_last()
        assert dropped.name == "ventas.csv" and dropped.header_offset == start
        assert [e.name for e in writer.entries] == ["primero.txt"]
        assert fp.seek(0, os.SEEK_END) == start

    write_members(tmp_path / "reescrito.zip", [first, again, last], between=write_then_drop)
    write_members(tmp_path / "directo.zip", [first, again, last])
    assert (tmp_path / "reescrito.zip").read_bytes() == (tmp_path / "directo.zip").read_bytes()
    with zipfile.ZipFile(tmp_path / "reescrito.zip") as zf:
        assert zf.namelist() == ["primero.txt", "ventas.csv", "fin.txt"]
        assert zf.read("ventas.csv") == b"v2 " * 5000
