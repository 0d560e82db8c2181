"""Restoring a backup in its original place, over the shop's live files, step by step; nothing is touched
until every check passed. The order of the steps and why: docs/design.md, "Restore"."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from wizard.core import oserrors
from wizard.core.archive import read_manifest
from wizard.core.config import Config
from wizard.core.errors import Cancelled, UserError
from wizard.core.logsetup import log_file
from wizard.core.restore.downloads import cloud_download_name
from wizard.core.restore.dumps import dumps_named, server_dumps
from wizard.core.restore.in_use import check_not_in_use
from wizard.core.restore.owner import OtherMachineBackup, other_machine_sentence
from wizard.core.restore.progress import Report, StepProgress, verify_with_progress
from wizard.core.restore.put_back import put_back_files
from wizard.core.restore.report import RestoreReport, archive_created
from wizard.core.restore.safety import save_safety_backup, take_backup_lock
from wizard.core.restore.targets import checked_targets, owner_and_folders
from wizard.core.snapshot import is_sqlite
from wizard.i18n import _, ngettext

logger = logging.getLogger(__name__)


class OnlyServerDatabases(UserError):
    """Restoring in place was asked of a backup that holds only server-database dumps."""


class RestoreFailed(UserError):
    """Restoring stopped after files were already replaced; the safety backup holds the data from before."""

    def __init__(self, message: str, safety_backup: Path | None, restored: list[Path]):
        super().__init__(message)
        self.safety_backup = safety_backup
        self.restored = restored


def restore_to_original(archive: Path, config: Config, *, report: Report | None = None,
                        cancel: threading.Event | None = None, download_steps: int = 0,
                        config_path: Path | None = None, from_cloud: str | None = None,
                        from_other_machine: bool = False) -> RestoreReport:
    """Put every file of ``archive`` back where it was backed up from (the manifest's source paths).

    This installation's backup goes back only into what the configuration backs up now. Another
    installation's (this computer replaces it) only with ``from_other_machine``, after the user saw its
    ``folders_to_overwrite``; without it OtherMachineBackup is raised. Every target must stay inside its
    source folder, links followed, and no two members may be one file on Windows (``checked_targets``).

    Server-database dumps are not files of a place: they are left to ``respaldos db restore`` and listed in
    the report's ``skipped_dumps`` / ``dumps_warning`` (with ``config_path`` in the commands). An archive with
    nothing else raises OnlyServerDatabases at once. When ``archive`` is a download of the cloud backup
    ``from_cloud`` (default: known from ``cloud_download_name``), the commands load the dumps with
    ``--from-cloud``, since the download is deleted afterwards.

    Raises before touching anything: OnlyServerDatabases, OtherMachineBackup, ArchiveDamaged, PosInUse,
    UserError (a folder not in the configuration, an unsafe name, no safety backup possible), Cancelled.
    Once files are being replaced, any failure (or cancel) raises RestoreFailed, whose text says where the
    safety backup is. ``download_steps`` counts a download done before (for "paso 2 de 5").
    """
    t0 = time.monotonic()
    archive = Path(archive)
    with oserrors.plain_errors(archive, oserrors.ARCHIVE):
        listed = read_manifest(archive)  # read again (and checked) by the verification below
    from_cloud = from_cloud or cloud_download_name(archive)
    dumps = server_dumps(listed, from_cloud=from_cloud)
    if dumps and len(dumps) == len(listed.files):
        raise OnlyServerDatabases("\n".join([ngettext(
            "El respaldo {archive} solo tiene la copia de la base de datos del servidor {names}, y restaurar en el "
            "lugar original solo devuelve archivos: no se cambió nada. Para cargarla usa respaldos db restore (en "
            "una base de datos nueva; con --replace, encima de la original, con el punto de venta cerrado):",
            "El respaldo {archive} solo tiene copias de las bases de datos del servidor {names}, y restaurar en el "
            "lugar original solo devuelve archivos: no se cambió nada. Para cargarlas usa respaldos db restore (en "
            "una base de datos nueva; con --replace, encima de la original, con el punto de venta cerrado):",
            len(dumps)).format(archive=archive.name, names=dumps_named(dumps)),
            *(f"  {d.command(archive, config_path)}" for d in dumps)]))
    owner, folders = owner_and_folders(archive, listed, config)
    if not owner.mine and not from_other_machine:
        raise OtherMachineBackup("\n".join([
            other_machine_sentence(archive, owner, folders),
            _("Si este equipo reemplaza a {name}, vuelve a intentarlo con --from-other-machine.").format(
                name=owner.name or owner.id)]), owner, folders)
    checked_targets(listed, archive)  # a bad name or a link leading out is refused before the long verification
    steps = StepProgress(report, 4 + download_steps, cancel or threading.Event())
    steps.step = download_steps
    steps.next("verify")
    with oserrors.plain_errors(archive, oserrors.ARCHIVE):
        manifest = verify_with_progress(archive, steps)
    if owner_and_folders(archive, manifest, config) != (owner, folders):
        raise UserError(_("El respaldo {archive} cambió mientras se verificaba; no se restauró nada. Vuelve a "
                          "intentar.").format(archive=archive.name))
    targets = checked_targets(manifest, archive)
    for _mf, target, _root in targets:
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise UserError(_("{path} existe y no es un archivo; no se restauró nada.").format(path=target))
    databases = [t for mf, t, _r in targets if t.is_file() and (mf.kind == "sqlite" or is_sqlite(t))]
    steps.next("check")
    check_not_in_use(databases)
    steps.check_cancel()
    steps.next("safety")
    safety = save_safety_backup(config, folders, steps)
    created = archive_created(archive, manifest)
    result = RestoreReport(archive, created, True, folders, safety_backup=safety,
                           skipped_dumps=server_dumps(manifest, from_cloud=from_cloud), config_path=config_path)
    lock = take_backup_lock()
    try:
        steps.next("restore")
        # The POS may have been opened while the safety backup ran.
        check_not_in_use([t for t in databases if t.exists()])
        try:
            put_back_files(archive, targets, steps, result.restored, result.databases)
        except Exception as exc:  # noqa: BLE001 - whatever stopped it, say where the safety backup is
            raise _failed_midway(exc, result, len(targets)) from None
    finally:
        lock.release()
    result.duration = time.monotonic() - t0
    logger.info("restored %d files of %s to their original place in %.1f s (safety backup %s; server databases "
                "left to db restore: %s)", len(result.restored), archive.name, result.duration, safety,
                ", ".join(d.name for d in result.skipped_dumps) or "none")
    return result


def _plain(exc: OSError) -> oserrors.EnvironmentProblem | None:
    """An OSError put_back did not say in words already (making a folder, say): the folder it names."""
    if not exc.filename:
        return None
    return oserrors.plain_os_error(exc, Path(os.fsdecode(exc.filename)).parent, oserrors.RESTORE)


def _failed_midway(exc: BaseException, result: RestoreReport, total: int) -> RestoreFailed:
    done = len(result.restored)
    if isinstance(exc, Cancelled):
        first = _("Restauración cancelada.")
    elif isinstance(exc, UserError):
        first = str(exc)
    elif isinstance(exc, OSError) and (problem := _plain(exc)) is not None:
        first = str(problem)
    elif isinstance(exc, OSError):
        logger.error("restore stopped: %r", exc, exc_info=exc)
        name = exc.filename or ""
        first = _("La restauración se detuvo en {path}: {error}.").format(path=name, error=exc.strerror or exc)
    else:
        logger.error("restore stopped by an unexpected error", exc_info=exc)
        first = _("La restauración se detuvo por un error inesperado (los detalles están en el registro: "
                  "{log}).").format(log=log_file())
    second = _("Se restauraron {done} de {total} archivos; cada archivo quedó completo (el anterior o el del "
               "respaldo).").format(done=done, total=total)
    if result.safety_backup is not None:
        third = _("Los datos que había antes están en el respaldo de seguridad {path}: restáuralo para dejar todo "
                  "como estaba, o corrige el problema y vuelve a restaurar.").format(path=result.safety_backup)
    else:
        third = _("No había datos anteriores que guardar; corrige el problema y vuelve a restaurar.")
    return RestoreFailed(f"{first} {second} {third}", result.safety_backup, list(result.restored))
