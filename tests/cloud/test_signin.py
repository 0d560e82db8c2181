"""Signing in to Dropbox through the browser: PKCE, the loopback listener, the state check, the fallback
to a pasted code, and where the refresh token goes (the keyring, nowhere else)."""

from __future__ import annotations

import html
import json
import logging
import re
import sys
import threading
import types

import pytest
import requests

from tests.cloud.conftest import browser_log
from tests.fakes.dropbox_server import APP_KEY
from wizard.core import secrets
from wizard.core.cloud import NotConfigured
from wizard.core.cloud.dropbox import DropboxProvider, resolve_app_key
from wizard.core.cloud.oauth import LOOPBACK_PORTS, SignInTimeout
from wizard.core.config import CloudConfig
from wizard.core.errors import Cancelled, UserError

DONE_PAGE = "Listo. Ya puedes cerrar esta pestaña y volver a Respaldos."


def stored_credentials() -> dict | None:
    raw = secrets.get_secret("dropbox")
    return json.loads(raw) if raw else None


def test_sign_in_through_the_browser_stores_the_refresh_token_in_the_keyring(dropbox_server, cloud_env, caplog,
                                                                            isolated_dirs):
    caplog.set_level(logging.DEBUG)
    cloud = CloudConfig(provider="dropbox")
    before = CloudConfig(**vars(cloud))

    label = DropboxProvider(cloud).sign_in(timeout=20)

    assert label == "Lupita Pérez (lupita@abarrotes.example)"
    creds = stored_credentials()
    assert creds["app_key"] == APP_KEY
    assert dropbox_server.refresh_tokens[creds["refresh_token"]]["revoked"] is False
    assert cloud == before  # sign_in never touches the config; the caller saves the account label
    visits = browser_log(cloud_env)
    authorize = next(v for v in visits if "/oauth2/authorize" in v["url"] and v["status"] == 302)
    assert "code_challenge_method=S256" in authorize["url"] and "token_access_type=offline" in authorize["url"]
    redirect = visits[-1]
    assert re.match(r"http://127\.0\.0\.1:(\d+)/\?code=", redirect["url"])
    assert int(redirect["url"].split(":")[2].split("/")[0]) in LOOPBACK_PORTS
    assert redirect["status"] == 200 and DONE_PAGE in redirect["text"]
    # nowhere else: not in the plaintext fallback file, nor in any file of the test's folders or the app's
    assert not secrets.fallback_path().exists()
    written = [p for folder in (cloud_env, isolated_dirs) for p in folder.rglob("*")
               if p.is_file() and p.name != "keyring.json"]
    assert not [p for p in written if creds["refresh_token"] in p.read_text(encoding="utf-8", errors="replace")]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert creds["refresh_token"] not in logged
    assert "code-" not in logged


def test_a_redirect_with_another_state_is_refused_and_the_sign_in_goes_on(dropbox_server, cloud_env, monkeypatch):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "wrong_state_first")

    DropboxProvider(CloudConfig(provider="dropbox")).sign_in(timeout=20)

    redirects = [v for v in browser_log(cloud_env) if v["url"].startswith("http://127.0.0.1")]
    assert [v["status"] for v in redirects] == [400, 200]
    assert "no corresponde al inicio de sesión en curso" in redirects[0]["text"]
    assert DONE_PAGE in redirects[1]["text"]
    assert len([e for e in dropbox_server.requests("oauth2/token")
                if e["grant_type"] == "authorization_code"]) == 1
    assert stored_credentials() is not None


def test_sign_in_times_out_and_stores_nothing(dropbox_server, monkeypatch):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "ignore")

    with pytest.raises(SignInTimeout, match="Se acabó el tiempo"):
        DropboxProvider(CloudConfig(provider="dropbox")).sign_in(timeout=0.5)

    assert stored_credentials() is None


def test_cancel_ends_the_wait_for_the_browser(dropbox_server, monkeypatch):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "ignore")
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()

    with pytest.raises(Cancelled):
        DropboxProvider(CloudConfig(provider="dropbox")).sign_in(cancel=cancel, timeout=30)

    assert stored_credentials() is None


def test_the_loopback_port_is_free_again_after_a_sign_in(dropbox_server, monkeypatch):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "ignore")
    for _ in range(2):
        with pytest.raises(SignInTimeout):
            DropboxProvider(CloudConfig(provider="dropbox")).sign_in(timeout=0.2)
    monkeypatch.setenv("FAKE_BROWSER_MODE", "approve")
    assert DropboxProvider(CloudConfig(provider="dropbox")).sign_in(timeout=20)


