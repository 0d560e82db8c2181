"""The Google credentials, kept in the OS keyring (``wizard.core.secrets``; never pydrive2's plaintext JSON
file): pydrive2's "dictionary" backend writes through to the keyring, and pydrive2's GoogleAuth is adjusted
to take the API endpoint from the environment and never open a browser by surprise.

Google's libraries are imported inside the functions: importing this module stays cheap for the CLI.
"""

from __future__ import annotations

import json
import logging
from functools import cache
from typing import Any

from wizard.core import secrets
from wizard.core.cloud.google.settings import REQUEST_TIMEOUT, SCOPE, api_client_options
from wizard.core.cloud.oauth import LOOPBACK_PORTS

logger = logging.getLogger(__name__)

SECRET_NAME = "google_drive"
_CREDENTIALS_KEY = "credentials"


class KeyringDict(dict):
    """The dictionary pydrive2's "dictionary" credentials backend reads and writes, backed by the keyring:
    what oauth2client stores (after sign-in, after each token refresh) goes to ``secrets``, and a delete
    forgets it there. With ``strict`` (the sign-in) a keyring that refuses the value fails; otherwise (a
    token refreshed during an upload) the refreshed token is only kept in memory, with a warning in the log:
    the refresh token, which is what matters, stays where it was."""

    def __init__(self, strict: bool = False) -> None:
        super().__init__()
        self.strict = strict
        stored = secrets.get_secret(SECRET_NAME)
        if stored:
            super().__setitem__(_CREDENTIALS_KEY, stored)

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key, value)
        try:
            secrets.set_secret(SECRET_NAME, value)
        except secrets.KeyringUnavailable:
            if self.strict:
                raise
            logger.warning("the refreshed Google access token could not be stored; it is kept in memory")

    def pop(self, key: str, default: Any = None) -> Any:
        secrets.delete_secret(SECRET_NAME)
        return super().pop(key, default)


def stored_credentials() -> dict[str, Any] | None:
    """oauth2client's credentials from the keyring, or None when there are none usable (sign in again)."""
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


def keyring_auth(client: dict[str, str], *, strict: bool = False):
    """pydrive2's GoogleAuth (adjusted, see ``_auth_class``) for ``client``, its credentials read from and
    saved to the keyring (``strict``: a refusal to store them fails, as at sign-in)."""
    return _auth_class()(settings=_settings(KeyringDict(strict), client), http_timeout=REQUEST_TIMEOUT)


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
