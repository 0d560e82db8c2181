"""Google Drive: sign-in through the browser, verified resumable uploads, listing, permanent deletes, free space.

pydrive2 (Drive API v2) holds the credentials in its dictionary backend, whose dictionary writes through to
the OS keyring (``wizard.core.secrets``; never pydrive2's plaintext JSON file), builds the authorised http
objects and the service, lists, deletes for good and reads the quota. Uploads and downloads use
googleapiclient's resumable media objects on that service, so that one loop here decides about retries
(5xx, 429, rate-limit 403s, dropped connections) and cancel, and an interrupted upload continues at the
offset Google reports. The scope is drive.file: Respaldos sees only the files it created.

Endpoints: RESPALDOS_GOOGLE_API_ENDPOINT is the API base URL given to the client build (uploads go to
``/upload/drive/v2/files`` on its host); the auth, token and revoke URIs come from the OAuth client file;
the CA from HTTPLIB2_CA_CERTS (read by httplib2 when it is imported). There is no other way in, for tests
or proxies.

The Google libraries are imported inside the methods: importing this module stays cheap for the CLI.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import logging
import os
import secrets as token_source
import socket
import ssl
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wizard import __version__
from wizard.core import paths, secrets
from wizard.core.cloud.base import (
    SIGN_IN_TIMEOUT,
    Backoff,
    ByteProgress,
    Checkpoint,
    CloudError,
    CloudFull,
    CloudProvider,
    NeedsLogin,
    NotConfigured,
    Offline,
    RemoteFile,
    ServiceUnavailable,
    VerificationFailed,
    vendor_settings,
)
from wizard.core.cloud.oauth import LOOPBACK_PORTS, LoopbackListener, open_browser
from wizard.core.errors import Cancelled, UserError
from wizard.core.fsutil import atomic_write_bytes, fsync_dir
from wizard.i18n import _

logger = logging.getLogger(__name__)
# oauth2client logs every refresh at INFO, googleapiclient every URL at DEBUG: our own lines say what matters.
for _name in ("oauth2client", "googleapiclient"):
    logging.getLogger(_name).setLevel(logging.WARNING)

CLIENT_SECRETS_ENV = "RESPALDOS_GOOGLE_CLIENT_SECRETS"
API_ENDPOINT_ENV = "RESPALDOS_GOOGLE_API_ENDPOINT"
BUNDLED_CLIENT_FILE = "google_client_secrets.json"  # in assets/, put there by a vendor (never committed)
SECRET_NAME = "google_drive"
SCOPE = "https://www.googleapis.com/auth/drive.file"
DEFAULT_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
DEFAULT_REVOKE_URI = "https://oauth2.googleapis.com/revoke"
FOLDER_MIME = "application/vnd.google-apps.folder"
ARCHIVE_MIME = "application/zip"
FOLDER_STATE_FILE = "google_drive_carpeta.json"  # the remote folder's id, in the data folder

MiB = 1 << 20
CHUNK_SIZE = 8 * MiB  # resumable chunks must be multiples of 256 KiB; Google suggests 8 MiB or more
VERIFY_ATTEMPTS = 3  # uploads (or downloads) of one file whose md5 differs before giving up for this run
SESSION_MAX_AGE = timedelta(days=6)  # Google keeps an unfinished resumable session for a week
REQUEST_TIMEOUT = 60.0  # seconds without a byte from Google before the request counts as dropped
OFFLINE_ATTEMPTS = 2  # tries when no connection can be opened at all (the queue retries later)
RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
QUOTA_REASONS = {"storageQuotaExceeded", "quotaExceeded"}
_NETWORK_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT,
                   errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTUNREACH, errno.EHOSTDOWN, errno.EADDRNOTAVAIL}
_CONNECT_ERRNOS = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTUNREACH, errno.EHOSTDOWN,
                   errno.EADDRNOTAVAIL}
_CREDENTIALS_KEY = "credentials"


# -- the OAuth client ---------------------------------------------------------------------------------

def _bundled_client_file() -> Path | None:
    """assets/google_client_secrets.json in the executable or beside the package (a vendor's build)."""
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "assets" / BUNDLED_CLIENT_FILE)
    here = Path(__file__).resolve()
    candidates += [here.parents[2] / "assets" / BUNDLED_CLIENT_FILE, here.parents[3] / "assets" / BUNDLED_CLIENT_FILE]
    return next((c for c in candidates if c.is_file()), None)


def _not_configured() -> NotConfigured:
    return NotConfigured(_(
        "Falta el cliente OAuth de Google (el archivo client_secrets.json de quien instaló Respaldos), sin el "
        "cual Respaldos no puede conectarse a Google Drive. Quien instaló Respaldos debe crear un cliente "
        "«App de escritorio» en Google Cloud e indicarlo en la variable RESPALDOS_GOOGLE_CLIENT_SECRETS o "
        "incluirlo en la instalación. Mientras tanto elige «Ninguna» y guarda los respaldos en una memoria USB "
        "o un disco externo."))


