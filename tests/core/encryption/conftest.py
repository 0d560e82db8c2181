"""A keyring file per test (the same FileKeyring the other tests use, so a CLI subprocess sees it) and no
RESPALDOS_PASSWORD inherited from the environment."""

from __future__ import annotations

import pytest


@pytest.fixture
def password_keyring(tmp_path, monkeypatch):
    import keyring

    from tests.fakes.keyring_backend import FileKeyring

    # Before the variables: keyring's first get_keyring() would load the backend they name, and that is what
    # the teardown would put back.
    previous = keyring.get_keyring()
    path = tmp_path / "keyring.json"
    monkeypatch.setenv("FAKE_KEYRING_FILE", str(path))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.fakes.keyring_backend.FileKeyring")
    monkeypatch.delenv("RESPALDOS_PASSWORD", raising=False)
    keyring.set_keyring(FileKeyring())
    yield path
    keyring.set_keyring(previous)
