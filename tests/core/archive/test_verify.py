"""Verification names the damaged file: a flipped byte, a broken ZIP, a missing or unlisted member, a
wrong SHA-256, a zip-slip name, a wrong chunk plan, bytes changed after they were read back."""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.core.archive.helpers import (
    BIG_MEMBER,
    FIRST_MTIME,
    INVOICE_MEMBER,
    MEMBER,
    SHOP_FILES,
    SHOP_ROOT,
    TEXT_MEMBER,
    MiB,
    finish_archive,
    flip_byte_in_member,
    mixed_bytes,
    respaldos,
    rewrite_archive,
    written_with_plan,
    zip_slip_archive,
)
from wizard.core.archive import MANIFEST_NAME, ZipWriter, verify_archive
from wizard.core.errors import ArchiveDamaged


# -- verify ----------------------------------------------------------------------------------------------
def test_verify_passes_a_good_backup(shop_archive):
    proc = respaldos("verify", str(shop_archive))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"{shop_archive.name}: correcto, {len(SHOP_FILES)} archivos verificados."


@pytest.mark.parametrize("member", [BIG_MEMBER, TEXT_MEMBER])
def test_one_flipped_byte_in_a_members_data_makes_verify_fail_naming_that_member(shop_archive, member):
    flip_byte_in_member(shop_archive, member)
    proc = respaldos("verify", str(shop_archive))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"El respaldo {shop_archive.name} está dañado: {member} ")
    assert proc.stderr.rstrip().endswith("Usa otro respaldo.")
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    with pytest.raises(ArchiveDamaged) as raised:
        verify_archive(shop_archive)
    assert raised.value.member == member


def damaged_truncated(archive: Path, tmp_path: Path) -> Path:
    target = tmp_path / "respaldo_2026-11-27_20-00-00.zip"
    target.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    return target


def damaged_without_manifest(archive: Path, tmp_path: Path) -> Path:
    return rewrite_archive(archive, tmp_path / "sin manifiesto.zip", drop=(MANIFEST_NAME,))


def damaged_with_an_unlisted_member(archive: Path, tmp_path: Path) -> Path:
    return rewrite_archive(archive, tmp_path / "con intruso.zip", add={f"{SHOP_ROOT}/intruso.txt": b"hola"})


def damaged_with_a_wrong_sha256(archive: Path, tmp_path: Path) -> Path:
    def edit(manifest):
        entry = next(f for f in manifest.files if f.path == TEXT_MEMBER)
        entry.sha256 = hashlib.sha256(b"otra cosa").hexdigest()

    return rewrite_archive(archive, tmp_path / "suma cambiada.zip", manifest_edit=edit)


def damaged_with_a_listed_member_missing(archive: Path, tmp_path: Path) -> Path:
    return rewrite_archive(archive, tmp_path / "sin factura.zip", drop=(INVOICE_MEMBER,))


@pytest.mark.parametrize("damage, what", [
    (damaged_truncated, "no es un archivo ZIP completo"),
    (damaged_without_manifest, "respaldo.json no está en el archivo"),
    (damaged_with_an_unlisted_member, f"{SHOP_ROOT}/intruso.txt no figura en el manifiesto"),
    (damaged_with_a_wrong_sha256, f"{TEXT_MEMBER} no coincide con su suma SHA-256"),
    (damaged_with_a_listed_member_missing, f"{INVOICE_MEMBER} falta en el archivo"),
], ids=["truncated", "no-manifest", "unlisted-member", "wrong-sha256", "listed-member-missing"])
def test_verify_refuses_a_damaged_archive_with_a_spanish_sentence_naming_the_file(shop_archive, tmp_path,
                                                                                  damage, what):
    damaged = damage(shop_archive, tmp_path)
    proc = respaldos("verify", str(damaged))
    assert proc.returncode == 1
    assert proc.stderr == f"El respaldo {damaged.name} está dañado: {what}. Usa otro respaldo.\n"
    assert proc.stdout == ""


def test_verify_of_a_missing_archive_says_it_was_not_found(tmp_path):
    missing = tmp_path / "respaldo_2026-11-27_20-00-00.zip"
    proc = respaldos("verify", str(missing))
    assert proc.returncode == 1
    assert proc.stderr == f"No se encontró el respaldo {missing}.\n"


def test_verify_refuses_a_zip_slip_archive_naming_the_path(tmp_path):
    archive = zip_slip_archive(tmp_path / "respaldo_trampa.zip", "../evil.txt")
    proc = respaldos("verify", str(archive))
    assert proc.returncode == 1
    assert proc.stderr == (f"El respaldo {archive.name} está dañado: ../evil.txt tiene una ruta no "
                           "permitida. Usa otro respaldo.\n")


def test_verify_with_a_chunk_plan_still_finds_one_flipped_byte(tmp_path):
    archive = tmp_path / "a.zip"
    plan = written_with_plan(archive, mixed_bytes(4 * MiB, seed=12))
    flip_byte_in_member(archive, "datos/ventas.db")

    with pytest.raises(ArchiveDamaged, match="ventas.db"):
        verify_archive(archive, chunk_plan=plan)


