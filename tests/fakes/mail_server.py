"""A real SMTP server for the notice tests: aiosmtpd on 127.0.0.1 with a trustme certificate, STARTTLS
(or implicit TLS) and AUTH checked against one user. It keeps every message it accepts, parsed, with its
envelope and whether it arrived encrypted, and every login attempt."""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER = "avisos@ejemplo.mx"
PASSWORD = "clave-de-aplicacion-9f3k"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    encrypted: bool
    login: str | None

    @property
    def text(self) -> str:
        return self.message.get_content()


class FakeMailServer:
    def __init__(self, ca: trustme.CA, *, implicit_tls: bool = False, user: str = USER,
                 password: str = PASSWORD, port: int | None = None):
        self.user, self.password = user, password
        self.messages: list[Received] = []
        self.logins: list[tuple[str, bool]] = []  # (user, accepted)
        cert = ca.issue_cert("127.0.0.1", "localhost")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(context)
        self.port = port or free_port()
        self.implicit_tls = implicit_tls
        tls = {"ssl_context": context, "auth_require_tls": False} if implicit_tls else {
            "tls_context": context, "require_starttls": True, "auth_require_tls": True}
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, authenticator=self._authenticate,
                                      server_hostname="correo.prueba", **tls)

    def start(self) -> FakeMailServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def _authenticate(self, server, session, envelope, mechanism, auth_data) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == self.user
              and auth_data.password.decode() == self.password)
        self.logins.append((auth_data.login.decode() if isinstance(auth_data, LoginPassword) else "?", ok))
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    async def handle_DATA(self, server, session, envelope) -> str:
        message = email.message_from_bytes(envelope.original_content or envelope.content, policy=email.policy.default)
        encrypted = bool(session.ssl) or server.transport.get_extra_info("sslcontext") is not None
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message, encrypted, login))
        return "250 Message accepted"
