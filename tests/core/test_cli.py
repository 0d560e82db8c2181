"""The command line, run for real as ``python -m wizard``: exit codes, Spanish sentences, no tkinter."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import ROOT, make_sales_db, respaldos_cmd, write_config
from wizard import __version__
from wizard.core.archive import read_manifest

PERCENT_LINE = re.compile(r"^\s*(\d{1,3})%$")
RESULT_LINE = re.compile(
    r"^Respaldo guardado y verificado: (respaldo_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d(?:_[A-Za-z0-9-]+)?\.zip) "
    r"\(\d+(\.\d)? (B|KB|MB|GB)\) en \d+\.\d s\.$")
GUI_MODULES = ("tkinter", "_tkinter", "ttkbootstrap", "wizard.ui")


def python_env() -> dict[str, str]:
    """os.environ (with conftest's isolated XDG folders) plus our package on the path."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "PYTHONUTF8": "1"}


def respaldos(*args: str, python_flags: tuple[str, ...] = ()) -> subprocess.CompletedProcess:
    cmd = respaldos_cmd(*args)
    cmd[1:1] = python_flags
    return subprocess.run(cmd, check=False, capture_output=True, text=True, encoding="utf-8", cwd=ROOT,
                          env=python_env(), timeout=180)


def python_code(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], check=False, capture_output=True, text=True,
                          encoding="utf-8", cwd=ROOT, env=python_env(), timeout=180)


@dataclass
class Shop:
    data: Path
    dest: Path
    config: Path


@pytest.fixture
def shop(tmp_path) -> Shop:
    """A small POS folder (SQLite sales, an invoice, a price list), a USB folder and a config."""
    data = tmp_path / "Mi Tienda"
    (data / "Facturas").mkdir(parents=True)
    make_sales_db(data / "ventas.db", rows=300)
    (data / "Facturas" / "factura 0001.xml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?><cfdi:Comprobante Folio="0001" Total="116.00"/>\n',
        encoding="utf-8")
    (data / "precios.csv").write_text("sku,precio\n" + "".join(f"{i},{i * 1.5:.2f}\n" for i in range(500)),
                                      encoding="utf-8")
    dest = tmp_path / "USB" / "Respaldos"
    dest.mkdir(parents=True)
    return Shop(data, dest, write_config(tmp_path / "respaldos.toml", [data], dest))


def back_up(shop: Shop) -> Path:
    proc = respaldos("backup", "--config", str(shop.config))
    assert proc.returncode == 0, proc.stderr
    return shop.dest / RESULT_LINE.match(proc.stdout.splitlines()[-1]).group(1)


# -- version and demo data -------------------------------------------------------------------------------
def test_version_prints_the_app_version():
    proc = respaldos("--version")
    assert proc.returncode == 0
    assert proc.stdout == f"Respaldos {__version__}\n"


def test_demo_data_writes_a_pos_folder_that_backup_then_backs_up(tmp_path):
    folder = tmp_path / "demo punto de venta"
    proc = respaldos("--demo-data", str(folder))
    assert proc.returncode == 0, proc.stderr
    prefix = "Datos de ejemplo creados en "
    assert proc.stdout.startswith(prefix) and proc.stdout.endswith(".\n")
    made = Path(proc.stdout[len(prefix):-2])
    assert made.is_dir() and (made == folder or folder in made.parents)
    files = [p for p in made.rglob("*") if p.is_file()]
    headers = {p: p.read_bytes()[:16] for p in files}
    assert any(h == b"SQLite format 3\x00" for h in headers.values()), "no SQLite database"
    assert any(h.startswith((b"\x89PNG", b"\xff\xd8\xff")) for h in headers.values()), "no PNG/JPEG image"
    assert any(p.suffix.lower() == ".xml" for p in files), "no XML invoice"

    dest = tmp_path / "USB"
    dest.mkdir()
    config_path = write_config(tmp_path / "respaldos.toml", [made], dest)
    proc = respaldos("backup", "--config", str(config_path))
    assert proc.returncode == 0, proc.stderr
    archive = dest / RESULT_LINE.match(proc.stdout.splitlines()[-1]).group(1)
    manifest = read_manifest(archive)
    assert len(manifest.files) == len(files)
    assert {f.kind for f in manifest.files} == {"sqlite", "file"}
    assert respaldos("verify", str(archive)).returncode == 0


