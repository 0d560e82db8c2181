"""The command line with Google Drive, run for real in new processes: ``cloud login google_drive``,
``cloud status``, ``cloud logout``, ``sync`` across a restart while offline, and ``respaldos backup`` end to
end; the refresh token never reaches the config or the log."""

from __future__ import annotations

import json
import re
import signal
import time

import requests

from tests.cloud.cli import respaldos, start
from tests.cloud.helpers import FOLDER, MiB, days_ago, make_archive
from tests.helpers import make_sales_db, write_config
from wizard.core import config as config_module
from wizard.core import secrets
from wizard.core.backup import list_archives
from wizard.core.cloud.google.folders import FOLDER_STATE_FILE
from wizard.core.cloud.google.settings import CHUNK_SIZE
from wizard.core.cloud.queue import after_backup, pending, queue_path
from wizard.core.logsetup import log_file
from wizard.core.paths import data_dir

ACCOUNT = "Lupita Pérez (lupita@abarrotes.example)"


def shop_config(tmp_path, provider: str = "google_drive", account: str = "Lupita Pérez") -> tuple:
    data = tmp_path / "datos"
    data.mkdir(exist_ok=True)
    make_sales_db(data / "punto_de_venta.db", rows=500)
    dest = tmp_path / "respaldos"
    dest.mkdir(exist_ok=True)
    path = write_config(tmp_path / "respaldos.toml", [data], dest,
                        f'[cloud]\nprovider = "{provider}"\nfolder = "{FOLDER}"\naccount = "{account}"\n')
    return path, dest


def refresh_token() -> str:
    return json.loads(secrets.get_secret("google_drive"))["refresh_token"]


def test_cloud_login_google_drive_opens_the_browser_and_remembers_the_account(drive_server, tmp_path):
    path, _dest = shop_config(tmp_path, provider="none", account="")

    result = respaldos("cloud", "login", "google_drive", "--config", str(path))

    assert result.returncode == 0, result.stderr
    assert f"Sesión iniciada en Google Drive: {ACCOUNT}. Cada respaldo se subirá también a {FOLDER}." in result.stdout
    saved = config_module.load(path)
    assert (saved.cloud.provider, saved.cloud.account) == ("google_drive", ACCOUNT)
    token = refresh_token()
    assert drive_server.refresh_tokens[token]["revoked"] is False
    assert token not in path.read_text(encoding="utf-8")
    assert token not in log_file().read_text(encoding="utf-8")
    assert "Google sign-in complete" in log_file().read_text(encoding="utf-8")


def test_cloud_login_without_a_browser_takes_the_pasted_address(drive_server, tmp_path):
    path, _dest = shop_config(tmp_path, provider="none", account="")
    proc = start("cloud", "login", "google_drive", "--no-browser", "--config", str(path))
    out = []
    url = None
    while url is None:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        out.append(line)
        if line.startswith("https://"):
            url = line.strip()
    landed = requests.get(url, allow_redirects=False, timeout=10).headers["Location"]

    stdout, stderr = proc.communicate(landed + "\n", timeout=60)

    assert proc.returncode == 0, stderr
    assert "cópiala completa de la barra de direcciones y pégala aquí" in "".join(out)
    assert re.match(r"http://127\.0\.0\.1:\d+/\?", landed)
    assert "Sesión iniciada en Google Drive" in stdout
    assert config_module.load(path).cloud.provider == "google_drive"


def test_cloud_login_without_an_oauth_client_explains_and_exits_1(drive_server, tmp_path, monkeypatch):
    path, _dest = shop_config(tmp_path, provider="none", account="")
    monkeypatch.delenv("RESPALDOS_GOOGLE_CLIENT_SECRETS")

    result = respaldos("cloud", "login", "google_drive", "--config", str(path))

    assert result.returncode == 1
    assert result.stderr.startswith("Falta el cliente OAuth de Google") and "Traceback" not in result.stderr
    assert config_module.load(path).cloud.provider == "none"


def test_cloud_status_shows_google_drive_the_account_and_the_last_upload(drive_server, google_signed_in,
                                                                        tmp_path):
    path, dest = shop_config(tmp_path)
    after_backup(config_module.load(path), make_archive(dest, days_ago(0), 1000))

    result = respaldos("cloud", "status", "--config", str(path))

    assert result.returncode == 0
    assert result.stdout.splitlines()[:4] == ["Nube: Google Drive", "Cuenta: Lupita Pérez", f"Carpeta: {FOLDER}",
                                              "Pendientes de subir: 0"]
    assert "Última subida: respaldo_2026-11-28_20-00-00.zip" in result.stdout


