"""Restore drills in the window (Xvfb, the real engine, real archives): the summary's line, "Probar ahora" with
progress and Cancelar, a failed drill in red and sent to the owner's Telegram (the fake Bot API of
tests/notify), the automatic check, a backup that cancels a drill, and the restore dialog's mark."""

from __future__ import annotations

import threading
import zipfile
from datetime import datetime, timedelta

import pytest

from tests.ui.conftest import pump
from wizard.core import config as config_mod
from wizard.core import history, machine
from wizard.core.backup import run_backup
from wizard.core.config import Config, DestinationConfig, NotifyConfig, ScheduleConfig, SourceConfig
from wizard.core.drill import run_drill
from wizard.ui.drill_panel import DrillWorker

NEVER = "Última prueba de restauración: todavía no se ha probado ningún respaldo."


def quiet_schedule() -> ScheduleConfig:
    """Every day, hours away from now: the automatic drills are never held back by the backup's hour."""
    return ScheduleConfig(frequency="daily", time=(datetime.now() + timedelta(hours=6)).strftime("%H:00"))


@pytest.fixture
def shop(tmp_path, pos_data, usb):
    def make(notify: NotifyConfig | None = None):
        config = Config(source=SourceConfig(paths=[str(pos_data)]), destination=DestinationConfig(folder=str(usb)),
                        schedule=quiet_schedule(), notify=notify or NotifyConfig())
        path = tmp_path / "config" / "respaldos.toml"
        config_mod.save(config, path)
        return path, config
    return make


def back_up(config):
    result = run_backup(config)
    assert result.succeeded, result.message
    return result.archive


def drills():
    return [e for e in history.read() if e.trigger == "test-restore"]


@pytest.fixture
def held_drill(monkeypatch):
    """The drill's worker stops at its first progress event until ``release`` is set."""
    reached, release = threading.Event(), threading.Event()
    original = DrillWorker.report

    def report(self, event):
        original(self, event)
        if not reached.is_set():
            reached.set()
            release.wait(30)

    monkeypatch.setattr(DrillWorker, "report", report)
    yield reached, release
    release.set()


def wait_drill(tk_root, window, timeout=60):
    assert pump(tk_root, until=lambda: not window.drills.running, timeout=timeout)
    pump(tk_root, timeout=0.2)


def test_probar_ahora_shows_progress_then_the_line_with_the_sales_and_the_row(
        tk_root, open_window, shop, held_drill):
    path, config = shop()
    back_up(config)
    window = open_window(path)
    panel = window.summary.drill_panel
    assert panel.line_text == NEVER
    reached, release = held_drill

    panel.test_button.invoke()
    assert pump(tk_root, until=lambda: reached.is_set() and panel.progress_box.winfo_manager() == "grid", timeout=30)
    assert panel.test_button.instate(["disabled"])
    assert panel.phase_label.cget("text") == "Probando el respaldo..."
    assert window.drills.running
    release.set()
    wait_drill(tk_root, window)

    text = panel.line_text
    assert text.startswith("Última prueba de restauración: hoy a las "), text
    assert ", correcta: 2,000 ventas, último movimiento " in text
    assert "danger" not in str(panel.line.cget("style"))
    assert panel.progress_box.winfo_manager() == ""
    assert not panel.test_button.instate(["disabled"])
    row = window.summary.table.item(window.summary.table.get_children()[0], "values")
    assert row[1] == "Prueba de restauración" and row[2] == "Correcto · verificado"
    assert [e.status for e in drills()] == ["ok"]


def test_cancelar_stops_the_drill_and_the_line_still_says_never(tk_root, open_window, shop, held_drill):
    path, config = shop()
    back_up(config)
    window = open_window(path)
    panel = window.summary.drill_panel
    reached, release = held_drill
    panel.test_button.invoke()
    assert pump(tk_root, until=reached.is_set, timeout=30)
    pump(tk_root, timeout=0.2)
    panel.cancel_button.invoke()
    assert panel.cancel_button.instate(["disabled"]) and panel.cancel_button.cget("text") == "Cancelando..."
    release.set()
    wait_drill(tk_root, window)
    assert [e.status for e in drills()] == ["cancelled"]
    assert panel.line_text == NEVER  # a cancelled drill proves nothing


def test_without_a_backup_probar_ahora_says_there_is_nothing_to_test(tk_root, open_window, shop):
    path, _config = shop()
    window = open_window(path)
    panel = window.summary.drill_panel
    panel.test_button.invoke()
    wait_drill(tk_root, window)
    assert panel.line_text.startswith(NEVER + "\nNo hay respaldos de este equipo en ")
    assert drills() == []


