"""Our ZIP archives open in every common reader, verify names the damaged file, restore stays inside."""

from __future__ import annotations

import errno
import hashlib
import os
import random
import shutil
import socket
import struct
import subprocess
import threading
import time
import zipfile
import zlib
from datetime import datetime
from pathlib import Path

import pytest

from tests.helpers import ROOT, respaldos_cmd, write_config
from wizard import __version__
from wizard.core import config
from wizard.core.archive import (
    CHUNK_SIZE,
    MANIFEST_NAME,
    EarlyCompression,
    Manifest,
    ManifestFile,
    ZipWriter,
    read_manifest,
    unsafe_member_reason,
    verify_archive,
)
from wizard.core.archive import allocator as allocator_module
from wizard.core.archive import early as early_module
from wizard.core.archive.deflate import deflate_chunk
from wizard.core.backup import run_backup
from wizard.core.errors import ArchiveDamaged

UNZIP = shutil.which("unzip")
SEVEN_ZIP = shutil.which("7z")
needs_unzip = pytest.mark.skipif(UNZIP is None, reason="unzip is not installed (apt-get install unzip)")
needs_7z = pytest.mark.skipif(SEVEN_ZIP is None, reason="7z is not installed (apt-get install p7zip-full)")

MiB = 1 << 20
SHOP_ROOT = "Datos Tienda Doña Lupe"  # the source folder: it becomes the archive's top-level folder


def mixed_bytes(size: int, seed: int = 7) -> bytes:
    """Alternating random blocks and sales-like text: some chunks compress, some do not."""
    rng = random.Random(seed)
    out = bytearray()
    line = "venta,2026-11-27 20:15,ticket {},café de olla,3,45.50\n"
    while len(out) < size:
        out += rng.randbytes(rng.randrange(16_000, 200_000))
        out += "".join(line.format(rng.randrange(10**6)) for _ in range(rng.randrange(500, 4000))).encode()
    return bytes(out[:size])


SHOP_FILES = {
    "Año 2026/Señal ñandú café.txt": "Cuenta de la señora Núñez: 3 cafés, 2 piñatas.\n".encode() * 40,
    "Facturas/factura Peña Ángel 0001.xml": (
        '<?xml version="1.0" encoding="UTF-8"?>\n<cfdi:Comprobante Serie="A" Folio="0001" '
        'Total="1160.00"><cfdi:Emisor Nombre="Abarrotes Doña Lupe"/></cfdi:Comprobante>\n').encode(),
    "vacío.txt": b"",
    "imágenes/mezcla grande.bin": mixed_bytes(3 * MiB + 12_345),
}
BIG_MEMBER = f"{SHOP_ROOT}/imágenes/mezcla grande.bin"
TEXT_MEMBER = f"{SHOP_ROOT}/Año 2026/Señal ñandú café.txt"
INVOICE_MEMBER = f"{SHOP_ROOT}/Facturas/factura Peña Ángel 0001.xml"
# Whole seconds, a few minutes apart: the manifest keeps seconds and ZIP headers keep even seconds.
FIRST_MTIME = int(datetime(2026, 11, 27, 20, 14, 0).timestamp())


def make_shop(folder: Path) -> dict[str, int]:
    """Write the shop's files; returns each file's archive path and the mtime it was given."""
    mtimes = {}
    for i, (rel, data) in enumerate(SHOP_FILES.items()):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        mtime = FIRST_MTIME + 120 * i
        os.utime(path, (mtime, mtime))
        mtimes[f"{folder.name}/{rel}"] = mtime
    return mtimes


def expected_tree() -> dict[str, bytes]:
    return {f"{SHOP_ROOT}/{rel}": data for rel, data in SHOP_FILES.items()}


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) by its relative POSIX path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def back_up(source: Path, dest: Path, cfg_path: Path) -> Path:
    dest.mkdir(exist_ok=True)
    result = run_backup(config.load(write_config(cfg_path, [source], dest)))
    assert result.status == "ok", result.message
    return result.archive


@pytest.fixture
def shop_archive(tmp_path) -> Path:
    """A real backup of the shop's folder, made by run_backup."""
    source = tmp_path / SHOP_ROOT
    make_shop(source)
    return back_up(source, tmp_path / "Respaldos USB", tmp_path / "respaldos.toml")


