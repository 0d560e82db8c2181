"""The interface of a database engine (MySQL/MariaDB in mysql.py, Firebird in firebird.py), and what they share.

An engine knows its programs, their command lines, how to read their answers and errors, and what its dumps
are called in the archive. The jobs (tools.py, connection.py, dump.py, load.py) are the same for every
engine and ask it; a new engine is a new module and one line in registry.py.
"""

from __future__ import annotations

import logging
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path
from typing import NamedTuple

from wizard.core.config import DatabaseSource
from wizard.core.servers import errors
from wizard.core.servers.credentials import Login

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 120  # seconds for a connection test or a small query


class ServerFacts(NamedTuple):
    """What a connection test reads from the server."""

    version: str
    size: int | None  # bytes the database takes there, when known
    inconsistent_tables: list[str]  # tables a consistent dump does not cover, "clientes (MyISAM)"


class Engine(ABC):
    """One database engine: its programs and what differs in using them. Instances hold no state; registry.py
    names them as the config does (``engine = "mysql"``)."""

    display_name: str  # in sentences: "MySQL/MariaDB"
    kind: str  # the manifest kind of its dumps
    suffix: str  # the extension of its dumps in the archive
    dump_tools: tuple[str, ...]  # program names, in order of preference
    query_tools: tuple[str, ...]
    restore_role: str  # the role ("dump", "query") of the program that loads a dump
    # None: the query tool is searched like the others. A tuple: only beside the dump tool, or by these
    # names on PATH (Firebird: an "isql" on PATH may be unixODBC's).
    query_tool_on_path: tuple[str, ...] | None = None
    query_tool_word: str  # the query tool as a sentence names it when it is missing
    default_admin: str  # a user with every permission, suggested when one is missing
    password_file: str  # the password file's name where there are no descriptors to pass it (Windows)

    # -- finding the programs and passing the password --------------------------------------------------

    def tool_names(self, role: str) -> tuple[str, ...]:
        """The programs for ``role`` ("dump" or "query"), in order of preference."""
        return {"dump": self.dump_tools, "query": self.query_tools}[role]

    @abstractmethod
    def install_patterns(self, program_folders: list[str]) -> list[str]:
        """Glob patterns of the folders installers put the client tools in (``program_folders``: Program Files...)."""

    def query_tool_missing(self, folder: Path) -> errors.ClientNotFound:
        """The sentence when the query tool is not beside the dump tool in ``folder`` (``query_tool_on_path``)."""
        raise NotImplementedError

    def password_text(self, password: str) -> str:
        """What the tool reads from its password file."""
        return password

    def password_path(self, login: Login) -> str | None:
        """Where the tool about to be started reads the password (a new descriptor for each start)."""
        if login.password is None:
            return None
        return login.folder.secret(self.password_file, self.password_text(login.password))

    # -- testing a connection ---------------------------------------------------------------------------

    @abstractmethod
    def read_server(self, login: Login, query_tool: Path) -> ServerFacts:
        """The server's version and the database's size, with the query tool."""

    @abstractmethod
    def check_with_dump_tool(self, login: Login, dump_tool: Path) -> None:
        """Prove the connection works without a query tool: a dump of the metadata only."""

    # -- dumping -----------------------------------------------------------------------------------------

    @abstractmethod
    def dump_command(self, login: Login, tool: Path, log: Path) -> list[str]:
        """The command line that writes a consistent dump to standard output (its log into ``log``)."""

    @abstractmethod
    def dump_completed(self, tail: bytes, log: str) -> bool:
        """Whether the tool said the dump completed: the dump's last bytes, or the tool's log."""

    @abstractmethod
    def manifest_fields(self, db: DatabaseSource) -> dict[str, object]:
        """What names the database in the manifest's entry, beside host, port and user."""

    # -- restoring ---------------------------------------------------------------------------------------

    @abstractmethod
    def default_restore_target(self, db: DatabaseSource, stamp: str) -> str:
        """A new database beside the original, named with ``stamp`` (``20261128_1730``)."""

    @abstractmethod
    def count_other_connections(self, login: Login, query_tool: Path) -> tuple[int | None, bool]:
        """(other connections seen, or None; whether this user sees other users' connections)."""

    @abstractmethod
    def admin_hint(self) -> str:
        """Who sees every connection, for the sentence that asks for such a user."""

    def create_target(self, login: Login, tool: Path, target: str) -> None:
        """Make the new database a dump is loaded into, when loading does not make it itself."""

    @abstractmethod
    def load_command(self, login: Login, tool: Path, target: str, replace: bool, log: Path) -> list[str]:
        """The command line that loads a dump from standard input into ``target``."""

    def remove_failed_target(self, login: Login, tool: Path, target: str) -> None:
        """Remove a new database left half-made by a failed load, where that can be done safely."""

    def load_completed(self, text: str) -> bool:
        """Whether the tool's error output and log say the load completed (beyond its exit code)."""
        return True

    # -- errors --------------------------------------------------------------------------------------------

    @abstractmethod
    def error_signs(self, text: str) -> errors.ErrorSigns:
        """What a tool's error output says happened."""

    @abstractmethod
    def missing_error(self, db: DatabaseSource) -> errors.DatabaseMissing:
        """The sentence when the server has no such database."""

    def statement_failed(self, stderr: str) -> bool:
        """Whether a short command failed although it exited 0."""
        return False

    def classify(self, db: DatabaseSource, text: str, action: str = "backup") -> errors.DatabaseError:
        """Turn a client's error output into one plain sentence that says what to do."""
        signs = self.error_signs(text)
        if signs.unknown_host:
            return errors.unknown_host(db, self.display_name)
        if signs.unreachable:
            return errors.unreachable(db, self.display_name)
        if signs.wrong_password:
            return errors.wrong_password(db, self.display_name)
        if signs.missing:
            return self.missing_error(db)
        if signs.exists:
            return errors.already_exists(db)
        if signs.denied:
            return errors.not_allowed(db, self.default_admin)
        return errors.tool_failed(db, text, action)

    # -- running a short command -------------------------------------------------------------------------

    def run_raw(self, args: list[str], login: Login, *, stdin_text: str | None = None,
                timeout: float = PROBE_TIMEOUT) -> subprocess.CompletedProcess:
        """Run a short client command and return what it did (its error output scrubbed of the password)."""
        try:
            with login.folder.launch() as extra:
                done = subprocess.run(args, check=False, input=stdin_text, capture_output=True, text=True,
                                      encoding="utf-8", errors="replace", timeout=timeout,
                                      stdin=None if stdin_text is not None else subprocess.DEVNULL, **extra)
        except subprocess.TimeoutExpired:
            raise errors.no_answer(login.db, self.display_name) from None
        except OSError as exc:
            raise errors.cannot_start(args[0], exc) from None
        done.stderr = login.scrub(done.stderr)
        return done

    def failed(self, args: list[str], login: Login, done: subprocess.CompletedProcess) -> errors.DatabaseError:
        logger.warning("%s failed for database %s (exit %s): %s", Path(args[0]).name, login.db.label,
                       done.returncode, done.stderr.strip()[-2000:])
        return self.classify(login.db, done.stderr + "\n" + login.scrub(done.stdout))

    def run(self, args: list[str], login: Login, *, stdin_text: str | None = None,
            timeout: float = PROBE_TIMEOUT) -> str:
        """Run a short client command; its output, or the classified error."""
        done = self.run_raw(args, login, stdin_text=stdin_text, timeout=timeout)
        if done.returncode != 0 or self.statement_failed(done.stderr):
            raise self.failed(args, login, done)
        return done.stdout
