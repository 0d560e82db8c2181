"""Before a restore in place overwrites anything: the backup lock (no backup runs meanwhile) and a safety
backup of the folders about to be overwritten, marked "antes de restaurar"."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import filelock

from wizard.core import paths
from wizard.core.backup import lock_path, run_backup
from wizard.core.config import CloudConfig, Config, RetentionConfig, SourceConfig
from wizard.core.errors import Cancelled, UserError
from wizard.core.restore.progress import StepProgress
from wizard.i18n import _

logger = logging.getLogger(__name__)

SAFETY_TRIGGER = "before-restore"


def take_backup_lock():
    """The one-backup-per-machine lock: no backup runs while files are being put back."""
    paths.ensure_dir(paths.data_dir())
    lock = filelock.FileLock(str(lock_path()), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout:
        raise UserError(_("Ya hay un respaldo en curso. Espera a que termine y vuelve a intentar.")) from None
    return lock


def save_safety_backup(config: Config, roots: list[Path], steps: StepProgress) -> Path | None:
    """An ordinary backup of the folders about to be overwritten, marked "antes de restaurar".

    Not uploaded (the restore should not wait for the internet) and with no keep rules applied (it must not
    push out the very backup being restored); ``apply_retention`` keeps it for SAFETY_KEEP_DAYS days.
    """
    existing = [str(r) for r in roots if r.exists()]
    if not existing:
        logger.info("no current data at %s: no safety backup needed", roots)
        return None
    safety_config = replace(
        config,
        source=SourceConfig(paths=existing, exclude=list(config.source.exclude)),
        retention=RetentionConfig(keep_last=0, keep_daily=0, keep_weekly=0, keep_monthly=0),
        cloud=CloudConfig(provider="none"),
    )

    def progress(event: object) -> None:
        steps.emit("safety", float(getattr(event, "percent", 0.0)), str(getattr(event, "current", "")))

    result = run_backup(safety_config, trigger=SAFETY_TRIGGER, report=progress, cancel=steps.cancel)
    if result.status == "cancelled":
        raise Cancelled()
    if not result.succeeded or result.archive is None:
        raise UserError(_("No se pudo guardar un respaldo de seguridad de los datos actuales, así que no se "
                          "restauró nada. {reason}").format(reason=result.message))
    logger.info("safety backup before restoring: %s", result.archive)
    return result.archive