def damage_database_member(archive):
    """Change bytes in the middle of the database's compressed data (the manifest and hashes stay)."""
    with zipfile.ZipFile(archive) as zf:
        info = next(i for i in zf.infolist() if i.filename.endswith("punto_de_venta.db"))
    with open(archive, "r+b") as fh:
        fh.seek(info.header_offset + 26)
        name_len, extra_len = (int.from_bytes(fh.read(2), "little") for _ in range(2))
        middle = info.header_offset + 30 + name_len + extra_len + info.compress_size // 2
        fh.seek(middle)
        data = fh.read(16)
        fh.seek(middle)
        fh.write(bytes(b ^ 0x5A for b in data))


@pytest.fixture
def telegram(monkeypatch, tmp_path):
    """The notices' fake Telegram Bot API over HTTPS (tests/notify), trusted through SSL_CERT_FILE."""
    import keyring

    from tests.fakes.keyring_backend import FileKeyring
    from tests.fakes.notice_servers import BOT_TOKEN, FakeBotApi
    from tests.notify.conftest import CA, CA_FILE, EMPTY_CERT_DIR
    from wizard.core import notify

    monkeypatch.setenv("SSL_CERT_FILE", str(CA_FILE))
    monkeypatch.setenv("SSL_CERT_DIR", str(EMPTY_CERT_DIR))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("FAKE_KEYRING_FILE", str(tmp_path / "keyring.json"))
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())
    server = FakeBotApi(CA)
    monkeypatch.setenv("RESPALDOS_TELEGRAM_API", server.base)
    notify.set_password("telegram", BOT_TOKEN)
    yield server
    notify.wait(30)
    server.stop()
    keyring.set_keyring(previous)


def test_a_failed_drill_is_red_on_the_summary_and_sent_to_the_owner(tk_root, open_window, shop, telegram):
    from tests.fakes.notice_servers import CHAT_ID
    from wizard.core import notify

    path, config = shop(NotifyConfig(on=["failure"], telegram_chat_id=CHAT_ID))
    archive = back_up(config)
    damage_database_member(archive)
    window = open_window(path)
    panel = window.summary.drill_panel
    panel.test_button.invoke()
    wait_drill(tk_root, window)

    text = panel.line_text
    assert text.startswith("Última prueba de restauración: hoy a las "), text
    assert ", falló. " in text and archive.name in text
    assert "danger" in str(panel.line.cget("style"))
    assert [e.status for e in drills()] == ["failed"]
    assert notify.wait(30)
    assert len(telegram.sent) == 1
    me = machine.current(config.machine.name).name
    sent = telegram.sent[0]["text"]
    assert sent.startswith(f"{me}: la prueba de restauración falló. El respaldo {archive.name} está dañado"), sent
    assert "punto_de_venta.db" in sent


def test_the_automatic_check_tests_the_newest_backup_on_its_own(tk_root, open_window, shop):
    path, config = shop()
    older = back_up(config)
    newest = back_up(config)
    window = open_window(path)
    window.drills.start_checks(delay_ms=10)  # the window does this 3 minutes after it opens
    assert pump(tk_root, until=lambda: len(drills()) >= 1 and not window.drills.running, timeout=60)
    pump(tk_root, timeout=0.3)
    archives = [e.archive for e in drills()]
    assert archives[0] == newest.name and set(archives) <= {newest.name, older.name}
    assert ", correcta: 2,000 ventas" in window.summary.drill_panel.line_text


def test_a_backup_started_during_a_drill_cancels_it_and_runs_after_it(tk_root, open_window, shop, held_drill):
    path, config = shop()
    back_up(config)
    window = open_window(path)
    reached, release = held_drill
    window.summary.drill_panel.test_button.invoke()
    assert pump(tk_root, until=reached.is_set, timeout=30)
    assert not window.start_sync()  # never an upload beside a drill (no cloud here either)
    assert window.backup_now()
    assert window.drills.worker.cancel_event.is_set()
    release.set()
    assert pump(tk_root, until=lambda: not window.backup_running and not window.drills.running, timeout=60)
    entries = history.read()
    assert [(e.trigger, e.status) for e in entries[-2:]] == [("test-restore", "cancelled"), ("manual", "ok")]
    assert entries[-2].end <= entries[-1].start + timedelta(seconds=1)


def test_the_restore_dialog_marks_the_backups_that_passed_a_drill(tk_root, open_window, shop):
    path, config = shop()
    older = back_up(config)
    back_up(config)
    assert run_drill(config, older).ok
    window = open_window(path)
    window.summary.restore_button.invoke()
    dialog = window.summary.restore_dialog
    assert pump(tk_root, until=lambda: dialog.contents is not None, timeout=30)
    states = [dialog.backups.item(i, "values")[3] for i in dialog.backups.get_children()]
    assert states == ["Verificado", "Verificado · ✓ probado"]
