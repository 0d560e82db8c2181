"""One backup run against real files, a real SQLite database with a POS writing to it, real faults."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, make_sales_db, respaldos_cmd, skip_unless_ci, write_config
from wizard.core import backup, config, history, machine, servers, snapshot
from wizard.core.archive import MANIFEST_NAME, Manifest, ZipWriter, read_manifest, verify_archive
from wizard.core.config import DatabaseSource
from wizard.core.errors import UserError
from wizard.core.snapshot import scan_sources, snapshot_sqlite


def make_config(sources, dest, **schedule):
    cfg = config.Config()
    cfg.source.paths = [str(s) for s in sources]
    cfg.destination.folder = str(dest)
    return cfg


def start_writer(db: Path, tmp_path: Path, busy_ms: int = 5000):
    stop, out = tmp_path / "stop", tmp_path / "writer.json"
    proc = subprocess.Popen([sys.executable, "-m", "tests.pos_writer", str(db), str(stop), str(out),
                             "--busy-ms", str(busy_ms)], cwd=ROOT)
    deadline = time.monotonic() + 30
    while not Path(str(out) + ".ready").exists():
        assert proc.poll() is None, "writer died"
        assert time.monotonic() < deadline, "writer never started"
        time.sleep(0.01)
    return proc, stop, out


def stop_writer(proc, stop: Path, out: Path) -> dict:
    stop.touch()
    proc.wait(timeout=30)
    return json.loads(out.read_text())


def archived_db(archive: Path, member: str, tmp_path: Path) -> sqlite3.Connection:
    with zipfile.ZipFile(archive) as zf:
        target = tmp_path / "from_archive.db"
        target.write_bytes(zf.read(member))
    return sqlite3.connect(target)


@pytest.mark.parametrize("journal", ["wal", "delete"])
def test_a_pos_writing_during_the_backup_sees_no_error_and_every_prior_sale_is_archived(tmp_path, journal):
    data = tmp_path / "datos"
    data.mkdir()
    db = make_sales_db(data / "pos.sdb", rows=150_000, journal=journal)
    dest = tmp_path / "respaldos"
    dest.mkdir()
    proc, stop, out = start_writer(db, tmp_path)
    try:
        with sqlite3.connect(db) as probe:
            committed_before = probe.execute("SELECT max(id), count(*) FROM sales").fetchone()
        result = backup.run_backup(make_config([data], dest))
        time.sleep(0.2)
    finally:
        report = stop_writer(proc, stop, out)
    assert result.status == "ok", result.message
    assert report["errors"] == []
    assert report["sales"] > 20
    conn = archived_db(result.archive, "datos/pos.sdb", tmp_path)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    max_id, count = conn.execute("SELECT max(id), count(*) FROM sales").fetchone()
    assert max_id >= committed_before[0] and count >= committed_before[1]
    # the archive holds the database itself, never its -wal/-shm/-journal files
    names = zipfile.ZipFile(result.archive).namelist()
    assert not [n for n in names if n.endswith(("-wal", "-shm", "-journal"))]
    kinds = {f.path: f.kind for f in read_manifest(result.archive).files}
    assert kinds["datos/pos.sdb"] == "sqlite"
    # how long the POS waited for its commits meanwhile is measured by bench/bench_pos_latency.py


def test_sqlite_is_recognised_by_its_header_whatever_the_extension(tmp_path):
    data = tmp_path / "datos"
    data.mkdir()
    make_sales_db(data / "ventas.dat", rows=100, journal="delete")
    (data / "falso.db").write_text("no soy una base de datos")
    dest = tmp_path / "r"
    dest.mkdir()
    result = backup.run_backup(make_config([data], dest))
    kinds = {f.path: f.kind for f in read_manifest(result.archive).files}
    assert kinds == {"datos/ventas.dat": "sqlite", "datos/falso.db": "file"}


def test_the_destination_inside_the_data_and_older_backups_are_never_included(tmp_path):
    data = tmp_path / "SICAR"
    (data / "datos").mkdir(parents=True)
    (data / "datos" / "a.txt").write_text("a")
    dest = data / "Respaldos"
    dest.mkdir()
    old_elsewhere = data / "viejos"
    old_elsewhere.mkdir()
    (old_elsewhere / "respaldo_2026-01-01_10-00-00.zip").write_bytes(b"PK old")
    (old_elsewhere / "respaldo_2026-12-01_10-00-00_Caja-2-9a8b7c6d.zip").write_bytes(b"PK another till's")
    (old_elsewhere / "respaldo_2026-12-01_10-00-00_Caja-2-9a8b7c6d.zip.part").write_bytes(b"PK half")
    first = backup.run_backup(make_config([data], dest))
    second = backup.run_backup(make_config([data], dest))
    assert first.status == second.status == "ok"
    names = zipfile.ZipFile(second.archive).namelist()
    assert "SICAR/datos/a.txt" in names
    assert not [n for n in names if "Respaldos" in n or ".zip" in n]


def test_unicode_and_spaces_in_every_path(tmp_path):
    data = tmp_path / "Datos del Punto de Venta ñandú"
    (data / "Fotos de artículos").mkdir(parents=True)
    (data / "Fotos de artículos" / "café con leche.jpg").write_bytes(os.urandom(3000))
    make_sales_db(data / "niño.db", rows=50)
    dest = tmp_path / "Mis Respaldos Él"
    dest.mkdir()
    result = backup.run_backup(make_config([data], dest))
    assert result.status == "ok", result.message
    with zipfile.ZipFile(result.archive) as zf:
        assert zf.read("Datos del Punto de Venta ñandú/Fotos de artículos/café con leche.jpg") == \
            (data / "Fotos de artículos" / "café con leche.jpg").read_bytes()
    verify_archive(result.archive)


def test_exclusions_apply_to_names_and_folders(tmp_path):
    data = tmp_path / "d"
    (data / "temp").mkdir(parents=True)
    (data / "sub" / "temp").mkdir(parents=True)
    (data / "temp" / "x.txt").write_text("x")
    (data / "sub" / "temp" / "y.txt").write_text("y")
    (data / "error.LOG").write_text("log")
    (data / "keep.txt").write_text("k")
    (data / "temp.txt").write_text("archivo, no carpeta")
    dest = tmp_path / "r"
    dest.mkdir()
    cfg = make_config([data], dest)
    cfg.source.exclude = ["*.log", "temp/"]
    result = backup.run_backup(cfg)
    assert sorted(zipfile.ZipFile(result.archive).namelist()) == ["d/keep.txt", "d/temp.txt", "respaldo.json"]


def test_a_missing_destination_is_reported_and_never_created(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "a.txt").write_text("a")
    missing = tmp_path / "USB" / "Respaldos"
    result = backup.run_backup(make_config([data], missing))
    assert result.status == "failed" and result.destination_missing
    assert result.message == (f"No se encontró la carpeta {missing}. Conecta la memoria USB o elige otra carpeta.")
    assert not missing.exists() and not missing.parent.exists()
    assert history.read()[-1].status == "failed"


def test_an_unreadable_file_is_skipped_named_and_the_run_ends_with_a_warning(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "ok.txt").write_text("ok")
    locked = data / "bloqueado.txt"
    locked.write_text("secreto")
    locked.chmod(0)
    dest = tmp_path / "r"
    dest.mkdir()
    cfg_path = write_config(tmp_path / "c.toml", [data], dest)
    cmd = respaldos_cmd("backup", "--config", str(cfg_path))
    if os.geteuid() == 0:
        # root reads anything: drop the capabilities that let it, so the permission check is real
        cmd = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *cmd]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ})
    assert proc.returncode == 0, proc.stderr
    assert "Con advertencias" in proc.stdout and "bloqueado.txt" in proc.stdout
    archive = backup.list_archives(dest)[0].path
    assert zipfile.ZipFile(archive).namelist() == ["d/ok.txt", "respaldo.json"]
    assert history.read()[-1].status == "warning"


def test_a_file_that_changes_while_read_is_read_again(tmp_path, monkeypatch):
    data = tmp_path / "d"
    data.mkdir()
    growing = data / "bitacora.txt"
    growing.write_text("línea\n" * 1000)
    dest = tmp_path / "r"
    dest.mkdir()
    real_stream = backup.BackupRun._stream
    calls = {"n": 0}

    def stream_while_the_pos_appends(self, writer, item, fh, size_hint):
        entry = real_stream(self, writer, item, fh, size_hint)
        if item.source == growing and calls["n"] == 0:
            calls["n"] += 1
            with open(growing, "a") as f:  # the POS writes while we read
                f.write("otra línea\n")
        return entry

    monkeypatch.setattr(backup.BackupRun, "_stream", stream_while_the_pos_appends)
    result = backup.run_backup(make_config([data], dest))
    assert result.status == "ok"
    with zipfile.ZipFile(result.archive) as zf:
        assert zf.namelist().count("d/bitacora.txt") == 1
        assert zf.read("d/bitacora.txt") == growing.read_bytes()
    verify_archive(result.archive)


def test_a_database_that_cannot_be_snapshotted_fails_the_run_and_leaves_nothing(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    db = make_sales_db(data / "pos.db", rows=2000, journal="delete")
    raw = bytearray(db.read_bytes())
    raw[200:4096 * 3] = b"\xff" * (4096 * 3 - 200)  # header still says SQLite, pages are garbage
    db.write_bytes(bytes(raw))
    dest = tmp_path / "r"
    dest.mkdir()
    result = backup.run_backup(make_config([data], dest))
    assert result.status == "failed"
    assert "pos.db" in result.message
    assert list(dest.iterdir()) == []


def test_a_database_the_pos_keeps_locked_fails_the_run_after_a_while_instead_of_hanging(tmp_path, monkeypatch):
    """A POS in locking_mode=EXCLUSIVE (or hung in the middle of a write) never lets a reader in: the run
    must end, or the one-backup lock stays taken and every scheduled backup after it is skipped."""
    monkeypatch.setattr(snapshot, "SOURCE_BUSY_TIMEOUT", 0.2)
    monkeypatch.setattr(snapshot, "SOURCE_LOCK_WAIT", 1.0)
    data = tmp_path / "d"
    data.mkdir()
    db = make_sales_db(data / "pos.db", rows=500, journal="delete")
    pos = sqlite3.connect(db)
    pos.execute("PRAGMA locking_mode=EXCLUSIVE")
    pos.execute("INSERT INTO sales (ts, total, note) VALUES ('2026-11-28 20:00', 1.0, 'x')")
    pos.commit()  # the exclusive lock stays with the POS from here on
    dest = tmp_path / "r"
    dest.mkdir()
    results = []
    run = threading.Thread(target=lambda: results.append(backup.run_backup(make_config([data], dest))),
                           daemon=True)
    try:
        run.start()
        run.join(timeout=60)
        assert not run.is_alive(), "the backup waited for ever for the POS's lock"
    finally:
        pos.close()
    assert results[0].status == "failed"
    assert "pos.db" in results[0].message and "vuelve a intentar" in results[0].message
    assert list(dest.iterdir()) == []


def test_only_one_backup_at_a_time_per_machine(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "a.txt").write_text("a")
    dest = tmp_path / "r"
    dest.mkdir()
    import filelock

    with filelock.FileLock(str(backup.lock_path())):
        cfg_path = write_config(tmp_path / "c.toml", [data], dest)
        proc = subprocess.run(respaldos_cmd("backup", "--config", str(cfg_path)), capture_output=True,
                              text=True, cwd=ROOT)
    assert proc.returncode == 1
    assert "Ya hay un respaldo en curso" in proc.stderr
    assert list(dest.iterdir()) == []
    assert history.read()[-1].status == "skipped"


def test_cancel_leaves_no_archive_and_no_part_file(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "grande.bin").write_bytes(os.urandom(40 << 20))
    dest = tmp_path / "r"
    dest.mkdir()
    cancel = threading.Event()

    def report(event):
        if event.phase == "compress" and event.done_bytes > (8 << 20):
            cancel.set()

    result = backup.run_backup(make_config([data], dest), report=report, cancel=cancel)
    assert result.status == "cancelled"
    assert list(dest.iterdir()) == []


def test_sigkill_mid_write_leaves_old_backups_intact_and_no_final_name(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "a.txt").write_text("primero")
    dest = tmp_path / "r"
    dest.mkdir()
    cfg_path = write_config(tmp_path / "c.toml", [data], dest)
    first = subprocess.run(respaldos_cmd("backup", "--config", str(cfg_path)), cwd=ROOT, capture_output=True)
    assert first.returncode == 0
    old = backup.list_archives(dest)[0]
    old_bytes = old.path.read_bytes()
    with open(data / "grande.bin", "wb") as f:
        for _ in range(24):
            f.write(os.urandom(8 << 20))  # incompressible, so writing takes a while
    time.sleep(1.1)  # the next archive gets another name
    temp = tmp_path / "temp"  # the runs' own temp folder, where their private snapshot folder goes
    temp.mkdir()
    env = {**os.environ, "TMPDIR": str(temp)}
    proc = subprocess.Popen(respaldos_cmd("backup", "--config", str(cfg_path)), cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        parts = [p for p in dest.iterdir() if p.name.endswith(".part")]
        if parts and parts[0].stat().st_size > (20 << 20):
            break
        assert proc.poll() is None and time.monotonic() < deadline, "backup ended before the kill"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    left = [p.name for p in temp.iterdir()]
    assert left == [n for n in left if n.startswith(f"{backup.snapshot_dir_prefix(machine.current())}{proc.pid}-")] and left
    finals = backup.list_archives(dest)
    assert [a.name for a in finals] == [old.name]
    assert old.path.read_bytes() == old_bytes
    verify_archive(old.path)
    # the next run removes the leftover and succeeds
    again = subprocess.run(respaldos_cmd("backup", "--config", str(cfg_path)), cwd=ROOT, env=env,
                           capture_output=True)
    assert again.returncode == 0
    assert not [p for p in dest.iterdir() if p.name.endswith(".part")]
    assert not list(temp.iterdir()), "the killed run's snapshot folder was not removed"
    assert len(backup.list_archives(dest)) == 2


@pytest.fixture
def small_filesystem(tmp_path):
    """A real 12 MiB filesystem (tmpfs) to fill up; needs root, as in CI."""
    mount = tmp_path / "usb"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", str(mount)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        skip_unless_ci(f"cannot mount a small filesystem here: {proc.stderr.strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_disk_that_fills_up_mid_write_gives_a_clear_error_and_leaves_nothing_behind(tmp_path, small_filesystem):
    data = tmp_path / "d"
    data.mkdir()
    (data / "a.txt").write_text("pequeño")
    dest = small_filesystem
    first = backup.run_backup(make_config([data], dest))
    assert first.status == "ok"
    old_bytes = first.archive.read_bytes()
    (data / "grande.bin").write_bytes(os.urandom(16 << 20))  # incompressible and bigger than the disk
    # The estimate from the last (tiny) backup lets the run start; the disk fills up mid-write.
    result = backup.run_backup(make_config([data], dest))
    assert result.status == "failed"
    assert "se llenó" in result.message and "Libera espacio" in result.message
    assert [p.name for p in dest.iterdir()] == [first.archive.name]
    assert first.archive.read_bytes() == old_bytes


def test_not_enough_free_space_is_reported_before_writing(tmp_path, small_filesystem):
    data = tmp_path / "d"
    data.mkdir()
    (data / "grande.bin").write_bytes(os.urandom(30 << 20))
    result = backup.run_backup(make_config([data], small_filesystem))
    assert result.status == "failed"
    assert "No hay espacio suficiente" in result.message
    assert list(small_filesystem.iterdir()) == []


def test_history_records_each_run_and_skips_a_corrupt_line(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "a.txt").write_text("a")
    dest = tmp_path / "r"
    dest.mkdir()
    backup.run_backup(make_config([data], dest), trigger="scheduled")
    with open(history.history_path(), "a", encoding="utf-8") as f:
        f.write('{"start": "roto\n')
    backup.run_backup(make_config([data], dest), trigger="catch-up")
    entries = history.read()
    assert [e.trigger for e in entries] == ["scheduled", "catch-up"]
    assert all(e.status == "ok" and e.verified and e.size > 0 and e.archive for e in entries)
    assert entries[-1].end >= entries[-1].start


def test_retention_runs_after_a_success_and_never_after_a_failure(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "a.txt").write_text("a")
    dest = tmp_path / "r"
    dest.mkdir()
    for day in range(1, 6):
        (dest / f"respaldo_2026-01-0{day}_20-00-00.zip").write_bytes(b"viejo")
    cfg = make_config([data], dest)
    cfg.retention = config.RetentionConfig(keep_last=2, keep_daily=0, keep_weekly=0, keep_monthly=0)
    (data / "a.txt").unlink()
    data.rmdir()
    failed = backup.run_backup(cfg)
    assert failed.status == "failed"
    assert len(backup.list_archives(dest)) == 5
    data.mkdir()
    (data / "a.txt").write_text("a")
    ok = backup.run_backup(cfg)
    assert ok.status == "ok"
    assert [a.name for a in backup.list_archives(dest)] == [ok.archive.name, "respaldo_2026-01-05_20-00-00.zip"]


# -- the snapshot: written in 64 KiB pages, the database byte for byte ----------------------------------------
HEADER_COUNTERS = [(24, 28), (40, 44), (92, 100)]  # change counter, schema cookie, version-valid-for + version


def without_counters(db_bytes: bytes) -> bytes:
    out = bytearray(db_bytes)
    for start, end in HEADER_COUNTERS:
        out[start:end] = bytes(end - start)
    return bytes(out)


@pytest.mark.parametrize("page_size", [1024, 4096, 65536])
def test_the_snapshot_is_the_database_byte_for_byte_whatever_its_page_size(tmp_path, monkeypatch, page_size):
    monkeypatch.setattr(backup, "EARLY_MIN_SIZE", 0)  # and compressed while it is written
    data = tmp_path / "datos"
    data.mkdir()
    db = data / "pos.db"
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA page_size={page_size}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")  # the last sales stay in the WAL: the snapshot must hold them
    conn.execute("CREATE TABLE sales (id INTEGER PRIMARY KEY, note TEXT)")
    for batch in range(4):
        conn.executemany("INSERT INTO sales (note) VALUES (?)", [(f"venta {batch}-{i} " + "x" * (i % 300),)
                                                                 for i in range(8000)])
        conn.commit()
    reference = tmp_path / "referencia.db"
    with sqlite3.connect(reference) as ref:
        conn.backup(ref)  # the plain online backup, in the source's own page size
    dest = tmp_path / "r"
    dest.mkdir()
    try:
        result = backup.run_backup(make_config([data], dest))
    finally:
        conn.close()
    assert result.status == "ok", result.message
    with zipfile.ZipFile(result.archive) as zf:
        archived = zf.read("datos/pos.db")
    assert without_counters(archived) == without_counters(reference.read_bytes())
    copy = tmp_path / "copia.db"
    copy.write_bytes(archived)
    with sqlite3.connect(copy) as check:
        assert check.execute("PRAGMA page_size").fetchone() == (page_size,)
        assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert check.execute("SELECT count(*) FROM sales").fetchone() == (32000,)


# -- free space: server databases count too --------------------------------------------------------------------
def prepared_dump(name: str, size: int | None) -> servers.PreparedDump:
    return servers.PreparedDump(DatabaseSource(engine="mysql", database=name), f"bases_de_datos/{name}.sql",
                                servers.ServerInfo(version="10.11.6-MariaDB", size=size))


def archive_holding(dest: Path, name: str, dumps: list[servers.PreparedDump]) -> None:
    manifest = Manifest(app="Respaldos", version="0.1.0", created="2026-11-28T20:00:00-06:00", host="caja",
                        sources=[], databases=[{"path": d.archive_path, "engine": "mysql"} for d in dumps])
    with open(dest / name, "xb") as fp:
        writer = ZipWriter(fp)
        writer.add_bytes(MANIFEST_NAME, manifest.to_json())
        writer.close()


def test_the_free_space_estimate_counts_server_databases_the_last_archive_does_not_hold(tmp_path):
    data = tmp_path / "d"
    data.mkdir()
    (data / "a.bin").write_bytes(os.urandom(1 << 20))
    dest = tmp_path / "r"
    dest.mkdir()
    scan = scan_sources([str(data)], [], dest)
    ventas, inventario = prepared_dump("ventas", 100 << 20), prepared_dump("inventario", None)

    first_files_only = backup.estimate_archive_size(scan, dest)
    first = backup.estimate_archive_size(scan, dest, [ventas, inventario])
    # a database of known size adds 60 % of it, one of unknown size the fixed allowance
    assert first == first_files_only + int(0.6 * (100 << 20)) + backup.DUMP_ALLOWANCE

    archive_holding(dest, "respaldo_2026-11-27_20-00-00.zip", [ventas])
    later_files_only = backup.estimate_archive_size(scan, dest)
    # the last archive's size already includes "ventas": only "inventario" is new
    assert backup.estimate_archive_size(scan, dest, [ventas, inventario]) == later_files_only + backup.DUMP_ALLOWANCE


def test_a_server_database_too_big_for_the_free_space_is_reported_before_dumping(tmp_path, small_filesystem,
                                                                                  monkeypatch):
    data = tmp_path / "d"
    data.mkdir()
    (data / "a.txt").write_text("pequeño")
    dumped = []
    monkeypatch.setattr(servers, "prepare_dumps", lambda databases, taken: [prepared_dump("ventas", 1 << 30)])
    monkeypatch.setattr(servers, "write_dump", lambda *args, **kwargs: dumped.append(args))
    cfg = make_config([data], small_filesystem)
    cfg.source.databases = [DatabaseSource(engine="mysql", database="ventas")]

    result = backup.run_backup(cfg)

    assert result.status == "failed"
    assert "No hay espacio suficiente" in result.message
    assert dumped == []
    assert list(small_filesystem.iterdir()) == []


def test_a_snapshot_folder_is_removed_only_when_its_process_is_gone(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True, check=True)
    dead_pid = int(dead.stdout)
    gone = tmp_path / f"{backup.LEGACY_SNAPSHOT_DIR_PREFIX}{dead_pid}-abc"
    mine = tmp_path / f"{backup.LEGACY_SNAPSHOT_DIR_PREFIX}{os.getpid()}-def"
    unrelated = tmp_path / "respaldos-snapshots-de-otro"
    for folder in (gone, mine, unrelated):
        folder.mkdir()
        (folder / "punto_de_venta.db").write_bytes(b"x" * 100)
    removed = backup.remove_stale_dirs(tmp_path, backup.LEGACY_SNAPSHOT_DIR_PREFIX)
    assert removed == [gone]
    assert not gone.exists() and mine.exists() and unrelated.exists()


# -- snapshots: one at a time, deleted even when the deletion fails at first ---------------------------------
def test_database_snapshots_are_made_one_at_a_time_so_the_snapshot_folder_needs_room_for_the_largest_only(
        tmp_path, monkeypatch):
    """The previous snapshot is deleted in the background; the next one must not start beside it."""
    monkeypatch.setattr(backup, "EARLY_MIN_SIZE", 0)
    data = tmp_path / "d"
    data.mkdir()
    for name in ("caja1.db", "caja2.db", "caja3.db"):
        make_sales_db(data / name, rows=3000)
    real_unlink, real_snapshot = Path.unlink, backup.snapshot_sqlite
    beside: list[list[str]] = []

    def slow_unlink(self, *args, **kwargs):
        if self.suffix == ".sqlite":
            time.sleep(0.5)  # a large file takes the kernel a while
        return real_unlink(self, *args, **kwargs)

    def snapshot_noting_what_is_beside(source, target):
        beside.append(sorted(p.name for p in target.parent.iterdir()))
        return real_snapshot(source, target)

    monkeypatch.setattr(Path, "unlink", slow_unlink)
    monkeypatch.setattr(backup, "snapshot_sqlite", snapshot_noting_what_is_beside)
    dest = tmp_path / "r"
    dest.mkdir()
    result = backup.run_backup(make_config([data], dest))
    assert result.status == "ok", result.message
    assert beside == [[], [], []]


def test_a_snapshot_that_cannot_be_deleted_is_logged_and_does_not_fail_the_backup(tmp_path, monkeypatch, caplog):
    """On Windows a file another program (an antivirus) still has open cannot be deleted."""
    monkeypatch.setattr(backup, "EARLY_MIN_SIZE", 0)
    data = tmp_path / "d"
    data.mkdir()
    make_sales_db(data / "pos.db", rows=3000)
    real_unlink = Path.unlink
    thread_errors = []

    def refused_unlink(self, *args, **kwargs):
        if self.suffix == ".sqlite":
            raise PermissionError(13, "The process cannot access the file because it is being used")
        return real_unlink(self, *args, **kwargs)

    monkeypatch.setattr(Path, "unlink", refused_unlink)
    monkeypatch.setattr(threading, "excepthook", thread_errors.append)
    dest = tmp_path / "r"
    dest.mkdir()
    result = backup.run_backup(make_config([data], dest))
    assert result.status == "ok", result.message
    assert thread_errors == []  # no traceback on the console
    assert "could not delete the snapshot" in caplog.text


def test_a_snapshot_folder_of_this_process_left_by_an_earlier_run_is_removed_by_the_next(tmp_path):
    """The window and the scheduler run for weeks: a folder with their own process id is not kept for that."""
    data = tmp_path / "d"
    data.mkdir()
    (data / "a.txt").write_text("a")
    dest = tmp_path / "r"
    dest.mkdir()
    left = dest / f"{backup.snapshot_dir_prefix(machine.current())}{os.getpid()}-anterior"
    left.mkdir()
    (left / "db0.sqlite").write_bytes(b"x" * 100)  # a full copy of the POS database, in real life
    result = backup.run_backup(make_config([data], dest))
    assert result.status == "ok", result.message
    assert not left.exists()
    assert [p.name for p in dest.iterdir()] == [result.archive.name]


def test_a_snapshot_that_fills_its_disk_says_so_in_plain_words(tmp_path, small_filesystem):
    source = tmp_path / "punto_de_venta.db"
    make_sales_db(source, 30_000)  # several MiB of pages, more than the 12 MiB disk holds once filled
    (small_filesystem / "relleno.bin").write_bytes(b"\0" * (11 << 20))
    target = small_filesystem / "copia.sqlite"
    with pytest.raises(UserError) as info:
        snapshot_sqlite(source, target)
    message = str(info.value)
    assert message.startswith(f"No hay espacio en {small_filesystem} para la copia temporal de la base de datos")
    assert "Libera espacio en ese disco" in message
