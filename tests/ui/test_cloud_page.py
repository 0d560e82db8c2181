"""Step 4 (Nube) in a real Tk window, signing in to the fake Dropbox with the real SDK and the test browser:
the account shown after the browser approves, Cancel and the timeout leaving everything as it was, a
missing app key or provider explained beside the button, the pasted-code fallback, "Desconectar"."""

from __future__ import annotations

import json
import re
import threading
import tomllib

import requests

# The fake Dropbox, its CA, the test browser and a keyring per test. Importing this module starts the fake
# server and points DROPBOX_* at it before anything imports the SDK (the SDK reads them at import).
from tests.cloud import conftest as cloud_fixtures
from tests.ui.conftest import pump
from tests.ui.test_wizard import go_to_step, next_enabled
from wizard.core import config as config_mod
from wizard.core import secrets

cloud_env = cloud_fixtures.cloud_env  # autouse: CA, BROWSER, keyring file, app key
google_env = cloud_fixtures.google_env  # autouse: the fake Google's OAuth client file, endpoint and CA
dropbox_server = cloud_fixtures.dropbox_server
drive_server = cloud_fixtures.drive_server
signed_in = cloud_fixtures.signed_in

ACCOUNT = "Lupita Pérez (lupita@abarrotes.example)"
CANCELLED = "Inicio de sesión cancelado. No se guardó nada."


def stored_token() -> str | None:
    raw = secrets.get_secret("dropbox")
    return json.loads(raw)["refresh_token"] if raw else None


def cloud_step(tk_root, window, dialogs, pos_data, usb):
    wizard = window.wizard
    go_to_step(tk_root, wizard, dialogs, 3, pos_data, usb)
    return wizard, wizard.steps[3]


def choose(tk_root, step, provider: str) -> None:
    step.radios[provider].invoke()
    assert pump(tk_root, until=lambda: not step.busy, timeout=10)


def edit_cloud_step(tk_root, window):
    window.edit_config()
    wizard = window.wizard
    wizard.show_step(3)
    step = wizard.steps[3]
    assert pump(tk_root, until=lambda: not step.busy, timeout=10)
    return wizard, step


def finish(tk_root, wizard) -> None:
    while not wizard.is_last:
        wizard.next()
        pump(tk_root, until=lambda: not wizard.step.busy, timeout=10)
    wizard.next()
    pump(tk_root, timeout=0.05)


def test_signing_in_goes_through_the_browser_on_a_worker_and_the_account_is_saved_without_the_token(
    tk_root, open_window, dialogs, pos_data, usb, dropbox_server, tmp_path
):
    window = open_window()
    wizard, step = cloud_step(tk_root, window, dialogs, pos_data, usb)
    choose(tk_root, step, "dropbox")
    assert not next_enabled(wizard)
    assert "Para usar Dropbox, pulsa «Iniciar sesión con Dropbox»" in step.account_problem.text

    step.dropbox_button.invoke()

    # the click returns at once: the sign-in waits for the browser on a worker thread
    assert step.panel.waiting_text == "Esperando al navegador..."
    assert step.busy and not next_enabled(wizard)
    assert step.dropbox_button.instate(["disabled"])
    assert pump(tk_root, until=lambda: step.connected, timeout=30)
    assert step.panel.url.startswith(f"https://{dropbox_server.host}/oauth2/authorize?")
    assert str(step.account_label.cget("text")) == f"Cuenta conectada: {ACCOUNT}"
    assert step.disconnect_button.winfo_manager() and not step.dropbox_button.winfo_manager()
    assert step.account_problem.text == ""
    assert next_enabled(wizard)
    token = stored_token()
    assert token and dropbox_server.refresh_tokens[token]["revoked"] is False

    finish(tk_root, wizard)

    assert window.summary is not None
    saved = window.config_path.read_text(encoding="utf-8")
    cloud = tomllib.loads(saved)["cloud"]
    assert cloud["provider"] == "dropbox" and cloud["account"] == ACCOUNT
    assert token not in saved
    assert window.summary.config_lines["cloud"].cget("text").startswith(f"Dropbox ({ACCOUNT})")


