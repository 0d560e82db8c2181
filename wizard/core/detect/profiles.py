"""Known POS programs, read from profiles.toml (data, not code), and which one a find belongs to."""

from __future__ import annotations

import fnmatch
import functools
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import PurePath, PurePosixPath, PureWindowsPath

from wizard.core.detect.found import Found

PROFILES_FILE = "profiles.toml"


@dataclass(frozen=True)
class Fact:
    fact: str
    source: str
    verified: bool


@dataclass(frozen=True)
class Profile:
    name: str
    kinds: tuple[str, ...]
    install_folders: tuple[str, ...] = ()
    databases: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    mysql_user: str = ""
    backup: str = ""
    notes: tuple[str, ...] = ()
    facts: tuple[Fact, ...] = field(default=())

    def matches(self, found: Found) -> bool:
        """Whether ``found`` is this program's: its database name, its file name, or (for its kind of
        database) a file inside one of its install folders."""
        if found.kind == "mysql-database":
            return found.kind in self.kinds and (found.database or "").casefold() in {
                d.casefold() for d in self.databases}
        if not found.path:
            return False
        path = _pure(found.path)
        name = path.name.casefold()
        if any(fnmatch.fnmatchcase(name, pattern.casefold()) for pattern in self.files):
            return True
        folders = {f.casefold() for f in self.install_folders}
        return found.kind in self.kinds and any(part.casefold() in folders for part in path.parts[:-1])


def _pure(path: str) -> PurePath:
    return PureWindowsPath(path) if "\\" in path else PurePosixPath(path)


def parse(data: dict) -> list[Profile]:
    """Profiles from the TOML's tables (``[[program]]``); raises ValueError naming what is wrong."""
    profiles = []
    for i, item in enumerate(data.get("program", [])):
        try:
            facts = tuple(Fact(f["fact"], f["source"], bool(f.get("verified", False))) for f in item["facts"])
            profiles.append(Profile(
                name=item["name"], kinds=tuple(item["kinds"]), install_folders=tuple(item.get("install_folders", ())),
                databases=tuple(item.get("databases", ())), files=tuple(item.get("files", ())),
                mysql_user=item.get("mysql_user", ""), backup=item.get("backup", ""),
                notes=tuple(item.get("notes", ())), facts=facts))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{PROFILES_FILE}: program {i + 1}: missing or wrong field {exc}") from None
        if not facts or any(not f.source.strip() for f in facts):
            raise ValueError(f"{PROFILES_FILE}: program {item['name']}: every fact needs a source")
    return profiles


@functools.cache
def load_profiles() -> tuple[Profile, ...]:
    """The profiles shipped with Respaldos (wizard/core/detect/profiles.toml)."""
    text = resources.files("wizard.core.detect").joinpath(PROFILES_FILE).read_text(encoding="utf-8")
    return tuple(parse(tomllib.loads(text)))


def match(found: Found, profiles: tuple[Profile, ...] | None = None) -> Profile | None:
    """The first profile ``found`` belongs to, or None."""
    return next((p for p in (load_profiles() if profiles is None else profiles) if p.matches(found)), None)


def apply(found: list[Found], profiles: tuple[Profile, ...] | None = None) -> None:
    """Name the program of each find (``program``, ``notes``, ``suggested_user``); a server gets the user of the
    first profile whose database it holds, or of the only profile of its engine."""
    profiles = load_profiles() if profiles is None else profiles
    for item in found:
        profile = match(item, profiles)
        if profile is not None:
            item.program = profile.name
            item.notes = [profile.backup, *profile.notes] if profile.backup else list(profile.notes)
            item.suggested_user = profile.mysql_user
    for item in found:
        if item.kind == "mysql-server":
            held = [f for f in found if f.kind == "mysql-database" and f.program and (f.host, f.port) == (
                item.host, item.port)]
            if held:
                item.program = held[0].program
        if item.kind == "mysql-server" and not item.suggested_user:
            users = [p.mysql_user for p in profiles if "mysql-database" in p.kinds and p.mysql_user]
            item.suggested_user = users[0] if len(users) == 1 else ""
