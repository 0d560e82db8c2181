"""Loading a dump back into its server (respaldos db restore): into a new database, or over the original
only with the POS closed and after a safety dump.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.core.servers.helpers import (
    db_restore_cli,
    firebird_attachments,
    make_config,
    make_firebird_shop,
    make_mysql_shop,
    unique,
    wait_until,
)
from tests.helpers import ROOT, respaldos_cmd
from wizard.core import backup, config, servers
from wizard.core.servers import load

# mariadb_server, firebird_server, db_keyring (not imported here, so that pytest can rewrite its asserts)
pytest_plugins = ["tests.dbservers"]


def test_db_restore_goes_into_a_new_database_and_replaces_the_original_only_with_the_pos_closed(
        mariadb_server, db_keyring, dest, tmp_path):
    server = mariadb_server
    name = unique("restaurar")
    make_mysql_shop(server, name, sales=500)
    db = server.source(name)
    servers.set_password(db, mariadb_server.password)
    cfg_path = tmp_path / "respaldos.toml"
    config.save(make_config(dest, db), cfg_path)
    result = backup.run_backup(config.load(cfg_path))
    assert result.status == "ok", result.message

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(respaldos_cmd("db", "restore", str(result.archive), name, "--config", str(cfg_path),
                                            *args), capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)

    copy = f"{name}_copia"
    done = cli("--as", copy)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (f"Se restauró la base de datos {name} como {copy} en el servidor "
                                   f"127.0.0.1:{server.port}. La original no se tocó.")
    assert server.scalar("SELECT COUNT(*) FROM ventas", copy) == "500"
    again = cli("--as", copy)
    assert again.returncode == 1 and "Ya existe una base de datos con ese nombre" in again.stderr
    assert server.scalar("SELECT COUNT(*) FROM ventas", copy) == "500"

    server.admin("DELETE FROM venta_lineas; DELETE FROM ventas;", name)  # a mistake to undo
    pos = subprocess.Popen(["mariadb", "--no-defaults", f"--socket={server.socket}", "-uroot", f"--database={name}"],
                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: server.scalar(f"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{name}'")
                   != "0")
        refused = cli("--replace")
    finally:
        pos.stdin.close()
        pos.wait(timeout=30)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (f"Hay 1 conexión abierta a la base de datos {name}. Cierra el punto de venta "
                                      "en todas las cajas y vuelve a intentar.")
    assert server.scalar("SELECT COUNT(*) FROM ventas", name) == "0"
    wait_until(lambda: server.scalar(f"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{name}'")
               == "0")
    replaced = cli("--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert server.scalar("SELECT COUNT(*) FROM ventas", name) == "500"
    safety = list(dest.glob(f"{name}_antes_de_restaurar_*.sql"))
    assert len(safety) == 1 and safety[0].read_bytes().rstrip().splitlines()[-1].startswith(b"-- Dump completed")
    assert str(safety[0]) in replaced.stdout


def test_db_restore_takes_the_backup_as_an_archive_anywhere_among_the_options_or_from_the_cloud():
    from wizard.cli import build_parser

    def parsed(*argv: str) -> tuple:
        args = build_parser().parse_args(["db", "restore", *argv])
        return args.archive, args.name, args.from_cloud, args.target, args.replace

    zip_ = Path("E:/Respaldos/respaldo_2026-12-03_07-00-00.zip")
    assert parsed(str(zip_), "sicar") == (zip_, "sicar", None, None, False)
    assert parsed(str(zip_), "--as", "sicar_prueba", "sicar") == (zip_, "sicar", None, "sicar_prueba", False)
    assert parsed("--replace", str(zip_), "sicar") == (zip_, "sicar", None, None, True)
    assert parsed("--from-cloud", zip_.name, "sicar") == (None, "sicar", zip_.name, None, False)
    assert parsed("sicar", "--as", "sicar_prueba", "--from-cloud", zip_.name) == (
        None, "sicar", zip_.name, "sicar_prueba", False)


@pytest.mark.parametrize("argv", [["respaldo.zip", "sicar", "--from-cloud", "respaldo.zip"], ["sicar"]],
                         ids=["archive-and-cloud", "neither"])
def test_db_restore_with_both_an_archive_and_a_cloud_backup_or_neither_is_bad_usage(argv, tmp_path):
    done = subprocess.run(respaldos_cmd("db", "restore", *argv, "--config", str(tmp_path / "no_existe.toml")),
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.strip() == ("respaldos db restore: indica un ARCHIVO o --from-cloud RESPALDO (uno de los "
                                   "dos), y el NOMBRE de la base de datos.")


def test_db_restore_help_shows_both_ways_of_naming_the_backup():
    # Wide enough that argparse wraps no line (it may break at the hyphens of a backup's name).
    done = subprocess.run(respaldos_cmd("db", "restore", "--help"), capture_output=True, text=True, cwd=ROOT,
                          timeout=60, check=False, env={**os.environ, "COLUMNS": "400"})
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert text.startswith("usage: respaldos db restore [-h] [--config P] [--from-cloud RESPALDO] "
                           "[--as NUEVA | --replace] [ARCHIVO] NOMBRE")
    assert ("El respaldo es el ARCHIVO .zip o, con --from-cloud, uno que está en la nube: se descarga, se "
            "comprueba su suma y se borra al terminar.") in text
    assert "ARCHIVO el respaldo (.zip); no se indica con --from-cloud" in text
    assert ("--from-cloud RESPALDO descarga de la nube el respaldo RESPALDO (respaldo_AAAA-MM-DD_HH-MM-SS.zip), "
            "comprueba su suma y carga de él la base de datos") in text


def test_the_command_that_loads_a_dump_names_the_archive_or_the_cloud_backup():
    zip_ = "E:/Respaldos/respaldo_2026-12-03_07-00-00.zip"
    assert servers.restore_command(zip_, "sicar") == f'respaldos db restore "{zip_}" sicar'
    assert servers.restore_command(None, "sicar", from_cloud="respaldo_2026-12-03_07-00-00.zip") == (
        "respaldos db restore --from-cloud respaldo_2026-12-03_07-00-00.zip sicar")
    assert servers.restore_command(zip_, "caja 1", "/otra/respaldos.toml",
                                   from_cloud="respaldo_2026-12-03_07-00-00.zip") == (
        'respaldos db restore --from-cloud respaldo_2026-12-03_07-00-00.zip "caja 1" --config "/otra/respaldos.toml"')


def test_replace_is_refused_when_the_mysql_user_cannot_see_other_users_connections(
        mariadb_server, db_keyring, dest, tmp_path):
    server = mariadb_server
    name = unique("sin_process")
    make_mysql_shop(server, name, sales=50)
    servers.set_password(server.source(name), server.password)
    archive = backup.run_backup(make_config(dest, server.source(name)))
    assert archive.status == "ok", archive.message
    server.admin("DELETE FROM venta_lineas; DELETE FROM ventas;", name)
    cajero = f"cajero_{os.getpid()}"
    server.admin(f"CREATE USER '{cajero}'@'%' IDENTIFIED BY 'caja-1'; GRANT ALL ON `{name}`.* TO '{cajero}'@'%';")
    db = server.source(name, user=cajero)
    servers.set_password(db, "caja-1")
    cfg_path = tmp_path / "respaldos.toml"
    config.save(make_config(dest, db), cfg_path)
    pos = subprocess.Popen(["mariadb", "--no-defaults", f"--socket={server.socket}", "-uroot", f"--database={name}"],
                           stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: server.scalar(f"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{name}'")
                   != "0")
        refused = db_restore_cli(archive.archive, name, cfg_path, "--replace")
    finally:
        pos.stdin.close()
        pos.wait(timeout=30)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"No se pudo comprobar si el punto de venta sigue conectado a la base de datos {name}: el usuario {cajero} "
        "solo puede ver sus propias conexiones. Para reemplazarla, pon en user de la configuración un usuario que "
        f"las vea todas (root, o uno con el permiso PROCESS) y guarda su contraseña con: respaldos db password "
        f"{name}. O restáurala como base de datos nueva (sin --replace): la original no se toca.")
    assert server.scalar("SELECT COUNT(*) FROM ventas", name) == "0", "nothing was replaced"
    assert not list(dest.glob("*_antes_de_restaurar_*")), "no safety dump either"

    # A POS using the same user is seen even without the privilege.
    same_user = subprocess.Popen(["mariadb", "--no-defaults", "--host=127.0.0.1", f"--port={server.port}",
                                  "--protocol=TCP", f"--user={cajero}", "--password=caja-1", f"--database={name}"],
                                 stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: server.scalar("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                         f"WHERE USER = '{cajero}'") != "0")
        in_use = db_restore_cli(archive.archive, name, cfg_path, "--replace")
    finally:
        same_user.stdin.close()
        same_user.wait(timeout=30)
    assert in_use.returncode == 1
    assert in_use.stderr.strip().startswith(f"Hay 1 conexión abierta a la base de datos {name}.")


def test_replace_checks_again_after_the_safety_dump_that_the_pos_did_not_open_meanwhile(
        mariadb_server, db_keyring, dest, monkeypatch):
    server = mariadb_server
    name = unique("reabierto")
    make_mysql_shop(server, name, sales=50)
    db = server.source(name)
    servers.set_password(db, server.password)
    archive = backup.run_backup(make_config(dest, db)).archive
    server.admin("DELETE FROM venta_lineas; DELETE FROM ventas;", name)
    opened: list[subprocess.Popen] = []
    real_dump = servers.dump_to_file

    def dump_while_the_pos_opens(*args, **kwargs):
        done = real_dump(*args, **kwargs)
        opened.append(subprocess.Popen(["mariadb", "--no-defaults", f"--socket={server.socket}", "-uroot",
                                        f"--database={name}"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL))
        wait_until(lambda: server.scalar("SELECT COUNT(*) FROM information_schema.PROCESSLIST "
                                         f"WHERE DB = '{name}'") != "0")
        return done

    monkeypatch.setattr(load, "dump_to_file", dump_while_the_pos_opens)  # where restore_dump finds it
    try:
        with pytest.raises(servers.DatabaseInUse):
            servers.restore_dump(archive, db, replace=True, safety_folder=dest)
    finally:
        for pos in opened:
            pos.stdin.close()
            pos.wait(timeout=30)
    assert opened, "the safety dump ran"
    assert server.scalar("SELECT COUNT(*) FROM ventas", name) == "0", "nothing was replaced"
    assert len(list(dest.glob(f"{name}_antes_de_restaurar_*.sql"))) == 1


def test_firebird_replace_is_refused_while_the_pos_is_connected_and_done_after_a_safety_dump(
        firebird_server, db_keyring, dest, tmp_path):
    server = firebird_server
    path = make_firebird_shop(server, unique("REEMPLAZO") + ".FDB", sales=500)
    db = server.source(path)
    servers.set_password(db, server.password)
    cfg_path = tmp_path / "respaldos.toml"
    config.save(make_config(dest, db), cfg_path)
    result = backup.run_backup(config.load(cfg_path))
    assert result.status == "ok", result.message
    server.isql("DELETE FROM VENTA_LINEAS; DELETE FROM VENTAS; COMMIT;", path)  # a mistake to undo

    pos = subprocess.Popen(["isql-fb", "-q", server.target(path)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=server.client_env())
    try:
        wait_until(lambda: firebird_attachments(server, path) > 0)
        refused = db_restore_cli(result.archive, db.label, cfg_path, "--replace")
    finally:
        pos.stdin.close()
        pos.wait(timeout=30)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (f"Hay 1 conexión abierta a la base de datos {db.label}. Cierra el punto de "
                                      "venta en todas las cajas y vuelve a intentar.")
    assert server.scalar("SELECT COUNT(*) FROM VENTAS;", path) == "0"
    assert not list(dest.glob("*_antes_de_restaurar_*"))

    wait_until(lambda: firebird_attachments(server, path) == 0)
    replaced = db_restore_cli(result.archive, db.label, cfg_path, "--replace")
    assert replaced.returncode == 0, replaced.stderr
    assert server.scalar("SELECT COUNT(*) FROM VENTAS;", path) == "500"
    assert server.scalar("SELECT COUNT(*) FROM VENTA_LINEAS;", path) == "1500"
    [safety] = dest.glob(f"{db.label}_antes_de_restaurar_*.fbk")
    assert str(safety) in replaced.stdout
    # The safety dump holds the data from before (no sales): it loads, and it is what was there.
    before = Path(str(path).replace(".FDB", "_ANTES.FDB"))
    loaded = subprocess.run(["gbak", "-c", "-user", "SYSDBA", "-se", f"127.0.0.1/{server.port}:service_mgr",
                             str(safety), str(before)], env=server.client_env(), capture_output=True, text=True,
                            timeout=120, check=False)
    assert loaded.returncode == 0, loaded.stderr
    assert server.scalar("SELECT COUNT(*) FROM VENTAS;", before) == "0"
    assert server.scalar("SELECT COUNT(*) FROM PRODUCTOS;", before) == "2000"


def test_firebird_replace_is_refused_when_the_user_cannot_see_other_attachments_or_isql_is_missing(
        firebird_server, db_keyring, dest, tmp_path, monkeypatch):
    server = firebird_server
    path = make_firebird_shop(server, unique("CAJERO") + ".FDB", sales=20)
    db = server.source(path)
    servers.set_password(db, server.password)
    result = backup.run_backup(make_config(dest, db))
    assert result.status == "ok", result.message
    server.isql("CREATE OR ALTER USER CAJERO PASSWORD 'caja1';\nCOMMIT;\n", path)
    cajero = server.source(path, user="CAJERO")
    servers.set_password(cajero, "caja1")
    pos = subprocess.Popen(["isql-fb", "-q", server.target(path)], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=server.client_env())  # the POS, as SYSDBA
    try:
        wait_until(lambda: firebird_attachments(server, path) > 0)
        with pytest.raises(servers.ConnectionsUnknown) as unknown:
            servers.restore_dump(result.archive, cajero, replace=True, safety_folder=dest)
    finally:
        pos.stdin.close()
        pos.wait(timeout=30)
    assert str(unknown.value) == (
        f"No se pudo comprobar si el punto de venta sigue conectado a la base de datos {db.label}: el usuario CAJERO "
        "solo puede ver sus propias conexiones. Para reemplazarla, pon en user de la configuración un usuario que "
        f"las vea todas (SYSDBA o el dueño de la base de datos) y guarda su contraseña con: respaldos db password "
        f"{db.label}. O restáurala como base de datos nueva (sin --replace): la original no se toca.")

    tools = tmp_path / "firebird" / "bin"  # gbak without isql next to it, and no isql-fb on PATH
    tools.mkdir(parents=True)
    os.symlink(shutil.which("gbak"), tools / "gbak")
    db.client = str(tools)
    with monkeypatch.context() as m, pytest.raises(servers.ConnectionsUnknown) as no_isql:
        m.setenv("PATH", str(tmp_path / "nada"))
        servers.restore_dump(result.archive, db, replace=True, safety_folder=dest)
    assert str(no_isql.value).startswith(
        f"No se pudo comprobar si el punto de venta sigue conectado a la base de datos {db.label}: no se encontró el "
        "programa isql para preguntárselo al servidor.")
    assert not list(dest.glob("*_antes_de_restaurar_*")), "refused before the safety dump"
    assert server.scalar("SELECT COUNT(*) FROM VENTAS;", path) == "20"


def test_restoring_files_to_their_places_leaves_the_database_dumps_to_db_restore(mariadb_server, db_keyring, dest,
                                                                                  tmp_path):
    from wizard.core import restore

    data = tmp_path / "datos"
    data.mkdir()
    (data / "ticket.xml").write_text("<ticket>1</ticket>", encoding="utf-8")
    name = unique("mixto")
    make_mysql_shop(mariadb_server, name, sales=10)
    db = mariadb_server.source(name)
    servers.set_password(db, mariadb_server.password)
    cfg = make_config(dest, db, paths_=[data])
    result = backup.run_backup(cfg)
    assert result.status == "ok", result.message
    (data / "ticket.xml").write_text("<ticket>2</ticket>", encoding="utf-8")
    restore.restore_to_original(result.archive, cfg)
    assert (data / "ticket.xml").read_text(encoding="utf-8") == "<ticket>1</ticket>"
    assert sorted(p.name for p in data.iterdir()) == ["ticket.xml"]
