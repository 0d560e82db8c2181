"""Databases on a server (MySQL/MariaDB, Firebird): consistent dumps streamed into the archive, and back.

Copying a server's data files while it runs gives a broken copy, so these are dumped with the server's
own tools: ``mysqldump --single-transaction`` (one consistent snapshot of the InnoDB tables without
locking them, so the POS keeps selling) and ``gbak -b`` (a snapshot transaction). The dump is read from
the tool's standard output straight into the ZIP writer, which hashes it on the way (no temporary copy),
and it counts only when the tool says it finished: exit code 0 plus mysqldump's "-- Dump completed"
trailer, or plus the "closing file, committing, and finishing" line of gbak's log.

Passwords come from the keyring (``secrets``, one key per entry) and reach the tools as a file name given
to ``--defaults-extra-file`` / ``-fetch_password``: on Linux and macOS ``/dev/fd/N``, a descriptor the tool
inherits (an in-memory file or a pipe: nothing on disk, gone with the processes even after a kill); on
Windows a file only this user can read, in a private temporary folder that a killed run's successor
removes. They never appear on a command line, in the environment, in the log or in an error message.

Restoring goes into a NEW database by default (``mysql`` / ``gbak -c``); replacing the original needs
the POS closed (checked: other connections counted on the server) and makes a safety dump first.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Self

from wizard.core import secrets
from wizard.core.archive import (
    CHUNK_SIZE,
    ZIP64_LIMIT,
    ManifestFile,
    ZipWriter,
    iter_member,
    open_zip,
    read_manifest,
)
from wizard.core.config import DatabaseSource
from wizard.core.errors import ArchiveDamaged, Cancelled, UserError
from wizard.core.fsutil import remove_stale_dirs
from wizard.core.paths import default_config_path
from wizard.core.units import format_size
from wizard.i18n import _, ngettext

logger = logging.getLogger(__name__)

KINDS = {"mysql": "mysql-dump", "firebird": "firebird-gbak"}
DUMP_KINDS = frozenset(KINDS.values())


def engine_of_kind(kind: str, default: str = "") -> str:
    """The engine ("mysql", "firebird") whose dumps have this manifest ``kind``; ``default`` for others."""
    return next((engine for engine, k in KINDS.items() if k == kind), default)
SUFFIXES = {"mysql": ".sql", "firebird": ".fbk"}
ENGINE_NAMES = {"mysql": "MySQL/MariaDB", "firebird": "Firebird"}
ARCHIVE_FOLDER = "bases_de_datos"
MYSQL_TRAILER = b"-- Dump completed"
GBAK_BACKUP_DONE = "closing file, committing, and finishing"
GBAK_RESTORE_DONE = "finishing, closing, and going home"
CONNECT_TIMEOUT = 15  # seconds to reach the server
PROBE_TIMEOUT = 120  # seconds for a connection test or a small query
# Engines whose tables mysqldump --single-transaction copies as of one moment (MVCC snapshots).
SNAPSHOT_ENGINES = ("InnoDB", "ROCKSDB")
TABLES_NAMED = 5  # tables named in a warning before "y N más"
# Program names per engine and role, in order of preference.
TOOLS = {
    ("mysql", "dump"): ("mariadb-dump", "mysqldump"),
    ("mysql", "query"): ("mariadb", "mysql"),
    ("firebird", "dump"): ("gbak",),
    ("firebird", "query"): ("isql-fb", "isql"),
}


class DatabaseError(UserError):
    """A server database could not be reached, dumped or restored."""


class ClientNotFound(DatabaseError):
    """mysqldump / gbak (or mysql / isql) is not on this computer."""


class ServerNotRunning(DatabaseError):
    """Nothing answers at host:port, or the host name is unknown."""


class WrongPassword(DatabaseError):
    """The server refused the user or its password."""


class DatabaseMissing(DatabaseError):
    """The server runs but has no such database (or file)."""


class DumpIncomplete(DatabaseError):
    """The tool ended without saying the dump (or restore) completed."""


class DatabaseInUse(DatabaseError):
    """Other connections use the database that would be replaced."""


class ConnectionsUnknown(DatabaseError):
    """Whether other connections use the database cannot be checked (no query tool, or not allowed)."""


# -- names --------------------------------------------------------------------------------------------

def secret_name(db: DatabaseSource) -> str:
    """The keyring key of an entry's password: ``base de datos:<name>``."""
    return f"base de datos:{db.label}"


def get_password(db: DatabaseSource) -> str | None:
    return secrets.get_secret(secret_name(db))


def set_password(db: DatabaseSource, password: str) -> None:
    secrets.set_secret(secret_name(db), password)


def where(db: DatabaseSource) -> str:
    """host:port as the user typed them, for messages."""
    return f"{db.host}:{db.effective_port}"


def describe(db: DatabaseSource) -> str:
    """One line for lists: "tienda (MySQL/MariaDB, localhost:3306)"."""
    return f"{db.server_database} ({ENGINE_NAMES.get(db.engine, db.engine)}, {where(db)})"


# -- finding the programs -------------------------------------------------------------------------------

def _exe(name: str) -> str:
    return f"{name}.exe" if sys.platform == "win32" else name


def _is_program(path: Path) -> bool:
    return path.is_file() and (sys.platform == "win32" or os.access(path, os.X_OK))


