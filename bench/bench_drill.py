"""A restore drill of a backup against doing the same by hand, side by side, and the POS's commit latency
while a drill runs (issue 17).

    python bench/bench_drill.py [--size 1GiB] [--repeat 3] [--workdir DIR] [--seed N] [--latency-rows 150000]

One generated POS database (bench/bench_backup.py's, cached in the work folder) is backed up once by our
backup; then, interleaved so that the machine's noise hits both alike:
  (a) by hand:  unzip -q ARCHIVE -d DIR && sqlite3 DIR/.../punto_de_venta.db "PRAGMA integrity_check"
  (b) ours:     python -m wizard test-restore ARCHIVE --json   (time, peak RSS; it also checks every
                member's SHA-256, counts the rows of every table and finds the newest date)
Targets: ours at most the time by hand; peak RSS at most 150 MB; the drill's extraction (its log line:
verifying the archive and writing the databases into the sandbox, without the database checks) at most 0.5x
the `unzip -q` part of (a), run for run (issue 21). Then the POS writer of
bench/bench_pos_latency.py commits a sale every 2 ms into its own database while a drill runs (at low
priority), and alone for as long: the p99 commit latency of both.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_backup import GNU_TIME, bench_ours, human, isolated_env, prepare_database, run, toml_string
from bench.bench_pos_latency import percentile, run_writer
from bench.make_pos_db import parse_size

TARGET_RATIO = 1.0
TARGET_EXTRACT_RATIO = 0.5
TARGET_RSS_MB = 150.0


def by_hand(archive: Path, scratch: Path) -> tuple[float, float]:
    """(seconds of the whole, seconds of its `unzip` alone)."""
    out = scratch / "a_mano"
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    run(["unzip", "-q", str(archive), "-d", str(out)])
    unzipped = time.perf_counter() - started
    (db,) = list(out.rglob("punto_de_venta.db"))
    check = run(["sqlite3", str(db), "PRAGMA integrity_check"])
    elapsed = time.perf_counter() - started
    if check.stdout.strip() != "ok":
        raise SystemExit(f"integrity_check by hand: {check.stdout[:500]}")
    shutil.rmtree(out)
    return elapsed, unzipped


DRILL_LINE = re.compile(r"drill of \S+: passed \(extraction ([0-9.]+) s, database checks ([0-9.]+) s\)")


def drill_phases(home: Path) -> tuple[float, float]:
    """(extraction, database checks) in seconds, from the drill's own log line (wizard/core/drill/run.py)."""
    for log in sorted(home.rglob("respaldos.log")):
        found = DRILL_LINE.findall(log.read_text(encoding="utf-8", errors="replace"))
        if found:
            return float(found[-1][0]), float(found[-1][1])
    raise SystemExit(f"no 'drill of ...: passed (extraction ...)' line in a respaldos.log under {home}")


def drill_command(archive: Path, config: Path) -> list[str]:
    return [sys.executable, "-m", "wizard", "test-restore", str(archive), "--config", str(config), "--json"]


def ours(archive: Path, scratch: Path) -> tuple[float, float, dict]:
    """One drill in a new process: (seconds, peak RSS MB, its JSON); its log stays in ``scratch``/xdg."""
    home = scratch / "xdg"
    shutil.rmtree(home, ignore_errors=True)
    config = scratch / "drill.toml"
    config.write_text(f"[source]\npaths = [{toml_string(scratch)}]\n"
                      f"[destination]\nfolder = {toml_string(archive.parent)}\n", encoding="utf-8")
    command = drill_command(archive, config)
    if GNU_TIME.exists():
        command = [str(GNU_TIME), "-v", *command]
    else:
        wrapper = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]).returncode; "
                   "print(f'Maximum resident set size (kbytes): "
                   "{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}', file=sys.stderr); sys.exit(r)")
        command = [sys.executable, "-c", wrapper, *command]
    started = time.perf_counter()
    proc = run(command, cwd=ROOT, env=isolated_env(home))
    elapsed = time.perf_counter() - started
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    result = json.loads(proc.stdout)
    if not result["ok"]:
        raise SystemExit(f"the drill failed: {result['problem']}")
    return elapsed, int(found.group(1)) / 1024 if found else float("nan"), result


