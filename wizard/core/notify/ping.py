"""The dead-man's switch: Healthchecks-style pings, ``<ping_url>/start`` when a backup starts, ``<ping_url>``
when it succeeds, ``<ping_url>/fail`` when it fails. The service alerts the owner when the pings stop, which
covers a computer that is off, dead or stolen. Design: docs/notify.md.

The address itself is the secret (whoever has it can ping), so only its scheme and host are ever logged.
An Uptime Kuma push address (``/api/push/<token>``) gets ``?status=up`` / ``?status=down&msg=...`` instead of
the suffixes, which Kuma does not know.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from wizard.core.config import NotifyConfig
from wizard.core.notify.base import TIMEOUT, ChannelError, network_reason, tls_context
from wizard.i18n import _

NAME = "ping"
SIGNALS = ("start", "success", "fail", "log")
SUFFIXES = {"start": "/start", "success": "", "fail": "/fail", "log": "/log"}
BODY_LIMIT = 10_000


def title() -> str:
    return _("vigilancia (ping)")


def configured(cfg: NotifyConfig) -> bool:
    return bool(cfg.ping_url.strip())


def target(cfg: NotifyConfig) -> str:
    return safe_label(cfg.ping_url)


def failed_sentence(reason: str) -> str:
    return _("No se pudo avisar al servicio de vigilancia: {reason}").format(reason=reason)


def safe_label(url: str) -> str:
    """What may be shown or logged of a ping address: scheme and host, never the path with its code."""
    parts = urlsplit(url.strip())
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}/…"


def is_uptime_kuma(url: str) -> bool:
    return "/api/push/" in urlsplit(url.strip()).path


def ping_address(url: str, signal: str, message: str = "") -> str | None:
    """The address to call for ``signal`` (start | success | fail | log); None when the service has no such
    signal (Uptime Kuma has no start)."""
    parts = urlsplit(url.strip())
    if is_uptime_kuma(url):
        if signal in ("start", "log"):
            return None
        query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("status", "msg")]
        query += [("status", "down" if signal == "fail" else "up"), ("msg", (message or "OK")[:200])]
        return urlunsplit(parts._replace(query=urlencode(query)))
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + SUFFIXES[signal]))


def ping(cfg: NotifyConfig, signal: str, message: str = "", *, timeout: float = TIMEOUT) -> None:
    """Send one ping; ``message`` (no secrets: the run's sentence) goes in the body, which Healthchecks shows
    in the check's log. ChannelError says why it failed."""
    import urllib.error
    import urllib.request  # on first use: the window starts faster (PyInstaller still sees it)

    address = ping_address(cfg.ping_url, signal, message)
    if address is None:
        return
    host = urlsplit(address).hostname or "?"
    kuma = is_uptime_kuma(cfg.ping_url)
    data = None if kuma else message.encode("utf-8")[:BODY_LIMIT]
    request = urllib.request.Request(address, data=data, method="GET" if kuma else "POST",
                                     headers={"Content-Type": "text/plain; charset=utf-8"} if data is not None
                                     else {})
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls_context()))
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read(1024)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            raise ChannelError(_("{host} no conoce esa dirección de ping (404): revisa ping_url").format(
                host=host)) from None
        raise ChannelError(_("{host} respondió {code} al ping").format(host=host, code=exc.code)) from None
    except urllib.error.URLError as exc:
        reason = exc.reason if isinstance(exc.reason, BaseException) else None
        raise ChannelError((reason is not None and network_reason(reason, host))
                           or _("no se pudo conectar con {host}").format(host=host)) from None
    except Exception as exc:  # noqa: BLE001 - a timeout while reading, a dropped connection
        raise ChannelError(network_reason(exc, host) or _("no se pudo conectar con {host} ({error})").format(
            host=host, error=type(exc).__name__)) from None