def usual_folders(engine: str) -> list[Path]:
    """Where installers put the client tools, newest version first (Windows: Program Files, XAMPP...)."""
    bases = []
    for var in ("ProgramW6432", "ProgramFiles", "ProgramFiles(x86)"):
        value = os.environ.get(var)
        if value and value not in bases:
            bases.append(value)
    if sys.platform == "win32":
        for value in (r"C:\Program Files", r"C:\Program Files (x86)"):
            if value not in bases:
                bases.append(value)
    if engine == "mysql":
        patterns = [f"{b}/{p}" for b in bases for p in ("MySQL/*/bin", "MariaDB*/bin", "MariaDB/*/bin")]
        if sys.platform == "win32":
            patterns += ["C:/xampp/mysql/bin", "C:/wamp64/bin/mysql/*/bin", "C:/wamp/bin/mysql/*/bin"]
        else:
            patterns += ["/usr/local/mysql/bin", "/opt/lampp/bin", "/opt/homebrew/bin", "/usr/local/bin"]
    else:
        patterns = [f"{b}/{p}" for b in bases for p in ("Firebird/*/bin", "Firebird/*")]
        if sys.platform != "win32":
            patterns += ["/opt/firebird/bin", "/Library/Frameworks/Firebird.framework/Resources/bin"]

    folders = []
    for pattern in patterns:
        folders += sorted((Path(p) for p in glob.glob(pattern) if os.path.isdir(p)), reverse=True)
    return folders


def find_tool(db: DatabaseSource, role: str = "dump") -> Path:
    """The program for ``role`` ("dump": mysqldump/gbak; "query": mysql/isql; "restore": mysql/gbak).

    The entry's ``client`` (the program or its folder) wins; else PATH; else the usual install folders.
    """
    if role == "restore":
        role = "query" if db.engine == "mysql" else "dump"
    names = TOOLS[(db.engine, role)]
    if db.engine == "firebird" and role == "query":
        # "isql" on PATH may be unixODBC's: only Firebird's own folder or the Debian name isql-fb count.
        folder = find_tool(db, "dump").parent
        for name in names:
            if _is_program(folder / _exe(name)):
                return folder / _exe(name)
        found = shutil.which("isql-fb")
        if found:
            return Path(found)
        raise ClientNotFound(_("No se encontró el programa isql de Firebird junto a {folder}.").format(folder=folder))
    if db.client.strip():
        configured = Path(os.path.expanduser(db.client.strip()))
        if configured.is_file():
            if role == "dump":
                return configured
            folder = configured.parent
        elif configured.is_dir():
            folder = configured
        else:
            raise ClientNotFound(_(
                "No se encontró {client}, el programa indicado en client para la base de datos {name}. "
                "Corrige la ruta en la configuración o déjala vacía para que Respaldos lo busque.").format(
                client=configured, name=db.label))
        for name in names:
            if _is_program(folder / _exe(name)):
                return folder / _exe(name)
        raise ClientNotFound(_(
            "No se encontró {tool} en {folder}. Indica en client la carpeta donde está instalado {tool} "
            "(las herramientas de cliente de {engine}).").format(
            tool=names[-1], folder=folder, engine=ENGINE_NAMES[db.engine]))
    for name in names:
        found = shutil.which(name)
        if found:
            return Path(found)
    for folder in usual_folders(db.engine):
        for name in names:
            if _is_program(folder / _exe(name)):
                return folder / _exe(name)
    raise ClientNotFound(_(
        "No se encontró el programa {tool} en esta computadora. Instala las herramientas de cliente de {engine} "
        "o indica en client de la configuración la carpeta donde está {tool}.").format(
        tool=names[-1], engine=ENGINE_NAMES[db.engine]))


# -- running a client without showing the password --------------------------------------------------------

FOLDER_PREFIX = "respaldos-db-"
# Windows has no /dev/fd: there the password goes into a 0600 file, left behind only by a killed process
# and removed by the next one (remove_stale_folders).
PASS_FDS = sys.platform != "win32"
_PIPE_LIMIT = 16 << 10  # a pipe holds at least this much without a reader (macOS); longer secrets use a file
_stale_checked = False


def remove_stale_folders(parent: Path | None = None) -> list[Path]:
    """Remove the private folders of processes that were killed (``respaldos-db-<pid>-*`` whose pid is gone).

    A kill (power cut, Task Manager, SIGKILL) skips every ``finally``; on Windows such a folder still holds
    the password file. Folders of an older version, without a pid, go once they are a week old.
    """
    return remove_stale_dirs(Path(parent or tempfile.gettempdir()), FOLDER_PREFIX)


