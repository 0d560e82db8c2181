"""Where a backup's time goes, phase by phase, against the floor this machine allows (issue 21).

    python bench/bench_phases.py [--databases bench,blobs,wal1k] [--size 1GiB] [--runs 10] [--cold]
                                 [--workdir DIR] [--seed N]

For each database (generated once and cached in the work folder, as bench_speed.py), our backup
(`python -m wizard backup`, throwaway XDG folders, as bench_backup.bench_ours) runs --runs times; the
database is put back as generated before each run (wal1k: the run checkpointed its -wal), the page cache
stays warm unless --cold (then `sync; echo 3 > /proc/sys/vm/drop_caches` before each run, root). Each run's
`timings:` line (wizard/core/phases.py) is read from its log: median, min and max per phase, plus the wall
time of the whole command and its CPU (user+sys). Unless --no-restic, restic's first backup of the same files
(bench_speed.bench_restic) runs beside each of ours, the order alternating, on the same cache state.

Then, once per database, the floor:
  (a) read    the database (+ -wal) once, cold, 1 MiB reads. With --cold the whole page cache is dropped
              first; without, only these files' pages are evicted (posix_fadvise DONTNEED), so that other
              work on the machine keeps its cache.
  (b) write   a file of the archive's size (median of the runs) in the destination's file system, 1 MiB
              blocks of random bytes with a counter, then fsync (like `dd conv=fsync`).
  (c) deflate the database's bytes with ISA-L level 2 (deflate_chunk, 1 MiB chunks) on two threads; also on one.
The floor is max(a, b, c on two cores). For reference, on one core over the same bytes: inflate_chunk of the
deflated chunks, hashlib.sha256, isal crc32, and `PRAGMA quick_check` of the database alone (read-only).

Distance from the floor, per phase: its median minus the part of the floor it stands for (snapshot: reading
the database once (a); compress: deflating on two cores (c); fsync: writing the archive with fsync (b);
quick_check, overlapped: quick_check alone; every other phase: 0, a perfect backup spends nothing there);
total and the wall time: minus the floor.

Last, the work issue 2's contract asks of every backup (the online-backup copy, timed alone with the
backup's own snapshot_sqlite; deflate; the read-back inflate; SHA-256; quick_check), each alone on one core,
summed and halved: a lower bound for two cores, set against half of restic's median (issue 21's target).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import shlex
import sqlite3
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from isal import isal_zlib

from bench.bench_backup import bench_ours, cpu_name, human, tool_versions
from bench.bench_speed import (
    DROP_CACHES,
    add_database_arguments,
    bench_restic,
    chosen_databases,
    db_facts,
    db_files,
    input_bytes,
    prepare,
    settle,
    warm,
)
from bench.make_other_db import reset_database
from wizard.core.archive.deflate import CHUNK_SIZE, deflate_chunk, inflate_chunk
from wizard.core.phases import PHASES, parse_line
from wizard.core.snapshot import snapshot_sqlite

BLOCK = 1 << 20  # reads and writes of the floor measures
BATCH = 64 << 20  # bytes held in memory at once by the CPU measures


@dataclass
class Floor:
    read: float = 0.0  # (a)
    read_how: str = ""
    write: float = 0.0  # (b)
    write_bytes: int = 0
    deflate2: float = 0.0  # (c)
    deflate1: float = 0.0
    inflate1: float = 0.0
    sha256: float = 0.0
    crc32: float = 0.0
    quick_check: float = 0.0
    copy: float = 0.0  # the online-backup copy alone (best of two)
    deflated_bytes: int = 0

    @property
    def floor(self) -> float:
        return max(self.read, self.write, self.deflate2)

    def bound(self) -> str:
        return max((self.read, "reading the database"), (self.write, "writing the archive with fsync"),
                   (self.deflate2, "deflating on two cores"))[1]

    @property
    def required_one_core(self) -> float:
        """The work issue 2's contract asks of every backup, each part timed alone on one core: the copy
        through the online backup API, deflate, the read-back inflate (every member's CRC checked from the
        archive's bytes), SHA-256 for the manifest, and `PRAGMA quick_check` of the copy."""
        return self.copy + self.deflate1 + self.inflate1 + self.sha256 + self.quick_check

    @property
    def required_two_cores(self) -> float:
        """A lower bound: that work split perfectly over two cores, with nothing lost to sharing them."""
        return self.required_one_core / 2


@dataclass
class Result:
    label: str
    db: Path
    input_bytes: int
    facts: str
    timings: list[dict[str, float]] = field(default_factory=list)
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    archive: list[int] = field(default_factory=list)
    restic: list[float] = field(default_factory=list)  # restic's first backup, interleaved with ours
    floor: Floor = field(default_factory=Floor)

    def phases(self) -> list[str]:
        seen = {name for t in self.timings for name in t} - {"total", "CPU"}
        return [p for p in PHASES if p in seen] + sorted(seen - set(PHASES))

    def values(self, name: str) -> list[float]:
        return [t.get(name, 0.0) for t in self.timings]


def timings_line(scratch: Path) -> dict[str, float]:
    """The last ``timings:`` line of the run's log (bench_ours' XDG folders, under XDG_STATE_HOME)."""
    logs = sorted((scratch / "xdg").rglob("respaldos.log"))
    for log in logs:
        for line in reversed(log.read_text(encoding="utf-8", errors="replace").splitlines()):
            parsed = parse_line(line)
            if parsed:
                return parsed
    raise SystemExit(f"no 'timings:' line in the run's log ({logs or 'no respaldos.log under ' + str(scratch / 'xdg')})")


def evict(paths: list[Path], cold: bool) -> str:
    """Make reading ``paths`` cold: the whole page cache with --cold, else only these files' pages."""
    os.sync()
    if cold:
        DROP_CACHES.write_text("3\n")
        return "page cache dropped"
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)
    return "files' pages evicted (fadvise)"


