"""The engines, by the name the config gives them: a plain table, so that PyInstaller sees every import."""

from __future__ import annotations

from wizard.core.config import DatabaseSource
from wizard.core.servers.engine import Engine
from wizard.core.servers.errors import where
from wizard.core.servers.firebird import Firebird
from wizard.core.servers.mysql import MySQL

ENGINES: dict[str, Engine] = {"mysql": MySQL(), "firebird": Firebird()}
ENGINE_NAMES = {name: engine.display_name for name, engine in ENGINES.items()}
DUMP_KINDS = frozenset(engine.kind for engine in ENGINES.values())


def engine_of(db: DatabaseSource) -> Engine:
    """The engine of a config entry."""
    return ENGINES[db.engine]


def engine_of_kind(kind: str, default: str = "") -> str:
    """The engine ("mysql", "firebird") whose dumps have this manifest ``kind``; ``default`` for others."""
    return next((name for name, engine in ENGINES.items() if engine.kind == kind), default)


def describe(db: DatabaseSource) -> str:
    """One line for lists: "tienda (MySQL/MariaDB, localhost:3306)"."""
    return f"{db.server_database} ({ENGINE_NAMES.get(db.engine, db.engine)}, {where(db)})"