def _installed_client(data: Any, source: str) -> dict[str, str]:
    installed = data.get("installed") if isinstance(data, dict) else None
    if not isinstance(installed, dict) or not installed.get("client_id") or not installed.get("client_secret"):
        raise NotConfigured(_(
            "El archivo del cliente OAuth de Google ({source}) no es de una «App de escritorio»: le falta la "
            "sección \"installed\" con client_id y client_secret. Descarga de nuevo el JSON del cliente de tipo "
            "«App de escritorio» en Google Cloud.").format(source=source))
    return {"client_id": str(installed["client_id"]), "client_secret": str(installed["client_secret"]),
            "auth_uri": str(installed.get("auth_uri") or DEFAULT_AUTH_URI),
            "token_uri": str(installed.get("token_uri") or DEFAULT_TOKEN_URI),
            "revoke_uri": str(installed.get("revoke_uri") or DEFAULT_REVOKE_URI)}


def _read_client_file(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotConfigured(_(
            "No se encontró el archivo del cliente OAuth de Google {path} (indicado en "
            "RESPALDOS_GOOGLE_CLIENT_SECRETS). Revisa la ruta o quita la variable.").format(path=path)) from None
    except (OSError, ValueError) as exc:
        raise NotConfigured(_(
            "No se pudo leer el archivo del cliente OAuth de Google {path} ({error}). Descárgalo de nuevo de "
            "Google Cloud.").format(path=path, error=type(exc).__name__)) from None
    return _installed_client(data, str(path))


def load_client_config() -> dict[str, str]:
    """The vendor's OAuth client ("installed" application): the file named by RESPALDOS_GOOGLE_CLIENT_SECRETS,
    else ``google_client_config`` in the build's respaldos-vendor.json, else assets/google_client_secrets.json.
    Returns client_id, client_secret, auth_uri, token_uri, revoke_uri; NotConfigured when there is none."""
    env = os.environ.get(CLIENT_SECRETS_ENV, "").strip()
    if env:
        return _read_client_file(Path(env))
    vendor = vendor_settings().get("google_client_config")
    if vendor:
        return _installed_client(vendor, "respaldos-vendor.json")
    bundled = _bundled_client_file()
    if bundled is not None:
        return _read_client_file(bundled)
    raise _not_configured()


def api_client_options() -> dict[str, str] | None:
    """``client_options`` for the Drive client build: RESPALDOS_GOOGLE_API_ENDPOINT as the API base URL."""
    endpoint = os.environ.get(API_ENDPOINT_ENV, "").strip()
    if not endpoint:
        return None
    return {"api_endpoint": endpoint if endpoint.endswith("/") else endpoint + "/"}


# -- credentials in the keyring through pydrive2's dictionary backend ---------------------------------

class _KeyringDict(dict):
    """The dictionary pydrive2's "dictionary" credentials backend reads and writes, backed by the keyring:
    what oauth2client stores (after sign-in, after each token refresh) goes to ``secrets``, and a delete
    forgets it there."""

    def __init__(self) -> None:
        super().__init__()
        stored = secrets.get_secret(SECRET_NAME)
        if stored:
            super().__setitem__(_CREDENTIALS_KEY, stored)

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key, value)
        secrets.set_secret(SECRET_NAME, value)

    def pop(self, key: str, default: Any = None) -> Any:
        secrets.delete_secret(SECRET_NAME)
        return super().pop(key, default)


def _stored_credentials() -> dict[str, Any] | None:
    raw = secrets.get_secret(SECRET_NAME)
    if not raw:
        return None
    try:
        creds = json.loads(raw)
    except ValueError:
        logger.warning("stored Google credentials are not readable; sign in again")
        return None
    if not isinstance(creds, dict) or not creds.get("refresh_token") or not creds.get("client_id"):
        return None
    return creds


def _settings(store: dict, client: dict[str, str]) -> dict[str, Any]:
    """pydrive2 settings: credentials in ``store`` (never a file), scope drive.file, a refresh token."""
    return {
        "client_config_backend": "settings",
        "client_config": {**client, "redirect_uri": f"http://127.0.0.1:{LOOPBACK_PORTS[0]}/"},
        "save_credentials": True,
        "save_credentials_backend": "dictionary",
        "save_credentials_dict": store,
        "save_credentials_key": _CREDENTIALS_KEY,
        "oauth_scope": [SCOPE],
        "get_refresh_token": True,
    }


@cache
def _auth_class():
    """pydrive2's GoogleAuth, adjusted: the API endpoint from the environment, and never a browser by surprise."""
    from googleapiclient.discovery import build
    from pydrive2.auth import AuthenticationError, GoogleAuth

    class RespaldosAuth(GoogleAuth):
        def LocalWebserverAuth(self, *args: Any, **kwargs: Any) -> None:
            """pydrive2 calls this before a request when the access token has expired: refresh it instead of
            opening a browser in the middle of a backup (RefreshError when that is not possible)."""
            self.Refresh()

        def Authorize(self) -> None:
            if self.access_token_expired:
                raise AuthenticationError("No valid credentials provided to authorize")
            if self.http is None:
                self.http = self._build_http()
            self.http = self.credentials.authorize(self.http)
            self.service = build("drive", "v2", http=self.http, cache_discovery=False, static_discovery=True,
                                 client_options=api_client_options())

    return RespaldosAuth


# -- errors ---------------------------------------------------------------------------------------------

