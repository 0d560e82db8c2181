"""The window's own scheduler, on: a real Tk window ticking a BackupScheduler with after(), the real engine, and
a clock that stands still until the test moves it (so nothing waits for a real minute)."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, datetime, timedelta

from tests.ui.conftest import pump
from wizard.core import config as config_mod
from wizard.core import history, state
from wizard.core.config import ScheduleConfig
from wizard.core.schedule import local_now
from wizard.ui.worker import BackupWorker

TICK = 0.05  # seconds between the window's ticks (20 s in the app)


class FakeClock:
    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def daily_at(config_path, when: datetime) -> None:
    """Save the config with a daily backup at ``when``'s hour and minute."""
    config = config_mod.load(config_path)
    config.schedule = ScheduleConfig(frequency="daily", time=when.strftime("%H:%M"))
    config_mod.save(config, config_path)


def slot_before_the_save() -> datetime:
    """Yesterday at noon: the test's clock starts just before it, and because the config was saved after it,
    opening the window finds nothing missed (no catch-up)."""
    return (local_now() - timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)


def open_scheduled(open_window, config_path, clock):
    window = open_window(config_path, run_scheduler=True, clock=clock, tick_period=TICK)
    assert window.scheduler is not None
    return window


def archives(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("respaldo_"))


def rows(summary):
    return [summary.table.item(i, "values") for i in summary.table.get_children()]


def hold_the_worker_mid_archive(monkeypatch):
    """The worker waits inside the engine's progress report (mid-archive) until ``release`` is set."""
    reached, release = threading.Event(), threading.Event()
    original = BackupWorker.report

    def held_report(self, event):
        original(self, event)
        if getattr(event, "phase", "") == "compress" and not reached.is_set():
            reached.set()
            release.wait(30)

    monkeypatch.setattr(BackupWorker, "report", held_report)
    return reached, release


def test_at_the_scheduled_minute_the_window_starts_the_same_backup_worker_as_f8_and_history_says_programado(
        tk_root, open_window, saved_config, usb):
    slot = slot_before_the_save()
    daily_at(saved_config, slot)
    clock = FakeClock(slot - timedelta(seconds=30))
    window = open_scheduled(open_window, saved_config, clock)
    assert window.summary.next_label.cget("text") == f"Próximo respaldo: hoy a las {slot:%H:%M}"
    pump(tk_root, timeout=5 * TICK)
    assert window.worker is None, "not before its time"

    clock.advance(seconds=30)
    assert pump(tk_root, until=lambda: window.worker is not None, timeout=5)
    assert type(window.worker) is BackupWorker and window.worker.trigger == "scheduled"
    assert window.summary.progress_box.winfo_manager() == "grid"
    assert window.summary.backup_button.instate(["disabled"])
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=60)

    assert len(archives(usb)) == 1
    entry = history.read()[-1]
    assert (entry.trigger, entry.status, entry.archive) == ("scheduled", "ok", archives(usb)[0])
    assert rows(window.summary)[0][1:3] == ("Programado", "Correcto · verificado")
    assert window.summary.next_label.cget("text") == f"Próximo respaldo: mañana a las {slot:%H:%M}"
    pump(tk_root, timeout=5 * TICK)
    assert len(history.read()) == 1, "once per scheduled time"


