"""One provider's way to Google Drive: pydrive2's GoogleDrive with the stored credentials and a fresh access
token, an authorised http object of its own per transfer, and every call retried on what is worth retrying
(``errors.retry_or_raise`` decides).

pydrive2 is imported inside ``client``: importing this module stays cheap for the CLI.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from wizard.core.cloud.base import Backoff, NeedsLogin
from wizard.core.cloud.google.credentials import keyring_auth, stored_credentials
from wizard.core.cloud.google.errors import retry_or_raise
from wizard.core.cloud.google.settings import DEFAULT_AUTH_URI, DEFAULT_REVOKE_URI, DEFAULT_TOKEN_URI
from wizard.i18n import _

logger = logging.getLogger(__name__)


class DriveConnection:
    """The signed-in client, built on first use and kept until ``close``."""

    def __init__(self) -> None:
        self.auth = None
        self._drive = None
        self._http_objects: list[Any] = []
        self.connected = False  # a request went through in this session: later drops are retried longer

    def client(self):
        """pydrive2's GoogleDrive with the stored credentials, the access token fresh."""
        if self._drive is None:
            creds = stored_credentials()
            if creds is None:
                raise NeedsLogin(_("Inicia sesión con Google para subir los respaldos a Google Drive."))
            from pydrive2.drive import GoogleDrive

            client = {"client_id": creds["client_id"], "client_secret": creds.get("client_secret") or "",
                      "auth_uri": DEFAULT_AUTH_URI, "token_uri": creds.get("token_uri") or DEFAULT_TOKEN_URI,
                      "revoke_uri": creds.get("revoke_uri") or DEFAULT_REVOKE_URI}
            auth = keyring_auth(client)
            try:
                auth.LoadCredentials()
            except (KeyError, TypeError, ValueError) as exc:
                logger.warning("stored Google credentials are not usable (%s); sign in again", type(exc).__name__)
                raise NeedsLogin(_("Vuelve a iniciar sesión con Google.")) from None
            # oauth2client marks credentials invalid after any refresh error, even a passing 5xx; only
            # invalid_grant means signed out, and that shows again on the next refresh.
            auth.credentials.invalid = False
            self.auth = auth
            if auth.access_token_expired:
                self.request(auth.Refresh)
            auth.Authorize()  # builds the service; no request yet
            self._drive = GoogleDrive(auth)
        return self._drive

    def new_http(self):
        """An authorised http object of its own (pydrive2 makes one per thread; a broken one is replaced)."""
        self.client()
        http = self.auth.Get_Http_Object()
        self._http_objects.append(http)
        return http

    def close(self) -> None:
        for connection in self._http_objects:
            try:
                connection.close()
            except OSError as exc:
                logger.debug("closing a Google connection: %s", exc)
        self._http_objects.clear()
        if self.auth is not None:
            local = getattr(self.auth.thread_local, "http", None)
            if local is not None:
                local.close()
            if self.auth.http is not None:
                self.auth.http.close()
        self.auth = None
        self._drive = None

    def request(self, call: Callable[[], Any], cancel: threading.Event | None = None) -> Any:
        """One call (pydrive2 or googleapiclient), retried on 5xx, 429, rate limits and dropped connections.
        HTTP errors that are the call's own answer (404, quota) go to the caller as they are."""
        backoff = Backoff(cancel)
        while True:
            backoff.check_cancel()
            try:
                result = call()
            except Exception as exc:  # noqa: BLE001 - sorted by retry_or_raise, which re-raises the rest
                self.retry_or_raise(exc, backoff)
                continue
            self.connected = True
            return result

    def retry_or_raise(self, exc: Exception, backoff: Backoff) -> None:
        """After a failed request: sleep and return (try again), or raise what the user should read."""
        retry_or_raise(exc, backoff, self.connected)
