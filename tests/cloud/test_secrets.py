"""Credentials go to the OS keyring; with no keyring backend, to a file only the user can read."""

from __future__ import annotations

import logging
import stat

import keyring
from keyring.backends import fail

from wizard.core import secrets


def test_with_a_keyring_the_secret_goes_there_and_nowhere_else(tmp_path):
    secrets.set_secret("dropbox", "the-refresh-token")

    assert keyring.get_password("Respaldos", "dropbox") == "the-refresh-token"
    assert secrets.get_secret("dropbox") == "the-refresh-token"
    assert not secrets.fallback_path().exists()
    secrets.delete_secret("dropbox")
    assert secrets.get_secret("dropbox") is None
    secrets.delete_secret("dropbox")  # twice is fine


def test_without_a_keyring_backend_a_user_only_file_is_used_with_a_warning(caplog):
    keyring.set_keyring(fail.Keyring())
    caplog.set_level(logging.INFO)

    secrets.set_secret("dropbox", "the-refresh-token")

    path = secrets.fallback_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secrets.get_secret("dropbox") == "the-refresh-token"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("no usable keyring backend" in w and str(path) in w for w in warnings)
    assert "the-refresh-token" not in caplog.text
    secrets.delete_secret("dropbox")
    assert not path.exists() and secrets.get_secret("dropbox") is None


def test_a_keyring_that_appears_later_takes_over_from_the_file(cloud_env):
    from tests.fakes.keyring_backend import FileKeyring

    keyring.set_keyring(fail.Keyring())
    secrets.set_secret("dropbox", "old")
    keyring.set_keyring(FileKeyring())

    assert secrets.get_secret("dropbox") == "old"  # still found
    secrets.set_secret("dropbox", "new")
    assert not secrets.fallback_path().exists()
    assert secrets.get_secret("dropbox") == "new"