def latency(archive: Path, scratch: Path, rows: int) -> tuple[float, float, float, int]:
    """(p99 ms during a drill, longest ms during it, p99 ms of the writer alone, POS errors)."""
    from tests.helpers import make_sales_db

    work = scratch / "latencia"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    db = make_sales_db(work / "pos.sdb", rows=rows, journal="wal")

    def drill() -> float:
        return ours(archive, scratch)[0]

    during = run_writer(db, work, drill)
    alone = run_writer(db, work, lambda: (time.sleep(during["seconds"]), during["seconds"])[1])
    return (percentile(during["latencies"], 0.99) * 1000, max(during["latencies"]) * 1000,
            percentile(alone["latencies"], 0.99) * 1000, len(during["errors"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("1GiB"), help="database size (1GiB)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, interleaved (3)")
    parser.add_argument("--workdir", type=Path, default=Path("/var/tmp/respaldos-bench"),
                        help="where the database is generated and kept (/var/tmp/respaldos-bench)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (0)")
    parser.add_argument("--latency-rows", type=int, default=150_000,
                        help="sales in the POS writer's database (150000: about 40 MB); 0 skips the latency")
    args = parser.parse_args(argv)
    for tool in ("unzip", "sqlite3"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is needed (apt-get install {tool})")
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = prepare_database(args.workdir, args.size, args.seed)
    with tempfile.TemporaryDirectory(prefix="drill-", dir=args.workdir) as tmp:
        scratch = Path(tmp)
        archive = scratch / "respaldo_2026-11-30_21-00-00.zip"
        print("backing up once...", flush=True)
        bench_ours(db, scratch, keep=archive)
        print(f"archive {human(archive.stat().st_size)} of a {human(db.stat().st_size)} database")
        hand, unzips, mine, extracts, rss = [], [], [], [], []
        result: dict = {}
        for i in range(args.repeat):
            whole, unzipped = by_hand(archive, scratch)
            hand.append(whole)
            unzips.append(unzipped)
            seconds, peak, result = ours(archive, scratch)
            mine.append(seconds)
            rss.append(peak)
            extract, checks = drill_phases(scratch / "xdg")
            extracts.append(extract)
            print(f"  run {i + 1}: by hand {hand[-1]:.2f} s (unzip {unzipped:.2f} s), drill {mine[-1]:.2f} s "
                  f"(extraction {extract:.2f} s, checks {checks:.2f} s; {rss[-1]:.0f} MB)", flush=True)
        h, m, r = statistics.median(hand), statistics.median(mine), max(rss)
        ratio = m / h
        extract_ratio = statistics.median(e / u for e, u in zip(extracts, unzips))
        print(f"\ndrill's extraction (verify every member, write the databases into the sandbox) ÷ `unzip -q` of "
              f"the same archive: median {extract_ratio:.2f} (target <= {TARGET_EXTRACT_RATIO:.1f}: "
              f"{'met' if extract_ratio <= TARGET_EXTRACT_RATIO else 'NOT met'}; issue 21)")
        tables = result["databases"][0]["tables"]
        print(f"drill: {m:.2f} s, by hand (unzip + sqlite3 integrity_check): {h:.2f} s, ratio {ratio:.2f} "
              f"(target <= {TARGET_RATIO:.1f}: {'met' if ratio <= TARGET_RATIO else 'NOT met'})")
        print(f"drill peak RSS {r:.0f} MB (target <= {TARGET_RSS_MB:.0f}: "
              f"{'met' if r <= TARGET_RSS_MB else 'NOT met'}); it also counted {sum(tables.values()):,} rows in "
              f"{len(tables)} tables, newest {result['databases'][0]['newest']}")
        lat = None
        if args.latency_rows:
            lat = latency(archive, scratch, args.latency_rows)
            print(f"POS commit latency during a drill: p99 {lat[0]:.1f} ms, longest {lat[1]:.1f} ms; POS alone "
                  f"p99 {lat[2]:.1f} ms; POS errors {lat[3]}")
        print("\n| database | by hand | drill | ratio | drill peak RSS |" + (" POS p99 during / alone |" if lat else ""))
        print("| --- | --- | --- | --- | --- |" + (" --- |" if lat else ""))
        print(f"| {human(db.stat().st_size)} | {h:.1f} s | {m:.1f} s | {ratio:.2f} | {r:.0f} MB |"
              + (f" {lat[0]:.1f} / {lat[2]:.1f} ms |" if lat else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