def _http_error_info(exc: BaseException) -> tuple[int, str, float | None] | None:
    """(status, first error reason, Retry-After seconds) of a googleapiclient HttpError or a pydrive2
    ApiRequestError; None for anything else."""
    from googleapiclient.errors import HttpError

    error = exc.args[0] if exc.args and isinstance(exc.args[0], HttpError) else exc
    if isinstance(exc, ValueError):  # pydrive2 could not parse an error page that was not JSON (a proxy's 502)
        context = exc.__context__
        while context is not None and not isinstance(context, HttpError):
            context = context.__context__
        error = context or exc
    if not isinstance(error, HttpError):
        return None
    reason = ""
    try:
        body = json.loads(error.content.decode("utf-8")) if error.content else {}
        reason = (body.get("error", {}).get("errors") or [{}])[0].get("reason", "") if isinstance(body, dict) else ""
    except (ValueError, AttributeError, IndexError, TypeError):
        pass
    retry_after = None
    try:
        retry_after = float(error.resp.get("retry-after")) if error.resp.get("retry-after") else None
    except (TypeError, ValueError):
        pass
    return int(error.resp.status), reason, retry_after


def _refresh_failure(exc: BaseException) -> tuple[int | None, str] | None:
    """(HTTP status, error text) when getting an access token failed (oauth2client or pydrive2's RefreshError)."""
    from oauth2client.client import AccessTokenRefreshError
    from pydrive2.auth import RefreshError

    if isinstance(exc, RefreshError):
        inner = exc.__context__
        if isinstance(inner, AccessTokenRefreshError):
            return getattr(inner, "status", None), str(inner)
        return None, str(exc)  # no refresh token at all
    if isinstance(exc, AccessTokenRefreshError):
        return getattr(exc, "status", None), str(exc)
    return None


def _network_error(exc: BaseException) -> bool:
    """A problem on the way to Google (not a local file error): worth retrying, or offline."""
    import httplib2

    if isinstance(exc, (httplib2.HttpLib2Error, http.client.HTTPException, ssl.SSLError, socket.timeout,
                        ConnectionError, socket.gaierror)):
        return True
    return isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS


def _connect_failure(exc: BaseException) -> bool:
    """The connection could not even be opened (refused, no route, no DNS): the computer is offline."""
    import httplib2

    if isinstance(exc, (httplib2.ServerNotFoundError, socket.gaierror, ConnectionRefusedError)):
        return True
    return isinstance(exc, OSError) and exc.errno in _CONNECT_ERRNOS


def _utc(value: str | None) -> datetime | None:
    """Drive's RFC 3339 dates as naive UTC."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
    except ValueError:
        return None


def _quote(value: str) -> str:
    """A string literal for a files.list query."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def file_md5(path: Path, cancel: threading.Event | None = None) -> str:
    """The md5 of a local file, as Drive's md5Checksum."""
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while block := fh.read(4 * MiB):
            digest.update(block)
            if cancel is not None and cancel.is_set():
                raise Cancelled()
    return digest.hexdigest()


class _Restart(Exception):
    """The resumable session is gone (expired, or Google forgot it): start a new one."""


# -- the provider ---------------------------------------------------------------------------------------

