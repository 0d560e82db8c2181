"""The browser half of an OAuth sign-in: a one-shot listener on 127.0.0.1 and opening the browser.

The listener is bound before the browser opens (``webbrowser.open`` with BROWSER set waits for that
program to exit). It accepts only a request whose ``state`` matches the sign-in in progress; anything
else (a stale tab from an earlier attempt, another program) gets a short refusal page and the wait
goes on. The accepted request is completed (the code exchanged for tokens) on the listener's thread
before the browser gets its answer, so the tab says "Listo" only when the sign-in worked, and the
provider's own sentence when it did not; doing it there also works while ``webbrowser.open`` is still
waiting for the browser program. Timeout and cancel end the wait without a result.
"""

from __future__ import annotations

import html
import http.server
import logging
import os
import secrets
import socketserver
import threading
import time
import webbrowser
from collections.abc import Callable
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from wizard.core.errors import Cancelled, UserError
from wizard.i18n import _

logger = logging.getLogger(__name__)

# The redirect URIs a provider app must have registered: http://127.0.0.1:PORT/ for each of these.
# Dropbox matches redirect URIs exactly (port included), so the ports are fixed; the next is tried
# when one is taken.
LOOPBACK_PORTS = (47811, 47812, 47813)


class SignInTimeout(UserError):
    pass


class _LoopbackServer(http.server.HTTPServer):
    # On Windows SO_REUSEADDR would let another program bind the same port and take the redirect.
    allow_reuse_address = os.name != "nt"

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host name, which can stall on some networks.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def _page(title: str, text: str) -> bytes:
    return (
        "<!doctype html><html lang=\"es\"><head><meta charset=\"utf-8\"><title>Respaldos</title></head>"
        "<body style=\"font-family: sans-serif; margin: 3em; max-width: 36em\">"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    ).encode()


class LoopbackListener:
    """Listens on ``http://127.0.0.1:PORT/`` for the provider's redirect; use as a context manager."""

    def __init__(self, ports: tuple[int, ...] = LOOPBACK_PORTS):
        self.state = ""  # set before the browser opens
        # Set before the browser opens too: turns the redirect's query parameters into the sign-in's result
        # (exchanging the code), raising a UserError whose sentence the browser tab then shows.
        self.complete: Callable[[dict[str, str]], Any] | None = None
        self.result: Any = None
        self._error: BaseException | None = None
        self._accepted = threading.Event()  # a redirect of this sign-in arrived: no more timeout
        self._abandoned = False  # the app stopped waiting (cancel, timeout): the result will not be used
        self._done = threading.Event()
        self._server = self._bind(ports)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="oauth-loopback", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def redirect_uri(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _bind(self, ports: tuple[int, ...]) -> http.server.HTTPServer:
        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                listener._handle(self)

            def log_message(self, format: str, *args) -> None:
                pass

        last_error: OSError | None = None
        for port in ports:
            try:
                return _LoopbackServer(("127.0.0.1", port), Handler)
            except OSError as exc:
                logger.info("loopback port %d unavailable: %s", port, exc)
                last_error = exc
        raise last_error or OSError("no loopback port")

    def _handle(self, request: http.server.BaseHTTPRequestHandler) -> None:
        url = urlsplit(request.path)
        if url.path != "/":
            self._answer(request, 404, _page(_("No encontrado"), ""))
            return
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        given = params.get("state", "")
        if self._accepted.is_set() or not self.state or not secrets.compare_digest(given.encode(),
                                                                                   self.state.encode()):
            logger.warning("sign-in redirect refused: it does not belong to the sign-in in progress")
            self._answer(request, 400, _page(
                _("Esta página no corresponde al inicio de sesión en curso"),
                _("Vuelve a Respaldos y pulsa otra vez el botón para iniciar sesión.")))
            return
        self._accepted.set()
        page = _page(_("No se conectó la cuenta"),
                     _("No se pudo terminar el inicio de sesión. Vuelve a Respaldos para ver qué pasó."))
        try:
            self.result = self.complete(params) if self.complete is not None else params
            if not self._abandoned:
                page = _page(_("Listo"), _("Listo. Ya puedes cerrar esta pestaña y volver a Respaldos."))
        except Exception as exc:  # noqa: BLE001 - handed to the waiting thread, which raises it
            self._error = exc
            if isinstance(exc, UserError):
                page = _page(_("No se conectó la cuenta"), str(exc))
        try:
            self._answer(request, 200, page)
        finally:
            self._done.set()

    @staticmethod
    def _answer(request: http.server.BaseHTTPRequestHandler, status: int, body: bytes) -> None:
        request.send_response(status)
        request.send_header("Content-Type", "text/html; charset=utf-8")
        request.send_header("Content-Length", str(len(body)))
        request.send_header("Cache-Control", "no-store")
        request.send_header("Connection", "close")
        request.end_headers()
        request.wfile.write(body)

    def wait(self, timeout: float, cancel: threading.Event | None = None) -> Any:
        """What ``complete`` returned for the accepted redirect (its query parameters without ``complete``);
        raises what ``complete`` raised, SignInTimeout or Cancelled. ``timeout`` counts until a redirect of
        this sign-in arrives, not while it is being completed."""
        deadline = time.monotonic() + timeout
        while not self._done.wait(0.1):
            if cancel is not None and cancel.is_set():
                self._abandoned = True
                raise Cancelled()
            if not self._accepted.is_set() and time.monotonic() >= deadline:
                self._abandoned = True
                raise SignInTimeout(_("Se acabó el tiempo para iniciar sesión ({minutes} minutos). Vuelve a "
                                      "intentarlo y autoriza a Respaldos en el navegador.").format(
                    minutes=round(timeout / 60)))
        if self._error is not None:
            raise self._error
        return self.result

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_browser(url: str) -> bool:
    """Open ``url`` in the user's browser (BROWSER is honoured). False when none could be opened."""
    try:
        return bool(webbrowser.open(url, new=1))
    except webbrowser.Error as exc:
        logger.info("no browser could be opened: %s", exc)
        return False
    except OSError as exc:
        logger.info("browser failed to start: %s", exc)
        return False