def landing_page(tmp_path) -> dict:
    """The browser's visit to the loopback redirect: the page the user sees at the end of the sign-in."""
    [landed] = [v for v in browser_log(tmp_path) if v["url"].startswith("http://127.0.0.1")]
    return landed


def test_denying_access_in_the_browser_says_so_there_and_in_the_app(dropbox_server, cloud_env):
    dropbox_server.deny = True

    with pytest.raises(UserError, match="No se dio permiso a Respaldos en Dropbox"):
        DropboxProvider(CloudConfig(provider="dropbox")).sign_in(timeout=20)

    assert stored_credentials() is None
    assert "No se dio permiso a Respaldos en Dropbox" in landing_page(cloud_env)["text"]


def test_the_browser_says_done_only_once_the_code_was_exchanged(dropbox_server, cloud_env):
    dropbox_server.add_fault("oauth2/token", "500")

    with pytest.raises(UserError, match="Dropbox no aceptó el código de inicio de sesión") as caught:
        DropboxProvider(CloudConfig(provider="dropbox")).sign_in(timeout=20)

    page = landing_page(cloud_env)
    assert DONE_PAGE not in page["text"]
    assert "No se conectó la cuenta" in page["text"] and str(caught.value) in html.unescape(page["text"])
    assert stored_credentials() is None


def no_other_browsers(monkeypatch) -> None:
    """Only the test browser counts: without a display, webbrowser finds no X browser (gio, xdg-open)."""
    for var in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)


def test_without_a_browser_the_user_pastes_the_code_dropbox_shows(dropbox_server, cloud_env, monkeypatch):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "fail")
    no_other_browsers(monkeypatch)
    asked = []

    def ask_code(url: str) -> str:
        asked.append(url)
        assert "redirect_uri" not in url
        page = requests.get(url, timeout=10)  # what the user does in any browser, on any device
        return " " + re.search(r'id="auth-code">([^<]+)<', page.text).group(1) + "\n"

    label = DropboxProvider(CloudConfig(provider="dropbox")).sign_in(timeout=20, ask_code=ask_code)

    assert label.startswith("Lupita Pérez") and len(asked) == 1
    assert stored_credentials() is not None


def test_without_a_browser_and_no_way_to_ask_for_a_code_the_sentence_says_what_to_do(dropbox_server, monkeypatch):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "fail")
    no_other_browsers(monkeypatch)

    with pytest.raises(UserError, match="respaldos cloud login dropbox --no-browser"):
        DropboxProvider(CloudConfig(provider="dropbox")).sign_in(timeout=20)


def test_without_an_app_key_the_sign_in_explains_what_is_missing(dropbox_server, monkeypatch):
    monkeypatch.delenv("RESPALDOS_DROPBOX_APP_KEY")

    with pytest.raises(NotConfigured) as caught:
        DropboxProvider(CloudConfig(provider="dropbox")).sign_in(timeout=5)

    assert "dropbox_app_key" in str(caught.value) and "RESPALDOS_DROPBOX_APP_KEY" in str(caught.value)
    assert dropbox_server.requests("oauth2/authorize") == []


def test_the_app_key_comes_from_the_environment_then_the_config_then_the_build(monkeypatch, tmp_path):
    (tmp_path / "respaldos-vendor.json").write_text(json.dumps({"dropbox_app_key": " from-the-build "}),
                                                    encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)  # what a one-file executable sets
    monkeypatch.setenv("RESPALDOS_DROPBOX_APP_KEY", "from-env")
    assert resolve_app_key(CloudConfig(dropbox_app_key="from-config")) == "from-env"
    monkeypatch.delenv("RESPALDOS_DROPBOX_APP_KEY")
    assert resolve_app_key(CloudConfig(dropbox_app_key="from-config")) == "from-config"
    assert resolve_app_key(CloudConfig()) == "from-the-build"


def test_only_the_bundled_vendor_file_carries_a_build_s_app_key(monkeypatch):
    # No build writes a Python module with the key: an importable one must not be a way in.
    planted = types.ModuleType("wizard.core.cloud._baked")
    planted.DROPBOX_APP_KEY = "planted"
    monkeypatch.setitem(sys.modules, "wizard.core.cloud._baked", planted)
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    monkeypatch.delenv("RESPALDOS_DROPBOX_APP_KEY")

    with pytest.raises(NotConfigured):
        resolve_app_key(CloudConfig())

