"""Our backup against restic's first backup on several POS databases, and our restore against unzip.

    python bench/bench_speed.py [--databases bench,blobs,wal1k] [--size 1GiB] [--repeat 5] [--big 4GiB]
                                [--cold] [--restore] [--zip-size] [--workdir DIR] [--seed N]

Databases (each generated once and cached in the work folder):
  bench  bench/'s own generator (wizard.core.demo, as bench_backup.py), WAL mode, no -wal left
  blobs  bench/make_other_db.py --kind blobs: 4 KiB pages, mostly product photos (BLOBs)
  wal1k  bench/make_other_db.py --kind wal1k: 1 KiB pages and a large -wal left by a killed writer; the
         files are put back from a pristine copy after every run that checkpointed them (ours does)
For each database, rounds of ours (`python -m wizard backup`, throwaway XDG folders, as bench_ours) and
restic's first backup into a fresh repository (the database file plus its -wal when there is one); the
order alternates from one round to the next. Per database: medians, the median of the per-round ratios
ours/restic with its min and max, the spread of our times ((max-min)/median), peak RSS, archive size.
`--zip-size` adds, once per database, the size of `sqlite3 .backup` + `zip -6` (slow). `--cold` drops the
page cache before every run (root). `--big 4GiB` adds bench's database at that size (`--big-repeat`
rounds) and its seconds per GiB against the --size one. `--restore` times, per database, the archive of
the last round restored by `python -m wizard restore ARCHIVE --to DIR` against `unzip -q ARCHIVE -d DIR`,
each into an empty folder. Ends with a markdown table for docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_backup import (
    GNU_TIME,
    bench_baseline,
    bench_ours,
    cpu_name,
    human,
    isolated_env,
    prepare_database,
    run,
    tool_versions,
    tree_bytes,
)
from bench.make_other_db import KINDS, prepare_other_database, reset_database
from bench.make_pos_db import parse_size

DATABASES = ("bench", *KINDS)
# Issue 21's targets.
TARGET_MEDIAN = 0.5  # ours/restic, median of the rounds
TARGET_WORST = 0.7  # ours/restic, no single round above
TARGET_RSS_MB = 150.0
TARGET_ZIP = 1.15  # archive / zip -6
TARGET_RESTORE = 0.5  # ours/unzip
DROP_CACHES = Path("/proc/sys/vm/drop_caches")


@dataclass
class Result:
    label: str
    db: Path
    input_bytes: int
    facts: str
    ours: list[float] = field(default_factory=list)
    restic: list[float] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    archive: list[int] = field(default_factory=list)
    restic_repo: list[int] = field(default_factory=list)
    zip_bytes: int | None = None
    restore: list[float] = field(default_factory=list)
    unzip: list[float] = field(default_factory=list)
    restore_rss_mb: list[float] = field(default_factory=list)
    put_back: int = 0  # runs after which the files were put back from the pristine copy

    @property
    def ratios(self) -> list[float]:
        return [o / r for o, r in zip(self.ours, self.restic)]

    @property
    def restore_ratios(self) -> list[float]:
        return [o / u for o, u in zip(self.restore, self.unzip)]

    def spread(self) -> float:
        return (max(self.ours) - min(self.ours)) / statistics.median(self.ours)


def db_files(db: Path) -> list[Path]:
    """What restic is given: the database and its -wal when there is one (the -shm is only an index)."""
    wal = Path(f"{db}-wal")
    return [db, wal] if wal.exists() else [db]


def db_facts(db: Path) -> str:
    with open(db, "rb") as fh:
        header = fh.read(100)
    page = int.from_bytes(header[16:18], "big")
    wal = Path(f"{db}-wal")
    text = f"{human(db.stat().st_size)}, {page // 1024 if page >= 1024 else page} {'KiB' if page >= 1024 else 'B'} pages"
    if wal.exists() and wal.stat().st_size:
        text += f", -wal {human(wal.stat().st_size)}"
    generated = db.parent.parent / "facts.json"  # make_other_db's record of what it wrote
    if generated.exists():
        text += f", {json.loads(generated.read_text(encoding='utf-8'))['blob_share']:.0%} BLOB bytes"
    return text


def settle(db: Path, cold: bool) -> bool:
    """Before every timed run: the database as generated, nothing left to write back, and its pages in the
    page cache (warm) or the whole cache dropped (cold). Read again before every run, because this VM's
    DAMON reclaim evicts pages untouched for a minute: without it the first tool after a pause read the
    disk and the next one did not (docs/performance.md, "The variance").
    True when the files had to be put back (the previous run checkpointed the -wal)."""
    put_back = reset_database(db)
    os.sync()
    if cold:
        DROP_CACHES.write_text("3\n")
    else:
        warm(db_files(db))
    return put_back


def warm(paths: list[Path]) -> None:
    for path in paths:
        with open(path, "rb") as fh:
            while fh.read(16 * 1024 * 1024):
                pass


def timed(cmd: list[str], **kwargs) -> tuple[float, float]:
    """(seconds, peak RSS MB) of one command, through GNU time when installed."""
    if GNU_TIME.exists():
        cmd = [str(GNU_TIME), "-v", *cmd]
    started = time.perf_counter()
    proc = run(cmd, **kwargs)
    elapsed = time.perf_counter() - started
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return elapsed, int(match.group(1)) / 1024 if match else float("nan")


def bench_restic(files: list[Path], scratch: Path) -> tuple[float, int]:
    """restic's first backup of ``files`` into a fresh repository: (seconds of the backup, repository bytes)."""
    repo, cache = scratch / "restic-repo", scratch / "restic-cache"
    for folder in (repo, cache):
        shutil.rmtree(folder, ignore_errors=True)
    env = {**os.environ, "RESTIC_PASSWORD": "bench", "RESTIC_CACHE_DIR": str(cache)}
    run(["restic", "init", "--repo", str(repo)], env=env)
    os.sync()  # init's writes are not the backup's
    started = time.perf_counter()
    run(["restic", "backup", "--repo", str(repo), *map(str, files)], env=env)
    elapsed = time.perf_counter() - started
    size = tree_bytes(repo)
    shutil.rmtree(repo)
    shutil.rmtree(cache, ignore_errors=True)
    return elapsed, size


