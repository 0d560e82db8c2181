"""The "Restaurar..." dialog when several tills share the destination: another installation's backups are
listed apart and never chosen for the user; restoring one in place names that computer and every folder it
overwrites first, and afterwards this computer can continue its backups."""

from __future__ import annotations

from pathlib import Path

from tests.ui.conftest import pump
from tests.ui.restore.test_dialog import sales, sell
from wizard.core import config as config_mod
from wizard.core import machine
from wizard.core.backup import run_backup


def back_up_as(name: str, data_dir: Path, config_path: Path, monkeypatch) -> tuple[Path, str]:
    """A backup made by another installation (its own data folder and name) into the same destination."""
    monkeypatch.setenv("RESPALDOS_DATA_DIR", str(data_dir))
    cfg = config_mod.load(config_path)
    cfg.machine.name = name
    result = run_backup(cfg)
    other_id = machine.installation_id()
    monkeypatch.delenv("RESPALDOS_DATA_DIR")
    assert result.succeeded, result.message
    return result.archive, other_id


def rows(dialog) -> list[tuple]:
    return [(i, *dialog.backups.item(i, "values")) for i in dialog.backups.get_children()]


def test_another_tills_backups_are_listed_apart_with_its_name_and_never_chosen_for_the_user(
        tk_root, open_window, saved_config, tmp_path, monkeypatch):
    mine = run_backup(config_mod.load(saved_config)).archive
    theirs, _other_id = back_up_as("Caja 2", tmp_path / "caja2", saved_config, monkeypatch)  # newer than mine
    window = open_window(saved_config)
    window.summary.restore_button.invoke()
    dialog = window.summary.restore_dialog
    assert pump(tk_root, until=lambda: dialog.contents is not None, timeout=30)
    assert dialog.selected.path == mine, "this computer's newest, not the other till's newer one"
    listed = rows(dialog)
    assert [r[0] for r in listed] == ["0", "otros", "1"]
    assert listed[1][1] == "De otros equipos:"
    assert listed[2][4].startswith("De Caja 2")
    assert dialog.choices[1].path == theirs
    dialog.destroy()

    mine.unlink()  # only the other till's backup is left: nothing is chosen, the buttons wait for a choice
    window.summary.restore_button.invoke()
    dialog = window.summary.restore_dialog
    pump(tk_root, timeout=0.3)
    assert dialog.selected is None
    assert dialog.original_button.instate(["disabled"])
    dialog.backups.selection_set("otros")  # a click on the heading line is no choice either
    pump(tk_root, timeout=0.1)
    assert dialog.selected is None and dialog.original_button.instate(["disabled"])


def test_a_new_computer_restores_a_dead_tills_backup_after_naming_it_and_its_folders_then_continues_it(
        tk_root, open_window, saved_config, pos_data, tmp_path, monkeypatch, dialogs):
    theirs, other_id = back_up_as("Caja 1", tmp_path / "caja1", saved_config, monkeypatch)
    sell(pos_data / "punto_de_venta.db", 25)
    window = open_window(saved_config)
    window.summary.restore_button.invoke()
    dialog = window.summary.restore_dialog
    pump(tk_root, timeout=0.3)
    assert dialog.selected is None
    dialog.select(0)
    assert pump(tk_root, until=lambda: dialog.contents is not None, timeout=30)

    answers = iter([True, False])  # yes to "restore?", no once the folders are shown

    def confirm(message, title=None, yes=None, no=None):
        dialogs.questions.append(message)
        return next(answers)

    monkeypatch.setattr(dialogs, "confirm", confirm)
    dialog.original_button.invoke()
    assert "Es un respaldo de otro equipo, Caja 1." in dialogs.questions[0]
    assert pump(tk_root, until=lambda: dialog.view == "result", timeout=60)
    shown = dialogs.questions[1]
    assert f"El respaldo {theirs.name} es de otro equipo, Caja 1 ({other_id})." in shown
    assert f"  {pos_data}" in shown.splitlines()
    assert dialog.result_text == "Restauración cancelada. No se cambió nada."
    assert sales(pos_data / "punto_de_venta.db") == 2025

    dialog.back_to_list()
    dialog.select(0)
    assert pump(tk_root, until=lambda: dialog.contents is not None, timeout=30)
    answers = iter([True, True])
    dialog.original_button.invoke()
    assert pump(tk_root, until=lambda: dialog.view == "result", timeout=60)
    assert dialog.report is not None, dialog.result_text
    assert sales(pos_data / "punto_de_venta.db") == 2000
    assert "Este equipo reemplaza a Caja 1" in dialog.result_text
    assert dialog.adopt_button.winfo_ismapped()

    dialog.adopt_button.invoke()
    assert machine.installation_id() == other_id
    assert config_mod.load(saved_config).machine.name == "Caja 1"
    assert window.summary.config_lines["machine"].cget("text") == "Caja 1"
    assert dialog.result_text.startswith("Listo: este equipo se llama ahora Caja 1")
    mine_now = run_backup(config_mod.load(saved_config))
    assert mine_now.archive.name.endswith(f"_Caja-1-{machine.short_id(other_id)}.zip")
