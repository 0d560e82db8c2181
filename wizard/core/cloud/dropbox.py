"""Dropbox: PKCE sign-in through the browser, verified resumable uploads, listing, deleting, free space.

The official SDK does the HTTP; this module decides about retries, so that one loop handles 5xx, 429
(with Retry-After), dropped connections and cancel alike (the SDK's own retries are turned off: it
sleeps without looking at cancel and does not retry a dropped connection). The hosts come from the
SDK's environment variables (DROPBOX_API_HOST, DROPBOX_API_CONTENT_HOST, DROPBOX_WEB_HOST) and the CA
from requests' (REQUESTS_CA_BUNDLE): there is no other way in, for tests or proxies.

The SDK is imported inside the methods: importing this module stays cheap for the command line.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wizard import __version__
from wizard.core import secrets
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
from wizard.core.cloud.oauth import LoopbackListener, open_browser
from wizard.core.errors import Cancelled, UserError
from wizard.core.fsutil import fsync_dir
from wizard.core.units import format_size
from wizard.i18n import _

logger = logging.getLogger(__name__)
# The SDK logs every request at INFO ("Request to files/upload"); our own lines say what matters.
logging.getLogger("dropbox").setLevel(logging.WARNING)

APP_KEY_ENV = "RESPALDOS_DROPBOX_APP_KEY"
SECRET_NAME = "dropbox"
MiB = 1 << 20
SMALL_FILE_LIMIT = 8 * MiB  # up to this size one files/upload call; above it an upload session
CHUNK_SIZE = 4 * MiB  # upload session chunks must be multiples of 4 MiB
VERIFY_ATTEMPTS = 3  # uploads of one file whose content_hash differs before giving up for this run
SESSION_MAX_AGE = timedelta(hours=46)  # Dropbox keeps an unfinished upload session for 48 hours
REQUEST_TIMEOUT = 60.0  # seconds without a byte from Dropbox before the request counts as dropped
OFFLINE_ATTEMPTS = 2  # tries when no connection can be opened at all (the queue retries later)
MAX_OFFSET_CORRECTIONS = 3  # incorrect_offset answers in a row before starting a new session


def baked_app_key() -> str | None:
    """The app key a vendor's build bundles (``dropbox_app_key`` in ``respaldos-vendor.json``, see
    ``base.vendor_settings()``); None when not frozen or not given at build time."""
    return str(vendor_settings().get("dropbox_app_key") or "").strip() or None


def resolve_app_key(cloud) -> str:
    """RESPALDOS_DROPBOX_APP_KEY, else ``[cloud] dropbox_app_key``, else the build's; or NotConfigured."""
    for value in (os.environ.get(APP_KEY_ENV), cloud.dropbox_app_key, baked_app_key()):
        if value and value.strip():
            return value.strip()
    raise NotConfigured(_(
        "Falta la clave de aplicación de Dropbox (app key), sin la cual Respaldos no puede conectarse a "
        "Dropbox. Quien instaló Respaldos debe registrar la aplicación en Dropbox e indicar su clave en "
        "la configuración ([cloud] dropbox_app_key) o en la variable RESPALDOS_DROPBOX_APP_KEY. "
        "Mientras tanto elige «Ninguna» y guarda los respaldos en una memoria USB o un disco externo."))


def file_content_hash(path: Path, cancel: threading.Event | None = None) -> str:
    """Dropbox's content_hash of a local file (SHA-256 of the SHA-256 of each 4 MiB block)."""
    from dropbox.content_hash import DropboxContentHasher

    hasher = DropboxContentHasher()
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK_SIZE):
            hasher.update(block)
            if cancel is not None and cancel.is_set():
                raise Cancelled()
    return hasher.hexdigest()


def _utc_naive(timestamp: float) -> datetime:
    """Dropbox timestamps are UTC without a zone, whole seconds."""
    return datetime.fromtimestamp(int(timestamp), UTC).replace(tzinfo=None)


