"""The wizard in a real Tk window: every step with valid and invalid input, the saved TOML, editing."""

from __future__ import annotations

import sys
import tomllib

import pytest

from tests.ui.conftest import pump
from wizard.core import config as config_mod
from wizard.core import machine


def next_enabled(wizard) -> bool:
    return not wizard.next_button.instate(["disabled"])


def wait_step_ready(root, wizard, timeout=10.0) -> bool:
    return pump(root, until=lambda: not wizard.step.busy, timeout=timeout)


def press(widget, key: str) -> None:
    """A key typed while ``widget`` has the focus (Tk sends key events to the focus widget)."""
    widget.focus_force()
    widget.update()
    widget.event_generate(key)


def fill_valid_source(root, wizard, dialogs, folder) -> None:
    dialogs.directory = str(folder)
    wizard.steps[0].add_folder_button.invoke()
    pump(root, until=lambda: wizard.steps[0].size_info is not None)


def go_to_step(root, wizard, dialogs, index, pos_data, usb) -> None:
    """Fill steps with valid values until ``index`` is the visible step."""
    if index >= 1:
        fill_valid_source(root, wizard, dialogs, pos_data)
        wizard.next()
    if index >= 2:
        wizard.steps[1].folder_var.set(str(usb))
        wait_step_ready(root, wizard)
        wizard.next()
    while wizard.index < index:
        wizard.next()
    pump(root, timeout=0.05)


# -- first launch and step 1 ----------------------------------------------------------------------


def test_first_launch_without_a_config_opens_step_one_with_next_disabled_and_the_reason_shown(open_window):
    window = open_window()
    wizard = window.wizard
    assert wizard is not None and window.summary is None
    assert wizard.index == 0
    assert not next_enabled(wizard)
    assert "La lista está vacía" in wizard.steps[0].paths_problem.text
    assert str(window.root.title()) == "Respaldos"


def test_step_one_counts_size_and_databases_of_the_chosen_folder(tk_root, open_window, dialogs, pos_data):
    window = open_window()
    wizard = window.wizard
    fill_valid_source(tk_root, wizard, dialogs, pos_data)
    step = wizard.steps[0]
    assert step.paths == [str(pos_data)]
    assert "1 base de datos encontrada" in step.totals_text
    assert "3 archivos" in step.totals_text
    assert step.paths_problem.text == ""
    assert next_enabled(wizard)


def test_step_one_refuses_a_path_that_does_not_exist_and_remove_brings_back_the_empty_reason(
    tk_root, open_window, tmp_path
):
    window = open_window()
    wizard = window.wizard
    step = wizard.steps[0]
    step.add_paths([str(tmp_path / "no-existe")])
    pump(tk_root, timeout=0.1)
    assert "No se encontró" in step.paths_problem.text
    assert not next_enabled(wizard)
    step.tree.selection_set("0")
    pump(tk_root, timeout=0.05)
    step.remove_button.invoke()
    assert step.paths == []
    assert "La lista está vacía" in step.paths_problem.text


def test_adding_files_and_a_folder_that_contains_them_keeps_only_the_folder(
    tk_root, open_window, dialogs, pos_data
):
    window = open_window()
    step = window.wizard.steps[0]
    dialogs.files = [str(pos_data / "punto_de_venta.db")]
    step.add_files_button.invoke()
    assert step.paths == [str(pos_data / "punto_de_venta.db")]
    step.add_paths([str(pos_data)])
    assert step.paths == [str(pos_data)]


def test_exclusions_live_under_advanced_options_and_an_empty_pattern_never_reaches_the_config(
    tk_root, open_window, dialogs, pos_data
):
    window = open_window()
    wizard = window.wizard
    step = wizard.steps[0]
    assert not step.advanced.winfo_ismapped()
    step.advanced_toggle.invoke()
    pump(tk_root, timeout=0.1)
    assert step.advanced.winfo_ismapped()
    fill_valid_source(tk_root, wizard, dialogs, pos_data)
    step.exclude_var.set("*.jpg, , imagenes/")
    pump(tk_root, until=lambda: step.size_info is not None and step.size_info.files == 2)
    assert wizard.draft.source.exclude == ["*.jpg", "imagenes/"]
    assert next_enabled(wizard)


# -- step 2 -----------------------------------------------------------------------------------------


