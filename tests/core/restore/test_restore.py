"""Restore, against real files, real SQLite databases, real POS processes holding them, and a real kill -9."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import ROOT, make_sales_db, respaldos_cmd
from wizard.core import config as config_mod
from wizard.core import history, restore
from wizard.core.archive import MANIFEST_NAME, Manifest, ManifestFile, verify_archive
from wizard.core.backup import apply_retention, archive_name, run_backup
from wizard.core.config import Config, DestinationConfig, RetentionConfig, SourceConfig
from wizard.core.errors import ArchiveDamaged, Cancelled, UserError
from wizard.core.retention import select_expired_with_safety

IN_USE = "Cierra el punto de venta y vuelve a intentar."

# mariadb_server, db_keyring (not imported here, so that pytest can rewrite their asserts)
pytest_plugins = ["tests.dbservers"]


@dataclass
class Shop:
    data: Path
    usb: Path
    config: Config
    config_path: Path

    @property
    def db(self) -> Path:
        return self.data / "punto_de_venta.db"


@pytest.fixture
def shop(tmp_path) -> Shop:
    data = tmp_path / "SICAR" / "datos"
    (data / "imagenes").mkdir(parents=True)
    (data / "facturas").mkdir()
    make_sales_db(data / "punto_de_venta.db", rows=2000)
    (data / "imagenes" / "coca 600ml.jpg").write_bytes(os.urandom(5000))
    (data / "facturas" / "F1001 señor.xml").write_text("<cfdi:Comprobante Folio='1001'/>", encoding="utf-8")
    (data / "config.ini").write_text("impresora=EPSON\n", encoding="utf-8")
    usb = tmp_path / "KINGSTON" / "Respaldos"
    usb.mkdir(parents=True)
    config = Config(source=SourceConfig(paths=[str(data)]), destination=DestinationConfig(folder=str(usb)))
    path = tmp_path / "respaldos.toml"
    config_mod.save(config, path)
    return Shop(data, usb, config, path)


def back_up(shop: Shop) -> Path:
    result = run_backup(shop.config)
    assert result.succeeded, result.message
    assert result.archive is not None
    return result.archive


def files_of(folder: Path) -> dict[str, bytes]:
    """Every plain file under ``folder`` (databases and their companions left out) with its bytes."""
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.name.startswith("punto_de_venta.db"):
            found[path.relative_to(folder).as_posix()] = path.read_bytes()
    return found


def state_of(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file, databases included, with its bytes and modification time."""
    return {p.relative_to(folder).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def rows_of(db: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        return {t: conn.execute(f'SELECT * FROM "{t}" ORDER BY rowid').fetchall() for t in tables}
    finally:
        conn.close()


def sell(db: Path, n: int) -> None:
    conn = sqlite3.connect(db)
    conn.executemany("INSERT INTO sales (ts, total, note) VALUES (datetime('now'), ?, ?)",
                     ((i * 3.0, f"venta de hoy {i}") for i in range(n)))
    conn.commit()
    conn.close()


def archives_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("respaldo_"))


# -- the round trip ------------------------------------------------------------------------------------------

def test_restoring_into_another_folder_gives_back_the_same_bytes_and_the_same_rows(shop, tmp_path):
    files, rows = files_of(shop.data), rows_of(shop.db)
    archive = back_up(shop)

    report = restore.restore_to_folder(archive, tmp_path / "restaurado")

    copy = tmp_path / "restaurado" / "datos"
    assert files_of(copy) == files
    assert rows_of(copy / "punto_de_venta.db") == rows
    assert len(report.restored) == 4
    assert [(d.ok, d.tables) for d in report.databases] == [(True, [restore.TableCount("sales", 2000)])]
    assert report.message.startswith("Se restauraron 4 archivos del respaldo de hoy a las ")
    assert f"en {tmp_path / 'restaurado'}." in report.message
    assert "sin errores (1 tabla, 2,000 registros)" in report.message
    assert report.safety_backup is None
    assert not list((tmp_path / "restaurado").rglob("*.restaurando"))


def test_restoring_in_place_brings_yesterdays_data_back_and_keeps_todays_in_a_safety_backup(shop, tmp_path):
    archive = back_up(shop)
    old_files, old_rows = files_of(shop.data), rows_of(shop.db)
    # Today: sales, a changed setting, a deleted photo, a new file.
    sell(shop.db, 50)
    (shop.data / "config.ini").write_text("impresora=ZEBRA\n", encoding="utf-8")
    (shop.data / "imagenes" / "coca 600ml.jpg").unlink()
    (shop.data / "nuevo hoy.txt").write_text("hecho hoy", encoding="utf-8")
    today_files, today_rows = files_of(shop.data), rows_of(shop.db)

    report = restore.restore_to_original(archive, shop.config)

    assert rows_of(shop.db) == old_rows
    now = files_of(shop.data)
    assert now.pop("nuevo hoy.txt") == b"hecho hoy"  # files made after the backup are left alone
    assert now == old_files
    assert sorted(p.name for p in shop.data.iterdir()) == ["config.ini", "facturas", "imagenes", "nuevo hoy.txt",
                                                           "punto_de_venta.db"]
    assert [d.ok for d in report.databases] == [True]
    assert report.folders == [shop.data]

    safety = report.safety_backup
    assert safety is not None and safety.parent == shop.usb and safety != archive
    assert archives_in(shop.usb) == sorted([archive.name, safety.name])
    last = history.read()[-1]
    assert (last.trigger, last.status, last.archive, last.verified) == ("before-restore", "ok", safety.name, True)
    assert f"respaldo de seguridad {safety}." in report.message
    assert report.message.startswith("Se restauraron 4 archivos del respaldo de hoy a las ")
    assert f"en su lugar original ({shop.data})." in report.message

    # The safety backup holds today's data, whole.
    restore.restore_to_folder(safety, tmp_path / "lo de hoy")
    assert files_of(tmp_path / "lo de hoy" / "datos") == today_files
    assert rows_of(tmp_path / "lo de hoy" / "datos" / "punto_de_venta.db") == today_rows


def test_a_stale_wal_beside_the_database_is_not_applied_to_the_restored_one(shop):
    archive = back_up(shop)
    old_rows = rows_of(shop.db)
    # A POS that crashed: its connection was killed with committed sales still in the -wal.
    code = ("import os, sqlite3, sys\n"
            "c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA wal_autocheckpoint=0')\n"
            "c.executemany('INSERT INTO sales (ts, total, note) VALUES (1, 2, ?)', [(str(i),) for i in range(300)])\n"
            "c.commit(); os._exit(0)\n")
    subprocess.run([sys.executable, "-c", code, str(shop.db)], check=True)
    assert Path(f"{shop.db}-wal").stat().st_size > 0

    report = restore.restore_to_original(archive, shop.config)

    assert rows_of(shop.db) == old_rows
    assert not Path(f"{shop.db}-wal").exists() or Path(f"{shop.db}-wal").stat().st_size == 0
    # the crashed POS's last sales are in the safety backup
    with zipfile.ZipFile(report.safety_backup) as zf:
        assert zf.getinfo("datos/punto_de_venta.db")
    restored = restore.count_rows_in_archive(report.safety_backup, "datos/punto_de_venta.db")
    assert restored == [restore.TableCount("sales", 2300)]


# -- the POS must be closed -------------------------------------------------------------------------------------

HOLDER = """
import sqlite3, sys, time
mode, path = sys.argv[1], sys.argv[2]
c = sqlite3.connect(path, isolation_level=None)
if mode == "transaction":
    c.execute("BEGIN IMMEDIATE")
    c.execute("INSERT INTO sales (ts, total, note) VALUES ('ahora', 1, 'sin terminar')")
else:
    c.execute("SELECT count(*) FROM sales").fetchone()
print("listo", flush=True)
sys.stdin.read()
"""


def start_holder(mode: str, db: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, mode, str(db)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "listo"
    return proc


def start_writer(db: Path, tmp_path: Path) -> tuple[subprocess.Popen, Path, Path]:
    stop, out = tmp_path / "stop", tmp_path / "writer.json"
    proc = subprocess.Popen([sys.executable, "-m", "tests.pos_writer", str(db), str(stop), str(out)], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not Path(f"{out}.ready").exists():
        assert proc.poll() is None, "writer died"
        assert time.monotonic() < deadline, "writer never started"
        time.sleep(0.01)
    return proc, stop, out


@pytest.mark.parametrize("pos", ["writer selling (WAL)", "open transaction (rollback journal)",
                                 "idle connection (WAL)"])
def test_a_database_the_pos_still_uses_blocks_restoring_in_place_and_nothing_is_touched(shop, tmp_path, pos):
    if "rollback" in pos:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{shop.db}{suffix}").unlink(missing_ok=True)
        make_sales_db(shop.db, rows=2000, journal="delete")
    archive = back_up(shop)
    (shop.data / "config.ini").write_text("impresora=ZEBRA\n", encoding="utf-8")
    if pos.startswith("writer"):
        proc, stop, out = start_writer(shop.db, tmp_path)
    else:
        proc = start_holder("transaction" if "transaction" in pos else "idle", shop.db)
    try:
        files = files_of(shop.data)
        db_before = shop.db.read_bytes() if not pos.startswith("writer") else None
        with pytest.raises(restore.PosInUse) as info:
            restore.restore_to_original(archive, shop.config)
        assert str(info.value) == f"El punto de venta está usando {shop.db}. {IN_USE}"
        assert files_of(shop.data) == files
        if db_before is not None:
            assert shop.db.read_bytes() == db_before
        assert archives_in(shop.usb) == [archive.name], "no safety backup either"
        assert not list(shop.data.rglob("*.restaurando"))
    finally:
        if pos.startswith("writer"):
            report = json.loads(stop.touch() or proc.wait(timeout=30) or out.read_text())
            assert report["errors"] == [], "the POS never saw an error because of the check"
        else:
            proc.communicate("", timeout=30)
    # Once the POS is closed the same restore goes through.
    restore.restore_to_original(archive, shop.config)
    assert (shop.data / "config.ini").read_text(encoding="utf-8") == "impresora=EPSON\n"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="open files are seen through /proc")
def test_a_rollback_journal_database_merely_open_in_the_pos_is_seen_through_proc(shop):
    for suffix in ("", "-wal", "-shm"):
        Path(f"{shop.db}{suffix}").unlink(missing_ok=True)
    make_sales_db(shop.db, rows=100, journal="delete")
    archive = back_up(shop)
    # A rollback-journal connection between transactions holds no lock at all: only the open file shows it.
    code = "import sys; f = open(sys.argv[1], 'rb'); print('listo', flush=True); sys.stdin.read()"
    proc = subprocess.Popen([sys.executable, "-c", code, str(shop.db)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "listo"
        assert restore.database_in_use(shop.db)
        with pytest.raises(restore.PosInUse, match=IN_USE):
            restore.restore_to_original(archive, shop.config)
    finally:
        proc.communicate("", timeout=30)
    assert not restore.database_in_use(shop.db)


# -- damaged or hostile archives ----------------------------------------------------------------------------

def damage_member(archive: Path, member: str) -> None:
    with zipfile.ZipFile(archive) as zf:
        info = zf.getinfo(member)
    with open(archive, "r+b") as fh:
        fh.seek(info.header_offset + 26)
        name_len, extra_len = int.from_bytes(fh.read(2), "little"), int.from_bytes(fh.read(2), "little")
        spot = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
        fh.seek(spot)
        byte = fh.read(1)
        fh.seek(spot)
        fh.write(bytes([byte[0] ^ 0x55]))


def test_a_damaged_archive_is_refused_before_anything_is_touched(shop, tmp_path):
    archive = back_up(shop)
    sell(shop.db, 10)
    (shop.data / "config.ini").write_text("impresora=ZEBRA\n", encoding="utf-8")
    damage_member(archive, "datos/punto_de_venta.db")
    before = state_of(shop.data)
    time.sleep(0.01)

    with pytest.raises(ArchiveDamaged) as info:
        restore.restore_to_original(archive, shop.config)

    assert info.value.member == "datos/punto_de_venta.db"
    assert str(info.value).startswith(f"El respaldo {archive.name} está dañado: datos/punto_de_venta.db ")
    assert str(info.value).endswith("Usa otro respaldo.")
    assert state_of(shop.data) == before, "bytes and modification times of the data are unchanged"
    assert archives_in(shop.usb) == [archive.name], "no safety backup was made"
    assert history.read()[-1].trigger == "manual"

    with pytest.raises(ArchiveDamaged):
        restore.restore_to_folder(archive, tmp_path / "otra")
    assert not (tmp_path / "otra").exists()


def hostile_archive(path: Path, data: Path, names: list[str], top: str = "datos") -> Path:
    """A well-formed archive (CRCs and SHA-256 right) whose names try to leave the target."""
    import hashlib

    manifest = Manifest(app="Respaldos", version="0.1.0", created="2026-11-25T20:00:00-06:00", host="CAJA1",
                        sources=[{"path": str(data), "archive_path": top, "type": "folder"}])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in names:
            payload = f"contenido de {name}".encode()
            zf.writestr(name, payload)
            manifest.files.append(ManifestFile(name, len(payload), "2026-11-25T19:00:00-06:00",
                                               hashlib.sha256(payload).hexdigest()))
        zf.writestr(MANIFEST_NAME, manifest.to_json())
    return path


@pytest.mark.parametrize("evil", ["datos/../../fuera.txt", "../fuera.txt", "/tmp/respaldos-fuera.txt",
                                  "datos/..\\..\\fuera.txt"])
def test_an_archive_with_a_path_that_leaves_the_target_is_refused_and_writes_nothing(shop, tmp_path, evil):
    archive = hostile_archive(shop.usb / archive_name(datetime(2026, 11, 25, 20)), shop.data,
                              ["datos/config.ini", evil])
    before = state_of(shop.data)
    outside = [tmp_path / "fuera.txt", tmp_path / "SICAR" / "fuera.txt", Path("/tmp/respaldos-fuera.txt")]

    with pytest.raises(UserError, match="ruta no permitida"):
        restore.restore_to_original(archive, shop.config)
    with pytest.raises(UserError, match="ruta no permitida"):
        restore.restore_to_folder(archive, tmp_path / "otra" / "carpeta")

    assert state_of(shop.data) == before
    assert not any(p.exists() for p in outside)
    assert not (tmp_path / "otra" / "carpeta").exists() or not any((tmp_path / "otra" / "carpeta").iterdir())
    assert archives_in(shop.usb) == [archive.name]


def test_a_manifest_whose_source_folder_name_climbs_out_is_refused_in_place(shop, tmp_path):
    archive = hostile_archive(shop.usb / archive_name(datetime(2026, 11, 25, 20)), shop.data,
                              ["../config.ini"], top="..")
    with pytest.raises(UserError):
        restore.restore_to_original(archive, shop.config)
    assert (shop.data / "config.ini").read_text(encoding="utf-8") == "impresora=EPSON\n"
    assert archives_in(shop.usb) == [archive.name]


# -- failures midway ------------------------------------------------------------------------------------------

def test_a_failure_midway_leaves_each_file_whole_and_says_where_the_safety_backup_is(shop):
    archive = back_up(shop)
    old_files, old_rows = files_of(shop.data), rows_of(shop.db)
    sell(shop.db, 25)
    (shop.data / "config.ini").write_text("impresora=ZEBRA\n", encoding="utf-8")
    shutil.rmtree(shop.data / "imagenes")
    (shop.data / "imagenes").write_text("un archivo donde iba la carpeta", encoding="utf-8")
    today_files, today_rows = files_of(shop.data), rows_of(shop.db)

    with pytest.raises(restore.RestoreFailed) as info:
        restore.restore_to_original(archive, shop.config)

    error = info.value
    text = str(error)
    assert error.safety_backup is not None and error.safety_backup.is_file()
    verify_archive(error.safety_backup)
    assert f"Los datos que había antes están en el respaldo de seguridad {error.safety_backup}" in text
    assert "La restauración se detuvo en " in text and "imagenes" in text
    assert "cada archivo quedó completo (el anterior o el del respaldo)" in text
    now = files_of(shop.data)
    for rel, content in now.items():
        assert content in (old_files.get(rel), today_files.get(rel)), rel
    assert rows_of(shop.db) in (old_rows, today_rows)
    assert len(error.restored) == 3  # config.ini, the database and the invoice came before imagenes/


def test_cancel_while_files_are_replaced_says_how_far_it_got_and_where_the_safety_backup_is(shop):
    archive = back_up(shop)
    (shop.data / "config.ini").write_text("impresora=ZEBRA\n", encoding="utf-8")
    cancel = threading.Event()

    def report(event):
        if event.phase == "restore" and event.percent > 0:
            cancel.set()

    with pytest.raises(restore.RestoreFailed) as info:
        restore.restore_to_original(archive, shop.config, report=report, cancel=cancel)
    text = str(info.value)
    assert text.startswith("Restauración cancelada. Se restauraron ")
    assert str(info.value.safety_backup) in text


def test_cancel_before_files_are_replaced_changes_nothing(shop):
    archive = back_up(shop)
    (shop.data / "config.ini").write_text("impresora=ZEBRA\n", encoding="utf-8")
    before = state_of(shop.data)
    cancel = threading.Event()
    events = []

    def report(event):
        events.append(event)
        if event.phase == "safety" and event.percent > 0:
            cancel.set()

    with pytest.raises(Cancelled):
        restore.restore_to_original(archive, shop.config, report=report, cancel=cancel)
    assert state_of(shop.data) == before
    assert archives_in(shop.usb) == [archive.name]
    assert [(e.step, e.steps) for e in events if e.percent == 0][:3] == [(1, 4), (2, 4), (3, 4)]


def make_big_shop(shop: Shop, files: int) -> None:
    """Enough data that replacing it takes a while: many photos and a larger database."""
    rng = random.Random(7)
    for i in range(files):
        (shop.data / "imagenes" / f"producto_{i:03d}.jpg").write_bytes(rng.randbytes(1 << 20))
    for suffix in ("", "-wal", "-shm"):
        Path(f"{shop.db}{suffix}").unlink(missing_ok=True)
    make_sales_db(shop.db, rows=40_000, pad=600)


def test_kill_9_in_the_middle_of_restoring_leaves_every_file_old_or_new_and_the_safety_backup(shop, tmp_path):
    make_big_shop(shop, files=60)
    archive = back_up(shop)
    new_files, new_rows = files_of(shop.data), rows_of(shop.db)
    # Today's data differs in every file.
    rng = random.Random(99)
    for path in sorted((shop.data / "imagenes").iterdir()):
        path.write_bytes(rng.randbytes(path.stat().st_size))
    (shop.data / "config.ini").write_text("impresora=ZEBRA\n", encoding="utf-8")
    sell(shop.db, 500)
    old_files, old_rows = files_of(shop.data), rows_of(shop.db)
    photos = sorted((shop.data / "imagenes").iterdir())
    inodes = {p: p.stat().st_ino for p in photos}

    proc = subprocess.Popen(respaldos_cmd("restore", str(archive), "--to-original", "--config", str(shop.config_path)),
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    replaced = 0
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        replaced = sum(1 for p in photos if p.exists() and p.stat().st_ino != inodes[p])
        if replaced:
            break
    assert proc.poll() is None, "the restore ended before it could be killed: " + proc.stderr.read().decode()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert 0 < replaced < len(photos)

    now = files_of(shop.data)
    assert set(now) - set(old_files) <= {f"imagenes/.{p.name}.restaurando" for p in photos}
    mixed = {"old": 0, "new": 0}
    for rel, content in now.items():
        if rel.endswith(".restaurando"):
            continue
        assert content in (old_files[rel], new_files[rel]), f"{rel} is neither the old nor the restored file"
        mixed["old" if content == old_files[rel] else "new"] += 1
    assert mixed["old"] and mixed["new"], mixed
    conn = sqlite3.connect(shop.db)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()
    assert rows_of(shop.db) in (old_rows, new_rows)

    safety = [n for n in archives_in(shop.usb) if n != archive.name]
    assert len(safety) == 1 and history.read()[-1].trigger == "before-restore"
    verify_archive(shop.usb / safety[0])

    # Restoring again finishes the job (and leaves no temporary files).
    restore.restore_to_original(archive, shop.config)
    assert files_of(shop.data) == new_files
    assert rows_of(shop.db) == new_rows


# -- what the list and the dialog show -------------------------------------------------------------------------

def test_the_sentence_says_which_changes_would_be_lost():
    now = datetime(2025, 11, 27, 9, 30)
    assert restore.changes_lost_sentence(datetime(2025, 11, 25, 20, 0), now) == (
        "Se perderán los cambios hechos después del martes 25 a las 20:00.")
    assert restore.changes_lost_sentence(datetime(2025, 11, 27, 8, 5), now) == (
        "Se perderán los cambios hechos hoy después de las 08:05.")
    assert restore.changes_lost_sentence(datetime(2025, 10, 28, 20, 0), now) == (
        "Se perderán los cambios hechos después del martes 28 de octubre a las 20:00.")
    assert restore.changes_lost_sentence(datetime(2024, 11, 25, 20, 0), now) == (
        "Se perderán los cambios hechos después del 25 de noviembre de 2024 a las 20:00.")


def test_the_list_shows_date_size_verified_state_and_safety_backups(shop, tmp_path):
    first = back_up(shop)
    report = restore.restore_to_original(first, shop.config)
    stranger = shop.usb / archive_name(datetime(2026, 1, 2, 20, 0))
    shutil.copy(first, stranger)  # an archive copied in from elsewhere: the history knows nothing of it
    (shop.usb / "respaldo_manual.zip").write_bytes(b"no es un respaldo nuestro")

    choices = restore.list_local_backups(shop.config)

    assert [c.name for c in choices] == [report.safety_backup.name, first.name, stranger.name]
    safety, made, copied = choices
    assert (safety.safety, safety.verified, safety.local) == (True, True, True)
    assert (made.safety, made.verified) == (False, True)
    assert copied.verified is None
    assert made.size == first.stat().st_size and made.path == first
    assert made.changes_lost().startswith("Se perderán los cambios hechos hoy después de las ")


def test_the_contents_list_files_and_count_the_rows_of_each_table(shop):
    archive = back_up(shop)
    contents = restore.read_contents(archive)
    assert sorted(f.path for f in contents.files) == ["datos/config.ini", "datos/facturas/F1001 señor.xml",
                                                      "datos/imagenes/coca 600ml.jpg", "datos/punto_de_venta.db"]
    assert [d.path for d in contents.databases] == ["datos/punto_de_venta.db"]
    assert contents.source_of("datos") == str(shop.data)
    assert restore.count_rows_in_archive(archive, "datos/punto_de_venta.db") == [restore.TableCount("sales", 2000)]
    assert restore.count_rows_in_archive(archive, "datos/punto_de_venta.db", limit=1000) is None


def test_restoring_into_a_folder_that_is_not_empty_goes_into_a_new_subfolder(tmp_path):
    empty = tmp_path / "vacia"
    empty.mkdir()
    assert restore.folder_for(empty, "respaldo_2026-11-25_20-00-00.zip") == empty
    assert restore.folder_for(tmp_path / "nueva", "respaldo_2026-11-25_20-00-00.zip") == tmp_path / "nueva"
    full = tmp_path / "llena"
    (full / "respaldo_2026-11-25_20-00-00").mkdir(parents=True)
    assert restore.folder_for(full, "respaldo_2026-11-25_20-00-00.zip") == full / "respaldo_2026-11-25_20-00-00_2"


# -- safety backups and retention ---------------------------------------------------------------------------

def test_safety_backups_are_outside_the_keep_rules_for_30_days():
    now = datetime(2026, 11, 28, 13, 0)
    normal = [now - timedelta(hours=3), now - timedelta(days=1), now - timedelta(days=2)]
    recent_safety, old_safety = now - timedelta(hours=1), now - timedelta(days=31)
    archives = [(w, ("normal", w)) for w in normal] + [(recent_safety, ("safety", recent_safety)),
                                                        (old_safety, ("safety", old_safety))]
    keep_one = RetentionConfig(keep_last=1, keep_daily=1, keep_weekly=0, keep_monthly=0)

    expired = select_expired_with_safety(archives, keep_one, lambda a: a[0] == "safety", now)

    # The backup restored this morning is not pushed out by the newer safety backup; the old safety one goes.
    assert sorted(w for _kind, w in expired) == sorted([normal[1], normal[2], old_safety])


def test_apply_retention_reads_which_archives_are_safety_backups_from_the_history(tmp_path):
    dest = tmp_path / "usb"
    dest.mkdir()
    now = datetime.now().replace(microsecond=0)
    made = {}
    for label, when in {"hace 40 días": now - timedelta(days=40), "hace 10 días": now - timedelta(days=10),
                        "normal hace 20 días": now - timedelta(days=20),
                        "normal hace 1 día": now - timedelta(days=1)}.items():
        path = dest / archive_name(when)
        path.write_bytes(b"zip")
        made[label] = path
        trigger = "manual" if label.startswith("normal") else "before-restore"
        history.append(history.HistoryEntry(start=when, end=when, trigger=trigger, status="ok",
                                            archive=path.name, verified=True))
    config = Config(source=SourceConfig(paths=[str(tmp_path)]), destination=DestinationConfig(folder=str(dest)),
                    retention=RetentionConfig(keep_last=1, keep_daily=0, keep_weekly=0, keep_monthly=0))

    deleted = apply_retention(config, dest)

    assert sorted(deleted) == sorted([made["hace 40 días"].name, made["normal hace 20 días"].name])
    assert archives_in(dest) == sorted([made["hace 10 días"].name, made["normal hace 1 día"].name])


# -- command line -----------------------------------------------------------------------------------------------

def respaldos(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(respaldos_cmd(*args), cwd=ROOT, capture_output=True, text=True, timeout=300,
                          check=False)


def test_cli_restore_to_original_prints_the_lost_changes_steps_and_the_safety_backup(shop):
    archive = back_up(shop)
    (shop.data / "config.ini").write_text("impresora=ZEBRA\n", encoding="utf-8")
    proc = respaldos("restore", str(archive), "--to-original", "--config", str(shop.config_path))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Se perderán los cambios hechos hoy después de las ")
    assert "Paso 1 de 4: Verificando el respaldo..." in lines
    assert "Paso 3 de 4: Guardando un respaldo de seguridad de los datos actuales..." in lines
    assert any(line.startswith("Se restauraron 4 archivos del respaldo de hoy") for line in lines)
    assert any(line.startswith("Los datos que había antes quedaron guardados en el respaldo de seguridad ")
               for line in lines)
    assert (shop.data / "config.ini").read_text(encoding="utf-8") == "impresora=EPSON\n"


def test_cli_restore_to_original_with_the_pos_open_exits_1_with_the_sentence(shop):
    archive = back_up(shop)
    holder = start_holder("idle", shop.db)
    try:
        proc = respaldos("restore", str(archive), "--to-original", "--config", str(shop.config_path))
    finally:
        holder.communicate("", timeout=30)
    assert proc.returncode == 1
    assert proc.stderr == f"El punto de venta está usando {shop.db}. {IN_USE}\n"


@pytest.mark.parametrize("args", [
    ["restore", "--to-original"],
    ["restore", "respaldo.zip", "--to", "x", "--to-original"],
    ["restore", "respaldo.zip", "--from-cloud", "respaldo_2026-11-25_20-00-00.zip", "--to", "x"],
], ids=["no-archive", "to-and-to-original", "archive-and-from-cloud"])
def test_cli_restore_bad_combinations_exit_2(args):
    proc = respaldos(*args)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "respaldos" in proc.stderr


def test_several_roots_with_the_same_name_and_a_single_file_each_go_back_to_their_own_place(tmp_path):
    caja1 = tmp_path / "caja1" / "datos"
    caja2 = tmp_path / "caja2" / "datos"
    for folder in (caja1, caja2):
        folder.mkdir(parents=True)
        (folder / "turno.txt").write_text(f"turno de {folder.parent.name}", encoding="utf-8")
    settings = tmp_path / "programa" / "pos.ini"
    settings.parent.mkdir()
    settings.write_text("sucursal=centro\n", encoding="utf-8")
    usb = tmp_path / "usb"
    usb.mkdir()
    config = Config(source=SourceConfig(paths=[str(caja1), str(caja2), str(settings)]),
                    destination=DestinationConfig(folder=str(usb)))
    archive = run_backup(config).archive
    assert sorted(s["archive_path"] for s in restore.read_contents(archive).manifest.sources) == [
        "datos", "datos_2", "pos.ini"]
    for path in (caja1 / "turno.txt", caja2 / "turno.txt", settings):
        path.write_text("cambiado", encoding="utf-8")

    report = restore.restore_to_original(archive, config)

    assert (caja1 / "turno.txt").read_text(encoding="utf-8") == "turno de caja1"
    assert (caja2 / "turno.txt").read_text(encoding="utf-8") == "turno de caja2"
    assert settings.read_text(encoding="utf-8") == "sucursal=centro\n"
    assert sorted(report.restored) == sorted([caja1 / "turno.txt", caja2 / "turno.txt", settings])
    assert report.folders == [caja1, caja2, settings]


def test_a_data_folder_that_is_gone_is_created_again_and_needs_no_safety_backup(shop):
    archive = back_up(shop)
    files, rows = files_of(shop.data), rows_of(shop.db)
    shutil.rmtree(shop.data)  # the disk was replaced

    report = restore.restore_to_original(archive, shop.config)

    assert files_of(shop.data) == files and rows_of(shop.db) == rows
    assert report.safety_backup is None
    assert archives_in(shop.usb) == [archive.name]
    assert "respaldo de seguridad" not in report.message


# -- server databases: their dumps go back with respaldos db restore (real MariaDB, tests/dbservers.py) ------

def with_server_database(shop: Shop, server, name: str, *, folders: bool = True):
    """The shop also keeps ``name`` on the MariaDB server (30 sales); its password stored, config saved."""
    from wizard.core import servers

    server.admin(f"DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}`")
    server.admin("CREATE TABLE ventas (id INT AUTO_INCREMENT PRIMARY KEY, total DECIMAL(10,2)) ENGINE=InnoDB;"
                 "INSERT INTO ventas (total) SELECT seq * 1.5 FROM seq_1_to_30;", database=name)
    db = server.source(name)
    servers.set_password(db, server.password)
    shop.config.source.databases = [db]
    if not folders:
        shop.config.source.paths = []
    config_mod.save(shop.config, shop.config_path)
    return db


def run_printed_command(command: str) -> subprocess.CompletedProcess:
    """Run a "respaldos ..." line exactly as the user would copy it into a terminal."""
    import shlex

    words = shlex.split(command)
    assert words[0] == "respaldos"
    return respaldos(*words[1:])


def test_restoring_in_place_names_each_server_database_it_left_and_the_command_that_loads_it(
        shop, mariadb_server, db_keyring):
    name = f"tienda_mixta_{os.getpid()}"
    with_server_database(shop, mariadb_server, name)
    archive = back_up(shop)
    (shop.data / "config.ini").write_text("impresora=ZEBRA\n", encoding="utf-8")
    mariadb_server.admin("DELETE FROM ventas WHERE id > 10", database=name)

    proc = respaldos("restore", str(archive), "--to-original", "--config", str(shop.config_path))

    assert proc.returncode == 0, proc.stderr
    assert (shop.data / "config.ini").read_text(encoding="utf-8") == "impresora=EPSON\n"
    lines = proc.stdout.splitlines()
    assert any(line.startswith("Se restauraron 4 archivos del respaldo de hoy") for line in lines)
    command = f'respaldos db restore "{archive}" {name} --config "{shop.config_path}"'
    assert lines[-2:] == [
        (f"Aviso: la base de datos del servidor {name} (MySQL/MariaDB · 127.0.0.1:{mariadb_server.port} · {name}) "
         "no se cargó: restaurar en el lugar original solo devuelve archivos. Para cargarla usa (en una base de "
         "datos nueva; con --replace, encima de la original, con el punto de venta cerrado):"),
        f"  {command}",
    ]
    assert mariadb_server.scalar("SELECT COUNT(*) FROM ventas", name) == "10", "the server was not touched"

    loaded = run_printed_command(command.strip() + f" --as {name}_cargada")
    assert loaded.returncode == 0, loaded.stderr
    assert mariadb_server.scalar("SELECT COUNT(*) FROM ventas", f"{name}_cargada") == "30"


def test_the_report_lists_the_dumps_it_left_apart_from_its_message(shop, mariadb_server, db_keyring):
    name = f"tienda_informe_{os.getpid()}"
    with_server_database(shop, mariadb_server, name)
    archive = back_up(shop)

    report = restore.restore_to_original(archive, shop.config)

    assert [(d.name, d.member) for d in report.skipped_dumps] == [(name, f"bases_de_datos/{name}.sql")]
    assert report.dumps_warning.splitlines()[-1] == f'  respaldos db restore "{archive}" {name}'
    assert name not in report.message, "the window says it in its own words, next to its button"


def test_restoring_in_place_a_cloud_download_names_the_cloud_backup_in_the_commands_for_its_dumps(
        shop, mariadb_server, db_keyring):
    name = f"tienda_descargada_{os.getpid()}"
    with_server_database(shop, mariadb_server, name)
    archive = back_up(shop)
    # Where restore.downloaded() puts a cloud backup (as the window does too), to delete it after the restore.
    download = restore.downloads_dir() / archive.name
    download.parent.mkdir(parents=True)
    shutil.move(archive, download)

    report = restore.restore_to_original(download, shop.config)

    assert [(d.name, d.from_cloud) for d in report.skipped_dumps] == [(name, archive.name)]
    assert report.dumps_warning.splitlines()[-1] == f"  respaldos db restore --from-cloud {archive.name} {name}"
    assert report.skipped_dumps[0].command(archive.name, shop.config_path) == (
        f'respaldos db restore --from-cloud {archive.name} {name} --config "{shop.config_path}"')


def test_restoring_in_place_a_backup_with_only_server_databases_is_refused_before_the_safety_backup(
        shop, mariadb_server, db_keyring):
    name = f"tienda_sola_{os.getpid()}"
    with_server_database(shop, mariadb_server, name, folders=False)
    archive = back_up(shop)
    before = state_of(shop.data)
    events: list[restore.RestoreProgress] = []

    with pytest.raises(restore.OnlyServerDatabases) as refused:
        restore.restore_to_original(archive, shop.config, report=events.append)
    assert events == [], "refused before verifying, checking or saving anything"
    assert str(refused.value).startswith(
        f"El respaldo {archive.name} solo tiene la copia de la base de datos del servidor {name} (MySQL/MariaDB · "
        f"127.0.0.1:{mariadb_server.port} · {name}), y restaurar en el lugar original solo devuelve archivos: no "
        "se cambió nada. Para cargarla usa respaldos db restore")

    proc = respaldos("restore", str(archive), "--to-original", "--config", str(shop.config_path))
    assert proc.returncode == 1, proc.stdout
    assert "Se restauraron" not in proc.stdout and "Paso " not in proc.stdout
    command = proc.stderr.splitlines()[-1].strip()
    assert command == f'respaldos db restore "{archive}" {name} --config "{shop.config_path}"'
    assert archives_in(shop.usb) == [archive.name], "no safety backup was made"
    assert [e.trigger for e in history.read()].count(restore.SAFETY_TRIGGER) == 0
    assert state_of(shop.data) == before

    loaded = run_printed_command(command + f" --as {name}_cargada")
    assert loaded.returncode == 0, loaded.stderr
    assert mariadb_server.scalar("SELECT COUNT(*) FROM ventas", f"{name}_cargada") == "30"
