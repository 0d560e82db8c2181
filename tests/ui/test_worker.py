"""The worker bridge: results and progress reach the Tk thread through the queue, never the other way."""

from __future__ import annotations

import threading

from tests.ui.conftest import pump
from wizard.core.backup import BackupResult, Progress
from wizard.ui import worker as worker_mod


def test_background_call_hands_its_result_to_the_tk_thread(tk_root):
    seen = []
    call = worker_mod.BackgroundCall(
        tk_root,
        lambda: threading.current_thread().name,
        lambda value: seen.append((value, threading.current_thread().name)),
    )
    call.start()
    assert pump(tk_root, until=lambda: seen, timeout=5)
    assert seen == [("consulta", threading.main_thread().name)]


def test_a_cancelled_background_call_never_calls_back(tk_root):
    seen = []
    gate = threading.Event()
    call = worker_mod.BackgroundCall(tk_root, gate.wait, seen.append).start()
    call.cancel()
    gate.set()
    call.thread.join(5)
    pump(tk_root, timeout=0.3)
    assert seen == []


def test_backup_worker_coalesces_progress_and_reports_the_result_on_the_tk_thread(tk_root, monkeypatch):
    from datetime import datetime

    from wizard.core import jobs
    from wizard.core.config import Config

    def fake_run_backup(config, *, trigger, report, cancel):
        for i in range(1000):
            report(Progress("compress", i / 10, f"archivo_{i}", i, 1000))
        now = datetime.now()
        return BackupResult("ok", trigger, now, now, message="listo")

    monkeypatch.setattr(jobs, "run_backup_job", fake_run_backup)
    progress, done = [], []
    job = worker_mod.BackupWorker(
        tk_root,
        Config(),
        trigger="manual",
        on_progress=lambda p: progress.append((p, threading.current_thread().name)),
        on_done=done.append,
    )
    job.start()
    assert pump(tk_root, until=lambda: done, timeout=10)
    assert done[0].message == "listo" and not job.running
    assert all(name == threading.main_thread().name for _p, name in progress)
    assert len(progress) < 100, "a burst of events becomes a few screen updates"
    assert progress[-1][0].current == "archivo_999"


def test_a_crash_in_the_engine_is_logged_and_the_window_shows_a_short_sentence(
    tk_root, open_window, saved_config, monkeypatch, caplog
):
    from wizard.core import jobs

    def broken(*args, **kwargs):
        raise ZeroDivisionError("fallo interno")

    monkeypatch.setattr(jobs, "run_backup_job", broken)
    window = open_window(saved_config)
    window.backup_now()
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=10)
    assert "error inesperado" in window.summary.banner_text
    assert "respaldos.log" in window.summary.banner_text
    assert "ZeroDivisionError" not in window.summary.banner_text
    assert "ZeroDivisionError: fallo interno" in caplog.text
    assert not window.summary.backup_button.instate(["disabled"])
