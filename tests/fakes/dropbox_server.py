"""A fake Dropbox for the tests: HTTPS on 127.0.0.1 with a trustme certificate, speaking the wire protocol
of the routes Respaldos uses, so that the real dropbox SDK talks to it unchanged.

One server plays the three Dropbox hosts (api, content, www): the product reaches it only through
DROPBOX_API_HOST / DROPBOX_API_CONTENT_HOST / DROPBOX_WEB_HOST and trusts it through REQUESTS_CA_BUNDLE.

It keeps an app folder of files, upload sessions, OAuth codes (PKCE checked), refresh and access tokens,
a quota, and a request log. Faults are queued with ``add_fault(route, kind, ...)``:

- ``"500"``: answer 500; ``"429"``: answer 429 with Retry-After;
- ``"drop"``: read part of the request body, then reset the connection (nothing is stored);
- ``"drop_after"``: do the work (e.g. store the chunk), then reset the connection without answering;
- ``"expire_token"``: answer 401 expired_access_token (the client must refresh);
- ``"corrupt"``: store the committed file with one byte changed (its content_hash then differs);
- ``"stall"``: wait ``retry_after`` seconds before doing the work (a slow line, a process killed meanwhile);
- ``"insufficient_space"``: the commit (``files/upload``, ``files/upload_session/finish``) answers
  ``path/insufficient_space`` although ``users/get_space_usage`` still reports room, as Dropbox does when
  what counts against the quota is not what the usage shows (a shared folder whose owner is full).

``files/download`` answers with the file's bytes and its metadata in the ``Dropbox-API-Result`` header,
honouring ``Range: bytes=N-`` (206). There ``"corrupt"`` sends the bytes with one changed (the header keeps
the true content_hash) and ``"drop_after"`` sends the headers and ``fraction`` of the body, then closes.

The content_hash is computed here from Dropbox's published definition, not with the SDK's helper, so
the test checks the product against an independent implementation.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import secrets
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

BLOCK = 4 * 1024 * 1024
APP_KEY = "respaldos-test-app-key"
ACCOUNT_ID = "dbid:AAH4f99T0taONIb-OurWxbNQ6ywGRopQngc"  # the SDK wants 40 characters or more
GiB = 1 << 30


def content_hash(data: bytes) -> str:
    """SHA-256 over the concatenated SHA-256 digests of each 4 MiB block."""
    overall = hashlib.sha256()
    for start in range(0, len(data), BLOCK):
        overall.update(hashlib.sha256(data[start:start + BLOCK]).digest())
    return overall.hexdigest()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Fault:
    route: str  # e.g. "files/upload_session/append_v2", "oauth2/token"
    kind: str
    times: int = 1
    skip: int = 0  # let this many matching requests through first
    retry_after: int = 1
    fraction: float = 0.5  # "drop": share of the body read before the reset
    match: Callable[[dict[str, Any]], bool] | None = None


@dataclass
class StoredFile:
    path_display: str
    data: bytes
    id: str
    rev: str
    client_modified: str
    server_modified: str

    @property
    def name(self) -> str:
        return self.path_display.rsplit("/", 1)[-1]

    def metadata(self) -> dict[str, Any]:
        return {".tag": "file", "name": self.name, "id": self.id, "client_modified": self.client_modified,
                "server_modified": self.server_modified, "rev": self.rev, "size": len(self.data),
                "path_lower": self.path_display.lower(), "path_display": self.path_display,
                "is_downloadable": True, "content_hash": content_hash(self.data)}


@dataclass
class Session:
    data: bytearray = field(default_factory=bytearray)
    closed: bool = False


class _Reset(Exception):
    """Drop the connection without an answer."""


class FakeDropbox:
    def __init__(self, ca, redirect_uris: list[str]):
        self.ca = ca
        self.redirect_uris = set(redirect_uris)
        self.lock = threading.RLock()
        self.port = 0
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._cert = ca.issue_cert("127.0.0.1", "localhost")
        self.reset()

    # -- lifecycle ----------------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        """Listen (again, on the same port after a stop: the product's hosts are fixed at import)."""
        if self._server is not None:
            return
        fake = self

        class Handler(_Handler):
            app = fake

        server = _Server(("127.0.0.1", self.port), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._cert.configure_cert(context)
        server.socket = context.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-dropbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and cut every open connection: to a client the computer is now offline."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        with self.lock:
            connections = list(self._connections)
        for conn in connections:
            _hard_close(conn)
        self._server = None

    def reset(self) -> None:
        with self.lock:
            self.app_keys = {APP_KEY}
            self.files: dict[str, StoredFile] = {}
            self.folders: set[str] = set()
            self.sessions: dict[str, Session] = {}
            self.codes: dict[str, dict[str, Any]] = {}
            self.refresh_tokens: dict[str, dict[str, Any]] = {}
            self.access_tokens: dict[str, dict[str, Any]] = {}
            self.faults: list[Fault] = []
            self.log: list[dict[str, Any]] = []
            self.allocated = 2 * GiB
            self.used_elsewhere = 100 * 1024 * 1024
            self.deny = False
            self.page_size = 1000
            self.token_lifetime = 14400
            self.account = {
                "account_id": ACCOUNT_ID,
                "name": {"given_name": "Lupita", "surname": "Pérez", "familiar_name": "Lupita",
                         "display_name": "Lupita Pérez", "abbreviated_name": "LP"},
                "email": "lupita@abarrotes.example", "email_verified": True, "disabled": False,
                "locale": "es", "referral_link": "https://db.tt/fake", "is_paired": False,
                "account_type": {".tag": "basic"},
                "root_info": {".tag": "user", "root_namespace_id": "3235641", "home_namespace_id": "3235641"},
                "country": "MX",
            }

    # -- helpers for tests --------------------------------------------------------------------------

    def add_fault(self, route: str, kind: str, **kwargs: Any) -> Fault:
        fault = Fault(route, kind, **kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def issue_refresh_token(self, app_key: str = APP_KEY) -> str:
        token = "rt-" + secrets.token_urlsafe(24)
        with self.lock:
            self.refresh_tokens[token] = {"client_id": app_key, "revoked": False}
        return token

    def revoke_all(self) -> None:
        with self.lock:
            for info in self.refresh_tokens.values():
                info["revoked"] = True
            self.access_tokens.clear()

    def expire_access_tokens(self) -> None:
        with self.lock:
            for info in self.access_tokens.values():
                info["expired"] = True

    def put_file(self, path: str, data: bytes, modified: str | None = None) -> StoredFile:
        with self.lock:
            stored = StoredFile(path, bytes(data), "id:" + secrets.token_urlsafe(9),
                                secrets.token_hex(8) + "0", modified or _now(), modified or _now())
            self.files[path.lower()] = stored
            self.folders.add(path.rsplit("/", 1)[0].lower())
            return stored

    def names_in(self, folder: str) -> list[str]:
        with self.lock:
            return sorted(f.name for key, f in self.files.items() if key.rsplit("/", 1)[0] == folder.lower())

    def file(self, path: str) -> StoredFile | None:
        with self.lock:
            return self.files.get(path.lower())

    def used(self) -> int:
        with self.lock:
            return self.used_elsewhere + sum(len(f.data) for f in self.files.values())

    def requests(self, route: str) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.log if e["route"] == route]

    # -- request handling ---------------------------------------------------------------------------

    def _take_fault(self, route: str, args: dict[str, Any]) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.route != route or fault.times <= 0:
                    continue
                if fault.match is not None and not fault.match(args):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.times -= 1
                return fault
        return None

    def _record(self, route: str, **info: Any) -> None:
        with self.lock:
            self.log.append({"route": route, **info})

    def _check_auth(self, header: str | None) -> tuple[int, dict[str, Any]] | None:
        token = (header or "").removeprefix("Bearer ").strip()
        with self.lock:
            info = self.access_tokens.get(token)
            if info is None or self.refresh_tokens.get(info["refresh"], {}).get("revoked", True):
                return 401, {"error_summary": "invalid_access_token/", "error": {".tag": "invalid_access_token"}}
            if info.get("expired"):
                return 401, {"error_summary": "expired_access_token/", "error": {".tag": "expired_access_token"}}
        return None

    def _new_access_token(self, refresh: str) -> str:
        token = "at-" + secrets.token_urlsafe(24)
        self.access_tokens[token] = {"refresh": refresh, "expired": False}
        return token

    # OAuth ----------------------------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        client_id = query.get("client_id", "")
        redirect = query.get("redirect_uri")
        self._record("oauth2/authorize", query=query)
        if client_id not in self.app_keys:
            return 400, {}, b"unknown app key"
        if redirect is not None and redirect not in self.redirect_uris:
            return 400, {}, b"redirect_uri not registered for this app"
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 400, {}, b"PKCE required"
        state = query.get("state")
        if self.deny:
            params = {"error": "access_denied", "error_description": "The user chose not to give access."}
        else:
            code = "code-" + secrets.token_urlsafe(16)
            with self.lock:
                self.codes[code] = {"client_id": client_id, "redirect_uri": redirect,
                                    "challenge": query["code_challenge"],
                                    "offline": query.get("token_access_type") == "offline"}
            params = {"code": code}
        if redirect is None:
            text = params.get("code", "denied")
            return 200, {"Content-Type": "text/html; charset=utf-8"}, (
                f"<html><body><p>Copia este código en la aplicación:</p><code id=\"auth-code\">{text}</code>"
                "</body></html>").encode()
        if state is not None:
            params["state"] = state
        return 302, {"Location": f"{redirect}?{urlencode(params)}"}, b""

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type")
        self._record("oauth2/token", grant_type=grant)
        invalid = (400, {"error": "invalid_grant", "error_description": "code or token is invalid"})
        with self.lock:
            if form.get("client_id") not in self.app_keys:
                return 400, {"error": "invalid_client", "error_description": "unknown client"}
            if grant == "authorization_code":
                info = self.codes.pop(form.get("code", ""), None)
                if info is None or info["client_id"] != form["client_id"]:
                    return invalid
                if info["redirect_uri"] != form.get("redirect_uri"):
                    return invalid
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
                if challenge.decode() != info["challenge"]:
                    return 400, {"error": "invalid_grant", "error_description": "invalid code verifier"}
                refresh = self.issue_refresh_token(form["client_id"])
                body = {"access_token": self._new_access_token(refresh), "token_type": "bearer",
                        "expires_in": self.token_lifetime, "scope": "account_info.read files.content.write",
                        "uid": "12345", "account_id": ACCOUNT_ID}
                if info["offline"]:
                    body["refresh_token"] = refresh
                return 200, body
            if grant == "refresh_token":
                refresh = form.get("refresh_token", "")
                info = self.refresh_tokens.get(refresh)
                if info is None or info["revoked"] or info["client_id"] != form["client_id"]:
                    return invalid
                return 200, {"access_token": self._new_access_token(refresh), "token_type": "bearer",
                             "expires_in": self.token_lifetime}
        return 400, {"error": "unsupported_grant_type"}

    # API ------------------------------------------------------------------------------------------

    def _folder_entries(self, folder: str) -> list[dict[str, Any]]:
        return [f.metadata() for key, f in sorted(self.files.items())
                if key.rsplit("/", 1)[0] == folder.lower()]

    def _commit(self, path: str, data: bytes, client_modified: str | None, corrupt: bool) -> dict[str, Any]:
        if corrupt and data:
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        existing = self.files.get(path.lower())
        stored = self.put_file(existing.path_display if existing else path, data)
        stored.client_modified = client_modified or stored.client_modified
        return stored.metadata()

    def _space_left_for(self, path: str, size: int) -> bool:
        existing = self.files.get(path.lower())
        return self.used() - (len(existing.data) if existing else 0) + size <= self.allocated

    def api(self, route: str, args: dict[str, Any], body: bytes, corrupt: bool,
            no_room: bool = False) -> tuple[int, Any]:
        """One API route; returns (status, JSON result or error). ``no_room``: a commit fails for lack of
        space whatever the quota says."""
        def error(tag_json: dict[str, Any], summary: str) -> tuple[int, Any]:
            return 409, {"error_summary": summary, "error": tag_json}

        with self.lock:
            if route == "users/get_current_account":
                return 200, self.account
            if route == "users/get_space_usage":
                return 200, {"used": self.used(), "allocation": {".tag": "individual", "allocated": self.allocated}}
            if route == "auth/token/revoke":
                return 200, None
            if route == "files/list_folder" or route == "files/list_folder/continue":
                if route == "files/list_folder":
                    folder, start = args["path"], 0
                    if folder.lower() not in self.folders:
                        return error({".tag": "path", "path": {".tag": "not_found"}}, "path/not_found/")
                else:
                    cursor = json.loads(base64.b64decode(args["cursor"]))
                    folder, start = cursor["folder"], cursor["start"]
                entries = self._folder_entries(folder)
                page = entries[start:start + self.page_size]
                more = start + self.page_size < len(entries)
                cursor = base64.b64encode(json.dumps({"folder": folder, "start": start + self.page_size}).encode())
                return 200, {"entries": page, "cursor": cursor.decode(), "has_more": more}
            if route == "files/get_metadata":
                stored = self.files.get(args["path"].lower())
                if stored is None:
                    return error({".tag": "path", "path": {".tag": "not_found"}}, "path/not_found/")
                return 200, stored.metadata()
            if route == "files/delete_v2":
                stored = self.files.pop(args["path"].lower(), None)
                if stored is None:
                    return error({".tag": "path_lookup", "path_lookup": {".tag": "not_found"}},
                                 "path_lookup/not_found/")
                return 200, {"metadata": stored.metadata()}
            if route == "files/upload":
                if args.get("content_hash") and args["content_hash"] != content_hash(body):
                    return error({".tag": "content_hash_mismatch"}, "content_hash_mismatch/")
                if no_room or not self._space_left_for(args["path"], len(body)):
                    return error({".tag": "path", "reason": {".tag": "insufficient_space"},
                                  "upload_session_id": "none"}, "path/insufficient_space/")
                return 200, self._commit(args["path"], body, args.get("client_modified"), corrupt)
            if route == "files/upload_session/start":
                if args.get("content_hash") and args["content_hash"] != content_hash(body):
                    return error({".tag": "content_hash_mismatch"}, "content_hash_mismatch/")
                session_id = "sess-" + secrets.token_urlsafe(12)
                self.sessions[session_id] = Session(bytearray(body), bool(args.get("close")))
                return 200, {"session_id": session_id}
            if route in ("files/upload_session/append_v2", "files/upload_session/finish"):
                finish = route.endswith("finish")
                cursor = args["cursor"]
                session = self.sessions.get(cursor["session_id"])

                def lookup(tag: dict[str, Any], summary: str) -> tuple[int, Any]:
                    if finish:
                        return error({".tag": "lookup_failed", "lookup_failed": tag}, "lookup_failed/" + summary)
                    return error(tag, summary)

                if session is None:
                    return lookup({".tag": "not_found"}, "not_found/")
                if cursor["offset"] != len(session.data):
                    return lookup({".tag": "incorrect_offset", "correct_offset": len(session.data)},
                                  "incorrect_offset/")
                if session.closed and body:
                    return lookup({".tag": "closed"}, "closed/")
                if args.get("content_hash") and args["content_hash"] != content_hash(body):
                    return error({".tag": "content_hash_mismatch"}, "content_hash_mismatch/")
                if not finish:
                    session.data += body
                    session.closed = bool(args.get("close"))
                    return 200, None
                commit = args["commit"]
                if no_room or not self._space_left_for(commit["path"], len(session.data) + len(body)):
                    return error({".tag": "path", "path": {".tag": "insufficient_space"}}, "path/insufficient_space/")
                data = bytes(session.data + body)
                del self.sessions[cursor["session_id"]]
                return 200, self._commit(commit["path"], data, commit.get("client_modified"), corrupt)
        return 400, f"Unknown route {route}"


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def server_bind(self) -> None:
        import socketserver

        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def handle_error(self, request, client_address) -> None:
        import sys
        import traceback

        error = sys.exc_info()[1]
        if not isinstance(error, (OSError, _Reset, ssl.SSLError)):  # resets and closed sockets are expected
            traceback.print_exc()


def _hard_close(conn: socket.socket) -> None:
    """Close with RST (linger 0): the client sees 'connection reset', as when a network drops."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    try:
        conn.close()
    except OSError:
        pass


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    app: FakeDropbox

    def setup(self) -> None:
        super().setup()
        with self.app.lock:
            self.app._connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        with self.app.lock:
            self.app._connections.discard(self.connection)

    def log_message(self, format: str, *args) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json", **(extra or {})})

    def _reset(self) -> None:
        _hard_close(self.connection)
        self.close_connection = True
        raise _Reset()

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except _Reset:
            self.close_connection = True

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path != "/oauth2/authorize":
            self._send(404, b"not found")
            return
        status, headers, body = self.app.authorize({k: v[0] for k, v in parse_qs(url.query).items()})
        self._send(status, body, {"Content-Type": "text/html; charset=utf-8", **headers})

    def do_POST(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if url.path == "/oauth2/token":
            route = "oauth2/token"
            fault = self.app._take_fault(route, {})
            body = self.rfile.read(length)
            if fault is not None and fault.kind == "500":
                self._send(500, b"Internal Server Error", {"Content-Type": "text/plain"})
                return
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
            status, payload = self.app.token(form)
            self._json(status, payload)
            return
        if not url.path.startswith("/2/"):
            self._send(404, b"not found")
            return
        route = url.path[3:]
        arg_header = self.headers.get("Dropbox-API-Arg")
        args = json.loads(arg_header) if arg_header else {}
        fault = self.app._take_fault(route, args)
        if fault is not None and fault.kind == "drop":
            self.rfile.read(int(length * fault.fraction))
            self.app._record(route, fault="drop", offset=args.get("cursor", {}).get("offset"))
            self._reset()
        body = self.rfile.read(length)
        if arg_header is None and body:
            args = json.loads(body) or {}
        if fault is not None and fault.kind == "500":
            self.app._record(route, fault="500")
            self._send(500, b"Internal Server Error", {"Content-Type": "text/plain"})
            return
        if fault is not None and fault.kind == "429":
            self.app._record(route, fault="429")
            self._json(429, {"error_summary": "too_many_requests/",
                             "error": {"reason": {".tag": "too_many_requests"}, "retry_after": fault.retry_after}},
                       {"Retry-After": str(fault.retry_after)})
            return
        if fault is not None and fault.kind == "stall":
            time.sleep(fault.retry_after)
        if fault is not None and fault.kind == "expire_token":
            self.app.expire_access_tokens()
        denied = self.app._check_auth(self.headers.get("Authorization"))
        if denied is not None:
            self.app._record(route, status=denied[0], error=denied[1]["error"][".tag"])
            self._json(*denied)
            return
        if route == "files/download":
            self._download(args, fault)
            return
        if route == "auth/token/revoke":
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
            with self.app.lock:
                refresh = self.app.access_tokens[token]["refresh"]
                self.app.refresh_tokens[refresh]["revoked"] = True
        kind = fault.kind if fault is not None else None
        status, payload = self.app.api(route, args, body, corrupt=kind == "corrupt",
                                       no_room=kind == "insufficient_space")
        cursor = args.get("cursor")
        self.app._record(route, status=status, length=len(body),
                         offset=cursor.get("offset") if isinstance(cursor, dict) else None,
                         error=payload["error"].get(".tag") if status == 409 else None,
                         correct_offset=(payload["error"].get("correct_offset")
                                         or payload["error"].get("lookup_failed", {}).get("correct_offset"))
                         if status == 409 else None)
        if fault is not None and fault.kind == "drop_after":
            self._reset()
        if status == 400:
            self._send(400, str(payload).encode(), {"Content-Type": "text/plain"})
        else:
            self._json(status, payload)

    def _download(self, args: dict[str, Any], fault: Fault | None) -> None:
        """files/download: the bytes in the body, the metadata in the Dropbox-API-Result header."""
        app = self.app
        with app.lock:
            stored = app.files.get(str(args.get("path", "")).lower())
            rev = args.get("rev")
            if stored is None or (rev and rev != stored.rev):
                app._record("files/download", status=409, error="path")
                self._json(409, {"error_summary": "path/not_found/",
                                 "error": {".tag": "path", "path": {".tag": "not_found"}}})
                return
            data, meta = stored.data, stored.metadata()
        start = 0
        wanted = self.headers.get("Range")
        if wanted and wanted.startswith("bytes=") and wanted.endswith("-"):
            start = min(int(wanted[6:-1]), len(data))
        body = data[start:]
        if fault is not None and fault.kind == "corrupt" and body:
            mid = len(body) // 2
            body = body[:mid] + bytes([body[mid] ^ 0xFF]) + body[mid + 1:]
        status = 206 if wanted else 200
        app._record("files/download", status=status, offset=start, fault=fault.kind if fault else None)
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Dropbox-API-Result", json.dumps(meta))
        if wanted:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if fault is not None and fault.kind == "drop_after":
            # The part sent arrives (a close, not a reset, which would discard what the client has not read
            # yet); then the connection ends short of Content-Length.
            self.wfile.write(body[:int(len(body) * fault.fraction)])
            self.wfile.flush()
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True
            raise _Reset()
        self.wfile.write(body)
