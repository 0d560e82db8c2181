"""Dumping a server database straight into the archive (or, before a replace, into a plain file).

The tool's standard output streams into the ZIP writer, which hashes it on the way (no temporary copy);
the dump counts only when the tool exited 0 and said it completed, else the half-written member is cut
off again. docs/design.md, "Server databases".
"""

from __future__ import annotations

import logging
import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Self

from wizard.core.archive import CHUNK_SIZE, ZIP64_LIMIT, ManifestFile, ZipWriter
from wizard.core.config import DatabaseSource
from wizard.core.errors import Cancelled
from wizard.core.servers.connection import ServerInfo, test_connection
from wizard.core.servers.credentials import Login, PrivateFolder, get_password
from wizard.core.servers.errors import DumpIncomplete
from wizard.core.servers.registry import engine_of
from wizard.core.servers.tools import find_tool
from wizard.i18n import _

logger = logging.getLogger(__name__)

ARCHIVE_FOLDER = "bases_de_datos"
LOG = "gbak.log"  # the tool's log (gbak -y), in its private folder
ERRORS = "errores.txt"  # the tool's error output, in its private folder


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
        entry.update(engine_of(db).manifest_fields(db))
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
        prepared.append(PreparedDump(db, f"{folder}/{db.label}{engine_of(db).suffix}", info, password))
    return prepared


class DumpProcess:
    """mysqldump or gbak writing a dump to its standard output; ``finish`` says whether it completed."""

    def __init__(self, db: DatabaseSource, password: str | None, tool: Path | None = None):
        self.db = db
        self.engine = engine_of(db)
        self.folder = PrivateFolder()
        self.login = Login(db, password, folder=self.folder)
        self._tail = b""
        self._done = threading.Event()
        try:
            tool = tool or find_tool(db, "dump")
            args = self.engine.dump_command(self.login, tool, self.folder.path / LOG)
            self.tool_name = Path(args[0]).name
            with open(self.folder.path / ERRORS, "wb") as err, self.folder.launch() as extra:
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
        errors = self.login.scrub(self.folder.read(ERRORS))
        log = self.login.scrub(self.folder.read(LOG))
        if rc != 0:
            logger.warning("%s failed for database %s (exit %s): %s", self.tool_name, self.db.label, rc,
                           (errors + log).strip()[-2000:])
            if rc < 0 or not (errors + log).strip():  # killed, or ended without a word
                raise self._incomplete()
            raise self.engine.classify(self.db, errors + "\n" + log)
        if not self.engine.dump_completed(self._tail, log):
            logger.warning("%s ended without completing the dump of %s: %s", self.tool_name, self.db.label,
                           (errors + log).strip()[-2000:])
            raise self._incomplete()
        if errors.strip():
            logger.info("%s for %s said: %s", self.tool_name, self.db.label, errors.strip()[-1000:])

    def _incomplete(self) -> DumpIncomplete:
        return DumpIncomplete(_(
            "La copia de la base de datos {name} quedó incompleta: {tool} terminó sin completarla. Vuelve a "
            "intentar; si se repite, revisa el registro.").format(name=self.db.label, tool=self.tool_name))

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
                        sha256=entry.sha256, kind=engine_of(prepared.db).kind, chunks=list(entry.chunks))


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