def test_cancel_while_waiting_for_the_browser_stores_nothing_and_leaves_the_config_as_it_was(
    tk_root, open_window, dialogs, saved_config, dropbox_server, monkeypatch
):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "ignore")  # the user never approves
    before = saved_config.read_bytes()
    window = open_window(saved_config)
    wizard, step = edit_cloud_step(tk_root, window)
    choose(tk_root, step, "dropbox")

    step.dropbox_button.invoke()
    assert pump(tk_root, until=lambda: step.panel.url, timeout=20), "the address is shown in case"
    assert step.panel.url_row.winfo_manager()
    assert step.panel.url_entry.get() == step.panel.url
    assert str(step.panel.url_entry.cget("state")) == "readonly"  # selectable, not editable
    step.panel.cancel_button.invoke()

    assert not step.busy and step.panel.waiting_text == ""
    assert step.panel.message == CANCELLED
    assert not step.connected and not next_enabled(wizard)
    assert stored_token() is None
    assert step.dropbox_button.instate(["!disabled"]), "the user can try again"
    wizard.cancel()  # "Descartar" the changes
    assert window.summary is not None
    assert saved_config.read_bytes() == before


def test_the_sign_in_gives_up_after_the_timeout_with_a_sentence(
    tk_root, open_window, dialogs, pos_data, usb, dropbox_server, monkeypatch
):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "ignore")
    window = open_window()
    wizard, step = cloud_step(tk_root, window, dialogs, pos_data, usb)
    choose(tk_root, step, "dropbox")
    step.panel.timeout = 0.5

    step.dropbox_button.invoke()

    assert pump(tk_root, until=lambda: not step.busy, timeout=20)
    assert step.panel.message.startswith("Se acabó el tiempo para iniciar sesión")
    assert "danger" in str(step.panel.message_label.cget("style"))
    assert not next_enabled(wizard) and stored_token() is None

    monkeypatch.setenv("FAKE_BROWSER_MODE", "approve")  # trying again works
    step.dropbox_button.invoke()
    assert pump(tk_root, until=lambda: step.connected, timeout=30)
    assert step.panel.message == "" and next_enabled(wizard)


def test_without_an_app_key_the_button_explains_what_is_missing_instead_of_failing(
    tk_root, open_window, dialogs, pos_data, usb, dropbox_server, monkeypatch
):
    monkeypatch.delenv("RESPALDOS_DROPBOX_APP_KEY")
    window = open_window()
    wizard, step = cloud_step(tk_root, window, dialogs, pos_data, usb)
    choose(tk_root, step, "dropbox")

    step.dropbox_button.invoke()

    assert pump(tk_root, until=lambda: not step.busy, timeout=20)
    assert "RESPALDOS_DROPBOX_APP_KEY" in step.panel.message and "dropbox_app_key" in step.panel.message
    assert dialogs.errors == [] and not next_enabled(wizard)
    assert dropbox_server.requests("oauth2/authorize") == []


def test_a_provider_this_build_does_not_have_is_explained_beside_its_button(
    tk_root, open_window, dialogs, pos_data, usb, monkeypatch
):
    from wizard.core import cloud

    monkeypatch.delitem(cloud.PROVIDERS, "google_drive", raising=False)
    window = open_window()
    wizard, step = cloud_step(tk_root, window, dialogs, pos_data, usb)
    choose(tk_root, step, "google_drive")
    assert "Iniciar sesión con Google" in step.account_problem.text

    step.google_button.invoke()

    assert step.panel.message == "La nube «google_drive» no está disponible en esta versión de Respaldos."
    assert not step.busy and not next_enabled(wizard) and dialogs.errors == []


def test_without_a_browser_the_code_is_pasted_into_a_dialog_on_the_tk_thread(
    tk_root, open_window, dialogs, pos_data, usb, dropbox_server, monkeypatch
):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "fail")
    for var in ("DISPLAY", "WAYLAND_DISPLAY"):  # Tk is connected already; webbrowser finds no X browser
        monkeypatch.delenv(var, raising=False)
    asked = []

    def ask_code(url, provider, hint, prompt):
        asked.append((url, provider, threading.current_thread() is threading.main_thread(), hint, prompt))
        page = requests.get(url, timeout=10)  # the user opens it in any browser, on any device
        return re.search(r'id="auth-code">([^<]+)<', page.text).group(1)

    dialogs.ask_code = ask_code
    window = open_window()
    wizard, step = cloud_step(tk_root, window, dialogs, pos_data, usb)
    choose(tk_root, step, "dropbox")

    step.dropbox_button.invoke()

    assert pump(tk_root, until=lambda: not step.busy, timeout=30)
    assert len(asked) == 1 and asked[0][1] == "Dropbox" and asked[0][2] is True
    assert "redirect_uri" not in asked[0][0]
    assert asked[0][3].endswith("pega aquí el código que aparece:") and asked[0][4].strip() == "Código:"
    assert step.connected and next_enabled(wizard)
    assert stored_token() is not None


