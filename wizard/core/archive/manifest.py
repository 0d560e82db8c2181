"""The manifest ``respaldo.json`` inside every archive: what was backed up (each file's size, mtime, SHA-256
and kind), from where, by which installation; and reading it from an archive."""

from __future__ import annotations

import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from wizard.core.archive.aes import Unlocker
from wizard.core.archive.reading import damaged, is_encrypted, iter_member, open_zip, unreadable
from wizard.core.machine import manifest_machine
from wizard.i18n import _

MANIFEST_NAME = "respaldo.json"
MANIFEST_FORMAT = 1


@dataclass
class ManifestFile:
    """One file in the archive: its member name, size, mtime (ISO 8601), SHA-256 and kind; ``chunks``, when
    the writer cut its deflate stream into independent chunks, their compressed sizes in order (so a reader
    can inflate them in parallel; empty: inflate it as one stream)."""

    path: str
    size: int
    mtime: str
    sha256: str
    kind: str = "file"
    chunks: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"path": self.path, "size": self.size, "mtime": self.mtime,
                                   "sha256": self.sha256, "kind": self.kind}
        if self.chunks:
            data["chunks"] = list(self.chunks)
        return data


@dataclass
class Manifest:
    """What an archive holds and where it came from; ``respaldo.json`` in every archive."""

    app: str
    version: str
    created: str
    host: str
    sources: list[dict[str, str]]
    files: list[ManifestFile] = field(default_factory=list)
    format: int = MANIFEST_FORMAT
    # Server databases dumped into the archive: engine, host, port, database or file, user (never a
    # password) and the member ("path") that holds the dump.
    databases: list[dict[str, object]] = field(default_factory=list)
    # The installation that made it: {"id": uuid, "name": "Caja 1", "host": computer name}; None in archives
    # made before installations had ids.
    machine: dict[str, str] | None = None

    def to_json(self) -> bytes:
        data = {
            "format": self.format, "app": self.app, "version": self.version, "created": self.created,
            "host": self.host, "sources": self.sources,
            "files": [f.to_dict() for f in self.files],
        }
        if self.databases:
            data["databases"] = self.databases
        if self.machine:
            data["machine"] = self.machine
        return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = json.loads(raw.decode("utf-8"))
        files = [ManifestFile(path=str(f["path"]), size=int(f["size"]), mtime=str(f.get("mtime", "")),
                              sha256=str(f["sha256"]), kind=str(f.get("kind", "file")),
                              chunks=_chunk_list(f.get("chunks")))
                 for f in data["files"]]
        return cls(app=str(data.get("app", "")), version=str(data.get("version", "")),
                   created=str(data.get("created", "")), host=str(data.get("host", "")),
                   sources=list(data.get("sources", [])), files=files,
                   format=int(data.get("format", MANIFEST_FORMAT)),
                   databases=[d for d in data.get("databases", []) if isinstance(d, dict)],
                   machine=manifest_machine(data.get("machine")))


def _chunk_list(value: object) -> list[int]:
    """A manifest's ``chunks`` as a list of sizes; anything else (absent, or not a list of positive whole
    numbers) is no list: the member is then inflated as one stream, as any reader can."""
    if not isinstance(value, list) or not all(type(n) is int and n > 0 for n in value):
        return []
    return value


def read_manifest(archive: Path, zf: zipfile.ZipFile | None = None, unlocker: Unlocker | None = None) -> Manifest:
    """The manifest of ``archive`` (read through ``zf`` when it is open already); ArchiveDamaged if it is
    missing or unreadable. Encrypted, it is opened with ``unlocker``'s passwords (by default every one this
    computer knows: wizard.core.archive.aes.Unlocker)."""
    own = zf is None
    zf = zf or open_zip(archive)
    try:
        try:
            info = zf.getinfo(MANIFEST_NAME)
            if is_encrypted(info):
                with open(archive, "rb") as fp:
                    raw = b"".join(iter_member(fp, info, unlocker=unlocker or Unlocker(archive)))
            else:
                raw = zf.read(MANIFEST_NAME)
        except KeyError:
            raise damaged(archive, MANIFEST_NAME, _("no está en el archivo")) from None
        except (zipfile.BadZipFile, OSError, zlib.error, EOFError) as exc:
            raise unreadable(archive, MANIFEST_NAME, _("no se puede leer"), exc) from None
        try:
            return Manifest.from_json(raw)
        except (ValueError, KeyError, TypeError):
            raise damaged(archive, MANIFEST_NAME, _("no tiene el formato esperado")) from None
    finally:
        if own:
            zf.close()
