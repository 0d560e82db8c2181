"""Signing in to Google through the browser with the real oauth2client/pydrive2 against the fake Google: the
loopback listener, the state check, PKCE, scope drive.file only, offline access, the pasted address when no
browser opens, the OAuth client file, and where the refresh token goes (the keyring, nowhere else)."""

from __future__ import annotations

import html
import json
import logging
import sys
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.cloud.conftest import browser_log
from tests.fakes.drive_server import CLIENT_ID, SCOPE
from wizard.core import secrets
from wizard.core.cloud import NotConfigured
from wizard.core.cloud.google import GoogleDriveProvider
from wizard.core.cloud.google.settings import load_client_config
from wizard.core.cloud.google.signin import authorization_flow
from wizard.core.cloud.oauth import LOOPBACK_PORTS, SignInTimeout
from wizard.core.config import CloudConfig
from wizard.core.errors import Cancelled, UserError

DONE_PAGE = "Listo. Ya puedes cerrar esta pestaña y volver a Respaldos."


def provider() -> GoogleDriveProvider:
    return GoogleDriveProvider(CloudConfig(provider="google_drive"))


def stored_credentials() -> dict | None:
    raw = secrets.get_secret("google_drive")
    return json.loads(raw) if raw else None


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def no_other_browsers(monkeypatch) -> None:
    """Only the test browser counts: without a display, webbrowser finds no X browser (gio, xdg-open)."""
    for var in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(var, raising=False)


def test_sign_in_through_the_browser_keeps_the_refresh_token_in_the_keyring_only(drive_server, cloud_env, caplog,
                                                                                 monkeypatch, tmp_path,
                                                                                 isolated_dirs):
    caplog.set_level(logging.DEBUG)
    monkeypatch.chdir(tmp_path)  # pydrive2's own files (credentials.json, settings.yaml) would land here
    cloud = CloudConfig(provider="google_drive")
    before = CloudConfig(**vars(cloud))

    label = GoogleDriveProvider(cloud).sign_in(timeout=20)

    assert label == "Lupita Pérez (lupita@abarrotes.example)"
    creds = stored_credentials()
    assert creds["client_id"] == CLIENT_ID
    assert drive_server.refresh_tokens[creds["refresh_token"]]["revoked"] is False
    assert cloud == before  # sign_in never touches the config; the caller saves the account label
    # nowhere else: not in the plaintext fallback file, nor in any file of the test's folders or the app's
    assert not secrets.fallback_path().exists()
    written = [p for folder in (tmp_path, isolated_dirs) for p in folder.rglob("*")
               if p.is_file() and p.name != "keyring.json"]
    assert not [p for p in written if creds["refresh_token"] in p.read_text(encoding="utf-8", errors="replace")]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert creds["refresh_token"] not in logged and "4/0-code-" not in logged


def test_the_browser_is_sent_to_google_for_drive_file_only_with_offline_access_pkce_and_a_loopback_redirect(
        drive_server, cloud_env):
    provider().sign_in(timeout=20)

    [opened] = [v["url"] for v in browser_log(cloud_env) if v["text"] == "opened"]
    authorize = query_of(opened)
    assert authorize == drive_server.requests("oauth.authorize")[0]["query"]
    assert authorize["scope"] == SCOPE
    assert authorize["access_type"] == "offline" and authorize["prompt"] == "consent"
    assert authorize["code_challenge_method"] == "S256"
    redirect_uri = urlsplit(authorize["redirect_uri"])
    assert (redirect_uri.scheme, redirect_uri.hostname) == ("http", "127.0.0.1")
    assert redirect_uri.port in LOOPBACK_PORTS
    landed = browser_log(cloud_env)[-1]
    assert landed["url"].startswith(authorize["redirect_uri"])
    assert query_of(landed["url"])["state"] == authorize["state"] and len(authorize["state"]) >= 20
    assert landed["status"] == 200 and DONE_PAGE in landed["text"]


def test_a_redirect_with_another_state_is_refused_and_the_sign_in_goes_on(drive_server, cloud_env, monkeypatch):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "wrong_state_first")

    provider().sign_in(timeout=20)

    redirects = [v for v in browser_log(cloud_env) if v["url"].startswith("http://127.0.0.1")]
    assert [v["status"] for v in redirects] == [400, 200]
    assert "no corresponde al inicio de sesión en curso" in redirects[0]["text"]
    exchanges = [e for e in drive_server.requests("oauth.token") if e["grant_type"] == "authorization_code"]
    assert len(exchanges) == 1
    assert stored_credentials() is not None


def test_sign_in_times_out_and_stores_nothing(drive_server, monkeypatch):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "ignore")

    with pytest.raises(SignInTimeout, match="Se acabó el tiempo"):
        provider().sign_in(timeout=0.5)

    assert stored_credentials() is None


def test_cancel_ends_the_wait_for_the_browser(drive_server, monkeypatch):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "ignore")
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()

    with pytest.raises(Cancelled):
        provider().sign_in(cancel=cancel, timeout=30)

    assert stored_credentials() is None


