"""The POS data generator: real SQLite files of the asked size, the same for a seed, a full demo folder."""

from __future__ import annotations

import configparser
import hashlib
import sqlite3
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from wizard.core.demo import DEMO_DATABASE, make_demo_folder, make_pos_database

MiB = 1024 * 1024
POS_TABLES = {"products", "customers", "cashiers", "sales", "sale_lines"}


def table_digest(path: Path) -> str:
    """SHA-256 over every row of every table, in order."""
    digest = hashlib.sha256()
    with sqlite3.connect(path) as conn:
        for table in sorted(POS_TABLES):
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY rowid"):
                digest.update(repr(row).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def pos_db(tmp_path_factory) -> Path:
    return make_pos_database(tmp_path_factory.mktemp("pos") / "pos.db", 3 * MiB, seed=1)


def test_make_pos_database_writes_the_pos_tables_and_their_indexes(pos_db):
    with sqlite3.connect(pos_db) as conn:
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
        indexes = {name for (name,) in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'index'")}
        columns = {row[1] for row in conn.execute("PRAGMA table_info(products)")}
        counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in POS_TABLES}
    assert POS_TABLES <= tables
    assert {"sale_lines_sale", "sale_lines_product", "sales_created_at", "sales_customer"} <= indexes
    assert {"sku", "name", "price", "stock", "barcode"} <= columns
    assert counts["products"] >= 100 and counts["customers"] >= 40
    assert counts["sales"] > 1000
    assert counts["sale_lines"] > 2 * counts["sales"]


def test_make_pos_database_passes_integrity_check_and_is_in_wal_mode(pos_db):
    with sqlite3.connect(pos_db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    with open(pos_db, "rb") as fh:
        assert fh.read(16) == b"SQLite format 3\x00"


def test_make_pos_database_rows_look_like_a_mexican_shop(pos_db):
    with sqlite3.connect(pos_db) as conn:
        barcodes = [b for (b,) in conn.execute("SELECT barcode FROM products")]
        rfcs = [r for (r,) in conn.execute("SELECT rfc FROM customers WHERE id > 1")]
        names = " ".join(n for (n,) in conn.execute("SELECT name FROM products"))
        methods = {m for (m,) in conn.execute("SELECT DISTINCT payment_method FROM sales")}
        first, last = conn.execute("SELECT min(created_at), max(created_at) FROM sales").fetchone()
        bad_totals = conn.execute(
            "SELECT count(*) FROM sales s JOIN (SELECT sale_id, sum(amount) AS total, count(*) AS n"
            " FROM sale_lines GROUP BY sale_id) l ON l.sale_id = s.id"
            " WHERE abs(s.total - l.total) > 0.006 OR s.items <> l.n"
        ).fetchone()[0]
        orphan_lines = conn.execute(
            "SELECT count(*) FROM sale_lines WHERE sale_id NOT IN (SELECT id FROM sales)"
        ).fetchone()[0]
    # EAN-13 with a valid check digit, GS1 Mexico prefix.
    for code in barcodes:
        digits = [int(c) for c in code]
        assert code.startswith("750") and len(code) == 13
        assert (sum(digits[0:12:2]) + 3 * sum(digits[1:12:2]) + digits[12]) % 10 == 0
    assert all(len(r) in (12, 13) and r.isalnum() for r in rfcs)
    assert any(c in names for c in "áéíóúñ")
    assert {"EFECTIVO", "TARJETA DE DÉBITO"} <= methods
    assert first < last and first.startswith("2016-01-04")
    assert bad_totals == 0
    assert orphan_lines == 0


@pytest.mark.parametrize("target", [2 * MiB, 12 * MiB])
def test_make_pos_database_lands_within_five_percent_of_the_target(tmp_path, target):
    path = make_pos_database(tmp_path / "pos.db", target)
    assert abs(path.stat().st_size - target) <= 0.05 * target


def test_make_pos_database_is_deterministic_for_a_seed(tmp_path):
    first = make_pos_database(tmp_path / "a.db", 2 * MiB, seed=7)
    again = make_pos_database(tmp_path / "b.db", 2 * MiB, seed=7)
    other = make_pos_database(tmp_path / "c.db", 2 * MiB, seed=8)
    assert table_digest(first) == table_digest(again)
    assert first.read_bytes() == again.read_bytes()
    assert table_digest(first) != table_digest(other)


def test_make_pos_database_replaces_an_existing_file_and_honours_journal_delete(tmp_path):
    path = tmp_path / "pos.db"
    path.write_bytes(b"not a database")
    (tmp_path / "pos.db-wal").write_bytes(b"stale wal")
    make_pos_database(path, 2 * MiB, journal_mode="delete")
    # No stale WAL, no scratch file of the second writer left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pos.db"]
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"


def test_make_pos_database_rejects_an_unknown_journal_mode(tmp_path):
    with pytest.raises(ValueError):
        make_pos_database(tmp_path / "pos.db", MiB, journal_mode="memory")


def test_make_demo_folder_writes_a_realistic_pos_folder(tmp_path):
    folder = make_demo_folder(tmp_path / "Mi tienda")
    assert folder == tmp_path / "Mi tienda"
    files = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}

    db = folder / DEMO_DATABASE
    assert DEMO_DATABASE.as_posix() == "datos/punto_de_venta.db"
    assert 2 * MiB <= db.stat().st_size <= 8 * MiB
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM sales").fetchone()[0] > 0

    pngs = sorted(folder.glob("imagenes/*.png"))
    jpegs = sorted(folder.glob("imagenes/*.jpg"))
    assert len(pngs) >= 2 and len(jpegs) >= 1
    for png in pngs:
        assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and png.read_bytes().endswith(b"IEND\xaeB`\x82")
    for jpeg in jpegs:
        data = jpeg.read_bytes()
        assert data[:2] == b"\xff\xd8" and data[-2:] == b"\xff\xd9"

    xmls = sorted(folder.glob("facturas/**/*.xml"))
    assert len(xmls) >= 2
    ns = {"cfdi": "http://www.sat.gob.mx/cfd/4"}
    for xml in xmls:
        root = ET.parse(xml).getroot()
        assert root.tag == "{http://www.sat.gob.mx/cfd/4}Comprobante" and root.get("Version") == "4.0"
        assert root.find("cfdi:Receptor", ns).get("Rfc")
    pdfs = sorted(folder.glob("facturas/**/*.pdf"))
    assert len(pdfs) == 1
    pdf = pdfs[0].read_bytes()
    assert pdf.startswith(b"%PDF-1.") and pdf.rstrip().endswith(b"%%EOF")
    xref_at = int(pdf.rsplit(b"startxref", 1)[1].split()[0])
    assert pdf[xref_at:].startswith(b"xref")

    settings = configparser.ConfigParser()
    settings.read(folder / "config" / "ajustes.ini", encoding="utf-8")
    assert settings["base_de_datos"]["ruta"] == "datos/punto_de_venta.db"
    assert settings["tienda"]["nombre"] == "Abarrotes La Güera"

    # Real shops' names: spaces, accents and ñ.
    assert any(" " in name for name in files)
    assert any("ñ" in name for name in files)
    assert any(c in name for name in files for c in "áéíóú")


def test_make_demo_folder_writes_the_same_files_twice(tmp_path):
    first = make_demo_folder(tmp_path / "a")
    second = make_demo_folder(tmp_path / "b")
    listing = sorted(p.relative_to(first).as_posix() for p in first.rglob("*") if p.is_file())
    assert listing == sorted(p.relative_to(second).as_posix() for p in second.rglob("*") if p.is_file())
    for name in listing:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_demo_module_does_not_import_tkinter():
    code = "import sys, wizard.core.demo; print('tkinter' in sys.modules)"
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