def test_destination_shows_writable_free_space_and_drive_kind(tk_root, open_window, dialogs, pos_data, usb):
    window = open_window()
    wizard = window.wizard
    go_to_step(tk_root, wizard, dialogs, 1, pos_data, usb)
    step = wizard.steps[1]
    dialogs.directory = str(usb)
    step.choose_button.invoke()
    assert wait_step_ready(tk_root, wizard)
    assert "Se puede guardar" in step.status_text
    assert "libres de" in str(step.lines["space"].cget("text"))
    assert str(step.lines["drive"].cget("text"))
    assert next_enabled(wizard)
    assert list(usb.iterdir()) == []  # the write test cleaned up after itself


def test_destination_that_does_not_exist_can_be_created_from_the_step(
    tk_root, open_window, dialogs, pos_data, tmp_path, usb
):
    window = open_window()
    wizard = window.wizard
    go_to_step(tk_root, wizard, dialogs, 1, pos_data, usb)
    step = wizard.steps[1]
    target = tmp_path / "nueva" / "Respaldos"
    step.folder_var.set(str(target))
    assert wait_step_ready(tk_root, wizard)
    assert "no existe" in step.folder_problem.text
    assert not next_enabled(wizard)
    assert step.create_button.winfo_ismapped()
    step.create_button.invoke()
    assert wait_step_ready(tk_root, wizard)
    assert target.is_dir()
    assert step.folder_problem.text == ""
    assert next_enabled(wizard)


@pytest.mark.parametrize("kind", ["empty", "relative", "file", "contains-data"])
def test_destination_problems_keep_next_disabled_with_a_reason(
    tk_root, open_window, dialogs, pos_data, usb, kind
):
    window = open_window()
    wizard = window.wizard
    go_to_step(tk_root, wizard, dialogs, 1, pos_data, usb)
    step = wizard.steps[1]
    value, expected = {
        "empty": ("", "La ruta está vacía"),
        "relative": ("Respaldos", "ruta completa"),
        "file": (str(pos_data / "punto_de_venta.db"), "Es un archivo"),
        "contains-data": (str(pos_data.parent), "contiene los datos"),
    }[kind]
    step.folder_var.set(value)
    wait_step_ready(tk_root, wizard)
    pump(tk_root, timeout=0.1)
    assert expected in step.folder_problem.text
    assert not next_enabled(wizard)


def test_destination_inside_the_data_is_allowed_with_a_note(tk_root, open_window, dialogs, pos_data, usb):
    window = open_window()
    wizard = window.wizard
    go_to_step(tk_root, wizard, dialogs, 1, pos_data, usb)
    step = wizard.steps[1]
    inside = pos_data / "respaldos"
    inside.mkdir()
    step.folder_var.set(str(inside))
    assert wait_step_ready(tk_root, wizard)
    pump(tk_root, timeout=0.1)
    assert step.inside_notice.winfo_ismapped()
    assert "se dejan fuera automáticamente" in step.inside_notice.text
    assert next_enabled(wizard)


# -- step 3 -----------------------------------------------------------------------------------------


def test_the_destination_step_asks_this_computers_name_prefilled_and_the_summary_shows_it(
    tk_root, open_window, dialogs, pos_data, usb
):
    window = open_window()
    wizard = window.wizard
    go_to_step(tk_root, wizard, dialogs, 1, pos_data, usb)
    step = wizard.steps[1]
    step.folder_var.set(str(usb))
    assert wait_step_ready(tk_root, wizard)
    assert step.machine_var.get() == machine.computer_name()
    step.machine_var.set("Caja\t1")
    pump(tk_root, timeout=0.05)
    assert not next_enabled(wizard)
    assert "no sirve como nombre del equipo" in step.machine_problem.text
    step.machine_var.set("Caja 1")
    pump(tk_root, timeout=0.05)
    assert next_enabled(wizard) and step.machine_problem.text == ""
    for _ in range(5):
        wizard.next()
    assert window.summary is not None
    assert config_mod.load(window.config_path).machine.name == "Caja 1"
    assert window.summary.config_lines["machine"].cget("text") == "Caja 1"


