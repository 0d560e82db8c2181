"""Shared fixtures: every test gets its own config/data/log folders and Spanish messages; markers for the
tests that need more than Python (a database server, root, a display, PyInstaller) are set here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Messages are asserted in Spanish, the default language; set before wizard.i18n is imported.
os.environ["RESPALDOS_LANG"] = "es"

TESTS = Path(__file__).resolve().parent
# marker -> fixtures whose use means the test needs it (pyproject.toml registers the markers)
NEEDS = {
    "servers": {"mariadb_server", "firebird_server"},  # tests/dbservers.py
    # mount a tmpfs or a loop device, make a user (tests/faults.py); a test that mounts without one of
    # these fixtures skips without root all the same (skip_unless_ci)
    "root": {"small_filesystem", "small_disk", "test_user", "failing_disk", "network_folder"},
    "display": {"tk_root", "display"},  # tests/ui/conftest.py, tests/test_build.py
    "build": {"pyinstaller"},  # tests/test_build.py
}


def _fixtures_asked_for(item) -> set[str]:
    """The fixtures a test uses, including those its fixtures ask for by name at run time
    (``request.getfixturevalue("mariadb_server")``, as a test parametrized by engine does)."""
    names = set(getattr(item, "fixturenames", ()))
    infos = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}) or {}
    for defs in infos.values():
        for fixturedef in defs:
            code = getattr(getattr(fixturedef, "func", None), "__code__", None)
            if code is not None:
                names.update(c for c in code.co_consts if isinstance(c, str))
    return names


def pytest_collection_modifyitems(config, items):
    for item in items:
        asked = _fixtures_asked_for(item)
        for marker, fixtures in NEEDS.items():
            if asked & fixtures:
                item.add_marker(marker)
        if TESTS / "ui" in Path(str(item.path)).parents:
            item.add_marker("display")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch):
    """platformdirs honours the XDG variables: history, logs, locks and state go to a temp folder."""
    base = tmp_path_factory.mktemp("home")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(base / var.lower()))
    monkeypatch.delenv("RESPALDOS_CONFIG", raising=False)
    monkeypatch.setenv("RESPALDOS_LANG", "es")
    return base
