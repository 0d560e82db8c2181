"""Shared fixtures: every test gets its own config/data/log folders and Spanish messages."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Messages are asserted in Spanish, the default language; set before wizard.i18n is imported.
os.environ["RESPALDOS_LANG"] = "es"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path_factory, monkeypatch):
    """platformdirs honours the XDG variables: history, logs, locks and state go to a temp folder."""
    base = tmp_path_factory.mktemp("home")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        monkeypatch.setenv(var, str(base / var.lower()))
    monkeypatch.delenv("RESPALDOS_CONFIG", raising=False)
    monkeypatch.setenv("RESPALDOS_LANG", "es")
    return base