class _PrivateFolder:
    """A temporary folder only this user can open, for the tools' logs and error output, plus the way the
    password reaches a tool: an inherited descriptor named ``/dev/fd/N`` (nothing on disk; it dies with the
    processes), or on Windows a 0600 file here. The folder name holds our pid, so that the folder of a
    killed process can be told apart and removed by the next one."""

    def __init__(self) -> None:
        global _stale_checked
        if not _stale_checked:
            _stale_checked = True
            remove_stale_folders()
        self.path = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
        self._fds: list[int] = []
        self._files: dict[str, Path] = {}

    def secret(self, name: str, text: str) -> str:
        """A path the next tool started with ``launch()`` can read ``text`` from, once or more."""
        data = text.encode("utf-8")
        if PASS_FDS:
            fd = self._secret_fd(data)
            if fd is not None:
                self._fds.append(fd)
                return f"/dev/fd/{fd}"
        if name not in self._files:
            path = self.path / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            self._files[name] = path
        return str(self._files[name])

    @staticmethod
    def _secret_fd(data: bytes) -> int | None:
        """Linux: an anonymous in-memory file (a tool may open it twice); elsewhere a pipe already written."""
        memfd_create = getattr(os, "memfd_create", None)
        if memfd_create is not None:
            try:
                fd = memfd_create("respaldos-clave")
            except OSError:
                fd = -1
            if fd >= 0:
                try:
                    os.fchmod(fd, 0o600)  # mysql ignores a "world-writable" option file
                    _write_all(fd, data)
                except OSError:
                    os.close(fd)
                    raise
                return fd
        if len(data) > _PIPE_LIMIT:
            return None
        read, write = os.pipe()
        try:
            _write_all(write, data)
        except OSError:
            os.close(read)
            raise
        finally:
            os.close(write)
        return read

    @contextlib.contextmanager
    def launch(self) -> Iterator[dict]:
        """Keyword arguments for starting the tool whose command line was just built; our copies of its
        password descriptors are closed once it started (or failed to)."""
        try:
            yield {"pass_fds": tuple(self._fds), **_popen_flags()} if self._fds else _popen_flags()
        finally:
            self.release()

    def release(self) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)

    def cleanup(self) -> None:
        self.release()
        shutil.rmtree(self.path, ignore_errors=True)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _option_value(text: str) -> str:
    """A value for a MySQL option file: double-quoted, with backslash and quote escaped."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _popen_flags() -> dict:
    if sys.platform == "win32":
        return {"creationflags": getattr(subprocess, "CREATE_NO_WINDOW", 0)}
    return {}


class _Client:
    """Command lines for one entry; the password reaches the tool through ``folder.secret`` (never argv)."""

    def __init__(self, db: DatabaseSource, password: str | None, folder: _PrivateFolder):
        self.db = db
        self.password = password
        self.folder = folder

    def password_path(self) -> str | None:
        """Where the tool about to be started reads the password (a new descriptor for each start)."""
        if self.password is None:
            return None
        if self.db.engine == "mysql":
            return self.folder.secret("cliente.cnf", "[client]\npassword=" + _option_value(self.password) + "\n")
        return self.folder.secret("clave", self.password)

    # MySQL / MariaDB
    def mysql_common(self, tool: Path) -> list[str]:
        db = self.db
        args = [str(tool)]
        secret = self.password_path()
        if secret is not None:
            args.append(f"--defaults-extra-file={secret}")  # must come first
        args += [f"--host={db.host}", f"--user={db.effective_user}"]
        if "dump" not in tool.stem:  # mysqldump has no such option
            args.append(f"--connect-timeout={CONNECT_TIMEOUT}")
        if db.port or db.host.strip().lower() != "localhost":
            args += [f"--port={db.effective_port}", "--protocol=TCP"]
        return args

    # Firebird
    def firebird_target(self, path: str | None = None) -> str:
        db = self.db
        path = db.path if path is None else path
        return f"{db.host}/{db.effective_port}:{path}" if db.host.strip() else path

    def firebird_auth(self) -> list[str]:
        args = ["-user", self.db.effective_user]
        secret = self.password_path()
        if secret is not None:
            args += ["-fetch_password", secret]
        return args

    def scrub(self, text: str) -> str:
        """Error text from a tool, safe for the log and the user: never the password."""
        if self.password:
            text = text.replace(self.password, "***")
        return text


def _last_lines(text: str, count: int = 3) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(lines[-count:])


def _classify(db: DatabaseSource, text: str, action: str = "backup") -> DatabaseError:
    """Turn a client's error output into one plain sentence that says what to do."""
    engine = ENGINE_NAMES[db.engine]
    low = text.lower()
    if db.engine == "mysql":
        code = re.search(r"\b(1044|1045|1049|1007|1142|1227|1698|2002|2003|2005|2006|2013)\b", text)
        code = code.group(1) if code else ""
        unreachable = code in ("2002", "2003", "2006", "2013") or "can't connect" in low
        unknown_host = code == "2005" or "unknown mysql server host" in low or "unknown server host" in low
        wrong_password = code in ("1045", "1698") or ("access denied for user" in low and "to database" not in low)
        missing = code == "1049" or "unknown database" in low
        denied = code in ("1044", "1142", "1227") or "access denied" in low
        exists = code == "1007" or "database exists" in low
    else:
        unreachable = "unable to complete network request" in low or "failed to establish a connection" in low \
            or "connection refused" in low
        unknown_host = "failed to locate host machine" in low or "undefined service" in low
        wrong_password = "user name and password are not defined" in low or "login" in low and "not defined" in low
        missing = ('error during "open" operation' in low or "no such file or directory" in low
                   or "is not a valid database" in low or "error while trying to open file" in low)
        denied = "no permission" in low
        exists = "already exists" in low
    if unknown_host:
        return ServerNotRunning(_(
            "No se encontró el equipo {host} del servidor {engine}. Revisa el nombre del equipo (host) de la "
            "base de datos {name}.").format(host=db.host, engine=engine, name=db.label))
    if unreachable:
        return ServerNotRunning(_(
            "No se pudo conectar con el servidor {engine} en {where}. Revisa que el servidor de la base de "
            "datos esté encendido y que el equipo y el puerto sean correctos.").format(engine=engine,
                                                                                      where=where(db)))
    if wrong_password:
        return WrongPassword(_(
            "El servidor {engine} rechazó el usuario {user} o su contraseña para la base de datos {name}. "
            "Escribe la contraseña otra vez en Respaldos (Qué respaldar) o con: respaldos db password {name}").format(
            engine=engine, user=db.effective_user, name=db.label))
    if missing and db.engine == "mysql":
        return DatabaseMissing(_(
            "La base de datos {database} no existe en el servidor {where}. Revisa su nombre en la configuración."
        ).format(database=db.database, where=where(db)))
    if missing:
        return DatabaseMissing(_(
            "No se encontró la base de datos {path} en el servidor {where}. Revisa la ruta (es la ruta en el "
            "equipo del servidor) o el alias en la configuración.").format(path=db.path, where=where(db)))
    if exists:
        return DatabaseError(_(
            "Ya existe una base de datos con ese nombre en el servidor {where}; elige otro nombre.").format(
            where=where(db)))
    if denied:
        return DatabaseError(_(
            "El usuario {user} no tiene permiso para respaldar la base de datos {name}. Usa un usuario con todos "
            "los permisos de lectura sobre ella (por ejemplo {default}).").format(
            user=db.effective_user, name=db.label, default="root" if db.engine == "mysql" else "SYSDBA"))
    detail = _last_lines(text) or _("sin más detalles")
    if action == "restore":
        return DatabaseError(_("No se pudo restaurar la base de datos {name}: {detail}. Los detalles están en el "
                               "registro.").format(name=db.label, detail=detail))
    return DatabaseError(_("No se pudo respaldar la base de datos {name}: {detail}. Los detalles están en el "
                           "registro.").format(name=db.label, detail=detail))


