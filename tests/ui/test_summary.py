"""The summary, driven in a real Tk window with the real engine: F8, progress, cancel, a missing USB drive."""

from __future__ import annotations

import shutil
import sys
import threading
import tkinter
import zipfile

import pytest

from tests.ui.conftest import pump
from wizard.core import history
from wizard.core.backup import Progress
from wizard.ui.worker import BackupWorker


def archives(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("respaldo_"))


def test_the_summary_says_the_configuration_in_words_and_the_permanent_hint(
    tk_root, open_window, saved_config, pos_data, usb
):
    window = open_window(saved_config)
    summary = window.summary
    assert summary is not None
    assert summary.config_lines["source"].cget("text") == str(pos_data)
    assert summary.config_lines["schedule"].cget("text") == "Todos los viernes a las 20:00"
    assert summary.config_lines["cloud"].cget("text") == "Ninguna"
    assert summary.config_lines["retention"].cget("text") == "últimos 10, 7 días, 4 semanas, 12 meses"
    assert str(summary.next_label.cget("text")).startswith("Próximo respaldo: ")
    assert "a las 20:00" in str(summary.next_label.cget("text"))
    assert "Deja esta aplicación abierta para que se hagan los respaldos programados" in str(
        summary.hint_label.cget("text")
    )
    assert "todavía ninguno" in str(summary.last_label.cget("text"))
    pump(tk_root, until=lambda: summary.folder_info is not None)
    assert str(usb) in str(summary.config_lines["destination"].cget("text"))
    assert "libres" in str(summary.config_lines["destination"].cget("text"))


def test_f8_anywhere_makes_a_real_archive_and_the_history_row_shows_it(
    tk_root, open_window, saved_config, usb
):
    window = open_window(saved_config)
    summary = window.summary
    summary.table.focus_force()
    summary.table.update()
    summary.table.event_generate("<F8>")
    assert window.backup_running
    assert summary.progress_box.winfo_manager() == "grid"
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=60)

    names = archives(usb)
    assert len(names) == 1 and names[0].endswith(".zip")
    with zipfile.ZipFile(usb / names[0]) as zf:
        assert zf.testzip() is None
        assert any(n.endswith("punto_de_venta.db") for n in zf.namelist())
    row = summary.table.item(summary.table.get_children()[0], "values")
    assert row[1] == "Manual"
    assert row[2] == "Correcto · verificado"
    assert row[5] == names[0]
    assert "verificado" in summary.banner_text and names[0] in summary.banner_text
    assert "verificado" in str(summary.last_label.cget("text"))
    assert summary.progress_box.winfo_manager() == ""
    assert not summary.backup_button.instate(["disabled"])


def test_progress_shows_percent_phase_and_current_file(tk_root, open_window, saved_config):
    window = open_window(saved_config)
    summary = window.summary
    summary.backup_started("manual")
    summary.show_progress(Progress("compress", 42.4, "datos/punto_de_venta.db", 10, 20))
    assert summary.percent_label.cget("text") == "42 %"
    assert summary.progress.cget("value") == pytest.approx(42.4)
    assert summary.current_label.cget("text") == "datos/punto_de_venta.db"
    assert summary.phase_label.cget("text") == "Guardando..."
    summary.show_progress(Progress("verify", 90.0, "", 20, 20))
    assert summary.phase_label.cget("text") == "Verificando el respaldo..."


def test_cancel_mid_backup_leaves_no_archive_and_says_so(
    tk_root, open_window, saved_config, usb, monkeypatch
):
    """The worker is held inside the engine's progress report (mid-archive) until Cancelar is pressed."""
    reached, release = threading.Event(), threading.Event()
    original = BackupWorker.report

    def held_report(self, event):
        original(self, event)
        if getattr(event, "phase", "") == "compress" and not reached.is_set():
            reached.set()
            release.wait(30)

    monkeypatch.setattr(BackupWorker, "report", held_report)
    window = open_window(saved_config)
    summary = window.summary
    summary.backup_button.invoke()
    assert pump(tk_root, until=reached.is_set, timeout=30)
    assert any(p.name.endswith(".part") for p in usb.iterdir()), "the archive was being written"
    pump(tk_root, timeout=0.3)  # the window stays responsive while the worker is busy
    summary.cancel_button.invoke()
    assert summary.cancel_button.instate(["disabled"])
    release.set()
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=30)

    assert list(usb.iterdir()) == []
    assert "cancelado" in summary.banner_text.lower()
    assert history.read()[-1].status == "cancelled"
    row = summary.table.item(summary.table.get_children()[0], "values")
    assert row[2] == "Cancelado"