def test_closing_the_code_dialog_cancels_the_sign_in(
    tk_root, open_window, dialogs, pos_data, usb, dropbox_server, monkeypatch
):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "fail")
    for var in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    dialogs.ask_code = lambda url, provider, hint, prompt: None
    window = open_window()
    _wizard, step = cloud_step(tk_root, window, dialogs, pos_data, usb)
    choose(tk_root, step, "dropbox")

    step.dropbox_button.invoke()

    assert pump(tk_root, until=lambda: not step.busy, timeout=30)
    assert step.panel.message == CANCELLED
    assert not step.connected and stored_token() is None


def test_without_a_browser_google_asks_for_the_address_the_browser_went_to_not_for_a_code(
    tk_root, open_window, dialogs, pos_data, usb, drive_server, monkeypatch
):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "fail")
    for var in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    asked = []

    def ask_code(url, provider, hint, prompt):
        asked.append((provider, hint, prompt))
        # On any device: approve, then copy the address the browser lands on (nothing listens there).
        page = requests.get(url, allow_redirects=False, timeout=10)
        return page.headers["Location"]

    dialogs.ask_code = ask_code
    window = open_window()
    wizard, step = cloud_step(tk_root, window, dialogs, pos_data, usb)
    choose(tk_root, step, "google_drive")

    step.google_button.invoke()

    assert pump(tk_root, until=lambda: not step.busy, timeout=30), step.panel.message
    assert [a[0] for a in asked] == ["Google Drive"]
    _provider, hint, prompt = asked[0]
    assert "http://127.0.0.1" in hint and "cópiala completa de la barra de direcciones" in hint
    assert "código" not in hint and prompt.strip() == "Dirección:"
    assert step.connected and next_enabled(wizard), step.panel.message


def test_the_code_dialog_shows_the_providers_own_hint_and_prompt(tk_root):
    from wizard.core.cloud import DropboxProvider, GoogleDriveProvider
    from wizard.core.config import CloudConfig
    from wizard.ui.dialogs import CodeDialog

    google = GoogleDriveProvider(CloudConfig(provider="google_drive"))
    dialog = CodeDialog(tk_root, "https://accounts.example/o/oauth2/auth?x=1", google.title, *google.paste_hint())
    try:
        pump(tk_root, timeout=0.05)
        text = str(dialog.hint_label.cget("text"))
        assert text.startswith("No se pudo abrir el navegador. Abre esta dirección en un navegador")
        assert "http://127.0.0.1" in text and "código" not in text
        assert str(dialog.prompt_label.cget("text")) == "Dirección:"
        assert str(dialog.title()) == "Iniciar sesión con Google Drive"
    finally:
        dialog.destroy()
    dropbox = DropboxProvider(CloudConfig(provider="dropbox"))
    dialog = CodeDialog(tk_root, "https://www.dropbox.com/oauth2/authorize", dropbox.title, *dropbox.paste_hint())
    try:
        pump(tk_root, timeout=0.05)
        assert str(dialog.hint_label.cget("text")).endswith("pega aquí el código que aparece:")
        assert str(dialog.prompt_label.cget("text")) == "Código:"
    finally:
        dialog.destroy()


def test_the_code_dialog_shows_the_address_as_selectable_text_and_returns_the_trimmed_code(tk_root):
    from wizard.core.cloud import DropboxProvider
    from wizard.core.config import CloudConfig
    from wizard.ui.dialogs import CodeDialog

    url = "https://www.dropbox.com/oauth2/authorize?client_id=x&response_type=code"
    dialog = CodeDialog(tk_root, url, "Dropbox", *DropboxProvider(CloudConfig(provider="dropbox")).paste_hint())
    try:
        pump(tk_root, timeout=0.05)
        assert dialog.url_entry.get() == url and str(dialog.url_entry.cget("state")) == "readonly"
        dialog.ok_button.invoke()
        assert dialog.winfo_exists() and dialog.result is None, "an empty code is not accepted"
        dialog.code_var.set("  abc-123 \n")
        dialog.ok_button.invoke()
        assert dialog.result == "abc-123"
    finally:
        if dialog.winfo_exists():
            dialog.destroy()


