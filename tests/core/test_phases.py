"""Every backup writes where its time went to the log, one `timings:` line that bench/bench_phases.py and
support staff read: the phases that ran, each timed, and the total and CPU seconds."""

from __future__ import annotations

import os
import subprocess
import threading

from tests.helpers import ROOT, make_sales_db, respaldos_cmd, write_config
from wizard.core import paths
from wizard.core.phases import OVERLAPPED, PhaseClock, parse_line


def test_a_backup_logs_each_phase_and_the_phases_add_up_to_no_more_than_the_total(tmp_path):
    source = tmp_path / "Tienda"
    source.mkdir()
    make_sales_db(source / "ventas.db", rows=120_000)  # over 16 MiB: early compression runs too
    (source / "notas.txt").write_text("cerrar caja a las 9\n", encoding="utf-8")
    dest = tmp_path / "destino"
    dest.mkdir()
    config = write_config(tmp_path / "respaldos.toml", [source], dest)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    proc = subprocess.run(respaldos_cmd("backup", "--config", str(config)), capture_output=True, text=True,
                          env=env, timeout=120, check=False)

    assert proc.returncode == 0, proc.stderr
    lines = [line for line in (paths.log_dir() / "respaldos.log").read_text(encoding="utf-8").splitlines()
             if "timings: " in line]
    assert len(lines) == 1
    timings = parse_line(lines[0])
    assert {"scan", "snapshot", "compress", "quick_check", "close", "fsync", "verify", "rename"} <= set(timings)
    assert all(seconds >= 0 for seconds in timings.values())
    assert timings["snapshot"] > 0 and timings["compress"] > 0 and timings["quick_check"] > 0
    in_sequence = sum(s for name, s in timings.items() if name not in OVERLAPPED | {"total", "CPU"})
    assert in_sequence <= timings["total"] + 0.01
    assert timings["CPU"] > 0


def test_a_failed_backup_logs_no_timings(tmp_path):
    config = write_config(tmp_path / "respaldos.toml", [tmp_path / "no-existe"], tmp_path / "tampoco")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(respaldos_cmd("backup", "--config", str(config)), capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    assert proc.returncode != 0
    log = paths.log_dir() / "respaldos.log"
    assert "timings: " not in (log.read_text(encoding="utf-8") if log.exists() else "")


def test_the_line_reads_back_what_was_timed():
    clock = PhaseClock()
    clock.add("snapshot", 0.5)
    clock.add("compress", 1.25)
    clock.add("compress", 1.0)
    clock.add("quick_check", 2.0)
    line = clock.line()
    assert line.startswith("timings: snapshot 0.50 s, compress 2.25 s, quick_check 2.00 s (overlapped); total ")
    parsed = parse_line(f"2026-12-05 05:40:01 INFO wizard.core.backup: {line}")
    assert parsed["snapshot"] == 0.5 and parsed["compress"] == 2.25 and parsed["quick_check"] == 2.0
    assert {"total", "CPU"} <= set(parsed)
    assert parse_line("backup ok (manual): Respaldo guardado") == {}


def test_phases_timed_on_two_threads_add_up():
    clock = PhaseClock()

    def work() -> None:
        for _ in range(1000):
            clock.add("compress", 0.001)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert abs(clock.seconds()["compress"] - 4.0) < 1e-6
