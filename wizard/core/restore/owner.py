"""Whose backup an archive is (``wizard.core.machine``): another installation's goes back in its original
place only once the user saw whose it is and every folder it overwrites."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from wizard.core import machine
from wizard.core.archive import Manifest
from wizard.core.config import Config
from wizard.core.errors import UserError
from wizard.core.names import archive_tag
from wizard.i18n import _


@dataclass
class ArchiveOwner:
    """Whose backup an archive is (``wizard.core.machine``), for a restore in its original place."""

    mine: bool
    id: str  # the full id when the manifest has it, else the short id of the name's tag; "" for an older own one
    name: str  # for people: the manifest's machine name (or host), else what the name's tag tells

    @property
    def label(self) -> str:
        """ "Caja 2 (3f2a9c1b-...)", or the one of the two there is."""
        if self.name and self.id and self.name != self.id:
            return f"{self.name} ({self.id})"
        return self.name or self.id


def archive_owner(archive: Path, manifest: Manifest, config: Config) -> ArchiveOwner:
    """The manifest's ``machine`` decides when it has one; else the tag in the name; else (an archive older
    than installation ids) it is this installation's."""
    me = machine.current(config.machine.name)
    found = manifest.machine
    if found:
        return ArchiveOwner(me.owns_manifest(found), found["id"],
                            found.get("name") or found.get("host") or machine.short_id(found["id"]))
    tag = archive_tag(Path(archive).name)
    if tag is None:
        return ArchiveOwner(True, "", me.name)
    return ArchiveOwner(bool(me.owns_tag(tag)), machine.tag_short(tag), machine.tag_label(tag))


class OtherMachineBackup(UserError):
    """Restoring in place was asked of another installation's backup without saying that this computer
    replaces it; ``owner`` and ``folders`` (what would be overwritten) let the window ask for itself."""

    exit_code = 2

    def __init__(self, message: str, owner: ArchiveOwner, folders: list[Path]):
        super().__init__(message)
        self.owner = owner
        self.folders = folders


def other_machine_sentence(archive: Path, owner: ArchiveOwner, folders: list[Path]) -> str:
    """Whose backup it is and every folder a restore in place would overwrite, one per line."""
    lines = [_("El respaldo {archive} es de otro equipo, {owner}. Restaurarlo en su lugar original escribe "
               "encima de lo que hay en este equipo en:").format(archive=Path(archive).name, owner=owner.label)]
    lines += [f"  {folder}" for folder in folders]
    return "\n".join(lines)
