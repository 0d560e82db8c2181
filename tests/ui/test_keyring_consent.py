"""With no system keyring (the real keyring library's fail backend), the window says what that means and asks
before a secret goes to a file: the database password (step 1), the Dropbox sign-in (step 4) and the e-mail
password (step 6). "No guardar" stores nothing anywhere; "Guardar en el archivo" writes the user-only file."""

from __future__ import annotations

import json
import stat

import keyring
import pytest
from keyring.backends import fail

# The fake Dropbox, its CA, the test browser: importing this module starts the fake server (see test_cloud_page).
from tests.cloud import conftest as cloud_fixtures
from tests.cloud.conftest import browser_log
from tests.ui.conftest import pump
from tests.ui.test_wizard import go_to_step
from wizard.core import secrets

cloud_env = cloud_fixtures.cloud_env  # autouse: CA, BROWSER, a keyring file (replaced below), app key
google_env = cloud_fixtures.google_env
dropbox_server = cloud_fixtures.dropbox_server


@pytest.fixture(autouse=True)
def no_keyring(cloud_env):
    keyring.set_keyring(fail.Keyring())  # cloud_env puts its own back afterwards


def asked(dialogs, what: str) -> None:
    assert len(dialogs.questions) == 1
    assert dialogs.questions[0] == (
        f"Esta computadora no tiene un llavero del sistema donde guardar {what} de forma segura (en Windows es el "
        "Administrador de credenciales; en Linux, GNOME Keyring o KWallet).\n\n"
        f"Respaldos puede guardarlo en el archivo {secrets.fallback_path()}, que solo tu usuario puede abrir, pero "
        f"que no está cifrado: quien copie ese archivo, o el disco, podría usar {what}.\n\n"
        "¿Guardarlo en ese archivo?")


def not_stored(what: str) -> str:
    return (f"No se guardó {what}: no hay un llavero del sistema. Instala o desbloquea uno (en Linux, GNOME Keyring "
            "o KWallet) y vuelve a intentar.")


def file_secrets() -> dict:
    path = secrets.fallback_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_email_password_is_kept_in_a_file_only_after_the_question(tk_root, open_window, dialogs, pos_data, usb):
    window = open_window()
    go_to_step(tk_root, window.wizard, dialogs, 5, pos_data, usb)
    field = window.wizard.steps[5].password
    field.var.set("la-clave")
    dialogs.confirm_answer = False

    field.save()

    assert pump(tk_root, until=lambda: not field.saving and field.error, timeout=10)
    asked(dialogs, "la contraseña del correo")
    assert field.problem() == not_stored("la contraseña del correo")
    assert not secrets.fallback_path().exists() and field.typed == "la-clave"

    dialogs.questions.clear()
    dialogs.confirm_answer = True
    field.save()

    assert pump(tk_root, until=lambda: field.stored and not field.saving, timeout=10)
    asked(dialogs, "la contraseña del correo")
    assert field.problem() == "" and field.typed == ""
    assert file_secrets() == {"avisos:smtp": "la-clave"}


def test_a_database_password_is_kept_in_a_file_only_after_the_question(tk_root, open_window, dialogs):
    window = open_window()
    step = window.wizard.steps[0]
    step.add_database_button.invoke()
    pump(tk_root, timeout=0.05)
    dialog = step.database_dialog
    dialog.host_var.set("127.0.0.1")
    dialog.database_var.set("caja")
    dialog.password_var.set("la-clave")
    dialogs.confirm_answer = False

    dialog.accept()

    asked(dialogs, "la contraseña de la base de datos caja")
    assert step.database_dialog is dialog and str(dialog.status.cget("text")) == not_stored(
        "la contraseña de la base de datos caja")
    assert not secrets.fallback_path().exists() and step.databases == []

    dialogs.questions.clear()
    dialogs.confirm_answer = True
    dialog.accept()

    asked(dialogs, "la contraseña de la base de datos caja")
    assert step.database_dialog is None and [d.label for d in step.databases] == ["caja"]
    assert file_secrets() == {"base de datos:caja": "la-clave"}


def test_the_dropbox_sign_in_asks_before_the_browser_and_keeps_the_session_in_a_file_after_yes(
        tk_root, open_window, dialogs, pos_data, usb, dropbox_server, cloud_env):
    window = open_window()
    go_to_step(tk_root, window.wizard, dialogs, 3, pos_data, usb)
    step = window.wizard.steps[3]
    step.radios["dropbox"].invoke()
    assert pump(tk_root, until=lambda: not step.busy, timeout=10)
    dialogs.confirm_answer = False

    step.dropbox_button.invoke()

    assert pump(tk_root, until=lambda: not step.busy and step.panel.message, timeout=20)
    asked(dialogs, "la sesión de Dropbox")
    assert step.panel.message == not_stored("la sesión de Dropbox")
    assert browser_log(cloud_env) == [] and not secrets.fallback_path().exists()

    dialogs.questions.clear()
    dialogs.confirm_answer = True
    step.dropbox_button.invoke()

    assert pump(tk_root, until=lambda: step.connected, timeout=30)
    asked(dialogs, "la sesión de Dropbox")
    token = json.loads(file_secrets()["dropbox"])["refresh_token"]
    assert dropbox_server.refresh_tokens[token]["revoked"] is False
