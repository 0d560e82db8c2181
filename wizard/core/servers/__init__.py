"""Databases on a server (MySQL/MariaDB, Firebird): consistent dumps streamed into the archive, and back.

One class per engine behind one interface, and one module per job (this package only re-exports the names
other modules use):
    engine.py       Engine: what differs per engine (programs, command lines, answers, errors, dump names)
    mysql.py        MySQL: mysqldump --single-transaction, mysql
    firebird.py     Firebird: gbak, isql
    registry.py     ENGINES = {"mysql": MySQL(), "firebird": Firebird()}, ENGINE_NAMES, DUMP_KINDS
    tools.py        find_tool: the entry's client setting, PATH, the usual install folders
    credentials.py  passwords in the keyring, handed to the tools through /dev/fd or a private 0600 file
    errors.py       DatabaseError and the plain sentences for what went wrong
    connection.py   test_connection, ServerInfo
    dump.py         prepare_dumps, write_dump (streamed into the ZIP), dump_to_file (the safety dump)
    load.py         restore_dump: into a new database, or over the original with the POS closed

Why dumps (not the server's files), how the password reaches the tools and how a replace stays safe:
docs/design.md, "Server databases".
"""

from __future__ import annotations

from wizard.core.servers.connection import ServerInfo, test_connection
from wizard.core.servers.credentials import get_password, remove_stale_folders, secret_name, set_password
from wizard.core.servers.dump import PreparedDump, dump_to_file, prepare_dumps, write_dump
from wizard.core.servers.engine import Engine
from wizard.core.servers.errors import (
    ClientNotFound,
    ConnectionsUnknown,
    DatabaseError,
    DatabaseInUse,
    DatabaseMissing,
    DumpIncomplete,
    ServerNotRunning,
    WrongPassword,
    where,
)
from wizard.core.servers.load import (
    RestoredDatabase,
    default_restore_target,
    find_dump,
    restore_command,
    restore_dump,
    restore_target,
)
from wizard.core.servers.registry import (
    DUMP_KINDS,
    ENGINE_NAMES,
    ENGINES,
    describe,
    engine_of,
    engine_of_kind,
)
from wizard.core.servers.tools import find_tool

__all__ = [
    "DUMP_KINDS",
    "ENGINES",
    "ENGINE_NAMES",
    "ClientNotFound",
    "ConnectionsUnknown",
    "DatabaseError",
    "DatabaseInUse",
    "DatabaseMissing",
    "DumpIncomplete",
    "Engine",
    "PreparedDump",
    "RestoredDatabase",
    "ServerInfo",
    "ServerNotRunning",
    "WrongPassword",
    "default_restore_target",
    "describe",
    "dump_to_file",
    "engine_of",
    "engine_of_kind",
    "find_dump",
    "find_tool",
    "get_password",
    "prepare_dumps",
    "remove_stale_folders",
    "restore_command",
    "restore_dump",
    "restore_target",
    "secret_name",
    "set_password",
    "test_connection",
    "where",
    "write_dump",
]