def empty_folder(folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


def bench_restore(archive: Path, scratch: Path) -> tuple[float, float]:
    """``respaldos restore ARCHIVE --to DIR`` into an empty folder: (seconds, peak RSS MB)."""
    out, home = scratch / "restored", scratch / "xdg-restore"
    empty_folder(home)
    cmd = [sys.executable, "-m", "wizard", "restore", str(archive), "--to", str(empty_folder(out))]
    os.sync()
    result = timed(cmd, cwd=ROOT, env=isolated_env(home))
    if not any(out.rglob("*.db")):
        raise SystemExit(f"the restore of {archive} wrote no database into {out}")
    shutil.rmtree(out)
    return result


def bench_unzip(archive: Path, scratch: Path) -> float:
    out = empty_folder(scratch / "unzipped")
    os.sync()
    seconds, _ = timed(["unzip", "-q", str(archive), "-d", str(out)])
    shutil.rmtree(out)
    return seconds


def measure(result: Result, scratch: Path, repeat: int, cold: bool, restore: bool, zip_size: bool) -> None:
    db = result.db
    keep = scratch / "last.zip"

    def ours(rep: int) -> None:
        result.put_back += settle(db, cold)
        seconds, size, rss, cpu = bench_ours(db, scratch, keep=keep if rep == repeat else None)
        result.ours.append(seconds)
        result.archive.append(size)
        result.rss_mb.append(rss)
        result.cpu.append(cpu)
        print(f"  [{rep}/{repeat}] ours    {seconds:7.2f} s  {human(size)}  peak RSS {rss:.0f} MB  CPU {cpu:.1f} s",
              flush=True)

    def restic(rep: int) -> None:
        result.put_back += settle(db, cold)
        seconds, size = bench_restic(db_files(db), scratch)
        result.restic.append(seconds)
        result.restic_repo.append(size)
        print(f"  [{rep}/{repeat}] restic  {seconds:7.2f} s  {human(size)}", flush=True)

    for rep in range(1, repeat + 1):
        for step in ((ours, restic) if rep % 2 else (restic, ours)):
            step(rep)
        print(f"  [{rep}/{repeat}] ours/restic {result.ratios[-1]:.3f}", flush=True)

    if zip_size:
        settle(db, cold=False)
        _, result.zip_bytes = bench_baseline(db, scratch)
        reset_database(db)  # sqlite3 checkpointed a -wal on close
        print(f"  sqlite3 .backup + zip -6: {human(result.zip_bytes)}; ours/zip -6 "
              f"{statistics.median(result.archive) / result.zip_bytes:.3f}", flush=True)

    if restore:
        def ours_restore(rep: int) -> None:
            if cold:
                settle(db, cold)
            seconds, rss = bench_restore(keep, scratch)
            result.restore.append(seconds)
            result.restore_rss_mb.append(rss)
            print(f"  [{rep}/{repeat}] restore {seconds:7.2f} s  peak RSS {rss:.0f} MB", flush=True)

        def unzip(rep: int) -> None:
            if cold:
                settle(db, cold)
            result.unzip.append(bench_unzip(keep, scratch))
            print(f"  [{rep}/{repeat}] unzip   {result.unzip[-1]:7.2f} s", flush=True)

        for rep in range(1, repeat + 1):
            for step in ((ours_restore, unzip) if rep % 2 else (unzip, ours_restore)):
                step(rep)
            print(f"  [{rep}/{repeat}] restore/unzip {result.restore_ratios[-1]:.3f}", flush=True)
    keep.unlink(missing_ok=True)
    reset_database(db)  # the cache is left as generated


def prepare(name: str, workdir: Path, size: int, seed: int) -> Path:
    if name == "bench":
        return prepare_database(workdir, size, seed)
    return prepare_other_database(workdir, size, name, seed)


def input_bytes(db: Path) -> int:
    return sum(p.stat().st_size for p in db_files(db))


def gib(n: int) -> float:
    return n / 1024**3


def verdicts(result: Result) -> list[str]:
    """Issue 21's targets that this database misses (empty: all hold)."""
    misses = []
    ratios = result.ratios
    if statistics.median(ratios) > TARGET_MEDIAN:
        misses.append(f"median ours/restic {statistics.median(ratios):.3f} > {TARGET_MEDIAN}")
    if max(ratios) > TARGET_WORST:
        misses.append(f"worst round {max(ratios):.3f} > {TARGET_WORST}")
    if max(result.rss_mb) > TARGET_RSS_MB:
        misses.append(f"peak RSS {max(result.rss_mb):.0f} MB > {TARGET_RSS_MB:.0f}")
    if result.zip_bytes and statistics.median(result.archive) / result.zip_bytes > TARGET_ZIP:
        misses.append(f"size {statistics.median(result.archive) / result.zip_bytes:.3f} x zip -6 > {TARGET_ZIP}")
    if result.restore and statistics.median(result.restore_ratios) > TARGET_RESTORE:
        misses.append(f"restore/unzip {statistics.median(result.restore_ratios):.3f} > {TARGET_RESTORE}")
    return misses


def summary(result: Result) -> None:
    med = statistics.median
    ratios = result.ratios
    print(f"{result.label} ({result.facts}; input {human(result.input_bytes)}), {len(result.ours)} rounds:")
    print(f"  ours   median {med(result.ours):7.2f} s  (min {min(result.ours):.2f}, max {max(result.ours):.2f}, "
          f"spread {result.spread():.0%})  peak RSS {max(result.rss_mb):.0f} MB  CPU median {med(result.cpu):.1f} s"
          f"  archive {human(med(result.archive))}")
    print(f"  restic median {med(result.restic):7.2f} s  (min {min(result.restic):.2f}, max {max(result.restic):.2f})"
          f"  repository {human(med(result.restic_repo))}")
    print(f"  ours/restic per round: median {med(ratios):.3f}, min {min(ratios):.3f}, max {max(ratios):.3f}; "
          f"ratio of medians {med(result.ours) / med(result.restic):.3f}")
    if result.zip_bytes:
        print(f"  size: ours {human(med(result.archive))} = {med(result.archive) / result.zip_bytes:.3f} x zip -6 "
              f"({human(result.zip_bytes)})")
    if result.restore:
        rr = result.restore_ratios
        print(f"  restore median {med(result.restore):.2f} s, unzip median {med(result.unzip):.2f} s; restore/unzip "
              f"per round median {med(rr):.3f} (min {min(rr):.3f}, max {max(rr):.3f}); peak RSS "
              f"{max(result.restore_rss_mb):.0f} MB")
    if result.put_back:
        print(f"  the database and its -wal were put back from the pristine copy {result.put_back} times "
              "(after runs that checkpointed them)")
    misses = verdicts(result)
    print("  targets: " + ("all hold" if not misses else "MISSED: " + "; ".join(misses)))


def table(results: list[Result]) -> list[str]:
    med = statistics.median
    rows = ["| database | ours median | restic median | ratio median (min-max) | spread | peak RSS | size |",
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        size = human(med(r.archive))
        if r.zip_bytes:
            size += f" ({med(r.archive) / r.zip_bytes:.2f}x zip -6)"
        ratios = r.ratios
        rows.append(f"| {r.label} ({r.facts}) | {med(r.ours):.1f} s | {med(r.restic):.1f} s | {med(ratios):.2f} "
                    f"({min(ratios):.2f}-{max(ratios):.2f}) | {r.spread():.0%} | {max(r.rss_mb):.0f} MB | {size} |")
    for r in results:
        if r.restore:
            rr = r.restore_ratios
            spread = (max(r.restore) - min(r.restore)) / med(r.restore)
            rows.append(f"| restore of {r.label}'s archive (`respaldos restore` vs `unzip -q`) | {med(r.restore):.1f} s "
                        f"| {med(r.unzip):.1f} s (unzip) | {med(rr):.2f} ({min(rr):.2f}-{max(rr):.2f}) | {spread:.0%} "
                        f"| {max(r.restore_rss_mb):.0f} MB | |")
    return rows


def keep_logs(scratch: Path, workdir: Path) -> None:
    """A failed run's logs outlive the scratch folder: copied to WORKDIR/failed-logs-TIME/."""
    logs = list(scratch.glob("xdg*/**/*.log"))
    if logs:
        target = workdir / time.strftime("failed-logs-%Y%m%d-%H%M%S")
        target.mkdir(parents=True, exist_ok=True)
        for log in logs:
            shutil.copy2(log, target / f"{log.relative_to(scratch).parts[0]}-{log.name}")
        print(f"logs of the failed run kept in {target}", file=sys.stderr)


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    """The options bench_speed.py and bench_phases.py share: which databases, their size, cold runs, where."""
    parser.add_argument("--databases", default=",".join(DATABASES),
                        help=f"comma-separated, among {', '.join(DATABASES)} (all)")
    parser.add_argument("--size", type=parse_size, default=parse_size("1GiB"), help="database size (1GiB)")
    parser.add_argument("--cold", action="store_true", help="drop the page cache before every run (root)")
    parser.add_argument("--workdir", type=Path, default=Path("/var/tmp/respaldos-bench"),
                        help="cached databases and scratch space (/var/tmp/respaldos-bench)")
    parser.add_argument("--seed", type=int, default=0, help="generators' seed (0)")


def chosen_databases(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The names given to --databases, checked (and --cold's access), or the parser's error."""
    names = [n.strip() for n in args.databases.split(",") if n.strip()]
    unknown = [n for n in names if n not in DATABASES]
    if unknown or not names:
        parser.error(f"--databases: unknown {unknown}, choose among {', '.join(DATABASES)}")
    if args.cold and not os.access(DROP_CACHES, os.W_OK):
        parser.error(f"--cold needs to write {DROP_CACHES} (run as root)")
    return names


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_database_arguments(parser)
    parser.add_argument("--repeat", type=int, default=5, help="rounds per database (5)")
    parser.add_argument("--big", type=parse_size, default=None, help="also bench's database at this size (e.g. 4GiB)")
    parser.add_argument("--big-repeat", type=int, default=2, help="rounds for --big (2)")
    parser.add_argument("--restore", action="store_true", help="also restore against unzip, per database")
    parser.add_argument("--zip-size", action="store_true", help="also the size of sqlite3 .backup + zip -6 (slow)")
    args = parser.parse_args(argv)
    names = chosen_databases(parser, args)
    if args.repeat < 1 or args.big_repeat < 1:
        parser.error("--repeat and --big-repeat must be at least 1")
    tools = ["restic", "sqlite3"] + (["zip"] if args.zip_size else []) + (["unzip"] if args.restore else [])
    for tool in tools:
        if shutil.which(tool) is None:
            parser.error(f"{tool} is not installed (apt-get install -y {tool})")

    args.workdir.mkdir(parents=True, exist_ok=True)
    plan = [(name, name, args.size, args.repeat) for name in names]
    if args.big:
        plan.append((f"bench {human(args.big)}", "bench", args.big, args.big_repeat))
    databases = [(label, prepare(kind, args.workdir, size, args.seed), repeat) for label, kind, size, repeat in plan]
    load_start = os.getloadavg()
    started = time.time()
    results = []
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="scratch-speed-") as tmp:
        for label, db, repeat in databases:
            reset_database(db)
            result = Result(label, db, input_bytes(db), db_facts(db))
            print(f"\n== {label}: {db} ({result.facts})", flush=True)
            try:
                measure(result, Path(tmp), repeat, args.cold, args.restore, args.zip_size)
            except SystemExit:
                keep_logs(Path(tmp), args.workdir)
                raise
            results.append(result)
    load_end = os.getloadavg()
    command = "python bench/bench_speed.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    cache = "cold (page cache dropped before every run)" if args.cold else "warm page cache"

    print()
    print(f"{os.cpu_count()} CPUs ({cpu_name()}), {cache}, load average {load_start[0]:.2f} {load_start[1]:.2f} "
          f"{load_start[2]:.2f} at the start, {load_end[0]:.2f} {load_end[1]:.2f} {load_end[2]:.2f} at the end, "
          f"{(time.time() - started) / 60:.1f} min")
    for result in results:
        summary(result)
    base = next((r for r in results if r.label == "bench"), None)
    big = next((r for r in results if r.label.startswith("bench ")), None)
    if big is not None:
        per_gib = {r.label: (statistics.median(r.ours) / gib(r.input_bytes),
                             statistics.median(r.restic) / gib(r.input_bytes)) for r in (base, big) if r}
        for label, (ours, restic) in per_gib.items():
            print(f"  {label}: ours {ours:.2f} s/GiB, restic {restic:.2f} s/GiB")
        if base is not None:
            growth = per_gib[big.label][0] / per_gib[base.label][0]
            print(f"  linearity: ours s/GiB at {human(big.input_bytes)} / at {human(base.input_bytes)} = {growth:.3f} "
                  f"(1.0 is linear; restic {per_gib[big.label][1] / per_gib[base.label][1]:.3f})")

    print()
    print(f"Measured with `{command.strip()}` on {os.cpu_count()} cores ({cpu_name()}), {cache}, medians of "
          f"interleaved rounds (order alternating), load average {load_start[0]:.2f}-{load_end[0]:.2f}, "
          f"{time.strftime('%Y-%m-%d')}; {tool_versions()}.")
    print()
    for row in table(results):
        print(row)
    return 0 if all(not verdicts(r) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
