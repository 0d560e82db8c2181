"""Fixtures for the tests of wizard/core/servers; the helpers' asserts are rewritten like a test's."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

pytest.register_assert_rewrite("tests.core.servers.helpers")

from tests.core.servers.helpers import make_firebird_shop, make_mysql_shop, unique
from wizard.core import servers


@pytest.fixture
def dest(tmp_path) -> Path:
    folder = tmp_path / "respaldos"
    folder.mkdir()
    return folder


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """The temporary folder the product uses for password files, so a test can look into it."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture(params=["mysql", "firebird"])
def engine_db(request, db_keyring):
    """A small database on each engine's server, with its password stored."""
    if request.param == "mysql":
        server = request.getfixturevalue("mariadb_server")
        name = unique("errores")
        make_mysql_shop(server, name, sales=10)
        db, password = server.source(name), server.password
    else:
        server = request.getfixturevalue("firebird_server")
        path = make_firebird_shop(server, unique("ERRORES") + ".FDB", sales=10)
        db, password = server.source(path), server.password
    servers.set_password(db, password)
    return db
