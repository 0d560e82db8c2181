"""The Avisos step and the summary's Avisos line in a real Tk window, with the real notices core: the mail
server is the notify tests' aiosmtpd on 127.0.0.1 (STARTTLS, AUTH), the keyring their file backend."""

# The notify tests' fixtures are imported by name and then requested as arguments (ruff: a redefinition).
# ruff: noqa: F811

from __future__ import annotations

import re
import tomllib

import pytest

from tests.fakes.mail_server import PASSWORD, USER
from tests.fakes.notice_servers import CHAT_ID
from tests.notify.conftest import (  # noqa: F401 - fixtures: the test CA, the keyring, the servers
    MACHINE,
    OWNER,
    bot_api,
    bot_token,
    email_block,
    mail_server,
    no_secret_is_logged,
    notice_env,
    shop,
    smtp_password,
)
from tests.ui.conftest import pump
from tests.ui.test_wizard import go_to_step, next_enabled, press
from wizard.core import notify, secrets
from wizard.ui.pages.notify import security_text

WRONG_PASSWORD = "no-es-la-clave"


def notify_step(tk_root, window, dialogs, pos_data, usb):
    wizard = window.wizard
    go_to_step(tk_root, wizard, dialogs, 5, pos_data, usb)
    step = wizard.steps[5]
    assert wizard.step is step
    return wizard, step


def fill_email(tk_root, step, *, host="127.0.0.1", port=587, user=USER) -> None:
    if not step.is_open("email"):
        step.toggle("email")
    step.email_var.set(OWNER)
    step.host_var.set(host)
    step.port_var.set(str(port))
    step.user_var.set(user)
    pump(tk_root, timeout=0.05)


def wait_results(tk_root, step) -> str:
    assert pump(tk_root, until=lambda: step.results_text and not step.test_status.cget("text"), timeout=30)
    return step.results_text


# -- the step -----------------------------------------------------------------------------------------


def test_the_notices_step_is_the_last_and_optional_and_left_empty_saves_no_notify_section(
    tk_root, open_window, dialogs, pos_data, usb
):
    window = open_window()
    wizard, step = notify_step(tk_root, window, dialogs, pos_data, usb)
    assert wizard.is_last and wizard.next_button.cget("text") == "Guardar y terminar"
    assert str(wizard.step_labels[5].cget("text")) == "6.  Avisos (opcional)"
    assert next_enabled(wizard)
    assert not any(step.is_open(name) for name in ("email", "telegram", "ping"))
    assert step.event_vars["failure"].get() and step.event_vars["overdue"].get()  # the defaults

    press(step.event_checks["failure"], "<Return>")  # Enter = Next = Guardar y terminar

    assert window.summary is not None
    assert "notify" not in tomllib.loads(window.config_path.read_text(encoding="utf-8"))
    line = window.summary.notify_status
    assert pump(tk_root, until=lambda: line.status is not None)
    assert line.text == "Ninguno. Puedes activarlos en «Modificar configuración»."
    assert line.problems_text == ""


def test_a_bad_address_and_a_bad_port_show_the_validators_sentences_under_their_fields_and_disable_next(
    tk_root, open_window, dialogs, pos_data, usb
):
    window = open_window()
    wizard, step = notify_step(tk_root, window, dialogs, pos_data, usb)
    fill_email(tk_root, step, host="smtp.gmail.com", port=99999)
    step.email_var.set("dueno@ejemplo, otro@ejemplo.mx")
    pump(tk_root, timeout=0.05)

    assert step.email_problem.text == '\u26a0 "dueno@ejemplo" no es una dirección de correo válida'
    assert step.server_problem.text == "\u26a0 99999 no es un puerto válido (un número de 1 a 65535)"
    assert not next_enabled(wizard)

    step.port_var.set("abc")
    pump(tk_root, timeout=0.05)
    assert step.server_problem.text == '\u26a0 "abc" no es un puerto válido (un número de 1 a 65535)'

    step.toggle("email")  # closing the section does not hide why Next waits
    step.changed()
    assert step.is_open("email")

    step.email_var.set(OWNER)
    step.port_var.set("587")
    pump(tk_root, timeout=0.05)
    assert step.email_problem.text == "" and step.server_problem.text == ""
    assert next_enabled(wizard)