def measure_read(paths: list[Path], cold: bool) -> tuple[float, str]:
    how = evict(paths, cold)
    buf = bytearray(BLOCK)
    started = time.perf_counter()
    for path in paths:
        with open(path, "rb", buffering=0) as fh:
            while fh.readinto(buf):
                pass
    return time.perf_counter() - started, how


def measure_write(folder: Path, size: int) -> float:
    """A file of ``size`` bytes written in 1 MiB blocks and fsynced, as `dd bs=1M conv=fsync` would."""
    block = bytearray(os.urandom(BLOCK))
    target = folder / "floor-write.bin"
    os.sync()  # nothing else's dirty pages in the timing
    started = time.perf_counter()
    with open(target, "wb", buffering=0) as fh:
        left, counter = size, 0
        while left > 0:
            block[:8] = counter.to_bytes(8, "little")  # no two blocks alike
            n = fh.write(memoryview(block)[:min(left, BLOCK)])
            left -= n
            counter += 1
        os.fsync(fh.fileno())
    elapsed = time.perf_counter() - started
    target.unlink()
    return elapsed


def batches(paths: list[Path]):
    """The files' bytes as lists of 1 MiB chunks, BATCH bytes at a time (read outside every timing)."""
    chunks: list[bytes] = []
    for path in paths:
        with open(path, "rb") as fh:
            while chunk := fh.read(CHUNK_SIZE):
                chunks.append(chunk)
                if len(chunks) * CHUNK_SIZE >= BATCH:
                    yield chunks
                    chunks = []
    if chunks:
        yield chunks


def measure_cpu(paths: list[Path], floor: Floor) -> None:
    """(c) deflate on two threads and on one, and the extras on one core, over the same bytes, a batch at a time."""
    total = sum(p.stat().st_size for p in paths)
    seen = 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        for chunks in batches(paths):
            seen += sum(map(len, chunks))
            finals = [False] * len(chunks)
            if seen >= total:
                finals[-1] = True
            started = time.perf_counter()
            deflated = list(pool.map(deflate_chunk, chunks, finals))
            floor.deflate2 += time.perf_counter() - started
            floor.deflated_bytes += sum(map(len, deflated))

            started = time.perf_counter()
            for chunk, final in zip(chunks, finals):
                deflate_chunk(chunk, final)
            floor.deflate1 += time.perf_counter() - started

            started = time.perf_counter()
            for piece, final in zip(deflated, finals):
                inflate_chunk(piece, final)
            floor.inflate1 += time.perf_counter() - started

            sha = hashlib.sha256()
            started = time.perf_counter()
            for chunk in chunks:
                sha.update(chunk)
            floor.sha256 += time.perf_counter() - started

            crc = 0
            started = time.perf_counter()
            for chunk in chunks:
                crc = isal_zlib.crc32(chunk, crc)
            floor.crc32 += time.perf_counter() - started


def measure_quick_check(db: Path) -> float:
    started = time.perf_counter()
    conn = sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True)
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    finally:
        conn.close()
    elapsed = time.perf_counter() - started
    if rows != [("ok",)]:
        raise SystemExit(f"PRAGMA quick_check of {db}: {rows[:5]}")
    return elapsed


