"""A POS that keeps selling: commits one sale at a time until a stop file appears.

Run as ``python -m tests.pos_writer DB STOP OUT [--busy-ms N]``; writes a JSON report to OUT with the
number of sales, the errors seen and every commit's latency.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("db")
    parser.add_argument("stop")
    parser.add_argument("out")
    parser.add_argument("--busy-ms", type=int, default=5000)
    parser.add_argument("--interval", type=float, default=0.002)
    args = parser.parse_args()
    conn = sqlite3.connect(args.db, timeout=args.busy_ms / 1000, isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout={args.busy_ms}")
    latencies: list[float] = []
    errors: list[str] = []
    stop = Path(args.stop)
    ready = Path(args.out + ".ready")
    n = 0
    while not stop.exists():
        t0 = time.perf_counter()
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO sales (ts, total, note) VALUES (datetime('now'), ?, ?)",
                         (n * 2.5, f"venta en vivo {n}"))
            conn.execute("COMMIT")
            n += 1
        except sqlite3.Error as exc:
            errors.append(str(exc))
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
        latencies.append(time.perf_counter() - t0)
        if n == 20:
            ready.touch()
        time.sleep(args.interval)
    conn.close()
    Path(args.out).write_text(json.dumps({"sales": n, "errors": errors, "latencies": latencies}))


if __name__ == "__main__":
    main()
