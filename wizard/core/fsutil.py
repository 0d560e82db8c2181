"""Safe writes (temporary file, fsync, os.replace, fsync of the folder) and the cleanup of private
temporary folders left by a process that was killed."""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import re
import shutil
import sys
import time
from collections.abc import Collection
from pathlib import Path

logger = logging.getLogger(__name__)


def fsync_dir(folder: Path) -> None:
    """Make a rename durable. Windows cannot open folders; there os.replace is enough."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temporary_beside(target: Path, suffix: str) -> Path:
    """Where a file is written before it takes ``target``'s place: ``.NAME<suffix>`` beside it, or a shorter
    name when that would pass the 255 characters a file name may have (the target itself fits)."""
    name = f".{target.name}{suffix}"
    if len(name) > 240:
        digest = hashlib.sha256(target.name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
        name = f".{digest}{suffix}"
    return target.with_name(name)


def atomic_write_bytes(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` so that a reader sees either the old or the new file, never half.

    With ``mode`` (e.g. 0o600 for a secret) the file has those rights from its creation on, never
    briefly wider.
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0),
                     0o666 if mode is None else mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)  # in case a leftover temporary file existed with wider rights
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        raise
    fsync_dir(path.parent)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists (when unsure: yes, so its folder is left alone)."""
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if sys.platform == "win32":
        import ctypes
        from ctypes import wintypes

        kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        kernel32.OpenProcess.restype = wintypes.HANDLE
        kernel32.OpenProcess.argtypes = (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)
        kernel32.GetExitCodeProcess.argtypes = (wintypes.HANDLE, ctypes.POINTER(wintypes.DWORD))
        kernel32.CloseHandle.argtypes = (wintypes.HANDLE,)
        handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
        if not handle:
            return ctypes.get_last_error() != 87  # ERROR_INVALID_PARAMETER: no such process
        try:
            code = wintypes.DWORD()
            if not kernel32.GetExitCodeProcess(handle, ctypes.byref(code)):
                return True
            return code.value == 259  # STILL_ACTIVE
        finally:
            kernel32.CloseHandle(handle)
    try:
        os.kill(pid, 0)  # signal 0 only checks (on Windows os.kill would terminate: handled above)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def remove_stale_dirs(parent: Path, prefix: str, *, max_age_without_pid: float = 7 * 86400,
                      keep_own: Collection[Path] | None = None) -> list[Path]:
    """Remove this user's folders ``<prefix><pid>-*`` in ``parent`` whose process is gone.

    For the private temporary folders of a run that was killed (power cut, Task Manager, SIGKILL skip every
    ``finally``): SQLite snapshots, database tools' files. Folders without a pid (older versions) go once
    they are ``max_age_without_pid`` seconds old. Symlinks and other users' folders are left alone.
    With ``keep_own`` (resolved paths still in use), this process's own folders count as stale too, except
    those: a long-running process (the window, the scheduler) cleans up after its own earlier runs.
    """
    removed: list[Path] = []
    try:
        candidates = list(parent.glob(f"{glob.escape(prefix)}*"))
    except OSError:
        return removed
    for folder in candidates:
        m = re.match(rf"^{re.escape(prefix)}(\d+)-", folder.name)
        try:
            if folder.is_symlink() or not folder.is_dir():
                continue
            if hasattr(os, "getuid") and folder.stat().st_uid != os.getuid():
                continue  # another user's (a shared /tmp): not ours to judge
            if m and keep_own is not None and int(m.group(1)) == os.getpid():
                stale = folder.resolve() not in keep_own
            elif m:
                stale = not pid_alive(int(m.group(1)))
            else:
                stale = time.time() - folder.stat().st_mtime > max_age_without_pid
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop in resolve()
            continue
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            if not folder.exists():
                logger.info("removed %s, left by a process that was killed or an earlier run", folder)
                removed.append(folder)
    return removed
