"""Restoring a backup into another folder: verified, then extracted where the user chose; nothing of the
shop is overwritten, so there is no in-use check and no safety backup."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from wizard.core import oserrors
from wizard.core.archive import restore_archive
from wizard.core.restore.databases import check_database, with_row_counts
from wizard.core.restore.progress import Report, StepProgress, verify_with_progress
from wizard.core.restore.report import RestoreReport, archive_created

logger = logging.getLogger(__name__)


def folder_for(chosen: Path, archive_name: str) -> Path:
    """Where "Restaurar en otra carpeta" writes: the chosen folder when it is empty (or new), otherwise a new
    subfolder named after the backup."""
    chosen = Path(chosen)
    if not chosen.exists() or (chosen.is_dir() and not any(chosen.iterdir())):
        return chosen
    base = chosen / Path(archive_name).stem
    candidate, n = base, 2
    while candidate.exists():
        candidate = base.with_name(f"{base.name}_{n}")
        n += 1
    return candidate


def restore_to_folder(archive: Path, folder: Path, *, force: bool = False, report: Report | None = None,
                      cancel: threading.Event | None = None, download_steps: int = 0) -> RestoreReport:
    """Verify ``archive``, then extract it into ``folder`` (empty unless ``force``) and check its databases."""
    t0 = time.monotonic()
    archive = Path(archive)
    folder = Path(folder)
    steps = StepProgress(report, 2 + download_steps, cancel or threading.Event())
    steps.step = download_steps
    steps.next("verify")
    with oserrors.plain_errors(archive, oserrors.ARCHIVE):
        manifest = verify_with_progress(archive, steps)
    steps.next("restore")
    total = max(sum(f.size for f in manifest.files), 1)
    done = 0

    def progress(n: int) -> None:
        nonlocal done
        done += n
        steps.emit("restore", 100.0 * done / total)

    restored = restore_archive(archive, folder, force=force, report=progress, cancel=steps.cancel)
    result = RestoreReport(archive, archive_created(archive, manifest), False, [folder], restored=restored)
    by_path = {str(folder.joinpath(*f.path.split("/"))): f for f in manifest.files}
    for path in restored:
        mf = by_path.get(str(path))
        if mf is not None and mf.kind == "sqlite":
            steps.emit("integrity", 100.0, mf.path)
            result.databases.append(with_row_counts(check_database(path), path))
    result.duration = time.monotonic() - t0
    logger.info("restored %d files of %s into %s in %.1f s", len(restored), archive.name, folder, result.duration)
    return result
