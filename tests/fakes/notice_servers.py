"""Fake servers for the notice tests on 127.0.0.1: the Telegram Bot API's ``sendMessage`` over HTTPS (a
trustme certificate) and a Healthchecks-style ping endpoint over plain HTTP. Each records what it got."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from dataclasses import dataclass

import trustme

BOT_TOKEN = "123456789:AAFakeTokenForTheTestsOnly_abcdefghij"
CHAT_ID = "987654321"
PING_CODE = "5b7f0c1e-2a3d-4e5f-8a9b-0c1d2e3f4a5b"


@dataclass
class Hit:
    method: str
    path: str
    body: bytes


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True


class _FakeServer:
    """A ThreadingHTTPServer on a thread; ``handle(method, path, body) -> (status, content_type, bytes)``."""

    def __init__(self, context: ssl.SSLContext | None = None):
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, content_type, data = owner.handle(self.command, self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_HEAD = _any

            def log_message(self, format: str, *args) -> None:
                pass

        self._server = _Server(("127.0.0.1", 0), Handler)
        if context is not None:
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        raise NotImplementedError

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class FakeBotApi(_FakeServer):
    """``POST /bot<token>/sendMessage`` with a JSON body, answered as the Bot API does."""

    def __init__(self, ca: trustme.CA, token: str = BOT_TOKEN, chats: tuple[str, ...] = (CHAT_ID,)):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.token, self.chats = token, set(chats)
        self.sent: list[dict] = []
        self.requests: list[Hit] = []
        super().__init__(context)

    @property
    def base(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        self.requests.append(Hit(method, path, body))
        token, _sep, api_method = path.removeprefix("/bot").partition("/")
        if token != self.token:
            return self._answer(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        if method != "POST" or api_method != "sendMessage":
            return self._answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        data = json.loads(body.decode("utf-8"))
        if str(data.get("chat_id")) not in self.chats:
            return self._answer(400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"})
        self.sent.append(data)
        return self._answer(200, {"ok": True, "result": {"message_id": len(self.sent), "text": data["text"]}})

    @staticmethod
    def _answer(status: int, data: dict) -> tuple[int, str, bytes]:
        return status, "application/json", json.dumps(data).encode("utf-8")


class FakePingServer(_FakeServer):
    """Healthchecks' ping API: ``/<code>``, ``/<code>/start``, ``/<code>/fail``, ``/<code>/log``; another code
    is a 404."""

    def __init__(self, code: str = PING_CODE):
        self.code = code
        self.hits: list[Hit] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{self.code}"

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        self.hits.append(Hit(method, path, body))
        head, _sep, signal = path.lstrip("/").partition("/")
        if head != self.code or signal not in ("", "start", "fail", "log"):
            return 404, "text/plain", b"not found"
        return 200, "text/plain", b"OK"

    def signals(self) -> list[str]:
        return [h.path.lstrip("/").partition("/")[2] or "success" for h in self.hits]
