"""Signing in to Google with the installed-app flow (PKCE, offline access, scope drive.file): through the
browser and a redirect to a loopback listener, or, without a browser, the address the browser went to pasted
by the user; the code exchanged for credentials, each failure a sentence; the token revoked on sign-out.

Google's libraries are imported inside the functions: importing this module stays cheap for the CLI.
"""

from __future__ import annotations

import json
import logging
import secrets as token_source
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wizard import __version__
from wizard.core.cloud.base import Offline
from wizard.core.cloud.google.errors import is_network_error
from wizard.core.cloud.google.settings import REQUEST_TIMEOUT, SCOPE
from wizard.core.cloud.oauth import LOOPBACK_PORTS, LoopbackListener, open_browser
from wizard.core.errors import Cancelled, UserError
from wizard.i18n import _

logger = logging.getLogger(__name__)


def paste_hint() -> tuple[str, str]:
    """(explanation, prompt) for ``respaldos cloud login google_drive --no-browser``: Google shows no code
    after approval, so the user pastes the address the browser went to."""
    return (_("Abre esta dirección en un navegador (en esta u otra computadora) y autoriza a Respaldos. "
              "Después el navegador irá a una dirección que empieza con http://127.0.0.1 (no importa que la "
              "página no cargue): cópiala completa de la barra de direcciones y pégala aquí."),
            _("Dirección: "))


def approved_credentials(client: dict[str, str], *, cancel: threading.Event, timeout: float,
                         ask_code: Callable[[str], str | None] | None, show_url: Callable[[str], None] | None,
                         use_browser: bool):
    """oauth2client credentials the user approved: through the browser and the loopback listener when it can
    be opened, else through ``ask_code`` (the user pastes the address the browser went to)."""
    credentials = None
    try:
        listener = LoopbackListener((*LOOPBACK_PORTS, 0)) if use_browser else None
    except OSError as exc:
        logger.warning("no loopback port for the sign-in redirect (%s); asking for the address instead", exc)
        listener = None
    if listener is not None:
        with listener:
            flow = authorization_flow(client, listener.redirect_uri)
            listener.state = token_source.token_urlsafe(24)
            listener.complete = lambda params: exchange_code(flow, params)
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
        flow = authorization_flow(client, f"http://127.0.0.1:{LOOPBACK_PORTS[0]}/")
        state = token_source.token_urlsafe(24)
        answer = ask_code(flow.step1_get_authorize_url(state=state))
        if cancel.is_set() or not answer or not answer.strip():
            raise Cancelled()
        credentials = exchange_code(flow, _pasted(answer.strip(), state))
    return credentials


def authorization_flow(client: dict[str, str], redirect_uri: str):
    """The installed-app flow: PKCE, offline access (a refresh token), consent asked every time so that
    a new refresh token comes even when the account approved Respaldos before."""
    from oauth2client.client import OAuth2WebServerFlow

    return OAuth2WebServerFlow(client["client_id"], client["client_secret"], SCOPE, redirect_uri=redirect_uri,
                               auth_uri=client["auth_uri"], token_uri=client["token_uri"],
                               revoke_uri=client["revoke_uri"], user_agent=f"Respaldos/{__version__}",
                               pkce=True, access_type="offline", prompt="consent")


def exchange_code(flow, params: dict[str, str]):
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
        if not is_network_error(exc):
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


def _pasted(text: str, state: str) -> dict[str, str]:
    """What the user pasted: the whole address the browser went to (its state must match) or just the code."""
    if not text.lower().startswith(("http://", "https://")):
        return {"code": text}
    params = {k: v[0] for k, v in parse_qs(urlsplit(text).query).items()}
    if not token_source.compare_digest(params.get("state", "").encode(), state.encode()):
        raise UserError(_("La dirección pegada no corresponde a este inicio de sesión. Vuelve a intentarlo y pega "
                          "la dirección a la que llegó el navegador esta vez."))
    return params


def revoke(creds: dict[str, Any]) -> None:
    """Best effort at sign-out (the token is already forgotten here): offline or already revoked is fine."""
    try:
        import httplib2
        from oauth2client.client import OAuth2Credentials

        credentials = OAuth2Credentials.from_json(json.dumps(creds))
        credentials.revoke(httplib2.Http(timeout=10))
        logger.info("Google token revoked")
    except Exception as exc:  # noqa: BLE001 - offline or already revoked: nothing to do
        logger.info("Google token not revoked at the server: %s", type(exc).__name__)
