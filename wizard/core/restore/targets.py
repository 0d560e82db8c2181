"""Where each file of an archive goes back to in its original place, trusting nothing the archive says
unchecked: its source folders must be absolute and well formed, this installation's must be the ones the
configuration backs up now, and every member must stay inside its folder (``check_restore_targets``)."""

from __future__ import annotations

import os
from pathlib import Path

from wizard.core.archive import (
    Manifest,
    ManifestFile,
    check_restore_targets,
    read_manifest,
    unrestorable_member_reason,
)
from wizard.core.config import Config
from wizard.core.errors import UserError
from wizard.core.restore.downloads import cloud_download_name
from wizard.core.restore.owner import ArchiveOwner, archive_owner
from wizard.core.servers import DUMP_KINDS
from wizard.i18n import _


def _path_key(path: Path | str) -> str:
    """A path as the OS compares it: absolute, links followed, without a trailing separator, case-folded on
    Windows."""
    return os.path.normcase(os.path.realpath(os.path.expanduser(str(path))))


def _manifest_roots(manifest: Manifest, archive: Path) -> dict[str, tuple[Path, str]]:
    """The manifest's sources, checked: top folder in the archive -> (original absolute path, its type)."""
    roots: dict[str, tuple[Path, str]] = {}
    for source in manifest.sources:
        top = str(source.get("archive_path", ""))
        raw = str(source.get("path", ""))
        if (not top or "/" in top or "\\" in top or unrestorable_member_reason(top) or not raw
                or top.casefold() in (t.casefold() for t in roots)):
            raise UserError(_("El respaldo {archive} no indica bien de dónde salieron sus archivos; "
                              "restáuralo en otra carpeta.").format(archive=archive.name))
        if not Path(raw).is_absolute():
            raise UserError(_("El respaldo {archive} guarda una ruta de origen incompleta ({path}); "
                              "restáuralo en otra carpeta.").format(archive=archive.name, path=raw))
        roots[top] = (Path(os.path.normpath(raw)), str(source.get("type", "folder")))
    return roots


def _check_configured(archive: Path, roots: dict[str, tuple[Path, str]], config: Config) -> None:
    """This installation's backup goes back only into what the configuration backs up now (a single file
    only over that same file)."""
    configured = {_path_key(p) for p in config.source.paths if p.strip()}
    for path, _kind in roots.values():
        if _path_key(path) not in configured:
            cloud = cloud_download_name(archive)
            command = (f"respaldos restore --from-cloud {cloud} --to CARPETA" if cloud
                       else f'respaldos restore "{archive}" --to CARPETA')
            raise UserError(_("El respaldo {archive} guarda datos de {path}, que no está entre lo que respalda "
                              "este equipo, así que no se restauró nada en su lugar original. Restáuralo en otra "
                              "carpeta ({command}) o agrega {path} a la configuración.").format(
                archive=archive.name, path=path, command=command))


def checked_targets(manifest: Manifest, archive: Path) -> list[tuple[ManifestFile, Path, Path]]:
    """Each archived file with the path it came from and the source root that must hold it, all checked by
    ``check_restore_targets`` (server dumps left out: they go back into their server)."""
    roots = _manifest_roots(manifest, archive)
    targets = []
    for mf in manifest.files:
        if mf.kind in DUMP_KINDS:
            continue  # a server database's dump goes back into the server: "respaldos db restore"
        if unrestorable_member_reason(mf.path):
            raise UserError(_("El respaldo {archive} contiene una ruta no permitida ({name}); no se restauró "
                              "nada.").format(archive=archive.name, name=mf.path))
        top, _sep, rest = mf.path.replace("\\", "/").partition("/")
        root = roots.get(top)
        if root is None or not rest:
            raise UserError(_("El respaldo {archive} no indica dónde estaba {name}; restáuralo en otra "
                              "carpeta.").format(archive=archive.name, name=mf.path))
        base, kind = root
        parts = [p for p in rest.split("/") if p not in ("", ".")]
        targets.append((mf, base if kind == "file" else base.joinpath(*parts), base))
    check_restore_targets(archive, [(mf.path, target, base) for mf, target, base in targets])
    return targets


def original_targets(manifest: Manifest, archive: Path) -> list[tuple[ManifestFile, Path]]:
    """Each archived file with the path it came from, using the source roots the manifest recorded; raises
    UserError naming the member when any would not stay inside its root (see ``checked_targets``)."""
    return [(mf, target) for mf, target, _root in checked_targets(manifest, Path(archive))]


def owner_and_folders(archive: Path, manifest: Manifest, config: Config) -> tuple[ArchiveOwner, list[Path]]:
    """Whose backup it is and the folders it names; for this installation's own, only configured ones."""
    owner = archive_owner(archive, manifest, config)
    roots = _manifest_roots(manifest, archive)
    if owner.mine:
        _check_configured(archive, roots, config)
    return owner, [path for path, _kind in roots.values()]


def folders_to_overwrite(archive: Path, config: Config) -> tuple[ArchiveOwner, list[Path]]:
    """Whose backup ``archive`` is and the folders (or single files) restoring it in its original place would
    write into, from its manifest (not verified). This installation's own backups must name only what the
    configuration backs up; an unsafe manifest or member name raises UserError."""
    archive = Path(archive)
    manifest = read_manifest(archive)
    found = owner_and_folders(archive, manifest, config)
    checked_targets(manifest, archive)
    return found
