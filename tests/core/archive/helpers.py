"""Shared by the archive tests: the shop's files, archives built for them, the real command line, and
ways to damage an archive."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import struct
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from tests.helpers import ROOT, in_ci, respaldos_cmd, write_config
from wizard import __version__
from wizard.core import config
from wizard.core.archive import MANIFEST_NAME, Manifest, ManifestFile, ZipWriter
from wizard.core.backup import run_backup

UNZIP = shutil.which("unzip")
SEVEN_ZIP = shutil.which("7z")
# Skipped where the tool is missing, except in CI (RESPALDOS_CI): there the test runs and fails.
needs_unzip = pytest.mark.skipif(UNZIP is None and not in_ci(),
                                 reason="unzip is not installed (apt-get install unzip)")
needs_7z = pytest.mark.skipif(SEVEN_ZIP is None and not in_ci(),
                              reason="7z is not installed (apt-get install p7zip-full)")
UNZIP = UNZIP or "unzip"  # in CI without it: FileNotFoundError naming the tool
SEVEN_ZIP = SEVEN_ZIP or "7z"

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


MEMBER = "datos/ventas.db"


def finish_archive(writer: ZipWriter, entries) -> None:
    manifest = Manifest(app="Respaldos", version=__version__, created="2026-11-28T20:00:00-06:00", host="caja",
                        sources=[])
    manifest.files = [ManifestFile(path=e.name, size=e.size, mtime="2026-11-28T20:00:00-06:00", sha256=e.sha256)
                      for e in entries]
    writer.add_bytes(MANIFEST_NAME, manifest.to_json())
    writer.close()
