"""Drills of server-database dumps on the real MariaDB and Firebird servers of the tests: loaded into a
throwaway copy, checked and counted there, dropped; a kill leaves a copy that the next drill drops."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import time
import zipfile
from dataclasses import replace
from datetime import datetime, timedelta

from tests.core.servers.helpers import closed_port, make_config, make_firebird_shop, make_mysql_shop, unique
from tests.helpers import ROOT, respaldos_cmd
from wizard.core import backup, config, servers
from wizard.core.archive import MANIFEST_NAME, Manifest
from wizard.core.drill import run_drill
from wizard.core.drill.sandbox import sandboxes_dir

# mariadb_server, firebird_server, db_keyring (not imported here, so that pytest can rewrite their asserts)
pytest_plugins = ["tests.dbservers"]


def temporary_databases(server) -> list[str]:
    return server.admin("SHOW DATABASES LIKE 'respaldos\\_prueba\\_%'").split()


def backed_up(db, dest, password):
    servers.set_password(db, password)
    cfg = make_config(dest, db)
    result = backup.run_backup(cfg)
    assert result.status == "ok", result.message
    return cfg, result.archive


def test_a_mysql_dump_is_loaded_into_a_temporary_database_counted_and_dropped(mariadb_server, db_keyring, tmp_path):
    name = unique("prueba")
    make_mysql_shop(mariadb_server, name, sales=300)
    cfg, _archive = backed_up(mariadb_server.source(name), tmp_path, mariadb_server.password)
    seen = []

    result = run_drill(cfg, report=lambda e: seen.append(temporary_databases(mariadb_server)) if e.phase == "check"
                       else None)

    assert result.ok, result.problem
    (check,) = result.databases
    assert (check.path, check.kind, check.integrity) == (f"bases_de_datos/{name}.sql", "mysql", "ok")
    assert check.tables == {"productos": 2000, "venta_lineas": 900, "ventas": 300}
    assert datetime.now() - timedelta(hours=1) < check.newest <= datetime.now()
    assert "300 ventas, último movimiento de hoy a las " in result.sentence()
    assert len(seen) == 1 and len(seen[0]) == 1 and seen[0][0].startswith("respaldos_prueba_"), \
        "the copy existed while it was checked"
    assert temporary_databases(mariadb_server) == [], "and is dropped afterwards"
    assert mariadb_server.scalar("SELECT COUNT(*) FROM ventas", name) == "300", "the original is untouched"


def test_a_firebird_dump_is_restored_with_gbak_into_the_sandbox_and_checked(firebird_server, db_keyring, tmp_path):
    path = make_firebird_shop(firebird_server, unique("PRUEBA") + ".FDB", sales=300)
    cfg, _archive = backed_up(firebird_server.source(path), tmp_path, firebird_server.password)
    copies = []

    def report(event) -> None:
        if event.phase == "check":
            copies.extend(str(p) for p in sandboxes_dir().glob("prueba-*/*.fdb"))

    result = run_drill(cfg, report=report)

    assert result.ok, result.problem
    (check,) = result.databases
    assert check.kind == "firebird" and check.integrity == "ok"
    assert check.tables == {"PRODUCTOS": 2000, "VENTAS": 300, "VENTA_LINEAS": 900}
    assert datetime.now() - timedelta(hours=1) < check.newest <= datetime.now()
    assert len(copies) == 1 and copies[0].startswith(str(sandboxes_dir())), "gbak -c wrote into the sandbox"
    assert not list(sandboxes_dir().glob("prueba-*")), "and it went with the sandbox"


def test_a_server_that_cannot_be_reached_fails_the_database_with_its_plain_sentence(mariadb_server, db_keyring,
                                                                                   tmp_path):
    name = unique("caido")
    make_mysql_shop(mariadb_server, name, sales=10)
    cfg, archive = backed_up(mariadb_server.source(name), tmp_path, mariadb_server.password)
    stopped = replace(cfg.source.databases[0], port=closed_port())
    servers.set_password(stopped, mariadb_server.password)
    cfg.source.databases = [stopped]

    result = run_drill(cfg)

    assert not result.ok
    (check,) = result.databases
    assert check.integrity.startswith("No se pudo conectar con el servidor MySQL/MariaDB")
    assert result.problem == (f"La prueba del respaldo {archive.name} falló en la base de datos "
                              f"bases_de_datos/{name}.sql: {check.integrity}")


def with_member_replaced(archive, member: str, data: bytes) -> None:
    """Rewrite ``archive`` with ``member`` holding ``data`` and the manifest saying so (valid hashes)."""
    with zipfile.ZipFile(archive) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    manifest = Manifest.from_json(members[MANIFEST_NAME])
    for mf in manifest.files:
        if mf.path == member:
            mf.size, mf.sha256 = len(data), hashlib.sha256(data).hexdigest()
    members[member], members[MANIFEST_NAME] = data, manifest.to_json()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)


def test_a_dump_that_does_not_load_fails_the_database_and_leaves_no_temporary_database(mariadb_server, db_keyring,
                                                                                      tmp_path):
    name = unique("roto")
    make_mysql_shop(mariadb_server, name, sales=10)
    cfg, archive = backed_up(mariadb_server.source(name), tmp_path, mariadb_server.password)
    member = f"bases_de_datos/{name}.sql"
    with zipfile.ZipFile(archive) as zf:
        dump = zf.read(member)
    with_member_replaced(archive, member, dump[: len(dump) // 2] + b"\nINSERT INTO no_existe VALUES (1);\n")

    result = run_drill(cfg)

    assert not result.ok
    (check,) = result.databases
    assert check.path == member
    # the server's own words, not a code that happens to be in the statement it echoes ("Producto ñandú 1007")
    assert check.integrity.startswith(f"No se pudo restaurar la base de datos {name}: ")
    assert "ERROR 1064" in check.integrity
    assert result.problem.startswith(f"La prueba del respaldo {archive.name} falló en la base de datos {member}: ")
    assert temporary_databases(mariadb_server) == []


def test_a_kill_mid_load_leaves_a_temporary_database_that_the_next_drill_drops(mariadb_server, db_keyring, tmp_path):
    name = unique("matado")
    make_mysql_shop(mariadb_server, name, sales=40_000)
    cfg, _archive = backed_up(mariadb_server.source(name), tmp_path, mariadb_server.password)
    cfg_path = tmp_path / "respaldos.toml"
    config.save(cfg, cfg_path)
    proc = subprocess.Popen(respaldos_cmd("test-restore", "--config", str(cfg_path)), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    deadline = time.monotonic() + 120
    while not temporary_databases(mariadb_server):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the dump was never loaded"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert temporary_databases(mariadb_server), "a kill skips every finally"

    again = subprocess.run(respaldos_cmd("test-restore", "--config", str(cfg_path), "--json"), capture_output=True,
                           text=True, cwd=ROOT, timeout=300, check=False)

    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["databases"][0]["tables"]["ventas"] == 40_000
    assert temporary_databases(mariadb_server) == []
    assert not list(sandboxes_dir().glob("prueba-*"))