def test_a_missing_destination_shows_the_conecta_la_memoria_usb_sentence(
    tk_root, open_window, saved_config, usb
):
    shutil.rmtree(usb)
    window = open_window(saved_config)
    summary = window.summary
    pump(tk_root, until=lambda: summary.folder_info is not None)
    assert "Conecta la memoria USB o elige otra carpeta" in str(
        summary.config_lines["destination"].cget("text")
    )

    summary.backup_button.invoke()
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=30)
    assert "Conecta la memoria USB o elige otra carpeta" in summary.banner_text
    assert not usb.exists(), "the destination is never created by a backup"
    row = summary.table.item(summary.table.get_children()[0], "values")
    assert row[2] == "Falló"
    assert "Conecta la memoria USB" in row[5]

    summary.open_button.invoke()
    assert "Conecta la memoria USB" in window.dialogs.warnings[-1]


def test_open_folder_and_restore_buttons(tk_root, open_window, saved_config, usb, dialogs):
    window = open_window(saved_config)
    opened = []
    window.open_path = opened.append
    window.summary.open_button.invoke()
    assert opened == [str(usb)]
    window.summary.restore_button.invoke()
    assert window.summary.restore_dialog.winfo_exists()  # the dialog itself: tests/ui/test_restore_dialog.py


def test_a_scheduled_run_goes_through_the_same_worker_and_is_labelled_in_the_history(
    tk_root, open_window, saved_config, usb
):
    window = open_window(saved_config)
    window._submit_scheduled("scheduled")
    assert pump(tk_root, until=lambda: window.worker is not None and not window.backup_running, timeout=60)
    assert window.worker.trigger == "scheduled"
    assert len(archives(usb)) == 1
    row = window.summary.table.item(window.summary.table.get_children()[0], "values")
    assert row[1] == "Programado"


def test_f8_while_a_backup_runs_does_not_start_a_second_one(tk_root, open_window, saved_config, usb):
    window = open_window(saved_config)
    assert window.backup_now()
    first = window.worker
    assert not window.backup_now()
    assert window.worker is first
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=60)
    assert len(archives(usb)) == 1


def test_a_history_with_several_runs_lists_newest_first_with_plain_words(tk_root, open_window, saved_config):
    from datetime import datetime, timedelta

    now = datetime.now()
    for i, (status, trigger) in enumerate(
        [("ok", "scheduled"), ("failed", "catch-up"), ("warning", "manual")]
    ):
        start = now - timedelta(days=3 - i)
        history.append(
            history.HistoryEntry(
                start=start,
                end=start + timedelta(seconds=12),
                trigger=trigger,
                status=status,
                archive=f"respaldo_{i}.zip" if status != "failed" else None,
                size=1_500_000,
                duration=12.0,
                message="No se encontró la carpeta E:\\R." if status == "failed" else "",
                verified=status != "failed",
            )
        )
    window = open_window(saved_config)
    rows = [window.summary.table.item(i, "values") for i in window.summary.table.get_children()]
    assert [r[1] for r in rows] == ["Manual", "Al abrir", "Programado"]
    assert [r[2] for r in rows] == ["Con advertencias · verificado", "Falló", "Correcto · verificado"]
    assert rows[0][3] == "1.4 MB" and rows[0][4] == "12 s"
    assert window.summary.table.item(window.summary.table.get_children()[1], "tags") == ("failed",)
    assert "Último respaldo: ayer" in str(window.summary.last_label.cget("text"))


def test_an_unexpected_error_in_a_callback_is_logged_and_shown_as_one_short_sentence(
    tk_root, dialogs, caplog
):
    from wizard.ui.app import install_error_handler

    previous = tk_root.report_callback_exception
    install_error_handler(tk_root, dialogs)
    try:
        try:
            raise RuntimeError("boom interno")
        except RuntimeError:
            tk_root.report_callback_exception(*sys.exc_info())
    finally:
        tk_root.report_callback_exception = previous
    assert "RuntimeError: boom interno" in caplog.text  # the traceback went to the log
    assert len(dialogs.errors) == 1
    assert "Algo salió mal" in dialogs.errors[0] and "respaldos.log" in dialogs.errors[0]
    assert "Traceback" not in dialogs.errors[0] and "boom" not in dialogs.errors[0]


