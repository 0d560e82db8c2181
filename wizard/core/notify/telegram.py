"""Telegram notices through a bot the owner creates with @BotFather: ``sendMessage`` of the Bot API over HTTPS.

The bot token lives in the keyring under SECRET; it is part of the request's address, so the address is
never logged. RESPALDOS_TELEGRAM_API replaces the API's base address (a proxy; the tests' fake server).
"""

from __future__ import annotations

import json
import os
from urllib.parse import urlsplit

from wizard.core import secrets
from wizard.core.config import NotifyConfig
from wizard.core.notify.base import TIMEOUT, ChannelError, network_reason, tls_context
from wizard.core.notify.messages import Alert
from wizard.i18n import _

NAME = "telegram"
SECRET = "avisos:telegram"
PASSWORD_KIND = "telegram"  # ``respaldos notify password telegram``
API_ENV = "RESPALDOS_TELEGRAM_API"
DEFAULT_API = "https://api.telegram.org"


def title() -> str:
    return "Telegram"


def configured(cfg: NotifyConfig) -> bool:
    return bool(cfg.telegram_chat_id.strip())


def target(cfg: NotifyConfig) -> str:
    return _("chat {chat}").format(chat=cfg.telegram_chat_id.strip())


def failed_sentence(reason: str) -> str:
    return _("No se pudo avisar por Telegram: {reason}").format(reason=reason)


def api_base() -> str:
    return (os.environ.get(API_ENV, "").strip() or DEFAULT_API).rstrip("/")


def send(cfg: NotifyConfig, alert: Alert, *, timeout: float = TIMEOUT) -> None:
    """Send ``alert.text`` to ``telegram_chat_id``; ChannelError says why not."""
    import urllib.error
    import urllib.request  # on first use: the window starts faster (PyInstaller still sees it)

    token = secrets.get_secret(SECRET)
    if not token:
        raise ChannelError(_("falta el token del bot: guárdalo con «respaldos notify password telegram» o desde "
                             "la ventana"))
    chat = cfg.telegram_chat_id.strip()
    base = api_base()
    host = urlsplit(base).hostname or base
    body = json.dumps({"chat_id": int(chat) if chat.lstrip("-").isdigit() else chat, "text": alert.text,
                       "disable_web_page_preview": True}).encode("utf-8")
    request = urllib.request.Request(f"{base}/bot{token}/sendMessage", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=tls_context()))
    try:
        with opener.open(request, timeout=timeout) as response:
            answer = _json(response.read())
    except urllib.error.HTTPError as exc:
        answer = _json(exc.read())
        answer.setdefault("error_code", exc.code)
        answer["ok"] = False
    except urllib.error.URLError as exc:
        reason = exc.reason if isinstance(exc.reason, BaseException) else None
        raise ChannelError((reason is not None and network_reason(reason, host))
                           or _("no se pudo conectar con {host}").format(host=host)) from None
    except Exception as exc:  # noqa: BLE001 - a timeout while reading, a dropped connection
        raise ChannelError(network_reason(exc, host) or _("no se pudo conectar con {host} ({error})").format(
            host=host, error=type(exc).__name__)) from None
    if not answer.get("ok"):
        raise ChannelError(_reason(answer, chat))


def _json(raw: bytes) -> dict:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _reason(answer: dict, chat: str) -> str:
    code = answer.get("error_code")
    description = " ".join(str(answer.get("description", "")).split())[:160]
    if code in (401, 404):
        return _("Telegram no reconoce el token del bot: guárdalo otra vez con «respaldos notify password "
                 "telegram»")
    if code == 400 and "chat not found" in description.lower():
        return _("no se encontró el chat {chat}: escríbele algo al bot desde ese chat primero, o revisa "
                 "telegram_chat_id").format(chat=chat)
    if code == 403:
        return _("el bot no puede escribir en el chat {chat} (lo bloquearon o no es miembro): {detail}").format(
            chat=chat, detail=description)
    if code == 429:
        return _("Telegram pide esperar antes de enviar más mensajes")
    return _("Telegram respondió {code}: {detail}").format(code=code, detail=description or "?")