def measure_copy(db: Path, scratch: Path) -> float:
    """The snapshot's copy alone (wizard.core.snapshot.snapshot_sqlite, the backup's own), warm, into the
    scratch folder: the best of two, the first of which may pay for memory the VM hands back (docs)."""
    target = scratch / "copy-alone.db"
    times = []
    for _ in range(2):
        target.unlink(missing_ok=True)
        os.sync()
        started = time.perf_counter()
        snapshot_sqlite(db, target)
        times.append(time.perf_counter() - started)
    target.unlink()
    return min(times)


def measure(result: Result, scratch: Path, runs: int, cold: bool, restic: bool) -> None:
    db = result.db

    def ours(rep: int) -> None:
        settle(db, cold)
        seconds, size, rss, cpu = bench_ours(db, scratch)
        timings = timings_line(scratch)
        result.timings.append(timings)
        result.wall.append(seconds)
        result.cpu.append(cpu)
        result.archive.append(size)
        phases = ", ".join(f"{k} {v:.2f}" for k, v in timings.items())
        print(f"  [{rep}/{runs}] {seconds:6.2f} s  CPU {cpu:.2f} s  peak RSS {rss:.0f} MB  {human(size)}  ({phases})",
              flush=True)

    def theirs(rep: int) -> None:
        settle(db, cold)
        seconds, _ = bench_restic(db_files(db), scratch)
        result.restic.append(seconds)
        print(f"  [{rep}/{runs}] restic {seconds:6.2f} s", flush=True)

    for rep in range(1, runs + 1):
        steps = (ours, theirs) if rep % 2 else (theirs, ours)
        for step in steps:
            if step is ours or restic:
                step(rep)

    settle(db, cold=False)
    files = db_files(db)
    floor = result.floor
    floor.read, floor.read_how = measure_read(files, cold)
    print(f"  floor (a) read once, cold ({floor.read_how}): {floor.read:.2f} s", flush=True)
    floor.write_bytes = int(statistics.median(result.archive))
    floor.write = measure_write(scratch, floor.write_bytes)
    print(f"  floor (b) write {human(floor.write_bytes)} + fsync: {floor.write:.2f} s", flush=True)
    warm(files)
    measure_cpu(files, floor)
    print(f"  floor (c) deflate on two threads {floor.deflate2:.2f} s, on one {floor.deflate1:.2f} s; extras on one "
          f"core: inflate {floor.inflate1:.2f} s, sha256 {floor.sha256:.2f} s, crc32 {floor.crc32:.2f} s", flush=True)
    floor.quick_check = measure_quick_check(db)
    print(f"  quick_check alone: {floor.quick_check:.2f} s", flush=True)
    floor.copy = measure_copy(db, scratch)
    print(f"  the snapshot's copy alone: {floor.copy:.2f} s", flush=True)
    reset_database(db)


def rate(nbytes: int, seconds: float) -> str:
    return f"{nbytes / seconds / 1e6:.0f} MB/s" if seconds > 0 else "-"


def phase_floor(name: str, floor: Floor) -> tuple[float, str]:
    return {
        "snapshot": (floor.read, "read once (a)"),
        "compress": (floor.deflate2, "deflate, 2 cores (c)"),
        "fsync": (floor.write, "write + fsync (b)"),
        "quick_check": (floor.quick_check, "quick_check alone"),
        "total": (floor.floor, "floor"),
        "wall": (floor.floor, "floor"),
    }.get(name, (0.0, "0"))


def row(name: str, values: list[float], floor: Floor, note: str = "") -> str:
    med = statistics.median(values)
    part, what = phase_floor(name, floor)
    distance = f"{med - part:+.2f} s vs " + (f"{what} {part:.2f} s ({med / part:.1f}x)" if part > 0 else "0")
    return f"| {name}{note} | {med:.2f} s | {min(values):.2f}-{max(values):.2f} s | {distance} |"


def floor_lines(r: Result) -> list[str]:
    f, n = r.floor, r.input_bytes
    return [
        f"- floor {f.floor:.2f} s ({f.bound()}) = max of:",
        f"  - (a) reading the database once, cold ({f.read_how}), 1 MiB reads: {f.read:.2f} s ({rate(n, f.read)})",
        (f"  - (b) writing {human(f.write_bytes)} (the archive's size) with fsync: {f.write:.2f} s "
         f"({rate(f.write_bytes, f.write)})"),
        (f"  - (c) deflating with ISA-L level 2, 1 MiB chunks, two threads: {f.deflate2:.2f} s "
         f"({rate(n, f.deflate2)}); one thread: {f.deflate1:.2f} s ({rate(n, f.deflate1)}); deflated to "
         f"{human(f.deflated_bytes)}"),
        (f"- extras on one core over the same bytes: inflate {f.inflate1:.2f} s ({rate(n, f.inflate1)}), sha256 "
         f"{f.sha256:.2f} s ({rate(n, f.sha256)}), isal crc32 {f.crc32:.2f} s ({rate(n, f.crc32)}), "
         f"`PRAGMA quick_check` alone {f.quick_check:.2f} s; the snapshot's online-backup copy alone "
         f"{f.copy:.2f} s"),
        *required_lines(r),
    ]


