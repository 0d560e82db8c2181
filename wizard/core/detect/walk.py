"""The walk over the folders: os.scandir, depth first, within a time budget, never following links.

It only lists folders and reads the first bytes of candidate files (headers.py); it writes nothing. Folders
it cannot open are skipped and listed; when the budget runs out or the user cancels, the folders still
waiting are listed as not covered. Why these choices: docs/detect.md, "Where it looks".
"""

from __future__ import annotations

import logging
import os
import stat
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from wizard.core.detect import headers

logger = logging.getLogger(__name__)

DEFAULT_BUDGET = 60.0  # seconds
PROGRESS_EVERY = 0.2  # seconds between progress calls
# Folders never entered, by name (case-folded): the system's own, caches, version control, trash.
SKIP_NAMES = frozenset(n.casefold() for n in (
    "$Recycle.Bin", "System Volume Information", "Windows", "WinSxS", "$WINDOWS.~BT", "$Windows.~WS",
    "Recovery", "PerfLogs", "node_modules", ".git", ".svn", ".hg", "__pycache__", ".cache", ".Trash",
    "Temporary Internet Files", "INetCache", "Package Cache", "Installer",
    # browsers, mail and developer tools keep busy SQLite files of their own, never a POS's
    "Mozilla", ".mozilla", "Thunderbird", ".thunderbird", "Google", "google-chrome", "chromium", "Chrome",
    "Edge", "BraveSoftware", "Opera Software", "Microsoft", "Packages", "Temp", "Cache", "Code Cache",
    "GPUCache", ".vscode", ".npm", ".cargo", ".rustup", ".pyenv", "site-packages",
))
# Whole trees never entered (POSIX pseudo-filesystems and the like).
SKIP_PATHS = frozenset({"/proc", "/sys", "/dev", "/run", "/tmp/.X11-unix", "/var/lib/docker", "/snap",
                        "/var/cache", "/var/log", "/usr/share", "/usr/lib", "/usr/include"})
# Files never read, by extension: programs, pictures, documents, archives, text. Everything else is read.
SKIP_EXTENSIONS = frozenset((
    ".exe", ".dll", ".sys", ".msi", ".ocx", ".so", ".dylib", ".a", ".o", ".pyc", ".jar", ".class",
    ".jpg", ".jpeg", ".png", ".gif", ".bmp", ".ico", ".svg", ".webp", ".tif", ".tiff",
    ".mp3", ".mp4", ".avi", ".mkv", ".wav", ".mov",
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".odt", ".ods", ".rtf",
    ".zip", ".rar", ".7z", ".gz", ".xz", ".bz2", ".zst", ".tar", ".iso", ".cab",
    ".txt", ".log", ".xml", ".html", ".htm", ".css", ".js", ".json", ".ini", ".cfg", ".conf", ".md", ".csv",
    ".py", ".c", ".h", ".cpp", ".java", ".ttf", ".otf", ".woff", ".woff2", ".lnk", ".url", ".tmp",
    "-wal", "-shm", "-journal",
))


@dataclass
class FileFound:
    path: str
    kind: str  # headers.SQLITE / FIREBIRD / ACCESS
    size: int
    modified: float  # st_mtime


@dataclass
class WalkResult:
    files: list[FileFound] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)  # folders that could not be opened
    not_covered: list[str] = field(default_factory=list)  # folders left when the time ran out or on cancel
    stopped: str | None = None  # "budget", "cancel" or None (all covered)
    folders: int = 0
    files_read: int = 0


Progress = Callable[[str, int, int], None]  # (folder now, folders done, databases found)


# The database servers' own files, never a POS's: Firebird's and InterBase's user lists and help.
SERVER_FILES = frozenset({"security.fdb", "security2.fdb", "security3.fdb", "security4.fdb", "security5.fdb",
                          "security.gdb", "isc4.gdb", "admin.ib", "help.fdb", "help.gdb"})
