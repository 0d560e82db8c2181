"""Our backup against `sqlite3 .backup && zip -6` and restic, side by side on one POS database.

    python bench/bench_backup.py [--size 1GiB] [--repeat 3] [--workdir DIR] [--seed N]

One generated database (cached in the work folder and reused) is backed up by:
  (a) baseline: sqlite3 DB ".backup SNAP" && zip -6 OUT.zip SNAP   (time and ZIP size)
  (b) restic:   restic backup DB into a fresh repository             (time of the backup only)
  (c) ours:     python -m wizard backup --config CFG                 (time, peak RSS, archive size)
Runs are interleaved a, b, c, a, b, c... so that the machine's noise hits all three alike; the
medians and the ratios against the targets of issue 2 section 4 are printed, then a markdown table
for docs/performance.md. Our run uses throwaway XDG folders, so the user's history and settings are untouched.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.make_pos_db import parse_size
from wizard.core.demo import make_pos_database

TARGETS = {
    "ours/baseline time": 0.15,
    "ours/restic time": 0.8,
    "ours/zip -6 size": 1.15,
    "ours peak RSS MB": 150.0,
}
GNU_TIME = Path("/usr/bin/time")


@dataclass
class Samples:
    seconds: list[float] = field(default_factory=list)
    out_bytes: list[int] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)
    cpu_seconds: list[float] = field(default_factory=list)


def human(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, **kwargs)
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {shlex.join(cmd)}\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return proc


def tree_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def prepare_database(workdir: Path, size: int, seed: int) -> Path:
    """The POS database in its own folder (our backup's source), generated once and then reused."""
    source = workdir / f"tienda_{size}_{seed}"
    db = source / "punto_de_venta.db"
    if db.exists() and abs(db.stat().st_size - size) <= 0.05 * size:
        print(f"reusing {db} ({human(db.stat().st_size)})")
        return db
    if source.exists():
        shutil.rmtree(source)
    source.mkdir(parents=True)
    print(f"generating {db} ({human(size)})...", flush=True)
    started = time.perf_counter()
    make_pos_database(db, size, seed=seed, journal_mode="wal")
    print(f"  {human(db.stat().st_size)} in {time.perf_counter() - started:.1f} s")
    return db


def bench_baseline(db: Path, scratch: Path) -> tuple[float, int]:
    snap, out = scratch / "snap.db", scratch / "out.zip"
    for leftover in (snap, out):
        leftover.unlink(missing_ok=True)
    command = f"sqlite3 {shlex.quote(str(db))} {shlex.quote(f'.backup {snap}')} && zip -q -6 {out} {snap}"
    started = time.perf_counter()
    run(["sh", "-c", command], cwd=scratch)
    elapsed = time.perf_counter() - started
    size = out.stat().st_size
    snap.unlink()
    out.unlink()
    return elapsed, size


def bench_restic(db: Path, scratch: Path) -> tuple[float, int]:
    repo, cache = scratch / "restic-repo", scratch / "restic-cache"
    for folder in (repo, cache):
        shutil.rmtree(folder, ignore_errors=True)
    env = {**os.environ, "RESTIC_PASSWORD": "bench", "RESTIC_CACHE_DIR": str(cache)}
    run(["restic", "init", "--repo", str(repo)], env=env)
    started = time.perf_counter()
    run(["restic", "backup", "--repo", str(repo), str(db)], env=env)
    elapsed = time.perf_counter() - started
    size = tree_bytes(repo)
    shutil.rmtree(repo)
    shutil.rmtree(cache, ignore_errors=True)
    return elapsed, size


def toml_string(path: Path) -> str:
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def ours_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "wizard", "backup", "--config", str(config)]