def required_lines(r: Result) -> list[str]:
    """What the contract's work needs at the least, against half of restic's time (issue 21's target)."""
    f = r.floor
    lines = [(f"- the work every backup must do (issue 2: online-backup copy {f.copy:.2f} + deflate {f.deflate1:.2f} + "
              f"read-back inflate {f.inflate1:.2f} + SHA-256 {f.sha256:.2f} + quick_check {f.quick_check:.2f}), "
              f"each alone on one core: {f.required_one_core:.2f} s; split perfectly over two cores: at least "
              f"{f.required_two_cores:.2f} s")]
    if r.restic:
        half = statistics.median(r.restic) / 2
        verdict = ("fits" if f.required_two_cores <= half else
                   f"does not fit: even that lower bound is {f.required_two_cores / statistics.median(r.restic):.2f}x "
                   f"restic's median")
        lines.append(f"- restic's first backup, interleaved: median {statistics.median(r.restic):.2f} s "
                     f"({min(r.restic):.2f}-{max(r.restic):.2f}); half of it {half:.2f} s: the work above {verdict}")
    return lines


def table(r: Result) -> list[str]:
    rows = [(f"**{r.label}** ({r.facts}; input {human(r.input_bytes)}), {len(r.timings)} runs, archive "
             f"{human(statistics.median(r.archive))}:"), "",
            "| phase | median | min-max | distance from floor |", "| --- | --- | --- | --- |"]
    for name in r.phases():
        note = " (overlapped)" if name == "quick_check" else ""
        rows.append(row(name, r.values(name), r.floor, note))
    rows.append(row("total", r.values("total"), r.floor, " (in the process)"))
    rows.append(row("wall", r.wall, r.floor, " (whole command)"))
    cpu = [c for c in r.cpu if not math.isnan(c)]  # GNU time's user+sys; NaN without it
    cpu_in = r.values("CPU")
    if r.restic:
        ratios = [ours / theirs for ours, theirs in zip(r.values("total"), r.restic)]
        walls = [ours / theirs for ours, theirs in zip(r.wall, r.restic)]
        rows.append(f"| ours ÷ restic (whole command) | {statistics.median(walls):.2f} | {min(walls):.2f}-"
                    f"{max(walls):.2f} | in the process: {statistics.median(ratios):.2f} |")
    rows.append(f"| CPU (user+sys) | {statistics.median(cpu):.2f} s | {min(cpu):.2f}-{max(cpu):.2f} s | "
                f"in the process: {statistics.median(cpu_in):.2f} s |" if cpu else
                f"| CPU (in the process) | {statistics.median(cpu_in):.2f} s | {min(cpu_in):.2f}-{max(cpu_in):.2f} s | |")
    return rows + [""] + floor_lines(r)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_arguments(parser)
    parser.add_argument("--runs", type=int, default=10, help="backups per database (10)")
    parser.add_argument("--no-restic", dest="restic", action="store_false",
                        help="do not run restic's first backup beside each of ours")
    args = parser.parse_args(argv)
    names = chosen_databases(parser, args)
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    args.workdir.mkdir(parents=True, exist_ok=True)
    databases = [(name, prepare(name, args.workdir, args.size, args.seed)) for name in names]
    command = "python bench/bench_phases.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    load_start = os.getloadavg()
    started = time.time()
    results = []
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="scratch-phases-") as tmp:
        for name, db in databases:
            reset_database(db)
            result = Result(name, db, input_bytes(db), db_facts(db))
            print(f"\n== {name}: {db} ({result.facts})", flush=True)
            measure(result, Path(tmp), args.runs, args.cold, args.restic)
            results.append(result)
    load_end = os.getloadavg()
    cache = "cold (page cache dropped before every run)" if args.cold else "warm page cache"

    print()
    print(f"Measured with `{command.strip()}` on {os.cpu_count()} cores ({cpu_name()}), {cache}, "
          f"load average {load_start[0]:.2f} {load_start[1]:.2f} {load_start[2]:.2f} at the start, "
          f"{load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f} at the end, {(time.time() - started) / 60:.1f} min, "
          f"{time.strftime('%Y-%m-%d')}; {tool_versions()}.")
    for result in results:
        print()
        for line in table(result):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
