"""What a failed request to Google means, and what to do about it: retry after a pause (5xx, 429, rate-limit
403s, dropped connections) or raise the sentence the user reads (signed out, offline, Google not answering).

Google's libraries are imported inside the functions: importing this module stays cheap for the CLI.
"""

from __future__ import annotations

import errno
import http.client
import json
import logging
import socket
import ssl

from wizard.core.cloud.base import Backoff, NeedsLogin, Offline, ServiceUnavailable
from wizard.core.cloud.google.settings import OFFLINE_ATTEMPTS
from wizard.i18n import _

logger = logging.getLogger(__name__)

RATE_LIMIT_REASONS = {"rateLimitExceeded", "userRateLimitExceeded"}
QUOTA_REASONS = {"storageQuotaExceeded", "quotaExceeded"}
_NETWORK_ERRNOS = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EPIPE, errno.ETIMEDOUT,
                   errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTUNREACH, errno.EHOSTDOWN, errno.EADDRNOTAVAIL}
_CONNECT_ERRNOS = {errno.ECONNREFUSED, errno.ENETUNREACH, errno.ENETDOWN, errno.EHOSTUNREACH, errno.EHOSTDOWN,
                   errno.EADDRNOTAVAIL}


def http_error_info(exc: BaseException) -> tuple[int, str, float | None] | None:
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


def http_status(exc: BaseException) -> int:
    """The HTTP status of a failed request, 0 when it was not an HTTP error."""
    return (http_error_info(exc) or (0,))[0]


def refresh_failure(exc: BaseException) -> tuple[int | None, str] | None:
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


def is_network_error(exc: BaseException) -> bool:
    """A problem on the way to Google (not a local file error): worth retrying, or offline."""
    import httplib2

    if isinstance(exc, (httplib2.HttpLib2Error, http.client.HTTPException, ssl.SSLError, socket.timeout,
                        ConnectionError, socket.gaierror)):
        return True
    return isinstance(exc, OSError) and exc.errno in _NETWORK_ERRNOS


def is_connect_failure(exc: BaseException) -> bool:
    """The connection could not even be opened (refused, no route, no DNS): the computer is offline."""
    import httplib2

    if isinstance(exc, (httplib2.ServerNotFoundError, socket.gaierror, ConnectionRefusedError)):
        return True
    return isinstance(exc, OSError) and exc.errno in _CONNECT_ERRNOS


def retry_or_raise(exc: Exception, backoff: Backoff, connected: bool) -> None:
    """After a failed request: sleep and return (try again), or raise what the user should read.
    ``connected``: a request already went through in this session, so a refused connection is retried
    longer before it counts as offline."""
    info = http_error_info(exc)
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
    refresh = refresh_failure(exc)
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
    if is_network_error(exc):
        logger.info("connection to Google failed: %s: %s", type(exc).__name__, exc)
        offline = Offline(_("No hay conexión con Google Drive. El respaldo se subirá cuando vuelva la "
                            "conexión."))
        if is_connect_failure(exc) and not connected and backoff.failures + 1 >= OFFLINE_ATTEMPTS:
            raise offline from None
        if not backoff.wait():
            raise offline from None
        return
    raise exc