def _run_raw(args: list[str], client: _Client, *, stdin_text: str | None = None,
             timeout: float = PROBE_TIMEOUT) -> subprocess.CompletedProcess:
    """Run a short client command and return what it did (its error output scrubbed of the password)."""
    try:
        with client.folder.launch() as extra:
            done = subprocess.run(args, check=False, input=stdin_text, capture_output=True, text=True,
                                  encoding="utf-8", errors="replace", timeout=timeout,
                                  stdin=None if stdin_text is not None else subprocess.DEVNULL, **extra)
    except subprocess.TimeoutExpired:
        raise ServerNotRunning(_(
            "El servidor {engine} en {where} no respondió a tiempo. Revisa que esté encendido y vuelve a "
            "intentar.").format(engine=ENGINE_NAMES[client.db.engine], where=where(client.db))) from None
    except OSError as exc:
        raise ClientNotFound(_("No se pudo ejecutar {tool}: {error}").format(
            tool=args[0], error=exc.strerror or exc)) from None
    done.stderr = client.scrub(done.stderr)
    return done


def _failed(args: list[str], client: _Client, done: subprocess.CompletedProcess) -> DatabaseError:
    logger.warning("%s failed for database %s (exit %s): %s", Path(args[0]).name, client.db.label,
                   done.returncode, done.stderr.strip()[-2000:])
    return _classify(client.db, done.stderr + "\n" + client.scrub(done.stdout))


def _run(args: list[str], client: _Client, *, stdin_text: str | None = None,
         timeout: float = PROBE_TIMEOUT) -> str:
    """Run a short client command; its output, or the classified error."""
    done = _run_raw(args, client, stdin_text=stdin_text, timeout=timeout)
    if done.returncode != 0 or (client.db.engine == "firebird" and "Statement failed" in done.stderr):
        raise _failed(args, client, done)
    return done.stdout


# -- testing a connection ---------------------------------------------------------------------------------

@dataclass
class ServerInfo:
    """What a connection test found: the server's version and how much the database takes there."""

    version: str = ""
    size: int | None = None  # bytes, when known
    dump_tool: Path | None = None
    # MySQL tables whose engine is not InnoDB, "clientes (MyISAM)": --single-transaction does not cover them
    inconsistent_tables: list[str] = field(default_factory=list)

    @property
    def warnings(self) -> list[str]:
        if not self.inconsistent_tables:
            return []
        shown = self.inconsistent_tables[:TABLES_NAMED]
        more = len(self.inconsistent_tables) - len(shown)
        names = ", ".join(shown)
        if more:
            names += " " + ngettext("y {n} más", "y {n} más", more).format(n=more)
        return [ngettext(
            "Aviso: la tabla {tables} no es InnoDB, así que su copia no es de un solo momento: si el punto de "
            "venta la cambia durante el respaldo, puede quedar desigual con las demás. Respalda con el punto de "
            "venta cerrado o pregunta a su proveedor si puede pasarla a InnoDB.",
            "Aviso: las tablas {tables} no son InnoDB, así que su copia no es de un solo momento: si el punto de "
            "venta las cambia durante el respaldo, pueden quedar desiguales con las demás. Respalda con el punto "
            "de venta cerrado o pregunta a su proveedor si puede pasarlas a InnoDB.",
            len(self.inconsistent_tables)).format(tables=names)]

    def summary(self, db: DatabaseSource) -> str:
        text = _("Conexión correcta con {engine} {version} en {where}.").format(
            engine=ENGINE_NAMES[db.engine], version=self.version, where=where(db)).replace("  ", " ")
        if self.size is not None:

            text += " " + _("La base de datos ocupa {size} en el servidor.").format(size=format_size(self.size))
        return "\n".join([text, *self.warnings])


def _mysql_client_major(tool: Path) -> tuple[str, int]:
    """("mysql" | "mariadb", major version) of a mysqldump, from its --version line."""
    try:
        out = subprocess.run([str(tool), "--version"], check=False, capture_output=True, text=True, timeout=30,
                             stdin=subprocess.DEVNULL, **_popen_flags()).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "mysql", 0
    if "mariadb" in out.lower():
        return "mariadb", 10
    m = re.search(r"Ver (\d+)\.", out)
    return "mysql", int(m.group(1)) if m else 0