def test_schedule_sentence_and_invalid_time_and_weekly_without_days(
    tk_root, open_window, dialogs, pos_data, usb
):
    window = open_window()
    wizard = window.wizard
    go_to_step(tk_root, wizard, dialogs, 2, pos_data, usb)
    step = wizard.steps[2]
    assert step.sentence_text == "Todos los días a las 20:00"
    assert step.catch_up_var.get() is True
    assert step.start_var.get() is False
    assert "una o dos horas antes del cierre" in step.notice.text

    step.weekly_radio.invoke()
    pump(tk_root, timeout=0.05)
    assert "Elige al menos un día de la semana" in step.days_problem.text
    assert not next_enabled(wizard)
    step.day_checks["friday"].invoke()
    pump(tk_root, timeout=0.05)
    assert step.days_problem.text == ""
    assert step.sentence_text == "Todos los viernes a las 20:00"

    step.hour_var.set("25")
    pump(tk_root, timeout=0.05)
    assert '"25:00" no es una hora válida (HH:MM)' in step.time_problem.text
    assert not next_enabled(wizard)
    step.hour_var.set("7")
    step.minute_var.set("5")
    pump(tk_root, timeout=0.05)
    assert step.time_problem.text == ""
    assert step.sentence_text == "Todos los viernes a las 07:05"
    assert next_enabled(wizard)


# -- step 4 -----------------------------------------------------------------------------------------


def test_cloud_step_blocks_next_until_signed_in_and_names_the_button(
    tk_root, open_window, dialogs, pos_data, usb
):
    # Signing in (against the fake Dropbox) is in tests/ui/test_cloud_page.py.
    window = open_window()
    wizard = window.wizard
    go_to_step(tk_root, wizard, dialogs, 3, pos_data, usb)
    step = wizard.steps[3]
    assert step.provider_var.get() == "none"
    assert next_enabled(wizard)
    step.radios["dropbox"].invoke()
    wait_step_ready(tk_root, wizard)
    assert not next_enabled(wizard)
    assert "Iniciar sesión con Dropbox" in step.account_problem.text
    step.radios["google_drive"].invoke()
    wait_step_ready(tk_root, wizard)
    assert "Iniciar sesión con Google" in step.account_problem.text


def test_cloud_folder_is_checked_by_the_config_validator(tk_root, open_window, dialogs, pos_data, usb):
    window = open_window()
    wizard = window.wizard
    go_to_step(tk_root, wizard, dialogs, 3, pos_data, usb)
    step = wizard.steps[3]
    step._signed_in("dropbox", "ana@example.com")  # as a finished sign-in leaves the step
    step.radios["dropbox"].invoke()
    assert "ana@example.com" in str(step.account_label.cget("text"))
    assert next_enabled(wizard)
    step.folder_var.set("/")
    pump(tk_root, timeout=0.05)
    assert "Indica el nombre de una carpeta" in step.folder_problem.text
    assert not next_enabled(wizard)


# -- step 5 -----------------------------------------------------------------------------------------


def test_retention_preset_sentence_estimate_and_a_bad_number(tk_root, open_window, dialogs, pos_data, usb):
    window = open_window()
    wizard = window.wizard
    go_to_step(tk_root, wizard, dialogs, 4, pos_data, usb)
    step = wizard.steps[4]
    assert wizard.next_button.cget("text") == "Siguiente"  # Avisos (opcional) comes after it
    assert (
        "los últimos 10 respaldos, uno por día de los últimos 7 días, uno por semana de las últimas 4 "
        "semanas y uno por mes de los últimos 12 meses" in step.sentence_text
    )
    assert "respaldos de unos" in step.estimate.text
    assert step.spins["keep_daily"].instate(["disabled"])
    step.custom_radio.invoke()
    step.vars["keep_daily"].set("abc")
    pump(tk_root, timeout=0.05)
    assert '"abc" no es válido' in step.problem_labels["retention.keep_daily"].text
    assert not next_enabled(wizard)
    step.vars["keep_daily"].set("14")
    pump(tk_root, timeout=0.05)
    assert "de los últimos 14 días" in step.sentence_text
    assert next_enabled(wizard)


# -- the whole walk ----------------------------------------------------------------------------------


