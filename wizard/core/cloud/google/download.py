"""Verified downloads from Drive: CHUNK_SIZE ranges through googleapiclient's media download (a dropped
connection continues with the next range), hashed as they arrive; the file takes its name only when Drive's
md5Checksum and size match.

Google's libraries are imported inside the functions: importing this module stays cheap for the CLI.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
from pathlib import Path
from typing import Any

from wizard.core.cloud.base import (
    Backoff,
    ByteProgress,
    CloudError,
    Offline,
    ServiceUnavailable,
    VerificationFailed,
)
from wizard.core.cloud.google.connection import DriveConnection
from wizard.core.cloud.google.errors import is_network_error
from wizard.core.cloud.google.folders import files_named
from wizard.core.cloud.google.settings import CHUNK_SIZE, VERIFY_ATTEMPTS
from wizard.core.errors import UserError
from wizard.core.fsutil import fsync_dir
from wizard.core.units import format_size
from wizard.i18n import _

logger = logging.getLogger(__name__)


def download_verified(connection: DriveConnection, folder_id: str | None, folder: str, name: str, dest: Path,
                      progress: ByteProgress | None, cancel: threading.Event | None) -> Path:
    """Download ``<folder>/<name>`` (the newest copy of that name) to ``dest``, checking Drive's md5Checksum
    and size before it takes that name. A copy whose md5 differs is downloaded again (VERIFY_ATTEMPTS times
    in all), then VerificationFailed."""
    found = files_named(connection, folder_id, name, cancel) if folder_id else []
    if not found:
        raise CloudError(_("No se encontró {name} en la carpeta {folder} de Google Drive.").format(
            name=name, folder=folder or "/"))
    meta = max(found, key=lambda f: f.get("modifiedDate") or "")
    size = int(meta.get("fileSize") or 0)
    if shutil.disk_usage(dest.parent).free < size:
        # Lazy as in base.py: format_size lives in backup, a layer above cloud (it belongs lower).

        raise UserError(_("No hay espacio suficiente en {folder} para descargar {name} ({size}). Libera "
                          "espacio y vuelve a intentar.").format(folder=dest.parent, name=name,
                                                                  size=format_size(size)))
    tmp = dest.with_name(f".{dest.name}.descargando")
    try:
        for attempt in range(1, VERIFY_ATTEMPTS + 1):
            digest, got = _download_once(connection, meta, tmp, progress, cancel)
            if got == size and digest == meta.get("md5Checksum"):
                os.replace(tmp, dest)
                fsync_dir(dest.parent)
                logger.info("downloaded %s from Google Drive (%d bytes, md5 verified)", name, got)
                return dest
            logger.warning("download of %s from Google Drive does not match its md5Checksum (attempt %d)",
                           name, attempt)
    finally:
        if tmp.exists():
            tmp.unlink()
    raise VerificationFailed(_(
        "La copia de {name} descargada de Google Drive no coincidió con la de la nube después de {attempts} "
        "intentos, así que no se usó. Vuelve a intentar más tarde o usa otro respaldo.").format(
        name=name, attempts=VERIFY_ATTEMPTS))


def _download_once(connection: DriveConnection, meta: dict[str, Any], tmp: Path,
                   progress: ByteProgress | None, cancel: threading.Event | None) -> tuple[str, int]:
    """The whole file into ``tmp`` in CHUNK_SIZE ranges; returns (md5 of what arrived, bytes received)."""
    from googleapiclient.http import MediaIoBaseDownload

    size = int(meta.get("fileSize") or 0)
    with open(tmp, "wb") as out:
        sink = HashingWriter(out)
        request = connection.request(
            lambda: connection.client().auth.service.files().get_media(fileId=meta["id"]), cancel)
        request.http = connection.new_http()
        downloader = MediaIoBaseDownload(sink, request, chunksize=CHUNK_SIZE)
        backoff = Backoff(cancel)
        done = False
        while not done:
            backoff.check_cancel()
            try:
                status, done = downloader.next_chunk()
            except Exception as exc:  # noqa: BLE001 - sorted by retry_or_raise, which re-raises the rest
                try:
                    connection.retry_or_raise(exc, backoff)
                except Offline:
                    raise Offline(_("La conexión con Google Drive se cortó varias veces mientras se descargaba "
                                    "{name}. Revisa la conexión a internet y vuelve a intentar.").format(
                        name=meta["title"])) from None
                except ServiceUnavailable:
                    raise ServiceUnavailable(_("Google Drive no responde en este momento. Vuelve a intentar en "
                                               "unos minutos.")) from None
                if is_network_error(exc):
                    request.http = connection.new_http()
                continue
            backoff.reset()
            if progress is not None:
                progress(status.resumable_progress, status.total_size or size)
        out.flush()
        os.fsync(out.fileno())
    return sink.hexdigest(), sink.count


class HashingWriter:
    """The file a download writes into, hashing what it gets."""

    def __init__(self, out):
        self.out = out
        self.md5 = hashlib.md5()
        self.count = 0

    def write(self, data: bytes) -> int:
        self.out.write(data)
        self.md5.update(data)
        self.count += len(data)
        return len(data)

    def hexdigest(self) -> str:
        return self.md5.hexdigest()
