"""What went wrong with a server database, in plain words: a wrong password, a stopped server, a missing
database, a missing client program (each on MariaDB and Firebird).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.core.servers.helpers import closed_port, failed_backup, make_config
from wizard.core import servers

# mariadb_server, firebird_server, db_keyring (not imported here, so that pytest can rewrite its asserts)
pytest_plugins = ["tests.dbservers"]


def test_a_wrong_password_is_named_and_says_how_to_store_the_right_one(engine_db, dest):
    servers.set_password(engine_db, "no-es-la-clave")
    with pytest.raises(servers.WrongPassword):
        servers.test_connection(engine_db)
    result = failed_backup(make_config(dest, engine_db), dest)
    assert result.message.startswith(f"El servidor {servers.ENGINE_NAMES[engine_db.engine]} rechazó el usuario "
                                     f"{engine_db.user} o su contraseña para la base de datos {engine_db.label}.")
    assert f"respaldos db password {engine_db.label}" in result.message
    assert "no-es-la-clave" not in result.message


def test_a_server_that_is_not_running_is_named_with_its_host_and_port(engine_db, dest):
    engine_db.port = closed_port()
    with pytest.raises(servers.ServerNotRunning):
        servers.test_connection(engine_db)
    result = failed_backup(make_config(dest, engine_db), dest)
    engine = servers.ENGINE_NAMES[engine_db.engine]
    assert result.message == (f"No se pudo conectar con el servidor {engine} en 127.0.0.1:{engine_db.port}. Revisa "
                              "que el servidor de la base de datos esté encendido y que el equipo y el puerto sean "
                              "correctos.")


def test_a_missing_database_is_named(engine_db, dest):
    password = servers.get_password(engine_db)
    if engine_db.engine == "mysql":
        engine_db.database = "no_existe"
        expected = f"La base de datos no_existe no existe en el servidor 127.0.0.1:{engine_db.port}."
    else:
        engine_db.path = str(Path(engine_db.path).with_name("NO_EXISTE.FDB"))
        expected = f"No se encontró la base de datos {engine_db.path} en el servidor 127.0.0.1:{engine_db.port}."
    servers.set_password(engine_db, password)  # stored under the entry's (new) name
    with pytest.raises(servers.DatabaseMissing):
        servers.test_connection(engine_db)
    result = failed_backup(make_config(dest, engine_db), dest)
    assert result.message.startswith(expected), result.message


def test_a_missing_client_tool_is_named_whether_searched_or_configured(engine_db, dest, tmp_path, monkeypatch):
    tool = "mysqldump" if engine_db.engine == "mysql" else "gbak"
    empty = tmp_path / "vacia"
    empty.mkdir()
    engine_db.client = str(empty)
    result = failed_backup(make_config(dest, engine_db), dest)
    assert result.message.startswith(f"No se encontró {tool} en {empty}. Indica en client la carpeta")
    engine_db.client = ""
    monkeypatch.setenv("PATH", str(empty))
    for var in ("ProgramW6432", "ProgramFiles", "ProgramFiles(x86)"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(servers.ClientNotFound):
        servers.test_connection(engine_db)
    result = failed_backup(make_config(dest, engine_db), dest)
    engine = servers.ENGINE_NAMES[engine_db.engine]
    assert result.message == (f"No se encontró el programa {tool} en esta computadora. Instala las herramientas de "
                              f"cliente de {engine} o indica en client de la configuración la carpeta donde está "
                              f"{tool}.")