def test_desconectar_forgets_the_token_and_the_account(
    tk_root, open_window, dialogs, saved_config, dropbox_server, signed_in
):
    cfg = config_mod.load(saved_config)
    cfg.cloud.provider, cfg.cloud.account = "dropbox", ACCOUNT
    config_mod.save(cfg, saved_config)
    window = open_window(saved_config)
    wizard, step = edit_cloud_step(tk_root, window)
    assert step.connected and next_enabled(wizard)
    assert str(step.account_label.cget("text")) == f"Cuenta conectada: {ACCOUNT}"

    step.disconnect_button.invoke()

    assert dialogs.questions[-1] == "¿Desconectar Dropbox? Los respaldos dejarán de subirse a la nube."
    assert pump(tk_root, until=lambda: not step.busy, timeout=20)
    assert stored_token() is None
    assert dropbox_server.refresh_tokens[signed_in]["revoked"] is True
    assert step.panel.message == "Se cerró la sesión de Dropbox en esta computadora."
    assert str(step.account_label.cget("text")) == "Sin cuenta conectada."
    assert step.dropbox_button.winfo_manager() and not next_enabled(wizard)
    choose(tk_root, step, "none")
    finish(tk_root, wizard)
    cloud = tomllib.loads(saved_config.read_text(encoding="utf-8"))["cloud"]
    assert cloud["provider"] == "none" and cloud.get("account", "") == ""


def test_an_account_in_the_config_without_a_token_on_this_computer_asks_to_sign_in_again(
    tk_root, open_window, dialogs, saved_config, dropbox_server
):
    cfg = config_mod.load(saved_config)
    cfg.cloud.provider, cfg.cloud.account = "dropbox", ACCOUNT
    config_mod.save(cfg, saved_config)
    window = open_window(saved_config)
    wizard, step = edit_cloud_step(tk_root, window)

    assert not step.connected and not next_enabled(wizard)
    assert step.account_problem.text.endswith(
        "La sesión de Dropbox no está iniciada en esta computadora. Pulsa «Iniciar sesión con Dropbox» o "
        "elige «Ninguna»."
    )
    step.dropbox_button.invoke()
    assert pump(tk_root, until=lambda: step.connected, timeout=30)
    assert next_enabled(wizard)


def test_leaving_the_step_while_waiting_cancels_the_sign_in(
    tk_root, open_window, dialogs, pos_data, usb, dropbox_server, monkeypatch
):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "ignore")
    window = open_window()
    wizard, step = cloud_step(tk_root, window, dialogs, pos_data, usb)
    choose(tk_root, step, "dropbox")
    step.dropbox_button.invoke()
    assert step.busy
    cancel_event = step.panel.cancel_event

    wizard.back()

    assert cancel_event.is_set() and not step.busy
    wizard.next()
    assert step.panel.message == CANCELLED



def test_an_interactive_call_answers_the_worker_from_the_tk_thread_and_cancel_releases_a_waiting_worker(
    tk_root,
):
    from wizard.ui.worker import InteractiveCall

    told, answers, results = [], [], []

    def on_message(kind, payload):
        told.append((kind, payload, threading.current_thread() is threading.main_thread()))
        return payload.upper() if kind == "ask" else None

    def work(call):
        call.tell("url", "https://example.invalid/")
        answers.append(call.ask("ask", "código"))
        return "listo"

    InteractiveCall(tk_root, work, results.append, on_message=on_message).start()
    assert pump(tk_root, until=lambda: results, timeout=10)
    assert told == [("url", "https://example.invalid/", True), ("ask", "código", True)]
    assert answers == ["CÓDIGO"] and results == ["listo"]

    stuck = threading.Event()
    released = []

    def waits_for_an_answer(call):
        stuck.set()
        released.append(call.ask("ask", "nunca"))

    call = InteractiveCall(tk_root, waits_for_an_answer, results.append)
    call.thread.start()  # no polling: the question is never answered, only cancel can release the worker
    assert stuck.wait(5)
    call.cancel()
    call.thread.join(5)
    assert released == [None] and not call.thread.is_alive()
