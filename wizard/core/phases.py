"""Where a backup's time went: wall-clock seconds per phase, added up over the run, and written to the log as
one line (``timings: ...``) that support staff and bench/bench_phases.py read. Phases that run beside others
(quick_check, on its own thread) are marked as overlapped: they are not part of the sum."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

# In the order a backup goes through them; the log line keeps this order.
PHASES = ("scan", "snapshot", "compress", "quick_check", "close", "fsync", "verify", "rename")
OVERLAPPED = frozenset({"quick_check"})


class PhaseClock:
    """Seconds per phase (wall clock) and the process's CPU seconds over the run; thread-safe."""

    def __init__(self) -> None:
        self._seconds: dict[str, float] = {}
        self._lock = threading.Lock()
        self._started = time.perf_counter()
        self._cpu_started = time.process_time()

    def add(self, phase: str, seconds: float) -> None:
        with self._lock:
            self._seconds[phase] = self._seconds.get(phase, 0.0) + seconds

    @contextmanager
    def timed(self, phase: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(phase, time.perf_counter() - start)

    def seconds(self) -> dict[str, float]:
        with self._lock:
            return dict(self._seconds)

    def line(self) -> str:
        """``timings: scan 0.01 s, snapshot 0.51 s, ..., quick_check 2.02 s (overlapped); total 4.61 s,
        CPU 8.43 s``: every phase that ran, in PHASES order, then any other."""
        seconds = self.seconds()
        names = [p for p in PHASES if p in seconds] + sorted(set(seconds) - set(PHASES))
        parts = [f"{name} {seconds[name]:.2f} s" + (" (overlapped)" if name in OVERLAPPED else "")
                 for name in names]
        total = time.perf_counter() - self._started
        cpu = time.process_time() - self._cpu_started
        return f"timings: {', '.join(parts)}; total {total:.2f} s, CPU {cpu:.2f} s"


def parse_line(line: str) -> dict[str, float]:
    """The phases and seconds of a ``timings:`` log line (and ``total``, ``CPU``); {} for any other line."""
    _, found, rest = line.partition("timings: ")
    if not found:
        return {}
    phases, _, totals = rest.partition("; ")
    out: dict[str, float] = {}
    for part in [*phases.split(", "), *totals.split(", ")]:
        words = part.split()
        if len(words) >= 3 and words[2] == "s":
            try:
                out[words[0]] = float(words[1])
            except ValueError:
                continue
    return out
