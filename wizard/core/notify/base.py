"""What the channels share: their error, the 10-second timeout, TLS with the system's trust store, and the
plain reason for a network failure ("no se encontró el servidor smtp.gmail.com")."""

from __future__ import annotations

import errno
import socket
import ssl
import sys
from functools import lru_cache

from wizard.i18n import _

TIMEOUT = 10.0  # seconds a try may wait on the network; sending never holds up a backup


class ChannelError(Exception):
    """A message or ping could not be sent; ``reason`` is the plain sentence for the summary and the CLI."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def tls_context() -> ssl.SSLContext:
    """The default context: the operating system's certificates (and OpenSSL's SSL_CERT_FILE and
    SSL_CERT_DIR). Only where the system has no certificate store that OpenSSL can find (a Python or a
    bundled OpenSSL without one) are certifi's certificates added, so that the checks still happen."""
    context = ssl.create_default_context()
    bundle = _fallback_bundle()
    if bundle:
        context.load_verify_locations(cafile=bundle)
    return context


@lru_cache(maxsize=1)
def _fallback_bundle() -> str | None:
    if sys.platform == "win32":  # the Windows certificate store is loaded by create_default_context
        return None
    found = ssl.get_default_verify_paths()
    if found.cafile or found.capath:
        return None
    try:
        import certifi
    except ImportError:
        return None
    return certifi.where()


def network_reason(exc: BaseException, host: str, port: int | None = None) -> str | None:
    """The plain reason for a failure to reach ``host``, or None when ``exc`` is not a network failure."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _("el certificado de {host} no es de confianza ({detail})").format(
            host=host, detail=exc.verify_message or exc.reason or "")
    if isinstance(exc, ssl.SSLError):
        return _("no se pudo establecer una conexión segura con {host} ({detail})").format(
            host=host, detail=exc.reason or type(exc).__name__)
    if isinstance(exc, socket.gaierror):
        return _("no se encontró el servidor {host} (¿hay conexión a internet? ¿está bien escrito?)").format(
            host=host)
    if isinstance(exc, ConnectionRefusedError):
        return _("{host} no acepta conexiones en el puerto {port}").format(host=host, port=port or "")
    if isinstance(exc, TimeoutError):
        return _("{host} no respondió a tiempo").format(host=host)
    if isinstance(exc, ConnectionError):
        return _("se cortó la conexión con {host}").format(host=host)
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN):
        return _("no hay conexión a la red para llegar a {host}").format(host=host)
    if isinstance(exc, OSError) and exc.errno is not None:
        return _("no se pudo conectar con {host}: {error}").format(host=host, error=exc.strerror or exc.errno)
    return None
