"""E-mail notices through the owner's own mail server (``smtplib``): STARTTLS, implicit TLS or, for a server
on this computer only, plain SMTP. The password lives in the keyring under SECRET, never in the config."""

from __future__ import annotations

import re
import socket
from typing import TYPE_CHECKING

from wizard.core import secrets
from wizard.core.config import NotifyConfig
from wizard.core.notify.base import TIMEOUT, ChannelError, network_reason, tls_context
from wizard.core.notify.messages import Alert
from wizard.i18n import _

if TYPE_CHECKING:
    import smtplib
    from email.message import EmailMessage

NAME = "email"
SECRET = "avisos:smtp"
PASSWORD_KIND = "smtp"  # ``respaldos notify password smtp``


def title() -> str:
    return _("correo")


def configured(cfg: NotifyConfig) -> bool:
    return bool(cfg.email_to) and bool(cfg.smtp_host.strip())


def target(cfg: NotifyConfig) -> str:
    return ", ".join(a.strip() for a in cfg.email_to)


def failed_sentence(reason: str) -> str:
    return _("No se pudo avisar por correo: {reason}").format(reason=reason)


def build_message(cfg: NotifyConfig, alert: Alert) -> EmailMessage:
    # smtplib and email load on first use: the window starts faster, and PyInstaller still sees them.
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    message = EmailMessage()
    message["From"] = cfg.sender
    message["To"] = ", ".join(a.strip() for a in cfg.email_to)
    message["Subject"] = alert.subject
    message["Date"] = formatdate(localtime=True)
    # A domain of our own: without it make_msgid asks DNS for this computer's full name, which can hang.
    message["Message-ID"] = make_msgid(domain=cfg.sender.rpartition("@")[2] or "respaldos.invalid")
    message.set_content(alert.text, cte="quoted-printable")
    return message


def _ehlo_name() -> str:
    name = socket.gethostname()
    return name if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]{0,62}", name or "") else "localhost"


def send(cfg: NotifyConfig, alert: Alert, *, timeout: float = TIMEOUT) -> None:
    """Deliver ``alert`` to every address of ``email_to``; ChannelError says why not."""
    import smtplib

    host, port, security = cfg.smtp_host.strip(), cfg.smtp_port, cfg.smtp_security
    user = cfg.smtp_user.strip()
    password = None
    if user:
        password = secrets.get_secret(SECRET)
        if not password:
            raise ChannelError(_("falta la contraseña del correo: guárdala con «respaldos notify password smtp» "
                                 "o desde la ventana"))
    message = build_message(cfg, alert)
    try:
        if security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, local_hostname=_ehlo_name(), timeout=timeout,
                                                    context=tls_context())
        else:
            client = smtplib.SMTP(host, port, local_hostname=_ehlo_name(), timeout=timeout)
        with client:
            client.ehlo()
            if security == "starttls":
                if not client.has_extn("starttls"):
                    raise ChannelError(_('{host} no ofrece STARTTLS en el puerto {port}: prueba smtp_security = '
                                         '"ssl" con el puerto 465').format(host=host, port=port))
                client.starttls(context=tls_context())
                client.ehlo()
            if user:
                client.login(user, password or "")
            client.send_message(message, from_addr=cfg.sender, to_addrs=[a.strip() for a in cfg.email_to])
    except ChannelError:
        raise
    except Exception as exc:  # noqa: BLE001 - every failure becomes a sentence; none may fail a backup
        raise ChannelError(_reason(exc, cfg)) from None


def _server_text(exc: smtplib.SMTPResponseException) -> str:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    return f"{exc.smtp_code} {' '.join(text.split())}"[:160]


def _reason(exc: BaseException, cfg: NotifyConfig) -> str:
    import smtplib

    host, port = cfg.smtp_host.strip(), cfg.smtp_port
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _("usuario o contraseña incorrectos: {host} no aceptó la contraseña de {user} (con Gmail usa una "
                 "contraseña de aplicación)").format(host=host, user=cfg.smtp_user.strip())
    if isinstance(exc, smtplib.SMTPNotSupportedError) or (
            isinstance(exc, smtplib.SMTPException) and "AUTH" in str(exc)):
        return _("{host} no permite iniciar sesión en el puerto {port} (revisa smtp_security y smtp_port: 587 con "
                 "starttls, 465 con ssl)").format(host=host, port=port)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _("{host} rechazó la dirección {address}").format(host=host, address=", ".join(exc.recipients))
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _("{host} rechazó el remitente {address}: {detail}").format(
            host=host, address=cfg.sender, detail=_server_text(exc))
    if isinstance(exc, smtplib.SMTPResponseException):
        return _("{host} rechazó el mensaje: {detail}").format(host=host, detail=_server_text(exc))
    if isinstance(exc, smtplib.SMTPServerDisconnected) and "timed out" in str(exc):
        return _("{host} no respondió a tiempo (revisa smtp_security y smtp_port: 587 con starttls, 465 con "
                 "ssl)").format(host=host)
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return _("{host} cerró la conexión (revisa smtp_security y smtp_port: 587 con starttls, 465 con "
                 "ssl)").format(host=host)
    found = network_reason(exc, host, port)
    if found:
        return found
    detail = str(exc)[:160] if isinstance(exc, smtplib.SMTPException) and str(exc) else type(exc).__name__
    return _("no se pudo enviar por {host} ({error})").format(host=host, error=detail)