class GoogleDriveProvider(CloudProvider):
    name = "google_drive"
    title = "Google Drive"

    def __init__(self, cloud):
        super().__init__(cloud)
        self._auth = None
        self._drive = None
        self._http_objects: list[Any] = []
        self._folder_id: str | None = None
        self._connected = False  # a request went through in this session: later drops are retried longer
        self._hashes: dict[tuple[str, int, int], str] = {}

    # -- credentials ----------------------------------------------------------------------------------

    def signed_in(self) -> bool:
        return _stored_credentials() is not None

    def _client(self):
        """pydrive2's GoogleDrive with the stored credentials, the access token fresh."""
        if self._drive is None:
            creds = _stored_credentials()
            if creds is None:
                raise NeedsLogin(_("Inicia sesión con Google para subir los respaldos a Google Drive."))
            from pydrive2.drive import GoogleDrive

            client = {"client_id": creds["client_id"], "client_secret": creds.get("client_secret") or "",
                      "auth_uri": DEFAULT_AUTH_URI, "token_uri": creds.get("token_uri") or DEFAULT_TOKEN_URI,
                      "revoke_uri": creds.get("revoke_uri") or DEFAULT_REVOKE_URI}
            auth = _auth_class()(settings=_settings(_KeyringDict(), client), http_timeout=REQUEST_TIMEOUT)
            try:
                auth.LoadCredentials()
            except (KeyError, TypeError, ValueError) as exc:
                logger.warning("stored Google credentials are not usable (%s); sign in again", type(exc).__name__)
                raise NeedsLogin(_("Vuelve a iniciar sesión con Google.")) from None
            # oauth2client marks credentials invalid after any refresh error, even a passing 5xx; only
            # invalid_grant means signed out, and that shows again on the next refresh.
            auth.credentials.invalid = False
            self._auth = auth
            if auth.access_token_expired:
                self._request(auth.Refresh)
            auth.Authorize()  # builds the service; no request yet
            self._drive = GoogleDrive(auth)
        return self._drive

    def _new_http(self):
        """An authorised http object of its own (pydrive2 makes one per thread; a broken one is replaced)."""
        self._client()
        http = self._auth.Get_Http_Object()
        self._http_objects.append(http)
        return http

    def close(self) -> None:
        for connection in self._http_objects:
            try:
                connection.close()
            except OSError as exc:
                logger.debug("closing a Google connection: %s", exc)
        self._http_objects.clear()
        if self._auth is not None:
            local = getattr(self._auth.thread_local, "http", None)
            if local is not None:
                local.close()
            if self._auth.http is not None:
                self._auth.http.close()
        self._auth = None
        self._drive = None

    # -- sign-in --------------------------------------------------------------------------------------

    def paste_hint(self) -> tuple[str, str]:
        """(explanation, prompt) for ``respaldos cloud login google_drive --no-browser``: Google shows no code
        after approval, so the user pastes the address the browser went to."""
        return (_("Abre esta dirección en un navegador (en esta u otra computadora) y autoriza a Respaldos. "
                  "Después el navegador irá a una dirección que empieza con http://127.0.0.1 (no importa que la "
                  "página no cargue): cópiala completa de la barra de direcciones y pégala aquí."),
                _("Dirección: "))

    def sign_in(self, *, cancel: threading.Event | None = None, timeout: float = SIGN_IN_TIMEOUT,
                ask_code: Callable[[str], str | None] | None = None,
                show_url: Callable[[str], None] | None = None, use_browser: bool = True) -> str:
        client = load_client_config()
        cancel = cancel or threading.Event()
        credentials = None
        try:
            listener = LoopbackListener((*LOOPBACK_PORTS, 0)) if use_browser else None
        except OSError as exc:
            logger.warning("no loopback port for the sign-in redirect (%s); asking for the address instead", exc)
            listener = None
        if listener is not None:
            with listener:
                flow = self._flow(client, listener.redirect_uri)
                listener.state = token_source.token_urlsafe(24)
                listener.complete = lambda params: self._exchange(flow, params)
                url = flow.step1_get_authorize_url(state=listener.state)
                if show_url is not None:
                    show_url(url)
                logger.info("opening the browser for the Google sign-in (redirect %s)", listener.redirect_uri)
                if open_browser(url):
                    credentials = listener.wait(timeout, cancel)
                else:
                    logger.info("no browser could be opened; asking for the address instead")
        if credentials is None:
            if ask_code is None:
                raise UserError(_("No se pudo abrir el navegador para iniciar sesión con Google. Usa en una "
                                  "terminal: respaldos cloud login google_drive --no-browser"))
            # Google has no page that shows a code any more: after approval the browser goes to this
            # address, where nothing listens, and the user copies it from the address bar.
            flow = self._flow(client, f"http://127.0.0.1:{LOOPBACK_PORTS[0]}/")
            state = token_source.token_urlsafe(24)
            answer = ask_code(flow.step1_get_authorize_url(state=state))
            if cancel.is_set() or not answer or not answer.strip():
                raise Cancelled()
            credentials = self._exchange(flow, _pasted(answer.strip(), state))
        self.close()
        auth = _auth_class()(settings=_settings(_KeyringDict(), client), http_timeout=REQUEST_TIMEOUT)
        auth.credentials = credentials
        auth.SaveCredentials()  # through the dictionary backend into the keyring
        _forget_folder()
        logger.info("Google sign-in complete; credentials stored (%s)", secrets.storage_description())
        return self.account_label()

    @staticmethod
    def _flow(client: dict[str, str], redirect_uri: str):
        """The installed-app flow: PKCE, offline access (a refresh token), consent asked every time so that
        a new refresh token comes even when the account approved Respaldos before."""
        from oauth2client.client import OAuth2WebServerFlow

        return OAuth2WebServerFlow(client["client_id"], client["client_secret"], SCOPE, redirect_uri=redirect_uri,
                                   auth_uri=client["auth_uri"], token_uri=client["token_uri"],
                                   revoke_uri=client["revoke_uri"], user_agent=f"Respaldos/{__version__}",
                                   pkce=True, access_type="offline", prompt="consent")

    @staticmethod
    def _exchange(flow, params: dict[str, str]):
        """Exchange the code for credentials, turning what can go wrong into sentences. Runs on the loopback
        listener's thread for a browser sign-in: its sentence is what the browser tab shows."""
        import httplib2
        from oauth2client.client import FlowExchangeError

        if "error" in params or not params.get("code"):
            logger.info("Google sign-in not approved: %s", params.get("error", "no code"))
            raise UserError(_("No se dio permiso a Respaldos en Google. Vuelve a intentarlo y pulsa «Continuar» "
                              "o «Permitir»."))
        try:
            credentials = flow.step2_exchange(params["code"], http=httplib2.Http(timeout=REQUEST_TIMEOUT))
        except FlowExchangeError as exc:
            logger.warning("Google refused the sign-in code: %s", str(exc).split(":")[0])
            raise UserError(_("Google no aceptó el código de inicio de sesión (quizá ya se usó o caducó). "
                              "Vuelve a intentarlo.")) from None
        except Exception as exc:
            if not _network_error(exc):
                raise
            logger.warning("sign-in code exchange failed: %s", type(exc).__name__)
            raise Offline(_("No hay conexión con Google. Revisa la conexión a internet y vuelve a "
                            "intentarlo.")) from None
        if not credentials.refresh_token:
            raise UserError(_("Google no entregó un permiso duradero para Respaldos. Vuelve a iniciar sesión."))
        granted = str((credentials.token_response or {}).get("scope", SCOPE)).split()
        if SCOPE not in granted:
            raise UserError(_("No se dio permiso a Respaldos para guardar archivos en Google Drive. Vuelve a "
                              "iniciar sesión y deja marcada la casilla de Google Drive."))
        return credentials

    def sign_out(self) -> None:
        creds = _stored_credentials()
        secrets.delete_secret(SECRET_NAME)
        _forget_folder()
        self.close()
        if creds is None:
            return
        try:  # best effort: the token is already forgotten here
            import httplib2
            from oauth2client.client import OAuth2Credentials

            credentials = OAuth2Credentials.from_json(json.dumps(creds))
            credentials.revoke(httplib2.Http(timeout=10))
            logger.info("Google token revoked")
        except Exception as exc:  # noqa: BLE001 - offline or already revoked: nothing to do
            logger.info("Google token not revoked at the server: %s", type(exc).__name__)

    def account_label(self) -> str:
        about = self._request(lambda: self._client().GetAbout())
        user = about.get("user") or {}
        name, email = user.get("displayName") or about.get("name") or "", user.get("emailAddress") or ""
        if name and email:
            return f"{name} ({email})"
        return name or email or self.title

    # -- requests with retries ------------------------------------------------------------------------

    def _request(self, call: Callable[[], Any], cancel: threading.Event | None = None) -> Any:
        """One call (pydrive2 or googleapiclient), retried on 5xx, 429, rate limits and dropped connections.
        HTTP errors that are the call's own answer (404, quota) go to the caller as they are."""
        backoff = Backoff(cancel)
        while True:
            backoff.check_cancel()
            try:
                result = call()
            except Exception as exc:  # noqa: BLE001 - sorted by _retry_or_raise, which re-raises the rest
                self._retry_or_raise(exc, backoff)
                continue
            self._connected = True
            return result

    def _retry_or_raise(self, exc: Exception, backoff: Backoff) -> None:
        """After a failed request: sleep and return (try again), or raise what the user should read."""
        info = _http_error_info(exc)
        if info is not None:
            status, reason, retry_after = info
            if status == 401:
                logger.warning("Google refused the stored sign-in (401 after a refresh)")
                raise NeedsLogin(_("Vuelve a iniciar sesión con Google.")) from None
            rate_limited = status == 429 or (status == 403 and reason in RATE_LIMIT_REASONS)
            if rate_limited or status >= 500 or status == 408:
                logger.info("Google answered %s %s; retrying", status, reason)
                if not backoff.wait(retry_after if rate_limited and retry_after is not None else None):
                    if rate_limited:
                        raise ServiceUnavailable(_("Google Drive pide esperar antes de seguir subiendo. El respaldo "
                                                   "se subirá más tarde.")) from None
                    raise ServiceUnavailable(_("Google Drive no responde en este momento. El respaldo se subirá "
                                               "más tarde.")) from None
                return
            raise exc
        refresh = _refresh_failure(exc)
        if refresh is not None:
            status, text = refresh
            if status is not None and (status >= 500 or status == 429):
                logger.info("Google's token service answered %s; retrying", status)
                if not backoff.wait():
                    raise ServiceUnavailable(_("Google no responde en este momento. El respaldo se subirá más "
                                               "tarde.")) from None
                return
            logger.warning("Google refused the stored sign-in: %s", text.split(":")[-2:][0].strip() or text)
            raise NeedsLogin(_("Vuelve a iniciar sesión con Google.")) from None
        if _network_error(exc):
            logger.info("connection to Google failed: %s: %s", type(exc).__name__, exc)
            offline = Offline(_("No hay conexión con Google Drive. El respaldo se subirá cuando vuelva la "
                                "conexión."))
            if _connect_failure(exc) and not self._connected and backoff.failures + 1 >= OFFLINE_ATTEMPTS:
                raise offline from None
            if not backoff.wait():
                raise offline from None
            return
        raise exc

    # -- the folder -----------------------------------------------------------------------------------

    def _folder(self, create: bool, cancel: threading.Event | None = None) -> str | None:
        """The id of ``cloud.folder`` in My Drive: the stored id while it is still a folder there, else found
        by title among the app's files, else created (with ``create``) and remembered."""
        if self._folder_id is not None:
            return self._folder_id
        parts = [p for p in self.folder.split("/") if p]
        if not parts:
            return "root"
        known = _load_folder_state()
        if known.get("folder") == self.folder and known.get("id"):
            meta = self._folder_meta(known["id"], cancel)
            if meta is not None:
                self._folder_id = known["id"]
                return self._folder_id
            logger.info("the stored Google Drive folder is gone or in the trash; looking for it by name")
        parent = "root"
        for title in parts:
            found = self._request(lambda p=parent, t=title: self._find_folder(p, t), cancel)
            if found is None:
                if not create:
                    return None
                # A retry after a lost answer looks again first, so that it never makes two folders.
                found = self._request(lambda p=parent, t=title: self._find_folder(p, t) or self._make_folder(p, t),
                                      cancel)
                logger.info("created the folder %s in Google Drive", title)
            parent = found
        self._folder_id = parent
        _save_folder_state(self.folder, parent)
        return parent

    def _folder_meta(self, folder_id: str, cancel: threading.Event | None) -> dict[str, Any] | None:
        try:
            meta = self._request(lambda: self._fetch(folder_id), cancel)
        except Exception as exc:
            if (_http_error_info(exc) or (0,))[0] == 404:
                return None
            raise
        if meta.get("mimeType") != FOLDER_MIME or (meta.get("labels") or {}).get("trashed"):
            return None
        return meta

    def _fetch(self, file_id: str) -> dict[str, Any]:
        item = self._client().CreateFile({"id": file_id})
        item.FetchMetadata()
        return dict(item.metadata)

    def _find_folder(self, parent: str, title: str) -> str | None:
        query = (f"title = {_quote(title)} and {_quote(parent)} in parents and mimeType = '{FOLDER_MIME}' "
                 "and trashed = false")
        found = self._client().ListFile({"q": query}).GetList()
        if not found:
            return None
        return min(found, key=lambda f: (f.get("createdDate") or "", f["id"]))["id"]

    def _make_folder(self, parent: str, title: str) -> str:
        folder = self._client().CreateFile({"title": title, "mimeType": FOLDER_MIME, "parents": [{"id": parent}]})
        folder.Upload()
        return folder["id"]

    def _files_named(self, folder_id: str, name: str, cancel: threading.Event | None = None) -> list[dict]:
        query = (f"title = {_quote(name)} and {_quote(folder_id)} in parents and mimeType != '{FOLDER_MIME}' "
                 "and trashed = false")
        found = self._request(lambda: self._client().ListFile({"q": query}).GetList(), cancel)
        return [dict(f) for f in found]

    # -- upload ---------------------------------------------------------------------------------------

    def local_md5(self, path: Path, cancel: threading.Event | None = None) -> str:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in self._hashes:
            self._hashes[key] = file_md5(path, cancel)
        return self._hashes[key]

    def same_content(self, path: Path, remote: RemoteFile) -> bool:
        path = Path(path)
        return (remote.size == path.stat().st_size and remote.content_hash is not None
                and remote.content_hash == self.local_md5(path))

    def upload(self, path: Path, *, progress: ByteProgress | None = None,
               cancel: threading.Event | None = None, resume: dict[str, Any] | None = None,
               checkpoint: Checkpoint | None = None) -> RemoteFile:
        path = Path(path)
        stat = path.stat()
        md5 = self.local_md5(path, cancel)
        save = checkpoint or (lambda state: None)
        free = self.free_space()
        if free is not None and free < stat.st_size:
            raise CloudFull(self.title, path.name, stat.st_size, free)
        folder_id = self._folder(create=True, cancel=cancel)
        assert folder_id is not None
        for attempt in range(1, VERIFY_ATTEMPTS + 1):
            meta = self._upload_resumable(path, stat, folder_id, progress, cancel, resume, save)
            resume = None
            save(None)
            if int(meta.get("fileSize") or -1) == stat.st_size and meta.get("md5Checksum") == md5:
                if progress is not None:
                    progress(stat.st_size, stat.st_size)
                logger.info("uploaded %s to Google Drive %s (%d bytes, md5 verified)", path.name, self.folder,
                            stat.st_size)
                self._remove_older_copies(folder_id, path.name, meta["id"], cancel)
                return self._remote(meta)
            logger.warning("md5Checksum of %s in Google Drive differs from the local file (attempt %d); "
                           "deleting the remote copy and uploading again", path.name, attempt)
            self._delete_id(meta["id"], cancel)
        raise VerificationFailed(_(
            "La copia de {name} en Google Drive no coincidió con el archivo de esta computadora después de "
            "{attempts} intentos. Se volverá a subir más tarde.").format(name=path.name, attempts=VERIFY_ATTEMPTS))

    def _usable_resume(self, resume: dict[str, Any] | None, stat: os.stat_result, name: str,
                       folder_id: str) -> dict[str, Any] | None:
        if not resume or resume.get("provider") != self.name:
            return None
        try:
            started = datetime.fromisoformat(resume["started"])
            same_file = (resume["size"], resume["mtime_ns"], resume["name"], resume["folder_id"]) == (
                stat.st_size, stat.st_mtime_ns, name, folder_id)
            fresh = datetime.now(UTC) - started < SESSION_MAX_AGE
            usable = bool(resume["uri"]) and str(resume["uri"]).startswith("https://")
        except (KeyError, TypeError, ValueError):
            return None
        return dict(resume) if same_file and fresh and usable else None

    def _upload_resumable(self, path: Path, stat: os.stat_result, folder_id: str, progress: ByteProgress | None,
                          cancel: threading.Event | None, resume: dict[str, Any] | None,
                          save: Checkpoint) -> dict[str, Any]:
        """One resumable upload session (or the one in ``resume``), CHUNK_SIZE at a time. After any failure
        the next chunk goes where Google says it stopped. Returns the file's metadata."""
        state = self._usable_resume(resume, stat, path.name, folder_id)
        with open(path, "rb") as fh:
            while True:
                try:
                    return self._send_session(fh, path.name, stat, folder_id, progress, cancel, state, save)
                except _Restart:
                    logger.info("the Google Drive upload session of %s ended; starting a new one", path.name)
                    state = None
                    save(None)

    def _send_session(self, fh, name: str, stat: os.stat_result, folder_id: str, progress: ByteProgress | None,
                      cancel: threading.Event | None, state: dict[str, Any] | None,
                      save: Checkpoint) -> dict[str, Any]:
        size = stat.st_size
        media = _chunks_of(fh, CHUNK_SIZE)
        body = {"title": name, "mimeType": ARCHIVE_MIME, "parents": [{"id": folder_id}]}
        request = self._request(lambda: self._client().auth.service.files().insert(body=body, media_body=media),
                                cancel)
        http = self._new_http()
        if state is not None:
            where = self._request(lambda: self._session_status(http, state["uri"], size), cancel)
            if isinstance(where, dict):
                return where  # all of it had arrived; the answer was lost
            logger.info("resuming the upload of %s at %d of %d bytes", name, where, size)
            request.resumable_uri = state["uri"]
            request.resumable_progress = where
        backoff = Backoff(cancel)
        while True:
            backoff.check_cancel()
            before = request.resumable_progress
            try:
                _status, done = request.next_chunk(http=http)
            except Exception as exc:  # noqa: BLE001 - sorted below and by _retry_or_raise
                info = _http_error_info(exc)
                if info is not None and info[0] in (404, 410) and request.resumable_uri:
                    raise _Restart() from None
                if info is not None and info[0] == 403 and info[1] in QUOTA_REASONS:
                    raise CloudFull(self.title, name, size, self._free_space_or_none()) from None
                self._retry_or_raise(exc, backoff)
                if _network_error(exc):
                    http = self._new_http()  # a fresh connection rather than one in an unknown state
                continue
            self._connected = True
            if done is not None:
                return done
            if state is None or state["uri"] != request.resumable_uri:
                state = {"provider": self.name, "uri": request.resumable_uri, "offset": 0, "size": size,
                         "mtime_ns": stat.st_mtime_ns, "name": name, "folder_id": folder_id,
                         "started": datetime.now(UTC).isoformat(timespec="seconds")}
            state["offset"] = request.resumable_progress
            save(dict(state))
            if request.resumable_progress > before:
                backoff.reset()
            if progress is not None:
                progress(request.resumable_progress, size)

    @staticmethod
    def _session_status(http, uri: str, size: int) -> int | dict[str, Any]:
        """Where a resumable session stopped: the next offset, or the file's metadata when it is complete.
        Raises _Restart when Google no longer knows the session."""
        from googleapiclient.errors import HttpError

        resp, content = http.request(uri, "PUT", headers={"Content-Range": f"bytes */{size}",
                                                          "Content-Length": "0"})
        if resp.status in (200, 201):
            return json.loads(content.decode("utf-8"))
        if resp.status == 308:
            received = resp.get("range")
            return int(received.split("-")[1]) + 1 if received else 0
        if resp.status in (404, 410):
            raise _Restart()
        raise HttpError(resp, content, uri=uri)

    def _remove_older_copies(self, folder_id: str, name: str, keep_id: str, cancel: threading.Event | None) -> None:
        """Drive allows several files of one name in a folder: after a verified upload the older ones go."""
        for meta in self._files_named(folder_id, name, cancel):
            if meta["id"] != keep_id:
                logger.info("deleting an older copy of %s from Google Drive", name)
                self._delete_id(meta["id"], cancel)

    @staticmethod
    def _remote(meta: dict[str, Any]) -> RemoteFile:
        return RemoteFile(name=meta["title"], size=int(meta.get("fileSize") or 0),
                          modified=_utc(meta.get("modifiedDate")), content_hash=meta.get("md5Checksum"),
                          id=meta["id"])

    # -- download -------------------------------------------------------------------------------------

    def download(self, name: str, dest: Path, *, progress: ByteProgress | None = None,
                 cancel: threading.Event | None = None) -> Path:
        """Download ``<folder>/<name>`` to ``dest``, checking Drive's md5Checksum and size before it takes that
        name. A dropped connection continues with the next Range; a copy whose md5 differs is downloaded
        again (VERIFY_ATTEMPTS times in all), then VerificationFailed."""
        import shutil

        dest = Path(dest)
        folder_id = self._folder(create=False, cancel=cancel)
        found = self._files_named(folder_id, name, cancel) if folder_id else []
        if not found:
            raise CloudError(_("No se encontró {name} en la carpeta {folder} de Google Drive.").format(
                name=name, folder=self.folder or "/"))
        meta = max(found, key=lambda f: f.get("modifiedDate") or "")
        size = int(meta.get("fileSize") or 0)
        if shutil.disk_usage(dest.parent).free < size:
            from wizard.core.backup import format_size

            raise UserError(_("No hay espacio suficiente en {folder} para descargar {name} ({size}). Libera "
                              "espacio y vuelve a intentar.").format(folder=dest.parent, name=name,
                                                                      size=format_size(size)))
        tmp = dest.with_name(f".{dest.name}.descargando")
        try:
            for attempt in range(1, VERIFY_ATTEMPTS + 1):
                digest, got = self._download_once(meta, tmp, progress, cancel)
                if got == size and digest == meta.get("md5Checksum"):
                    os.replace(tmp, dest)
                    fsync_dir(dest.parent)
                    logger.info("downloaded %s from Google Drive (%d bytes, md5 verified)", name, got)
                    return dest
                logger.warning("download of %s from Google Drive does not match its md5Checksum (attempt %d)",
                               name, attempt)
        finally:
            if tmp.exists():
                tmp.unlink()
        raise VerificationFailed(_(
            "La copia de {name} descargada de Google Drive no coincidió con la de la nube después de {attempts} "
            "intentos, así que no se usó. Vuelve a intentar más tarde o usa otro respaldo.").format(
            name=name, attempts=VERIFY_ATTEMPTS))

    def _download_once(self, meta: dict[str, Any], tmp: Path, progress: ByteProgress | None,
                       cancel: threading.Event | None) -> tuple[str, int]:
        """The whole file into ``tmp`` in CHUNK_SIZE ranges; returns (md5 of what arrived, bytes received)."""
        from googleapiclient.http import MediaIoBaseDownload

        size = int(meta.get("fileSize") or 0)
        with open(tmp, "wb") as out:
            sink = _HashingWriter(out)
            request = self._request(lambda: self._client().auth.service.files().get_media(fileId=meta["id"]), cancel)
            request.http = self._new_http()
            downloader = MediaIoBaseDownload(sink, request, chunksize=CHUNK_SIZE)
            backoff = Backoff(cancel)
            done = False
            while not done:
                backoff.check_cancel()
                try:
                    status, done = downloader.next_chunk()
                except Exception as exc:  # noqa: BLE001 - sorted by _retry_or_raise, which re-raises the rest
                    try:
                        self._retry_or_raise(exc, backoff)
                    except Offline:
                        raise Offline(_("La conexión con Google Drive se cortó varias veces mientras se descargaba "
                                        "{name}. Revisa la conexión a internet y vuelve a intentar.").format(
                            name=meta["title"])) from None
                    except ServiceUnavailable:
                        raise ServiceUnavailable(_("Google Drive no responde en este momento. Vuelve a intentar en "
                                                   "unos minutos.")) from None
                    if _network_error(exc):
                        request.http = self._new_http()
                    continue
                backoff.reset()
                if progress is not None:
                    progress(status.resumable_progress, status.total_size or size)
            out.flush()
            os.fsync(out.fileno())
        return sink.hexdigest(), sink.count

    # -- folder contents ------------------------------------------------------------------------------

    def list(self, cancel: threading.Event | None = None) -> list[RemoteFile]:
        folder_id = self._folder(create=False, cancel=cancel)
        if folder_id is None:
            return []
        query = f"{_quote(folder_id)} in parents and mimeType != '{FOLDER_MIME}' and trashed = false"
        found = self._request(lambda: self._client().ListFile({"q": query}).GetList(), cancel)
        return [self._remote(dict(f)) for f in found]

    def delete(self, name: str, cancel: threading.Event | None = None) -> None:
        """Delete for good (files.delete, not the trash, which still counts against the quota) every file of
        that name in the folder."""
        folder_id = self._folder(create=False, cancel=cancel)
        if folder_id is None:
            return
        for meta in self._files_named(folder_id, name, cancel):
            self._delete_id(meta["id"], cancel)

    def _delete_id(self, file_id: str, cancel: threading.Event | None = None) -> None:
        try:
            self._request(lambda: self._client().CreateFile({"id": file_id}).Delete(), cancel)
        except Exception as exc:
            if (_http_error_info(exc) or (0,))[0] != 404:
                raise

    def free_space(self) -> int | None:
        about = self._request(lambda: self._client().GetAbout())
        if about.get("quotaType") == "UNLIMITED" or not about.get("quotaBytesTotal"):
            return None
        used = about.get("quotaBytesUsedAggregate") or about.get("quotaBytesUsed") or 0
        return max(int(about["quotaBytesTotal"]) - int(used), 0)

    def _free_space_or_none(self) -> int | None:
        try:
            return self.free_space()
        except (CloudError, Cancelled):
            return None


