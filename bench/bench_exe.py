"""Size of the built executable and the time from starting it to its first window (median of 5).

    bash tools/build.sh && python bench/bench_exe.py [--exe dist/respaldos] [--runs 5]

Targets (issue 5): at most 45 MB, at most 1.5 s to the first window. The executable is started as a
newcomer starts it (no configuration yet, so the wizard opens) with HOME and the XDG folders pointing to a
temporary folder, so your own configuration and history are not touched. The clock runs from just before
the process is started until ``xdotool search --onlyvisible`` finds a mapped window named "Respaldos",
polled every 10 ms; the process is then terminated. The CPU time the process used until then is printed
too: on this shared machine other people's work inflates the wall time, the CPU time much less. A one-file executable unpacks itself into a
temporary folder on every start, so that is included, as the user would feel it.

Without a display it starts Xvfb by itself. Prints a Markdown row for docs/build.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from wizard import __version__

TARGET_MB = 45.0
TARGET_SECONDS = 1.5
WINDOW_NAME = "^Respaldos$"
POLL_SECONDS = 0.01
TIMEOUT_SECONDS = 30.0


def default_exe() -> Path:
    for name in ("respaldos", "Respaldos.exe", "Respaldos"):
        if (REPO / "dist" / name).is_file():
            return REPO / "dist" / name
    return REPO / "dist" / "respaldos"


def start_xvfb() -> subprocess.Popen | None:
    """A private virtual screen when there is none; DISPLAY is set for this process and its children."""
    if os.environ.get("DISPLAY"):
        return None
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1366x768x24",
                             "-nolisten", "tcp"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()  # Xvfb writes the display number once it accepts clients
    if not number:
        proc.kill()
        raise SystemExit("Xvfb did not start")
    os.environ["DISPLAY"] = f":{number}"
    return proc


def window_visible() -> bool:
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", WINDOW_NAME],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False)
    return bool(found.stdout.strip())


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` and its descendants still running (Linux /proc), 0 elsewhere."""
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            continue
    return total


def time_to_window(exe: Path, env: dict[str, str]) -> tuple[float, float]:
    """Seconds from starting ``exe`` to its window being mapped, and the CPU seconds it used until then
    (what the wall time would be on an idle machine, roughly: the start is one thread at a time)."""
    if window_visible():
        raise SystemExit("a window named Respaldos is already open on this display; close it first")
    started = time.perf_counter()
    proc = subprocess.Popen([str(exe)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if window_visible():
                return time.perf_counter() - started, cpu_seconds(proc.pid)
            if proc.poll() is not None:
                raise SystemExit(f"{exe} exited with {proc.returncode} before showing a window")
            if time.perf_counter() - started > TIMEOUT_SECONDS:
                raise SystemExit(f"no window within {TIMEOUT_SECONDS:.0f} s")
            time.sleep(POLL_SECONDS)
    finally:
        # SIGTERM reaches the bootloader, which passes it on and removes its unpacked folder.
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        deadline = time.monotonic() + 5
        while window_visible() and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)


def isolated_env(home: Path, tmpdir: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["HOME"] = str(home)
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(home / var.lower())
    env.pop("RESPALDOS_CONFIG", None)
    env.pop("RESPALDOS_DATA_DIR", None)
    # Where the one-file executable unpacks itself: a fresh folder in the system's temporary folder
    # (as for a user), or in --tmpdir to compare file systems.
    unpack = Path(tempfile.mkdtemp(prefix="bench-exe-unpack-", dir=tmpdir))
    env["TMPDIR"] = str(unpack)
    return env


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--exe", type=Path, default=default_exe())
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tmpdir", type=Path, default=None,
                        help="unpack into this folder's file system (default: the system temporary folder)")
    args = parser.parse_args()
    exe = args.exe.resolve()
    if not exe.is_file():
        print(f"{exe} does not exist: build it first with bash tools/build.sh", file=sys.stderr)
        return 2
    if not shutil.which("xdotool"):
        print("xdotool is needed (apt-get install xdotool)", file=sys.stderr)
        return 2

    size_mb = exe.stat().st_size / 1_000_000
    xvfb = start_xvfb()
    times, cpu = [], []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-exe-") as tmp:
            env = isolated_env(Path(tmp), args.tmpdir)
            unpack = Path(env["TMPDIR"])
            for run in range(1, args.runs + 1):
                seconds, cpu_used = time_to_window(exe, env)
                times.append(seconds)
                cpu.append(cpu_used)
                print(f"run {run}: first window after {seconds:.2f} s ({cpu_used:.2f} s of CPU)", flush=True)
            leftovers = list(unpack.glob("_MEI*"))
            if leftovers:
                print(f"warning: {len(leftovers)} unpacked folder(s) left in TMPDIR", file=sys.stderr)
            shutil.rmtree(unpack, ignore_errors=True)
    finally:
        if xvfb is not None:
            xvfb.terminate()
            xvfb.wait()

    median = statistics.median(times)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    size_ok = "ok" if size_mb <= TARGET_MB else "OVER"
    time_ok = "ok" if median <= TARGET_SECONDS else "OVER"
    print()
    print(f"size {size_mb:.1f} MB (target <= {TARGET_MB:.0f} MB: {size_ok}); first window median "
          f"{median:.2f} s of {len(times)} (min {min(times):.2f}, max {max(times):.2f}; target <= "
          f"{TARGET_SECONDS} s: {time_ok}); CPU median {statistics.median(cpu):.2f} s; load average {load:.1f}")
    print()
    print(f"| executable | size | start to first window (median of {len(times)}) | CPU used until then | machine |")
    print("| --- | --- | --- | --- | --- |")
    print(f"| `{exe.name}` {__version__}, {platform.system()} {platform.machine()}, one file | "
          f"{size_mb:.1f} MB | {median:.2f} s | {statistics.median(cpu):.2f} s | "
          f"{os.cpu_count()} cores, Xvfb, load average {load:.1f} |")
    return 0 if size_ok == time_ok == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
