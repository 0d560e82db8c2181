"""The connection test (test_connection, respaldos db test): the server's version, and what a consistent
dump would not cover.
"""

from __future__ import annotations

import re
import subprocess

from tests.core.servers.helpers import make_config, make_firebird_shop, make_mysql_shop, unique
from tests.helpers import ROOT, respaldos_cmd
from wizard.core import config, servers

# mariadb_server, firebird_server, db_keyring (not imported here, so that pytest can rewrite its asserts)
pytest_plugins = ["tests.dbservers"]


def test_the_connection_test_warns_about_tables_a_consistent_dump_does_not_cover(mariadb_server, db_keyring):
    server = mariadb_server
    name = unique("myisam")
    make_mysql_shop(server, name, sales=10)
    db = server.source(name)
    servers.set_password(db, server.password)
    assert servers.test_connection(db).warnings == [], "InnoDB only: nothing to say"
    server.admin("CREATE TABLE clientes (id INT PRIMARY KEY) ENGINE=MyISAM; CREATE VIEW vista AS SELECT 1 AS x;",
                 database=name)
    info = servers.test_connection(db)
    assert info.warnings == [(
        "Aviso: la tabla clientes (MyISAM) no es InnoDB, así que su copia no es de un solo momento: si el punto de "
        "venta la cambia durante el respaldo, puede quedar desigual con las demás. Respalda con el punto de venta "
        "cerrado o pregunta a su proveedor si puede pasarla a InnoDB.")]
    assert info.summary(db).splitlines()[1] == info.warnings[0]
    server.admin("".join(f"CREATE TABLE t{i} (id INT) ENGINE=Aria;" for i in range(6)), database=name)
    [warning] = servers.test_connection(db).warnings
    assert warning.startswith("Aviso: las tablas clientes (MyISAM), t0 (Aria), t1 (Aria), t2 (Aria), t3 (Aria) y 2 "
                              "más no son InnoDB")


def test_db_test_reports_each_database_and_fails_when_one_cannot_be_reached(
        mariadb_server, firebird_server, db_keyring, dest, tmp_path):
    name = unique("prueba")
    make_mysql_shop(mariadb_server, name, sales=10)
    fb = firebird_server.source(make_firebird_shop(firebird_server, unique("PRUEBA") + ".FDB", sales=10), name="caja")
    mysql = mariadb_server.source(name)
    servers.set_password(mysql, mariadb_server.password)
    servers.set_password(fb, firebird_server.password)
    cfg_path = tmp_path / "respaldos.toml"
    config.save(make_config(dest, mysql, fb), cfg_path)
    ok = subprocess.run(respaldos_cmd("db", "test", "--config", str(cfg_path)), capture_output=True, text=True,
                        cwd=ROOT, timeout=120, check=False)
    assert ok.returncode == 0, ok.stderr
    assert re.search(rf"^{name}: Conexión correcta con MySQL/MariaDB 10\.\S+ en 127\.0\.0\.1:{mariadb_server.port}\.",
                     ok.stdout, re.MULTILINE)
    assert re.search(r"^caja: Conexión correcta con Firebird 3\.\S+ en ", ok.stdout, re.MULTILINE)
    servers.set_password(fb, "mala")
    bad = subprocess.run(respaldos_cmd("db", "test", "caja", "--config", str(cfg_path)), capture_output=True,
                         text=True, cwd=ROOT, timeout=120, check=False)
    assert bad.returncode == 1 and bad.stderr.startswith("caja: El servidor Firebird rechazó el usuario SYSDBA")
    unknown = subprocess.run(respaldos_cmd("db", "test", "otra", "--config", str(cfg_path)), capture_output=True,
                             text=True, cwd=ROOT, timeout=120, check=False)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == f"No hay ninguna base de datos llamada otra en la configuración (hay: {name}, caja)."