def test_the_validators_file_words_become_the_fields_names(tk_root, open_window, dialogs, pos_data, usb):
    window = open_window()
    wizard, step = notify_step(tk_root, window, dialogs, pos_data, usb)
    fill_email(tk_root, step, host="", user="avisos")
    assert step.server_problem.text == "\u26a0 Escribe el servidor de correo (por ejemplo smtp.gmail.com)."
    assert step.from_problem.text == "\u26a0 Escribe una dirección de correo en «Usuario» o en «Remitente»."
    step.host_var.set("smtp.gmail.com:587")
    pump(tk_root, timeout=0.05)
    assert (
        step.server_problem.text
        == "\u26a0 Escribe el servidor sin el puerto: el puerto va aparte, en «Puerto»."
    )
    assert not next_enabled(wizard)


def test_the_password_goes_to_the_keyring_and_never_into_the_saved_toml(
    tk_root, open_window, dialogs, pos_data, usb, notice_env
):
    window = open_window()
    wizard, step = notify_step(tk_root, window, dialogs, pos_data, usb)
    fill_email(tk_root, step)
    assert next_enabled(wizard)
    assert pump(tk_root, until=lambda: step.password.stored is False)
    assert step.password.status_text == "Todavía no hay una contraseña guardada."

    step.password.var.set(PASSWORD)
    pump(tk_root, timeout=0.05)
    assert not next_enabled(wizard), "a typed password that was not saved would be lost"
    assert "Todavía no se guardó" in step.password_problem.text

    press(step.password.entry, "<Return>")  # Enter in the field saves it; the wizard stays
    assert pump(tk_root, until=lambda: step.password.stored and not step.busy)
    assert window.wizard is wizard
    assert step.password.typed == "" and step.password_problem.text == ""
    assert step.password.status_text == "\u2713 Contraseña guardada en esta computadora"
    assert notify.has_password("smtp") and secrets.get_secret("avisos:smtp") == PASSWORD
    assert PASSWORD in (notice_env / "keyring.json").read_text(encoding="utf-8")
    assert next_enabled(wizard)

    wizard.next()  # Guardar y terminar

    assert window.summary is not None
    text = window.config_path.read_text(encoding="utf-8")
    assert PASSWORD not in text
    assert tomllib.loads(text)["notify"] == {
        "on": ["failure", "overdue"],
        "email_to": [OWNER],
        "smtp_host": "127.0.0.1",
        "smtp_user": USER,
    }


def test_a_malformed_bot_token_is_refused_under_its_field_and_nothing_is_stored(
    tk_root, open_window, dialogs, pos_data, usb
):
    window = open_window()
    wizard, step = notify_step(tk_root, window, dialogs, pos_data, usb)
    step.toggle("telegram")
    step.chat_var.set(CHAT_ID)
    step.token.var.set("no-es-un-token")
    step.token.save_button.invoke()

    assert pump(tk_root, until=lambda: step.token.error)
    assert step.token_problem.text.startswith("\u26a0 Eso no parece el token de un bot de Telegram")
    assert not next_enabled(wizard)
    assert not notify.has_password("telegram")


@pytest.mark.timeout(60)
def test_with_every_section_and_guide_open_the_step_settles_and_scrolls_at_the_minimum_window_size(
    tk_root, open_window, saved_config, monkeypatch
):
    from wizard.ui import widgets

    calls = []
    original = widgets.WrapLabel._rewrap
    monkeypatch.setattr(widgets.WrapLabel, "_rewrap", lambda self, event=None: (calls.append(1), original(self)))
    previous = tk_root.geometry()
    min_w, min_h = tk_root.minsize()
    tk_root.geometry(f"{min_w}x{min_h}")
    try:
        window = open_window(saved_config)
        window.summary.edit_button.invoke()
        window.wizard.show_step(5)
        step = window.wizard.steps[5]
        for name in ("email", "telegram", "ping"):
            step.toggle(name)
        step.toggle_guide("gmail")
        step.toggle_guide("telegram")
        pump(tk_root, timeout=0.5)
        calls.clear()
        pump(tk_root, timeout=0.5)
        assert len(calls) < 20, "the step keeps re-wrapping"
        assert step.scroller.scrollbar_shown
    finally:
        tk_root.geometry(previous)