# -- backup ----------------------------------------------------------------------------------------------
def test_backup_prints_percent_lines_and_a_one_line_result(shop):
    rng = random.Random(3)
    with open(shop.data / "imágenes de productos.bin", "wb") as fh:
        for _ in range(12):  # ~6 MiB, half random: enough reads for several progress lines
            fh.write(rng.randbytes(256 * 1024))
            fh.write(b"producto,precio,existencias\n" * 9000)
    proc = respaldos("backup", "--config", str(shop.config))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    percents = [int(m.group(1)) for m in map(PERCENT_LINE.match, lines) if m]
    results = [line for line in lines if not PERCENT_LINE.match(line)]
    assert len(percents) >= 3
    assert percents[0] == 0 and percents[-1] == 100 and percents == sorted(percents)
    assert len(results) == 1 and lines[-1] == results[0]
    name = RESULT_LINE.match(results[0]).group(1)
    assert [p.name for p in shop.dest.iterdir()] == [name]
    assert respaldos("verify", str(shop.dest / name)).returncode == 0


def test_backup_to_a_missing_destination_fails_with_a_sentence_and_never_creates_it(tmp_path, shop):
    missing = tmp_path / "E" / "Respaldos"
    config_path = write_config(tmp_path / "sin usb.toml", [shop.data], missing)
    proc = respaldos("backup", "--config", str(config_path))
    assert proc.returncode == 1
    assert proc.stderr == (f"No se encontró la carpeta {missing.as_posix()}. "
                           "Conecta la memoria USB o elige otra carpeta.\n")
    assert "%" not in proc.stdout
    assert not missing.exists() and not missing.parent.exists()


def test_backup_with_a_missing_config_file_is_a_usage_error(tmp_path):
    missing = tmp_path / "no existe.toml"
    proc = respaldos("backup", "--config", str(missing))
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"No hay configuración en {missing}.")
    assert "Traceback" not in proc.stderr


# -- list ------------------------------------------------------------------------------------------------
def test_list_shows_each_backup_with_date_and_size_newest_first_and_ignores_other_files(shop):
    newest = back_up(shop)
    older = shop.dest / "respaldo_2026-11-20_20-00-00.zip"
    oldest = shop.dest / "respaldo_2025-12-31_23-59-59.zip"
    shutil.copyfile(newest, older)
    shutil.copyfile(newest, oldest)
    for unrelated in ("notas.txt", "respaldo_manual.zip", "respaldo_2026-11-27_20-00-00.zip.part",
                      "respaldo_2026-02-30_20-00-00.zip", "Respaldo_2026-11-21_20-00-00.ZIP"):
        (shop.dest / unrelated).write_bytes(b"no es un respaldo")
    (shop.dest / "respaldo_2026-11-22_20-00-00.zip").mkdir()  # a folder with an archive's name
    size = newest.stat().st_size
    assert 1024 <= size < 1 << 20
    size_text = f"{size / 1024:.1f} KB"

    proc = respaldos("list", "--config", str(shop.config))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    stamp = newest.name.removeprefix("respaldo_").removesuffix(".zip")
    day, clock = stamp.split("_")[:2]
    assert [line.split() for line in lines[:3]] == [
        [day, clock.replace("-", ":"), *size_text.split(), newest.name],
        ["2026-11-20", "20:00:00", *size_text.split(), older.name],
        ["2025-12-31", "23:59:59", *size_text.split(), oldest.name],
    ]
    assert lines[3:] == [f"3 respaldos en {shop.dest}."]


def test_list_of_a_single_backup_counts_it_in_the_singular(shop):
    back_up(shop)
    proc = respaldos("list", "--config", str(shop.config))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == f"1 respaldo en {shop.dest}."


def test_list_of_an_empty_destination_says_there_are_no_backups(shop):
    (shop.dest / "notas.txt").write_text("lista de pendientes", encoding="utf-8")
    proc = respaldos("list", "--config", str(shop.config))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"No hay respaldos en {shop.dest}.\n"


