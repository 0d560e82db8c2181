"""Which member names and restore targets are safe: no zip-slip, nothing Windows cannot hold, no two members
that would be one file, no link leading out of the folder restored into."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from wizard.core.errors import UserError
from wizard.i18n import _


def unsafe_member_reason(name: str) -> str | None:
    """Why a member name could write outside the target folder (zip-slip), or None if it is safe."""
    if not name or "\x00" in name:
        return "empty name"
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return "absolute path"
    parts = norm.split("/")
    if any(p == ".." for p in parts):
        return "'..' in path"
    return None


def unrestorable_member_reason(name: str) -> str | None:
    """Why a member name must not be restored, or None: ``unsafe_member_reason``, or a ':' in any part
    (``datos/D:x`` is a drive-relative path on Windows, ``a.txt:s`` a hidden stream). Not a verification
    check: a Linux file may have a ':' in its name and its backup is still whole."""
    reason = unsafe_member_reason(name)
    if reason:
        return reason
    if any(":" in part for part in name.replace("\\", "/").split("/")):
        return "':' in a name"
    return None


def colliding_members(targets: Iterable[tuple[str, Path]]) -> tuple[str, str] | None:
    """The first two members (name, target) that would overwrite each other on Windows: targets equal but
    for case, or one member's file where another needs a folder. None when there are none."""
    targets = list(targets)
    files: dict[str, str] = {}
    for name, target in targets:
        key = str(target).casefold()
        if key in files:
            return files[key], name
        files[key] = name
    for name, target in targets:
        for parent in target.parents:
            other = files.get(str(parent).casefold())
            if other is not None:
                return other, name
    return None


def _real(path: Path) -> str:
    return os.path.normcase(os.path.realpath(path))


def stays_inside(target: Path, root: Path) -> bool:
    """Whether ``target``, every link on its way followed, is ``root`` or inside it (as the OS compares)."""
    real_root, real = _real(root), _real(target)
    try:
        return os.path.commonpath([real_root, real]) == real_root
    except ValueError:  # another drive
        return False


def check_restore_targets(archive: Path, targets: list[tuple[str, Path, Path]]) -> None:
    """Refuse, naming the member, before anything is written: each (member, target, root) must have a name
    ``unrestorable_member_reason`` accepts, no two may be the same file on Windows, and each target must stay
    inside its root."""
    for name, _target, _root in targets:
        if unrestorable_member_reason(name):
            raise UserError(_("El respaldo {archive} contiene una ruta no permitida ({name}); no se restauró "
                              "nada.").format(archive=archive.name, name=name))
    pair = colliding_members((name, target) for name, target, _root in targets)
    if pair:
        raise UserError(_("El respaldo {archive} contiene {first} y {second}, que se escribirían uno encima "
                          "del otro (Windows no distingue mayúsculas de minúsculas); no se restauró "
                          "nada.").format(archive=archive.name, first=pair[0], second=pair[1]))
    for name, target, root in targets:
        if not stays_inside(target, root):
            raise UserError(_("El respaldo {archive} escribiría {name} en {path}, fuera de {folder}, porque un "
                              "enlace de esa carpeta apunta fuera de ella; no se restauró nada. Quita el enlace "
                              "o restaura en otra carpeta.").format(archive=archive.name, name=name,
                                                                   path=os.path.realpath(target), folder=root))
