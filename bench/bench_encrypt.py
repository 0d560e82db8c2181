"""Backups protected with a password (issue 19), measured side by side on one POS database.

    python bench/bench_encrypt.py [--size 1GiB] [--repeat 3] [--workdir DIR] [--seed N]

One generated database (bench_backup.py's, cached in the work folder) is backed up by
``python -m wizard backup`` twice per round, interleaved: without encryption and with
``[encryption] enabled = true, scope = "all"`` (the password from RESPALDOS_PASSWORD). Then the cloud-only
pass (``scope = "cloud"``: the verified plain archive copied encrypted, without re-compression) runs in a
child process on the plain archive, timed as the copy alone and the copy plus its verification with the
password. Printed: medians, the ratio encrypted/plain (target <= 1.25), the copy's throughput (target
>= 300 MB/s) and every peak RSS (target < 150 MB).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_backup import bench_ours, cpu_name, human, prepare_database, run
from bench.make_pos_db import parse_size

PASSWORD = "contraseña de prueba 2026"
TARGETS = {"encrypted/plain time": 1.25, "cloud pass MB/s": 300.0, "peak RSS MB": 150.0}

# The cloud pass in a child, so that its peak RSS is its own: prints one JSON line.
CLOUD_PASS = r"""
import json, resource, sys, time
from pathlib import Path
from wizard.core.archive.encrypt_copy import encrypt_archive
from wizard.core.archive.verify import verify_archive
source, folder, password = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
copy = folder / (source.name + ".part")
copy.unlink(missing_ok=True)
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
t0, c0 = time.perf_counter(), cpu()
encrypt_archive(source, copy, password)
t1, c1 = time.perf_counter(), cpu()
verify_archive(copy, passwords=[password])
t2, c2 = time.perf_counter(), cpu()
size = copy.stat().st_size
copy.unlink()
# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss across exec, so a child started by a large
# parent would report the parent's peak (seen: 469 MB for a 35 MB pass).
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"copy": t1 - t0, "verify": t2 - t1, "bytes": size, "copy_cpu": c1 - c0, "verify_cpu": c2 - c1,
                  "rss_mb": hwm / 1024}))
"""


def with_encryption(config: Path) -> None:
    config.write_text(config.read_text(encoding="utf-8") + '[encryption]\nenabled = true\nscope = "all"\n',
                      encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("1GiB"), help="database size (1GiB)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds (3)")
    parser.add_argument("--workdir", type=Path, default=Path("/var/tmp/respaldos-bench"),
                        help="cached database and scratch space (/var/tmp/respaldos-bench)")
    parser.add_argument("--seed", type=int, default=0, help="generator seed (0)")
    args = parser.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    db = prepare_database(args.workdir, args.size, args.seed)
    scratch = args.workdir / "scratch-encrypt"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    import os

    os.environ["RESPALDOS_PASSWORD"] = PASSWORD
    plain: list[tuple[float, int, float, float]] = []
    encrypted: list[tuple[float, int, float, float]] = []
    cloud: list[dict[str, float]] = []
    for round_ in range(1, args.repeat + 1):
        plain.append(bench_ours(db, scratch, keep=scratch / "plain.zip"))
        encrypted.append(bench_ours(db, scratch, configure=with_encryption))
        proc = run([sys.executable, "-c", CLOUD_PASS, str(scratch / "plain.zip"), str(scratch), PASSWORD], cwd=ROOT)
        cloud.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"round {round_}: plain {plain[-1][0]:.2f} s, encrypted {encrypted[-1][0]:.2f} s, "
              f"cloud copy {cloud[-1]['copy']:.2f} s + verify {cloud[-1]['verify']:.2f} s", flush=True)
    archive_bytes = (scratch / "plain.zip").stat().st_size
    p = statistics.median(s[0] for s in plain)
    e = statistics.median(s[0] for s in encrypted)
    copy = statistics.median(c["copy"] for c in cloud)
    verify = statistics.median(c["verify"] for c in cloud)
    rss = max([s[2] for s in plain + encrypted] + [c["rss_mb"] for c in cloud])
    mbps = archive_bytes / copy / 1e6
    print()
    print(f"database {human(db.stat().st_size)}, archive {human(archive_bytes)}; {cpu_name()}, "
          f"{os.cpu_count()} cores; medians of {args.repeat}")
    print("| measure | value | target |")
    print("| --- | --- | --- |")
    print(f"| backup without encryption | {p:.2f} s (peak {max(s[2] for s in plain):.0f} MB) | |")
    print(f"| backup encrypted (scope all) | {e:.2f} s (peak {max(s[2] for s in encrypted):.0f} MB) | |")
    print(f"| encrypted/plain time | {e / p:.2f} | <= {TARGETS['encrypted/plain time']} |")
    pc = statistics.median(s[3] for s in plain)
    ec = statistics.median(s[3] for s in encrypted)
    print(f"| CPU time (user+system): plain, encrypted, ratio | {pc:.1f} s, {ec:.1f} s, {ec / pc:.2f} | |")
    cc = statistics.median(c["copy_cpu"] for c in cloud)
    vc = statistics.median(c["verify_cpu"] for c in cloud)
    print(f"| cloud pass CPU time: copy, verification | {cc:.2f} s ({archive_bytes / cc / 1e6:.0f} MB per "
          f"CPU-second), {vc:.2f} s | |")
    print(f"| cloud pass: encrypted copy | {copy:.2f} s, {mbps:.0f} MB/s | >= {TARGETS['cloud pass MB/s']:.0f} MB/s |")
    print(f"| cloud pass: verification of the copy | {verify:.2f} s, {archive_bytes / verify / 1e6:.0f} MB/s | |")
    print(f"| cloud pass: both | {copy + verify:.2f} s, {archive_bytes / (copy + verify) / 1e6:.0f} MB/s | |")
    print(f"| peak RSS (every run) | {rss:.0f} MB | < {TARGETS['peak RSS MB']:.0f} MB |")
    shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
