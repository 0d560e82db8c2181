"""What the search found: one ``Found`` per database, server or database file, and the ``DetectResult``.

``Found.to_json`` and ``DetectResult.to_json`` are the public shape of ``respaldos detect --json``
(docs/detect.md, "The command line and the JSON").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from wizard.core.config import ENGINE_PORTS, ENGINE_USERS, DatabaseSource

KINDS = ("sqlite", "firebird", "access", "mysql-server", "firebird-server", "mysql-database")
SERVER_KINDS = ("mysql-server", "firebird-server")
FILE_KINDS = ("sqlite", "firebird", "access")


@dataclass
class Found:
    kind: str  # one of KINDS
    path: str | None = None  # files
    host: str | None = None  # servers and their databases
    port: int | None = None
    database: str | None = None  # a MySQL database's name
    program: str | None = None  # the matching profile's name (profiles.toml)
    size: int | None = None  # bytes
    modified: float | None = None  # seconds since the epoch
    notes: list[str] = field(default_factory=list)  # the profile's notes, for people (not in the JSON)
    suggested_user: str = ""  # a server's usual user, from the profile (never a password)

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind, "path": self.path, "host": self.host, "port": self.port,
            "database": self.database, "program": self.program, "size": self.size,
            "modified": None if self.modified is None
            else datetime.fromtimestamp(self.modified, UTC).astimezone().isoformat(timespec="seconds"),
        }

    def database_entry(self, user: str = "") -> DatabaseSource | None:
        """The ``[[source.databases]]`` entry "Agregar base de datos..." makes for this find, with its usual port
        and user filled in as that dialog does; None for what is added as a file (SQLite, Access)."""
        if self.kind == "mysql-database":
            return DatabaseSource(engine="mysql", host=self.host or "localhost",
                                  port=self.port or ENGINE_PORTS["mysql"], database=self.database or "",
                                  user=user or ENGINE_USERS["mysql"])
        if self.kind == "firebird":
            return DatabaseSource(engine="firebird", host="localhost", port=ENGINE_PORTS["firebird"],
                                  path=self.path or "", user=user or ENGINE_USERS["firebird"])
        return None


@dataclass
class DetectResult:
    found: list[Found] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # folders that could not be opened
    not_covered: list[str] = field(default_factory=list)  # folders left when time ran out or on cancel
    stopped: str | None = None  # "budget", "cancel" or None
    seconds: float = 0.0
    roots: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # sentences: a server that refused the login...

    def to_json(self) -> dict[str, object]:
        return {"found": [f.to_json() for f in self.found], "skipped": [*self.unreadable, *self.not_covered],
                "seconds": round(self.seconds, 2)}