def respaldos(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m wizard`` for real; the isolated XDG folders of conftest reach it through os.environ."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "PYTHONPATH": path, "PYTHONUTF8": "1"}
    return subprocess.run(respaldos_cmd(*args), check=False, capture_output=True, text=True, encoding="utf-8",
                          cwd=cwd or ROOT, env=env, timeout=180)


def data_offset(archive: Path, member: str) -> tuple[int, int]:
    """Where a member's compressed bytes start in the file, and how many there are."""
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo(member)
    with open(archive, "rb") as fp:
        fp.seek(info.header_offset)
        header = fp.read(30)
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len, info.compress_size


def flip_byte_in_member(archive: Path, member: str) -> None:
    start, length = data_offset(archive, member)
    with open(archive, "r+b") as fp:
        fp.seek(start + length // 2)
        byte = fp.read(1)
        fp.seek(-1, os.SEEK_CUR)
        fp.write(bytes([byte[0] ^ 0xFF]))


def rewrite_archive(source: Path, target: Path, *, drop: tuple[str, ...] = (),
                    add: dict[str, bytes] | None = None, manifest_edit=None) -> Path:
    """Copy an archive member by member through ZipWriter, leaving some out, adding others or editing the
    manifest: the damage verify must catch, in an otherwise well-formed ZIP."""
    with zipfile.ZipFile(source) as zf, open(target, "xb") as fp:
        writer = ZipWriter(fp)
        for info in zf.infolist():
            if info.filename in drop:
                continue
            data = zf.read(info)
            if info.filename == MANIFEST_NAME and manifest_edit is not None:
                manifest = Manifest.from_json(data)
                manifest_edit(manifest)
                data = manifest.to_json()
            writer.add_bytes(info.filename, data, mtime=FIRST_MTIME)
        for name, data in (add or {}).items():
            writer.add_bytes(name, data, mtime=FIRST_MTIME)
        writer.close()
    return target


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


def test_the_manifest_lists_every_file_with_size_mtime_sha256_and_kind(shop_archive):
    manifest = read_manifest(shop_archive)
    assert manifest.app == "Respaldos" and manifest.version == __version__
    assert manifest.host == socket.gethostname()
    assert [s["archive_path"] for s in manifest.sources] == [SHOP_ROOT]
    listed = {f.path: f for f in manifest.files}
    assert set(listed) == set(expected_tree())
    for i, (rel, data) in enumerate(SHOP_FILES.items()):
        entry = listed[f"{SHOP_ROOT}/{rel}"]
        assert entry.size == len(data)
        assert entry.sha256 == hashlib.sha256(data).hexdigest()
        assert entry.kind == "file"
        assert datetime.fromisoformat(entry.mtime).timestamp() == FIRST_MTIME + 120 * i


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
    started = time.monotonic()
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
    return path, time.monotonic() - started, huge


@pytest.mark.slow
def test_a_member_over_4_gib_is_written_quickly_with_zip64_sizes_that_zipfile_reads(huge_archive):
    path, seconds, huge = huge_archive
    # ~15 s on an idle 2-core machine; a member buffered in memory or deflated on one core with zlib
    # would take minutes
    assert seconds < 60, f"writing 4 GiB of zeros took {seconds:.1f} s"
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
    path, _, _ = huge_archive
    manifest = verify_archive(path)
    assert [f.size for f in manifest.files] == [5, HUGE_SIZE, len("después".encode())]


@pytest.mark.slow
@needs_7z
def test_7z_tests_a_member_over_4_gib_without_errors(huge_archive):
    path, _, _ = huge_archive
    proc = subprocess.run([SEVEN_ZIP, "t", str(path)], check=False, capture_output=True)
    assert proc.returncode == 0, proc.stdout[-500:]
    assert b"Everything is Ok" in proc.stdout


@pytest.mark.slow
@needs_unzip
def test_unzip_lists_the_real_size_of_a_member_over_4_gib_and_tests_its_neighbours(huge_archive):
    path, _, _ = huge_archive
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


# -- restore ---------------------------------------------------------------------------------------------
def test_restore_extracts_identical_files_with_their_mtimes(shop_archive, tmp_path):
    target = tmp_path / "restaurado aquí"
    proc = respaldos("restore", str(shop_archive), "--to", str(target))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"Se restauraron {len(SHOP_FILES)} archivos en {target}."
    assert tree(target) == expected_tree()
    for i, rel in enumerate(SHOP_FILES):
        assert (target / SHOP_ROOT / rel).stat().st_mtime == FIRST_MTIME + 120 * i


def test_restore_refuses_a_folder_that_is_not_empty_and_writes_nothing(shop_archive, tmp_path):
    target = tmp_path / "caja"
    (target / SHOP_ROOT).mkdir(parents=True)
    (target / "pedido.txt").write_text("pedido del lunes", encoding="utf-8")
    (target / SHOP_ROOT / "vacío.txt").write_text("versión vieja", encoding="utf-8")
    before = tree(target)
    proc = respaldos("restore", str(shop_archive), "--to", str(target))
    assert proc.returncode == 1
    assert proc.stderr == (f"La carpeta {target} no está vacía. Elige una carpeta vacía o usa --force "
                           "para escribir encima.\n")
    assert tree(target) == before
    assert sorted(p.name for p in target.rglob("*")) == sorted([SHOP_ROOT, "pedido.txt", "vacío.txt"])


def test_restore_with_force_writes_over_a_folder_that_is_not_empty(shop_archive, tmp_path):
    target = tmp_path / "caja"
    (target / SHOP_ROOT).mkdir(parents=True)
    (target / "pedido.txt").write_text("pedido del lunes", encoding="utf-8")
    (target / SHOP_ROOT / "vacío.txt").write_text("versión vieja", encoding="utf-8")
    proc = respaldos("restore", str(shop_archive), "--to", str(target), "--force")
    assert proc.returncode == 0, proc.stderr
    assert tree(target) == {**expected_tree(), "pedido.txt": b"pedido del lunes"}


def zip_slip_archive(path: Path, evil_name: str) -> Path:
    """Built by hand with zipfile, as an attacker would: a harmless member first, then the escaping one,
    both listed with their right sha256 so only the path is wrong."""
    members = {"tienda/bien.txt": b"nada raro", evil_name: b"te sobrescribo"}
    manifest = Manifest(app="Respaldos", version=__version__, created="2026-11-27T20:14:00-06:00",
                        host="caja-1", sources=[], files=[
                            ManifestFile(name, len(data), "2026-11-27T20:14:00-06:00",
                                         hashlib.sha256(data).hexdigest())
                            for name, data in members.items()])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, (2026, 11, 27, 20, 14, 0)), data)
        zf.writestr(MANIFEST_NAME, manifest.to_json())
    with zipfile.ZipFile(path) as zf:
        assert evil_name in zf.namelist()  # zipfile kept the name exactly as given
    return path


