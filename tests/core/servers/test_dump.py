"""Dumps streamed into the archive: a POS selling during the backup loses no sale committed before it, the
dump is a Zip64 member, and a dump that did not complete never counts.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import threading
import time
import zipfile
from pathlib import Path

from tests.core.servers.helpers import (
    DUMP_TOOLS,
    FIREBIRD_SALE,
    PosWriter,
    children,
    failed_backup,
    firebird_counts,
    make_config,
    make_firebird_shop,
    make_mysql_shop,
    mysql_counts,
    mysql_writer,
    unique,
    wait_until,
)
from wizard.core import backup, servers
from wizard.core.archive import verify_archive

# mariadb_server, firebird_server, db_keyring (not imported here, so that pytest can rewrite its asserts)
pytest_plugins = ["tests.dbservers"]


def test_a_pos_selling_during_a_mysql_backup_loses_no_sale_committed_before_it_and_the_restore_matches(
        mariadb_server, db_keyring, dest, tmp_path):
    server = mariadb_server
    name = unique("tienda")
    make_mysql_shop(server, name)
    db = server.source(name)
    servers.set_password(db, mariadb_server.password)
    (tmp_path / "datos").mkdir()
    (tmp_path / "datos" / "ticket.xml").write_text("<ticket/>", encoding="utf-8")
    writer = mysql_writer(server, name)
    dumping: list[float] = []  # when each piece of the dump arrived

    def watch(event) -> None:
        if event.phase == "snapshot" and event.current.endswith(".sql") and event.done_bytes:
            dumping.append(time.monotonic())

    try:
        wait_until(lambda: len(writer.commits) > 20)
        before_max, before_count = mysql_counts(server, name)
        result = backup.run_backup(make_config(dest, db, paths_=[tmp_path / "datos"]), report=watch)
        _, during_count = mysql_counts(server, name)
    finally:
        rc, errors = writer.stop()
    assert result.status == "ok", result.message
    assert (rc, errors) == (0, ""), "the POS saw an error while the backup ran"
    assert len(dumping) > 3
    # Sales committed in the middle half of the dump (a dump that locked the tables shows none there).
    first, last = dumping[0], dumping[-1]
    middle = (first + (last - first) / 4, last - (last - first) / 4)
    sold_while_dumping = [t for t in writer.commits if middle[0] < t < middle[1]]
    assert len(sold_while_dumping) >= 2, "the POS could not sell while the dump ran (tables locked?)"
    assert during_count > before_count

    manifest = verify_archive(result.archive)
    dumps = [f for f in manifest.files if f.kind == "mysql-dump"]
    assert [f.path for f in dumps] == [f"bases_de_datos/{name}.sql"]
    assert "datos/ticket.xml" in [f.path for f in manifest.files]
    with zipfile.ZipFile(result.archive) as zf:
        data = zf.read(dumps[0].path)
    assert hashlib.sha256(data).hexdigest() == dumps[0].sha256
    assert b"-- Dump completed" in data[-200:]
    assert mariadb_server.password.encode() not in data
    entry = manifest.databases[0]
    assert entry["engine"] == "mysql" and entry["database"] == name and entry["path"] == dumps[0].path

    restored = servers.restore_dump(result.archive, db)
    new = restored.target
    assert new != name and new.startswith(f"{name}_restaurada_")
    restored_max, restored_count = mysql_counts(server, new)
    assert restored_max >= before_max and restored_count >= before_count
    # One consistent moment: every sale with its three lines, no line without its sale.
    assert server.scalar("SELECT COUNT(*) FROM ventas v WHERE (SELECT COUNT(*) FROM venta_lineas l "
                         "WHERE l.venta_id = v.id) <> 3", new) == "0"
    assert server.scalar("SELECT COUNT(*) FROM venta_lineas l LEFT JOIN ventas v ON v.id = l.venta_id "
                         "WHERE v.id IS NULL", new) == "0"
    digest = ("SELECT COUNT(*), SUM(CRC32(CONCAT_WS('|', id, fecha, total, nota))) FROM ventas "
              f"WHERE id <= {restored_max}")
    assert server.admin(digest, new) == server.admin(digest, name)
    checksum = server.admin(f"CHECKSUM TABLE `{name}`.productos, `{new}`.productos").split()
    assert checksum[1] == checksum[3]
    assert server.scalar(f"SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '{new}'") == "1"
    assert server.scalar(f"SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '{new}'") == "1"
    assert server.scalar(f"SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '{new}'") == "1"
    # the original was not touched by the restore
    assert mysql_counts(server, name)[1] >= during_count


def test_a_pos_selling_during_a_firebird_backup_loses_no_sale_committed_before_it_and_the_restore_matches(
        firebird_server, db_keyring, dest):
    server = firebird_server
    path = make_firebird_shop(server, unique("TIENDA") + ".FDB")
    db = server.source(path)
    servers.set_password(db, firebird_server.password)
    writer = PosWriter(["isql-fb", "-q", "-b", server.target(path)], FIREBIRD_SALE, preamble="SET TERM ^ ;\n",
                       env=server.client_env())
    try:
        wait_until(lambda: firebird_counts(server, path)[1] > 30_000 + 10)
        before_max, before_count = firebird_counts(server, path)
        result = backup.run_backup(make_config(dest, db))
        _, during_count = firebird_counts(server, path)
    finally:
        rc, errors = writer.stop()
    assert result.status == "ok", result.message
    assert (rc, errors) == (0, ""), "the POS saw an error while the backup ran"
    assert during_count > before_count, "the POS could not sell while the backup ran"

    manifest = verify_archive(result.archive)
    dumps = [f for f in manifest.files if f.kind == "firebird-gbak"]
    assert [f.path for f in dumps] == [f"bases_de_datos/{db.label}.fbk"]
    assert manifest.databases[0]["file"] == str(path)

    restored = servers.restore_dump(result.archive, db)
    new = Path(restored.target)
    assert new.parent == path.parent and new.name.startswith(f"{path.stem}_restaurada_")
    restored_max, restored_count = firebird_counts(server, new)
    assert restored_max >= before_max and restored_count >= before_count
    assert server.scalar("SELECT COUNT(*) FROM VENTAS V WHERE (SELECT COUNT(*) FROM VENTA_LINEAS L "
                         "WHERE L.VENTA_ID = V.ID) <> 3;", new) == "0"
    assert server.scalar("SELECT COUNT(*) FROM VENTA_LINEAS L LEFT JOIN VENTAS V ON V.ID = L.VENTA_ID "
                         "WHERE V.ID IS NULL;", new) == "0"
    assert server.scalar(f"SELECT COUNT(*) FROM VENTAS WHERE ID <= {restored_max};", path) == str(restored_count)
    assert server.scalar("SELECT COUNT(*) FROM PRODUCTOS;", new) == "2000"


def test_a_dump_member_always_has_a_zip64_header_whatever_the_servers_size_estimate(engine_db, dest):
    """The server's size is only an estimate: a dump that grew past 4 GiB in a member without Zip64 headers
    would break the archive, so every dump member gets them (20 bytes) and readers still open it."""
    info = servers.test_connection(engine_db)
    assert info.size is not None and info.size < 10 << 20, "a small database: the estimate says no Zip64"
    result = backup.run_backup(make_config(dest, engine_db))
    assert result.status == "ok", result.message
    manifest = verify_archive(result.archive)
    [dump] = [f for f in manifest.files if f.kind in servers.DUMP_KINDS]
    with zipfile.ZipFile(result.archive) as zf:
        member = zf.getinfo(dump.path)
        assert zf.testzip() is None
        assert hashlib.sha256(zf.read(dump.path)).hexdigest() == dump.sha256
    with open(result.archive, "rb") as fh:
        fh.seek(member.header_offset)
        header = fh.read(30)
        name_len, extra_len = int.from_bytes(header[26:28], "little"), int.from_bytes(header[28:30], "little")
        fh.seek(name_len, 1)
        extra = fh.read(extra_len)
    assert int.from_bytes(header[4:6], "little") == 45, "version needed: 4.5 (Zip64)"
    assert header[18:26] == b"\xff" * 8, "sizes live in the Zip64 field"
    assert extra[:4] == (1).to_bytes(2, "little") + (16).to_bytes(2, "little")
    assert int.from_bytes(extra[4:12], "little") == dump.size
    for tester in (["unzip", "-tq"], ["7z", "t"]):
        if shutil.which(tester[0]):
            tested = subprocess.run([*tester, str(result.archive)], capture_output=True, text=True, check=False)
            assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_dump_killed_midway_fails_the_run_and_leaves_older_backups_untouched(mariadb_server, db_keyring, dest):
    name = unique("cortada")
    make_mysql_shop(mariadb_server, name, sales=40_000)
    db = mariadb_server.source(name)
    servers.set_password(db, mariadb_server.password)
    cfg = make_config(dest, db)
    first = backup.run_backup(cfg)
    assert first.status == "ok", first.message
    older = {p.name: p.read_bytes() for p in dest.iterdir()}
    killed = []

    def kill_the_dump(event) -> None:
        if event.phase == "snapshot" and event.done_bytes and not killed:
            for pid, argv, _env in children():
                if Path(argv[0]).name in DUMP_TOOLS:
                    os.kill(pid, 9)
                    killed.append(pid)

    time.sleep(1.1)  # a new archive name
    result = backup.run_backup(cfg, report=kill_the_dump)
    assert killed, "the dump was never seen running"
    assert result.status == "failed"
    assert result.message.startswith(f"La copia de la base de datos {name} quedó incompleta")
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == older


def test_cancelling_during_a_dump_stops_the_tool_and_leaves_nothing(mariadb_server, db_keyring, dest):
    name = unique("cancelada")
    make_mysql_shop(mariadb_server, name, sales=40_000)
    db = mariadb_server.source(name)
    servers.set_password(db, mariadb_server.password)
    cancel = threading.Event()
    tools: list[int] = []

    def press_cancel(event) -> None:
        if event.phase == "snapshot" and event.done_bytes:
            tools.extend(pid for pid, argv, _env in children() if Path(argv[0]).name in DUMP_TOOLS)
            cancel.set()

    result = backup.run_backup(make_config(dest, db), report=press_cancel, cancel=cancel)
    assert result.status == "cancelled"
    assert tools and list(dest.iterdir()) == []
    assert not [pid for pid, _argv, _env in children() if pid in tools], "the dump tool is still running"


def test_a_dump_without_its_completion_trailer_does_not_count(mariadb_server, db_keyring, dest, tmp_path):
    name = unique("sin_final")
    make_mysql_shop(mariadb_server, name, sales=100)
    # A mysqldump that exits 0 but whose output was cut short (the last lines never arrived).
    tools = tmp_path / "cliente"
    tools.mkdir()
    real = shutil.which("mariadb-dump")
    (tools / "mysqldump").write_text(f'#!/bin/sh\n"{real}" "$@" | head -c -300\nexit 0\n', encoding="utf-8")
    (tools / "mysqldump").chmod(0o755)
    os.symlink(shutil.which("mariadb"), tools / "mysql")
    db = mariadb_server.source(name, client=str(tools / "mysqldump"))
    servers.set_password(db, mariadb_server.password)
    result = failed_backup(make_config(dest, db), dest)
    assert result.message == (f"La copia de la base de datos {name} quedó incompleta: mysqldump terminó sin "
                              "completarla. Vuelve a intentar; si se repite, revisa el registro.")