def test_the_root_has_the_title_icon_and_a_minimum_size_that_fits_1366x768(tk_root):
    from wizard.ui.app import asset_path

    assert tk_root.title() == "Respaldos"
    min_w, min_h = tk_root.minsize()
    assert 0 < min_w <= 1366 and 0 < min_h <= 768 - 40 - 30
    assert asset_path("respaldos.png") is not None and asset_path("respaldos.ico") is not None
    assert tk_root.style.theme_use() == "bootstrap-light"


def test_the_window_tree_never_shows_a_traceback_or_an_english_placeholder(
    tk_root, open_window, saved_config
):
    window = open_window(saved_config)
    texts = []

    def walk(widget):
        try:
            texts.append(str(widget.cget("text")))
        except tkinter.TclError:  # a frame or a table has no text
            pass
        for child in widget.winfo_children():
            walk(child)

    walk(window.container)
    joined = "\n".join(texts)
    assert "Traceback" not in joined
    assert "TODO" not in joined
    assert "Respaldar ahora (F8)" in joined


def test_a_scheduled_run_while_editing_goes_ahead_and_the_summary_picks_up_its_progress(
    tk_root, open_window, saved_config, usb, monkeypatch
):
    reached, release = threading.Event(), threading.Event()
    original = BackupWorker.report

    def held_report(self, event):
        original(self, event)
        if getattr(event, "phase", "") == "compress" and not reached.is_set():
            reached.set()
            release.wait(30)

    monkeypatch.setattr(BackupWorker, "report", held_report)
    window = open_window(saved_config)
    window.summary.edit_button.invoke()
    assert not window.backup_now(), "F8 waits while the configuration is being edited"
    window._submit_scheduled("scheduled")
    assert pump(tk_root, until=reached.is_set, timeout=30)
    assert window.wizard is not None
    window.wizard.cancel_button.invoke()
    summary = window.summary
    assert summary is not None and summary.progress_box.winfo_manager() == "grid"
    assert summary.backup_button.instate(["disabled"])
    release.set()
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=60)
    assert len(archives(usb)) == 1
    assert summary.table.item(summary.table.get_children()[0], "values")[1] == "Programado"


def test_a_config_with_only_server_databases_says_which_databases_are_backed_up(tk_root, open_window, tmp_path, usb):
    from wizard.core import config as config_mod
    from wizard.core.config import Config, DatabaseSource, DestinationConfig, SourceConfig

    path = tmp_path / "config" / "respaldos.toml"
    config_mod.save(Config(
        source=SourceConfig(databases=[
            DatabaseSource(engine="mysql", host="caja1", database="sicar"),
            DatabaseSource(engine="firebird", name="eleventa", host="localhost", port=3051,
                           path="C:\\Eleventa\\PDVDATA.FDB"),
        ]),
        destination=DestinationConfig(folder=str(usb)),
    ), path)
    window = open_window(path)

    assert window.summary.config_lines["source"].cget("text").splitlines() == [
        "Base de datos «sicar» (MySQL/MariaDB en caja1:3306, sicar)",
        "Base de datos «eleventa» (Firebird en localhost:3051, C:\\Eleventa\\PDVDATA.FDB)",
    ]


def test_folders_and_databases_are_shown_together_and_a_long_list_is_shortened(
        tk_root, open_window, saved_config, pos_data, tmp_path):
    from wizard.core import config as config_mod
    from wizard.core.config import DatabaseSource

    config = config_mod.load(saved_config)
    config.source.paths.append(str(tmp_path))
    config.source.databases = [DatabaseSource(engine="mysql", database=f"caja{i}") for i in range(1, 6)]
    config_mod.save(config, saved_config)
    window = open_window(saved_config)

    assert window.summary.config_lines["source"].cget("text").splitlines() == [
        f"{pos_data}  (y 1 más)",
        "Base de datos «caja1» (MySQL/MariaDB en localhost:3306, caja1)",
        "Base de datos «caja2» (MySQL/MariaDB en localhost:3306, caja2)",
        "Base de datos «caja3» (MySQL/MariaDB en localhost:3306, caja3)",
        "y 2 bases de datos más",
    ]