# -- helpers --------------------------------------------------------------------------------------------

def _chunks_of(fh, chunksize: int):
    """A resumable media body read chunk by chunk as bytes. (googleapiclient would otherwise hand httplib2 a
    stream slice, which httplib2 resends empty when it retries a request whose connection dropped.)"""
    from googleapiclient.http import MediaIoBaseUpload

    class ChunkBytes(MediaIoBaseUpload):
        def has_stream(self) -> bool:
            return False

    return ChunkBytes(fh, mimetype=ARCHIVE_MIME, chunksize=chunksize, resumable=True)


class _HashingWriter:
    """The file a download writes into, hashing what it gets."""

    def __init__(self, out):
        self.out = out
        self.md5 = hashlib.md5()
        self.count = 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.md5.update(data)
        self.count += len(data)
        return len(data)

    def hexdigest(self) -> str:
        return self.md5.hexdigest()


def _pasted(text: str, state: str) -> dict[str, str]:
    """What the user pasted: the whole address the browser went to (its state must match) or just the code."""
    if not text.lower().startswith(("http://", "https://")):
        return {"code": text}
    params = {k: v[0] for k, v in parse_qs(urlsplit(text).query).items()}
    if not token_source.compare_digest(params.get("state", "").encode(), state.encode()):
        raise UserError(_("La dirección pegada no corresponde a este inicio de sesión. Vuelve a intentarlo y pega "
                          "la dirección a la que llegó el navegador esta vez."))
    return params


def _folder_state_path() -> Path:
    return paths.data_dir() / FOLDER_STATE_FILE


def _load_folder_state() -> dict[str, Any]:
    try:
        data = json.loads(_folder_state_path().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("%s unreadable (%s); the folder is looked up by name", _folder_state_path(), exc)
        return {}
    return data if isinstance(data, dict) else {}


def _save_folder_state(folder: str, folder_id: str) -> None:
    path = _folder_state_path()
    paths.ensure_dir(path.parent)
    atomic_write_bytes(path, json.dumps({"folder": folder, "id": folder_id}).encode("utf-8"))


def _forget_folder() -> None:
    try:
        _folder_state_path().unlink()
    except FileNotFoundError:
        pass
