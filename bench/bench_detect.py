"""How fast the search walks a disk, side by side with `find` listing the same tree.

    python bench/bench_detect.py [--folders 2000] [--files 20] [--repeat 3] [--workdir DIR]

A generated tree (FOLDERS folders, FILES files of 4 KiB each, one SQLite database in every 100th folder)
is walked by:
  (a) baseline: find DIR -type f     (lists every file, reads nothing)
  (b) ours:     wizard.core.detect.walk.walk (lists every folder, reads 64 bytes of each candidate file)
Runs are interleaved a, b, a, b... so the machine's noise hits both alike; medians, folders per second
and the ratio are printed. The page cache is warm after the first run: this measures the walk, not the disk.
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from wizard.core.detect import walk


def make_tree(root: Path, folders: int, files: int) -> int:
    databases = 0
    for i in range(folders):
        folder = root / f"d{i % 20}" / f"e{i // 20 % 10}" / f"f{i}"
        folder.mkdir(parents=True, exist_ok=True)
        for j in range(files):
            (folder / f"archivo{j}.dat").write_bytes(os.urandom(4096))
        if i % 100 == 0:
            conn = sqlite3.connect(folder / "caja.bin")
            conn.execute("CREATE TABLE t (x)")
            conn.commit()
            conn.close()
            databases += 1
    return databases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folders", type=int, default=2000)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-detect-"))
    tree = work / "arbol"
    expected = make_tree(tree, args.folders, args.files) if not tree.exists() else None
    find_times, our_times = [], []
    for _ in range(args.repeat):
        start = time.perf_counter()
        subprocess.run(["find", str(tree), "-type", "f"], stdout=subprocess.DEVNULL, check=True)
        find_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = walk.walk([str(tree)], budget=3600)
        our_times.append(time.perf_counter() - start)
        if expected is not None:
            assert len(result.files) == expected, (len(result.files), expected)
    f, o = statistics.median(find_times), statistics.median(our_times)
    print(f"tree: {args.folders} folders, {args.folders * args.files} files ({work})")
    print(f"find -type f: {f:.2f} s   ours: {o:.2f} s ({result.folders / o:.0f} folders/s, "
          f"{result.files_read / o:.0f} headers read/s)   ours / find: {o / f:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