def test_a_chunk_plan_that_does_not_fall_on_the_chunks_ends_is_a_damaged_archive_not_a_pass(tmp_path):
    archive = tmp_path / "a.zip"
    plan = written_with_plan(archive, mixed_bytes(3 * MiB, seed=13))
    sizes = plan["datos/ventas.db"]
    shifted = [sizes[0] - 1, sizes[1] + 1, *sizes[2:]]

    with pytest.raises(ArchiveDamaged, match="ventas.db"):
        verify_archive(archive, chunk_plan={"datos/ventas.db": shifted})


@pytest.mark.parametrize("wrong", ["short", "too large", "empty"])
def test_a_chunk_plan_that_cannot_cut_the_member_is_not_used_and_the_member_is_inflated_as_one_stream(
        tmp_path, wrong):
    archive = tmp_path / "a.zip"
    plan = written_with_plan(archive, mixed_bytes(3 * MiB, seed=13))
    sizes = plan["datos/ventas.db"]
    bad = {"short": sizes[:-1], "too large": [sum(sizes)], "empty": []}[wrong]

    verify_archive(archive, chunk_plan={"datos/ventas.db": bad})  # the archive is sound: it passes
    flip_byte_in_member(archive, "datos/ventas.db")
    with pytest.raises(ArchiveDamaged, match="ventas.db"):
        verify_archive(archive, chunk_plan={"datos/ventas.db": bad})


# -- verification while writing: every chunk read back from the file as soon as it is written ---------------


def written_with_read_back(path: Path, data: bytes, fp=None):
    """Write ``data`` as one member with a read-back writer; returns what verify_archive needs."""
    own = fp is None
    fp = fp or open(path, "xb")  # noqa: SIM115 - closed below when it is ours
    try:
        writer = ZipWriter(fp, read_back=path)
        entry = writer.add_bytes(MEMBER, data, FIRST_MTIME)
        finish_archive(writer, [entry])
        fp.flush()
    finally:
        if own:
            fp.close()
    return {e.name: e.read_back for e in writer.entries}


class CorruptingFile:
    """A file whose writes of compressed chunks get one byte flipped on the way, as a failing disk or
    driver might do: only reading the file back can tell."""

    def __init__(self, path: Path, damage_write: int):
        self._fp = open(path, "xb")  # noqa: SIM115 - closed by the test through close()
        self._writes = 0
        self._damage_write = damage_write

    def write(self, data) -> int:
        if len(data) > 64 << 10:
            self._writes += 1
            if self._writes == self._damage_write:
                data = bytearray(data)
                data[len(data) // 2] ^= 0x10
        return self._fp.write(data)

    def __getattr__(self, name):
        return getattr(self._fp, name)


def test_a_read_back_archive_passes_verification_and_opens_in_zipfile(tmp_path):
    archive = tmp_path / "a.zip.part"
    data = mixed_bytes(5 * MiB + 77, seed=21)

    read_back = written_with_read_back(archive, data)

    assert read_back[MEMBER].size == len(data)
    assert read_back[MEMBER].crc == zlib.crc32(data)
    assert verify_archive(archive, read_back=read_back).files[0].sha256 == hashlib.sha256(data).hexdigest()
    with zipfile.ZipFile(archive) as zf:
        assert zf.read(MEMBER) == data


def test_a_chunk_damaged_on_its_way_to_the_disk_is_caught_by_reading_it_back(tmp_path):
    archive = tmp_path / "a.zip.part"
    fp = CorruptingFile(archive, damage_write=3)
    try:
        read_back = written_with_read_back(archive, mixed_bytes(6 * MiB, seed=22), fp=fp)
    finally:
        fp.close()

    with pytest.raises(ArchiveDamaged, match="ventas.db") as caught:
        verify_archive(archive, read_back=read_back)
    assert caught.value.member == MEMBER


def test_bytes_changed_after_they_were_read_back_are_caught_before_the_rename(tmp_path):
    archive = tmp_path / "a.zip.part"
    read_back = written_with_read_back(archive, mixed_bytes(4 * MiB, seed=23))
    flip_byte_in_member(archive, MEMBER)

    with pytest.raises(ArchiveDamaged, match="ventas.db") as caught:
        verify_archive(archive, read_back=read_back)
    assert "no coincide con su CRC" in str(caught.value)


def test_read_back_results_of_a_member_that_is_not_where_it_was_written_do_not_pass(tmp_path):
    archive = tmp_path / "a.zip.part"
    read_back = written_with_read_back(archive, mixed_bytes(3 * MiB, seed=24))
    read_back[MEMBER].data_offset += 1

    with pytest.raises(ArchiveDamaged, match="ventas.db"):
        verify_archive(archive, read_back=read_back)
