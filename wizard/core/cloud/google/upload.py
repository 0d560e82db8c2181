"""Verified resumable uploads to Drive: CHUNK_SIZE at a time through googleapiclient's resumable media, so
that one loop here decides about retries and cancel; after each chunk a checkpoint, so that an interrupted
upload continues at the offset Google reports (a new session when Google forgot the old one); then Drive's
md5Checksum must match the local file's, else the copy is deleted and sent again.

Google's libraries are imported inside the functions: importing this module stays cheap for the CLI.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard.core.cloud.base import Backoff, ByteProgress, Checkpoint, CloudFull, VerificationFailed
from wizard.core.cloud.google.account import free_space_or_none
from wizard.core.cloud.google.connection import DriveConnection
from wizard.core.cloud.google.errors import QUOTA_REASONS, http_error_info, is_network_error
from wizard.core.cloud.google.folders import delete_file, files_named
from wizard.core.cloud.google.settings import CHUNK_SIZE, NAME, SESSION_MAX_AGE, TITLE, VERIFY_ATTEMPTS, MiB
from wizard.core.errors import Cancelled
from wizard.i18n import _

logger = logging.getLogger(__name__)

ARCHIVE_MIME = "application/zip"


def file_md5(path: Path, cancel: threading.Event | None = None) -> str:
    """The md5 of a local file, as Drive's md5Checksum."""
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        while block := fh.read(4 * MiB):
            digest.update(block)
            if cancel is not None and cancel.is_set():
                raise Cancelled()
    return digest.hexdigest()


class SessionGone(Exception):
    """The resumable session is gone (expired, or Google forgot it): start a new one."""


def upload_verified(connection: DriveConnection, path: Path, stat: os.stat_result, md5: str, folder_id: str,
                    progress: ByteProgress | None, cancel: threading.Event | None,
                    resume: dict[str, Any] | None, save: Checkpoint) -> dict[str, Any]:
    """Upload ``path`` into the folder until Drive's size and md5Checksum match the local file
    (VERIFY_ATTEMPTS times at most, then VerificationFailed). Returns the file's metadata."""
    for attempt in range(1, VERIFY_ATTEMPTS + 1):
        meta = _upload_resumable(connection, path, stat, folder_id, progress, cancel, resume, save)
        resume = None
        save(None)
        if int(meta.get("fileSize") or -1) == stat.st_size and meta.get("md5Checksum") == md5:
            if progress is not None:
                progress(stat.st_size, stat.st_size)
            return meta
        logger.warning("md5Checksum of %s in Google Drive differs from the local file (attempt %d); "
                       "deleting the remote copy and uploading again", path.name, attempt)
        delete_file(connection, meta["id"], cancel)
    raise VerificationFailed(_(
        "La copia de {name} en Google Drive no coincidió con el archivo de esta computadora después de "
        "{attempts} intentos. Se volverá a subir más tarde.").format(name=path.name, attempts=VERIFY_ATTEMPTS))


def remove_older_copies(connection: DriveConnection, folder_id: str, name: str, keep_id: str,
                        cancel: threading.Event | None) -> None:
    """Drive allows several files of one name in a folder: after a verified upload the older ones go."""
    for meta in files_named(connection, folder_id, name, cancel):
        if meta["id"] != keep_id:
            logger.info("deleting an older copy of %s from Google Drive", name)
            delete_file(connection, meta["id"], cancel)


def _usable_resume(resume: dict[str, Any] | None, stat: os.stat_result, name: str,
                   folder_id: str) -> dict[str, Any] | None:
    """The saved checkpoint when it is of this file, in this folder, and its session is still fresh."""
    if not resume or resume.get("provider") != NAME:
        return None
    try:
        started = datetime.fromisoformat(resume["started"])
        same_file = (resume["size"], resume["mtime_ns"], resume["name"], resume["folder_id"]) == (
            stat.st_size, stat.st_mtime_ns, name, folder_id)
        fresh = datetime.now(UTC) - started < SESSION_MAX_AGE
        usable = bool(resume["uri"]) and str(resume["uri"]).startswith("https://")
    except (KeyError, TypeError, ValueError):
        return None
    return dict(resume) if same_file and fresh and usable else None


