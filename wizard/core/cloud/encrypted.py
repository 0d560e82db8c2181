"""What the upload queue sends when backups are protected with a password: with ``[encryption] enabled``, the
encrypted copy of the local archive (``scope = "cloud"``: made here, in the cache folder, verified before the
upload and removed after it) or the archive itself when it is encrypted already (``scope = "all"``, or an
archive made while that was the setting). The remote name is the archive's own. docs/encryption.md."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import platformdirs

from wizard.core import oserrors, paths
from wizard.core.archive.encrypt_copy import is_encrypted_archive, make_encrypted_copy
from wizard.core.cloud.base import CloudError, LocalFileProblem
from wizard.core.config import Config
from wizard.core.encryption.password import PasswordMissing, require_password
from wizard.core.errors import Cancelled, UserError

logger = logging.getLogger(__name__)

COPIES_DIR_NAME = "nube_cifrados"


class PasswordNeeded(CloudError):
    """Backups go to the cloud encrypted and this computer has no password: the upload waits."""

    reason = "password"


def copies_dir() -> Path:
    return Path(platformdirs.user_cache_dir(paths.APP_DIR_NAME, appauthor=False)) / COPIES_DIR_NAME


def copy_path(archive: Path) -> Path:
    """Where the encrypted copy of ``archive`` is kept until it is uploaded."""
    return copies_dir() / archive.name


def upload_source(config: Config, archive: Path, cancel=None) -> tuple[Path, bool]:
    """The file to upload for ``archive`` (itself, or its encrypted copy) and whether it was made just now:
    a resumable upload begun with an earlier copy must then start again (a new copy has other salts). A
    copy an earlier run made and verified is kept, so that a resumed upload continues with the same bytes."""
    if not config.encryption.applies_to_cloud():
        return archive, False
    try:
        with oserrors.plain_errors(archive, oserrors.ARCHIVE):
            if is_encrypted_archive(archive):
                return archive, False
        fresh = not copy_path(archive).exists()
        password = require_password(config, archive.name)
        return make_encrypted_copy(archive, copies_dir(), password, cancel), fresh
    except PasswordMissing as exc:
        raise PasswordNeeded(str(exc)) from exc
    except (Cancelled, CloudError):
        raise
    except (UserError, OSError) as exc:  # the local archive unreadable or damaged, the cache folder full
        logger.warning("no encrypted copy of %s: %s", archive, exc)
        raise LocalFileProblem(str(exc)) from exc


def forget(archive: Path) -> None:
    """Remove the encrypted copy of ``archive`` (uploaded, or no longer to be uploaded)."""
    copy_path(archive).unlink(missing_ok=True)


def forget_all() -> None:
    shutil.rmtree(copies_dir(), ignore_errors=True)
