"""The summary's cloud line in a real Tk window, with real backups uploaded by the real dropbox SDK to the fake
Dropbox: pending while offline, uploaded after the next F8, the upload's progress, "Vuelve a iniciar sesión"
with its button, and the window's own sync at start and every 15 minutes, never beside a backup."""

from __future__ import annotations

import tomllib

from tests.cloud import conftest as cloud_fixtures
from tests.ui.conftest import pump
from wizard.core import config as config_mod
from wizard.core.backup import list_archives

cloud_env = cloud_fixtures.cloud_env  # autouse: CA, BROWSER, keyring file, app key
dropbox_server = cloud_fixtures.dropbox_server
signed_in = cloud_fixtures.signed_in

FOLDER = "/Respaldos"
ACCOUNT = "Lupita Pérez"
FULL_ACCOUNT = "Lupita Pérez (lupita@abarrotes.example)"
LINE = f"Dropbox ({ACCOUNT}) \u2014 "


def with_dropbox(path):
    cfg = config_mod.load(path)
    cfg.cloud.provider, cfg.cloud.folder, cfg.cloud.account = "dropbox", FOLDER, ACCOUNT
    config_mod.save(cfg, path)
    return path


def press_f8(tk_root, window) -> None:
    window.summary.table.focus_force()  # Tk sends key events to the focus widget
    window.summary.table.update()
    window.summary.table.event_generate("<F8>")
    assert window.backup_running
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=120)


def cloud_line(window) -> str:
    return window.summary.cloud_text


def wait_line(tk_root, window, text: str, timeout: float = 60) -> bool:
    return pump(tk_root, until=lambda: cloud_line(window) == text, timeout=timeout)


def uploaded_names(server) -> list[str]:
    return server.names_in(FOLDER)


def make_pending_backup(saved_config, server) -> str:
    """A backup made while Dropbox could not be reached: its upload waits in the queue."""
    from wizard.core.jobs import run_backup_job

    server.stop()
    try:
        result = run_backup_job(config_mod.load(saved_config))
    finally:
        server.start()
    assert result.succeeded and result.cloud.status == "pending", result.cloud
    return result.archive.name


def test_offline_the_line_says_pending_and_after_the_next_f8_both_backups_are_up_with_progress_shown(
    tk_root, open_window, saved_config, usb, dropbox_server, signed_in
):
    with_dropbox(saved_config)
    window = open_window(saved_config, sync_cloud=False)
    assert pump(tk_root, until=lambda: cloud_line(window).startswith(LINE), timeout=20)

    dropbox_server.stop()
    press_f8(tk_root, window)

    assert "Nube: 1 respaldo pendiente de subir (sin conexión)" in window.summary.banner_text
    assert window.summary.banner_text.startswith("Respaldo guardado y verificado")
    assert wait_line(tk_root, window, LINE + "1 respaldo pendiente de subir (sin conexión)")
    assert "warning" in str(window.summary.config_lines["cloud"].cget("style"))

    dropbox_server.start()
    seen = []
    summary = window.summary
    show_progress = summary.show_progress

    def spy(event):
        show_progress(event)
        seen.append((getattr(event, "phase", ""), summary.phase_label.cget("text"), cloud_line(window)))

    summary.show_progress = spy
    press_f8(tk_root, window)

    assert "Nube: 2 respaldos subidos y verificados en Dropbox." in summary.banner_text
    uploads = [s for s in seen if s[0] == "upload"]
    assert uploads, "the upload's progress reaches the summary"
    assert uploads[-1][1] in ("Subiendo a Dropbox (1 de 2)...", "Subiendo a Dropbox (2 de 2)...")
    assert uploads[-1][2] == LINE + "subiendo..."
    assert pump(tk_root, until=lambda: cloud_line(window).startswith(LINE + "al día  ·  última subida: hoy "))
    assert uploaded_names(dropbox_server) == sorted(a.name for a in list_archives(usb))
    assert not summary.progress_box.winfo_manager()


def test_a_revoked_sign_in_says_vuelve_a_iniciar_sesion_and_its_button_signs_in_and_uploads(
    tk_root, open_window, saved_config, usb, dropbox_server, signed_in
):
    with_dropbox(saved_config)
    window = open_window(saved_config, sync_cloud=False)
    dropbox_server.revoke_all()

    press_f8(tk_root, window)

    summary = window.summary
    assert "Vuelve a iniciar sesión con Dropbox." in summary.banner_text
    assert wait_line(tk_root, window, LINE + "Vuelve a iniciar sesión con Dropbox.")
    assert "danger" in str(summary.config_lines["cloud"].cget("style"))
    assert summary.cloud_login.winfo_manager() and summary.cloud_login_button.winfo_manager()
    assert summary.cloud_login_button.cget("text") == "Iniciar sesión con Dropbox"
    assert uploaded_names(dropbox_server) == []

    summary.cloud_login_button.invoke()

    assert summary.cloud_panel.waiting_text == "Esperando al navegador..."
    assert pump(tk_root, until=lambda: cloud_line(window).startswith(f"Dropbox ({FULL_ACCOUNT}) \u2014 al día"),
                timeout=60)
    assert uploaded_names(dropbox_server) == [a.name for a in list_archives(usb)]
    assert tomllib.loads(saved_config.read_text(encoding="utf-8"))["cloud"]["account"] == FULL_ACCOUNT
    assert not window.summary.cloud_login.winfo_manager()


