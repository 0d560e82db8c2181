"""Where the search looks on each system, most likely places first.

Windows: Program Files, ProgramData, the user's documents and desktop, then each fixed drive from its top
(its Windows folder, recycle bin and the like are left out by walk.SKIP_NAMES); USB and network drives only
when asked. Linux and macOS: the home folder, /opt, /srv, /var/lib, /usr/local and the like.
"""

from __future__ import annotations

import glob
import os
import string
import sys
from pathlib import Path

from wizard.core import drives


def default_roots(include_removable: bool = False) -> list[str]:
    """The folders to search, in order, that exist here (duplicates removed)."""
    if sys.platform == "win32":
        candidates = windows_roots(include_removable)
    elif sys.platform == "darwin":
        home = Path.home()
        candidates = [str(home / "Documents"), str(home / "Desktop"), str(home), "/Applications",
                      "/Library/Application Support", "/usr/local/var", "/opt/homebrew/var", "/opt", "/srv",
                      "/Users/Shared"]
    else:
        candidates = [str(Path.home()), "/opt", "/srv", "/var/lib", "/usr/local", "/home"]
    if include_removable and sys.platform != "win32":
        # each mounted disk is its own root: the walk does not cross from one filesystem into another
        candidates += sorted(glob.glob("/media/*/*") + glob.glob("/run/media/*/*") + glob.glob("/mnt/*")
                             + glob.glob("/Volumes/*"))
    roots: list[str] = []
    for path in candidates:
        if path and os.path.isdir(path) and os.path.normcase(path) not in {os.path.normcase(r) for r in roots}:
            roots.append(path)
    return roots


def windows_roots(include_removable: bool = False) -> list[str]:
    """Program folders, the user's own, then the drives' tops (the fixed ones, or all when asked)."""
    env = os.environ
    first = [env.get("ProgramFiles", ""), env.get("ProgramFiles(x86)", ""), env.get("ProgramData", "")]
    profile = env.get("USERPROFILE", "")
    if profile:
        first += [os.path.join(profile, "Documents"), os.path.join(profile, "Desktop")]
    return [p for p in first if p] + windows_drives(include_removable)


def windows_drives(include_removable: bool = False) -> list[str]:
    """``C:\\`` and the other drive letters: fixed internal disks, or also USB and network drives."""
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    mask = kernel32.GetLogicalDrives()
    found = []
    for i, letter in enumerate(string.ascii_uppercase):
        if not mask & (1 << i):
            continue
        root = f"{letter}:\\"
        kind = kernel32.GetDriveTypeW(ctypes.c_wchar_p(root))
        if kind == drives.DRIVE_FIXED:
            removable, _where, _label = drives.drive_kind(Path(root))  # USB hard disks say "fixed" too
            if not removable or include_removable:
                found.append(root)
        elif include_removable and kind in (drives.DRIVE_REMOVABLE, drives.DRIVE_REMOTE):
            found.append(root)
    return found