def test_a_time_missed_while_the_app_was_closed_is_caught_up_once_a_minute_after_opening(
        tk_root, open_window, saved_config, usb):
    now = local_now().replace(microsecond=0)
    daily_at(saved_config, now - timedelta(hours=2))
    state.record_config_saved(saved_config, now - timedelta(days=3))  # three scheduled times missed since
    clock = FakeClock(now)
    window = open_scheduled(open_window, saved_config, clock)
    assert "Hace 3 días que no se hace un respaldo." in str(window.summary.last_label.cget("text"))
    pump(tk_root, timeout=5 * TICK)
    assert window.worker is None, "a USB disk gets a minute to mount first"
    clock.advance(seconds=30)
    pump(tk_root, timeout=5 * TICK)
    assert window.worker is None

    clock.advance(seconds=30)
    assert pump(tk_root, until=lambda: window.worker is not None, timeout=5)
    assert type(window.worker) is BackupWorker and window.worker.trigger == "catch-up"
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=60)
    assert len(archives(usb)) == 1
    assert rows(window.summary)[0][1:3] == ("Al abrir", "Correcto · verificado")
    assert "Hace" not in str(window.summary.last_label.cget("text")), "the watchdog is satisfied"

    clock.advance(seconds=30)
    pump(tk_root, timeout=5 * TICK)
    assert [e.trigger for e in history.read()] == ["catch-up"], "one catch-up for three missed days"


def test_a_scheduled_time_during_a_manual_backup_is_skipped_and_recorded_not_queued(
        tk_root, open_window, saved_config, usb, monkeypatch):
    reached, release = hold_the_worker_mid_archive(monkeypatch)
    slot = slot_before_the_save()
    daily_at(saved_config, slot)
    clock = FakeClock(slot - timedelta(seconds=30))
    window = open_scheduled(open_window, saved_config, clock)
    # The button's action (F8's own test is in test_summary.py): a key event needs the X focus, which a
    # notification left by the tray's tests can hold for a while.
    assert not window.summary.backup_button.instate(["disabled"])
    window.summary.backup_button.invoke()
    manual = window.worker
    assert manual is not None and manual.trigger == "manual"
    assert pump(tk_root, until=reached.is_set, timeout=30)

    clock.advance(seconds=30)
    assert pump(tk_root, until=lambda: history.read(), timeout=5)
    skipped = history.read()[-1]
    assert (skipped.trigger, skipped.status, skipped.message) == (
        "scheduled", "skipped", "Ya hay un respaldo en curso.")
    assert window.worker is manual

    release.set()
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=60)
    pump(tk_root, timeout=5 * TICK)
    assert window.worker is manual, "the skipped run does not start once the manual one ends"
    assert len(archives(usb)) == 1
    assert [r[1:3] for r in rows(window.summary)] == [
        ("Manual", "Correcto · verificado"), ("Programado", "No se hizo")]
    assert rows(window.summary)[1][5] == "Ya hay un respaldo en curso."


def test_a_missing_usb_drive_at_the_scheduled_time_says_conecta_la_memoria_usb_and_retries_in_10_minutes(
        tk_root, open_window, saved_config, usb):
    shutil.rmtree(usb)
    slot = slot_before_the_save()
    daily_at(saved_config, slot)
    clock = FakeClock(slot - timedelta(seconds=30))
    window = open_scheduled(open_window, saved_config, clock)

    clock.advance(seconds=30)
    assert pump(tk_root, until=lambda: window.worker is not None and not window.backup_running, timeout=30)
    failed = window.worker
    assert failed.trigger == "scheduled"
    assert "Conecta la memoria USB o elige otra carpeta" in window.summary.banner_text
    assert rows(window.summary)[0][1:3] == ("Programado", "Falló")
    assert "Conecta la memoria USB" in rows(window.summary)[0][5]
    assert window.scheduler.retry_at == (slot + timedelta(minutes=10)).astimezone(UTC)

    clock.advance(minutes=9, seconds=59)
    pump(tk_root, timeout=5 * TICK)
    assert window.worker is failed, "no retry before 10 minutes"
    usb.mkdir(parents=True)  # the drive is plugged in again
    clock.advance(seconds=1)
    assert pump(tk_root, until=lambda: window.worker is not failed and not window.backup_running, timeout=60)
    assert window.worker.trigger == "scheduled"
    assert len(archives(usb)) == 1
    assert [r[1:3] for r in rows(window.summary)] == [("Programado", "Correcto · verificado"),
                                                       ("Programado", "Falló")]
    assert window.scheduler.retry_at is None
