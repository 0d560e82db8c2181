"""Facts about folders and the disks they live on, for the window's source and destination steps.

No tkinter here: the window calls these (off the Tk thread when they may be slow) and shows the
results. Removable detection is best effort: ``None`` means "could not tell".
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePath

from wizard.core.snapshot import OWN_FILE_RE, Excluder

logger = logging.getLogger(__name__)

SQLITE_HEADER = b"SQLite format 3\x00"
# Mount points where Linux desktops put USB sticks and external disks.
REMOVABLE_MOUNT_ROOTS = ("/media", "/run/media", "/mnt")
# Windows GetDriveTypeW results.
DRIVE_REMOVABLE = 2
DRIVE_FIXED = 3
DRIVE_REMOTE = 4
DRIVE_CDROM = 5
# STORAGE_BUS_TYPE values that mean "plugged in from outside the case".
_EXTERNAL_BUS_TYPES = {4, 7, 12, 13}  # 1394, USB, SD, MMC


@dataclass(frozen=True)
class FolderInfo:
    """What the destination step shows about a folder.

    ``free_bytes``/``total_bytes`` describe the disk of the nearest existing folder, so a folder not
    created yet still shows how much room it will have. ``removable`` is True for USB sticks and
    external disks, False for internal disks, None when it cannot be told. ``label`` names the drive
    ("E:\\ RESPALDOS", "/media/ana/KINGSTON").
    """

    path: Path
    exists: bool
    is_dir: bool
    writable: bool
    free_bytes: int | None
    total_bytes: int | None
    removable: bool | None
    mount: str
    label: str
    error: str = ""


@dataclass(frozen=True)
class SizeInfo:
    """Quick totals of what would be backed up."""

    total_bytes: int
    files: int
    databases: int
    missing: tuple[str, ...] = ()
    truncated: bool = False


def is_inside(child: Path | str, parent: Path | str) -> bool:
    """True when ``child`` is ``parent`` or lies somewhere below it (symlinks resolved)."""
    try:
        c = _normalized(child)
        p = _normalized(parent)
    except (OSError, ValueError):
        return False
    return c == p or p in c.parents


def _normalized(path: Path | str) -> PurePath:
    resolved = Path(os.path.abspath(os.path.expanduser(str(path))))
    try:
        resolved = resolved.resolve(strict=False)
    except (OSError, RuntimeError):
        pass
    # Windows paths compare case-insensitively.
    return PurePath(os.path.normcase(str(resolved)))


def _nearest_existing(path: Path) -> Path | None:
    for candidate in (path, *path.parents):
        try:
            if candidate.exists():
                return candidate
        except OSError:
            continue
    return None


def probe_writable(folder: Path) -> tuple[bool, str]:
    """Write and delete a small file in ``folder``; returns (ok, error text)."""
    probe = folder / f".respaldos-prueba-{uuid.uuid4().hex[:8]}.tmp"
    try:
        with open(probe, "wb") as fh:
            fh.write(b"respaldos")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        return False, exc.strerror or str(exc)
    try:
        probe.unlink()
    except OSError as exc:
        return False, exc.strerror or str(exc)
    return True, ""


def describe_folder(path: Path | str, probe: bool = True) -> FolderInfo:
    """Existence, write access, free space and drive kind.

    With ``probe`` (the default) write access is proven by writing and deleting a small file; without it
    (a summary refreshed every minute should not write to a USB stick each time) it is only asked of the
    operating system.
    """
    folder = Path(os.path.expanduser(str(path)))
    try:
        exists = folder.exists()
        is_dir = folder.is_dir()
    except OSError:
        exists = is_dir = False
    if not is_dir:
        writable, error = False, ""
    elif probe:
        writable, error = probe_writable(folder)
    else:
        writable, error = os.access(folder, os.W_OK), ""
    anchor = _nearest_existing(folder)
    free = total = None
    if anchor is not None:
        try:
            usage = shutil.disk_usage(anchor)
            free, total = usage.free, usage.total
        except OSError:
            pass
    removable, mount, label = drive_kind(anchor or folder)
    return FolderInfo(folder, exists, is_dir, writable, free, total, removable, mount, label, error)


def drive_kind(path: Path) -> tuple[bool | None, str, str]:
    """(removable, mount point or drive root, human label) of the disk holding ``path``."""
    try:
        if sys.platform == "win32":
            return _windows_drive_kind(path)
        return _posix_drive_kind(path)
    except Exception:
        logger.debug("drive detection failed for %s", path, exc_info=True)
        return None, "", ""


# --------------------------------------------------------------------------- Windows


def _windows_drive_kind(path: Path) -> tuple[bool | None, str, str]:
    import ctypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    root = os.path.splitdrive(os.path.abspath(str(path)))[0]
    if not root:
        return None, "", ""
    root = root.rstrip("\\") + "\\"
    kind = kernel32.GetDriveTypeW(ctypes.c_wchar_p(root))
    label = _windows_volume_label(root)
    shown = f"{root} {label}".strip()
    if kind == DRIVE_REMOVABLE:
        return True, root, shown
    if kind == DRIVE_CDROM:
        return True, root, shown
    if kind == DRIVE_REMOTE:
        return False, root, shown
    if kind == DRIVE_FIXED and len(root) == 3 and root[1] == ":":
        # USB hard disks report DRIVE_FIXED; their bus type tells them apart.
        bus = _windows_bus_type(root[:2])
        if bus is not None:
            return bus in _EXTERNAL_BUS_TYPES, root, shown
        return False, root, shown
    return None, root, shown


def _windows_volume_label(root: str) -> str:
    import ctypes

    buf = ctypes.create_unicode_buffer(261)
    ok = ctypes.windll.kernel32.GetVolumeInformationW(  # type: ignore[attr-defined]
        ctypes.c_wchar_p(root), buf, len(buf), None, None, None, None, 0
    )
    return buf.value if ok else ""


def _windows_bus_type(drive: str) -> int | None:
    """STORAGE_BUS_TYPE of ``"E:"`` via IOCTL_STORAGE_QUERY_PROPERTY, or None."""
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    kernel32.CreateFileW.restype = wintypes.HANDLE
    invalid = wintypes.HANDLE(-1).value
    handle = kernel32.CreateFileW(
        f"\\\\.\\{drive}",
        0,
        0x1 | 0x2,
        None,
        3,
        0,
        None,  # no access, share r/w, OPEN_EXISTING
    )
    if not handle or handle == invalid:
        return None
    try:
        # STORAGE_PROPERTY_QUERY { PropertyId=StorageDeviceProperty(0), QueryType=PropertyStandardQuery(0) }
        query = (ctypes.c_uint32 * 3)(0, 0, 0)
        out = ctypes.create_string_buffer(1024)
        returned = wintypes.DWORD(0)
        ok = kernel32.DeviceIoControl(
            wintypes.HANDLE(handle),
            0x2D1400,
            ctypes.byref(query),
            ctypes.sizeof(query),
            out,
            len(out),
            ctypes.byref(returned),
            None,
        )
        if not ok or returned.value < 32:
            return None
        # STORAGE_DEVICE_DESCRIPTOR: BusType is the DWORD at offset 28.
        return int.from_bytes(out.raw[28:32], "little")
    finally:
        kernel32.CloseHandle(wintypes.HANDLE(handle))


# --------------------------------------------------------------------------- Linux and others


def _mounts() -> list[tuple[str, str]]:
    """(device, mount point) pairs from /proc/mounts, longest mount point first."""
    try:
        text = Path("/proc/mounts").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    pairs = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            # /proc/mounts escapes spaces and tabs as octal.
            mount = parts[1].encode().decode("unicode_escape")
            pairs.append((parts[0], mount))
    pairs.sort(key=lambda p: len(p[1]), reverse=True)
    return pairs


def _block_device_name(device: str) -> str | None:
    """ "/dev/sdb1" -> "sdb", "/dev/nvme0n1p2" -> "nvme0n1", "/dev/mmcblk0p1" -> "mmcblk0"."""
    if not device.startswith("/dev/"):
        return None
    try:
        real = os.path.realpath(device)
    except OSError:
        real = device
    name = os.path.basename(real)
    sys_class = Path("/sys/class/block") / name
    if (sys_class / "partition").exists():
        try:
            return Path(os.path.realpath(sys_class)).parent.name
        except OSError:
            return None
    if (Path("/sys/block") / name).exists():
        return name
    return None


def _posix_drive_kind(path: Path) -> tuple[bool | None, str, str]:
    target = str(Path(os.path.abspath(str(path))))
    try:
        target = os.path.realpath(target)
    except OSError:
        pass
    device, mount = "", "/"
    for dev, mnt in _mounts():
        if target == mnt or target.startswith(mnt.rstrip("/") + "/"):
            device, mount = dev, mnt
            break
    under_removable_root = any(
        mount == root or mount.startswith(root + "/") for root in REMOVABLE_MOUNT_ROOTS
    )
    label = mount if mount != "/" else ""
    block = _block_device_name(device)
    if block:
        sys_block = Path("/sys/block") / block
        try:
            if (sys_block / "removable").read_text().strip() == "1":
                return True, mount, label
        except OSError:
            pass
        try:
            # A USB hard disk says removable=0 but hangs off a USB controller.
            if "/usb" in os.path.realpath(sys_block):
                return True, mount, label
        except OSError:
            pass
        if under_removable_root:
            return True, mount, label
        return False, mount, label
    if under_removable_root:
        return True, mount, label
    return None, mount, label


def same_disk(a: Path | str, b: Path | str) -> bool | None:
    """Whether two existing paths are on the same file system (None when it cannot be told)."""
    try:
        sa = os.stat(_nearest_existing(Path(a)) or a)
        sb = os.stat(_nearest_existing(Path(b)) or b)
    except (OSError, TypeError):
        return None
    return sa.st_dev == sb.st_dev


# --------------------------------------------------------------------------- sizes


def is_sqlite_file(path: Path | str) -> bool:
    """True when the file starts with the 16-byte SQLite header, whatever its extension."""
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == SQLITE_HEADER
    except OSError:
        return False


def folder_size(
    paths: Iterable[Path | str],
    exclude: Iterable[str] = (),
    skip: Iterable[Path | str] = (),
    max_files: int = 200_000,
) -> SizeInfo:
    """Total size, file count and SQLite database count of what would be backed up.

    ``exclude`` has the engine's meaning (``snapshot.Excluder``): ``*.log`` matches a name anywhere,
    ``temp/`` folders only, ``fotos/viejas`` a path relative to its source root. Folders in
    ``skip`` (the destination, when it lies inside the data) are left out. Stops counting after
    ``max_files`` files (``truncated``), so a wrong pick such as a whole disk comes back quickly.
    """
    excluder = Excluder(list(exclude))
    skipped = [_normalized(s) for s in skip if str(s).strip()]
    total = files = databases = 0
    missing: list[str] = []
    truncated = False

    def count_file(file_path: str, size: int) -> None:
        nonlocal total, files, databases
        total += size
        files += 1
        if size >= 16 and is_sqlite_file(file_path):
            databases += 1

    for root in paths:
        root_path = Path(os.path.expanduser(str(root)))
        if not str(root).strip():
            continue
        try:
            if root_path.is_file():
                count_file(str(root_path), root_path.stat().st_size)
                continue
            if not root_path.is_dir():
                missing.append(str(root))
                continue
        except OSError:
            missing.append(str(root))
            continue
        stack = [(root_path, "")]
        while stack and not truncated:
            folder, rel_folder = stack.pop()
            if any(_normalized(folder) == s for s in skipped):
                continue
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                rel = f"{rel_folder}{entry.name}"
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                    if excluder.excluded(rel, is_dir):
                        continue
                    if not is_dir and OWN_FILE_RE.match(entry.name):
                        continue
                    if is_dir:
                        stack.append((Path(entry.path), rel + "/"))
                    elif entry.is_file(follow_symlinks=False):
                        count_file(entry.path, entry.stat(follow_symlinks=False).st_size)
                except OSError:
                    continue
                if files >= max_files:
                    truncated = True
                    break
    return SizeInfo(total, files, databases, tuple(missing), truncated)
