"""One copy of Respaldos per user: the window or ``respaldos run``, never two (issue 18).

The first copy takes an OS lock on ``ventana.lock`` in the data folder (``filelock``: ``flock`` on Linux and
macOS, ``msvcrt.locking`` on Windows) and holds it while it runs. The system drops the lock when the
process ends, however it ends, so a crash or a SIGKILL never blocks the next start. The first copy also
listens on a local channel: a Unix socket in Linux's abstract namespace (nothing on disk that could go
stale), a Unix socket file beside the lock on macOS, a named pipe on Windows. A client must prove it knows
the random key the owner wrote to the user's data folder (0600) when it took the lock
(``multiprocessing.connection``'s HMAC handshake), so only this user's copies are answered.

A later start that finds the lock taken asks the owner over that channel to show its window; the owner
answers what it is ("window" or "run") and its process id, so the window and ``respaldos run`` can say
which one is already running. Nothing here imports tkinter: the command line uses it before choosing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import filelock

from wizard.core import paths

logger = logging.getLogger(__name__)

LOCK_NAME = "ventana.lock"
KEY_NAME = "ventana.key"
SOCKET_NAME = "ventana.sock"  # macOS only: Linux uses the abstract namespace, Windows a named pipe
WINDOW, RUN = "window", "run"
SHOW, WHO = "show", "who"
ASK_SECONDS = 2.0  # a second start gives up asking after this (it must be gone within 3 s)
RETRY_SECONDS = 0.05


@dataclass(frozen=True)
class RunningCopy:
    """The copy that holds the lock, as it answered (``kind`` is None when it did not answer in time)."""

    kind: str | None
    pid: int | None


def _folder(folder: Path | None) -> Path:
    return Path(folder) if folder is not None else paths.data_dir()


def channel_address(folder: Path | None = None) -> tuple[str, str]:
    """(address, family) of the channel of the copy whose lock is in ``folder``."""
    folder = _folder(folder)
    lock = os.path.normcase(str((folder / LOCK_NAME).resolve(strict=False)))
    tag = hashlib.sha256(lock.encode("utf-8")).hexdigest()[:24]
    if sys.platform == "win32":
        return rf"\\.\pipe\respaldos-{tag}", "AF_PIPE"
    if sys.platform.startswith("linux"):
        return f"\0respaldos-{tag}", "AF_UNIX"
    return str(folder / SOCKET_NAME), "AF_UNIX"


class InstanceLock:
    """This process is the one copy: the lock, the key and (after ``serve``) the channel's listener."""

    def __init__(self, kind: str, folder: Path | None = None):
        self.kind = kind
        self.folder = _folder(folder)
        self._lock = filelock.FileLock(str(self.folder / LOCK_NAME), timeout=0, thread_local=False)
        self._listener = None
        self._thread: threading.Thread | None = None
        self._closed = threading.Event()

    def acquire(self) -> bool:
        """True when no other copy holds the lock (this one now does)."""
        paths.ensure_dir(self.folder)
        try:
            self._lock.acquire()
        except filelock.Timeout:
            return False
        _write_private(self.folder / KEY_NAME, secrets.token_bytes(32))
        return True

    def serve(self, on_show: Callable[[], None] | None = None) -> None:
        """Answer other starts on a daemon thread. ``on_show`` runs on that thread when one asks for the
        window (hand it to the Tk thread: it must not touch widgets)."""
        from multiprocessing.connection import Listener

        address, family = channel_address(self.folder)
        if family == "AF_UNIX" and not address.startswith("\0"):
            Path(address).unlink(missing_ok=True)  # a crashed owner's socket file; we hold the lock now
        key = (self.folder / KEY_NAME).read_bytes()
        self._listener = Listener(address, family, authkey=key)
        self._thread = threading.Thread(target=self._serve, args=(on_show,), name="una-copia", daemon=True)
        self._thread.start()

    def _serve(self, on_show: Callable[[], None] | None) -> None:
        from multiprocessing import AuthenticationError

        while True:  # ends only after an accept, so that release()'s own connection is always answered
            try:
                conn = self._listener.accept()  # type: ignore[union-attr]
            except (AuthenticationError, EOFError, ConnectionError) as exc:
                if self._closed.is_set():
                    return
                logger.warning("refused a connection to the single-copy channel: %s", exc)
                continue
            except OSError:
                if self._closed.is_set():
                    return
                logger.exception("single-copy channel failed")
                return
            if self._closed.is_set():  # release() woke the accept up
                conn.close()
                return
            try:
                with conn:
                    if not conn.poll(ASK_SECONDS):
                        continue
                    request = conn.recv()
                    conn.send({"kind": self.kind, "pid": os.getpid()})
                if isinstance(request, dict) and request.get("ask") == SHOW and on_show is not None:
                    logger.info("another start (process %s) asked for the window", request.get("pid"))
                    on_show()
            except (EOFError, OSError) as exc:
                logger.warning("single-copy request failed: %s", exc)
            except Exception:
                logger.exception("single-copy request failed")

    def release(self) -> None:
        """Stop answering and let the next copy start (process exit does the same)."""
        self._closed.set()
        if self._listener is not None:
            # Closing a socket does not wake a thread blocked in accept(): a connection of our own does.
            self._wake_listener()
            try:
                self._listener.close()
            except OSError:
                pass
            self._listener = None
            if self._thread is not None:
                self._thread.join(timeout=2)
        self._lock.release()

    def _wake_listener(self) -> None:
        """A connection of our own, on a daemon thread waited for a moment: the serving thread may already
        have seen the close and gone, and a handshake nobody answers has no timeout."""
        from multiprocessing.connection import Client

        address, family = channel_address(self.folder)

        def connect() -> None:
            try:
                Client(address, family, authkey=(self.folder / KEY_NAME).read_bytes()).close()
            except Exception:  # refused or cut: the serving thread is awake or gone either way
                logger.debug("woke the single-copy listener", exc_info=True)

        waking = threading.Thread(target=connect, name="despierta-una-copia", daemon=True)
        waking.start()
        waking.join(timeout=1)


