"""Passwords of server databases: kept in the keyring, handed to the tools without ever showing them.

A tool reads its password from a file name (``--defaults-extra-file`` / ``-fetch_password``): on Linux and
macOS ``/dev/fd/N``, a descriptor it inherits (nothing on disk), on Windows a 0600 file in a private folder
that the next run removes if this one was killed. Never on a command line, in the environment, the log or a
message. Why: docs/design.md, "Server databases".
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from wizard.core import secrets
from wizard.core.config import DatabaseSource
from wizard.core.fsutil import remove_stale_dirs

FOLDER_PREFIX = "respaldos-db-"
# Windows has no /dev/fd: there the password goes into a 0600 file, left behind only by a killed process
# and removed by the next one (remove_stale_folders).
PASS_FDS = sys.platform != "win32"
_PIPE_LIMIT = 16 << 10  # a pipe holds at least this much without a reader (macOS); longer secrets use a file
_stale_checked = False


def secret_name(db: DatabaseSource) -> str:
    """The keyring key of an entry's password: ``base de datos:<name>``."""
    return f"base de datos:{db.label}"


def get_password(db: DatabaseSource) -> str | None:
    return secrets.get_secret(secret_name(db))


def set_password(db: DatabaseSource, password: str) -> None:
    secrets.set_secret(secret_name(db), password)


def remove_stale_folders(parent: Path | None = None) -> list[Path]:
    """Remove the private folders of processes that were killed (``respaldos-db-<pid>-*`` whose pid is gone).

    A kill (power cut, Task Manager, SIGKILL) skips every ``finally``; on Windows such a folder still holds
    the password file. Folders of an older version, without a pid, go once they are a week old.
    """
    return remove_stale_dirs(Path(parent or tempfile.gettempdir()), FOLDER_PREFIX)


class PrivateFolder:
    """A temporary folder only this user can open, for the tools' logs and error output, plus the way the
    password reaches a tool: an inherited descriptor named ``/dev/fd/N`` (nothing on disk; it dies with the
    processes), or on Windows a 0600 file here. The folder name holds our pid, so that the folder of a
    killed process can be told apart and removed by the next one."""

    def __init__(self) -> None:
        global _stale_checked
        if not _stale_checked:
            _stale_checked = True
            remove_stale_folders()
        self.path = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
        self._fds: list[int] = []
        self._files: dict[str, Path] = {}

    def secret(self, name: str, text: str) -> str:
        """A path the next tool started with ``launch()`` can read ``text`` from, once or more."""
        data = text.encode("utf-8")
        if PASS_FDS:
            fd = self._secret_fd(data)
            if fd is not None:
                self._fds.append(fd)
                return f"/dev/fd/{fd}"
        if name not in self._files:
            path = self.path / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            self._files[name] = path
        return str(self._files[name])

    @staticmethod
    def _secret_fd(data: bytes) -> int | None:
        """Linux: an anonymous in-memory file (a tool may open it twice); elsewhere a pipe already written."""
        memfd_create = getattr(os, "memfd_create", None)
        if memfd_create is not None:
            try:
                fd = memfd_create("respaldos-clave")
            except OSError:
                fd = -1
            if fd >= 0:
                try:
                    os.fchmod(fd, 0o600)  # mysql ignores a "world-writable" option file
                    _write_all(fd, data)
                except OSError:
                    os.close(fd)
                    raise
                return fd
        if len(data) > _PIPE_LIMIT:
            return None
        read, write = os.pipe()
        try:
            _write_all(write, data)
        except OSError:
            os.close(read)
            raise
        finally:
            os.close(write)
        return read

    @contextlib.contextmanager
    def launch(self) -> Iterator[dict]:
        """Keyword arguments for starting the tool whose command line was just built; our copies of its
        password descriptors are closed once it started (or failed to)."""
        try:
            yield {"pass_fds": tuple(self._fds), **popen_flags()} if self._fds else popen_flags()
        finally:
            self.release()

    def read(self, name: str) -> str:
        """What a tool wrote into the file ``name`` here (its log, its error output); "" when there is none."""
        try:
            return (self.path / name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def release(self) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)

    def cleanup(self) -> None:
        self.release()
        shutil.rmtree(self.path, ignore_errors=True)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def popen_flags() -> dict:
    """Keyword arguments that start a tool without opening a console window (Windows)."""
    if sys.platform == "win32":
        return {"creationflags": getattr(subprocess, "CREATE_NO_WINDOW", 0)}
    return {}


class Login:
    """Who a tool logs in as: the entry, its password (None: none stored) and the private folder the password
    passes through. Each engine builds the command lines from it (``Engine.password_path``)."""

    def __init__(self, db: DatabaseSource, password: str | None, folder: PrivateFolder):
        self.db = db
        self.password = password
        self.folder = folder

    def scrub(self, text: str) -> str:
        """Error text from a tool, safe for the log and the user: never the password."""
        if self.password:
            text = text.replace(self.password, "***")
        return text
