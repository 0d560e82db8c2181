"""Archive file names and the listing of a folder's archives.

The name rule is a public contract: ``respaldo_YYYY-MM-DD_HH-MM-SS[_TAG].zip`` (sorting by name is
chronological; old tools that glob ``respaldo_*.zip`` keep working), ``.part`` appended while it is written.
TAG (ASCII letters, digits and hyphens) says which installation made it (``wizard.core.machine``); archives
made before installations had ids have none.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

ARCHIVE_NAME_RE = re.compile(r"^respaldo_(\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d)(?:_([A-Za-z0-9-]{1,40}))?\.zip$")
PART_NAME_RE = re.compile(r"^respaldo_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d(?:_([A-Za-z0-9-]{1,40}))?\.zip\.part$")
NAME_TIME_FORMAT = "%Y-%m-%d_%H-%M-%S"
# Any installation's files, wherever they are (never backed up): finished archives, half-written ones, and
# the temporary files of a restore (".respaldo_….zip").
OWN_FILE_RE = re.compile(r"^\.?respaldo_\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d(?:_[A-Za-z0-9-]{1,40})?\.zip(\.part)?$")


@dataclass
class ArchiveInfo:
    path: Path
    name: str
    created: datetime
    size: int
    tag: str | None = None  # the installation's tag in the name; None for an archive made before ids


def archive_name(when: datetime, tag: str | None = None) -> str:
    suffix = f"_{tag}" if tag else ""
    return f"respaldo_{when.strftime(NAME_TIME_FORMAT)}{suffix}.zip"


def archive_tag(name: str) -> str | None:
    """The installation tag in an archive's (or its .part's) name; None without one."""
    m = ARCHIVE_NAME_RE.match(name) or PART_NAME_RE.match(name)
    return m.group(m.re.groups) if m else None


def parse_archive_name(name: str) -> datetime | None:
    m = ARCHIVE_NAME_RE.match(name)
    if not m:
        return None
    try:
        return datetime.strptime(m.group(1), NAME_TIME_FORMAT)
    except ValueError:
        return None


def list_archives(folder: str | Path) -> list[ArchiveInfo]:
    """Finished archives in ``folder`` (exact name pattern only), newest first."""
    found = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for entry in entries:
        created = parse_archive_name(entry.name)
        if created is None or not entry.is_file():
            continue
        try:
            size = entry.stat().st_size
        except OSError:
            continue
        found.append(ArchiveInfo(Path(entry.path), entry.name, created, size, archive_tag(entry.name)))
    found.sort(key=lambda a: (a.created, a.name), reverse=True)
    return found
