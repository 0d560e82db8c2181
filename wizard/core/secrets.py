"""Credentials (cloud refresh tokens) in the operating system's keyring, never in the config or the log.

Windows Credential Manager, macOS Keychain or the Secret Service on Linux, through ``keyring``, under
the service name "Respaldos". Where no keyring backend exists (a headless Linux box), the value goes to
``credenciales.json`` in the data folder, created readable and writable only by the user, and the log
says so. Values are never logged.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from wizard.core import paths
from wizard.core.fsutil import atomic_write_bytes

logger = logging.getLogger(__name__)

SERVICE = "Respaldos"
FALLBACK_FILE_NAME = "credenciales.json"


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
    """Store ``value``: in the keyring, or in the user-only fallback file (with a warning in the log)."""
    keyring = _keyring()
    if keyring is not None:
        try:
            keyring.set_password(SERVICE, name, value)
            _remove_from_fallback(name)
            return
        except keyring.errors.KeyringError as exc:
            logger.warning("keyring could not store the %s credentials (%s)", name, type(exc).__name__)
    logger.warning("no usable keyring backend: the %s credentials are kept in %s, readable only by this "
                   "user", name, fallback_path())
    data = _read_fallback()
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