def test_connection(db: DatabaseSource, password: str | None = None, *, use_keyring: bool = True) -> ServerInfo:
    """Connect as a backup would and read the server version and the database size.

    ``password`` None takes the one in the keyring (when ``use_keyring``). Raises the same plain-word
    errors a backup would: ClientNotFound, ServerNotRunning, WrongPassword, DatabaseMissing.
    """
    if password is None and use_keyring:
        password = get_password(db)
    dump_tool = find_tool(db, "dump")
    folder = _PrivateFolder()
    try:
        client = _Client(db, password, folder)
        try:
            query_tool = find_tool(db, "query")
        except ClientNotFound:
            query_tool = None
        if query_tool is None:
            return _probe_with_dump_tool(db, client, dump_tool)
        if db.engine == "mysql":
            sql = ("SELECT VERSION(), COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables "
                   "WHERE table_schema = DATABASE(); "
                   "SELECT CONCAT(table_name, ' (', engine, ')') FROM information_schema.tables "
                   "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' "
                   f"AND engine NOT IN ({', '.join(repr(e) for e in SNAPSHOT_ENGINES)}) ORDER BY table_name")
            out = _run([*client.mysql_common(query_tool), "--batch", "--skip-column-names",
                        f"--database={db.database}", "-e", sql], client)
            lines = out.strip().splitlines() or [""]
            fields = lines[0].split("\t")
            size = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
            others = [line.strip() for line in lines[1:] if line.strip()]
            if others:
                logger.warning("database %s has tables that --single-transaction does not cover: %s", db.label,
                               ", ".join(others))
            return ServerInfo(version=fields[0], size=size, dump_tool=dump_tool, inconsistent_tables=others)
        sql = ("SET LIST ON;\nSELECT MON$PAGE_SIZE * MON$PAGES AS TAMANO, "
               "RDB$GET_CONTEXT('SYSTEM', 'ENGINE_VERSION') AS VERSION FROM MON$DATABASE;\n")
        out = _run([str(query_tool), "-q", *client.firebird_auth(), client.firebird_target()], client,
                   stdin_text=sql)
        size_m = re.search(r"^TAMANO\s+(\d+)", out, re.MULTILINE)
        version_m = re.search(r"^VERSION\s+(\S+)", out, re.MULTILINE)
        return ServerInfo(version=version_m.group(1) if version_m else "",
                          size=int(size_m.group(1)) if size_m else None, dump_tool=dump_tool)
    finally:
        folder.cleanup()


def _probe_with_dump_tool(db: DatabaseSource, client: _Client, tool: Path) -> ServerInfo:
    """No mysql/isql next to the dump tool: a metadata-only dump proves the connection works."""
    if db.engine == "mysql":
        _run([*client.mysql_common(tool), "--no-data", "--skip-triggers", "--no-tablespaces", db.database], client)
    else:
        _run([str(tool), "-b", "-m", *client.firebird_auth(), client.firebird_target(), "stdout"], client)
    return ServerInfo(dump_tool=tool)


# -- dumping into the archive --------------------------------------------------------------------------------

@dataclass
class PreparedDump:
    """One database checked and ready to be dumped into ``archive_path``."""

    db: DatabaseSource
    archive_path: str
    info: ServerInfo
    password: str | None = field(default=None, repr=False)

    @property
    def size_hint(self) -> int:
        """For the ZIP writer's Zip64 decision: always Zip64 (20 bytes more). How big a dump will be is not
        known before it ends (the server's size is an estimate, hex blobs double it), and a member without a
        Zip64 header cannot grow past 4 GiB."""
        return ZIP64_LIMIT

    @property
    def expected_bytes(self) -> int:
        return self.info.size or 0

    def manifest_entry(self) -> dict[str, object]:
        db = self.db
        entry: dict[str, object] = {"path": self.archive_path, "name": db.label, "engine": db.engine,
                                    "host": db.host, "port": db.effective_port, "user": db.effective_user}
        if db.engine == "mysql":
            entry["database"] = db.database
        else:
            entry["file"] = db.path
        if self.info.version:
            entry["server_version"] = self.info.version
        return entry


def archive_folder(taken: set[str]) -> str:
    """The archive's top folder for dumps, distinct from the folders the source roots use."""
    name, n = ARCHIVE_FOLDER, 2
    lowered = {t.casefold() for t in taken}
    while name.casefold() in lowered:
        name = f"{ARCHIVE_FOLDER}_{n}"
        n += 1
    return name


def prepare_dumps(databases: list[DatabaseSource], taken: set[str]) -> list[PreparedDump]:
    """Test every database before anything is written: a stopped server fails the run right away."""
    folder = archive_folder(taken)
    prepared = []
    for db in databases:
        password = get_password(db)
        info = test_connection(db, password, use_keyring=False)
        prepared.append(PreparedDump(db, f"{folder}/{db.label}{SUFFIXES[db.engine]}", info, password))
    return prepared


