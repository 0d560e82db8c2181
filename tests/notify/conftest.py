"""Real servers on 127.0.0.1 for the notices: an SMTP server (aiosmtpd) with STARTTLS or implicit TLS and
AUTH, a fake Telegram Bot API over HTTPS, a Healthchecks-style ping endpoint over HTTP.

The product trusts the test CA only through OpenSSL's own SSL_CERT_FILE (SSL_CERT_DIR is emptied), exactly
as it would trust a company's CA on a real computer; the Bot API is reached through RESPALDOS_TELEGRAM_API.
Every test gets its own keyring file (a real keyring backend class, so the CLI in a subprocess sees it) and
waits, at its end, for the notices thread to finish what the test started.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import trustme

from tests.fakes.mail_server import PASSWORD, USER, FakeMailServer
from tests.fakes.notice_servers import BOT_TOKEN, CHAT_ID, PING_CODE, FakeBotApi, FakePingServer
from tests.helpers import make_sales_db, write_config

_WORK = Path(tempfile.mkdtemp(prefix="respaldos-avisos-"))
CA = trustme.CA()
CA_FILE = _WORK / "ca.pem"
CA.cert_pem.write_to_path(str(CA_FILE))
EMPTY_CERT_DIR = _WORK / "certs"
EMPTY_CERT_DIR.mkdir()
OWNER = "dueno@ejemplo.mx"
MACHINE = "Caja 1"


@atexit.register
def _cleanup() -> None:
    shutil.rmtree(_WORK, ignore_errors=True)


@pytest.fixture(autouse=True)
def notice_env(monkeypatch, tmp_path):
    import keyring

    from tests.fakes.keyring_backend import FileKeyring
    from wizard.core import notify

    monkeypatch.setenv("SSL_CERT_FILE", str(CA_FILE))
    monkeypatch.setenv("SSL_CERT_DIR", str(EMPTY_CERT_DIR))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("FAKE_KEYRING_FILE", str(tmp_path / "keyring.json"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.fakes.keyring_backend.FileKeyring")
    monkeypatch.delenv("RESPALDOS_TELEGRAM_API", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring())
    yield tmp_path
    assert notify.wait(30), "the notices thread did not finish"
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True)
def no_secret_is_logged(caplog):
    """Whatever a test does, no password, bot token or ping code reaches the app's log records."""
    import logging

    caplog.set_level(logging.DEBUG, logger="wizard")
    yield
    from wizard.core import notify

    notify.wait(30)
    records = caplog.get_records("setup") + caplog.get_records("call") + caplog.records
    leaked = [r.getMessage() for r in records if r.name.startswith("wizard")
              and any(secret in r.getMessage() for secret in (PASSWORD, BOT_TOKEN, PING_CODE))]
    assert not leaked, leaked


@pytest.fixture
def mail_server():
    """STARTTLS on its own port, AUTH only after it, one user (USER / PASSWORD)."""
    server = FakeMailServer(CA).start()
    yield server
    server.stop()


@pytest.fixture
def tls_mail_server():
    """Implicit TLS (as on port 465) on another port."""
    server = FakeMailServer(CA, implicit_tls=True).start()
    yield server
    server.stop()


@pytest.fixture
def bot_api(monkeypatch):
    server = FakeBotApi(CA)
    monkeypatch.setenv("RESPALDOS_TELEGRAM_API", server.base)
    yield server
    server.stop()


@pytest.fixture
def ping_server():
    server = FakePingServer()
    yield server
    server.stop()


@pytest.fixture
def smtp_password():
    from wizard.core import notify

    notify.set_password("smtp", PASSWORD)
    return PASSWORD


@pytest.fixture
def bot_token():
    from wizard.core import notify

    notify.set_password("telegram", BOT_TOKEN)
    return BOT_TOKEN


def email_block(server: FakeMailServer, *, security: str = "starttls", events: str = '["failure", "overdue"]') -> str:
    return (f'on = {events}\nemail_to = ["{OWNER}"]\nsmtp_host = "127.0.0.1"\nsmtp_port = {server.port}\n'
            f'smtp_security = "{security}"\nsmtp_user = "{USER}"\n')


def telegram_block(chat: str = CHAT_ID, events: str = '["failure", "overdue"]') -> str:
    return f'on = {events}\ntelegram_chat_id = "{chat}"\n'


def shop(tmp_path: Path, notify_block: str, *, dest_exists: bool = True, schedule: str = "") -> Path:
    """A POS folder with a small database, a destination (or a missing USB folder) and a config with this
    [notify] block and [machine] name = "Caja 1"; returns the config path."""
    source = tmp_path / "pos"
    source.mkdir(exist_ok=True)
    make_sales_db(source / "ventas.db", rows=50)
    dest = tmp_path / "usb" / "Respaldos"
    if dest_exists:
        dest.mkdir(parents=True, exist_ok=True)
    extra = f'[machine]\nname = "{MACHINE}"\n{schedule}[notify]\n{notify_block}'
    return write_config(tmp_path / "respaldos.toml", [source], dest, extra)