def test_cloud_logout_revokes_the_token_forgets_it_and_the_folder_and_turns_the_cloud_off(
        drive_server, google_signed_in, tmp_path):
    path, dest = shop_config(tmp_path)
    after_backup(config_module.load(path), make_archive(dest, days_ago(0), 1000))
    assert (data_dir() / FOLDER_STATE_FILE).exists()

    result = respaldos("cloud", "logout", "--config", str(path))

    assert result.returncode == 0, result.stderr
    assert "Se cerró la sesión de Google Drive" in result.stdout
    assert secrets.get_secret("google_drive") is None
    assert drive_server.refresh_tokens[google_signed_in]["revoked"] is True
    assert not (data_dir() / FOLDER_STATE_FILE).exists()
    saved = config_module.load(path)
    assert (saved.cloud.provider, saved.cloud.account) == ("none", "")
    status = respaldos("cloud", "status", "--config", str(path))
    assert status.stdout.startswith("Nube: ninguna")


def test_the_queue_survives_a_restart_offline_and_sync_uploads_it(drive_server, google_signed_in, tmp_path):
    path, dest = shop_config(tmp_path)
    config = config_module.load(path)
    drive_server.stop()
    archives = [make_archive(dest, days_ago(n), 2000 + n, seed=n) for n in (1, 0)]
    for archive in archives:
        assert after_backup(config, archive).reason == "offline"

    offline = respaldos("sync", "--config", str(path))  # the app restarted, still offline
    drive_server.start()
    online = respaldos("sync", "--config", str(path))  # and again, the connection is back

    assert offline.returncode == 1
    assert offline.stderr.strip() == "Nube: 2 respaldos pendientes de subir (sin conexión)"
    assert online.returncode == 0, online.stderr
    assert "Nube: 2 respaldos subidos y verificados en Google Drive." in online.stdout
    for archive in archives:
        assert drive_server.file(archive.name).data == archive.read_bytes()
    assert pending(config) == []


def test_sync_with_a_revoked_sign_in_exits_1_and_says_to_sign_in_with_google_again(drive_server, google_signed_in,
                                                                                   tmp_path):
    path, dest = shop_config(tmp_path)
    drive_server.stop()
    after_backup(config_module.load(path), make_archive(dest, days_ago(0), 1000))
    drive_server.start()
    drive_server.revoke_all()

    result = respaldos("sync", "--config", str(path))

    assert result.returncode == 1
    assert result.stderr.strip() == "Nube: 1 respaldo pendiente de subir. Vuelve a iniciar sesión con Google."


def test_a_backup_lands_verified_in_google_drive(drive_server, google_signed_in, tmp_path):
    path, dest = shop_config(tmp_path)

    result = respaldos("backup", "--config", str(path))

    assert result.returncode == 0, result.stderr
    archive = list_archives(dest)[0]
    assert "Nube: 1 respaldo subido y verificado en Google Drive." in result.stdout
    assert drive_server.file(archive.name).data == archive.path.read_bytes()
    logged = log_file().read_text(encoding="utf-8")
    assert "uploaded respaldo_" in logged and "md5 verified" in logged
    assert google_signed_in not in logged and "ya29." not in logged and "upload_id" not in logged
    assert google_signed_in not in path.read_text(encoding="utf-8")


def test_with_google_revoked_the_local_backup_still_succeeds_and_asks_to_sign_in_again(drive_server,
                                                                                       google_signed_in, tmp_path):
    path, dest = shop_config(tmp_path)
    drive_server.revoke_all()

    result = respaldos("backup", "--config", str(path))

    assert result.returncode == 0, result.stderr
    assert len(list_archives(dest)) == 1
    assert "Nube: 1 respaldo pendiente de subir. Vuelve a iniciar sesión con Google." in result.stderr


def test_sync_killed_mid_upload_continues_the_same_session_in_the_next_process(drive_server, google_signed_in,
                                                                              tmp_path):
    path, dest = shop_config(tmp_path)
    config = config_module.load(path)
    archive = make_archive(dest, days_ago(0), 3 * CHUNK_SIZE + MiB, seed=21)
    drive_server.stop()
    after_backup(config, archive)
    drive_server.start()
    drive_server.add_fault("upload.chunk", "stall", skip=2, retry_after=3)

    proc = start("sync", "--config", str(path))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        items = json.loads(queue_path().read_text(encoding="utf-8"))["items"]
        if items and (items[0].get("resume") or {}).get("offset", 0) >= 2 * CHUNK_SIZE:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    saved = pending(config)[0].resume

    result = respaldos("sync", "--config", str(path))

    assert saved["offset"] == 2 * CHUNK_SIZE and saved["provider"] == "google_drive"
    assert result.returncode == 0, result.stderr
    assert drive_server.file(archive.name).data == archive.read_bytes()
    assert len(drive_server.requests("upload.start")) == 1
    assert drive_server.requests("upload.status")[0]["received"] >= 2 * CHUNK_SIZE
