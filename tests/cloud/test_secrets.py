"""Credentials go to the OS keyring; with none, to a file only the user can read, and only once the user
agreed (the real keyring library's fail backend is what a machine without a keyring has)."""

from __future__ import annotations

import logging
import stat

import keyring
import pytest
from keyring.backends import fail

from tests.fakes.keyring_backend import FileKeyring, LockedKeyring
from wizard.core import secrets
from wizard.core.cloud.google.credentials import KeyringDict

REFUSED = ("No hay un llavero del sistema donde guardar {what}, así que no se guardó. Sin llavero, solo se puede "
           "guardar en el archivo {path}, que solo tu usuario puede abrir pero que no está cifrado: quien copie ese "
           "archivo o el disco podría usar {what}. Instala o desbloquea un llavero (en Linux, GNOME Keyring o "
           "KWallet) y vuelve a intentar, o acepta guardarlo en ese archivo.")


def test_with_a_keyring_the_secret_goes_there_and_nowhere_else(tmp_path):
    secrets.set_secret("dropbox", "the-refresh-token")

    assert keyring.get_password("Respaldos", "dropbox") == "the-refresh-token"
    assert secrets.get_secret("dropbox") == "the-refresh-token"
    assert not secrets.fallback_path().exists()
    secrets.delete_secret("dropbox")
    assert secrets.get_secret("dropbox") is None
    secrets.delete_secret("dropbox")  # twice is fine


@pytest.mark.parametrize("backend", [fail.Keyring, LockedKeyring], ids=["no keyring", "a keyring that refuses"])
def test_without_a_keyring_saving_is_refused_with_the_sentence_and_no_file_is_written(caplog, backend):
    keyring.set_keyring(backend())
    caplog.set_level(logging.INFO)

    with pytest.raises(secrets.KeyringUnavailable) as info:
        secrets.set_secret("avisos:smtp", "the-password")

    assert str(info.value) == REFUSED.format(what="la contraseña del correo", path=secrets.fallback_path())
    folder = secrets.fallback_path().parent
    assert not folder.exists() or list(folder.iterdir()) == []  # no file, not even a temporary one
    assert secrets.get_secret("avisos:smtp") is None
    assert "the-password" not in caplog.text


def test_with_the_users_consent_a_user_only_file_is_used_with_a_warning(caplog):
    keyring.set_keyring(fail.Keyring())
    caplog.set_level(logging.INFO)

    with secrets.allow_file_storage():
        secrets.set_secret("dropbox", "the-refresh-token")

    path = secrets.fallback_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secrets.get_secret("dropbox") == "the-refresh-token"
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("kept in" in w and str(path) in w and "no keyring" in w for w in warnings)
    assert "the-refresh-token" not in caplog.text
    secrets.delete_secret("dropbox")
    assert not path.exists() and secrets.get_secret("dropbox") is None


def test_a_keyring_that_appears_later_takes_over_from_the_file(cloud_env):
    keyring.set_keyring(fail.Keyring())
    with secrets.allow_file_storage():
        secrets.set_secret("dropbox", "old")
    keyring.set_keyring(FileKeyring())

    assert secrets.get_secret("dropbox") == "old"  # still found
    secrets.set_secret("dropbox", "new")
    assert not secrets.fallback_path().exists()
    assert secrets.get_secret("dropbox") == "new"


def test_a_secret_already_in_the_file_is_read_and_kept_up_to_date_there_but_no_new_one_joins_it():
    """An existing file (the user agreed earlier, or an older version wrote it) keeps working: a refreshed
    token replaces the old one there. Another secret still needs the consent."""
    keyring.set_keyring(fail.Keyring())
    with secrets.allow_file_storage():
        secrets.set_secret("google_drive", "first")

    assert secrets.get_secret("google_drive") == "first"
    secrets.set_secret("google_drive", "refreshed")
    assert secrets.get_secret("google_drive") == "refreshed"
    with pytest.raises(secrets.KeyringUnavailable):
        secrets.set_secret("avisos:telegram", "123:abc")
    assert secrets.stored_in_file("google_drive") and not secrets.stored_in_file("avisos:telegram")


def test_the_consent_lasts_for_its_block_only():
    keyring.set_keyring(fail.Keyring())
    with secrets.allow_file_storage():
        secrets.check_can_store("dropbox")
    with pytest.raises(secrets.KeyringUnavailable):
        secrets.check_can_store("dropbox")
    with secrets.allow_file_storage(False), pytest.raises(secrets.KeyringUnavailable):
        secrets.set_secret("dropbox", "x")


def test_a_google_token_refreshed_during_an_upload_stays_in_memory_when_nothing_may_store_it(caplog):
    keyring.set_keyring(fail.Keyring())
    during_upload = KeyringDict()
    during_upload["credentials"] = "{}"  # no error: the refresh token stays where it was
    assert during_upload["credentials"] == "{}" and not secrets.fallback_path().exists()
    with pytest.raises(secrets.KeyringUnavailable):
        KeyringDict(strict=True)["credentials"] = "{}"  # at sign-in it must be stored, or refused