def test_send_test_through_the_fake_mail_server_says_enviado_and_a_wrong_password_gives_its_sentence(
    tk_root, open_window, dialogs, pos_data, usb, mail_server
):
    window = open_window()
    wizard, step = notify_step(tk_root, window, dialogs, pos_data, usb)
    fill_email(tk_root, step, port=mail_server.port)
    step.password.var.set(PASSWORD)  # typed, not saved: "Enviar prueba" saves it first

    step.test_button.invoke()
    assert step.test_status.cget("text") == "Enviando la prueba..."
    assert step.test_button.instate(["disabled"])

    assert wait_results(tk_root, step) == f"\u2713 Correo a {OWNER}: enviado"
    assert [m.message["Subject"].endswith(": prueba de avisos") for m in mail_server.messages] == [True]
    assert mail_server.messages[0].encrypted and mail_server.logins == [(USER, True)]
    assert step.password.stored and step.password.typed == "" and next_enabled(wizard)
    assert not window.config_path.exists(), "the test used the unsaved form"

    step.password.var.set(WRONG_PASSWORD)
    step.test_button.invoke()
    assert wait_results(tk_root, step) == (
        f"\u2717 Correo a {OWNER}: no se pudo enviar: usuario o contraseña incorrectos: 127.0.0.1 no aceptó "
        f"la contraseña de {USER} (con Gmail usa una contraseña de aplicación)"
    )
    assert len(mail_server.messages) == 1
    assert not step.test_button.instate(["disabled"])


def test_send_test_with_nothing_to_send_or_a_problem_says_what_to_do_first(
    tk_root, open_window, dialogs, pos_data, usb
):
    window = open_window()
    _wizard, step = notify_step(tk_root, window, dialogs, pos_data, usb)
    step.test_button.invoke()
    assert step.results_text.startswith("Escribe primero a quién avisar")
    fill_email(tk_root, step, port=0)
    step.test_button.invoke()
    assert step.results_text == "Corrige primero lo marcado en rojo."


def test_the_gmail_guide_opens_and_its_button_fills_the_server_and_the_security_choice_brings_its_port(
    tk_root, open_window, dialogs, pos_data, usb
):
    window = open_window()
    _wizard, step = notify_step(tk_root, window, dialogs, pos_data, usb)
    step.toggle("email")
    step.gmail_guide_toggle.invoke()
    assert step.gmail_guide.winfo_manager() == "grid"
    assert "contraseña de aplicación" in step.gmail_guide.text and "smtp.gmail.com" in step.gmail_guide.text
    step.gmail_button.invoke()
    assert (step.host_var.get(), step.port_var.get(), step.security) == ("smtp.gmail.com", "587", "starttls")

    step.security_var.set(security_text("ssl"))
    step.security_box.event_generate("<<ComboboxSelected>>")
    pump(tk_root, timeout=0.05)
    assert step.port_var.get() == "465"

    step.toggle("telegram")
    step.telegram_guide_toggle.invoke()
    assert "@BotFather" in step.telegram_guide.text and "getUpdates" in step.telegram_guide.text


def test_editing_a_config_with_notices_fills_the_step_and_an_unchanged_edit_asks_nothing(
    tk_root, open_window, dialogs, tmp_path, bot_token
):
    block = (  # events not in the step's order: an edit that changes nothing must still save nothing
        f'on = ["overdue", "failure", "weekly"]\nemail_to = ["{OWNER}", "socia@ejemplo.mx"]\n'
        f'smtp_host = "smtp.gmail.com"\nsmtp_user = "{USER}"\ntelegram_chat_id = "{CHAT_ID}"\n'
    )
    window = open_window(shop(tmp_path, block))
    window.summary.edit_button.invoke()
    step = window.wizard.steps[5]
    assert step.is_open("email") and step.is_open("telegram") and not step.is_open("ping")
    assert step.email_var.get() == f"{OWNER}, socia@ejemplo.mx"
    assert [e for e, var in step.event_vars.items() if var.get()] == ["failure", "overdue", "weekly"]
    window.wizard.show_step(5)
    assert pump(tk_root, until=lambda: step.token.stored is not None and step.password.stored is not None)
    assert step.token.status_text == "\u2713 Token guardado en esta computadora"
    assert step.password.status_text == "Todavía no hay una contraseña guardada."

    window.wizard.cancel_button.invoke()
    assert window.summary is not None and dialogs.questions == []


