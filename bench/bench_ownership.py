"""How long deciding whose archives are whose takes in a folder shared by several tills (target: well
under a second for hundreds of archives).

    python bench/bench_ownership.py [--archives 600] [--repeat 5]

Fills a temporary folder with real ZIP archives: a third this installation's (tagged names), a third
another installation's, a third made before installations had ids (no tag: their manifests are read once).
Each repeat runs, each in a fresh process, ``list_archives`` alone (a plain listing, the floor) and
``own_archives`` + the keep rules as local retention runs them: once without the owner cache (the first run
after upgrading: every untagged manifest is read) and once with it (every later run); medians and ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MINE = "3f2a9c1b-0d4e-4a8b-9c1d-2e3f4a5b6c7d"
OTHER = "9a8b7c6d-1111-4222-8333-444455556666"

CHILD = r"""
import sys, time
from wizard.core import backup, machine
from wizard.core.config import RetentionConfig
from wizard.core.retention import select_expired
folder, what = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if what == "list":
    found = backup.list_archives(folder)
else:
    me = machine.current("Caja 1")
    found = backup.own_archives(folder, me)
    select_expired([(a.created, a) for a in found], RetentionConfig(10, 7, 4, 12))
print(time.perf_counter() - t0, len(found))
"""


def make_archive(path: Path, machine_id: str | None) -> None:
    manifest = {"format": 1, "app": "Respaldos", "version": "bench", "created": "", "host": "CAJA",
                "sources": [{"path": "C:/POS/datos", "archive_path": "datos", "type": "folder"}],
                "files": [{"path": f"datos/f{i}.txt", "size": 5, "mtime": "", "sha256": "0" * 64}
                          for i in range(200)]}
    if machine_id:
        manifest["machine"] = {"id": machine_id, "name": "Caja", "host": "CAJA"}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(200):
            zf.writestr(f"datos/f{i}.txt", "hola\n")
        zf.writestr("respaldo.json", json.dumps(manifest))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archives", type=int, default=600)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ownership-") as tmp:
        folder = Path(tmp) / "USB"
        data = Path(tmp) / "datos"
        folder.mkdir()
        data.mkdir()
        (data / "equipo.json").write_text(json.dumps({"id": MINE}))
        start = datetime(2024, 1, 1, 20, 0, 0)
        for i in range(args.archives):
            when = (start + timedelta(hours=12 * i)).strftime("%Y-%m-%d_%H-%M-%S")
            kind = i % 3
            if kind == 0:
                make_archive(folder / f"respaldo_{when}_Caja-1-{MINE[:8]}.zip", MINE)
            elif kind == 1:
                make_archive(folder / f"respaldo_{when}_Caja-2-{OTHER[:8]}.zip", OTHER)
            else:
                make_archive(folder / f"respaldo_{when}.zip", None)
        env = {**os.environ, "RESPALDOS_DATA_DIR": str(data), "PYTHONPATH": str(REPO)}
        times: dict[str, list[float]] = {"list": [], "cold": [], "warm": []}
        for _ in range(args.repeat):
            for what in ("list", "cold", "warm"):  # interleaved, so a noisy moment hits all three
                if what == "cold":
                    (data / "propietarios.json").unlink(missing_ok=True)
                out = subprocess.run([sys.executable, "-c", CHILD, str(folder), what], env=env, check=True,
                                     capture_output=True, text=True).stdout.split()
                times[what].append(float(out[0]))
                count = int(out[1])
        listed, cold, warm = (statistics.median(times[k]) for k in ("list", "cold", "warm"))
        print(f"{args.archives} archives ({count} this installation's), median of {args.repeat}, "
              f"load {os.getloadavg()[0]:.1f}")
        print(f"  list_archives:                        {listed * 1000:8.1f} ms")
        print(f"  own_archives + keep rules, first run: {cold * 1000:8.1f} ms  ({cold / listed:.1f}x the listing)")
        print(f"  own_archives + keep rules, later:     {warm * 1000:8.1f} ms  ({warm / listed:.1f}x the listing)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
