"""Server-database dumps in an archive: they never go back to a place on disk but into their server
(``servers.restore_dump``), from a local archive or from a cloud copy downloaded for the purpose."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from wizard.core.archive import Manifest
from wizard.core.config import Config, DatabaseSource
from wizard.core.restore.downloads import downloaded
from wizard.core.restore.progress import Report, StepProgress
from wizard.core.servers import (
    DUMP_KINDS,
    ENGINE_NAMES,
    RestoredDatabase,
    engine_of_kind,
    find_dump,
    find_tool,
    restore_command,
    restore_dump,
    restore_target,
)


@dataclass
class ServerDump:
    """A server database's dump in an archive: it goes back into the server with ``respaldos db restore``,
    never to a place on disk."""

    name: str  # the entry's name in the config (``respaldos db restore ARCHIVO NOMBRE``)
    member: str
    detail: str  # "MySQL/MariaDB · caja1:3306 · sicar"
    # The archive is a download of this cloud backup, deleted after the restore: the command downloads it again.
    from_cloud: str | None = None

    def command(self, archive: Path | str, config_path: Path | str | None = None) -> str:
        """``respaldos db restore "ARCHIVO" NOMBRE``, or ``respaldos db restore --from-cloud RESPALDO NOMBRE``
        for a dump of a cloud download (``archive`` is then not named)."""
        return restore_command(archive, self.name, config_path, from_cloud=self.from_cloud)


def server_dumps(manifest: Manifest, *, from_cloud: str | None = None) -> list[ServerDump]:
    """The server-database dumps in a manifest, described from its ``databases`` list (or, for a manifest
    without one, from the member's name and kind). ``from_cloud``: the name of the cloud backup the archive
    was downloaded from, for the commands that load them."""
    entries = {str(e.get("path", "")): e for e in manifest.databases}
    found = []
    for mf in manifest.files:
        if mf.kind not in DUMP_KINDS:
            continue
        entry = entries.get(mf.path, {})
        engine = str(entry.get("engine") or engine_of_kind(mf.kind))
        parts = [ENGINE_NAMES.get(engine, engine)]
        if entry.get("host"):
            parts.append(f"{entry['host']}:{entry.get('port') or ''}".rstrip(":"))
        what = entry.get("database") or entry.get("file")
        if what:
            parts.append(str(what))
        name = str(entry.get("name") or mf.path.rsplit("/", 1)[-1].rsplit(".", 1)[0])
        found.append(ServerDump(name=name, member=mf.path, detail=" · ".join(parts), from_cloud=from_cloud))
    return found


def dumps_named(dumps: list[ServerDump]) -> str:
    """``caja1 (MySQL/MariaDB · caja1:3306 · sicar), ...``: the dumps as sentences name them."""
    return ", ".join(f"{d.name} ({d.detail})" for d in dumps)


def restore_dump_from_cloud(config: Config, name: str, db: DatabaseSource, *, target: str | None = None,
                            replace: bool = False, safety_folder: Path | None = None,
                            report: Report | None = None, cancel: threading.Event | None = None
                            ) -> RestoredDatabase:
    """Load the dump of ``db`` from the cloud backup ``name``, for a backup with no local copy.

    Step 1 of 2 downloads it as a restore does (``downloaded``: the provider's checksum checked, a copy that
    does not match refused before anything is loaded); step 2 loads it exactly as a local archive
    (``servers.restore_dump``: into a new database, or with ``replace`` over the original); the download is
    deleted at the end, whatever happened. A refused target name or a missing client tool is said before
    the download.
    """
    cancel = cancel or threading.Event()
    if not replace:
        target = restore_target(db, target)  # fixed now: the default name has the time in it
    find_tool(db, "restore")
    steps = StepProgress(report, 2, cancel)
    with downloaded(config, name, report=report, cancel=cancel, steps=2) as archive:
        total = max(find_dump(archive, db).size, 1)
        done = 0

        def progress(n: int) -> None:
            nonlocal done
            done += n
            steps.emit("database", 100.0 * done / total, db.label)

        steps.step = 1
        steps.next("database", db.label)
        return restore_dump(archive, db, target=target, replace=replace, safety_folder=safety_folder,
                            cancel=cancel, progress=progress)
