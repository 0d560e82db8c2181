"""An encrypted backup on a computer that does not have its password (a new PC after a disaster): the
restore dialog asks for it, a wrong one is asked again with its sentence, the right one opens the backup for
this run only unless "Guardarla en este equipo" was ticked."""

from __future__ import annotations

import keyring
import pytest

# The fake Dropbox, its CA, a keyring file: importing this module starts the fake server (see test_dialog_cloud).
from tests.cloud import conftest as cloud_fixtures
from tests.core.encryption.conftest import password_keyring  # noqa: F401 - a fixture
from tests.ui.conftest import pump
from tests.ui.restore.test_dialog import back_up, tree_texts
from wizard.core.config import CloudConfig, load, save
from wizard.core.encryption import password as passwords
from wizard.ui.password_dialogs import AskPasswordDialog

PASSWORD = "la clave de la hoja vieja"

# keyring chooses its backend at its first get_keyring(); cloud_env asks only after setting
# PYTHON_KEYRING_BACKEND, and would then put that test backend back for the tests after this module.
keyring.get_keyring()
cloud_env = cloud_fixtures.cloud_env  # autouse: CA, the same keyring file as password_keyring, app key
dropbox_server = cloud_fixtures.dropbox_server
signed_in = cloud_fixtures.signed_in


@pytest.fixture
def encrypted_backup(saved_config, monkeypatch, password_keyring):  # noqa: F811
    """A backup encrypted on the old PC (through RESPALDOS_PASSWORD); this one has no password at all."""
    monkeypatch.setattr(passwords, "_session", [])
    cfg = load(saved_config)
    cfg.encryption.enabled, cfg.encryption.scope = True, "all"
    save(cfg, saved_config)
    monkeypatch.setenv("RESPALDOS_PASSWORD", PASSWORD)
    archive = back_up(saved_config)
    monkeypatch.delenv("RESPALDOS_PASSWORD")
    assert passwords.candidate_passwords() == []
    return archive


def asked(tk_root, dialog) -> AskPasswordDialog:
    assert pump(tk_root, until=lambda: isinstance(getattr(dialog, "password_dialog", None), AskPasswordDialog)
                and dialog.password_dialog.winfo_exists(), timeout=30)
    return dialog.password_dialog


def test_the_restore_dialog_asks_for_a_missing_password_and_opens_the_backup_with_it(
        tk_root, open_window, saved_config, encrypted_backup, password_keyring):  # noqa: F811
    window = open_window(saved_config)
    window.summary.restore_button.invoke()
    dialog = window.summary.restore_dialog

    ask = asked(tk_root, dialog)
    assert encrypted_backup.name in ask.message.cget("text")
    assert ask.problem.text == ""
    ask.var.set("no es esta la clave")
    ask.accept()
    again = asked(tk_root, dialog)
    assert again is not ask
    assert f"La contraseña no es correcta para {encrypted_backup.name}" in again.problem.text

    again.var.set(PASSWORD)
    again.accept()
    assert pump(tk_root, until=lambda: dialog.contents is not None, timeout=30)
    assert any("punto_de_venta.db" in line for line in tree_texts(dialog.contents_tree))
    assert passwords.get_password() is None  # not stored: this run only
    assert PASSWORD not in (password_keyring.read_text(encoding="utf-8") if password_keyring.exists() else "")
    dialog.destroy()


def test_ticking_keep_stores_the_typed_password_on_this_computer(
        tk_root, open_window, saved_config, encrypted_backup, password_keyring):  # noqa: F811
    window = open_window(saved_config)
    window.summary.restore_button.invoke()
    dialog = window.summary.restore_dialog

    ask = asked(tk_root, dialog)
    ask.var.set(PASSWORD)
    ask.keep_var.set(True)
    ask.accept()

    assert pump(tk_root, until=lambda: dialog.contents is not None, timeout=30)
    assert passwords.get_password() == PASSWORD
    dialog.destroy()


def test_a_cloud_copy_that_needs_the_password_is_asked_for_after_the_download_and_restored_with_it(
        tk_root, open_window, saved_config, encrypted_backup, dialogs, dropbox_server, signed_in, tmp_path):
    dropbox_server.put_file(f"/Respaldos/{encrypted_backup.name}", encrypted_backup.read_bytes())
    encrypted_backup.unlink()
    cfg = load(saved_config)
    cfg.cloud = CloudConfig(provider="dropbox", folder="/Respaldos")
    save(cfg, saved_config)
    window = open_window(saved_config)
    window.summary.restore_button.invoke()
    dialog = window.summary.restore_dialog
    assert pump(tk_root, until=lambda: dialog.selected is not None and dialog.selected.name == encrypted_backup.name,
                timeout=60), dialog.list_status.cget("text")
    target = tmp_path / "restaurado"
    target.mkdir()
    dialogs.directory = str(target)

    dialog.folder_button.invoke()
    ask = asked(tk_root, dialog)
    assert dialog.view == "result" and "RESPALDOS_PASSWORD" in dialog.result_notice.text
    ask.var.set(PASSWORD)
    ask.accept()

    assert pump(tk_root, until=lambda: dialog.view == "result" and dialog.report is not None, timeout=60), \
        dialog.result_notice.text
    assert list(target.rglob("punto_de_venta.db"))
    assert passwords.get_password() is None
    dialog.destroy()