class DumpProcess:
    """mysqldump or gbak writing a dump to its standard output; ``finish`` says whether it completed."""

    def __init__(self, db: DatabaseSource, password: str | None, tool: Path | None = None):
        self.db = db
        self.folder = _PrivateFolder()
        self.client = _Client(db, password, folder=self.folder)
        self._tail = b""
        self._done = threading.Event()
        self.log = self.folder.path / "gbak.log"
        self.errors = self.folder.path / "errores.txt"
        try:
            tool = tool or find_tool(db, "dump")
            if db.engine == "mysql":
                args = [*self.client.mysql_common(tool), "--single-transaction", "--routines", "--triggers",
                        "--events", "--hex-blob", "--no-tablespaces"]
                flavour, major = _mysql_client_major(tool)
                if flavour == "mysql" and major >= 8:
                    args.append("--column-statistics=0")  # MySQL 8's mysqldump against MariaDB or 5.7 servers
                args.append(db.database)
            else:
                args = [str(tool), "-b", "-g", *self.client.firebird_auth(), "-v", "-y", str(self.log),
                        self.client.firebird_target(), "stdout"]
            self.tool_name = Path(args[0]).name
            with open(self.errors, "wb") as err, self.folder.launch() as extra:
                self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=err, stdin=subprocess.DEVNULL,
                                             **extra)
        except BaseException:
            self.folder.cleanup()
            raise
        logger.info("dumping database %s with %s", db.label, self.tool_name)

    def chunks(self, cancel: threading.Event | None = None) -> Iterator[bytes]:
        """The dump, in pieces of up to 1 MiB. A set ``cancel`` kills the tool (the read then ends)."""
        if cancel is not None:
            threading.Thread(target=self._kill_on_cancel, args=(cancel,), daemon=True).start()
        assert self.proc.stdout is not None
        while True:
            chunk = self.proc.stdout.read(CHUNK_SIZE)
            if not chunk:
                return
            self._tail = (self._tail + chunk[-256:])[-256:]
            yield chunk

    def _kill_on_cancel(self, cancel: threading.Event) -> None:
        while not self._done.wait(0.2):
            if cancel.is_set():
                self._kill()
                return

    def _kill(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except OSError:
                pass

    def finish(self) -> None:
        """Wait for the tool; raise unless it exited 0 and said the dump completed."""
        rc = self.proc.wait()
        self._done.set()
        errors = self.client.scrub(self._read(self.errors))
        log = self.client.scrub(self._read(self.log))
        if rc != 0:
            logger.warning("%s failed for database %s (exit %s): %s", self.tool_name, self.db.label, rc,
                           (errors + log).strip()[-2000:])
            if rc < 0 or not (errors + log).strip():  # killed, or ended without a word
                raise self._incomplete()
            raise _classify(self.db, errors + "\n" + log)
        if self.db.engine == "mysql":
            completed = MYSQL_TRAILER in self._tail
        else:
            completed = GBAK_BACKUP_DONE in log
        if not completed:
            logger.warning("%s ended without completing the dump of %s: %s", self.tool_name, self.db.label,
                           (errors + log).strip()[-2000:])
            raise self._incomplete()
        if errors.strip():
            logger.info("%s for %s said: %s", self.tool_name, self.db.label, errors.strip()[-1000:])

    def _incomplete(self) -> DumpIncomplete:
        return DumpIncomplete(_(
            "La copia de la base de datos {name} quedó incompleta: {tool} terminó sin completarla. Vuelve a "
            "intentar; si se repite, revisa el registro.").format(name=self.db.label, tool=self.tool_name))

    @staticmethod
    def _read(path: Path) -> str:
        try:
            return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        self._done.set()
        self._kill()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            logger.warning("%s did not end after being killed", self.tool_name)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.folder.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def write_dump(writer: ZipWriter, prepared: PreparedDump, *, cancel: threading.Event | None = None,
               progress: Callable[[int], None] | None = None) -> ManifestFile:
    """Stream one database's dump into ``writer`` as a member; the manifest entry once it completed.

    On any failure the half-written member is cut off again, so the archive never holds a partial dump.
    """
    started = time.time()
    with DumpProcess(prepared.db, prepared.password, prepared.info.dump_tool) as dump:
        writer.begin(prepared.archive_path, started, prepared.size_hint)
        try:
            for chunk in dump.chunks(cancel):
                writer.write(chunk)
                if progress is not None:
                    progress(len(chunk))
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            dump.finish()
            entry = writer.end()
        except BaseException:
            if writer.in_member:
                writer.discard()
            raise
    logger.info("database %s dumped: %d bytes", prepared.db.label, entry.size)
    return ManifestFile(path=prepared.archive_path, size=entry.size,
                        mtime=datetime.fromtimestamp(started).astimezone().isoformat(timespec="seconds"),
                        sha256=entry.sha256, kind=KINDS[prepared.db.engine])


def dump_to_file(db: DatabaseSource, target: Path, *, password: str | None = None,
                 cancel: threading.Event | None = None) -> Path:
    """A complete dump in a plain file (the safety dump before replacing a database). Checked like a backup."""
    if password is None:
        password = get_password(db)
    tmp = target.with_name(f".{target.name}.part")
    try:
        with DumpProcess(db, password) as dump, open(tmp, "xb") as out:
            out.writelines(dump.chunks(cancel))
            if cancel is not None and cancel.is_set():
                raise Cancelled()
            dump.finish()
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


# -- restoring ---------------------------------------------------------------------------------------------

@dataclass
class RestoredDatabase:
    engine: str
    target: str  # the new database's name (MySQL) or file path on the server (Firebird)
    replaced: bool
    safety_dump: Path | None
    message: str


def default_restore_target(db: DatabaseSource, when: datetime | None = None) -> str:
    """A new name beside the original: ``tienda_restaurada_20261128_1730`` or ``.../TIENDA_restaurada_....fdb``."""
    stamp = (when or datetime.now()).strftime("%Y%m%d_%H%M")
    if db.engine == "mysql":
        return f"{db.database[:40]}_restaurada_{stamp}"
    pure = PureWindowsPath(db.path) if ("\\" in db.path or re.match(r"^[A-Za-z]:", db.path)) \
        else PurePosixPath(db.path)
    if len(pure.parts) < 2:
        raise DatabaseError(_(
            "La base de datos {name} está configurada con un alias ({path}); indica la ruta completa del archivo "
            "nuevo en el servidor.").format(name=db.label, path=db.path))
    return str(pure.with_name(f"{pure.stem}_restaurada_{stamp}{pure.suffix or '.fdb'}"))


def restore_command(archive: Path | str | None, name: str, config_path: Path | str | None = None, *,
                    from_cloud: str | None = None) -> str:
    """The command that loads a dump from a backup: ``respaldos db restore "ARCHIVO" NOMBRE``, or, for a backup
    whose only copy is in the cloud (``from_cloud``: its name there; ``archive`` is then not used),
    ``respaldos db restore --from-cloud RESPALDO NOMBRE``; with ``--config`` when the config is not the
    default one."""
    quoted = f'"{name}"' if " " in name else name
    source = f"--from-cloud {from_cloud}" if from_cloud else f'"{archive}"'
    command = f"respaldos db restore {source} {quoted}"
    if config_path is not None and Path(config_path) != default_config_path():
        command += f' --config "{config_path}"'
    return command


def restore_target(db: DatabaseSource, target: str | None = None, *, replace: bool = False) -> str:
    """Where a restore loads the dump: the original database (``replace``), else ``target`` or a new name beside
    the original. Naming the original without ``replace`` is refused."""
    original = db.server_database
    if replace:
        return original
    target = target or default_restore_target(db)
    if target.strip().casefold() == original.strip().casefold():
        raise DatabaseError(_(
            "Para restaurar encima de la base de datos original usa la opción de reemplazarla (con el punto "
            "de venta cerrado); si no, elige otro nombre."))
    return target


def find_dump(archive: Path, db: DatabaseSource) -> ManifestFile:
    """The dump of ``db`` inside ``archive`` (matched by its name and engine)."""
    manifest = read_manifest(Path(archive))
    member = None
    for entry in manifest.databases:
        if str(entry.get("name", "")).casefold() == db.label.casefold() and entry.get("engine") == db.engine:
            member = str(entry.get("path", ""))
    for mf in manifest.files:
        if mf.kind == KINDS[db.engine] and (mf.path == member or member is None and
                                            PurePosixPath(mf.path).stem.casefold() == db.label.casefold()):
            return mf
    raise DatabaseError(_("El respaldo {archive} no tiene una copia de la base de datos {name}.").format(
        archive=Path(archive).name, name=db.label))


def _others_connected(db: DatabaseSource, client: _Client) -> tuple[int | None, str]:
    """How many other connections use the database (the POS still open): (count, "") or, when that cannot
    be known, (None, the sentence saying why and what to do).

    Unknown when the query tool is missing, or when the user sees only its own sessions: a MySQL user
    without the PROCESS privilege, a Firebird user other than SYSDBA, the owner or an RDB$ADMIN. Other
    connections seen even so are counted (the POS uses the same user).
    """
    try:
        tool = find_tool(db, "query")
    except ClientNotFound:
        logger.info("no query tool for %s: other connections cannot be counted", db.label)
        return None, _(
            "No se pudo comprobar si el punto de venta sigue conectado a la base de datos {name}: no se encontró "
            "el programa {tool} para preguntárselo al servidor. Instala las herramientas de cliente de {engine} "
            "(o indica su carpeta en client de la configuración) y vuelve a intentar, o restáurala como base de "
            "datos nueva (sin --replace): la original no se toca.").format(
            name=db.label, tool="isql" if db.engine == "firebird" else "mysql", engine=ENGINE_NAMES[db.engine])
    if db.engine == "mysql":
        # INNODB_TRX needs the PROCESS privilege, as seeing other users' rows of PROCESSLIST does.
        sql = ("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID(); "
               "SELECT COUNT(*) FROM information_schema.INNODB_TRX")
        args = [*client.mysql_common(tool), "--batch", "--skip-column-names", f"--database={db.database}", "-e", sql]
        done = _run_raw(args, client)
        lines = done.stdout.split()
        count = int(lines[0]) if lines and lines[0].isdigit() else None
        sees_all = done.returncode == 0 and len(lines) == 2
        if done.returncode != 0 and not ("1227" in done.stderr and "PROCESS" in done.stderr and count is not None):
            raise _failed(args, client, done)
        admin = _("root, o uno con el permiso PROCESS")
    else:
        args = [str(tool), "-q", *client.firebird_auth(), client.firebird_target()]
        # Monitoring tables show other users' attachments to SYSDBA, the owner and RDB$ADMIN only (Firebird 3);
        # Firebird 4 adds the MONITOR_ANY_ATTACHMENT privilege (an unknown name on 3: that statement fails).
        done = _run_raw(args, client, stdin_text=(
            "SET LIST ON;\n"
            "SELECT COUNT(*) AS OTRAS FROM MON$ATTACHMENTS "
            "WHERE MON$ATTACHMENT_ID <> CURRENT_CONNECTION AND MON$SYSTEM_FLAG = 0;\n"
            "SELECT IIF(CURRENT_USER = 'SYSDBA' OR CURRENT_ROLE = 'RDB$ADMIN' OR CURRENT_USER = (SELECT "
            "TRIM(RDB$OWNER_NAME) FROM RDB$RELATIONS WHERE RDB$RELATION_NAME = 'RDB$DATABASE'), 1, 0) AS VE_TODAS "
            "FROM RDB$DATABASE;\n"
            "SELECT IIF(RDB$SYSTEM_PRIVILEGE(MONITOR_ANY_ATTACHMENT), 1, 0) AS PRIVILEGIO FROM RDB$DATABASE;\n"))
        found = re.search(r"^OTRAS\s+(\d+)", done.stdout, re.MULTILINE)
        if found is None:
            raise _failed(args, client, done)
        count = int(found.group(1))
        sees_all = bool(re.search(r"^(VE_TODAS|PRIVILEGIO)\s+1\b", done.stdout, re.MULTILINE))
        admin = _("SYSDBA o el dueño de la base de datos")
    if count or sees_all:
        return count, ""
    logger.info("user %s cannot see other users' connections to %s", db.effective_user, db.label)
    return None, _(
        "No se pudo comprobar si el punto de venta sigue conectado a la base de datos {name}: el usuario {user} "
        "solo puede ver sus propias conexiones. Para reemplazarla, pon en user de la configuración un usuario "
        "que las vea todas ({admin}) y guarda su contraseña con: respaldos db password {name}. O restáurala como "
        "base de datos nueva (sin --replace): la original no se toca.").format(
        name=db.label, user=db.effective_user, admin=admin)


def restore_dump(archive: Path, db: DatabaseSource, *, target: str | None = None, replace: bool = False,
                 safety_folder: Path | None = None, password: str | None = None,
                 cancel: threading.Event | None = None, progress: Callable[[int], None] | None = None
                 ) -> RestoredDatabase:
    """Load the dump of ``db`` from ``archive`` into a new database (default name beside the original).

    ``replace`` loads it over the original instead: only with no other connection open (the POS closed)
    and after a safety dump of the current data into ``safety_folder``. The dump's sha256 is checked
    while it streams; a new database left half-made by a failure is dropped again (MySQL).
    """
    archive = Path(archive)
    if password is None:
        password = get_password(db)
    mf = find_dump(archive, db)
    target = restore_target(db, target, replace=replace)
    tool = find_tool(db, "restore")
    folder = _PrivateFolder()
    safety: Path | None = None
    try:
        client = _Client(db, password, folder)
        if replace:
            if safety_folder is None:
                raise ValueError("replacing a database needs a safety_folder")
            _check_closed(db, client)
            stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
            safety = Path(safety_folder) / f"{db.label}_antes_de_restaurar_{stamp}{SUFFIXES[db.engine]}"
            dump_to_file(db, safety, password=password, cancel=cancel)
            logger.info("safety dump of %s before replacing it: %s", db.label, safety)
            _check_closed(db, client)  # the POS may have been opened while the safety dump ran
        if db.engine == "mysql":
            if not replace:
                _run([*client.mysql_common(tool), "--batch", "-e", f"CREATE DATABASE {_quote_ident(target)}"], client)
            args = [*client.mysql_common(tool), "--batch", f"--database={target}"]
        else:
            # Through the server's service manager when there is a server: the server writes the pages
            # itself (a plain remote restore sends every row over the network, ~20 times slower).
            where_to = ["-se", f"{db.host}/{db.effective_port}:service_mgr", target] if db.host.strip() \
                else [target]
            args = [str(tool), "-rep" if replace else "-c", *client.firebird_auth(), "-v", "-y",
                    str(folder.path / "gbak.log"), *where_to[:-1], "stdin", where_to[-1]]
        try:
            _feed(archive, mf, args, client, folder, cancel, progress)
        except BaseException:
            if db.engine == "mysql" and not replace:
                _drop_quietly(client, tool, target)
            raise
    finally:
        folder.cleanup()
    if replace:
        message = _("Se restauró la base de datos {name} encima de la original. La copia de seguridad de lo que "
                    "tenía está en {safety}.").format(name=db.label, safety=safety)
    else:
        message = _("Se restauró la base de datos {name} como {target} en el servidor {where}. La original no se "
                    "tocó.").format(name=db.label, target=target, where=where(db))
    logger.info("restored %s from %s into %s", db.label, archive.name, target)
    return RestoredDatabase(db.engine, target, replace, safety, message)


def _check_closed(db: DatabaseSource, client: _Client) -> None:
    """Raise unless it is known that no other connection uses the database."""
    others, unknown = _others_connected(db, client)
    if others is None:
        raise ConnectionsUnknown(unknown)
    if others:
        raise DatabaseInUse(_in_use_message(others, db))


def _in_use_message(count: int, db: DatabaseSource) -> str:
    return ngettext(
        "Hay {n} conexión abierta a la base de datos {name}. Cierra el punto de venta en todas las cajas y "
        "vuelve a intentar.",
        "Hay {n} conexiones abiertas a la base de datos {name}. Cierra el punto de venta en todas las cajas y "
        "vuelve a intentar.", count).format(n=count, name=db.label)


def _quote_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _drop_quietly(client: _Client, tool: Path, target: str) -> None:
    try:
        _run([*client.mysql_common(tool), "--batch", "-e", f"DROP DATABASE IF EXISTS {_quote_ident(target)}"], client)
    except DatabaseError as exc:
        logger.warning("could not drop the half-restored database %s: %s", target, exc)


def _feed(archive: Path, mf: ManifestFile, args: list[str], client: _Client, folder: _PrivateFolder,
          cancel: threading.Event | None, progress: Callable[[int], None] | None) -> None:
    """Stream the member into the restore tool's standard input, checking its sha256 and CRC."""
    errors = folder.path / "errores.txt"
    log = folder.path / "gbak.log"
    with open(errors, "wb") as err, folder.launch() as extra:
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err, **extra)
    sha = hashlib.sha256()
    crc = size = 0
    broken = False
    try:
        assert proc.stdin is not None
        with open_zip(archive) as zf, open(archive, "rb") as fp:
            info = zf.getinfo(mf.path)
            try:
                for chunk in iter_member(fp, info):
                    if cancel is not None and cancel.is_set():
                        raise Cancelled()
                    sha.update(chunk)
                    crc = zlib.crc32(chunk, crc)
                    size += len(chunk)
                    if not broken:
                        try:
                            proc.stdin.write(chunk)
                        except (BrokenPipeError, OSError):
                            broken = True  # the tool stopped: its error output says why
                    if progress is not None:
                        progress(len(chunk))
            except (zlib.error, EOFError, OSError) as exc:
                logger.info("member %s of %s unreadable: %s", mf.path, archive, exc)
                raise ArchiveDamaged(_("El respaldo {archive} está dañado: {member} no se puede descomprimir. "
                                       "Usa otro respaldo.").format(archive=archive.name, member=mf.path),
                                     member=mf.path) from None
            if sha.hexdigest() != mf.sha256 or crc != info.CRC or size != mf.size:
                raise ArchiveDamaged(_("El respaldo {archive} está dañado: {member} no coincide con su suma SHA-256. "
                                       "Usa otro respaldo.").format(archive=archive.name, member=mf.path),
                                     member=mf.path)
        try:
            proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        rc = proc.wait()
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    text = client.scrub(DumpProcess._read(errors) + "\n" + DumpProcess._read(log))
    if rc != 0 or (client.db.engine == "firebird" and GBAK_RESTORE_DONE not in text):
        logger.warning("restore of %s failed (exit %s): %s", client.db.label, rc, text.strip()[-2000:])
        raise _classify(client.db, text, action="restore")