EVIL_NAMES = ["../evil.txt", "/abs/evil.txt", "C:/evil.txt", "a/../../evil.txt", "..\\evil.txt"]


@pytest.mark.parametrize("evil_name", EVIL_NAMES)
def test_restore_refuses_a_zip_slip_archive_and_writes_nothing_anywhere(tmp_path, evil_name):
    archive = zip_slip_archive(tmp_path / "respaldo_trampa.zip", evil_name)
    parent = tmp_path / "jaula"
    target = parent / "restaurar aquí"
    target.mkdir(parents=True)
    workdir = tmp_path / "trabajo"
    workdir.mkdir()
    assert not Path("/abs").exists()
    proc = respaldos("restore", str(archive), "--to", str(target), cwd=workdir)
    assert proc.returncode == 1
    assert proc.stderr == (f"El respaldo {archive.name} contiene una ruta no permitida ({evil_name}); "
                           "no se restauró nada.\n")
    assert "Traceback" not in proc.stderr
    assert list(target.iterdir()) == []
    assert list(parent.iterdir()) == [target]
    assert list(workdir.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jaula", "respaldo_trampa.zip", "trabajo"]
    assert not Path("/abs").exists()


@pytest.mark.parametrize("evil_name", EVIL_NAMES)
def test_every_zip_slip_name_is_unsafe_and_ordinary_names_are_safe(evil_name):
    assert unsafe_member_reason(evil_name) is not None
    assert unsafe_member_reason(f"{SHOP_ROOT}/Año 2026/..algo raro.txt") is None
    assert unsafe_member_reason(TEXT_MEMBER) is None


def test_verify_refuses_a_zip_slip_archive_naming_the_path(tmp_path):
    archive = zip_slip_archive(tmp_path / "respaldo_trampa.zip", "../evil.txt")
    proc = respaldos("verify", str(archive))
    assert proc.returncode == 1
    assert proc.stderr == (f"El respaldo {archive.name} está dañado: ../evil.txt tiene una ruta no "
                           "permitida. Usa otro respaldo.\n")


def test_restore_refuses_a_damaged_member_and_leaves_no_temporary_file(shop_archive, tmp_path):
    flip_byte_in_member(shop_archive, BIG_MEMBER)
    target = tmp_path / "restaurado"
    proc = respaldos("restore", str(shop_archive), "--to", str(target))
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"El respaldo {shop_archive.name} está dañado: {BIG_MEMBER} ")
    assert "Traceback" not in proc.stderr
    leftovers = [p for p in target.rglob("*") if p.name.endswith(".restaurando")]
    assert leftovers == []
    assert not (target / BIG_MEMBER).exists()


