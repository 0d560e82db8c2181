"""Which installation this is, and whose backup an archive is.

Each installation has a random id (a UUID kept in the data folder, created once) and a name (the config's
``[machine] name``, default the computer's name). Archives carry both in their manifest and a short tag in
their file name, ``respaldo_YYYY-MM-DD_HH-MM-SS_<tag>.zip``, whose last 8 characters are the first 8 hex
digits of the id (before them, optionally, the name in ASCII for people: ``Caja-1-3f2a9c1b``).
An archive is this installation's when its tag ends with this id's 8 digits; an archive without a tag is an
older one and is this installation's unless its manifest names another id. Nothing else counts.
"""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

import filelock

from wizard.core import paths
from wizard.core.config import Config
from wizard.core.config import save as save_config
from wizard.core.errors import UserError
from wizard.core.fsutil import atomic_write_bytes
from wizard.i18n import _

logger = logging.getLogger(__name__)

MACHINE_FILE_NAME = "equipo.json"
SHORT_LEN = 8
SLUG_MAX = 20
TAG_RE = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def computer_name() -> str:
    return socket.gethostname() or "equipo"


def short_id(machine_id: str) -> str:
    return machine_id.replace("-", "").lower()[:SHORT_LEN]


def slug(name: str) -> str:
    """The name in ASCII letters, digits and hyphens, at most SLUG_MAX characters ("Caja 1" -> "Caja-1")."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-")[:SLUG_MAX].strip("-")


def tag_short(tag: str) -> str:
    """The id part of a file-name tag: its last 8 characters, lower case."""
    return tag.rsplit("-", 1)[-1].lower()


def tag_label(tag: str) -> str:
    """What a tag tells people about its installation: the name part, or else the short id."""
    head, sep, _tail = tag.rpartition("-")
    return head.replace("-", " ") if sep and head else tag


@dataclass(frozen=True)
class Machine:
    id: str
    name: str
    host: str
    previous: tuple[str, ...] = ()  # ids this installation had before it adopted another's (still its own)

    @property
    def short(self) -> str:
        return short_id(self.id)

    @property
    def shorts(self) -> set[str]:
        return {self.short, *(short_id(i) for i in self.previous)}

    @property
    def tag(self) -> str:
        name = slug(self.name)
        return f"{name}-{self.short}" if name else self.short

    def manifest_entry(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "host": self.host}

    def owns_tag(self, tag: str | None) -> bool | None:
        """True/False for a tagged name; None for an untagged (older) one, whose manifest decides."""
        if tag is None:
            return None
        return tag_short(tag) in self.shorts

    def owns_manifest(self, machine: dict | None) -> bool:
        """An archive without ``machine`` in its manifest is older than ids: this installation's."""
        if not machine or not machine.get("id"):
            return True
        return short_id(str(machine["id"])) in self.shorts


def machine_file() -> Path:
    return paths.data_dir() / MACHINE_FILE_NAME


def _read_file() -> dict:
    try:
        data = json.loads(machine_file().read_bytes().decode("utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        logger.warning("installation id file %s unreadable: %s", machine_file(), exc)
        return {}
    return data if isinstance(data, dict) else {}


def _valid_id(value: object) -> str | None:
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return None


def installation_id() -> str:
    """This installation's id, created (once, under a lock) the first time it is needed."""
    found = _valid_id(_read_file().get("id"))
    if found:
        return found
    paths.ensure_dir(paths.data_dir())
    with filelock.FileLock(str(machine_file()) + ".lock", timeout=30):
        data = _read_file()
        found = _valid_id(data.get("id"))
        if found:
            return found
        if machine_file().exists():
            aside = machine_file().with_name(f"{MACHINE_FILE_NAME}.invalido")
            os.replace(machine_file(), aside)
            logger.warning("installation id file was not valid; kept as %s and made a new id", aside)
        new_id = str(uuid.uuid4())
        atomic_write_bytes(machine_file(), json.dumps({"id": new_id}, indent=1).encode("utf-8"))
        logger.info("new installation id %s", new_id)
        return new_id


def current(name: str = "") -> Machine:
    """This installation: its id, the configured name (default: the computer's name) and the host."""
    host = computer_name()
    own_id = installation_id()
    previous = tuple(i for i in _read_file().get("previous", []) if isinstance(i, str) and _valid_id(i))
    return Machine(own_id, name.strip() or host, host, previous)


def adopt(machine_id: str) -> str:
    """Take over another installation's id (this computer replaces it); returns the previous id, which is
    kept in the file so that nothing is forgotten."""
    new_id = resolve_id(machine_id, {})
    previous = installation_id()
    with filelock.FileLock(str(machine_file()) + ".lock", timeout=30):
        data = _read_file()
        earlier = [i for i in data.get("previous", []) if isinstance(i, str)]
        if previous != new_id and previous not in earlier:
            earlier.append(previous)
        data.update(id=new_id, previous=earlier)
        atomic_write_bytes(machine_file(), json.dumps(data, indent=1).encode("utf-8"))
    logger.info("installation id %s adopted (was %s)", new_id, previous)
    return previous


def manifest_machine(raw: object) -> dict[str, str] | None:
    """The manifest's ``machine`` entry when it is a usable one."""
    if not isinstance(raw, dict) or not _valid_id(raw.get("id")):
        return None
    return {"id": str(raw["id"]), "name": str(raw.get("name", "")), "host": str(raw.get("host", ""))}


def resolve_id(value: str, known: dict[str, dict[str, str]]) -> str:
    """A full id from what the user typed: the id itself, or the 8-digit short id of one of ``known``
    (the installations whose backups were found)."""
    value = value.strip()
    full = _valid_id(value)
    if full:
        return full
    matches = [i for i in known if short_id(i) == value.lower()]
    if len(matches) == 1:
        return matches[0]
    raise UserError(_("«{value}» no es el identificador de un equipo (se espera algo como "
                      "3f2a9c1b-0d4e-4a8b-9c1d-2e3f4a5b6c7d; respaldos list lo muestra).").format(value=value))


def adopt_installation(cfg: Config, config_path: Path, value: str, known: dict[str, dict[str, str]],
                       name: str | None = None) -> Machine:
    """This computer replaces another installation: take its id and (unless ``name`` is given) the name its
    newest backup in ``known`` recorded, saved in the config. Its backups are then this installation's: their
    keep rules apply, and new backups carry its tag."""
    full = resolve_id(value, known)
    new_name = name if name is not None else known.get(full, {}).get("name", "") or cfg.machine.name
    if new_name != cfg.machine.name:
        cfg.machine.name = new_name
        save_config(cfg, config_path)  # first: a name the validator refuses changes nothing
    adopt(full)
    return current(cfg.machine.name)
