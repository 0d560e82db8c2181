"""Whose archive is it: this installation's or another's (see ``wizard.core.machine`` for the rule).

The tag in the name decides; only untagged archives (made before ids, or renamed by hand) and the names of
other installations need their manifest. What a manifest said is kept in a small cache in the data folder
(``propietarios.json``, by path, size and modification time), so that retention over hundreds of archives
on a USB disk reads each one at most once.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from wizard.core import machine, paths
from wizard.core.archive import read_manifest
from wizard.core.errors import UserError
from wizard.core.fsutil import atomic_write_bytes
from wizard.core.names import ArchiveInfo, list_archives

logger = logging.getLogger(__name__)

CACHE_FILE_NAME = "propietarios.json"
CACHE_LIMIT = 5000


class _ManifestMachines:
    """path -> [size, mtime_ns, machine entry or None], loaded once per process, saved when it grew."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, list] | None = None
        self._dir: Path | None = None
        self._dirty = False

    def _load(self) -> dict[str, list]:
        here = paths.data_dir()
        if self._entries is None or self._dir != here:
            self._dir, self._dirty = here, False
            try:
                data = json.loads((here / CACHE_FILE_NAME).read_bytes().decode("utf-8"))
                self._entries = data if isinstance(data, dict) else {}
            except (OSError, ValueError):
                self._entries = {}
        return self._entries

    def get(self, path: Path) -> dict[str, str] | None:
        try:
            st = path.stat()
        except OSError:
            return None
        key = str(path.absolute())
        with self._lock:
            entries = self._load()
            hit = entries.get(key)
            if isinstance(hit, list) and len(hit) == 3 and hit[:2] == [st.st_size, st.st_mtime_ns]:
                return machine.manifest_machine(hit[2])
        try:
            found = read_manifest(path).machine
        except (UserError, OSError):
            return None  # unreadable now (damaged, or a USB disk that went away): not remembered
        with self._lock:
            entries = self._load()
            if len(entries) >= CACHE_LIMIT:
                entries.clear()
            entries[key] = [st.st_size, st.st_mtime_ns, found]
            self._dirty = True
        return found

    def save(self) -> None:
        with self._lock:
            if not self._dirty or self._entries is None or self._dir is None:
                return
            try:
                paths.ensure_dir(self._dir)
                atomic_write_bytes(self._dir / CACHE_FILE_NAME, json.dumps(self._entries).encode("utf-8"))
                self._dirty = False
            except OSError as exc:
                logger.info("owner cache not saved: %s", exc)


_cache = _ManifestMachines()


def manifest_machine_of(path: Path) -> dict[str, str] | None:
    """The ``machine`` entry of an archive's manifest (None when it has none or cannot be read)."""
    return _cache.get(path)


def is_own(archive: ArchiveInfo, me: machine.Machine) -> bool:
    """Whether ``me`` made this archive: by the tag in its name; an untagged one by its manifest."""
    owned = me.owns_tag(archive.tag)
    return owned if owned is not None else me.owns_manifest(manifest_machine_of(archive.path))


def own_archives(folder: str | Path, me: machine.Machine) -> list[ArchiveInfo]:
    """This installation's finished archives in ``folder``, newest first."""
    found = [a for a in list_archives(folder) if is_own(a, me)]
    _cache.save()
    return found


def installations_in(folder: str | Path) -> dict[str, dict[str, str]]:
    """The installations whose archives are in ``folder``, by id, each with the name and host of its newest
    archive's manifest (archives made before ids are left out)."""
    found: dict[str, dict[str, str]] = {}
    for archive in list_archives(folder):  # newest first: the first seen of each is its newest
        entry = manifest_machine_of(archive.path)
        if entry is not None and entry["id"] not in found:
            found[entry["id"]] = entry
    _cache.save()
    return found
