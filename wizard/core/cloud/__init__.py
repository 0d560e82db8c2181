"""Cloud copies of the backups: one small provider interface and an explicit registry.

The interface (``CloudProvider``), its errors and ``RemoteFile`` live in ``base.py`` and are re-exported
here; each provider is one module (``dropbox.py``, ``google_drive.py``) listed by hand in ``PROVIDERS`` so
that PyInstaller sees every import. The upload queue, cloud retention and the summary's messages are in
``queue.py`` and are the same for every provider; the command line is in ``commands.py``.
"""

from __future__ import annotations

from wizard.core.cloud.base import (
    SIGN_IN_TIMEOUT,
    Backoff,
    CloudError,
    CloudFull,
    CloudProvider,
    NeedsLogin,
    NotConfigured,
    Offline,
    RemoteFile,
    ServiceUnavailable,
    UploadProgress,
    VerificationFailed,
    remote_folder,
)
from wizard.core.cloud.dropbox import DropboxProvider
from wizard.core.cloud.google import GoogleDriveProvider
from wizard.core.config import CloudConfig
from wizard.i18n import _

PROVIDERS: dict[str, type[CloudProvider]] = {
    "dropbox": DropboxProvider,
    "google_drive": GoogleDriveProvider,
}


def get_provider(cloud: CloudConfig) -> CloudProvider:
    """The provider named by ``cloud.provider``; NotConfigured when this build has none by that name."""
    cls = PROVIDERS.get(cloud.provider)
    if cls is None:
        raise NotConfigured(_("La nube «{provider}» no está disponible en esta versión de Respaldos.").format(
            provider=cloud.provider))
    return cls(cloud)


__all__ = [
    "PROVIDERS", "SIGN_IN_TIMEOUT", "Backoff", "CloudError", "CloudFull", "CloudProvider", "DropboxProvider",
    "GoogleDriveProvider", "NeedsLogin", "NotConfigured", "Offline", "RemoteFile", "ServiceUnavailable", "UploadProgress",
    "VerificationFailed", "get_provider", "remote_folder",
]
