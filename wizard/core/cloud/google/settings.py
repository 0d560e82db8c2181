"""Where Google Drive is and how much is sent at a time: the vendor's OAuth client, the API endpoint, the
scope, chunk sizes, timeouts and attempts.

Endpoints: RESPALDOS_GOOGLE_API_ENDPOINT is the API base URL given to the client build (uploads go to
``/upload/drive/v2/files`` on its host); the auth, token and revoke URIs come from the OAuth client file;
the CA from HTTPLIB2_CA_CERTS (read by httplib2 when it is imported). There is no other way in, for tests
or proxies.
"""

from __future__ import annotations

import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from wizard.core.cloud.base import NotConfigured, vendor_settings
from wizard.i18n import _

NAME = "google_drive"
TITLE = "Google Drive"
CLIENT_SECRETS_ENV = "RESPALDOS_GOOGLE_CLIENT_SECRETS"
API_ENDPOINT_ENV = "RESPALDOS_GOOGLE_API_ENDPOINT"
BUNDLED_CLIENT_FILE = "google_client_secrets.json"  # in assets/, put there by a vendor (never committed)
SCOPE = "https://www.googleapis.com/auth/drive.file"
DEFAULT_AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
DEFAULT_TOKEN_URI = "https://oauth2.googleapis.com/token"
DEFAULT_REVOKE_URI = "https://oauth2.googleapis.com/revoke"

MiB = 1 << 20
CHUNK_SIZE = 8 * MiB  # resumable chunks must be multiples of 256 KiB; Google suggests 8 MiB or more
VERIFY_ATTEMPTS = 3  # uploads (or downloads) of one file whose md5 differs before giving up for this run
SESSION_MAX_AGE = timedelta(days=6)  # Google keeps an unfinished resumable session for a week
REQUEST_TIMEOUT = 60.0  # seconds without a byte from Google before the request counts as dropped
OFFLINE_ATTEMPTS = 2  # tries when no connection can be opened at all (the queue retries later)


# -- the OAuth client ---------------------------------------------------------------------------------

def _bundled_client_file() -> Path | None:
    """assets/google_client_secrets.json in the executable or beside the package (a vendor's build)."""
    candidates = []
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.append(Path(bundle) / "assets" / BUNDLED_CLIENT_FILE)
    wizard_dir = Path(__file__).resolve().parents[3]  # wizard/core/cloud/google/settings.py
    candidates += [wizard_dir / "assets" / BUNDLED_CLIENT_FILE,
                   wizard_dir.parent / "assets" / BUNDLED_CLIENT_FILE]
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
