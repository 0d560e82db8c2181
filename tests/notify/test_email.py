"""E-mail notices through a real SMTP server (aiosmtpd: STARTTLS or implicit TLS, AUTH, a trustme certificate)
with the real ``smtplib`` on the app's side."""

from __future__ import annotations

import subprocess
from datetime import timedelta

from tests.fakes.mail_server import PASSWORD, USER, FakeMailServer, free_port
from tests.helpers import ROOT, respaldos_cmd
from tests.notify.conftest import CA, MACHINE, OWNER, email_block, shop
from wizard.core import config as config_mod
from wizard.core import history, notify, paths
from wizard.core.jobs import run_backup_job
from wizard.core.logsetup import log_file
from wizard.core.notify import outbox


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(respaldos_cmd(*args), cwd=ROOT, input=stdin, capture_output=True, text=True, timeout=120,
                          check=False)


def test_a_backup_to_a_missing_usb_folder_emails_the_owner_once_and_the_password_appears_nowhere(
        tmp_path, mail_server, smtp_password):
    config_path = shop(tmp_path, email_block(mail_server), dest_exists=False)

    proc = run_cli("--config", str(config_path), "backup")

    assert proc.returncode == 1, proc.stderr
    assert len(mail_server.messages) == 1, (proc.stdout, proc.stderr)
    received = mail_server.messages[0]
    assert received.recipients == [OWNER] and received.message["To"] == OWNER
    assert received.sender == USER and received.login == USER and received.encrypted
    assert received.message["Subject"] == f"{MACHINE}: el respaldo falló"
    missing = tmp_path / "usb" / "Respaldos"
    assert received.text.startswith(
        f"{MACHINE}: no se encontró la carpeta {missing.as_posix()}. Conecta la memoria USB o elige otra carpeta.")
    assert len(received.text) < 400  # short enough for a lock screen
    log = log_file().read_text(encoding="utf-8")
    assert "email notice (failure) sent" in log
    for place in (log, history.history_path().read_text(encoding="utf-8"), outbox.path().read_text(encoding="utf-8"),
                  proc.stdout, proc.stderr):
        assert PASSWORD not in place
    assert outbox.waiting() == []


def test_implicit_tls_on_another_port_delivers_the_message(tmp_path, tls_mail_server, smtp_password):
    cfg = config_mod.load(shop(tmp_path, email_block(tls_mail_server, security="ssl"), dest_exists=False))

    run_backup_job(cfg)
    assert notify.wait(30)

    assert [m.message["Subject"] for m in tls_mail_server.messages] == [f"{MACHINE}: el respaldo falló"]
    assert tls_mail_server.messages[0].encrypted and tls_mail_server.logins == [(USER, True)]


def test_a_wrong_password_gives_its_sentence_in_notify_test(tmp_path, mail_server):
    notify.set_password("smtp", "no-es-la-clave")
    config_path = shop(tmp_path, email_block(mail_server))

    proc = run_cli("--config", str(config_path), "notify", "test")

    assert proc.returncode == 1
    assert proc.stdout.strip() == (
        f"Correo a {OWNER}: no se pudo enviar: usuario o contraseña incorrectos: 127.0.0.1 no aceptó la contraseña "
        f"de {USER} (con Gmail usa una contraseña de aplicación)")
    assert mail_server.logins and all(login == (USER, False) for login in mail_server.logins)
    assert mail_server.messages == []
    assert "no-es-la-clave" not in log_file().read_text(encoding="utf-8")


def test_notify_test_sends_a_test_message_and_exits_0(tmp_path, mail_server, smtp_password):
    config_path = shop(tmp_path, email_block(mail_server))

    proc = run_cli("--config", str(config_path), "notify", "test")

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"Correo a {OWNER}: enviado"
    assert [m.message["Subject"] for m in mail_server.messages] == [f"{MACHINE}: prueba de avisos"]
    assert mail_server.messages[0].text.startswith(f"{MACHINE}: esta es una prueba de los avisos de Respaldos.")


def test_a_certificate_from_an_unknown_authority_is_named_as_not_trusted(tmp_path, smtp_password):
    import trustme

    stranger = FakeMailServer(trustme.CA()).start()  # its CA is not in SSL_CERT_FILE
    try:
        cfg = config_mod.load(shop(tmp_path, email_block(stranger)))
        results = notify.send_test(cfg)
    finally:
        stranger.stop()

    assert len(results) == 1 and not results[0].ok
    assert results[0].message.startswith("el certificado de 127.0.0.1 no es de confianza")
    assert stranger.messages == [] and stranger.logins == []  # the password never left over an untrusted line


def test_an_unreachable_server_leaves_the_message_queued_and_the_next_tick_delivers_it(tmp_path, smtp_password):
    port = free_port()  # nothing listens there yet
    server = FakeMailServer(CA, port=port)
    cfg = config_mod.load(shop(tmp_path, email_block(server), dest_exists=False))

    result = run_backup_job(cfg)
    assert notify.wait(30)

    assert result.status == "failed"  # the backup's own result, untouched by the notice
    [waiting] = outbox.waiting()
    assert waiting.channel == "email" and waiting.attempts == 1
    assert notify.status(cfg).problems == [
        f"No se pudo avisar por correo: 127.0.0.1 no acepta conexiones en el puerto {port}"]
    assert oct(outbox.path().stat().st_mode & 0o777) == "0o600"
    assert PASSWORD not in outbox.path().read_text(encoding="utf-8")

    server.start()
    try:
        notify.tick(cfg, notify._now() + timedelta(minutes=10))  # too soon: not retried
        assert notify.wait(30)
        assert server.messages == []
        notify.tick(cfg, notify._now() + timedelta(hours=1))
        assert notify.wait(30)
    finally:
        server.stop()

    assert [m.message["Subject"] for m in server.messages] == [f"{MACHINE}: el respaldo falló"]
    assert outbox.waiting() == []
    status = notify.status(cfg)
    assert status.problems == [] and status.last_sent.channel == "email"
    assert status.last_sent.subject == f"{MACHINE}: el respaldo falló"


def test_a_message_that_cannot_be_sent_for_a_day_is_dropped(tmp_path, smtp_password):
    server = FakeMailServer(CA)
    cfg = config_mod.load(shop(tmp_path, email_block(server), dest_exists=False))
    run_backup_job(cfg)
    assert notify.wait(30)
    assert len(outbox.waiting()) == 1

    notify.tick(cfg, notify._now() + timedelta(hours=24, minutes=1))
    assert notify.wait(30)

    assert outbox.waiting() == []
    assert notify.status(cfg).problems  # the reason stays visible in the summary


def test_the_outbox_lives_in_the_data_folder(tmp_path):
    assert outbox.path().parent == paths.data_dir()


def test_a_mail_server_that_never_answers_does_not_hold_up_the_backup(tmp_path, smtp_password):
    import socket
    from types import SimpleNamespace

    silent = socket.socket()  # takes connections and says nothing, like a server that hangs
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    cfg = config_mod.load(shop(tmp_path, email_block(SimpleNamespace(port=silent.getsockname()[1])),
                               dest_exists=False))
    try:
        result = run_backup_job(cfg)
        assert result.status == "failed"
        # the backup has returned while the notice is still waiting for the server, on its own thread
        assert not notify.wait(0.5)
    finally:
        silent.close()
    assert notify.wait(30)
    [waiting] = outbox.waiting()
    assert waiting.attempts == 1 and waiting.last_error
