"""The backup folder in My Drive and the files in it: the folder's id (remembered in the data folder, else
found by title among the app's files, else created), the files of one name, the listing, deletes for good.

Drive allows several files (and folders) of one title in one folder; the scope drive.file shows Respaldos
only what it created.
"""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wizard.core import paths
from wizard.core.cloud.base import RemoteFile
from wizard.core.cloud.google.connection import DriveConnection
from wizard.core.cloud.google.errors import http_status
from wizard.core.fsutil import atomic_write_bytes

logger = logging.getLogger(__name__)

FOLDER_MIME = "application/vnd.google-apps.folder"
FOLDER_STATE_FILE = "google_drive_carpeta.json"  # the remote folder's id, in the data folder


def find_folder_id(connection: DriveConnection, folder: str, create: bool,
                   cancel: threading.Event | None = None) -> str | None:
    """The id of ``folder`` in My Drive: the stored id while it is still a folder there, else found by title
    among the app's files, else created (with ``create``) and remembered; None when it is not there."""
    parts = [p for p in folder.split("/") if p]
    if not parts:
        return "root"
    known = _load_folder_state()
    if known.get("folder") == folder and known.get("id"):
        meta = _folder_meta(connection, known["id"], cancel)
        if meta is not None:
            return known["id"]
        logger.info("the stored Google Drive folder is gone or in the trash; looking for it by name")
    parent = "root"
    for title in parts:
        found = connection.request(lambda p=parent, t=title: _find_folder(connection, p, t), cancel)
        if found is None:
            if not create:
                return None
            # A retry after a lost answer looks again first, so that it never makes two folders.
            found = connection.request(lambda p=parent, t=title: (_find_folder(connection, p, t)
                                                                  or _make_folder(connection, p, t)), cancel)
            logger.info("created the folder %s in Google Drive", title)
        parent = found
    _save_folder_state(folder, parent)
    return parent


def _folder_meta(connection: DriveConnection, folder_id: str,
                 cancel: threading.Event | None) -> dict[str, Any] | None:
    try:
        meta = connection.request(lambda: _fetch(connection, folder_id), cancel)
    except Exception as exc:
        if http_status(exc) == 404:
            return None
        raise
    if meta.get("mimeType") != FOLDER_MIME or (meta.get("labels") or {}).get("trashed"):
        return None
    return meta


def _fetch(connection: DriveConnection, file_id: str) -> dict[str, Any]:
    item = connection.client().CreateFile({"id": file_id})
    item.FetchMetadata()
    return dict(item.metadata)


def _find_folder(connection: DriveConnection, parent: str, title: str) -> str | None:
    query = (f"title = {_quote(title)} and {_quote(parent)} in parents and mimeType = '{FOLDER_MIME}' "
             "and trashed = false")
    found = connection.client().ListFile({"q": query}).GetList()
    if not found:
        return None
    return min(found, key=lambda f: (f.get("createdDate") or "", f["id"]))["id"]


def _make_folder(connection: DriveConnection, parent: str, title: str) -> str:
    folder = connection.client().CreateFile({"title": title, "mimeType": FOLDER_MIME,
                                             "parents": [{"id": parent}]})
    folder.Upload()
    return folder["id"]


def files_named(connection: DriveConnection, folder_id: str, name: str,
                cancel: threading.Event | None = None) -> list[dict]:
    """The metadata of every file called ``name`` in the folder (not in the trash)."""
    query = (f"title = {_quote(name)} and {_quote(folder_id)} in parents and mimeType != '{FOLDER_MIME}' "
             "and trashed = false")
    found = connection.request(lambda: connection.client().ListFile({"q": query}).GetList(), cancel)
    return [dict(f) for f in found]


def list_files(connection: DriveConnection, folder_id: str,
               cancel: threading.Event | None = None) -> list[dict]:
    """The metadata of every file in the folder (not its subfolders, not the trash)."""
    query = f"{_quote(folder_id)} in parents and mimeType != '{FOLDER_MIME}' and trashed = false"
    found = connection.request(lambda: connection.client().ListFile({"q": query}).GetList(), cancel)
    return [dict(f) for f in found]


def delete_file(connection: DriveConnection, file_id: str, cancel: threading.Event | None = None) -> None:
    """Delete for good (files.delete, not the trash, which still counts against the quota); a file that is
    gone already is fine."""
    try:
        connection.request(lambda: connection.client().CreateFile({"id": file_id}).Delete(), cancel)
    except Exception as exc:
        if http_status(exc) != 404:
            raise


def remote_file(meta: dict[str, Any]) -> RemoteFile:
    """A file's Drive metadata as the provider interface's RemoteFile."""
    return RemoteFile(name=meta["title"], size=int(meta.get("fileSize") or 0),
                      modified=_utc(meta.get("modifiedDate")), content_hash=meta.get("md5Checksum"),
                      id=meta["id"])


def _utc(value: str | None) -> datetime | None:
    """Drive's RFC 3339 dates as naive UTC."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
    except ValueError:
        return None


def _quote(value: str) -> str:
    """A string literal for a files.list query."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# -- the folder's id, remembered in the data folder ------------------------------------------------------

def _folder_state_path() -> Path:
    return paths.data_dir() / FOLDER_STATE_FILE


def _load_folder_state() -> dict[str, Any]:
    try:
        data = json.loads(_folder_state_path().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("%s unreadable (%s); the folder is looked up by name", _folder_state_path(), exc)
        return {}
    return data if isinstance(data, dict) else {}


def _save_folder_state(folder: str, folder_id: str) -> None:
    path = _folder_state_path()
    paths.ensure_dir(path.parent)
    atomic_write_bytes(path, json.dumps({"folder": folder, "id": folder_id}).encode("utf-8"))


def forget_folder_id() -> None:
    """After a sign-in or sign-out: the next account looks its folder up again."""
    try:
        _folder_state_path().unlink()
    except FileNotFoundError:
        pass