def test_list_of_a_missing_destination_fails_with_a_sentence_and_never_creates_it(tmp_path, shop):
    missing = tmp_path / "E" / "Respaldos"
    config_path = write_config(tmp_path / "sin usb.toml", [shop.data], missing)
    proc = respaldos("list", "--config", str(config_path))
    assert proc.returncode == 1
    assert proc.stderr == (f"No se encontró la carpeta {missing.as_posix()}. "
                           "Conecta la memoria USB o elige otra carpeta.\n")
    assert not missing.parent.exists()


# -- bad usage -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    ["respaldar-todo"],
    ["verify"],
    ["restore", "respaldo_2026-11-27_20-00-00.zip"],
    ["backup", "--ahora"],
    ["list", "sobra"],
], ids=["unknown-subcommand", "verify-without-archive", "restore-without-to", "unknown-option",
        "extra-argument"])
def test_bad_usage_exits_2_with_the_usage_and_no_traceback(args):
    proc = respaldos(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "respaldos" in proc.stderr and "error:" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- the command line never loads the window's toolkit ------------------------------------------------------
def loaded_gui_modules(modules) -> list[str]:
    return sorted(m for m in modules if m in GUI_MODULES or m.startswith(tuple(f"{g}." for g in GUI_MODULES)))


def test_importing_the_cli_and_every_core_module_loads_no_tkinter():
    code = (
        "import importlib, json, pkgutil, sys\n"
        "import wizard.cli, wizard.core.backup, wizard.core.archive\n"
        "core = sys.modules['wizard.core']\n"
        "names = [m.name for m in pkgutil.walk_packages(core.__path__, 'wizard.core.')]\n"
        "for name in names:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps({'imported': names, 'modules': sorted(sys.modules)}))\n"
    )
    proc = python_code(code)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert {"wizard.core.backup", "wizard.core.archive", "wizard.core.config"} <= set(report["imported"])
    assert loaded_gui_modules(report["modules"]) == []


@pytest.mark.parametrize("subcommand", ["backup", "list", "verify", "restore"])
def test_each_subcommand_runs_to_the_end_without_loading_tkinter(shop, tmp_path, subcommand):
    archive = back_up(shop) if subcommand in ("verify", "restore") else None
    argv = {
        "backup": ["backup", "--config", str(shop.config)],
        "list": ["list", "--config", str(shop.config)],
        "verify": ["verify", str(archive)],
        "restore": ["restore", str(archive), "--to", str(tmp_path / "restaurado")],
    }[subcommand]
    code = (
        "import json, sys\n"
        "from wizard.cli import main\n"
        "rc = main(sys.argv[1:])\n"
        "print(json.dumps({'rc': rc, 'modules': sorted(sys.modules)}))\n"
    )
    proc = python_code(code, *argv)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    assert report["rc"] == 0, proc.stderr
    engine = "wizard.core.archive" if subcommand in ("verify", "restore") else "wizard.core.backup"
    assert engine in report["modules"]
    assert loaded_gui_modules(report["modules"]) == []


@pytest.mark.parametrize("subcommand", ["backup", "list"])
def test_importtime_shows_no_tkinter_for_a_real_subcommand_run(shop, subcommand):
    proc = respaldos(subcommand, "--config", str(shop.config), python_flags=("-X", "importtime"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = [line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines()
                if line.startswith("import time:") and "|" in line]
    assert "wizard.cli" in imported and "wizard.core.config" in imported
    assert loaded_gui_modules(imported) == []


def test_a_restored_backup_has_the_database_with_every_sale(shop, tmp_path):
    archive = back_up(shop)
    target = tmp_path / "restaurado"
    proc = respaldos("restore", str(archive), "--to", str(target))
    assert proc.returncode == 0, proc.stderr
    restored = target / shop.data.name / "ventas.db"
    with sqlite3.connect(restored) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM sales").fetchone() == (300,)
    for rel in ("Facturas/factura 0001.xml", "precios.csv"):
        assert (target / shop.data.name / rel).read_bytes() == (shop.data / rel).read_bytes()
