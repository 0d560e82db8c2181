"""Translation: Spanish is the source language; English when the system locale is not Spanish.

Every user-facing string goes through ``_``. The message ids are the Spanish sentences, so a missing
catalog degrades to Spanish, the language of most users.
"""

from __future__ import annotations

import gettext
import locale
import os
import sys
from pathlib import Path

DOMAIN = "respaldos"
LOCALE_DIR = Path(__file__).with_name("locale")


def _windows_ui_language() -> str | None:
    try:
        import ctypes

        lang_id = ctypes.windll.kernel32.GetUserDefaultUILanguage()  # type: ignore[attr-defined]
        return locale.windows_locale.get(lang_id)
    except Exception:  # noqa: BLE001 - any failure just means "unknown"
        return None


def system_language() -> str:
    """Two-letter language of the user's locale; "es" when it cannot be told (C/POSIX)."""
    override = os.environ.get("RESPALDOS_LANG")
    if override:
        return override[:2].lower()
    for var in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            value = value.split(":")[0]
            if value in ("C", "POSIX") or value.startswith(("C.", "POSIX.")):
                continue
            return value[:2].lower()
    if sys.platform == "win32":
        name = _windows_ui_language()
        if name:
            return name[:2].lower()
    return "es"


def _load() -> gettext.NullTranslations:
    lang = system_language()
    if lang == "es":
        return gettext.NullTranslations()
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang, "en"], fallback=True)


_translations = _load()


def _(message: str) -> str:
    """Translate a Spanish message id into the user's language."""
    return _translations.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations.ngettext(singular, plural, n)


def current_language() -> str:
    return "es" if isinstance(_translations, gettext.NullTranslations) and not isinstance(
        _translations, gettext.GNUTranslations
    ) else "en"
