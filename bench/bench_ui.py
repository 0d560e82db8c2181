"""How long the window's event loop can be blocked while a backup runs (target: never more than 100 ms).

    python bench/bench_ui.py [--size-mb 200] [--runs 1]

Builds a realistic POS database (``wizard.core.demo.make_pos_database``, cached in bench/out/), opens the
real window on it, presses "Respaldar ahora" and keeps an ``after(10)`` heartbeat on the Tk thread. The
longest gap between two heartbeats is the longest time the window could not repaint or react to a click.
Without a display it starts Xvfb by itself. Your own config and history are not touched.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "bench" / "out"
HEARTBEAT_MS = 10
TARGET_MS = 100.0


def start_xvfb() -> subprocess.Popen | None:
    if os.environ.get("DISPLAY"):
        return None
    for number in range(90, 200):
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            break
    proc = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.environ["DISPLAY"] = f":{number}"
    for _ in range(100):
        if Path(f"/tmp/.X11-unix/X{number}").exists():
            break
        time.sleep(0.05)
    return proc


def database(size_mb: int) -> Path:
    from wizard.core.demo import make_pos_database

    path = OUT / f"pos_{size_mb}MB.db"
    if not path.exists():
        OUT.mkdir(parents=True, exist_ok=True)
        print(f"generating a {size_mb} MB POS database (cached in {path})...", flush=True)
        t0 = time.monotonic()
        make_pos_database(path.with_suffix(".tmp"), size_mb * 1024 * 1024)
        for suffix in ("-wal", "-shm"):
            extra = Path(str(path.with_suffix(".tmp")) + suffix)
            if extra.exists():
                extra.unlink()
        path.with_suffix(".tmp").rename(path)
        print(f"  done in {time.monotonic() - t0:.1f} s", flush=True)
    return path


class QuietDialogs:
    def info(self, *a, **k):
        pass

    warning = error = info

    def confirm(self, *a, **k):
        return True


def measure(root, window, runs: int) -> list[dict]:
    results = []
    for run in range(runs):
        gaps: list[float] = []
        state = {"last": time.perf_counter(), "on": True}

        # Bind this run's lists now: a closure over the loop variables would keep earlier runs' heartbeats
        # alive (they would read the new run's "on" flag) and double the beats.
        def beat(gaps: list[float] = gaps, state: dict = state) -> None:
            now = time.perf_counter()
            gaps.append((now - state["last"]) * 1000)
            state["last"] = now
            if state["on"]:
                root.after(HEARTBEAT_MS, beat)

        root.after(HEARTBEAT_MS, beat)
        settle = time.perf_counter() + 0.5
        while time.perf_counter() < settle:
            root.update()
            time.sleep(0.002)
        gaps.clear()
        state["last"] = time.perf_counter()
        t0 = time.perf_counter()
        window.backup_now()
        while window.backup_running:
            root.update()
            time.sleep(0.002)  # a real mainloop sleeps in select(); this stands in for it
        elapsed = time.perf_counter() - t0
        state["on"] = False
        root.update()
        result = window.worker.result
        results.append(
            {
                "run": run + 1,
                "status": getattr(result, "status", "?"),
                "seconds": elapsed,
                "archive_mb": getattr(result, "size", 0) / 1e6,
                "beats": len(gaps),
                "max_ms": max(gaps),
                "p99_ms": statistics.quantiles(gaps, n=100)[98] if len(gaps) >= 100 else max(gaps),
                "median_ms": statistics.median(gaps),
            }
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()

    xvfb = start_xvfb()
    work = Path(tempfile.mkdtemp(prefix="respaldos-bench-ui-"))
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"), ("XDG_STATE_HOME", "state")):
        os.environ[var] = str(work / sub)
    sys.path.insert(0, str(REPO))
    try:
        from wizard.core import config as config_mod
        from wizard.core.config import Config, DestinationConfig, SourceConfig
        from wizard.ui.app import RespaldosWindow, create_root

        db = database(args.size_mb)
        data = work / "datos"
        data.mkdir()
        os.link(db, data / "punto_de_venta.db") if os.stat(db).st_dev == os.stat(
            data
        ).st_dev else shutil.copy2(db, data / "punto_de_venta.db")
        dest = work / "usb"
        dest.mkdir()
        config_path = work / "respaldos.toml"
        config_mod.save(
            Config(source=SourceConfig([str(data)]), destination=DestinationConfig(str(dest))), config_path
        )
        root = create_root()
        window = RespaldosWindow(root, config_path, dialogs=QuietDialogs(), run_scheduler=False)
        root.update()
        results = measure(root, window, args.runs)
        window.destroy()
        root.destroy()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()

    worst = max(r["max_ms"] for r in results)
    for r in results:
        print(
            f"run {r['run']}: backup {r['status']} in {r['seconds']:.1f} s "
            f"({r['archive_mb']:.0f} MB archive); "
            f"{r['beats']} heartbeats; longest Tk stall {r['max_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, "
            f"median {r['median_ms']:.0f} ms (heartbeat every {HEARTBEAT_MS} ms)"
        )
    verdict = "OK" if worst <= TARGET_MS else "TOO SLOW"
    print(
        f"Longest event-loop stall during a {args.size_mb} MB backup: {worst:.0f} ms "
        f"(target <= {TARGET_MS:.0f} ms): {verdict}"
    )
    return 0 if worst <= TARGET_MS and all(r["status"] in ("ok", "warning") for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
