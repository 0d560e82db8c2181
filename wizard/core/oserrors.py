"""Plain words for what the operating system refused or lost during a backup, a restore, an upload or a
download: the one table from an OSError (its errno, or on Windows its winerror) to a sentence that names
the path and says what to do. What it does not know stays an unexpected error, logged with its traceback.

``plain_os_error(exc, path, action)`` gives the sentence (an ``EnvironmentProblem``, a UserError) or None;
``plain_errors(path, action)`` is the same around a block of code. ``action`` says what was being done
(writing a backup, reading a source, ...), which picks the verb and the advice. docs/troubleshooting.md
lists the sentences and how each is tested.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from wizard.core.errors import UserError
from wizard.i18n import _

logger = logging.getLogger(__name__)

# What was being done when the error came.
BACKUP = "backup"  # writing a backup into its destination folder
SOURCE = "source"  # reading what is backed up
RESTORE = "restore"  # writing restored files
ARCHIVE = "archive"  # reading a backup (to restore or upload it)
DOWNLOAD = "download"  # writing a copy downloaded from the cloud
ACTIONS = (BACKUP, SOURCE, RESTORE, ARCHIVE, DOWNLOAD)
WRITING = (BACKUP, RESTORE, DOWNLOAD)

# The kinds of failure, each with its own sentence.
PERMISSION = "permission"
READ_ONLY = "read_only"
DAMAGED = "damaged"
GONE = "gone"
NAME_TOO_LONG = "name_too_long"
TOO_MANY_FILES = "too_many_files"
FULL = "full"
IN_USE = "in_use"


def _errnos(*names: str) -> set[int]:
    return {getattr(errno, name) for name in names if hasattr(errno, name)}


KINDS: dict[int, str] = {
    **dict.fromkeys(_errnos("EACCES", "EPERM"), PERMISSION),
    **dict.fromkeys(_errnos("EROFS"), READ_ONLY),
    **dict.fromkeys(_errnos("EIO"), DAMAGED),
    # A USB disk unplugged, a network folder whose server or connection went away.
    **dict.fromkeys(_errnos("ENOENT", "ESTALE", "EHOSTDOWN", "EHOSTUNREACH", "ENETDOWN", "ENETUNREACH",
                            "ENOTCONN", "ENODEV", "ENXIO", "ENOMEDIUM"), GONE),
    **dict.fromkeys(_errnos("ENAMETOOLONG"), NAME_TOO_LONG),
    **dict.fromkeys(_errnos("EMFILE", "ENFILE"), TOO_MANY_FILES),
    **dict.fromkeys(_errnos("ENOSPC", "EDQUOT", "EFBIG"), FULL),
}
# Windows error codes Python folds into a less precise errno (a write-protected disk is EACCES there).
WINERRORS: dict[int, str] = {
    19: READ_ONLY,  # ERROR_WRITE_PROTECT
    21: GONE,  # ERROR_NOT_READY: the memory was pulled out
    23: DAMAGED,  # ERROR_CRC
    1117: DAMAGED,  # ERROR_IO_DEVICE
    59: GONE,  # ERROR_UNEXP_NET_ERR
    64: GONE,  # ERROR_NETNAME_DELETED
    32: IN_USE,  # ERROR_SHARING_VIOLATION: another program (an antivirus, the POS) has it open
    33: IN_USE,  # ERROR_LOCK_VIOLATION
    206: NAME_TOO_LONG,  # ERROR_FILENAME_EXCED_RANGE
    4: TOO_MANY_FILES,  # ERROR_TOO_MANY_OPEN_FILES
    39: FULL,  # ERROR_HANDLE_DISK_FULL
    112: FULL,  # ERROR_DISK_FULL
}
# Errors that only say "not there": they mean the folder went away only when it did (see _went_away).
_NOT_THERE = _errnos("ENOENT", "EHOSTDOWN", "EHOSTUNREACH", "ENETDOWN", "ENETUNREACH", "ENOTCONN", "ENXIO")


class EnvironmentProblem(UserError):
    """A file or folder the operating system refused or lost, in plain words. ``kind`` is one of the kinds
    above, ``action`` what was being done, ``path`` what the sentence names, ``errno`` the original number."""

    def __init__(self, message: str, kind: str, action: str, path: Path, error: OSError):
        super().__init__(message)
        self.kind = kind
        self.action = action
        self.path = path
        self.errno = error.errno


def kind_of(exc: BaseException) -> str | None:
    """Which kind of failure an OSError is, or None when it is not one of ours."""
    if not isinstance(exc, OSError):
        return None
    winerror = getattr(exc, "winerror", None)
    if winerror in WINERRORS:
        return WINERRORS[winerror]
    return KINDS.get(exc.errno) if exc.errno is not None else None


def plain_os_error(exc: BaseException, path: str | os.PathLike[str], action: str) -> EnvironmentProblem | None:
    """The sentence for ``exc``, raised while doing ``action`` on ``path`` (the folder written to, or the
    file read), or None when ``exc`` is no failure of the disk or the folder. The details (errno, the file,
    the traceback) go to the log."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    kind = kind_of(exc)
    if kind is None:
        return None
    assert isinstance(exc, OSError)
    path = Path(path)
    folder = path if action in WRITING else path.parent
    if kind == GONE and not _went_away(exc, folder, action):
        return None  # e.g. a source file the POS deleted since the scan, or a network error of the cloud
    if kind == PERMISSION and _replacing_a_file_held_open(exc):
        kind = IN_USE
    # A rename names its destination (the file in place, not our temporary one beside it).
    named = Path(os.fsdecode(exc.filename2 or exc.filename)) if exc.filename else path
    # Writes name the folder ("No se puede escribir en E:\Respaldos"), reads and a file in use the file; a
    # lost folder itself.
    where = folder if kind == GONE else named if kind == IN_USE or action not in WRITING else path
    message = _sentence(kind, action, where)
    logger.warning("%s while %s %s: [%s] %s", kind, action, path, errno.errorcode.get(exc.errno or 0, exc.errno),
                   exc, exc_info=exc)
    return EnvironmentProblem(message, kind, action, where, exc)


