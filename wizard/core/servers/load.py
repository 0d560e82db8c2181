"""Loading a dump from a backup back into its server: into a new database beside the original by default,
or over the original (``replace``) only with the POS closed and after a safety dump of what it holds.
docs/design.md, "Server databases".
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from wizard.core.archive import ManifestFile, crc_matches, iter_member, open_zip, read_manifest
from wizard.core.config import DatabaseSource
from wizard.core.errors import ArchiveDamaged, Cancelled
from wizard.core.paths import default_config_path
from wizard.core.servers import errors
from wizard.core.servers.credentials import Login, PrivateFolder, get_password
from wizard.core.servers.dump import ERRORS, LOG, dump_to_file
from wizard.core.servers.engine import Engine
from wizard.core.servers.registry import engine_of
from wizard.core.servers.tools import find_tool
from wizard.i18n import _

logger = logging.getLogger(__name__)


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
    return engine_of(db).default_restore_target(db, stamp)


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
        raise errors.DatabaseError(_(
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
    kind = engine_of(db).kind
    for mf in manifest.files:
        if mf.kind == kind and (mf.path == member or member is None and
                                PurePosixPath(mf.path).stem.casefold() == db.label.casefold()):
            return mf
    raise errors.DatabaseError(_("El respaldo {archive} no tiene una copia de la base de datos {name}.").format(
        archive=Path(archive).name, name=db.label))


def others_connected(engine: Engine, login: Login) -> tuple[int | None, str]:
    """How many other connections use the database (the POS still open): (count, "") or, when that cannot
    be known, (None, the sentence saying why and what to do).

    Unknown when the query tool is missing, or when the user sees only its own sessions: a MySQL user
    without the PROCESS privilege, a Firebird user other than SYSDBA, the owner or an RDB$ADMIN. Other
    connections seen even so are counted (the POS uses the same user).
    """
    db = login.db
    try:
        tool = find_tool(db, "query")
    except errors.ClientNotFound:
        logger.info("no query tool for %s: other connections cannot be counted", db.label)
        return None, _(
            "No se pudo comprobar si el punto de venta sigue conectado a la base de datos {name}: no se encontró "
            "el programa {tool} para preguntárselo al servidor. Instala las herramientas de cliente de {engine} "
            "(o indica su carpeta en client de la configuración) y vuelve a intentar, o restáurala como base de "
            "datos nueva (sin --replace): la original no se toca.").format(
            name=db.label, tool=engine.query_tool_word, engine=engine.display_name)
    count, sees_all = engine.count_other_connections(login, tool)
    if count or sees_all:
        return count, ""
    logger.info("user %s cannot see other users' connections to %s", db.effective_user, db.label)
    return None, _(
        "No se pudo comprobar si el punto de venta sigue conectado a la base de datos {name}: el usuario {user} "
        "solo puede ver sus propias conexiones. Para reemplazarla, pon en user de la configuración un usuario "
        "que las vea todas ({admin}) y guarda su contraseña con: respaldos db password {name}. O restáurala como "
        "base de datos nueva (sin --replace): la original no se toca.").format(
        name=db.label, user=db.effective_user, admin=engine.admin_hint())


def check_closed(engine: Engine, login: Login) -> None:
    """Raise unless it is known that no other connection uses the database."""
    others, unknown = others_connected(engine, login)
    if others is None:
        raise errors.ConnectionsUnknown(unknown)
    if others:
        raise errors.in_use(others, login.db)


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
    engine = engine_of(db)
    if password is None:
        password = get_password(db)
    mf = find_dump(archive, db)
    target = restore_target(db, target, replace=replace)
    tool = find_tool(db, "restore")
    folder = PrivateFolder()
    safety: Path | None = None
    try:
        login = Login(db, password, folder)
        if replace:
            if safety_folder is None:
                raise ValueError("replacing a database needs a safety_folder")
            check_closed(engine, login)
            stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
            safety = Path(safety_folder) / f"{db.label}_antes_de_restaurar_{stamp}{engine.suffix}"
            dump_to_file(db, safety, password=password, cancel=cancel)
            logger.info("safety dump of %s before replacing it: %s", db.label, safety)
            check_closed(engine, login)  # the POS may have been opened while the safety dump ran
        else:
            engine.create_target(login, tool, target)
        args = engine.load_command(login, tool, target, replace, folder.path / LOG)
        try:
            feed(archive, mf, args, engine, login, cancel, progress)
        except BaseException:
            if not replace:
                engine.remove_failed_target(login, tool, target)
            raise
    finally:
        folder.cleanup()
    if replace:
        message = _("Se restauró la base de datos {name} encima de la original. La copia de seguridad de lo que "
                    "tenía está en {safety}.").format(name=db.label, safety=safety)
    else:
        message = _("Se restauró la base de datos {name} como {target} en el servidor {where}. La original no se "
                    "tocó.").format(name=db.label, target=target, where=errors.where(db))
    logger.info("restored %s from %s into %s", db.label, archive.name, target)
    return RestoredDatabase(db.engine, target, replace, safety, message)


def feed(archive: Path, mf: ManifestFile, args: list[str], engine: Engine, login: Login,
         cancel: threading.Event | None, progress: Callable[[int], None] | None) -> None:
    """Stream the member into the restore tool's standard input, checking its sha256 and CRC."""
    folder = login.folder
    with open(folder.path / ERRORS, "wb") as err, folder.launch() as extra:
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
            if sha.hexdigest() != mf.sha256 or not crc_matches(info, crc) or size != mf.size:
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
    text = login.scrub(folder.read(ERRORS) + "\n" + folder.read(LOG))
    if rc != 0 or not engine.load_completed(text):
        logger.warning("restore of %s failed (exit %s): %s", login.db.label, rc, text.strip()[-2000:])
        raise engine.classify(login.db, text, action="restore")