def test_walking_every_step_with_the_keyboard_saves_the_toml_and_opens_the_summary(
    tk_root, open_window, dialogs, pos_data, usb
):
    window = open_window()
    wizard = window.wizard
    config_path = window.config_path
    fill_valid_source(tk_root, wizard, dialogs, pos_data)
    wizard.steps[0].advanced_toggle.invoke()
    wizard.steps[0].exclude_var.set("*.log, temp/")
    press(wizard.steps[0].exclude_entry, "<Return>")  # Enter = Next
    assert wizard.index == 1

    wizard.steps[1].folder_var.set(str(usb))
    assert wait_step_ready(tk_root, wizard)
    press(wizard.steps[1].entry, "<Return>")
    assert wizard.index == 2

    sched = wizard.steps[2]
    sched.weekly_radio.invoke()
    sched.day_checks["monday"].invoke()
    sched.day_checks["friday"].invoke()
    sched.hour_var.set("21")
    sched.minute_var.set("30")
    sched.catch_up.invoke()  # off
    sched.start_with_system.invoke()  # on
    assert sched.test_restore_var.get() == "weekly"
    sched.test_restore_radios["monthly"].invoke()
    pump(tk_root, timeout=0.05)
    press(sched.hour, "<Return>")
    assert wizard.index == 3

    press(wizard.steps[3].radios["none"], "<KP_Enter>")
    assert wizard.index == 4

    ret = wizard.steps[4]
    ret.custom_radio.invoke()
    ret.vars["keep_last"].set("5")
    ret.vars["keep_monthly"].set("24")
    pump(tk_root, timeout=0.05)
    press(ret.spins["keep_last"], "<Return>")
    assert wizard.index == 5
    press(wizard.steps[5].event_checks["failure"], "<Return>")

    assert window.summary is not None, "finishing shows the summary"
    data = tomllib.loads(config_path.read_text(encoding="utf-8"))
    assert data["source"] == {"paths": [str(pos_data)], "exclude": ["*.log", "temp/"]}
    assert data["destination"] == {"folder": str(usb)}
    assert data["schedule"] == {
        "frequency": "weekly",
        "weekdays": ["monday", "friday"],
        "time": "21:30",
        "catch_up": False,
        "start_with_system": True,
        "test_restore": "monthly",
    }
    assert data["retention"] == {"keep_last": 5, "keep_daily": 7, "keep_weekly": 4, "keep_monthly": 24}
    assert data["cloud"]["provider"] == "none"
    assert config_mod.load(config_path) == window.config
    summary = window.summary
    assert summary.config_lines["schedule"].cget("text") == "Los lunes y viernes a las 21:30"
    assert str(summary.next_label.cget("text")).startswith("Próximo respaldo: ")


def test_enter_on_a_focused_button_presses_only_that_button(tk_root, open_window, dialogs, pos_data, usb):
    window = open_window()
    wizard = window.wizard
    go_to_step(tk_root, wizard, dialogs, 1, pos_data, usb)
    press(wizard.back_button, "<Return>")
    pump(tk_root, timeout=0.05)
    assert wizard.index == 0  # Back ran; Next did not run after it


def test_escape_on_the_first_run_asks_and_quits(tk_root, open_window, dialogs):
    window = open_window()
    dialogs.confirm_answer = False
    press(window.wizard.steps[0].add_folder_button, "<Escape>")
    assert dialogs.questions and "Salir sin terminar" in dialogs.questions[-1]
    assert window.quits == [] and window.wizard is not None
    dialogs.confirm_answer = True
    window.wizard.cancel_button.invoke()
    assert window.quits == [True]


def test_f8_in_the_wizard_explains_instead_of_backing_up(tk_root, open_window):
    window = open_window()
    press(window.wizard.steps[0].add_folder_button, "<F8>")
    assert "Primero termina de configurar" in str(window.wizard.status.cget("text"))
    assert window.worker is None


# -- later launches ---------------------------------------------------------------------------------


def test_a_valid_config_opens_the_summary_and_edit_reopens_the_wizard_prefilled(
    tk_root, open_window, saved_config, pos_data, usb
):
    window = open_window(saved_config)
    assert window.summary is not None
    window.summary.edit_button.invoke()
    wizard = window.wizard
    assert wizard is not None and not wizard.first_run
    assert wizard.steps[0].paths == [str(pos_data)]
    assert wizard.steps[1].folder_var.get() == str(usb)
    assert wizard.steps[2].frequency_var.get() == "weekly"
    assert wizard.steps[2].day_vars["friday"].get() is True
    wizard.next()
    assert wait_step_ready(tk_root, wizard)
    wizard.next()
    wizard.steps[2].hour_var.set("19")
    pump(tk_root, timeout=0.05)
    wizard.next()
    wizard.next()
    wizard.next()
    wizard.next()  # Guardar y terminar
    assert window.summary is not None
    assert config_mod.load(saved_config).schedule.time == "19:00"
    assert window.summary.config_lines["schedule"].cget("text") == "Todos los viernes a las 19:00"