@contextmanager
def plain_errors(path: str | os.PathLike[str], action: str) -> Iterator[None]:
    """Within the block, an OSError that ``plain_os_error`` knows becomes its EnvironmentProblem."""
    try:
        yield
    except OSError as exc:
        problem = plain_os_error(exc, path, action)
        if problem is None:
            raise
        raise problem from exc


class PlainReader:
    """A file open for reading whose ``read`` and ``seek`` failures come as ``plain_os_error``'s sentences,
    for code that reads it and writes elsewhere in turn (the writes' failures belong to another action)."""

    def __init__(self, fp: BinaryIO, path: str | os.PathLike[str], action: str = ARCHIVE):
        self.fp, self.path, self.action = fp, path, action

    def read(self, size: int = -1) -> bytes:
        with plain_errors(self.path, self.action):
            return self.fp.read(size)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        with plain_errors(self.path, self.action):
            return self.fp.seek(offset, whence)

    def tell(self) -> int:
        return self.fp.tell()


def _replacing_a_file_held_open(exc: OSError) -> bool:
    """Windows refuses to replace a file another program has open with "access denied", as if it were a
    permission problem; but the file being moved in was just written beside it, so the folder is writable:
    the file in place is held open (or marked read-only)."""
    if getattr(exc, "winerror", None) != 5 or not exc.filename or not getattr(exc, "filename2", None):
        return False
    moved, target = os.fsdecode(exc.filename), os.fsdecode(exc.filename2)
    return os.path.dirname(moved) == os.path.dirname(target) and os.path.isfile(moved)


def _went_away(exc: OSError, path: Path, action: str) -> bool:
    """Whether "not there" means the folder ``path`` itself went away (unplugged, unmounted, its server
    gone): it cannot be reached any more, or a file this run made in it vanished (the folder is another one
    now)."""
    if getattr(exc, "winerror", None) in WINERRORS or exc.errno not in _NOT_THERE:
        return True  # ESTALE, ENODEV, ENOMEDIUM, ERROR_NOT_READY...: only ever a disk or a share
    try:
        with os.scandir(path):  # opening asks the disk or the server (a stat may come from a cache)
            pass
    except PermissionError:
        pass  # there, only not listable by this user
    except OSError:
        return True
    if exc.errno != errno.ENOENT or action not in WRITING or not exc.filename:
        return False
    try:
        inside = os.path.commonpath([os.path.abspath(os.fsdecode(exc.filename)), os.path.abspath(path)])
    except ValueError:  # another drive
        return False
    return inside == os.path.abspath(path)


