"""Finding the client programs: PATH, the entry's client setting, the folders installers use.
"""

from __future__ import annotations

import os
import shutil

from tests.core.servers.helpers import make_config, make_mysql_shop, unique
from wizard.core import backup, servers

# mariadb_server, firebird_server, db_keyring (not imported here, so that pytest can rewrite its asserts)
pytest_plugins = ["tests.dbservers"]


def test_the_client_is_found_in_the_usual_install_folders(mariadb_server, db_keyring, dest, tmp_path, monkeypatch):
    name = unique("carpetas")
    make_mysql_shop(mariadb_server, name, sales=100)
    program_files = tmp_path / "Program Files"
    bin_dir = program_files / "MariaDB 10.11" / "bin"
    bin_dir.mkdir(parents=True)
    os.symlink(shutil.which("mariadb-dump"), bin_dir / "mysqldump")
    os.symlink(shutil.which("mariadb"), bin_dir / "mysql")
    monkeypatch.setenv("PATH", str(tmp_path / "nada"))
    monkeypatch.setenv("ProgramFiles", str(program_files))
    db = mariadb_server.source(name)
    servers.set_password(db, mariadb_server.password)
    assert servers.find_tool(db) == bin_dir / "mysqldump"
    result = backup.run_backup(make_config(dest, db))
    assert result.status == "ok", result.message
