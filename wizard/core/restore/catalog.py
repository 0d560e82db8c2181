"""Which backups there are to restore: the destination folder's and the cloud's, one row per backup, this
installation's first and other installations' apart, with whose each one is."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from wizard.core import history, machine
from wizard.core.cloud import NeedsLogin, get_provider
from wizard.core.config import Config
from wizard.core.names import archive_tag, list_archives, parse_archive_name
from wizard.core.ownership import manifest_machine_of
from wizard.core.restore.dates import changes_lost_sentence
from wizard.core.restore.safety import SAFETY_TRIGGER
from wizard.i18n import _


@dataclass
class BackupChoice:
    """One backup that can be restored: a local archive, or a copy in the cloud downloaded on demand."""

    name: str
    created: datetime
    size: int
    location: str  # "local", or the provider's name ("dropbox") for a cloud-only copy
    path: Path | None = None  # the local archive
    verified: bool | None = None  # True: verified when it was made (history); None: not known
    safety: bool = False  # made automatically before a restore
    in_cloud: bool = False  # a local archive that also has a copy in the cloud
    mine: bool = True  # made by this installation (wizard.core.machine); others are listed apart
    owner: str = ""  # for another installation's backup: its name ("Caja 2"), or its short id
    owner_id: str = ""  # that installation's id when its manifest was read, else its short id from the name

    @property
    def local(self) -> bool:
        return self.location == "local"

    def changes_lost(self, now: datetime | None = None) -> str:
        return changes_lost_sentence(self.created, now)


def _history_marks() -> tuple[set[str], set[str]]:
    """Names of archives the history says were verified, and of the safety backups."""
    verified, safety = set(), set()
    for entry in history.read():
        if entry.archive and entry.succeeded:
            if entry.verified:
                verified.add(entry.archive)
            if entry.trigger == SAFETY_TRIGGER:
                safety.add(entry.archive)
    return verified, safety


def _owner_fields(name: str, me: machine.Machine, path: Path | None = None) -> dict:
    """``mine``/``owner``/``owner_id`` of a backup: by its name's tag; a local untagged one by its manifest."""
    tag = archive_tag(name)
    owned = me.owns_tag(tag)
    if owned is None:  # made before installations had ids, or renamed: only a local manifest can tell
        found = manifest_machine_of(path) if path is not None else None
        if me.owns_manifest(found):
            return {"mine": True}
        return {"mine": False, "owner": found["name"] or found["host"] or machine.short_id(found["id"]),
                "owner_id": found["id"]}
    if owned:
        return {"mine": True}
    found = manifest_machine_of(path) if path is not None else None
    if found is not None and machine.short_id(found["id"]) == machine.tag_short(tag):
        return {"mine": False, "owner": found["name"] or found["host"] or machine.tag_label(tag),
                "owner_id": found["id"]}
    return {"mine": False, "owner": machine.tag_label(tag), "owner_id": machine.tag_short(tag)}


def _mine_first(choices: list[BackupChoice]) -> list[BackupChoice]:
    """This installation's backups first, newest first; then the others', newest first."""
    return sorted(choices, key=lambda c: (not c.mine, -c.created.timestamp(), c.name))


def list_local_backups(config: Config) -> list[BackupChoice]:
    """The backups in the destination folder, this installation's first, each part newest first (empty when
    the folder is not there)."""
    folder = Path(os.path.expanduser(config.destination.folder)) if config.destination.folder else None
    if folder is None or not folder.is_dir():
        return []
    verified, safety = _history_marks()
    me = machine.current(config.machine.name)
    return _mine_first([BackupChoice(name=a.name, created=a.created, size=a.size, location="local", path=a.path,
                                     verified=True if a.name in verified else None, safety=a.name in safety,
                                     **_owner_fields(a.name, me, a.path))
                        for a in list_archives(folder)])


def list_cloud_backups(config: Config) -> list[BackupChoice]:
    """The backups in the cloud folder, newest first. Network: raises the provider's CloudError."""
    if config.cloud.provider == "none":
        return []
    provider = get_provider(config.cloud)
    try:
        if not provider.signed_in():
            raise NeedsLogin(_("Inicia sesión con {provider} para ver los respaldos que hay en la nube.").format(
                provider=provider.title))
        files = provider.list()
    finally:
        provider.close()
    me = machine.current(config.machine.name)
    found = []
    for remote in files:
        created = parse_archive_name(remote.name)
        if created is not None:
            found.append(BackupChoice(name=remote.name, created=created, size=remote.size,
                                      location=config.cloud.provider, verified=True,
                                      **_owner_fields(remote.name, me)))
    return _mine_first(found)


def merge_choices(local: list[BackupChoice], cloud: list[BackupChoice]) -> list[BackupChoice]:
    """One row per backup: a local archive wins over its cloud copy (no download needed)."""
    names = {c.name for c in cloud}
    merged = [replace(c, in_cloud=c.name in names) for c in local]
    have = {c.name for c in local}
    merged += [c for c in cloud if c.name not in have]
    return _mine_first(merged)
