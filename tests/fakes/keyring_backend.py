"""A keyring backend for the tests: a JSON file named by FAKE_KEYRING_FILE, so that a subprocess (the CLI)
sees what the test process stored. Selected with keyring.set_keyring(...) in-process and with
PYTHON_KEYRING_BACKEND=tests.fakes.keyring_backend.FileKeyring in subprocesses."""

from __future__ import annotations

import json
import os
from pathlib import Path

from jaraco.classes import properties
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError, PasswordSetError


class FileKeyring(KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:  # type: ignore[override]
        # Only while a test names its file: keyring's chainer (which lists every backend class imported) must
        # not pick it up in a later test, where FAKE_KEYRING_FILE is gone.
        return 1 if os.environ.get("FAKE_KEYRING_FILE") else 0

    @staticmethod
    def _path() -> Path:
        return Path(os.environ["FAKE_KEYRING_FILE"])

    def _load(self) -> dict[str, str]:
        try:
            return json.loads(self._path().read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def _save(self, data: dict[str, str]) -> None:
        self._path().write_text(json.dumps(data), encoding="utf-8")

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise PasswordDeleteError("not stored")
        self._save(data)


class LockedKeyring(KeyringBackend):
    """A keyring that is there but refuses every value, as a locked Secret Service collection does. Selected
    with keyring.set_keyring(LockedKeyring()) or PYTHON_KEYRING_BACKEND=tests.fakes.keyring_backend.LockedKeyring."""

    priority = 1  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError("the collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise PasswordDeleteError("not stored")