def _connect_failure(exc: BaseException) -> bool:
    """The connection could not even be opened (refused, no route, no DNS): the computer is offline."""
    import requests
    from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


class _Corrupted(Exception):
    """Dropbox said a chunk arrived with a different content_hash than sent: send the file again."""


class DropboxProvider(CloudProvider):
    name = "dropbox"
    title = "Dropbox"

    def __init__(self, cloud):
        super().__init__(cloud)
        self._dbx = None
        self._connected = False  # a request went through in this session: later drops are retried longer
        self._hashes: dict[tuple[str, int, int], str] = {}

    # -- credentials ----------------------------------------------------------------------------------

    @staticmethod
    def _credentials() -> dict[str, str] | None:
        raw = secrets.get_secret(SECRET_NAME)
        if not raw:
            return None
        try:
            creds = json.loads(raw)
        except ValueError:
            logger.warning("stored Dropbox credentials are not readable; sign in again")
            return None
        if not isinstance(creds, dict) or not creds.get("refresh_token") or not creds.get("app_key"):
            return None
        return creds

    def signed_in(self) -> bool:
        return self._credentials() is not None

    def _client(self):
        if self._dbx is None:
            creds = self._credentials()
            if creds is None:
                raise NeedsLogin(_("Inicia sesión con Dropbox para subir los respaldos a la nube."))
            import dropbox

            self._dbx = dropbox.Dropbox(
                oauth2_refresh_token=creds["refresh_token"], app_key=creds["app_key"],
                max_retries_on_error=0, max_retries_on_rate_limit=0, timeout=REQUEST_TIMEOUT,
                user_agent=f"Respaldos/{__version__}")
        return self._dbx

    def close(self) -> None:
        if self._dbx is not None:
            self._dbx.close()
            self._dbx = None

    # -- sign-in --------------------------------------------------------------------------------------

    def sign_in(self, *, cancel: threading.Event | None = None, timeout: float = SIGN_IN_TIMEOUT,
                ask_code: Callable[[str], str | None] | None = None,
                show_url: Callable[[str], None] | None = None, use_browser: bool = True) -> str:
        from dropbox.oauth import DropboxOAuth2Flow, DropboxOAuth2FlowNoRedirect

        app_key = resolve_app_key(self.cloud)
        secrets.check_can_store(SECRET_NAME)  # before the browser opens, not after
        cancel = cancel or threading.Event()
        result = None
        try:
            listener = LoopbackListener() if use_browser else None
        except OSError as exc:
            logger.warning("no loopback port for the sign-in redirect (%s); using a pasted code", exc)
            listener = None
        if listener is not None:
            with listener:
                session: dict[str, str] = {}
                flow = DropboxOAuth2Flow(app_key, listener.redirect_uri, session, "csrf", use_pkce=True,
                                         token_access_type="offline", timeout=REQUEST_TIMEOUT)
                url = flow.start()
                listener.state = session["csrf"]
                listener.complete = lambda params: self._exchange(lambda: flow.finish(params))
                if show_url is not None:
                    show_url(url)
                logger.info("opening the browser for the Dropbox sign-in (redirect %s)", listener.redirect_uri)
                if open_browser(url):
                    result = listener.wait(timeout, cancel)
                else:
                    logger.info("no browser could be opened; asking for the code instead")
        if result is None:
            if ask_code is None:
                raise UserError(_("No se pudo abrir el navegador para iniciar sesión con Dropbox. Usa en una "
                                  "terminal: respaldos cloud login dropbox --no-browser"))
            flow_nr = DropboxOAuth2FlowNoRedirect(app_key, use_pkce=True, token_access_type="offline",
                                                  timeout=REQUEST_TIMEOUT)
            code = ask_code(flow_nr.start())
            if cancel.is_set() or not code or not code.strip():
                raise Cancelled()
            result = self._exchange(lambda: flow_nr.finish(code.strip()))
        secrets.set_secret(SECRET_NAME, json.dumps({
            "refresh_token": result.refresh_token, "app_key": app_key, "account_id": result.account_id}))
        logger.info("Dropbox sign-in complete; credentials stored (%s)", secrets.storage_description())
        self.close()
        return self.account_label()

    def _exchange(self, finish):
        """Exchange the code for tokens (``finish()``), turning what can go wrong into sentences. Runs on the
        loopback listener's thread for a browser sign-in: its sentence is what the browser tab shows."""
        import requests
        from dropbox.oauth import NotApprovedException

        try:
            result = finish()
        except NotApprovedException:
            raise UserError(_("No se dio permiso a Respaldos en Dropbox. Vuelve a intentarlo y pulsa "
                              "«Permitir».")) from None
        except requests.exceptions.HTTPError as exc:
            logger.warning("Dropbox refused the sign-in code: HTTP %s", exc.response.status_code
                           if exc.response is not None else "?")
            raise UserError(_("Dropbox no aceptó el código de inicio de sesión (quizá ya se usó o caducó). "
                              "Vuelve a intentarlo.")) from None
        except requests.exceptions.RequestException as exc:
            logger.warning("sign-in code exchange failed: %s", type(exc).__name__)
            raise Offline(_("No hay conexión con Dropbox. Revisa la conexión a internet y vuelve a "
                            "intentarlo.")) from None
        if not result.refresh_token:
            raise UserError(_("Dropbox no entregó un permiso duradero para Respaldos. Vuelve a iniciar sesión."))
        return result

    def sign_out(self) -> None:
        creds = self._credentials()
        secrets.delete_secret(SECRET_NAME)
        self.close()
        if creds is None:
            return
        try:  # best effort: the token is already forgotten here
            import dropbox

            with dropbox.Dropbox(oauth2_refresh_token=creds["refresh_token"], app_key=creds["app_key"],
                                 max_retries_on_error=0, max_retries_on_rate_limit=0, timeout=10) as dbx:
                dbx.auth_token_revoke()
            logger.info("Dropbox token revoked")
        except Exception as exc:  # noqa: BLE001 - offline or already revoked: nothing to do
            logger.info("Dropbox token not revoked at the server: %s", type(exc).__name__)

    def account_label(self) -> str:
        account = self._call("users_get_current_account")
        name = account.name.display_name
        return f"{name} ({account.email})" if name else account.email

    # -- requests with retries ------------------------------------------------------------------------

    def _call(self, method: str, *args: Any, cancel: threading.Event | None = None, **kwargs: Any) -> Any:
        """One SDK call, retried on 5xx, 429 and dropped connections; an invalid access token is
        refreshed once. ApiError (the route's own errors) goes to the caller."""
        import requests
        from dropbox.exceptions import (
            AuthError,
            BadInputError,
            HttpError,
            InternalServerError,
            RateLimitError,
        )

        dbx = self._client()
        backoff = Backoff(cancel)
        refresh_first = False
        reauthorised = False
        while True:
            backoff.check_cancel()
            try:
                if refresh_first:
                    refresh_first = False
                    dbx.refresh_access_token()
                result = getattr(dbx, method)(*args, **kwargs)
                self._connected = True
                return result
            except AuthError as exc:
                if reauthorised:
                    logger.warning("Dropbox refused the stored sign-in (%s)", exc.error)
                    raise NeedsLogin(_("Vuelve a iniciar sesión con Dropbox.")) from None
                reauthorised = refresh_first = True
            except RateLimitError as exc:
                logger.info("Dropbox rate limit on %s; retry after %s s", method, exc.backoff)
                if not backoff.wait(exc.backoff if exc.backoff is not None else 5.0):
                    raise ServiceUnavailable(_("Dropbox pide esperar antes de seguir subiendo. El respaldo se "
                                               "subirá más tarde.")) from None
            except BadInputError as exc:
                if "invalid_client" in (exc.body or "") or "invalid_grant" in (exc.body or ""):
                    logger.warning("Dropbox refused the app key of the stored sign-in")
                    raise NeedsLogin(_("Vuelve a iniciar sesión con Dropbox.")) from None
                raise
            except (InternalServerError, HttpError) as exc:
                if not (exc.status_code >= 500 or exc.status_code in (408, 429)):
                    raise
                logger.info("Dropbox answered %s to %s; retrying", exc.status_code, method)
                if not backoff.wait():
                    raise ServiceUnavailable(_("Dropbox no responde en este momento. El respaldo se subirá "
                                               "más tarde.")) from None
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError) as exc:
                logger.info("connection to Dropbox failed during %s: %s: %s", method, type(exc).__name__, exc)
                offline = Offline(_("No hay conexión con Dropbox. El respaldo se subirá cuando vuelva la "
                                    "conexión."))
                if _connect_failure(exc) and not self._connected and backoff.failures + 1 >= OFFLINE_ATTEMPTS:
                    raise offline from None
                if not backoff.wait():
                    raise offline from None

    def _path(self, name: str) -> str:
        return f"{self.folder}/{name}"

    # -- upload ---------------------------------------------------------------------------------------

    def local_hash(self, path: Path, cancel: threading.Event | None = None) -> str:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in self._hashes:
            self._hashes[key] = file_content_hash(path, cancel)
        return self._hashes[key]

    def same_content(self, path: Path, remote: RemoteFile) -> bool:
        path = Path(path)
        return (remote.size == path.stat().st_size and remote.content_hash is not None
                and remote.content_hash == self.local_hash(path))

    def upload(self, path: Path, *, progress: ByteProgress | None = None,
               cancel: threading.Event | None = None, resume: dict[str, Any] | None = None,
               checkpoint: Checkpoint | None = None) -> RemoteFile:
        path = Path(path)
        stat = path.stat()
        local_hash = self.local_hash(path, cancel)
        remote_path = self._path(path.name)
        save = checkpoint or (lambda state: None)
        free = self.free_space()
        if free is not None and free < stat.st_size:
            raise CloudFull(self.title, path.name, stat.st_size, free)
        for attempt in range(1, VERIFY_ATTEMPTS + 1):
            try:
                if stat.st_size <= SMALL_FILE_LIMIT:
                    meta = self._upload_small(path, stat, remote_path, progress, cancel)
                else:
                    meta = self._upload_session(path, stat, remote_path, progress, cancel, resume, save)
            except _Corrupted:
                logger.warning("Dropbox received %s damaged (attempt %d); sending it again", path.name, attempt)
                save(None)
                resume = None
                continue
            resume = None
            if meta.size == stat.st_size and meta.content_hash == local_hash:
                if progress is not None:
                    progress(stat.st_size, stat.st_size)
                logger.info("uploaded %s to Dropbox %s (%d bytes, content_hash verified)", path.name,
                            remote_path, meta.size)
                return self._remote(meta)
            logger.warning("content_hash of %s in Dropbox differs from the local file (attempt %d); "
                           "deleting the remote copy and uploading again", path.name, attempt)
            self.delete(path.name, cancel=cancel)
            save(None)
        raise VerificationFailed(_(
            "La copia de {name} en Dropbox no coincidió con el archivo de esta computadora después de "
            "{attempts} intentos. Se volverá a subir más tarde.").format(name=path.name, attempts=VERIFY_ATTEMPTS))

    def _upload_small(self, path: Path, stat: os.stat_result, remote_path: str, progress: ByteProgress | None,
                      cancel: threading.Event | None):
        from dropbox import files
        from dropbox.exceptions import ApiError

        data = path.read_bytes()
        if progress is not None:
            progress(0, stat.st_size)
        try:
            return self._call("files_upload", data, remote_path, mode=files.WriteMode.overwrite,
                              client_modified=_utc_naive(stat.st_mtime), mute=True, cancel=cancel)
        except ApiError as exc:
            error = exc.error
            if error.is_content_hash_mismatch():
                raise _Corrupted() from None
            if error.is_path():
                self._raise_write_error(error.get_path().reason, path.name, stat.st_size)
            raise

    def _usable_resume(self, resume: dict[str, Any] | None, stat: os.stat_result,
                       remote_path: str) -> dict[str, Any] | None:
        if not resume or resume.get("provider") != self.name:
            return None
        try:
            started = datetime.fromisoformat(resume["started"])
            same_file = (resume["size"], resume["mtime_ns"], resume["path"]) == (
                stat.st_size, stat.st_mtime_ns, remote_path)
            fresh = datetime.now(UTC) - started < SESSION_MAX_AGE
            offset_ok = 0 <= int(resume["offset"]) <= stat.st_size and bool(resume["session_id"])
        except (KeyError, TypeError, ValueError):
            return None
        return dict(resume) if same_file and fresh and offset_ok else None

    def _upload_session(self, path: Path, stat: os.stat_result, remote_path: str,
                        progress: ByteProgress | None, cancel: threading.Event | None,
                        resume: dict[str, Any] | None, save: Checkpoint):
        """Upload session in CHUNK_SIZE pieces. After any failure the next request goes to the offset
        the server reports (incorrect_offset carries it), so nothing is sent twice and nothing skipped."""
        from dropbox import files
        from dropbox.exceptions import ApiError

        size = stat.st_size
        commit = files.CommitInfo(path=remote_path, mode=files.WriteMode.overwrite,
                                  client_modified=_utc_naive(stat.st_mtime), mute=True)
        state = self._usable_resume(resume, stat, remote_path)
        if state is not None:
            logger.info("resuming the upload of %s at %d of %d bytes", path.name, state["offset"], size)
        corrections = 0
        with open(path, "rb") as fh:
            while True:
                if cancel is not None and cancel.is_set():
                    raise Cancelled()
                if state is None:
                    fh.seek(0)
                    data = fh.read(CHUNK_SIZE)
                    started = self._call("files_upload_session_start", data, cancel=cancel)
                    state = {"provider": self.name, "session_id": started.session_id, "offset": len(data),
                             "size": size, "mtime_ns": stat.st_mtime_ns, "path": remote_path,
                             "started": datetime.now(UTC).isoformat(timespec="seconds")}
                    save(dict(state))
                    if progress is not None:
                        progress(state["offset"], size)
                    continue
                offset = state["offset"]
                fh.seek(offset)
                data = fh.read(CHUNK_SIZE)
                cursor = files.UploadSessionCursor(session_id=state["session_id"], offset=offset)
                last = offset + len(data) >= size
                try:
                    if last:
                        return self._call("files_upload_session_finish", data, cursor, commit, cancel=cancel)
                    self._call("files_upload_session_append_v2", data, cursor, close=False, cancel=cancel)
                except ApiError as exc:
                    error = exc.error
                    if error.is_content_hash_mismatch():
                        raise _Corrupted() from None
                    if last and error.is_path():
                        self._raise_write_error(error.get_path(), path.name, size)
                    if last and not error.is_lookup_failed():
                        raise
                    lookup = error.get_lookup_failed() if last else error
                    if lookup.is_incorrect_offset():
                        correct = lookup.get_incorrect_offset().correct_offset
                        logger.info("Dropbox has %d bytes of %s, not %d: continuing from there", correct,
                                    path.name, offset)
                        corrections += 1
                        if not 0 <= correct <= size or corrections > MAX_OFFSET_CORRECTIONS:
                            state = None  # a nonsense offset, or going in circles: a new session
                            save(None)
                            continue
                        state["offset"] = correct
                        save(dict(state))
                        continue
                    if lookup.is_not_found() or lookup.is_closed() or (last and lookup.is_not_closed()):
                        if last:
                            done = self._existing(remote_path, cancel)
                            if done is not None and done.size == size:
                                return done  # the commit went through; its answer was lost
                        logger.info("Dropbox upload session of %s ended; starting a new one", path.name)
                        state = None
                        save(None)
                        continue
                    raise
                corrections = 0
                state["offset"] = offset + len(data)
                save(dict(state))
                if progress is not None:
                    progress(state["offset"], size)

    def _existing(self, remote_path: str, cancel: threading.Event | None):
        from dropbox import files
        from dropbox.exceptions import ApiError

        try:
            meta = self._call("files_get_metadata", remote_path, cancel=cancel)
        except ApiError:
            return None
        return meta if isinstance(meta, files.FileMetadata) else None

    def _raise_write_error(self, write_error, name: str, size: int) -> None:
        if (write_error.is_insufficient_space() or write_error.is_team_folder_insufficient_space()
                or write_error.is_member_folder_insufficient_space()):
            raise CloudFull(self.title, name, size, self._free_space_or_none())
        logger.warning("Dropbox refused to write %s: %s", name, write_error)
        raise CloudError(_("Dropbox no permitió guardar {name} en {folder}. Revisa la carpeta en la nube "
                           "({error}).").format(name=name, folder=self.folder or "/",
                                                error=str(write_error)))

    @staticmethod
    def _remote(meta) -> RemoteFile:
        return RemoteFile(name=meta.name, size=meta.size, modified=meta.server_modified,
                          content_hash=meta.content_hash, id=meta.id)

    # -- download -------------------------------------------------------------------------------------

    def download(self, name: str, dest: Path, *, progress: ByteProgress | None = None,
                 cancel: threading.Event | None = None) -> Path:
        """Download ``<folder>/<name>`` to ``dest``, checking Dropbox's content_hash before it takes that name.

        A connection dropped mid-file continues with a Range request for the same revision; a copy whose
        hash differs is downloaded again (VERIFY_ATTEMPTS times in all), then VerificationFailed.
        """
        dest = Path(dest)
        tmp = dest.with_name(f".{dest.name}.descargando")
        try:
            for attempt in range(1, VERIFY_ATTEMPTS + 1):
                meta, digest, size = self._download_once(name, tmp, progress, cancel)
                if size == meta.size and digest == meta.content_hash:
                    os.replace(tmp, dest)
                    fsync_dir(dest.parent)
                    logger.info("downloaded %s from Dropbox (%d bytes, content_hash verified)", name, size)
                    return dest
                logger.warning("download of %s from Dropbox does not match its content_hash (attempt %d)",
                               name, attempt)
        finally:
            if tmp.exists():
                tmp.unlink()
        raise VerificationFailed(_(
            "La copia de {name} descargada de Dropbox no coincidió con la de la nube después de {attempts} "
            "intentos, así que no se usó. Vuelve a intentar más tarde o usa otro respaldo.").format(
            name=name, attempts=VERIFY_ATTEMPTS))

    def _download_once(self, name: str, tmp: Path, progress: ByteProgress | None,
                       cancel: threading.Event | None):
        """The whole file into ``tmp``; returns (metadata, content_hash of what arrived, bytes received)."""
        import shutil

        import requests
        from dropbox.content_hash import DropboxContentHasher
        from dropbox.exceptions import ApiError

        hasher = DropboxContentHasher()
        meta = None
        done = 0
        backoff = Backoff(cancel)
        with open(tmp, "wb") as out:
            while True:
                backoff.check_cancel()
                headers = {"Range": f"bytes={done}-"} if done else None
                try:
                    got, response = self._call("files_download", self._path(name),
                                               rev=meta.rev if meta is not None else None,
                                               extra_headers=headers, cancel=cancel)
                except ApiError as exc:
                    if exc.error.is_path() and exc.error.get_path().is_not_found():
                        raise CloudError(_("No se encontró {name} en la carpeta {folder} de Dropbox.").format(
                            name=name, folder=self.folder or "/")) from None
                    raise
                except Offline:
                    raise Offline(_("No hay conexión con Dropbox. Revisa la conexión a internet y vuelve a "
                                    "intentar.")) from None
                except ServiceUnavailable:
                    raise ServiceUnavailable(_("Dropbox no responde en este momento. Vuelve a intentar en unos "
                                               "minutos.")) from None
                with response:
                    if meta is None:
                        meta = got
                        free = shutil.disk_usage(tmp.parent).free
                        if free < meta.size:

                            raise UserError(_("No hay espacio suficiente en {folder} para descargar {name} ({size}). "
                                              "Libera espacio y vuelve a intentar.").format(
                                folder=tmp.parent, name=name, size=format_size(meta.size)))
                    if done and response.status_code != 206:
                        logger.info("Dropbox sent all of %s again instead of the rest; starting over", name)
                        out.seek(0)
                        out.truncate()
                        hasher, done = DropboxContentHasher(), 0
                    try:
                        for chunk in response.iter_content(MiB):
                            if cancel is not None and cancel.is_set():
                                raise Cancelled()
                            out.write(chunk)
                            hasher.update(chunk)
                            done += len(chunk)
                            backoff.reset()
                            if progress is not None:
                                progress(done, meta.size)
                    except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                            requests.exceptions.ChunkedEncodingError) as exc:
                        logger.info("download of %s dropped at %d of %d bytes: %s", name, done, meta.size,
                                    type(exc).__name__)
                        if not backoff.wait():
                            raise Offline(_("La conexión con Dropbox se cortó varias veces mientras se descargaba "
                                            "{name}. Revisa la conexión a internet y vuelve a intentar.").format(
                                name=name)) from None
                        continue
                if done >= meta.size:
                    break
                logger.info("download of %s ended early at %d of %d bytes; asking for the rest", name, done,
                            meta.size)
                if not backoff.wait():
                    raise Offline(_("La conexión con Dropbox se cortó varias veces mientras se descargaba "
                                    "{name}. Revisa la conexión a internet y vuelve a intentar.").format(
                        name=name))
            out.flush()
            os.fsync(out.fileno())
        return meta, hasher.hexdigest(), done

    # -- folder ---------------------------------------------------------------------------------------

    def list(self, cancel: threading.Event | None = None) -> list[RemoteFile]:
        from dropbox import files
        from dropbox.exceptions import ApiError

        try:
            result = self._call("files_list_folder", self.folder, cancel=cancel)
        except ApiError as exc:
            if exc.error.is_path() and exc.error.get_path().is_not_found():
                return []
            raise
        entries = list(result.entries)
        while result.has_more:
            result = self._call("files_list_folder_continue", result.cursor, cancel=cancel)
            entries += result.entries
        return [self._remote(e) for e in entries if isinstance(e, files.FileMetadata)]

    def delete(self, name: str, cancel: threading.Event | None = None) -> None:
        from dropbox.exceptions import ApiError

        try:
            self._call("files_delete_v2", self._path(name), cancel=cancel)
        except ApiError as exc:
            if exc.error.is_path_lookup() and exc.error.get_path_lookup().is_not_found():
                return
            raise

    def free_space(self) -> int | None:
        usage = self._call("users_get_space_usage")
        allocation = usage.allocation
        if allocation.is_individual():
            return max(allocation.get_individual().allocated - usage.used, 0)
        if allocation.is_team():
            team = allocation.get_team()
            free = team.allocated - team.used
            if team.user_within_team_space_allocated:
                free = min(free, team.user_within_team_space_allocated - usage.used)
            return max(free, 0)
        return None

    def _free_space_or_none(self) -> int | None:
        try:
            return self.free_space()
        except (CloudError, Cancelled):
            return None
