"""The wizard's "Proteger los respaldos con contraseña" (retention step) in a real Tk window: the password
dialog, the recovery sheet that must be confirmed before going on, the saved [encryption] keys, the summary
line, and the dialog that asks for a missing password."""

from __future__ import annotations

import stat
import tomllib
import webbrowser

import pytest

from tests.core.encryption.conftest import password_keyring  # noqa: F401 - a fixture
from tests.ui.conftest import pump
from tests.ui.test_wizard import go_to_step, next_enabled
from wizard.core.encryption import password as passwords
from wizard.core.encryption import sheet
from wizard.ui.password_dialogs import AskPasswordDialog, NewPasswordDialog, RecoverySheetDialog

RETENTION = 4
GOOD = "caballo batería grapa correcto nube"


@pytest.fixture
def retention_step(tk_root, open_window, dialogs, pos_data, usb, password_keyring):  # noqa: F811
    window = open_window()
    go_to_step(tk_root, window.wizard, dialogs, RETENTION, pos_data, usb)
    assert window.wizard.index == RETENTION
    return window


def type_password(root, dialog: NewPasswordDialog, first: str, second: str) -> None:
    dialog.first_var.set(first)
    dialog.second_var.set(second)
    pump(root, timeout=0.02)


def turn_on_with_a_password(root, panel) -> RecoverySheetDialog:
    panel.enabled_check.invoke()
    pump(root, timeout=0.02)
    dialog = panel.dialog
    assert isinstance(dialog, NewPasswordDialog)
    type_password(root, dialog, GOOD, GOOD)
    dialog.save_button.invoke()
    pump(root, timeout=0.02)
    assert isinstance(panel.dialog, RecoverySheetDialog)
    return panel.dialog


def test_turning_it_on_asks_a_password_then_next_waits_for_the_recovery_sheet(tk_root, retention_step):
    window = retention_step
    wizard = window.wizard
    panel = wizard.step.encryption
    assert next_enabled(wizard)

    panel.enabled_check.invoke()
    pump(tk_root, timeout=0.02)
    dialog = panel.dialog
    assert isinstance(dialog, NewPasswordDialog)
    type_password(tk_root, dialog, "corta", "corta")
    assert dialog.save_button.instate(["disabled"])
    assert "al menos 10 caracteres" in dialog.strength_text
    type_password(tk_root, dialog, "password123", "password123")
    assert "muy común" in dialog.strength_text and float(dialog.meter.cget("value")) <= 1
    type_password(tk_root, dialog, GOOD, GOOD + "x")
    assert dialog.save_button.instate(["disabled"]) and "no son iguales" in dialog.problem.text
    type_password(tk_root, dialog, GOOD, GOOD)
    assert float(dialog.meter.cget("value")) == 4 and "Muy buena" in dialog.strength_text
    assert dialog.first_entry.cget("show") == "•"
    dialog.show_check.invoke()
    assert dialog.first_entry.cget("show") == ""
    dialog.save_button.invoke()
    pump(tk_root, timeout=0.02)

    assert passwords.get_password() == GOOD
    sheet_dialog = panel.dialog
    assert isinstance(sheet_dialog, RecoverySheetDialog)
    assert sheet_dialog.continue_button.instate(["disabled"])
    assert not next_enabled(wizard)
    written = sheet.default_path()
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert GOOD in written.read_text(encoding="utf-8")

    sheet_dialog.kept_check.invoke()
    assert not sheet_dialog.continue_button.instate(["disabled"])
    sheet_dialog.continue_button.invoke()
    pump(tk_root, timeout=0.02)
    assert panel.dialog is None
    assert not next_enabled(wizard)  # no cloud chosen: "solo las copias en la nube" would protect nothing
    assert "No hay nube elegida" in panel.problem.text

    panel.scope_radios[1].invoke()  # También las copias en este equipo
    pump(tk_root, timeout=0.02)
    assert next_enabled(wizard)
    wizard.next()
    wizard.next()  # Guardar y terminar
    pump(tk_root, until=lambda: window.summary is not None, timeout=5)

    saved = tomllib.loads(window.config_path.read_text(encoding="utf-8"))
    assert saved["encryption"] == {"enabled": True, "scope": "all"}
    assert GOOD not in window.config_path.read_text(encoding="utf-8")
    assert window.summary.config_lines["encryption"].cget("text") == "activada (todas las copias)"


def test_closing_the_sheet_without_ticking_keeps_next_off_until_it_is_confirmed(tk_root, retention_step):
    wizard = retention_step.wizard
    panel = wizard.step.encryption
    sheet_dialog = turn_on_with_a_password(tk_root, panel)
    panel.scope_radios[1].invoke()

    sheet_dialog.cancel()
    pump(tk_root, timeout=0.02)

    assert panel.dialog is None and panel.enabled_var.get()
    assert not next_enabled(wizard)
    assert "hoja de recuperación" in panel.problem.text
    panel.sheet_button.invoke()
    pump(tk_root, timeout=0.02)
    again = panel.dialog
    assert isinstance(again, RecoverySheetDialog)
    again.accept()  # Continuar without the tick does nothing
    assert panel.dialog is again
    again.kept_check.invoke()
    again.accept()
    pump(tk_root, timeout=0.02)
    assert next_enabled(wizard)