def isolated_env(home: Path) -> dict[str, str]:
    """The environment for our program in a benchmark: its own HOME and XDG folders under ``home`` (the
    user's history and settings untouched), this checkout on the path, no RESPALDOS_CONFIG."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(home)}
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(home / var.lower())
    env.pop("RESPALDOS_CONFIG", None)
    return env


def bench_ours(db: Path, scratch: Path, configure=None, keep: Path | None = None) -> tuple[float, int, float, float]:
    """One backup of ``db``'s folder: (seconds, archive bytes, peak RSS MB, CPU seconds). ``configure(path)``
    may add to the config file; the archive is moved to ``keep`` when given, else deleted."""
    dest, home = scratch / "destino", scratch / "xdg"
    for folder in (dest, home):
        shutil.rmtree(folder, ignore_errors=True)
    dest.mkdir()
    config = scratch / "respaldos.toml"
    config.write_text(
        f"[source]\npaths = [{toml_string(db.parent)}]\n[destination]\nfolder = {toml_string(dest)}\n",
        encoding="utf-8",
    )
    if configure is not None:
        configure(config)
    env = isolated_env(home)
    command = ours_command(config)
    if GNU_TIME.exists():
        command = [str(GNU_TIME), "-v"] + command
    else:
        # A wrapper whose only child is our backup: its RUSAGE_CHILDREN peak is ours alone.
        wrapper = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]).returncode; "
                   "print(f'Maximum resident set size (kbytes): "
                   "{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}', file=sys.stderr); sys.exit(r)")
        command = [sys.executable, "-c", wrapper] + command
    started = time.perf_counter()
    proc = run(command, cwd=ROOT, env=env)
    elapsed = time.perf_counter() - started
    match = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    rss_mb = int(match.group(1)) / 1024 if match else float("nan")
    cpu = sum(float(m) for m in re.findall(r"(?:User|System) time \(seconds\): ([0-9.]+)", proc.stderr))
    archives = sorted(dest.glob("respaldo_*.zip"))
    if len(archives) != 1:
        raise SystemExit(f"expected one archive in {dest}, found {archives}\n{proc.stdout}")
    size = archives[0].stat().st_size
    if keep is not None:
        os.replace(archives[0], keep)
    shutil.rmtree(dest)
    return elapsed, size, rss_mb, cpu or float("nan")


def tool_versions() -> str:
    def version(cmd: list[str], pattern: str) -> str:
        try:
            out = subprocess.run(cmd, check=False, capture_output=True, text=True).stdout
        except OSError:
            return "?"
        match = re.search(pattern, out)
        return match.group(0) if match else "?"

    return ", ".join([
        "sqlite3 " + version(["sqlite3", "--version"], r"^\S+"),
        version(["zip", "-v"], r"Zip \d[\d.]*"),
        version(["restic", "version"], r"restic \S+"),
        f"Python {platform.python_version()}",
    ])


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("1GiB"), help="database size (1GiB)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each tool, interleaved (3)")
    parser.add_argument("--workdir", type=Path, default=Path("/var/tmp/respaldos-bench"),
                        help="cached database and scratch space (/var/tmp/respaldos-bench)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (0)")
    args = parser.parse_args(argv)
    for tool in ("sqlite3", "zip", "restic"):
        if shutil.which(tool) is None:
            parser.error(f"{tool} is not installed (apt-get install -y sqlite3 zip restic)")

    args.workdir.mkdir(parents=True, exist_ok=True)
    db = prepare_database(args.workdir, args.size, args.seed)
    load_start = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    db_bytes = db.stat().st_size
    samples = {"baseline": Samples(), "restic": Samples(), "ours": Samples()}
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="scratch-") as tmp:
        scratch = Path(tmp)
        # Warm the page cache once so that the first tool does not pay for the disk alone.
        with open(db, "rb") as fh:
            while fh.read(16 * 1024 * 1024):
                pass
        for rep in range(1, args.repeat + 1):
            seconds, size = bench_baseline(db, scratch)
            samples["baseline"].seconds.append(seconds)
            samples["baseline"].out_bytes.append(size)
            print(f"[{rep}/{args.repeat}] baseline  {seconds:7.2f} s  {human(size)}", flush=True)
            seconds, size = bench_restic(db, scratch)
            samples["restic"].seconds.append(seconds)
            samples["restic"].out_bytes.append(size)
            print(f"[{rep}/{args.repeat}] restic    {seconds:7.2f} s  {human(size)}", flush=True)
            seconds, size, rss, cpu = bench_ours(db, scratch)
            samples["ours"].seconds.append(seconds)
            samples["ours"].out_bytes.append(size)
            samples["ours"].rss_mb.append(rss)
            samples["ours"].cpu_seconds.append(cpu)
            print(f"[{rep}/{args.repeat}] ours      {seconds:7.2f} s  {human(size)}  peak RSS {rss:.0f} MB"
                  f"  CPU {cpu:.1f} s", flush=True)

    med = {name: (statistics.median(s.seconds), statistics.median(s.out_bytes)) for name, s in samples.items()}
    ours_rss = max(samples["ours"].rss_mb)
    ratios = {
        "ours/baseline time": med["ours"][0] / med["baseline"][0],
        "ours/restic time": med["ours"][0] / med["restic"][0],
        "ours/zip -6 size": med["ours"][1] / med["baseline"][1],
        "ours peak RSS MB": ours_rss,
    }
    command = "python bench/bench_backup.py " + shlex.join(argv if argv is not None else sys.argv[1:])
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")

    print()
    print(f"database: {human(db_bytes)} ({db_bytes:,} bytes), {args.repeat} runs each, medians; "
          f"{os.cpu_count()} CPUs ({cpu_name()}), load {load_start:.1f} at the start, {load:.1f} at the end")
    for name, (seconds, size) in med.items():
        extra = f"  peak RSS {ours_rss:.0f} MB (max of runs)" if name == "ours" else ""
        print(f"  {name:9s} {seconds:7.2f} s  {human(size):>10s}  ({size / db_bytes:.3f} of input){extra}")
    for name, value in ratios.items():
        verdict = "ok" if value <= TARGETS[name] else "OVER TARGET"
        print(f"  {name:20s} {value:7.3f}  (target <= {TARGETS[name]:g})  {verdict}")
    # On a shared machine a slow moment hits the three tools of one round alike: ratios within a round
    # are steadier than ratios of medians.
    paired_baseline = statistics.median(o / b for o, b in zip(samples["ours"].seconds, samples["baseline"].seconds))
    paired_restic = statistics.median(o / r for o, r in zip(samples["ours"].seconds, samples["restic"].seconds))
    print(f"  per-round medians: ours/baseline {paired_baseline:.3f}, ours/restic {paired_restic:.3f}; "
          f"our CPU time (user+sys) median {statistics.median(samples['ours'].cpu_seconds):.1f} s")

    print()
    print(f"Measured with `{command.strip()}` on {os.cpu_count()} cores ({cpu_name()}), "
          f"{human(db_bytes)} POS database, median of {args.repeat} interleaved runs, load average "
          f"{load_start:.1f}-{load:.1f}, {time.strftime('%Y-%m-%d')}; {tool_versions()}.")
    print()
    print("| | time | output size | peak memory |")
    print("| --- | --- | --- | --- |")
    print(f"| `sqlite3 .backup` + `zip -6` | {med['baseline'][0]:.1f} s | {human(med['baseline'][1])} | |")
    print(f"| `restic backup` (first, new repository) | {med['restic'][0]:.1f} s | {human(med['restic'][1])} | |")
    print(f"| Respaldos (`respaldos backup`, verified) | {med['ours'][0]:.1f} s | {human(med['ours'][1])} "
          f"| {ours_rss:.0f} MB |")
    print()
    print("| ratio | measured | target |")
    print("| --- | --- | --- |")
    for name, value in ratios.items():
        print(f"| {name} | {value:.3f} | <= {TARGETS[name]:g} |")
    return 0 if all(ratios[name] <= TARGETS[name] for name in ratios) else 1


if __name__ == "__main__":
    sys.exit(main())
