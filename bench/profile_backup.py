"""Where the time of one backup goes: its phases, with wall and CPU time, and the whole run's peak memory.

    python bench/profile_backup.py [--size 1GiB] [--workdir DIR] [--seed N] [--repeat 1]

Backs up the same cached POS database as bench_backup.py, in this process, with run_backup's progress
events timing the phases: snapshot (the online backup API; large databases are compressed on the other
core meanwhile), compress (compression, quick_check of the copy and the read-back verification side by
side) and verify (the final pass over the finished file). Throwaway XDG folders, as in bench_backup.py.
For a comparison with other tools use bench_backup.py; this is for finding out what to work on.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_backup import prepare_database
from bench.make_pos_db import parse_size


def profile_once(source: Path, scratch: Path) -> None:
    from wizard.core.backup import run_backup
    from wizard.core.config import Config, DestinationConfig, SourceConfig

    dest = scratch / "destino"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir()
    marks: list[tuple[str, float, float]] = []

    def report(event: object) -> None:
        phase = getattr(event, "phase", None)
        if isinstance(phase, str) and (not marks or marks[-1][0] != phase):
            marks.append((phase, time.perf_counter(), time.process_time()))

    config = Config(source=SourceConfig(paths=[str(source)]), destination=DestinationConfig(folder=str(dest)))
    started, cpu_started = time.perf_counter(), time.process_time()
    result = run_backup(config, report=report)
    ended, cpu_ended = time.perf_counter(), time.process_time()
    if result.status != "ok":
        raise SystemExit(result.message)
    marks.append(("end", ended, cpu_ended))
    print(f"{result.archive.name if result.archive else '?'}: {result.size / 2**20:.1f} MiB")
    for (phase, t, c), (_next, t_next, c_next) in itertools.pairwise(marks):
        if t_next - t >= 0.005:
            print(f"  {phase:10s} {t_next - t:6.2f} s wall  {c_next - c:6.2f} s CPU")
    print(f"  {'total':10s} {ended - started:6.2f} s wall  {cpu_ended - cpu_started:6.2f} s CPU  "
          f"(load {os.getloadavg()[0]:.1f})")
    shutil.rmtree(dest)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("1GiB"), help="database size (1GiB)")
    parser.add_argument("--workdir", type=Path, default=Path("/var/tmp/respaldos-bench"),
                        help="cached database and scratch space (/var/tmp/respaldos-bench)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (0)")
    parser.add_argument("--repeat", type=int, default=1, help="runs (1)")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = prepare_database(args.workdir, args.size, args.seed)
    with tempfile.TemporaryDirectory(dir=args.workdir, prefix="profile-") as tmp:
        scratch = Path(tmp)
        for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
            os.environ[var] = str(scratch / var.lower())
        for _ in range(args.repeat):
            profile_once(db.parent, scratch)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
