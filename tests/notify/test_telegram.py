"""Telegram notices: the real ``urllib`` against a fake Bot API over HTTPS (RESPALDOS_TELEGRAM_API, a trustme
certificate trusted through SSL_CERT_FILE)."""

from __future__ import annotations

import logging

from tests.fakes.notice_servers import BOT_TOKEN, CHAT_ID
from tests.notify.conftest import MACHINE, shop, telegram_block
from tests.notify.test_email import run_cli
from wizard.core import config as config_mod
from wizard.core import history, notify
from wizard.core.jobs import run_backup_job
from wizard.core.logsetup import log_file


def test_a_failed_backup_reaches_the_chat_through_send_message(tmp_path, bot_api, bot_token, caplog):
    caplog.set_level(logging.DEBUG)
    cfg = config_mod.load(shop(tmp_path, telegram_block(), dest_exists=False))

    run_backup_job(cfg)
    assert notify.wait(30)

    [sent] = bot_api.sent
    assert sent["chat_id"] == int(CHAT_ID)
    assert sent["text"].startswith(f"{MACHINE}: no se encontró la carpeta ")
    assert "Conecta la memoria USB o elige otra carpeta." in sent["text"]
    assert [r.method for r in bot_api.requests] == ["POST"]
    assert BOT_TOKEN not in caplog.text
    assert BOT_TOKEN not in history.history_path().read_text(encoding="utf-8")


def test_notify_test_names_a_chat_that_does_not_exist(tmp_path, bot_api, bot_token):
    config_path = shop(tmp_path, telegram_block(chat="555"))

    proc = run_cli("--config", str(config_path), "notify", "test")

    assert proc.returncode == 1
    assert proc.stdout.strip() == ("Telegram a chat 555: no se pudo enviar: no se encontró el chat 555: escríbele algo "
                                   "al bot desde ese chat primero, o revisa telegram_chat_id")
    assert BOT_TOKEN not in log_file().read_text(encoding="utf-8") + proc.stdout + proc.stderr


def test_notify_test_says_when_the_token_is_wrong(tmp_path, bot_api):
    notify.set_password("telegram", "111111111:AAThisIsNotTheBotsTokenAtAll_xyz")
    cfg = config_mod.load(shop(tmp_path, telegram_block()))

    [result] = notify.send_test(cfg)

    assert not result.ok and result.message.startswith("Telegram no reconoce el token del bot")
    assert bot_api.sent == []


def test_without_a_token_the_reason_says_how_to_store_one(tmp_path, bot_api):
    cfg = config_mod.load(shop(tmp_path, telegram_block()))

    [result] = notify.send_test(cfg)

    assert not result.ok and "respaldos notify password telegram" in result.message
    assert bot_api.requests == []


def test_the_bot_token_is_read_from_standard_input_and_kept_in_the_keyring(tmp_path):
    proc = run_cli("notify", "password", "telegram", stdin=BOT_TOKEN + "\n")

    assert proc.returncode == 0, proc.stderr
    assert "guardado" in proc.stdout and BOT_TOKEN not in proc.stdout
    assert notify.has_password("telegram")
    from wizard.core import secrets

    assert secrets.get_secret("avisos:telegram") == BOT_TOKEN


def test_something_that_is_not_a_bot_token_is_refused(tmp_path):
    proc = run_cli("notify", "password", "telegram", stdin="hola\n")

    assert proc.returncode == 1
    assert "no parece el token de un bot" in proc.stderr
    assert not notify.has_password("telegram")