def claim(kind: str, folder: Path | None = None) -> InstanceLock | None:
    """Become the one copy (``kind`` is WINDOW or RUN); None when another copy already is."""
    lock = InstanceLock(kind, folder)
    return lock if lock.acquire() else None


def ask_running_copy(request: str = SHOW, folder: Path | None = None,
                     timeout: float = ASK_SECONDS) -> RunningCopy:
    """Ask the copy holding the lock to show its window (SHOW) or only who it is (WHO).

    Retries while that copy is still starting (its channel not open yet); RunningCopy(None, None) when it
    did not answer within ``timeout``. The asking runs on a daemon thread, since a connection's handshake
    has no timeout of its own: a copy that hangs never keeps this one from ending."""
    answers: list[RunningCopy] = []
    done = threading.Event()
    asking = threading.Thread(target=lambda: (answers.append(_ask(request, _folder(folder), timeout, done)),
                                              done.set()), name="pregunta-a-la-copia", daemon=True)
    asking.start()
    if not done.wait(timeout + 0.5) or not answers:
        done.set()  # tells the thread to stop retrying
        return RunningCopy(None, None)
    return answers[0]


def _ask(request: str, folder: Path, timeout: float, give_up: threading.Event) -> RunningCopy:
    from multiprocessing import AuthenticationError
    from multiprocessing.connection import Client

    address, family = channel_address(folder)
    deadline = time.monotonic() + timeout
    while not give_up.is_set():
        try:
            key = (folder / KEY_NAME).read_bytes()
            with Client(address, family, authkey=key) as conn:
                conn.send({"ask": request, "pid": os.getpid()})
                if conn.poll(max(deadline - time.monotonic(), 0.1)):
                    answer = conn.recv()
                    if isinstance(answer, dict):
                        return RunningCopy(answer.get("kind"), answer.get("pid"))
        except (OSError, EOFError, AuthenticationError) as exc:  # not listening yet, or an old key
            logger.debug("the running copy did not answer yet: %s", exc)
        if time.monotonic() >= deadline:
            break
        time.sleep(RETRY_SECONDS)
    return RunningCopy(None, None)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` readable by this user only, replacing the file in one step."""
    temp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(temp, path)
