"""The interface every cloud provider implements (Dropbox and Google Drive), its errors, and backoff.

A provider knows one account and one remote folder (``cloud.folder``). It signs in through the browser,
keeps its credentials with ``wizard.core.secrets`` (never in the config), and uploads verified: ``upload``
returns only once the provider's own checksum of the remote copy matches the local file. Everything
else (the queue, retention, messages for the summary) lives in ``wizard.core.cloud.queue`` and is the
same for every provider.
"""

from __future__ import annotations

import json
import logging
import random
import sys
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from wizard.core.config import CloudConfig
from wizard.core.errors import Cancelled, UserError
from wizard.core.units import format_size
from wizard.i18n import _

logger = logging.getLogger(__name__)

SIGN_IN_TIMEOUT = 300.0  # seconds the browser sign-in may take before it gives up

# A caller's progress callback for one file: (bytes sent so far, file size).
ByteProgress = Callable[[int, int], None]
# Where a provider saves how far a resumable upload got (None: start over next time).
Checkpoint = Callable[[dict[str, Any] | None], None]


@dataclass(frozen=True)
class RemoteFile:
    """A file in the provider's backup folder."""

    name: str
    size: int
    modified: datetime | None = None
    content_hash: str | None = None  # the provider's own checksum (Dropbox content_hash, Drive md5Checksum)
    id: str = ""


@dataclass
class UploadProgress:
    """A progress event while uploading; ``percent`` is for the current file, ``speed`` in bytes/s."""

    name: str
    done_bytes: int
    total_bytes: int
    speed: float
    index: int = 1  # this file is number ``index`` of ``count`` being uploaded now
    count: int = 1
    phase: str = "upload"

    @property
    def percent(self) -> float:
        return round(100.0 * self.done_bytes / self.total_bytes, 1) if self.total_bytes else 100.0

    @property
    def current(self) -> str:

        return _("{name} a {speed}/s").format(name=self.name, speed=format_size(self.speed))


# -- errors -------------------------------------------------------------------------------------------
# Each is a UserError (a sentence that says what to do); ``reason`` is what the queue records.

class CloudError(UserError):
    reason = "error"


class Offline(CloudError):
    """No connection to the provider (or it kept dropping): the upload waits in the queue."""

    reason = "offline"


class ServiceUnavailable(CloudError):
    """The provider kept answering with errors (5xx) or asked to wait too long (429)."""

    reason = "server"


class NeedsLogin(CloudError):
    """No credentials stored, or they were revoked or expired: sign in again."""

    reason = "login"


class NotConfigured(CloudError):
    """Something the provider needs before it can even sign in (an app key, a client file) is missing."""

    reason = "config"


class LocalFileProblem(CloudError):
    """The backup to upload could not be read on this computer (wizard.core.oserrors says why)."""

    reason = "local"


class CloudFull(CloudError):
    """Not enough free space in the account for the next upload."""

    reason = "full"

    def __init__(self, provider_title: str, name: str, needed: int, free: int | None):

        # The provider can refuse a file while its quota still shows room (space counted elsewhere, e.g. a
        # shared folder's owner): "quedan 1.9 GB" would then contradict the refusal, so it is left out.
        if free is None or free >= needed:
            text = _("Tu {provider} no tiene espacio para subir {name} ({needed}). Libera espacio en "
                     "{provider} o conserva menos respaldos.")
        else:
            text = _("Tu {provider} está lleno: para subir {name} se necesitan {needed} y quedan {free}. "
                     "Libera espacio en {provider} o conserva menos respaldos.")
        super().__init__(text.format(provider=provider_title, name=name, needed=format_size(needed),
                                     free=format_size(max(free or 0, 0))))
        self.needed = needed
        self.free = free


class VerificationFailed(CloudError):
    """The remote copy's checksum kept differing from the local file after re-uploading."""

    reason = "verify"


# -- the interface -------------------------------------------------------------------------------------

