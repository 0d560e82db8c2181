"""The fake Dropbox and the fake Google Drive for every cloud test, reached only the way any server would be.

The dropbox SDK reads DROPBOX_API_HOST, DROPBOX_API_CONTENT_HOST and DROPBOX_WEB_HOST once, when it is
imported, so the fake server starts and those variables are set here, at import time of this conftest,
before any test module imports the SDK. The server keeps its port across stop/start (the product's
hosts cannot change afterwards). Each test gets a clean server, its own keyring file (a real keyring
backend class, so subprocesses see it too), and the test browser through BROWSER.

The fake Google Drive (tests/fakes/drive_server.py) is reached through RESPALDOS_GOOGLE_API_ENDPOINT, an
OAuth client file named by RESPALDOS_GOOGLE_CLIENT_SECRETS (auth, token and revoke URIs on the fake) and the
CA in HTTPLIB2_CA_CERTS; httplib2 reads that variable only when imported, so in this process its CA_CERTS
is set too.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import stat
import sys
import tempfile
import webbrowser
from pathlib import Path

import pytest
import trustme

from tests.fakes.drive_server import FakeDrive
from tests.fakes.dropbox_server import APP_KEY, FakeDropbox
from tests.helpers import ROOT
from wizard.core.cloud.oauth import LOOPBACK_PORTS

if "dropbox" in sys.modules:
    raise RuntimeError("the dropbox SDK was imported before tests/cloud/conftest.py could point it at the fake "
                       "server (it reads DROPBOX_API_HOST at import); import it lazily in other tests")

_WORK = Path(tempfile.mkdtemp(prefix="respaldos-fake-dropbox-"))
CA = trustme.CA()
CA_FILE = _WORK / "ca.pem"
CA.cert_pem.write_to_path(str(CA_FILE))
SERVER = FakeDropbox(CA, [f"http://127.0.0.1:{port}/" for port in LOOPBACK_PORTS])
SERVER.start()
GOOGLE = FakeDrive(CA)
GOOGLE.start()
GOOGLE_CLIENT_FILE = GOOGLE.write_client_secrets(_WORK / "google_client_secrets.json")
if sys.platform == "win32":
    # Windows runs no shell script, and a .cmd would let cmd.exe split the URL at "&": an .exe launcher,
    # made the way pip makes console scripts (distlib), runs tests.fakes.browser with this Python.
    from pip._vendor.distlib.scripts import ScriptMaker

    _maker = ScriptMaker(None, str(_WORK))
    _maker.executable = sys.executable
    _maker.variants = {""}
    BROWSER_EXE = Path(_maker.make("respaldos-test-browser = tests.fakes.browser:cli")[0])
else:
    BROWSER_EXE = _WORK / "browser"
    BROWSER_EXE.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{ROOT / "tests" / "fakes" / "browser.py"}" "$@"\n')
    BROWSER_EXE.chmod(BROWSER_EXE.stat().st_mode | stat.S_IXUSR)

for _var in ("DROPBOX_API_HOST", "DROPBOX_API_CONTENT_HOST", "DROPBOX_WEB_HOST"):
    os.environ[_var] = SERVER.host


@atexit.register
def _cleanup() -> None:
    SERVER.stop()
    GOOGLE.stop()
    shutil.rmtree(_WORK, ignore_errors=True)


@pytest.fixture(autouse=True)
def cloud_env(monkeypatch, tmp_path):
    """CA, browser, keyring and app key for this test; webbrowser re-reads BROWSER."""
    import keyring

    from tests.fakes.keyring_backend import FileKeyring

    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(CA_FILE))
    monkeypatch.setenv("CURL_CA_BUNDLE", str(CA_FILE))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("BROWSER", str(BROWSER_EXE))
    # the browser (and the CLI) in a subprocess import tests.fakes from this checkout
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    monkeypatch.setenv("FAKE_BROWSER_LOG", str(tmp_path / "browser.log"))
    monkeypatch.delenv("FAKE_BROWSER_MODE", raising=False)
    monkeypatch.setenv("FAKE_KEYRING_FILE", str(tmp_path / "keyring.json"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.fakes.keyring_backend.FileKeyring")
    monkeypatch.setenv("RESPALDOS_DROPBOX_APP_KEY", APP_KEY)
    # webbrowser caches its browser list on first use; make it read this BROWSER
    monkeypatch.setattr(webbrowser, "_tryorder", None, raising=False)
    monkeypatch.setattr(webbrowser, "_browsers", {}, raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())
    yield tmp_path
    keyring.set_keyring(previous)


@pytest.fixture
def dropbox_server():
    """The fake Dropbox, running, with no files, tokens or faults."""
    SERVER.start()
    SERVER.reset()
    yield SERVER
    SERVER.start()


@pytest.fixture
def signed_in(dropbox_server):
    """Credentials for the fake account stored as a real sign-in stores them; returns the refresh token."""
    from wizard.core import secrets

    token = dropbox_server.issue_refresh_token()
    secrets.set_secret("dropbox", json.dumps({"refresh_token": token, "app_key": APP_KEY,
                                              "account_id": "dbid:test"}))
    return token


@pytest.fixture(autouse=True)
def google_env(monkeypatch):
    """The fake Google Drive's OAuth client file, API endpoint and CA for this test and its subprocesses."""
    import httplib2

    monkeypatch.setenv("RESPALDOS_GOOGLE_CLIENT_SECRETS", str(GOOGLE_CLIENT_FILE))
    monkeypatch.setenv("RESPALDOS_GOOGLE_API_ENDPOINT", GOOGLE.api_endpoint)
    monkeypatch.setenv("HTTPLIB2_CA_CERTS", str(CA_FILE))
    monkeypatch.setattr(httplib2, "CA_CERTS", str(CA_FILE))


@pytest.fixture
def drive_server():
    """The fake Google Drive, running, with no files, tokens or faults."""
    GOOGLE.start()
    GOOGLE.reset()
    yield GOOGLE
    GOOGLE.start()


@pytest.fixture
def google_signed_in(drive_server):
    """Credentials for the fake Google account stored as a real sign-in stores them (oauth2client's JSON in the
    keyring); returns the refresh token."""
    from oauth2client.client import OAuth2Credentials

    from wizard.core import secrets

    token = drive_server.issue_refresh_token()
    client = drive_server.client_config()["installed"]
    credentials = OAuth2Credentials(None, client["client_id"], client["client_secret"], token, None,
                                    client["token_uri"], "Respaldos-test", revoke_uri=client["revoke_uri"])
    secrets.set_secret("google_drive", credentials.to_json())
    return token


def browser_log(tmp_path: Path) -> list[dict]:
    path = tmp_path / "browser.log"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
