"""Credentials (cloud tokens, passwords) in the operating system's keyring, never in the config or the log.

Windows Credential Manager, macOS Keychain or the Secret Service on Linux (GNOME Keyring, KWallet), through
``keyring``, under the service name "Respaldos". Where no keyring can take a value (a Linux desktop without
one, a headless box), it is never written anywhere silently: ``set_secret`` raises KeyringUnavailable,
whose sentence says what that means, unless the user agreed to ``credenciales.json`` in the data folder
(readable and writable only by the user, not encrypted): the window asks, and for the command line and
``respaldos run`` the config says ``[secrets] allow_file = true``. Callers give that consent with
``allow_file_storage()``. A value already in that file is kept up to date there (a refreshed token), and
read from it, as before. Values are never logged.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
from collections.abc import Iterator
from pathlib import Path

from wizard.core import paths
from wizard.core.errors import UserError
from wizard.core.fsutil import atomic_write_bytes
from wizard.i18n import _

logger = logging.getLogger(__name__)

SERVICE = "Respaldos"
FALLBACK_FILE_NAME = "credenciales.json"
# The user agreed that a secret stored now may go to the fallback file (set by allow_file_storage).
_file_allowed: contextvars.ContextVar[bool] = contextvars.ContextVar("respaldos_secrets_file", default=False)


class KeyringUnavailable(UserError):
    """No keyring could take ``name`` and the user has not agreed to the fallback file: nothing was stored."""

    def __init__(self, name: str):
        self.name = name
        self.what = describe(name)
        super().__init__(_(
            "No hay un llavero del sistema donde guardar {what}, así que no se guardó. Sin llavero, solo se puede "
            "guardar en el archivo {path}, que solo tu usuario puede abrir pero que no está cifrado: quien copie "
            "ese archivo o el disco podría usar {what}. Instala o desbloquea un llavero (en Linux, GNOME Keyring "
            "o KWallet) y vuelve a intentar, o acepta guardarlo en ese archivo.").format(
            what=self.what, path=fallback_path()))


def describe(name: str) -> str:
    """What a stored value is, in words ("la sesión de Dropbox")."""
    known = {
        "dropbox": _("la sesión de Dropbox"),
        "google_drive": _("la sesión de Google Drive"),
        "avisos:smtp": _("la contraseña del correo"),
        "avisos:telegram": _("el token del bot de Telegram"),
    }
    if name in known:
        return known[name]
    if name.startswith("base de datos:"):
        return _("la contraseña de la base de datos {name}").format(name=name.split(":", 1)[1])
    return name


def config_hint(config_path: str | Path) -> str:
    """How to agree to the file for the command line and ``respaldos run``: the lines to add to the config."""
    return _("Para aceptarlo, agrega a {path}:").format(path=config_path) + "\n\n  [secrets]\n  allow_file = true"


@contextlib.contextmanager
def allow_file_storage(allowed: bool = True) -> Iterator[None]:
    """Within the block (in this thread), a secret no keyring can take may go to the fallback file: the
    user agreed (the window's question, or ``[secrets] allow_file`` in the config)."""
    token = _file_allowed.set(allowed)
    try:
        yield
    finally:
        _file_allowed.reset(token)


def keyring_usable() -> bool:
    """Whether a keyring backend exists here (it may still refuse a value: see set_secret)."""
    return _keyring() is not None


def check_can_store(name: str) -> None:
    """Raise KeyringUnavailable now when storing ``name`` would be refused: before a sign-in opens the
    browser, not after."""
    if _keyring() is None and not _file_allowed.get() and name not in _read_fallback():
        raise KeyringUnavailable(name)


def stored_in_file(name: str) -> bool:
    """Whether ``name`` is kept in the fallback file (the user agreed, or an older version put it there)."""
    return name in _read_fallback()


def file_notice(name: str) -> str | None:
    """What to tell once ``name`` was stored, when it went to the fallback file; None when in a keyring."""
    if not stored_in_file(name):
        return None
    return _("No hay un llavero del sistema: {what} quedó en el archivo {path}, que solo tu usuario puede abrir "
             "(no está cifrado).").format(what=describe(name), path=fallback_path())


def fallback_path() -> Path:
    return paths.data_dir() / FALLBACK_FILE_NAME


def _keyring():
    """The keyring module when a usable backend exists, else None."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:
        logger.warning("keyring backend could not be loaded", exc_info=True)
        return None
    if isinstance(backend, fail.Keyring):
        return None
    backends = getattr(backend, "backends", None)  # keyring's ChainerBackend with nothing to chain
    if backends is not None and not backends:
        return None
    return keyring


def get_secret(name: str) -> str | None:
    """The stored value for ``name`` ("dropbox"), from the keyring or else from the fallback file."""
    keyring = _keyring()
    if keyring is not None:
        try:
            value = keyring.get_password(SERVICE, name)
            if value is not None:
                return value
        except keyring.errors.KeyringError as exc:
            logger.warning("keyring could not be read (%s); trying the fallback file", type(exc).__name__)
    return _read_fallback().get(name)


def set_secret(name: str, value: str) -> None:
    """Store ``value`` in the keyring. When no keyring can take it: in the user-only fallback file if the user
    agreed (``allow_file_storage``) or it is kept there already, else KeyringUnavailable (nothing stored)."""
    keyring = _keyring()
    if keyring is not None:
        try:
            keyring.set_password(SERVICE, name, value)
            _remove_from_fallback(name)
            return
        except keyring.errors.KeyringError as exc:
            logger.warning("keyring could not store the %s credentials (%s)", name, type(exc).__name__)
    else:
        logger.warning("no usable keyring backend for the %s credentials", name)
    data = _read_fallback()
    if not _file_allowed.get() and name not in data:
        logger.warning("the %s credentials were not stored: no keyring, and storing them in %s was not agreed "
                       "to", name, fallback_path())
        raise KeyringUnavailable(name)
    logger.warning("the %s credentials are kept in %s, readable only by this user (no keyring)", name,
                   fallback_path())
    data[name] = value
    _write_fallback(data)


def delete_secret(name: str) -> None:
    """Forget ``name`` everywhere it may be stored. Missing is fine."""
    keyring = _keyring()
    if keyring is not None:
        try:
            keyring.delete_password(SERVICE, name)
        except keyring.errors.PasswordDeleteError:
            pass
        except keyring.errors.KeyringError as exc:
            logger.warning("keyring could not delete the %s credentials (%s)", name, type(exc).__name__)
    _remove_from_fallback(name)


def storage_description() -> str:
    """Where secrets go on this computer, for the log and support ("keyring WinVaultKeyring")."""
    keyring = _keyring()
    if keyring is None:
        return f"file {fallback_path()}"
    return f"keyring {type(keyring.get_keyring()).__name__}"


def _read_fallback() -> dict[str, str]:
    path = fallback_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("credentials file %s could not be read: %s", path, type(exc).__name__)
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)} \
        if isinstance(data, dict) else {}


def _remove_from_fallback(name: str) -> None:
    data = _read_fallback()
    if name not in data:
        return
    del data[name]
    if data:
        _write_fallback(data)
    else:
        try:
            fallback_path().unlink()
        except FileNotFoundError:
            pass


def _write_fallback(data: dict[str, str]) -> None:
    """Atomic, and created with mode 0600 from the start (never briefly readable by others)."""
    path = fallback_path()
    paths.ensure_dir(path.parent)
    atomic_write_bytes(path, json.dumps(data, indent=1).encode("utf-8"), mode=0o600)
