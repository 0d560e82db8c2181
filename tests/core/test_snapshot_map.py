"""A database on an internal disk is read through a memory map while it is copied (a third of the CPU); one on
a USB disk, a network share or anything that cannot be told is read as before, since an I/O error there would
crash the process. The copy is the same either way, also while the POS keeps selling."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, make_sales_db
from wizard.core.drives import on_internal_disk
from wizard.core.snapshot import snapshot_sqlite


def _block_device_of(path: Path) -> str | None:
    """The /sys/block name of the disk holding ``path`` (longest matching mount), or None."""
    target = str(path.resolve())
    best = ("", "")
    for line in Path("/proc/mounts").read_text().splitlines():
        device, mount = line.split()[:2]
        if (target == mount or target.startswith(mount.rstrip("/") + "/")) and len(mount) > len(best[1]):
            best = (device, mount)
    name = Path(best[0]).name
    while name and not Path("/sys/block", name).exists():
        name = name[:-1]  # a partition (vda1) belongs to its disk (vda)
    return name or None


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/mounts and /sys/block")
def test_only_a_non_removable_block_device_counts_as_an_internal_disk(tmp_path):
    assert on_internal_disk(Path("/proc/self")) is False  # no disk at all
    assert on_internal_disk(Path("/dev/shm")) is False  # tmpfs: memory, not a disk
    disk = _block_device_of(tmp_path)
    if disk is not None and Path("/sys/block", disk, "removable").read_text().strip() == "0":
        assert on_internal_disk(tmp_path) is True
    else:
        assert on_internal_disk(tmp_path) is False


@pytest.mark.parametrize("map_source", [False, True])
def test_the_copy_is_whole_and_consistent_mapped_or_not_while_the_pos_sells(tmp_path, map_source):
    db = make_sales_db(tmp_path / "ventas.db", rows=40_000)
    stop, report = tmp_path / "stop", tmp_path / "report.json"
    writer = subprocess.Popen([sys.executable, "-m", "tests.pos_writer", str(db), str(stop), str(report)],
                              cwd=ROOT)
    try:
        deadline = time.monotonic() + 30
        while not Path(str(report) + ".ready").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        copies = []
        for i in range(3):
            target = tmp_path / f"copia{i}.sqlite"
            snapshot_sqlite(db, target, map_source=map_source)
            copies.append(target)
    finally:
        stop.touch()
        writer.wait(timeout=60)
    sold = json.loads(report.read_text())
    assert not sold.get("errors"), sold.get("errors")
    counts = []
    for target in copies:
        with sqlite3.connect(target) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            counts.append(conn.execute("SELECT count(*) FROM sales").fetchone()[0])
    assert counts[0] >= 40_000 and counts == sorted(counts)  # each copy a moment of the selling, in order
