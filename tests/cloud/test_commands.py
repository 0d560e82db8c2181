"""The command line, run for real in new processes: ``cloud login dropbox``, ``cloud status``,
``cloud logout`` and ``sync``, including the queue surviving a restart of the app while offline."""

from __future__ import annotations

import json
import re
import signal
import time

import requests

from tests.cloud.cli import respaldos, start
from tests.cloud.helpers import FOLDER, MiB, cloud_config, days_ago, make_archive
from tests.helpers import write_config
from wizard.core import config as config_module
from wizard.core import secrets
from wizard.core.cloud.queue import after_backup, pending, queue_path


def shop_config(tmp_path, provider: str = "dropbox", account: str = "Lupita Pérez") -> tuple:
    dest = tmp_path / "respaldos"
    dest.mkdir(exist_ok=True)
    path = write_config(tmp_path / "respaldos.toml", [tmp_path / "datos"], dest,
                        f'[cloud]\nprovider = "{provider}"\nfolder = "{FOLDER}"\naccount = "{account}"\n')
    return path, dest


def test_cloud_login_opens_the_browser_and_remembers_the_account_in_the_config(dropbox_server, tmp_path):
    path, _dest = shop_config(tmp_path, provider="none", account="")

    result = respaldos("cloud", "login", "dropbox", "--config", str(path))

    assert result.returncode == 0, result.stderr
    assert "Sesión iniciada en Dropbox: Lupita Pérez (lupita@abarrotes.example)" in result.stdout
    saved = config_module.load(path)
    assert (saved.cloud.provider, saved.cloud.account) == ("dropbox", "Lupita Pérez (lupita@abarrotes.example)")
    token = json.loads(secrets.get_secret("dropbox"))["refresh_token"]
    assert token not in path.read_text(encoding="utf-8")


def test_cloud_login_without_a_browser_takes_the_pasted_code(dropbox_server, tmp_path):
    path, _dest = shop_config(tmp_path, provider="none", account="")
    proc = start("cloud", "login", "dropbox", "--no-browser", "--config", str(path))
    url = None
    while url is None:
        line = proc.stdout.readline()
        assert line, proc.stderr.read()
        if line.startswith("https://"):
            url = line.strip()
    code = re.search(r'id="auth-code">([^<]+)<', requests.get(url, timeout=10).text).group(1)

    out, err = proc.communicate(code + "\n", timeout=60)

    assert proc.returncode == 0, err
    assert "Sesión iniciada en Dropbox" in out
    assert config_module.load(path).cloud.provider == "dropbox"


def test_cloud_login_without_an_app_key_explains_and_exits_1(dropbox_server, tmp_path, monkeypatch):
    path, _dest = shop_config(tmp_path, provider="none", account="")
    monkeypatch.delenv("RESPALDOS_DROPBOX_APP_KEY")

    result = respaldos("cloud", "login", "dropbox", "--config", str(path))

    assert result.returncode == 1
    assert "Falta la clave de aplicación de Dropbox" in result.stderr and "Traceback" not in result.stderr
    assert config_module.load(path).cloud.provider == "none"


def test_the_queue_survives_a_restart_offline_and_sync_uploads_it(dropbox_server, signed_in, tmp_path):
    path, dest = shop_config(tmp_path)
    config = config_module.load(path)
    dropbox_server.stop()
    archives = [make_archive(dest, days_ago(n), 2000 + n, seed=n) for n in (1, 0)]
    for archive in archives:
        assert after_backup(config, archive).reason == "offline"

    offline = respaldos("sync", "--config", str(path))  # the app restarted, still offline
    status_offline = respaldos("cloud", "status", "--config", str(path))
    dropbox_server.start()
    online = respaldos("sync", "--config", str(path))  # and again, the connection is back
    status_online = respaldos("cloud", "status", "--config", str(path))

    assert offline.returncode == 1
    assert offline.stderr.strip() == "Nube: 2 respaldos pendientes de subir (sin conexión)"
    assert "Pendientes de subir: 2" in status_offline.stdout
    assert all(a.name in status_offline.stdout for a in archives)
    assert online.returncode == 0, online.stderr
    assert "Nube: 2 respaldos subidos y verificados en Dropbox." in online.stdout
    assert "100%" in online.stdout
    for archive in archives:
        assert dropbox_server.file(f"{FOLDER}/{archive.name}").data == archive.read_bytes()
    assert pending(config) == []
    assert "Pendientes de subir: 0" in status_online.stdout
    assert f"Última subida: {archives[0].name}" in status_online.stdout or \
        f"Última subida: {archives[1].name}" in status_online.stdout