class CloudProvider(ABC):
    """One cloud account and one folder in it. Methods block; call them from a worker thread.

    Every network method raises only the errors above (or Cancelled) for problems a user can have:
    no connection, revoked sign-in, full account, a provider that keeps failing.
    """

    name: ClassVar[str]  # registry key and config value: "dropbox"
    title: ClassVar[str]  # shown to the user: "Dropbox"

    def __init__(self, cloud: CloudConfig):
        self.cloud = cloud

    @property
    def folder(self) -> str:
        """``cloud.folder`` as an absolute POSIX path without a trailing slash: "/Respaldos"."""
        return remote_folder(self.cloud.folder)

    @abstractmethod
    def sign_in(self, *, cancel: threading.Event | None = None, timeout: float = SIGN_IN_TIMEOUT,
                ask_code: Callable[[str], str | None] | None = None,
                show_url: Callable[[str], None] | None = None, use_browser: bool = True) -> str:
        """Sign in through the browser and store the credentials; return the account label.

        A loopback listener on 127.0.0.1 receives the redirect; ``timeout`` or ``cancel`` end the wait
        (Cancelled / UserError) without storing anything. ``show_url(url)`` is told the address being
        opened (to show it in case the browser does not come up). When no browser can be opened, or
        with ``use_browser=False``, ``ask_code(url)`` is asked for the code the provider shows after
        approval; without it, a UserError says what happened. Runs on a worker thread: ``ask_code`` and
        ``show_url`` are called from it.
        """

    def paste_hint(self) -> tuple[str, str]:
        """(explanation, prompt) when the user must paste what the provider shows after approval (no browser
        could be opened): by default a code; a provider that shows none (Google) says what to paste instead."""
        return (_("Abre esta dirección en un navegador (en esta u otra computadora), autoriza a Respaldos y "
                  "pega aquí el código que aparece:"), _("Código: "))

    @abstractmethod
    def sign_out(self) -> None:
        """Forget the stored credentials (and revoke them at the provider when reachable)."""

    @abstractmethod
    def signed_in(self) -> bool:
        """Credentials are stored on this computer (no network call)."""

    @abstractmethod
    def account_label(self) -> str:
        """The account's display name and e-mail, as the config's ``cloud.account`` keeps it."""

    @abstractmethod
    def upload(self, path: Path, *, progress: ByteProgress | None = None,
               cancel: threading.Event | None = None, resume: dict[str, Any] | None = None,
               checkpoint: Checkpoint | None = None) -> RemoteFile:
        """Upload ``path`` as ``<folder>/<path.name>``, replacing a file of that name, and verify it.

        Resumable: ``checkpoint(state)`` is called with a JSON-able dict as the upload advances; passing
        it back as ``resume`` later (even from another process) continues where the server stopped.
        On a checksum mismatch the remote copy is deleted and uploaded again (a few times at most).
        """

    @abstractmethod
    def list(self) -> list[RemoteFile]:
        """The files directly inside the folder (an absent folder is empty)."""

    @abstractmethod
    def delete(self, name: str) -> None:
        """Delete ``<folder>/<name>`` for good (freeing its space); a missing file is not an error."""

    @abstractmethod
    def free_space(self) -> int | None:
        """Bytes still free in the account, or None when the provider does not say."""

    @abstractmethod
    def same_content(self, path: Path, remote: RemoteFile) -> bool:
        """The remote file holds exactly the bytes of ``path`` (size and the provider's checksum)."""

    def download(self, name: str, dest: Path, *, progress: ByteProgress | None = None,
                 cancel: threading.Event | None = None) -> Path:
        """Download ``<folder>/<name>`` to ``dest`` and return ``dest``.

        The bytes go to a temporary name beside ``dest`` and take its name only after the provider's
        checksum matches (VerificationFailed otherwise, and the temporary file is removed). Used by
        restore ("Restaurar" from a cloud copy, ``respaldos restore --from-cloud NAME``).
        """
        raise NotImplementedError(f"{type(self).__name__}.download")

    def close(self) -> None:
        """Release connections."""


VENDOR_SETTINGS_NAME = "respaldos-vendor.json"


def vendor_settings() -> dict[str, Any]:
    """What a vendor's build bundles (build/spec/respaldos.spec writes ``respaldos-vendor.json`` at the root
    of the one-file executable): ``dropbox_app_key``, ``google_client_config``. Empty when not frozen or
    absent."""
    root = getattr(sys, "_MEIPASS", None)
    if not root:
        return {}
    path = Path(root) / VENDOR_SETTINGS_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("bundled %s unreadable: %s", path, exc)
        return {}
    return data if isinstance(data, dict) else {}


def remote_folder(folder: str) -> str:
    """Normalise a configured folder: "Respaldos/" and "/Respaldos" both give "/Respaldos"."""
    parts = [p for p in folder.replace("\\", "/").strip().split("/") if p.strip()]
    return "/" + "/".join(p.strip() for p in parts) if parts else ""


class Backoff:
    """Exponential backoff with jitter for one operation; honours Retry-After; wakes up on cancel."""

    def __init__(self, cancel: threading.Event | None = None, attempts: int = 6, base: float = 0.5,
                 cap: float = 30.0, max_retry_after: float = 300.0):
        self.cancel = cancel or threading.Event()
        self.attempts = attempts
        self.base = base
        self.cap = cap
        self.max_retry_after = max_retry_after
        self.failures = 0

    def reset(self) -> None:
        """Progress was made: the next failure starts the count again."""
        self.failures = 0

    def wait(self, retry_after: float | None = None) -> bool:
        """Sleep before the next attempt. False (without sleeping) when the attempts are used up or the
        server asks to wait longer than ``max_retry_after``. Raises Cancelled when cancelled meanwhile."""
        self.failures += 1
        if self.failures >= self.attempts:
            return False
        if retry_after is not None:
            if retry_after > self.max_retry_after:
                return False
            delay = max(float(retry_after), 0.0)
        else:
            delay = min(self.cap, self.base * 2 ** (self.failures - 1))
            delay = delay / 2 + random.random() * delay / 2
        if self.cancel.wait(delay):
            raise Cancelled()
        return True

    def check_cancel(self) -> None:
        if self.cancel.is_set():
            raise Cancelled()