# -- verification on every core (the chunk plan the writer hands to the verification) ---------------------
def written_with_plan(path: Path, data: bytes) -> dict[str, list[int]]:
    manifest = Manifest(app="Respaldos", version=__version__, created="2026-11-28T20:00:00-06:00", host="caja",
                        sources=[])
    with open(path, "wb") as fp:
        writer = ZipWriter(fp)
        entry = writer.add_bytes("datos/ventas.db", data, FIRST_MTIME)
        manifest.files.append(ManifestFile(path=entry.name, size=entry.size, mtime="2026-11-28T20:00:00-06:00",
                                           sha256=entry.sha256, kind="file"))
        writer.add_bytes(MANIFEST_NAME, manifest.to_json())
        writer.close()
        return {e.name: e.chunks for e in writer.entries}


def test_each_chunk_of_a_member_inflates_on_its_own_and_the_whole_still_opens_in_zipfile(tmp_path):
    data = mixed_bytes(5 * MiB + 123, seed=11)
    archive = tmp_path / "a.zip"

    plan = written_with_plan(archive, data)

    assert len(plan["datos/ventas.db"]) == 7  # five full chunks, the rest, the final block
    start, length = data_offset(archive, "datos/ventas.db")
    raw = archive.read_bytes()[start:start + length]
    pieces, offset = [], 0
    for size in plan["datos/ventas.db"]:
        pieces.append(zlib.decompressobj(-15).decompress(raw[offset:offset + size]))
        offset += size
    assert b"".join(pieces) == data
    with zipfile.ZipFile(archive) as zf:
        assert zf.read("datos/ventas.db") == data
    assert verify_archive(archive, chunk_plan=plan).files[0].sha256 == hashlib.sha256(data).hexdigest()


def test_verify_with_a_chunk_plan_still_finds_one_flipped_byte(tmp_path):
    archive = tmp_path / "a.zip"
    plan = written_with_plan(archive, mixed_bytes(4 * MiB, seed=12))
    flip_byte_in_member(archive, "datos/ventas.db")

    with pytest.raises(ArchiveDamaged, match="ventas.db"):
        verify_archive(archive, chunk_plan=plan)


@pytest.mark.parametrize("wrong", ["shifted", "short"])
def test_a_chunk_plan_that_does_not_match_the_file_is_a_damaged_archive_not_a_pass(tmp_path, wrong):
    archive = tmp_path / "a.zip"
    plan = written_with_plan(archive, mixed_bytes(3 * MiB, seed=13))
    sizes = plan["datos/ventas.db"]
    if wrong == "shifted":
        sizes = [sizes[0] - 1, sizes[1] + 1, *sizes[2:]]
    else:
        sizes = sizes[:-1]

    with pytest.raises(ArchiveDamaged, match="ventas.db"):
        verify_archive(archive, chunk_plan={"datos/ventas.db": sizes})


# -- verification while writing: every chunk read back from the file as soon as it is written ---------------
MEMBER = "datos/ventas.db"
EARLY_HEAD = 64 << 10