# Windows: files whose data is elsewhere (OneDrive "on demand", archived storage). Reading one byte would
# download or recall the whole file, so they are never opened.
FILE_ATTRIBUTE_OFFLINE = 0x1000
FILE_ATTRIBUTE_RECALL_ON_OPEN = 0x40000
FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS = 0x400000
NOT_HERE = FILE_ATTRIBUTE_OFFLINE | FILE_ATTRIBUTE_RECALL_ON_OPEN | FILE_ATTRIBUTE_RECALL_ON_DATA_ACCESS


def data_elsewhere(st: os.stat_result) -> bool:
    """Whether reading the file would first fetch it from the cloud or archive storage (Windows)."""
    return bool(getattr(st, "st_file_attributes", 0) & NOT_HERE)


def skipped_file(name: str) -> bool:
    low = name.lower()
    return low in SERVER_FILES or any(low.endswith(ext) for ext in SKIP_EXTENSIONS)


def walk(roots: list[str], *, budget: float = DEFAULT_BUDGET, cancel: threading.Event | None = None,
         progress: Progress | None = None, skip: frozenset[str] = frozenset(),
         clock: Callable[[], float] = time.monotonic) -> WalkResult:
    """Look through ``roots`` (in order) for database files; stop after ``budget`` seconds or on ``cancel``.

    ``skip``: further folders not to enter (full paths). On POSIX a root's walk stays on its filesystem,
    so network shares and USB disks mounted below it are left out.
    """
    result = WalkResult()
    deadline = clock() + budget
    last_progress = 0.0
    seen: set[tuple[int, int]] = set()
    skip_paths = {os.path.normcase(p) for p in (*SKIP_PATHS, *skip)} if sys.platform != "win32" \
        else {os.path.normcase(p) for p in skip}
    # A stack of (folder, device of its root): depth first, so that what is left is a short list.
    stack: list[tuple[str, int | None]] = [(str(r), None) for r in reversed(roots)]
    while stack:
        if cancel is not None and cancel.is_set():
            result.stopped = "cancel"
            break
        if clock() >= deadline:
            result.stopped = "budget"
            break
        folder, device = stack.pop()
        if os.path.normcase(folder) in skip_paths:
            continue
        try:
            info = os.stat(folder, follow_symlinks=False)
        except OSError:
            result.unreadable.append(folder)
            continue
        if not stat.S_ISDIR(info.st_mode):
            continue
        key = (info.st_dev, info.st_ino)
        if info.st_ino and key in seen:
            continue  # reached twice (a root inside another, a bind mount)
        seen.add(key)
        if device is None:
            device = info.st_dev
        elif sys.platform != "win32" and info.st_dev != device:
            continue  # another filesystem mounted here
        subfolders: list[str] = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if cancel is not None and cancel.is_set() or clock() >= deadline:
                        result.stopped = "cancel" if cancel is not None and cancel.is_set() else "budget"
                        break
                    try:
                        if entry.is_symlink():
                            continue
                        if entry.is_dir(follow_symlinks=False):
                            if entry.name.casefold() not in SKIP_NAMES:
                                subfolders.append(entry.path)
                            continue
                        if not entry.is_file(follow_symlinks=False) or skipped_file(entry.name):
                            continue
                        st = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if st.st_size < headers.MIN_DATABASE_BYTES or data_elsewhere(st):
                        continue
                    result.files_read += 1
                    kind = headers.kind_of_file(entry.path, st.st_size)
                    if kind is not None:
                        result.files.append(FileFound(entry.path, kind, st.st_size, st.st_mtime))
        except OSError as exc:
            logger.info("cannot list %s: %s", folder, exc)
            result.unreadable.append(folder)
            continue
        if result.stopped is not None:
            result.not_covered.append(folder)  # this folder was left halfway
            break
        result.folders += 1
        stack.extend((sub, device) for sub in sorted(subfolders, reverse=True))
        now = clock()
        if progress is not None and now - last_progress >= PROGRESS_EVERY:
            last_progress = now
            progress(folder, result.folders, len(result.files))
    result.not_covered.extend(folder for folder, _dev in reversed(stack))
    # Whole roots and other shallow folders first: they say the most about what was left out.
    result.not_covered.sort(key=lambda path: len(os.path.normpath(path).split(os.sep)))
    return result
