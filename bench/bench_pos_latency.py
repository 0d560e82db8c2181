"""How long the POS waits to commit a sale while a backup copies its database (target: p99 at most 50 ms
in WAL mode).

    python bench/bench_pos_latency.py [--rows 150000] [--runs 3] [--journal wal delete]

A POS stand-in (``tests/pos_writer.py``) commits one sale every 2 ms into a POS-like SQLite database
(``tests.helpers.make_sales_db``) while ``run_backup`` copies it; every commit's latency is recorded. The
same writer alone, for as long, gives the floor. The test suite only asserts what must always hold (no
error in the POS, every sale committed before the backup in the archive: tests/core/test_backup.py); the
latency depends on the machine and its load, so it is measured here.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
TARGET_P99_MS = 50.0


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * fraction) - 1)]


def run_writer(db: Path, work: Path, during) -> dict:
    """Start the POS writer, wait until it sells, run ``during()``, stop it; its report."""
    stop, out = work / "stop", work / "writer.json"
    for leftover in (stop, out, Path(f"{out}.ready")):
        leftover.unlink(missing_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "tests.pos_writer", str(db), str(stop), str(out)], cwd=REPO)
    deadline = time.monotonic() + 30
    while not Path(f"{out}.ready").exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("the POS writer did not start")
        time.sleep(0.01)
    try:
        seconds = during()
    finally:
        stop.touch()
        proc.wait(timeout=30)
    report = json.loads(out.read_text())
    report["seconds"] = seconds
    return report


def one_run(rows: int, journal: str, work: Path) -> tuple[dict, dict]:
    from tests.helpers import make_sales_db
    from wizard.core import backup, config

    data, dest = work / "datos", work / "respaldos"
    for folder in (data, dest):
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
    db = make_sales_db(data / "pos.sdb", rows=rows, journal=journal)
    cfg = config.Config()
    cfg.source.paths = [str(data)]
    cfg.destination.folder = str(dest)

    def back_up() -> float:
        t0 = time.perf_counter()
        result = backup.run_backup(cfg)
        if result.status != "ok":
            raise SystemExit(f"the backup failed: {result.message}")
        return time.perf_counter() - t0

    during = run_writer(db, work, back_up)
    alone = run_writer(db, work, lambda: (time.sleep(during["seconds"]), during["seconds"])[1])
    return during, alone


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=150_000, help="sales in the database (150000: about 40 MB)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--journal", nargs="+", default=["wal", "delete"], choices=["wal", "delete"])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="respaldos-bench-latency-") as tmp:
        for journal in args.journal:
            p99s, floors, maxima, errors = [], [], [], 0
            for _ in range(args.runs):
                during, alone = one_run(args.rows, journal, Path(tmp))
                errors += len(during["errors"])
                p99s.append(percentile(during["latencies"], 0.99) * 1000)
                maxima.append(max(during["latencies"]) * 1000)
                floors.append(percentile(alone["latencies"], 0.99) * 1000)
            p99 = statistics.median(p99s)
            verdict = "met" if p99 <= TARGET_P99_MS else "NOT met"
            print(f"{journal:6} commit latency during a backup: p99 {p99:.1f} ms (runs: "
                  f"{', '.join(f'{v:.1f}' for v in p99s)}), longest {statistics.median(maxima):.1f} ms; "
                  f"POS alone p99 {statistics.median(floors):.1f} ms; POS errors {errors}")
            if journal == "wal":
                print(f"       target p99 <= {TARGET_P99_MS:.0f} ms in WAL mode: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
