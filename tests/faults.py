"""Real faults at the operating system's boundary, for the tests of plain words (wizard.core.oserrors).

Nothing here patches Python: the kernel itself refuses or fails.

- ``test_user`` / ``as_user``: a user that is not root, so a folder without write permission really refuses
  (CI runs as root, which writes anywhere).
- ``mounted``: a tmpfs, read-only (EROFS, a write-protected USB memory) or small; a bind mount to take away
  with ``umount -l`` mid-write (ENOENT on a path that existed).
- ``FailingDisk``: an ext4 filesystem on a loop device whose image file is then cut short, so that every
  block past the cut fails in the block layer with EIO (a failing disk or USB memory). This kernel has no
  device-mapper (no ``dm-error`` target), which would be the usual way.
- ``fuse_bind``: a FUSE mount (bindfs) whose daemon is killed mid-write: ENOTCONN, as a network folder
  whose server or connection went away.

All of them need root: elsewhere the tests skip, and under CI (RESPALDOS_CI) they fail instead.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.helpers import skip_unless_ci

TEST_USER = "respaldos-test"


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def need_root(what: str) -> None:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        skip_unless_ci(f"{what} needs root")


def need_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        skip_unless_ci(f"{name} is not installed (.ci/run installs it)")
    return str(path)


@pytest.fixture(scope="session")
def test_user() -> Iterator[tuple[int, int]]:
    """(uid, gid) of a user that is not root, made for the session if it does not exist."""
    need_root("switching to another user")
    need_tool("setpriv")
    made = False
    try:
        entry = pwd.getpwnam(TEST_USER)
    except KeyError:
        proc = _run([need_tool("useradd"), "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                     TEST_USER])
        if proc.returncode != 0:
            skip_unless_ci(f"cannot create the user {TEST_USER}: {proc.stderr.strip()}")
        entry = pwd.getpwnam(TEST_USER)
        made = True
    yield entry.pw_uid, entry.pw_gid
    if made:
        _run(["userdel", TEST_USER])


def as_user(user: tuple[int, int], cmd: list[str]) -> list[str]:
    """``cmd`` run as ``user``, without supplementary groups. It keeps one capability, reading and listing
    any folder (CAP_DAC_READ_SEARCH, ambient), because the Python that runs it may live under /root (mode
    0700, as on this machine): writing still needs the folder's permission."""
    uid, gid = user
    return ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--inh-caps=+dac_read_search",
            "--ambient-caps=+dac_read_search", "--", *cmd]


def shared_folder(prefix: str) -> Path:
    """A temporary folder another user can enter (pytest's own are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    return folder


@contextmanager
def mounted(what: str, *args: str) -> Iterator[None]:
    """``mount *args`` for the block (needs root), then a lazy unmount (also when already gone)."""
    need_root(f"mounting {what}")
    proc = _run(["mount", *args])
    if proc.returncode != 0:
        skip_unless_ci(f"cannot mount {what} here: {proc.stderr.strip()}")
    try:
        yield
    finally:
        _run(["umount", "-l", args[-1]])


def unmount_lazily(path: Path) -> None:
    """Take the filesystem at ``path`` away now; files open on it stay usable, its paths do not."""
    proc = _run(["umount", "-l", str(path)])
    assert proc.returncode == 0, proc.stderr


class FailingDisk:
    """An ext4 filesystem (no journal, so failed writes stay plain write errors) on a loop device over a
    ``size``-MiB image file, mounted at ``mount``. After ``fail()``, the image keeps only its first
    ``keep`` MiB and the loop device is resized to it: every block past that point fails with EIO, for
    reads and for writes, the way a failing USB memory does. What is written before ``fill()`` lies in the
    healthy part."""

    def __init__(self, root: Path, size: int = 64, keep: int = 8):
        self.image = root / "disco.img"
        self.mount = root / "disco"
        self.size, self.keep = size, keep
        self.loop: str | None = None

    def start(self) -> None:
        need_root("a loop device")
        for tool in ("losetup", "mkfs.ext4"):
            need_tool(tool)
        self.mount.mkdir()
        with open(self.image, "wb") as fh:
            fh.truncate(self.size << 20)
        # 4 KiB blocks: the whole disk is one block group, so files are laid out from the start in the order
        # they are written (with smaller groups each new folder goes to a group of its own, anywhere)
        proc = _run(["mkfs.ext4", "-q", "-F", "-b", "4096", "-O", "^has_journal", str(self.image)])
        assert proc.returncode == 0, proc.stderr
        proc = _run(["losetup", "--find", "--show", str(self.image)])
        if proc.returncode != 0:
            skip_unless_ci(f"no loop device here: {proc.stderr.strip()}")
        self.loop = proc.stdout.strip()
        proc = _run(["mount", "-o", "errors=continue", self.loop, str(self.mount)])
        if proc.returncode != 0:
            self.stop()
            skip_unless_ci(f"cannot mount a loop device here: {proc.stderr.strip()}")

    def fill(self) -> None:
        """Take up the rest of the healthy part, so that what is written next lands past the cut."""
        os.sync()  # what was written so far gets its blocks now (ext4 allocates at writeback)
        with open(self.mount / "relleno.bin", "wb") as fh:
            fh.write(b"\0" * ((self.keep - 1) << 20))
            os.fsync(fh.fileno())

    def fail(self) -> None:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("1")  # what is read next comes from the device
        with open(self.image, "r+b") as fh:
            fh.truncate(self.keep << 20)
        proc = _run(["losetup", "--set-capacity", str(self.loop)])
        assert proc.returncode == 0, proc.stderr

    def stop(self) -> None:
        _run(["umount", "-l", str(self.mount)])
        if self.loop:
            _run(["losetup", "-d", self.loop])
            self.loop = None


@pytest.fixture
def failing_disk(tmp_path) -> Iterator[FailingDisk]:
    disk = FailingDisk(tmp_path)
    disk.start()
    yield disk
    disk.stop()


class FuseBind:
    """``real`` seen through a FUSE mount at ``mount`` (bindfs); ``kill()`` ends its daemon, and from then
    on every use of the mount, open files included, fails with ENOTCONN."""

    def __init__(self, real: Path, mount: Path):
        self.real, self.mount = real, mount
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        need_root("a FUSE mount")
        bindfs = need_tool("bindfs")
        if not Path("/dev/fuse").exists():
            skip_unless_ci("no /dev/fuse here")
        self.real.mkdir(exist_ok=True)
        self.mount.mkdir(exist_ok=True)
        # -f: bindfs stays in the foreground, as this Popen, so that the test can kill it
        self.proc = subprocess.Popen([bindfs, "-f", "--no-allow-other", str(self.real), str(self.mount)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for _ in range(500):
            if os.path.ismount(self.mount):
                return
            if self.proc.poll() is not None:
                skip_unless_ci(f"bindfs could not mount: {self.proc.stderr.read().decode(errors='replace')}")
            time.sleep(0.01)
        raise AssertionError("bindfs never mounted")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()
        _run(["umount", "-l", str(self.mount)])


@pytest.fixture
def network_folder(tmp_path) -> Iterator[FuseBind]:
    """A folder reached through a FUSE mount whose daemon a test can kill (its server going away)."""
    folder = FuseBind(tmp_path / "servidor", tmp_path / "red")
    folder.start()
    yield folder
    folder.stop()