def test_cancelling_an_edit_with_changes_asks_and_keeps_the_file(tk_root, open_window, dialogs, saved_config):
    before = saved_config.read_bytes()
    window = open_window(saved_config)
    window.summary.edit_button.invoke()
    window.wizard.steps[0].add_paths([str(saved_config.parent)])
    dialogs.confirm_answer = False
    window.wizard.cancel_button.invoke()
    assert "Descartar" in dialogs.questions[-1]
    assert window.wizard is not None
    dialogs.confirm_answer = True
    press(window.wizard.steps[0].add_folder_button, "<Escape>")
    assert window.summary is not None
    assert saved_config.read_bytes() == before


def test_cancelling_an_edit_without_changes_goes_back_without_asking(
    tk_root, open_window, dialogs, saved_config
):
    window = open_window(saved_config)
    window.summary.edit_button.invoke()
    window.wizard.cancel_button.invoke()
    assert window.summary is not None
    assert dialogs.questions == []


def test_an_invalid_config_shows_its_problems_and_opens_the_wizard_with_defaults(
    tk_root, open_window, dialogs, tmp_path
):
    path = tmp_path / "config" / "respaldos.toml"
    path.parent.mkdir(parents=True)
    path.write_text(
        '[source]\npaths = ["C:/SICAR"]\n[destination]\nfolder = "E:/R"\n[schedule]\ntime = "25:00"\n',
        encoding="utf-8",
    )
    window = open_window(path)
    pump(tk_root, until=lambda: dialogs.errors, timeout=2)
    assert window.wizard is not None and window.wizard.index == 0
    assert window.wizard.steps[0].paths == []
    assert dialogs.errors and 'schedule.time: "25:00" no es una hora válida' in dialogs.errors[0]


def test_a_config_that_cannot_be_saved_is_reported_and_the_wizard_stays(
    tk_root, open_window, dialogs, pos_data, usb, tmp_path
):
    blocker = tmp_path / "soy-un-archivo"
    blocker.write_text("x")
    window = open_window(blocker / "respaldos.toml")
    wizard = window.wizard
    go_to_step(tk_root, wizard, dialogs, 4, pos_data, usb)
    wizard.next()
    wizard.next()
    assert dialogs.errors and "No se pudo guardar la configuración" in dialogs.errors[-1]
    assert window.wizard is wizard


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG autostart in the test's config dir")
def test_start_with_system_writes_and_removes_the_autostart_entry(
    tk_root, open_window, dialogs, pos_data, usb, tmp_path
):
    from wizard.core import autostart

    window = open_window()
    wizard = window.wizard
    go_to_step(tk_root, wizard, dialogs, 2, pos_data, usb)
    wizard.steps[2].start_with_system.invoke()
    wizard.next()
    wizard.next()
    wizard.next()
    wizard.next()
    assert window.summary is not None
    assert autostart.is_enabled()
    window.summary.edit_button.invoke()
    window.wizard.show_step(2)
    window.wizard.steps[2].start_with_system.invoke()
    window.wizard.next()
    window.wizard.next()
    window.wizard.next()
    window.wizard.next()
    assert not autostart.is_enabled()


@pytest.mark.timeout(60)  # the bug this guards against made update() spin forever
def test_every_step_settles_at_the_minimum_window_size(tk_root, open_window, saved_config, monkeypatch):
    """Wrapping labels inside hidden or scrolled steps must not feed back into their own width forever."""
    from wizard.ui import widgets

    calls = []
    original = widgets.WrapLabel._rewrap
    monkeypatch.setattr(
        widgets.WrapLabel, "_rewrap", lambda self, event=None: (calls.append(1), original(self))
    )
    previous = tk_root.geometry()
    min_w, min_h = tk_root.minsize()
    tk_root.geometry(f"{min_w}x{min_h}")
    try:
        window = open_window(saved_config)
        window.summary.edit_button.invoke()
        for index in range(6):
            window.wizard.show_step(index)
            pump(tk_root, timeout=0.3)
            calls.clear()
            pump(tk_root, timeout=0.5)
            assert len(calls) < 20, f"step {index + 1} keeps re-wrapping"
    finally:
        tk_root.geometry(previous)