def test_cancelling_the_renewed_sign_in_keeps_the_button_and_the_config(
    tk_root, open_window, saved_config, dropbox_server, monkeypatch
):
    with_dropbox(saved_config)  # an account in the config, but no token on this computer
    before = saved_config.read_bytes()
    monkeypatch.setenv("FAKE_BROWSER_MODE", "ignore")
    window = open_window(saved_config, sync_cloud=False)
    summary = window.summary
    assert wait_line(tk_root, window, LINE + "Vuelve a iniciar sesión con Dropbox.", timeout=20)

    summary.cloud_login_button.invoke()
    assert pump(tk_root, until=lambda: summary.cloud_panel.url, timeout=20)
    summary.cloud_panel.cancel_button.invoke()

    assert summary.cloud_panel.message == "Inicio de sesión cancelado. No se guardó nada."
    assert summary.cloud_login_button.winfo_manager() and summary.cloud_login_button.instate(["!disabled"])
    assert saved_config.read_bytes() == before


def test_uploads_left_pending_go_up_when_the_window_opens(
    tk_root, open_window, saved_config, dropbox_server, signed_in
):
    with_dropbox(saved_config)
    name = make_pending_backup(saved_config, dropbox_server)

    window = open_window(saved_config)

    assert window.sync_worker is None, "not before the window has shown itself"
    assert pump(tk_root, until=lambda: window.sync_worker is not None, timeout=20)
    assert pump(tk_root, until=lambda: cloud_line(window).startswith(LINE + "al día"), timeout=60)
    assert uploaded_names(dropbox_server) == [name]


def test_the_window_retries_pending_uploads_every_period_until_the_connection_is_back(
    tk_root, open_window, saved_config, dropbox_server, signed_in, monkeypatch
):
    from wizard.ui import app

    monkeypatch.setattr(app, "SYNC_START_MS", 50)
    monkeypatch.setattr(app, "SYNC_PERIOD_MS", 300)  # 15 minutes in the product
    with_dropbox(saved_config)
    name = make_pending_backup(saved_config, dropbox_server)
    dropbox_server.stop()

    window = open_window(saved_config)

    assert pump(tk_root, until=lambda: window.summary.cloud_outcome is not None, timeout=60), "a first pass"
    assert window.summary.cloud_outcome.reason == "offline"
    assert wait_line(tk_root, window, LINE + "1 respaldo pendiente de subir (sin conexión)", timeout=20)
    first = window.sync_worker
    dropbox_server.start()
    assert pump(tk_root, until=lambda: cloud_line(window).startswith(LINE + "al día"), timeout=60)
    assert window.sync_worker is not first
    assert uploaded_names(dropbox_server) == [name]


def test_f8_during_a_sync_stops_it_first_and_the_backup_uploads_everything(
    tk_root, open_window, saved_config, usb, dropbox_server, signed_in, monkeypatch
):
    from wizard.core import jobs

    with_dropbox(saved_config)
    make_pending_backup(saved_config, dropbox_server)
    dropbox_server.add_fault("files/upload", "stall", retry_after=2)  # a slow line
    window = open_window(saved_config, sync_cloud=False)
    sync_alive_when_backup_began = []
    real_run_backup = jobs.run_backup_job

    def run_backup(*args, **kwargs):
        sync_alive_when_backup_began.append(window.sync_worker.thread.is_alive())
        return real_run_backup(*args, **kwargs)

    monkeypatch.setattr(jobs, "run_backup_job", run_backup)
    assert window.start_sync()
    assert pump(tk_root, until=lambda: dropbox_server.requests("files/upload"), timeout=30)
    assert window.sync_running

    press_f8(tk_root, window)

    assert window.sync_worker.cancel_event.is_set()
    assert sync_alive_when_backup_began == [False]
    assert window.worker.result.cloud.status == "ok", window.worker.result.cloud
    assert uploaded_names(dropbox_server) == sorted(a.name for a in list_archives(usb))
    assert pump(tk_root, until=lambda: cloud_line(window).startswith(LINE + "al día"), timeout=20)


def test_a_sync_does_not_start_beside_a_backup_nor_without_a_cloud(
    tk_root, open_window, saved_config, dropbox_server, signed_in
):
    window = open_window(saved_config, sync_cloud=False)
    assert not window.start_sync(), "no cloud chosen"
    assert window.summary.cloud_text == "Ninguna"
    window.destroy()

    with_dropbox(saved_config)
    window = open_window(saved_config, sync_cloud=False)
    assert window.backup_now()
    assert not window.start_sync(), "a backup uploads its own archive and whatever is pending"
    assert pump(tk_root, until=lambda: not window.backup_running, timeout=120)
    assert window.sync_worker is None
