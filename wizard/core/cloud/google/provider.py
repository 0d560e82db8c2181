"""Google Drive behind the provider interface (``CloudProvider``): sign-in through the browser, verified
resumable uploads, listing, permanent deletes, free space, verified downloads. Each job is done in its own
module of this package; this class holds one connection, the folder's id and the local md5s."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from wizard.core import secrets
from wizard.core.cloud.base import (
    SIGN_IN_TIMEOUT,
    ByteProgress,
    Checkpoint,
    CloudFull,
    CloudProvider,
    RemoteFile,
)
from wizard.core.cloud.google import account, signin
from wizard.core.cloud.google.connection import DriveConnection
from wizard.core.cloud.google.credentials import SECRET_NAME, keyring_auth, stored_credentials
from wizard.core.cloud.google.download import download_verified
from wizard.core.cloud.google.folders import (
    delete_file,
    files_named,
    find_folder_id,
    forget_folder_id,
    list_files,
    remote_file,
)
from wizard.core.cloud.google.settings import NAME, TITLE, load_client_config
from wizard.core.cloud.google.upload import file_md5, remove_older_copies, upload_verified

logger = logging.getLogger(__name__)


class GoogleDriveProvider(CloudProvider):
    name = NAME
    title = TITLE

    def __init__(self, cloud):
        super().__init__(cloud)
        self.connection = DriveConnection()
        self._folder_id: str | None = None
        self._hashes: dict[tuple[str, int, int], str] = {}

    # -- account and sign-in --------------------------------------------------------------------------

    def signed_in(self) -> bool:
        return stored_credentials() is not None

    def close(self) -> None:
        self.connection.close()

    def paste_hint(self) -> tuple[str, str]:
        return signin.paste_hint()

    def sign_in(self, *, cancel: threading.Event | None = None, timeout: float = SIGN_IN_TIMEOUT,
                ask_code: Callable[[str], str | None] | None = None,
                show_url: Callable[[str], None] | None = None, use_browser: bool = True) -> str:
        client = load_client_config()
        secrets.check_can_store(SECRET_NAME)  # before the browser opens, not after
        credentials = signin.approved_credentials(
            client, cancel=cancel or threading.Event(), timeout=timeout, ask_code=ask_code, show_url=show_url,
            use_browser=use_browser)
        self.close()
        auth = keyring_auth(client, strict=True)
        auth.credentials = credentials
        auth.SaveCredentials()  # through the dictionary backend into the keyring
        forget_folder_id()
        logger.info("Google sign-in complete; credentials stored (%s)", secrets.storage_description())
        return self.account_label()

    def sign_out(self) -> None:
        creds = stored_credentials()
        secrets.delete_secret(SECRET_NAME)
        forget_folder_id()
        self.close()
        if creds is not None:
            signin.revoke(creds)

    def account_label(self) -> str:
        return account.account_label(self.connection)

    def free_space(self) -> int | None:
        return account.free_space(self.connection)

    # -- the folder -----------------------------------------------------------------------------------

    def _folder(self, create: bool, cancel: threading.Event | None = None) -> str | None:
        """The id of ``cloud.folder`` in My Drive (folders.find_folder_id), kept for this provider's life."""
        if self._folder_id is None:
            self._folder_id = find_folder_id(self.connection, self.folder, create, cancel)
        return self._folder_id

    def list(self, cancel: threading.Event | None = None) -> list[RemoteFile]:
        folder_id = self._folder(create=False, cancel=cancel)
        if folder_id is None:
            return []
        return [remote_file(meta) for meta in list_files(self.connection, folder_id, cancel)]

    def delete(self, name: str, cancel: threading.Event | None = None) -> None:
        """Delete for good (files.delete, not the trash, which still counts against the quota) every file of
        that name in the folder."""
        folder_id = self._folder(create=False, cancel=cancel)
        if folder_id is None:
            return
        for meta in files_named(self.connection, folder_id, name, cancel):
            delete_file(self.connection, meta["id"], cancel)

    # -- upload and download --------------------------------------------------------------------------

    def local_md5(self, path: Path, cancel: threading.Event | None = None) -> str:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in self._hashes:
            self._hashes[key] = file_md5(path, cancel)
        return self._hashes[key]

    def same_content(self, path: Path, remote: RemoteFile) -> bool:
        path = Path(path)
        return (remote.size == path.stat().st_size and remote.content_hash is not None
                and remote.content_hash == self.local_md5(path))

    def upload(self, path: Path, *, progress: ByteProgress | None = None,
               cancel: threading.Event | None = None, resume: dict[str, Any] | None = None,
               checkpoint: Checkpoint | None = None) -> RemoteFile:
        path = Path(path)
        stat = path.stat()
        md5 = self.local_md5(path, cancel)
        save = checkpoint or (lambda state: None)
        free = self.free_space()
        if free is not None and free < stat.st_size:
            raise CloudFull(self.title, path.name, stat.st_size, free)
        folder_id = self._folder(create=True, cancel=cancel)
        assert folder_id is not None
        meta = upload_verified(self.connection, path, stat, md5, folder_id, progress, cancel, resume, save)
        logger.info("uploaded %s to Google Drive %s (%d bytes, md5 verified)", path.name, self.folder,
                    stat.st_size)
        remove_older_copies(self.connection, folder_id, path.name, meta["id"], cancel)
        return remote_file(meta)

    def download(self, name: str, dest: Path, *, progress: ByteProgress | None = None,
                 cancel: threading.Event | None = None) -> Path:
        """Download ``<folder>/<name>`` to ``dest``, checking Drive's md5Checksum and size before it takes that
        name. A dropped connection continues with the next Range; a copy whose md5 differs is downloaded
        again (VERIFY_ATTEMPTS times in all), then VerificationFailed."""
        dest = Path(dest)
        folder_id = self._folder(create=False, cancel=cancel)
        return download_verified(self.connection, folder_id, self.folder, name, dest, progress, cancel)