def test_cancelling_the_password_leaves_the_option_off_and_nothing_stored(tk_root, retention_step):
    panel = retention_step.wizard.step.encryption
    panel.enabled_check.invoke()
    pump(tk_root, timeout=0.02)
    panel.dialog.cancel()
    pump(tk_root, timeout=0.02)

    assert not panel.enabled_var.get()
    assert passwords.get_password() is None
    assert next_enabled(retention_step.wizard)


def test_print_opens_the_sheet_in_the_browser_and_save_as_writes_a_private_copy(
        tk_root, retention_step, tmp_path, monkeypatch):
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" >> "{opened}"\n', encoding="utf-8")
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    monkeypatch.setattr(webbrowser, "_tryorder", None, raising=False)
    monkeypatch.setattr(webbrowser, "_browsers", {}, raising=False)
    panel = retention_step.wizard.step.encryption
    sheet_dialog = turn_on_with_a_password(tk_root, panel)

    sheet_dialog.print_button.invoke()
    assert pump(tk_root, until=opened.exists, timeout=5)
    assert opened.read_text(encoding="utf-8").strip() == sheet.default_path().as_uri()

    copy = tmp_path / "para imprimir.html"
    from tkinter import filedialog

    monkeypatch.setattr(filedialog, "asksaveasfilename", lambda **_kw: str(copy))
    sheet_dialog.save_as_button.invoke()
    assert GOOD in copy.read_text(encoding="utf-8")
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert str(copy) in sheet_dialog.where_label.cget("text")
    sheet_dialog.kept_check.invoke()
    sheet_dialog.accept()


def test_editing_a_config_that_has_it_on_does_not_ask_again(tk_root, open_window, saved_config,
                                                          password_keyring):  # noqa: F811
    from wizard.core import config as config_mod

    cfg = config_mod.load(saved_config)
    cfg.encryption.enabled, cfg.encryption.scope = True, "all"
    config_mod.save(cfg, saved_config)
    passwords.set_password(cfg, GOOD)
    window = open_window(saved_config)
    assert window.summary.config_lines["encryption"].cget("text") == "activada (todas las copias)"
    window.summary.edit_button.invoke()
    pump(tk_root, until=lambda: window.wizard is not None, timeout=5)
    wizard = window.wizard
    while wizard.index < RETENTION:
        wizard.next()
        pump(tk_root, until=lambda: not wizard.step.busy, timeout=10)
    panel = wizard.step.encryption
    assert panel.enabled_var.get() and panel.dialog is None
    assert "guardada en este equipo" in panel.state_text
    assert next_enabled(wizard)


def test_the_missing_password_dialog_returns_what_was_typed_and_whether_to_keep_it(tk_root):
    results = []
    dialog = AskPasswordDialog(tk_root, "respaldo_2026-01-02_10-00-00_Caja-1-3f2a9c1b.zip", results.append,
                               problem="La contraseña no es correcta para respaldo_2026-01-02.zip")
    pump(tk_root, timeout=0.02)
    assert "La contraseña no es correcta" in dialog.problem.text
    dialog.accept()  # empty: nothing happens
    assert results == []
    dialog.var.set(GOOD)
    dialog.accept()
    assert results == [(GOOD, False)]


def test_changing_the_password_keeps_the_old_one_and_asks_to_confirm_the_new_sheet(tk_root, retention_step):
    wizard = retention_step.wizard
    panel = wizard.step.encryption
    first = turn_on_with_a_password(tk_root, panel)
    panel.scope_radios[1].invoke()
    first.kept_check.invoke()
    first.accept()
    pump(tk_root, timeout=0.02)
    assert next_enabled(wizard)

    panel.change_button.invoke()
    pump(tk_root, timeout=0.02)
    dialog = panel.dialog
    assert isinstance(dialog, NewPasswordDialog)
    newer = "otra frase distinta para la caja"
    type_password(tk_root, dialog, newer, newer)
    dialog.save_button.invoke()
    pump(tk_root, timeout=0.02)

    assert isinstance(panel.dialog, RecoverySheetDialog) and not next_enabled(wizard)
    assert newer in sheet.default_path().read_text(encoding="utf-8")
    assert passwords.candidate_passwords() == [newer, GOOD]
    panel.dialog.kept_check.invoke()
    panel.dialog.accept()
    pump(tk_root, timeout=0.02)
    assert next_enabled(wizard)
    assert "los respaldos anteriores se siguen abriendo con la anterior" in panel.state_text


def test_the_summary_says_when_this_computer_lacks_the_password(tk_root, open_window, saved_config,
                                                                 password_keyring):  # noqa: F811
    from wizard.core import config as config_mod

    cfg = config_mod.load(saved_config)
    cfg.encryption.enabled = True
    config_mod.save(cfg, saved_config)

    window = open_window(saved_config)

    line = window.summary.config_lines["encryption"].cget("text")
    assert line.startswith("activada (solo las copias en la nube) — falta la contraseña en este equipo")