def finish_archive(writer: ZipWriter, entries) -> None:
    manifest = Manifest(app="Respaldos", version=__version__, created="2026-11-28T20:00:00-06:00", host="caja",
                        sources=[])
    manifest.files = [ManifestFile(path=e.name, size=e.size, mtime="2026-11-28T20:00:00-06:00", sha256=e.sha256)
                      for e in entries]
    writer.add_bytes(MANIFEST_NAME, manifest.to_json())
    writer.close()


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
    assert read_back[MEMBER].sha256 == hashlib.sha256(data).hexdigest()
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


def test_an_early_chunk_with_the_same_crc_but_other_bytes_never_passes_verification(tmp_path):
    """A kept early chunk is only matched by CRC-32; the manifest's SHA-256 is that of the finished file and
    the read-back's that of what the archive holds, so a CRC collision fails the archive, never passes it."""
    final = mixed_bytes(EARLY_HEAD + 4 * CHUNK_SIZE, seed=38)
    chunk = slice(EARLY_HEAD + CHUNK_SIZE, EARLY_HEAD + 2 * CHUNK_SIZE)
    stale = bytearray(final[chunk])
    stale[1000] ^= 0x55  # a page SQLite wrote again after the chunk was taken...
    early = bytearray(final)
    early[chunk] = with_crc_of(final[chunk], bytes(stale))  # ...with, by a 1 in 2**32 chance, the same CRC
    archive_path = tmp_path / "a.zip"

    entry, early_sizes, read_back = early_member(archive_path, final, bytes(early), early_chunks=3)

    assert entry.chunks[1:4] == early_sizes  # the stale chunk was kept: its CRC matched
    assert entry.sha256 == hashlib.sha256(final).hexdigest()  # the manifest says what the finished file held
    with pytest.raises(ArchiveDamaged, match="SHA-256"):
        verify_archive(archive_path, read_back=read_back)
    with pytest.raises(ArchiveDamaged, match="SHA-256"):
        verify_archive(archive_path)  # inflated as one stream, as `respaldos verify` does


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


# -- glibc's allocator: tuned on glibc only, decided once ------------------------------------------------------
class Allocator:
    """Stands in for ctypes.CDLL(None): records mallopt calls, and how often the libc was asked about."""

    def __init__(self, monkeypatch, platform_name: str, libc: tuple[str, str]):
        import ctypes
        import platform as platform_module

        self.mallopt_calls: list[tuple[int, int]] = []
        self.libc_asked = 0
        monkeypatch.setattr(allocator_module, "_allocator_tuned", False)
        monkeypatch.setattr(allocator_module.sys, "platform", platform_name)

        def libc_ver(*args, **kwargs):
            self.libc_asked += 1
            return libc

        monkeypatch.setattr(platform_module, "libc_ver", libc_ver)
        allocator = self

        class FakeLibc:
            def mallopt(self, param, value):
                allocator.mallopt_calls.append((param, value))
                return 1

        monkeypatch.setattr(ctypes, "CDLL", lambda name: FakeLibc())


@pytest.mark.parametrize(("platform_name", "libc"), [("win32", ("", "")), ("darwin", ("", "")),
                                                      ("linux", ("", "")), ("linux", ("libc", "1.2.4"))])
def test_the_allocator_is_left_alone_without_glibc_and_the_libc_is_asked_about_once(monkeypatch, tmp_path,
                                                                                   platform_name, libc):
    allocator = Allocator(monkeypatch, platform_name, libc)
    for name in ("a.zip", "b.zip"):
        with open(tmp_path / name, "xb") as fp:
            ZipWriter(fp).close()
    assert allocator.mallopt_calls == []
    assert allocator.libc_asked <= 1


def test_on_glibc_freed_chunk_buffers_are_kept_for_the_next_chunks(monkeypatch, tmp_path):
    allocator = Allocator(monkeypatch, "linux", ("glibc", "2.36"))
    for name in ("a.zip", "b.zip"):
        with open(tmp_path / name, "xb") as fp:
            ZipWriter(fp).close()
    assert allocator.mallopt_calls == [(-3, 8 * CHUNK_SIZE), (-1, 256 << 20)]  # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD
    assert allocator.libc_asked == 1