# -- the summary ------------------------------------------------------------------------------------


def test_the_summary_shows_the_channels_and_after_a_failed_backup_the_last_message_sent(
    tk_root, open_window, tmp_path, mail_server, smtp_password, bot_api, bot_token
):
    config_path = shop(
        tmp_path, email_block(mail_server) + f'telegram_chat_id = "{CHAT_ID}"\n', dest_exists=False
    )
    window = open_window(config_path)
    line = window.summary.notify_status
    assert pump(tk_root, until=lambda: line.status is not None)
    assert line.text == f"Correo a {OWNER}, Telegram  \u00b7  todavía no se ha enviado ninguno"

    window.backup_now()  # the USB folder is missing: the backup fails
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=60)
    assert "No se encontró la carpeta" in window.summary.banner_text

    assert pump(tk_root, until=lambda: "último:" in line.text, timeout=30)
    assert re.fullmatch(
        rf"Correo a {re.escape(OWNER)}, Telegram  ·  último: hoy \d\d:\d\d «{MACHINE}: el respaldo falló»",
        line.text,
    ), line.text
    assert line.problems_text == "" and line.problems.winfo_manager() == ""
    assert [m.message["Subject"] for m in mail_server.messages] == [f"{MACHINE}: el respaldo falló"]


def test_a_notice_that_could_not_be_sent_shows_its_sentence_under_the_avisos_line(
    tk_root, open_window, tmp_path, mail_server
):
    notify.set_password("smtp", WRONG_PASSWORD)
    window = open_window(shop(tmp_path, email_block(mail_server), dest_exists=False))
    line = window.summary.notify_status

    window.backup_now()
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=60)

    assert pump(tk_root, until=lambda: line.problems_text, timeout=30)
    assert line.problems_text == (
        f"\u26a0 No se pudo avisar por correo: usuario o contraseña incorrectos: 127.0.0.1 no aceptó la "
        f"contraseña de {USER} (con Gmail usa una contraseña de aplicación)"
    )
    assert line.problems.winfo_manager() == "grid"
    assert (
        line.text
        == f"Correo a {OWNER}  \u00b7  todavía no se ha enviado ninguno  \u00b7  1 aviso por reenviar"
    )


# -- the hourly check -----------------------------------------------------------------------------


def test_the_window_runs_the_notices_check_when_it_opens_and_every_hour(
    tk_root, open_window, saved_config, monkeypatch
):
    from wizard.ui import app as app_mod

    assert app_mod.NOTIFY_TICK_MS == 60 * 60 * 1000
    calls = []
    monkeypatch.setattr(
        notify, "tick", lambda config, now=None, *, config_path=None: calls.append((config, now, config_path))
    )
    monkeypatch.setattr(app_mod, "NOTIFY_TICK_MS", 50)

    window = open_window(saved_config)

    assert calls and calls[0][0] is window.config and calls[0][2] == window.config_path
    assert calls[0][1] is not None and calls[0][1].tzinfo is not None  # the window's clock
    assert pump(tk_root, until=lambda: len(calls) >= 3, timeout=5)
    window.destroy()
    count = len(calls)
    pump(tk_root, timeout=0.3)
    assert len(calls) == count, "the check stops with the window"


def test_a_first_run_starts_the_notices_check_once_the_configuration_is_saved(
    tk_root, open_window, dialogs, pos_data, usb, monkeypatch
):
    calls = []
    monkeypatch.setattr(notify, "tick", lambda config, now=None, *, config_path=None: calls.append(config))
    window = open_window()
    assert calls == []
    wizard, _step = notify_step(tk_root, window, dialogs, pos_data, usb)
    wizard.next()
    assert window.summary is not None
    assert calls == [window.config]
