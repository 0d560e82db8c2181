"""Servers on this computer: a real MariaDB holding a ``sicar`` database, found and named SICAR with a login;
the Windows service list read from ``sc query`` output."""

from __future__ import annotations

import json
import socket
import subprocess

import pytest

from tests.core.test_cli import python_env
from tests.helpers import ROOT, respaldos_cmd
from wizard.core import servers as db_servers
from wizard.core.detect import MySQLLogin, detect
from wizard.core.detect import servers as detect_servers
from wizard.core.detect.found import Found

pytest_plugins = ["tests.dbservers"]


@pytest.fixture(scope="module")
def sicar_server(mariadb_server):
    mariadb_server.admin("CREATE DATABASE IF NOT EXISTS sicar; "
                         "CREATE TABLE IF NOT EXISTS sicar.venta (id INT PRIMARY KEY, total DECIMAL(10,2)); "
                         "REPLACE INTO sicar.venta VALUES (1, 10.50), (2, 99.90); "
                         "CREATE DATABASE IF NOT EXISTS inventario_otro;")
    return mariadb_server


def test_a_mysql_server_with_a_sicar_database_is_found_and_named_with_a_login(sicar_server, tmp_path):
    result = detect([str(tmp_path)], extra_ports={"mysql": [sicar_server.port]},
                    mysql_login=MySQLLogin("pos", sicar_server.password))
    ours = [f for f in result.found if f.port == sicar_server.port]
    server = next(f for f in ours if f.kind == "mysql-server")
    sicar = next(f for f in ours if f.kind == "mysql-database" and f.database == "sicar")
    assert sicar.program == "SICAR" and server.program == "SICAR"
    assert sicar.size and sicar.size > 0 and sicar.modified
    assert result.found.index(sicar) < result.found.index(server)  # the database before its server
    other = next(f for f in ours if f.database == "inventario_otro")
    assert other.program is None
    assert not {f.database for f in ours} & {"mysql", "information_schema", "performance_schema", "sys"}
    assert result.problems == []
    # the entry it becomes is the one "Agregar base de datos..." makes, and it connects
    entry = sicar.database_entry("pos")
    assert (entry.engine, entry.host, entry.port, entry.database, entry.user) == (
        "mysql", "localhost", sicar_server.port, "sicar", "pos")
    assert db_servers.test_connection(entry, sicar_server.password, use_keyring=False).version


def test_without_a_login_only_the_server_is_listed(sicar_server, tmp_path):
    result = detect([str(tmp_path)], extra_ports={"mysql": [sicar_server.port]})
    ours = [f for f in result.found if f.port == sicar_server.port]
    assert [(f.kind, f.host) for f in ours] == [("mysql-server", "localhost")]


def test_a_wrong_password_is_said_and_lists_nothing(sicar_server, tmp_path):
    result = detect([str(tmp_path)], extra_ports={"mysql": [sicar_server.port]},
                    mysql_login=MySQLLogin("pos", "no-es-la-clave"))
    assert not [f for f in result.found if f.kind == "mysql-database" and f.port == sicar_server.port]
    assert result.problems and "contraseña" in result.problems[0]
    assert "no-es-la-clave" not in " ".join(result.problems)


def test_the_command_line_reads_the_mysql_password_from_standard_input(sicar_server, tmp_path):
    args = ("--roots", str(tmp_path), "--mysql-port", str(sicar_server.port), "--mysql-user", "pos")
    done = run_detect(*args, "--json", stdin=sicar_server.password + "\n")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)["found"]
    sicar = next(f for f in found if f["database"] == "sicar" and f["port"] == sicar_server.port)
    assert sicar == {**sicar, "kind": "mysql-database", "host": "localhost", "program": "SICAR", "path": None}
    words = run_detect(*args, stdin=sicar_server.password + "\n")
    assert "Encontramos SICAR: base de datos MySQL 'sicar' en este equipo" in words.stdout
    assert sicar_server.password not in words.stdout + words.stderr


def run_detect(*args: str, stdin: str) -> subprocess.CompletedProcess:
    return subprocess.run(respaldos_cmd("detect", *args), input=stdin, capture_output=True, text=True, cwd=ROOT,
                          env=python_env(), timeout=120, check=False)


def test_a_port_nobody_listens_on_is_not_a_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, not listening: connections are refused
        assert not detect_servers.listening(port)
        ours = [f for f in detect_servers.find_servers({"mysql": [port]}) if f.port == port]
    assert ours == []


SC_OUTPUT = """
SERVICE_NAME: Audiosrv
DISPLAY_NAME: Audio de Windows
        TYPE               : 10  WIN32_OWN_PROCESS
        STATE              : 4  RUNNING

SERVICE_NAME: MySQL57
DISPLAY_NAME: MySQL57
        TYPE               : 10  WIN32_OWN_PROCESS
        STATE              : 4  RUNNING

SERVICE_NAME: FirebirdServerDefaultInstance
DISPLAY_NAME: Firebird Server - DefaultInstance
        STATE              : 1  STOPPED

SERVICE_NAME: MariaDB
"""


def test_windows_services_of_both_engines_are_read_from_sc_query():
    assert detect_servers.services_in(SC_OUTPUT) == {"mysql": ["MySQL57", "MariaDB"],
                                                     "firebird": ["FirebirdServerDefaultInstance"]}
    assert detect_servers.services_in("") == {"mysql": [], "firebird": []}


def test_a_found_firebird_file_becomes_the_entry_the_database_dialog_makes():
    entry = Found("firebird", path="C:\\AbarrotesPDV\\PDVDATA.FDB").database_entry()
    assert (entry.engine, entry.host, entry.port, entry.path, entry.user, entry.database) == (
        "firebird", "localhost", 3050, "C:\\AbarrotesPDV\\PDVDATA.FDB", "SYSDBA", "")
    assert entry.label == "PDVDATA"
    assert Found("sqlite", path="/x/ventas.db").database_entry() is None


def test_a_firebird_server_and_its_database_file_are_found_and_the_file_becomes_a_working_entry(
        firebird_server, tmp_path):
    import dataclasses

    path = firebird_server.create_database("PDVDATA.FDB")
    result = detect([str(path.parent)], extra_ports={"firebird": [firebird_server.port]})
    assert ("firebird-server", "localhost", firebird_server.port) in {(f.kind, f.host, f.port) for f in result.found}
    found = next(f for f in result.found if f.path == str(path))
    assert (found.kind, found.program) == ("firebird", "eleventa")
    entry = dataclasses.replace(found.database_entry(), port=firebird_server.port)  # the test server's own port
    info = db_servers.test_connection(entry, firebird_server.password, use_keyring=False)
    assert info.version.startswith("3.")
