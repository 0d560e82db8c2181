"""A small shop backed up for real, for the drill tests: a POS-like database (sales with their date, lines,
products), a photo, the config, and one real backup of it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from tests.helpers import write_config
from wizard.core import config as config_mod
from wizard.core.backup import run_backup
from wizard.core.config import Config

NEWEST_SALE = datetime(2026, 11, 30, 19, 42, 5)


def make_pos_db(path: Path, sales: int = 400) -> Path:
    """Sales (``fecha`` as ISO text, the newest NEWEST_SALE), their lines, products without dates, and a
    table of cash cuts whose moments are unix seconds."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=wal")
    conn.executescript("""
        CREATE TABLE productos (id INTEGER PRIMARY KEY, nombre TEXT, precio REAL);
        CREATE TABLE ventas (id INTEGER PRIMARY KEY, fecha TEXT, total REAL, nota TEXT);
        CREATE TABLE venta_lineas (id INTEGER PRIMARY KEY, venta_id INTEGER, producto_id INTEGER, cantidad INTEGER);
        CREATE TABLE "cortes de caja" (id INTEGER PRIMARY KEY, cerrado INTEGER, monto REAL);
    """)
    conn.executemany("INSERT INTO productos (nombre, precio) VALUES (?, ?)",
                     ((f"Producto ñandú {i}", i * 0.75) for i in range(60)))
    conn.executemany("INSERT INTO ventas (fecha, total, nota) VALUES (?, ?, ?)",
                     (((NEWEST_SALE - timedelta(minutes=7 * i)).isoformat(sep=" "), i * 1.5, "x" * 300)
                      for i in range(sales)))
    conn.executemany("INSERT INTO venta_lineas (venta_id, producto_id, cantidad) VALUES (?, ?, ?)",
                     ((1 + i // 3, i % 60, 1 + i % 4) for i in range(sales * 3)))
    conn.executemany('INSERT INTO "cortes de caja" (cerrado, monto) VALUES (?, ?)',
                     ((int((NEWEST_SALE - timedelta(days=i + 1)).timestamp()), 1000.0 + i) for i in range(20)))
    conn.commit()
    conn.close()
    return path


def counts(db: Path) -> dict[str, int]:
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        conn.close()


@dataclass
class Shop:
    data: Path
    usb: Path
    config: Config
    config_path: Path
    archive: Path

    @property
    def db(self) -> Path:
        return self.data / "punto_de_venta.db"


def make_shop(tmp_path: Path, sales: int = 400) -> Shop:
    data = tmp_path / "SICAR" / "datos"
    data.mkdir(parents=True)
    make_pos_db(data / "punto_de_venta.db", sales)
    (data / "logo.png").write_bytes(bytes(range(256)) * 40)
    usb = tmp_path / "usb"
    usb.mkdir()
    path = write_config(tmp_path / "respaldos.toml", [data], usb)
    cfg = config_mod.load(path)
    result = run_backup(cfg)
    assert result.status == "ok", result.message
    return Shop(data, usb, cfg, path, result.archive)


def member_of(archive: Path, suffix: str) -> str:
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        return next(n for n in zf.namelist() if n.endswith(suffix))


def flip_byte_inside(archive: Path, member: str, at: float = 0.5) -> None:
    """Change one byte of ``member``'s compressed data in place (a disk that went bad under it)."""
    import struct
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo(member)
    with open(archive, "r+b") as fh:
        fh.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack("<HH", fh.read(4))
        offset = info.header_offset + 30 + name_len + extra_len + int(info.compress_size * at)
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0x5A]))
