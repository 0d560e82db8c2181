"""A fake Google Drive (API v2) and Google OAuth server for the tests: HTTPS on 127.0.0.1 with a trustme
certificate, speaking the wire protocol of the calls Respaldos makes, so that the real pydrive2,
googleapiclient and oauth2client talk to it unchanged.

The product reaches it only the way it would reach a proxy: the API base URL from
RESPALDOS_GOOGLE_API_ENDPOINT (``api_endpoint``: ``https://127.0.0.1:PORT/drive/v2/``), uploads on the same
host at ``/upload/drive/v2/files``, and the auth, token and revoke URIs from the OAuth client file
(``write_client_secrets``). The CA comes from HTTPLIB2_CA_CERTS.

Routes (the names used by the request log and by faults):

- ``oauth.authorize`` GET /o/oauth2/auth: checks the client, a loopback redirect URI, the drive.file scope
  (alone), response_type=code and a PKCE S256 challenge; redirects with ``code`` and ``state``.
- ``oauth.token`` POST /token: authorization_code (client secret, redirect URI and PKCE verifier checked)
  and refresh_token grants; a revoked or unknown refresh token gets 400 ``invalid_grant``.
- ``oauth.revoke`` GET/POST /revoke?token=...
- ``about.get``, ``files.list`` (a small ``q`` language: ``'ID' in parents``, ``title = '...'``,
  ``mimeType = / != '...'``, ``trashed = false|true``, joined by ``and``; anything else is a 400, so the
  product's queries are checked), ``files.get``, ``files.download`` (``alt=media``, honouring ``Range``),
  ``files.insert`` (metadata only: folders), ``files.delete`` (permanent; 204).
- ``upload.start`` POST /upload/drive/v2/files?uploadType=resumable (metadata; X-Upload-Content-Length
  checked against the quota), ``upload.chunk`` PUT to the session URI with ``Content-Range: bytes a-b/N``
  (non-final chunks must be multiples of 256 KiB; 308 with ``Range`` until complete, then 200 with the
  file), ``upload.status`` the same PUT with ``bytes */N`` (where did the upload stop).

Only files the app created are visible to it (the drive.file scope): ``put_file(..., app_created=False)``
makes a file of the user's own that the API never shows. Deleted files are gone; trashed ones still count
against the quota and are listed unless the query says ``trashed = false``.

Faults are queued with ``add_fault(route, kind, ...)``:

- ``"500"`` / ``"503"``: answer that status; ``"429"``: 429 with Retry-After; ``"403_rate"``: 403
  ``userRateLimitExceeded``;
- ``"drop"``: read ``fraction`` of the request body, keep (for a chunk) the whole 256 KiB blocks of it, then
  reset the connection; ``"drop_after"``: do the work, then reset without answering (for a download: send
  the headers and ``fraction`` of the body, then close);
- ``"close"``: read the whole request, do nothing, and close the connection cleanly without answering (the
  client sees "remote end closed connection without response", which httplib2 retries by itself);
- ``"corrupt"``: store the uploaded file with one byte changed (its md5Checksum then differs), or send a
  download with one byte changed;
- ``"502_html"``: a 502 whose body is an HTML page (a proxy's), not Google's JSON;
- ``"stall"``: wait ``retry_after`` seconds before doing the work;
- ``"call"``: run ``action()`` first, then answer normally (something changes meanwhile, e.g. another
  device fills the account between the space check and the upload).

The md5 is computed here with hashlib over the stored bytes, independently of the product.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import re
import secrets
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_ID = "123456789012-respaldos.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-respaldos-test-secret"
SCOPE = "https://www.googleapis.com/auth/drive.file"
FOLDER_MIME = "application/vnd.google-apps.folder"
ROOT_ID = "0AFakeRootFolderIdUk9PVA"
UPLOAD_GRANULARITY = 256 * 1024
GiB = 1 << 30


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{datetime.now(UTC).microsecond // 1000:03d}Z"


def _error(status: int, reason: str, message: str) -> tuple[int, dict[str, Any]]:
    return status, {"error": {"errors": [{"domain": "global", "reason": reason, "message": message}],
                              "code": status, "message": message}}


@dataclass
class Fault:
    route: str  # e.g. "upload.chunk", "files.list", "oauth.token"
    kind: str
    times: int = 1
    skip: int = 0  # let this many matching requests through first
    retry_after: int = 1
    fraction: float = 0.5
    match: Callable[[dict[str, Any]], bool] | None = None
    action: Callable[[], None] | None = None


@dataclass
class DriveFile:
    id: str
    title: str
    mime: str
    parents: list[str]
    data: bytes | None = None  # None for folders
    created: str = field(default_factory=_now)
    modified: str = field(default_factory=_now)
    trashed: bool = False
    app_created: bool = True

    @property
    def is_folder(self) -> bool:
        return self.mime == FOLDER_MIME

    def metadata(self, host: str) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "kind": "drive#file", "id": self.id, "title": self.title, "mimeType": self.mime,
            "labels": {"starred": False, "hidden": False, "trashed": self.trashed, "restricted": False,
                       "viewed": True},
            "createdDate": self.created, "modifiedDate": self.modified,
            "parents": [{"kind": "drive#parentReference", "id": p, "isRoot": p == ROOT_ID} for p in self.parents],
            "selfLink": f"https://{host}/drive/v2/files/{self.id}",
            "editable": True, "copyable": True, "shared": False, "version": "1",
        }
        if self.data is not None:
            meta.update({"fileSize": str(len(self.data)), "md5Checksum": hashlib.md5(self.data).hexdigest(),
                         "originalFilename": self.title,
                         "downloadUrl": f"https://{host}/drive/v2/files/{self.id}?alt=media",
                         "quotaBytesUsed": str(len(self.data))})
        return meta


@dataclass
class UploadSession:
    id: str
    meta: dict[str, Any]
    size: int | None
    data: bytearray = field(default_factory=bytearray)
    result: str | None = None  # the file id once complete


class _Reset(Exception):
    """Drop the connection without an answer."""


class FakeDrive:
    def __init__(self, ca):
        self.ca = ca
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
    def api_endpoint(self) -> str:
        """What RESPALDOS_GOOGLE_API_ENDPOINT is set to: the Drive v2 base URL, as Google's own."""
        return f"https://{self.host}/drive/v2/"

    def client_config(self) -> dict[str, Any]:
        """An OAuth client file as Google Cloud Console downloads it for a "Desktop app", pointing here."""
        return {"installed": {
            "client_id": CLIENT_ID, "project_id": "respaldos-test",
            "auth_uri": f"https://{self.host}/o/oauth2/auth", "token_uri": f"https://{self.host}/token",
            "revoke_uri": f"https://{self.host}/revoke",
            "auth_provider_x509_cert_url": f"https://{self.host}/oauth2/v1/certs",
            "client_secret": CLIENT_SECRET, "redirect_uris": ["http://localhost"]}}

    def write_client_secrets(self, path: Path) -> Path:
        path.write_text(json.dumps(self.client_config(), indent=1), encoding="utf-8")
        return path

    def start(self) -> None:
        """Listen (again, on the same port after a stop: the client file and endpoint keep working)."""
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
                                        name="fake-drive", daemon=True)
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
            self.files: dict[str, DriveFile] = {}
            self.sessions: dict[str, UploadSession] = {}
            self.codes: dict[str, dict[str, Any]] = {}
            self.refresh_tokens: dict[str, dict[str, Any]] = {}
            self.access_tokens: dict[str, dict[str, Any]] = {}
            self.faults: list[Fault] = []
            self.log: list[dict[str, Any]] = []
            self.quota_total = 15 * GiB
            self.used_elsewhere = 100 * 1024 * 1024  # Gmail, Photos
            self.deny = False
            self.granted_scope = SCOPE  # what the user leaves ticked on the consent screen
            self.page_size = 100
            self.token_lifetime = 3599
            self.user = {"kind": "drive#user", "displayName": "Lupita Pérez",
                         "emailAddress": "lupita@abarrotes.example", "isAuthenticatedUser": True,
                         "permissionId": "01234567890123456789"}

    # -- helpers for tests --------------------------------------------------------------------------

    def add_fault(self, route: str, kind: str, **kwargs: Any) -> Fault:
        fault = Fault(route, kind, **kwargs)
        with self.lock:
            self.faults.append(fault)
        return fault

    def issue_refresh_token(self) -> str:
        token = "1//rt-" + secrets.token_urlsafe(24)
        with self.lock:
            self.refresh_tokens[token] = {"client_id": CLIENT_ID, "revoked": False}
        return token

    def revoke_all(self) -> None:
        with self.lock:
            for info in self.refresh_tokens.values():
                info["revoked"] = True
            self.access_tokens.clear()

    def forget_sessions(self) -> None:
        """Resumable sessions expire (a week at Google): the next chunk or status query gets 404."""
        with self.lock:
            self.sessions.clear()

    def new_id(self) -> str:
        return "1" + secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")

    def add_folder(self, title: str, parent: str = ROOT_ID, app_created: bool = True,
                   trashed: bool = False) -> DriveFile:
        with self.lock:
            folder = DriveFile(self.new_id(), title, FOLDER_MIME, [parent], trashed=trashed, app_created=app_created)
            self.files[folder.id] = folder
            return folder

    def put_file(self, parent: str, title: str, data: bytes, app_created: bool = True, trashed: bool = False,
                 mime: str = "application/zip") -> DriveFile:
        with self.lock:
            stored = DriveFile(self.new_id(), title, mime, [parent], bytes(data), trashed=trashed,
                               app_created=app_created)
            self.files[stored.id] = stored
            return stored

    def folders(self, title: str) -> list[DriveFile]:
        with self.lock:
            return [f for f in self.files.values() if f.is_folder and f.title == title]

    def folder(self, title: str = "Respaldos") -> DriveFile | None:
        """The one untrashed folder of that title in My Drive (asserts there are not several)."""
        found = [f for f in self.folders(title) if not f.trashed and ROOT_ID in f.parents]
        assert len(found) <= 1, f"{len(found)} folders named {title}"
        return found[0] if found else None

    def children(self, folder: DriveFile | str) -> list[DriveFile]:
        folder_id = folder if isinstance(folder, str) else folder.id
        with self.lock:
            return [f for f in self.files.values() if folder_id in f.parents]

    def names_in(self, folder_title: str = "Respaldos") -> list[str]:
        folder = self.folder(folder_title)
        return sorted(f.title for f in self.children(folder)) if folder else []

    def file(self, title: str, folder_title: str = "Respaldos") -> DriveFile | None:
        folder = self.folder(folder_title)
        found = [f for f in self.children(folder) if f.title == title] if folder else []
        assert len(found) <= 1, f"{len(found)} files named {title}"
        return found[0] if found else None

    def used(self) -> int:
        with self.lock:
            return self.used_elsewhere + sum(len(f.data) for f in self.files.values() if f.data is not None)

    def requests(self, route: str) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.log if e["route"] == route]

    # -- request handling ---------------------------------------------------------------------------

    def take_fault(self, route: str, info: dict[str, Any]) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.route != route or fault.times <= 0:
                    continue
                if fault.match is not None and not fault.match(info):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.times -= 1
                return fault
        return None

    def record(self, route: str, **info: Any) -> None:
        with self.lock:
            self.log.append({"route": route, **info})

    def check_auth(self, header: str | None) -> tuple[int, dict[str, Any]] | None:
        token = (header or "").removeprefix("Bearer ").strip()
        with self.lock:
            info = self.access_tokens.get(token)
            if (info is None or info["expires"] < time.time()
                    or self.refresh_tokens.get(info["refresh"], {}).get("revoked", True)):
                return _error(401, "authError", "Invalid Credentials")
        return None

    def _new_access_token(self, refresh: str) -> str:
        token = "ya29.at-" + secrets.token_urlsafe(24)
        self.access_tokens[token] = {"refresh": refresh, "expires": time.time() + self.token_lifetime}
        return token

    def expire_access_tokens(self) -> None:
        with self.lock:
            for info in self.access_tokens.values():
                info["expires"] = 0

    # OAuth ----------------------------------------------------------------------------------------

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        self.record("oauth.authorize", query=query)
        redirect = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID:
            return 400, {}, b"Error 401: invalid_client"
        if not re.fullmatch(r"http://(127\.0\.0\.1|localhost):\d+/?", redirect):
            return 400, {}, b"Error 400: redirect_uri_mismatch"
        if query.get("response_type") != "code" or query.get("scope") != SCOPE:
            return 400, {}, b"Error 400: invalid_request (response_type or scope)"
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            return 400, {}, b"Error 400: invalid_request (PKCE required)"
        if self.deny:
            params = {"error": "access_denied"}
        else:
            code = "4/0-code-" + secrets.token_urlsafe(16)
            with self.lock:
                self.codes[code] = {"redirect_uri": redirect, "challenge": query["code_challenge"],
                                    "offline": query.get("access_type") == "offline"}
            params = {"code": code, "scope": self.granted_scope}
        if "state" in query:
            params["state"] = query["state"]
        return 302, {"Location": f"{redirect}?{urlencode(params)}"}, b""

    def token(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type")
        self.record("oauth.token", grant_type=grant)
        invalid = (400, {"error": "invalid_grant", "error_description": "Token has been expired or revoked."})
        with self.lock:
            if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
                return 401, {"error": "invalid_client", "error_description": "Unauthorized"}
            if grant == "authorization_code":
                info = self.codes.pop(form.get("code", ""), None)
                if info is None or info["redirect_uri"] != form.get("redirect_uri"):
                    return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
                if challenge.decode() != info["challenge"]:
                    return 400, {"error": "invalid_grant", "error_description": "Missing code verifier."}
                refresh = self.issue_refresh_token()
                body = {"access_token": self._new_access_token(refresh), "expires_in": self.token_lifetime,
                        "scope": self.granted_scope, "token_type": "Bearer"}
                if info["offline"]:
                    body["refresh_token"] = refresh
                return 200, body
            if grant == "refresh_token":
                refresh = form.get("refresh_token", "")
                info = self.refresh_tokens.get(refresh)
                if info is None or info["revoked"]:
                    return invalid
                return 200, {"access_token": self._new_access_token(refresh), "expires_in": self.token_lifetime,
                             "scope": SCOPE, "token_type": "Bearer"}
        return 400, {"error": "unsupported_grant_type"}

    def revoke(self, token: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            refresh = self.access_tokens.get(token, {}).get("refresh", token)
            info = self.refresh_tokens.get(refresh)
            self.record("oauth.revoke", known=info is not None)
            if info is None:
                return 400, {"error": "invalid_token", "error_description": "Token expired or revoked"}
            info["revoked"] = True
            for key in [k for k, v in self.access_tokens.items() if v["refresh"] == refresh]:
                del self.access_tokens[key]
        return 200, {}

    # API ------------------------------------------------------------------------------------------

    def visible(self, file_id: str) -> DriveFile | None:
        stored = self.files.get(file_id)
        return stored if stored is not None and stored.app_created else None

    def about(self) -> dict[str, Any]:
        used = self.used()
        return {"kind": "drive#about", "name": self.user["displayName"], "user": self.user,
                "quotaBytesTotal": str(self.quota_total), "quotaBytesUsed": str(used - self.used_elsewhere),
                "quotaBytesUsedAggregate": str(used),
                "quotaBytesUsedInTrash": str(sum(len(f.data or b"") for f in self.files.values() if f.trashed)),
                "quotaType": "LIMITED", "rootFolderId": ROOT_ID}

    def query(self, q: str) -> Callable[[DriveFile], bool] | None:
        """The ``q`` of files.list as a predicate; None for anything this fake does not understand."""
        tests: list[Callable[[DriveFile], bool]] = []
        for clause in _split_and(q):
            clause = clause.strip()
            if m := re.fullmatch(r"'((?:[^'\\]|\\.)*)' in parents", clause):
                parent = _unquote(m.group(1))
                parent = ROOT_ID if parent == "root" else parent
                tests.append(lambda f, p=parent: p in f.parents)
            elif m := re.fullmatch(r"(title|mimeType) (=|!=) '((?:[^'\\]|\\.)*)'", clause):
                key, op, value = m.group(1), m.group(2), _unquote(m.group(3))
                tests.append(lambda f, k=key, o=op, v=value: ((f.title if k == "title" else f.mime) == v) == (o == "="))
            elif m := re.fullmatch(r"trashed = (true|false)", clause):
                wanted = m.group(1) == "true"
                tests.append(lambda f, t=wanted: f.trashed == t)
            else:
                return None
        return lambda f: all(t(f) for t in tests)

    def api(self, method: str, route: str, file_id: str | None, params: dict[str, str],
            body: bytes) -> tuple[int, Any]:
        with self.lock:
            if route == "about.get":
                return 200, self.about()
            if route == "files.list":
                matches = self.query(params.get("q", ""))
                if matches is None:
                    return _error(400, "invalid", "Invalid query")
                found = sorted((f for f in self.files.values() if f.app_created and matches(f)),
                               key=lambda f: (f.created, f.id))
                start = int(params.get("pageToken") or 0)
                size = min(int(params.get("maxResults") or 100), self.page_size)
                page = found[start:start + size]
                result: dict[str, Any] = {"kind": "drive#fileList", "items": [f.metadata(self.host) for f in page]}
                if start + size < len(found):
                    result["nextPageToken"] = str(start + size)
                return 200, result
            if route == "files.insert":
                meta = json.loads(body or b"{}")
                if meta.get("mimeType") != FOLDER_MIME:
                    return _error(400, "badContent", "Only folders are created without content here")
                parents = [ROOT_ID if p.get("id") == "root" else p.get("id") for p in meta.get("parents") or
                           [{"id": ROOT_ID}]]
                if any(p != ROOT_ID and self.visible(p) is None for p in parents):
                    return _error(404, "notFound", "File not found: parent")
                return 200, self.add_folder(meta.get("title") or "Untitled", parents[0]).metadata(self.host)
            stored = self.visible(file_id or "")
            if stored is None:
                return _error(404, "notFound", f"File not found: {file_id}")
            if route == "files.get":
                return 200, stored.metadata(self.host)
            if route == "files.delete":
                for child in self.children(stored.id):
                    del self.files[child.id]
                del self.files[stored.id]
                return 204, None
        return _error(400, "invalid", f"unknown route {method} {route}")

    def start_upload(self, params: dict[str, str], headers, body: bytes) -> tuple[int, Any, dict[str, str]]:
        meta = json.loads(body or b"{}")
        size = headers.get("X-Upload-Content-Length")
        with self.lock:
            parents = [p.get("id") for p in meta.get("parents") or [{"id": ROOT_ID}]]
            if any(p not in ("root", ROOT_ID) and self.visible(p) is None for p in parents):
                return *_error(404, "notFound", "File not found: parent"), {}
            if size is not None and self.used() + int(size) > self.quota_total:
                return *_error(403, "storageQuotaExceeded", "The user's Drive storage quota has been exceeded."), {}
            session = UploadSession("up-" + secrets.token_urlsafe(18), meta, int(size) if size is not None else None)
            self.sessions[session.id] = session
        location = f"https://{self.host}/upload/drive/v2/files?uploadType=resumable&upload_id={session.id}"
        return 200, None, {"Location": location}

    def _finish(self, session: UploadSession, corrupt: bool) -> tuple[int, Any]:
        data = bytes(session.data)
        if corrupt and data:
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]
        if self.used() + len(data) > self.quota_total:
            return _error(403, "storageQuotaExceeded", "The user's Drive storage quota has been exceeded.")
        parents = [ROOT_ID if p.get("id") == "root" else p.get("id")
                   for p in session.meta.get("parents") or [{"id": ROOT_ID}]]
        stored = self.put_file(parents[0], session.meta.get("title") or "Untitled", data,
                               mime=session.meta.get("mimeType") or "application/octet-stream")
        session.result = stored.id
        return 200, stored.metadata(self.host)

    def chunk(self, upload_id: str, content_range: str, body: bytes, kept: int | None,
              corrupt: bool) -> tuple[int, Any, dict[str, str], str]:
        """One PUT to a session; ``kept`` (a dropped chunk) stores only that many bytes and answers nothing.
        Returns (status, payload, headers, route)."""
        with self.lock:
            route = "upload.status" if content_range.startswith("bytes */") else "upload.chunk"
            session = self.sessions.get(upload_id)
            if session is None:
                return *_error(404, "notFound", "Upload session not found"), {}, route
            m = re.fullmatch(r"bytes (\*|(\d+)-(\d+))/(\*|\d+)", content_range.strip())
            if m is None:
                return *_error(400, "badRequest", "Invalid Content-Range"), {}, route
            total = None if m.group(4) == "*" else int(m.group(4))
            if m.group(1) == "*":
                if session.result is not None:
                    return 200, self.files[session.result].metadata(self.host), {}, "upload.status"
                return 308, None, self._range(session), "upload.status"
            if session.result is not None:
                return 200, self.files[session.result].metadata(self.host), {}, "upload.chunk"
            start, end = int(m.group(2)), int(m.group(3))
            if end - start + 1 != len(body) and kept is None:
                return *_error(400, "badRequest", "Content-Range does not match the body"), {}, "upload.chunk"
            if start > len(session.data):
                return 308, None, self._range(session), "upload.chunk"
            final = total is not None and end + 1 == total
            if not final and len(body) % UPLOAD_GRANULARITY and kept is None:
                return *_error(400, "badRequest", "Chunks must be multiples of 256 KiB"), {}, "upload.chunk"
            if kept is not None:
                session.data[start:] = body[:kept]
                return 0, None, {}, "upload.chunk"
            session.data[start:] = body
            if final:
                status, payload = self._finish(session, corrupt)
                return status, payload, {}, "upload.chunk"
            return 308, None, self._range(session), "upload.chunk"

    @staticmethod
    def _range(session: UploadSession) -> dict[str, str]:
        return {"Range": f"bytes=0-{len(session.data) - 1}"} if session.data else {}


def _split_and(q: str) -> list[str]:
    """Split on `` and `` outside quoted strings."""
    parts, current, quoted, i = [], [], False, 0
    while i < len(q):
        ch = q[i]
        if ch == "\\" and quoted and i + 1 < len(q):
            current.append(q[i:i + 2])
            i += 2
            continue
        if ch == "'":
            quoted = not quoted
        if not quoted and q.startswith(" and ", i):
            parts.append("".join(current))
            current = []
            i += 5
            continue
        current.append(ch)
        i += 1
    parts.append("".join(current))
    return [p for p in parts if p.strip()]


def _unquote(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


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
    app: FakeDrive

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

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except _Reset:
            self.close_connection = True

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any, extra: dict[str, str] | None = None) -> None:
        if status in (204, 308) and payload is None:
            self._send(status, b"", extra)
            return
        self._send(status, json.dumps(payload).encode(), {"Content-Type": "application/json; charset=UTF-8",
                                                           **(extra or {})})

    def _reset(self) -> None:
        _hard_close(self.connection)
        self.close_connection = True
        raise _Reset()

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _route(self, method: str, path: str, params: dict[str, str]) -> tuple[str, str | None]:
        if path == "/drive/v2/about" and method == "GET":
            return "about.get", None
        if path == "/drive/v2/files":
            return ("files.list" if method == "GET" else "files.insert"), None
        if m := re.fullmatch(r"/drive/v2/files/([^/]+)", path):
            if method == "DELETE":
                return "files.delete", m.group(1)
            return ("files.download" if params.get("alt") == "media" else "files.get"), m.group(1)
        if path == "/upload/drive/v2/files":
            if method == "POST":
                return "upload.start", None
            content_range = self.headers.get("Content-Range", "")
            return ("upload.status" if content_range.startswith("bytes */") else "upload.chunk"), None
        return "unknown", None

    # every method goes through here
    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        app = self.app
        if url.path == "/o/oauth2/auth" and method == "GET":
            status, headers, body = app.authorize(params)
            self._send(status, body, {"Content-Type": "text/html; charset=utf-8", **headers})
            return
        if url.path == "/token" and method == "POST":
            fault = app.take_fault("oauth.token", {})
            form = {k: v[0] for k, v in parse_qs(self._body().decode()).items()}
            if fault is not None and fault.kind in ("500", "503"):
                app.record("oauth.token", grant_type=form.get("grant_type"), fault=fault.kind)
                self._send(int(fault.kind), b"Internal Server Error", {"Content-Type": "text/plain"})
                return
            if fault is not None and fault.kind == "drop":
                app.record("oauth.token", grant_type=form.get("grant_type"), fault="drop")
                self._reset()
            self._json(*app.token(form))
            return
        if url.path == "/revoke":
            token = params.get("token") or {k: v[0] for k, v in parse_qs(self._body().decode()).items()}.get("token", "")
            self._json(*app.revoke(token))
            return
        route, file_id = self._route(method, url.path, params)
        length = int(self.headers.get("Content-Length") or 0)
        info = {"file_id": file_id, "content_range": self.headers.get("Content-Range")}
        fault = app.take_fault(route, info)
        entry: dict[str, Any] = {"route": route, "method": method, "file_id": file_id,
                                 "content_range": self.headers.get("Content-Range"), "length": length,
                                 "fault": fault.kind if fault else None}
        if fault is not None and fault.kind == "drop":
            part = self.rfile.read(int(length * fault.fraction))
            if route == "upload.chunk":
                kept = len(part) - len(part) % UPLOAD_GRANULARITY
                app.chunk(params.get("upload_id", ""), self.headers.get("Content-Range", ""), part, kept, False)
                entry["kept"] = kept
            app.record(**entry)
            self._reset()
        body = self._body()
        if fault is not None and fault.kind == "close":
            app.record(**entry)
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            raise _Reset()
        if fault is not None and fault.kind == "call" and fault.action is not None:
            fault.action()
        if fault is not None and fault.kind == "502_html":
            app.record(**entry, status=502)
            self._send(502, b"<html><body><h1>502 Bad Gateway</h1></body></html>", {"Content-Type": "text/html"})
            return
        if fault is not None and fault.kind in ("500", "503", "429", "403_rate"):
            app.record(**entry, status=int(fault.kind[:3]))
            if fault.kind == "429":
                self._json(*_error(429, "rateLimitExceeded", "Rate Limit Exceeded"),
                           {"Retry-After": str(fault.retry_after)})
            elif fault.kind == "403_rate":
                self._json(*_error(403, "userRateLimitExceeded", "User Rate Limit Exceeded"))
            else:
                self._json(*_error(int(fault.kind), "backendError", "Backend Error"))
            return
        if fault is not None and fault.kind == "stall":
            time.sleep(fault.retry_after)
        corrupt = fault is not None and fault.kind == "corrupt"
        if route in ("upload.chunk", "upload.status"):
            status, payload, headers, route = app.chunk(params.get("upload_id", ""),
                                                        self.headers.get("Content-Range", ""), body, None, corrupt)
            entry["route"] = route
            if route == "upload.status" and status == 308:  # what Google says it has
                entry["received"] = int(headers["Range"].split("-")[1]) + 1 if "Range" in headers else 0
        else:
            denied = app.check_auth(self.headers.get("Authorization"))
            if denied is not None:
                app.record(**entry, status=401)
                self._json(*denied, {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})
                return
            if route == "files.download":
                self._download(file_id or "", fault, entry)
                return
            headers = {}
            if route == "upload.start":
                status, payload, headers = app.start_upload(params, self.headers, body)
            elif route == "unknown":
                status, payload = _error(404, "notFound", f"no route {method} {url.path}")
            else:
                status, payload = app.api(method, route, file_id, params, body)
        app.record(**entry, status=status,
                   reason=payload["error"]["errors"][0]["reason"] if status >= 400 else None)
        if fault is not None and fault.kind == "drop_after":
            self._reset()
        self._json(status, payload, headers)

    def _download(self, file_id: str, fault: Fault | None, entry: dict[str, Any]) -> None:
        app = self.app
        with app.lock:
            stored = app.visible(file_id)
            data = stored.data if stored is not None else None
        if data is None:
            app.record(**entry, status=404)
            self._json(*_error(404, "notFound", f"File not found: {file_id}"))
            return
        start, end = 0, len(data) - 1
        wanted = self.headers.get("Range")
        if wanted and (m := re.fullmatch(r"bytes=(\d+)-(\d*)", wanted.strip())):
            start = int(m.group(1))
            end = min(int(m.group(2)) if m.group(2) else len(data) - 1, len(data) - 1)
        body = data[start:end + 1]
        if fault is not None and fault.kind == "corrupt" and body:
            mid = len(body) // 2
            body = body[:mid] + bytes([body[mid] ^ 0xFF]) + body[mid + 1:]
        status = 206 if wanted else 200
        app.record(**entry, status=status, range=wanted)
        self.send_response(status)
        self.send_header("Content-Type", "application/zip")
        if wanted:
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if fault is not None and fault.kind == "drop_after":
            self.wfile.write(body[:int(len(body) * fault.fraction)])
            self.wfile.flush()
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.close_connection = True
            raise _Reset()
        self.wfile.write(body)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")
