"""A cloud backup downloaded for a restore: into the cache's downloads folder, its checksum checked by the
provider, and deleted once the restore is done."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import platformdirs

from wizard.core import oserrors, paths
from wizard.core.cloud import NotConfigured, get_provider
from wizard.core.config import Config
from wizard.core.errors import UserError
from wizard.core.names import parse_archive_name
from wizard.core.restore.progress import Report, RestoreProgress
from wizard.i18n import _

DOWNLOADS_DIR_NAME = "descargas"


def downloads_dir() -> Path:
    return Path(platformdirs.user_cache_dir(paths.APP_DIR_NAME, appauthor=False)) / DOWNLOADS_DIR_NAME


def cloud_download_name(archive: Path | str) -> str | None:
    """The cloud backup's name when ``archive`` is a download of it in ``downloads_dir()`` (deleted once the
    restore is done, so a command must name the cloud copy, not this file); otherwise None."""
    archive = Path(archive)
    return archive.name if archive.absolute().parent == downloads_dir().absolute() else None


def not_a_backup_name(name: str) -> str:
    """What restore and the drill say of a cloud name that is no backup's."""
    return _("«{name}» no es el nombre de un respaldo (respaldo_AAAA-MM-DD_HH-MM-SS.zip).").format(name=name)


def no_cloud_configured() -> str:
    """What restore and the drill say when asked for a cloud copy with no cloud configured."""
    return _("No hay ninguna nube configurada. Elige Dropbox o Google Drive en el paso Nube de la configuración.")


def download_backup(config: Config, name: str, *, report: Report | None = None,
                    cancel: threading.Event | None = None, step: int = 1, steps: int = 1) -> Path:
    """Download ``name`` from the configured cloud into the downloads folder, its checksum checked by the
    provider; returns the local path (the caller deletes it when done)."""
    if parse_archive_name(name) is None:
        raise UserError(not_a_backup_name(name))
    if config.cloud.provider == "none":
        raise NotConfigured(no_cloud_configured())
    folder = downloads_dir()
    with oserrors.plain_errors(folder, oserrors.DOWNLOAD):
        paths.ensure_dir(folder)
    dest = folder / name

    def progress(done: int, total: int) -> None:
        if report is not None:
            report(RestoreProgress("download", round(100.0 * done / total, 1) if total else 100.0, name,
                                   step, steps))

    provider = get_provider(config.cloud)
    try:
        # Writing the copy on this computer; the network's failures are the provider's to say.
        with oserrors.plain_errors(folder, oserrors.DOWNLOAD):
            return provider.download(name, dest, progress=progress, cancel=cancel)
    finally:
        provider.close()


@contextlib.contextmanager
def downloaded(config: Config, name: str, *, report: Report | None = None,
               cancel: threading.Event | None = None, steps: int = 1) -> Iterator[Path]:
    """A cloud backup downloaded (step 1 of ``steps``) for the time of a ``with`` block, then deleted."""
    path = download_backup(config, name, report=report, cancel=cancel, step=1, steps=steps)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()