def _upload_resumable(connection: DriveConnection, path: Path, stat: os.stat_result, folder_id: str,
                      progress: ByteProgress | None, cancel: threading.Event | None,
                      resume: dict[str, Any] | None, save: Checkpoint) -> dict[str, Any]:
    """One resumable upload session (or the one in ``resume``), CHUNK_SIZE at a time. After any failure
    the next chunk goes where Google says it stopped. Returns the file's metadata."""
    state = _usable_resume(resume, stat, path.name, folder_id)
    with open(path, "rb") as fh:
        while True:
            try:
                return _send_session(connection, fh, path.name, stat, folder_id, progress, cancel, state,
                                     save)
            except SessionGone:
                logger.info("the Google Drive upload session of %s ended; starting a new one", path.name)
                state = None
                save(None)


def _send_session(connection: DriveConnection, fh, name: str, stat: os.stat_result, folder_id: str,
                  progress: ByteProgress | None, cancel: threading.Event | None, state: dict[str, Any] | None,
                  save: Checkpoint) -> dict[str, Any]:
    size = stat.st_size
    media = _chunks_of(fh, CHUNK_SIZE)
    body = {"title": name, "mimeType": ARCHIVE_MIME, "parents": [{"id": folder_id}]}
    request = connection.request(
        lambda: connection.client().auth.service.files().insert(body=body, media_body=media), cancel)
    http = connection.new_http()
    if state is not None:
        where = connection.request(lambda: _session_status(http, state["uri"], size), cancel)
        if isinstance(where, dict):
            return where  # all of it had arrived; the answer was lost
        logger.info("resuming the upload of %s at %d of %d bytes", name, where, size)
        request.resumable_uri = state["uri"]
        request.resumable_progress = where
    backoff = Backoff(cancel)
    while True:
        backoff.check_cancel()
        before = request.resumable_progress
        try:
            _status, done = request.next_chunk(http=http)
        except Exception as exc:  # noqa: BLE001 - sorted below and by retry_or_raise
            info = http_error_info(exc)
            if info is not None and info[0] in (404, 410) and request.resumable_uri:
                raise SessionGone() from None
            if info is not None and info[0] == 403 and info[1] in QUOTA_REASONS:
                raise CloudFull(TITLE, name, size, free_space_or_none(connection)) from None
            connection.retry_or_raise(exc, backoff)
            if is_network_error(exc):
                http = connection.new_http()  # a fresh connection rather than one in an unknown state
            continue
        connection.connected = True
        if done is not None:
            return done
        if state is None or state["uri"] != request.resumable_uri:
            state = {"provider": NAME, "uri": request.resumable_uri, "offset": 0, "size": size,
                     "mtime_ns": stat.st_mtime_ns, "name": name, "folder_id": folder_id,
                     "started": datetime.now(UTC).isoformat(timespec="seconds")}
        state["offset"] = request.resumable_progress
        save(dict(state))
        if request.resumable_progress > before:
            backoff.reset()
        if progress is not None:
            progress(request.resumable_progress, size)


def _session_status(http, uri: str, size: int) -> int | dict[str, Any]:
    """Where a resumable session stopped: the next offset, or the file's metadata when it is complete.
    Raises SessionGone when Google no longer knows the session."""
    from googleapiclient.errors import HttpError

    resp, content = http.request(uri, "PUT", headers={"Content-Range": f"bytes */{size}",
                                                      "Content-Length": "0"})
    if resp.status in (200, 201):
        return json.loads(content.decode("utf-8"))
    if resp.status == 308:
        received = resp.get("range")
        return int(received.split("-")[1]) + 1 if received else 0
    if resp.status in (404, 410):
        raise SessionGone()
    raise HttpError(resp, content, uri=uri)


def _chunks_of(fh, chunksize: int):
    """A resumable media body read chunk by chunk as bytes. (googleapiclient would otherwise hand httplib2 a
    stream slice, which httplib2 resends empty when it retries a request whose connection dropped.)"""
    from googleapiclient.http import MediaIoBaseUpload

    class ChunkBytes(MediaIoBaseUpload):
        def has_stream(self) -> bool:
            return False

    return ChunkBytes(fh, mimetype=ARCHIVE_MIME, chunksize=chunksize, resumable=True)