def test_closing_warns_that_scheduled_backups_stop_also_while_editing_and_minimize_keeps_it_open(
        tk_root, open_window, saved_config, dialogs, monkeypatch):
    iconified = []
    monkeypatch.setattr(tk_root, "iconify", lambda: iconified.append(True))
    dialogs.confirm_answer = False  # "Minimizar"
    window = open_window(saved_config)

    assert window.on_close() is False and iconified == [True]
    assert dialogs.questions[-1] == ("Si cierras Respaldos, los respaldos programados no se harán hasta que lo "
                                     "vuelvas a abrir. ¿Cerrar de todos modos?")

    window.edit_config()
    assert window.on_close() is False and window.wizard is not None
    assert dialogs.questions[-1].startswith("Si cierras Respaldos, los respaldos programados no se harán")
    window.wizard.steps[0].exclude_var.set("*.log")
    assert window.on_close() is False and window.wizard is not None
    assert dialogs.questions[-1].startswith("Los cambios de la configuración no están guardados y se perderán.")
    assert len(iconified) == 3


def add_run(status, days_ago, trigger="scheduled"):
    from datetime import datetime, timedelta

    end = datetime.now() - timedelta(days=days_ago)
    history.append(history.HistoryEntry(
        start=end - timedelta(seconds=5), end=end, trigger=trigger, status=status,
        archive="respaldo_viejo.zip" if status == "ok" else None, size=1000 if status == "ok" else None,
        duration=5.0, message="" if status == "ok" else "No se encontró la carpeta E:\\Respaldos.",
        verified=status == "ok"))


def test_the_watchdog_warns_when_the_last_success_is_older_than_the_interval_plus_a_day(
        tk_root, open_window, saved_config):
    add_run("ok", days_ago=10)  # weekly on Fridays: the limit is 7 + 1 days
    add_run("failed", days_ago=3)
    window = open_window(saved_config)
    lines = str(window.summary.last_label.cget("text")).splitlines()
    assert lines[0].startswith("Último respaldo: ")
    assert lines[1] == "Hace 10 días que no se hace un respaldo."
    assert "danger" in str(window.summary.last_label.cget("style"))


@pytest.mark.parametrize("runs", [["failed", "failed", "cancelled"], []], ids=["always-failed", "never-ran"])
def test_the_watchdog_warns_when_backups_never_succeeded_since_the_config_was_saved_long_ago(
        tk_root, open_window, saved_config, runs):
    from datetime import UTC, datetime, timedelta

    from wizard.core import state

    state.record_config_saved(saved_config, datetime.now(UTC) - timedelta(days=9, hours=1))
    for i, status in enumerate(runs):
        add_run(status, days_ago=8 - i)
    window = open_window(saved_config)
    assert str(window.summary.last_label.cget("text")).splitlines() == [
        "Último respaldo: todavía ninguno.",
        "Hace 9 días que no se hace un respaldo.",
    ]
    assert "danger" in str(window.summary.last_label.cget("style"))


def test_the_watchdog_stays_quiet_for_a_config_saved_within_the_interval_plus_a_day(
        tk_root, open_window, saved_config):
    from datetime import UTC, datetime, timedelta

    from wizard.core import state

    state.record_config_saved(saved_config, datetime.now(UTC) - timedelta(days=7, hours=23))
    add_run("failed", days_ago=1)
    window = open_window(saved_config)
    assert str(window.summary.last_label.cget("text")) == "Último respaldo: todavía ninguno."
    assert "danger" not in str(window.summary.last_label.cget("style"))


def test_the_watchdog_follows_the_windows_clock_like_the_scheduler(tk_root, open_window, saved_config):
    from datetime import timedelta

    from wizard.core.schedule import local_now

    window = open_window(saved_config, clock=lambda: local_now() + timedelta(days=12))  # just saved, no run
    assert str(window.summary.last_label.cget("text")).splitlines()[1] == "Hace 12 días que no se hace un respaldo."
