"""The jobs the app runs: a backup with what follows it (the copy to the cloud, the owner's notices).

``wizard.core.backup`` makes and verifies the local archive and knows nothing of the cloud or the notices;
the command line, the window and the scheduler call ``run_backup_job``, which hands the engine these steps.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from wizard.core import notify
from wizard.core.backup import BackupResult, run_backup
from wizard.core.cloud.queue import after_backup
from wizard.core.config import Config


class CloudCopyAndNotices:
    """The notices' start ping once the run holds the lock; after the result is recorded, the cloud copy
    (a problem there never turns a good local backup into a failure) and the notices."""

    def started(self, config: Config, trigger: str) -> None:
        notify.backup_started(config, trigger)

    def finished(self, config: Config, result: BackupResult, report: Callable[[object], None] | None,
                 cancel: threading.Event | None) -> None:
        if result.succeeded and config.cloud.provider != "none":
            result.cloud = after_backup(config, result.archive, report=report, cancel=cancel)
        notify.notify_backup_result(config, result)  # on the notices thread: never delays or fails the backup


def run_backup_job(config: Config, *, trigger: str = "manual", report: Callable[[object], None] | None = None,
                   cancel: threading.Event | None = None) -> BackupResult:
    """One backup as the app runs it: ``run_backup`` with the cloud copy and the notices."""
    return run_backup(config, trigger=trigger, report=report, cancel=cancel, hooks=CloudCopyAndNotices())