def test_denying_access_in_the_browser_says_so(drive_server):
    drive_server.deny = True

    with pytest.raises(UserError, match="No se dio permiso a Respaldos en Google"):
        provider().sign_in(timeout=20)

    assert stored_credentials() is None
    assert drive_server.requests("oauth.token") == []


def test_unticking_google_drive_on_the_consent_screen_is_explained_in_the_browser_too(drive_server, cloud_env):
    drive_server.granted_scope = "openid"

    with pytest.raises(UserError, match="deja marcada la casilla de Google Drive") as caught:
        provider().sign_in(timeout=20)

    assert stored_credentials() is None
    [landed] = [v for v in browser_log(cloud_env) if v["url"].startswith("http://127.0.0.1")]
    assert DONE_PAGE not in landed["text"]
    assert str(caught.value) in html.unescape(landed["text"])


def test_without_an_oauth_client_the_sign_in_explains_what_is_missing(drive_server, monkeypatch):
    monkeypatch.delenv("RESPALDOS_GOOGLE_CLIENT_SECRETS")

    with pytest.raises(NotConfigured) as caught:
        provider().sign_in(timeout=5)

    text = str(caught.value)
    assert text.startswith("Falta el cliente OAuth de Google") and "RESPALDOS_GOOGLE_CLIENT_SECRETS" in text
    assert "«Ninguna»" in text
    assert drive_server.requests("oauth.authorize") == []


def test_a_client_file_that_is_not_a_desktop_app_is_explained(drive_server, monkeypatch, tmp_path):
    web = tmp_path / "client_secret_web.json"
    web.write_text(json.dumps({"web": drive_server.client_config()["installed"]}), encoding="utf-8")
    monkeypatch.setenv("RESPALDOS_GOOGLE_CLIENT_SECRETS", str(web))

    with pytest.raises(NotConfigured, match="no es de una «App de escritorio»"):
        provider().sign_in(timeout=5)

    monkeypatch.setenv("RESPALDOS_GOOGLE_CLIENT_SECRETS", str(tmp_path / "missing.json"))
    with pytest.raises(NotConfigured, match="No se encontró el archivo del cliente OAuth de Google"):
        provider().sign_in(timeout=5)


def test_a_frozen_build_takes_the_client_from_its_bundled_vendor_settings(drive_server, monkeypatch, tmp_path):
    (tmp_path / "respaldos-vendor.json").write_text(
        json.dumps({"google_client_config": drive_server.client_config()}), encoding="utf-8")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.delenv("RESPALDOS_GOOGLE_CLIENT_SECRETS")

    assert load_client_config()["client_id"] == CLIENT_ID
    assert provider().sign_in(timeout=20).startswith("Lupita Pérez")


def test_a_client_file_in_the_bundles_assets_is_used_when_nothing_else_is_set(drive_server, monkeypatch,
                                                                              tmp_path):
    (tmp_path / "assets").mkdir()
    drive_server.write_client_secrets(tmp_path / "assets" / "google_client_secrets.json")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.delenv("RESPALDOS_GOOGLE_CLIENT_SECRETS")

    assert load_client_config()["token_uri"] == f"https://{drive_server.host}/token"


def approve_elsewhere(url: str) -> str:
    """What the user does on any browser, on any device: approve, and copy the address it ends up at (nothing
    listens there, so the page does not load)."""
    page = requests.get(url, allow_redirects=False, timeout=10)
    assert page.status_code == 302
    return " " + page.headers["Location"] + "\n"


def test_without_a_browser_the_user_pastes_the_address_the_browser_went_to(drive_server, monkeypatch):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "fail")
    no_other_browsers(monkeypatch)
    asked = []

    def ask_code(url: str) -> str:
        asked.append(url)
        return approve_elsewhere(url)

    label = provider().sign_in(timeout=20, ask_code=ask_code)

    assert label.startswith("Lupita Pérez") and len(asked) == 1
    assert query_of(asked[0])["scope"] == SCOPE
    assert stored_credentials() is not None


def test_a_pasted_address_from_another_sign_in_is_refused(drive_server, monkeypatch):
    earlier = approve_elsewhere(authorization_flow(load_client_config(), f"http://127.0.0.1:{LOOPBACK_PORTS[0]}/")
                                .step1_get_authorize_url(state="an-earlier-attempt"))

    with pytest.raises(UserError, match="no corresponde a este inicio de sesión"):
        provider().sign_in(timeout=20, use_browser=False, ask_code=lambda url: earlier)

    assert stored_credentials() is None
    assert drive_server.requests("oauth.token") == []


def test_without_a_browser_and_no_way_to_ask_the_sentence_says_what_to_do(drive_server, monkeypatch):
    monkeypatch.setenv("FAKE_BROWSER_MODE", "fail")
    no_other_browsers(monkeypatch)

    with pytest.raises(UserError, match="respaldos cloud login google_drive --no-browser"):
        provider().sign_in(timeout=20)


def test_pydrive2_never_writes_its_plaintext_credentials_file(drive_server, cloud_env, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    provider().sign_in(timeout=20)

    written = sorted(p.name for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["browser.log", "keyring.json"]
    assert not secrets.fallback_path().exists()  # the keyring took it: no fallback file either