def _elsewhere(action: str) -> str:
    """Where else to write, in the words of what was being done."""
    return {
        BACKUP: _("elige otra carpeta de destino"),
        RESTORE: _("restaura en otra carpeta"),
    }.get(action, _("pide ayuda a quien administra la computadora"))


def _sentence(kind: str, action: str, where: Path) -> str:
    writing = action in WRITING
    if kind == PERMISSION:
        if writing:
            return _("No se puede escribir en {path}: este usuario de la computadora no tiene permiso para "
                     "guardar ahí. Pide a quien administra la computadora que te dé permiso en esa carpeta, o "
                     "{elsewhere}.").format(path=where, elsewhere=_elsewhere(action))
        return _("No se puede leer {path}: este usuario de la computadora no tiene permiso para abrirlo. Pide a "
                 "quien administra la computadora que te dé permiso de lectura.").format(path=where)
    if kind == READ_ONLY:
        return _("No se puede escribir en {path}: es de solo lectura, como una memoria USB con la protección "
                 "contra escritura puesta. Quita la protección (el interruptor en el costado de la memoria) o "
                 "{elsewhere}.").format(path=where, elsewhere=_elsewhere(action))
    if kind == DAMAGED:
        if writing:
            return _("No se pudo escribir en {path}: el disco o la memoria podría estar dañado (error de "
                     "entrada/salida). Revisa ese disco con la comprobación de errores y, mientras tanto, "
                     "{elsewhere}.").format(path=where, elsewhere=_elsewhere(action))
        text = _("No se pudo leer {path}: el disco o la memoria podría estar dañado (error de entrada/salida). "
                 "Copia cuanto antes lo que puedas de ese disco a otro y revísalo con la comprobación de "
                 "errores.").format(path=where)
        if action == ARCHIVE:
            text += " " + _("Si tienes otra copia de este respaldo (en otra memoria o en la nube), úsala.")
        return text
    if kind == GONE:
        return _("Se perdió la conexión con {path}: se desconectó la memoria USB o el disco, o se cayó la red "
                 "de esa carpeta compartida. Conéctala de nuevo (o revisa la red) y vuelve a intentar.").format(
            path=where)
    if kind == NAME_TOO_LONG:
        if action == BACKUP:
            todo = _("Elige una carpeta de destino con una ruta más corta, por ejemplo E:\\Respaldos.")
        elif action == RESTORE:
            todo = _("Restaura en una carpeta con una ruta más corta, por ejemplo C:\\Restaurado.")
        else:
            todo = _("Acorta los nombres de sus carpetas o muévelo a una ruta más corta.")
        return _("La ruta {path} es demasiado larga para el sistema.").format(path=where) + " " + todo
    if kind == TOO_MANY_FILES:
        return _("Hay demasiados archivos abiertos en esta computadora y no se pudo abrir {path}. Cierra otros "
                 "programas y vuelve a intentar; si vuelve a pasar, reinicia la computadora.").format(path=where)
    if kind == FULL:
        if action == BACKUP:
            return _("El disco de {path} se llenó mientras se guardaba el respaldo. Libera espacio, conserva "
                     "menos respaldos o elige otra carpeta.").format(path=where)
        return _("No queda espacio en el disco de {path}. Libera espacio en ese disco o {elsewhere}.").format(
            path=where, elsewhere=_elsewhere(action))
    # IN_USE
    return _("{path} está abierto en otro programa (quizá el antivirus o el punto de venta). Ciérralo y vuelve "
             "a intentar.").format(path=where)


def nothing_saved() -> str:
    """What a failed backup left: said after the sentence of what went wrong."""
    return _("No se guardó nada y los respaldos anteriores siguen intactos.")
