"""The dead-man's switch: Healthchecks-style pings to a small local HTTP server, in order, from real backups."""

from __future__ import annotations

import logging

from tests.fakes.notice_servers import PING_CODE
from tests.notify.conftest import shop
from wizard.core import config as config_mod
from wizard.core import history, notify
from wizard.core.jobs import run_backup_job


def ping_block(url: str) -> str:
    return f'ping_url = "{url}"\n'


def test_a_successful_backup_pings_start_then_success(tmp_path, ping_server, caplog):
    caplog.set_level(logging.DEBUG)
    cfg = config_mod.load(shop(tmp_path, ping_block(ping_server.url)))

    result = run_backup_job(cfg)
    assert notify.wait(30)

    assert result.status == "ok"
    assert ping_server.signals() == ["start", "success"]
    assert ping_server.hits[1].body.decode().startswith("Respaldo guardado y verificado: ")
    assert PING_CODE not in caplog.text
    assert PING_CODE not in history.history_path().read_text(encoding="utf-8")
    assert f"ping success sent to http://127.0.0.1:{ping_server.port}/…" in caplog.text


def test_a_failed_backup_pings_start_then_fail_with_the_reason(tmp_path, ping_server):
    cfg = config_mod.load(shop(tmp_path, ping_block(ping_server.url), dest_exists=False))

    run_backup_job(cfg)
    assert notify.wait(30)

    assert ping_server.signals() == ["start", "fail"]
    assert "No se encontró la carpeta" in ping_server.hits[1].body.decode()


def test_pings_keep_their_order_over_several_runs(tmp_path, ping_server):
    path = shop(tmp_path, ping_block(ping_server.url))
    cfg = config_mod.load(path)
    run_backup_job(cfg)
    cfg.destination.folder = str(tmp_path / "no-existe")
    run_backup_job(cfg)
    assert notify.wait(30)

    assert ping_server.signals() == ["start", "success", "start", "fail"]


def test_a_wrong_ping_address_is_a_problem_in_the_summary_not_a_failed_backup(tmp_path, ping_server):
    cfg = config_mod.load(shop(tmp_path, ping_block(f"http://127.0.0.1:{ping_server.port}/otro-codigo")))

    result = run_backup_job(cfg)
    assert notify.wait(30)

    assert result.status == "ok"
    assert notify.status(cfg).problems == [
        "No se pudo avisar al servicio de vigilancia: 127.0.0.1 no conoce esa dirección de ping (404): revisa ping_url"]


def test_a_restore_safety_backup_and_the_self_test_do_not_ping(tmp_path, ping_server):
    cfg = config_mod.load(shop(tmp_path, ping_block(ping_server.url)))

    run_backup_job(cfg, trigger="before-restore")
    assert notify.wait(30)

    assert ping_server.hits == []


def test_the_ping_test_uses_log_which_changes_nothing_at_the_service(tmp_path, ping_server):
    cfg = config_mod.load(shop(tmp_path, ping_block(ping_server.url)))

    [result] = notify.send_test(cfg)

    assert result.ok and result.target == f"http://127.0.0.1:{ping_server.port}/…"
    assert ping_server.signals() == ["log"]