def test_sync_with_a_revoked_sign_in_exits_1_and_says_to_sign_in_again(dropbox_server, signed_in, tmp_path):
    path, dest = shop_config(tmp_path)
    dropbox_server.revoke_all()
    dropbox_server.stop()
    after_backup(config_module.load(path), make_archive(dest, days_ago(0), 1000))
    dropbox_server.start()

    result = respaldos("sync", "--config", str(path))

    assert result.returncode == 1
    assert "Vuelve a iniciar sesión con Dropbox." in result.stderr


def test_sync_with_the_cloud_off_is_a_usage_error(dropbox_server, tmp_path):
    path, _dest = shop_config(tmp_path, provider="none", account="")

    result = respaldos("sync", "--config", str(path))

    assert result.returncode == 2 and "La nube no está activada" in result.stderr


def test_cloud_status_shows_provider_account_folder_and_last_upload(dropbox_server, signed_in, tmp_path):
    path, dest = shop_config(tmp_path)
    after_backup(cloud_config(dest), make_archive(dest, days_ago(0), 1000))

    result = respaldos("cloud", "status", "--config", str(path))

    assert result.returncode == 0
    assert result.stdout.splitlines()[:4] == ["Nube: Dropbox", "Cuenta: Lupita Pérez", f"Carpeta: {FOLDER}",
                                              "Pendientes de subir: 0"]
    assert "Última subida: respaldo_2026-11-28_20-00-00.zip" in result.stdout


def test_cloud_logout_forgets_the_token_revokes_it_and_turns_the_cloud_off(dropbox_server, signed_in, tmp_path):
    path, _dest = shop_config(tmp_path)

    result = respaldos("cloud", "logout", "--config", str(path))

    assert result.returncode == 0, result.stderr
    assert "Se cerró la sesión de Dropbox" in result.stdout
    assert secrets.get_secret("dropbox") is None
    assert dropbox_server.refresh_tokens[signed_in]["revoked"] is True
    saved = config_module.load(path)
    assert (saved.cloud.provider, saved.cloud.account) == ("none", "")


def test_sync_killed_mid_upload_resumes_in_the_next_process_without_a_new_session(dropbox_server, signed_in,
                                                                                   tmp_path):
    path, dest = shop_config(tmp_path)
    config = config_module.load(path)
    archive = make_archive(dest, days_ago(0), 21 * MiB, seed=21)
    dropbox_server.stop()
    after_backup(config, archive)
    dropbox_server.start()
    dropbox_server.add_fault("files/upload_session/append_v2", "stall", skip=1, retry_after=3)

    proc = start("sync", "--config", str(path))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        items = json.loads(queue_path().read_text(encoding="utf-8"))["items"]
        if items and (items[0].get("resume") or {}).get("offset", 0) >= 8 * MiB:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=10)
    saved = pending(config)[0].resume

    result = respaldos("sync", "--config", str(path))

    assert saved["offset"] >= 8 * MiB
    assert result.returncode == 0, result.stderr
    assert dropbox_server.file(f"{FOLDER}/{archive.name}").data == archive.read_bytes()
    assert len(dropbox_server.requests("files/upload_session/start")) == 1
