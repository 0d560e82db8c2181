"""End to end: the real `respaldos run` process makes a backup at the chosen minute, and a catch-up."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import datetime, timedelta
from pathlib import Path

from tests.helpers import ROOT, respaldos_cmd, skip_unless_ci, write_config
from wizard.core import backup

# libfaketime (Debian package faketime) moves the services' clock a few seconds before a minute turns, so the
# test need not wait for the real minute; it is the OS's clock the program reads, not a test-only path.
LIBFAKETIME = Path("/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1")


def make_data(tmp_path, name, big_mib: int = 0):
    data = tmp_path / name / "datos"
    if data.exists():
        return data
    data.mkdir(parents=True)
    (data / "ventas.txt").write_text("venta 1\n")
    if big_mib:  # incompressible, so that the backup lasts long enough to be interrupted
        with open(data / "fotos.bin", "wb") as fh:
            fh.writelines(os.urandom(1 << 20) for _ in range(big_mib))
    return data


def start_service(tmp_path, name, when: str, config_age: timedelta | None = None, big_mib: int = 0,
                  clock_ahead: int = 0, clock_speed: int = 1):
    data = make_data(tmp_path, name, big_mib)
    dest = tmp_path / name / "respaldos"
    dest.mkdir()
    cfg = write_config(tmp_path / name / "c.toml", [data], dest, f'[schedule]\ntime = "{when}"\n')
    if config_age is not None:
        old = time.time() - config_age.total_seconds()
        os.utime(cfg, (old, old))
    env = {**os.environ}
    if clock_ahead or clock_speed != 1:
        speed = f" x{clock_speed}" if clock_speed != 1 else ""
        env.update(LD_PRELOAD=str(LIBFAKETIME), FAKETIME=f"+{clock_ahead}{speed}", FAKETIME_DONT_FAKE_MONOTONIC="1")
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / name / var.lower())
    log = open(tmp_path / name / "out.txt", "w")
    proc = subprocess.Popen(respaldos_cmd("run", "--config", str(cfg)), cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    return proc, dest, tmp_path / name / "out.txt"


def test_respaldos_run_backs_up_at_the_chosen_minute_and_catches_up_a_missed_one(tmp_path):
    if not LIBFAKETIME.exists():
        skip_unless_ci("libfaketime is not installed (apt-get install faketime)")
    make_data(tmp_path, "interrumpido", big_mib=600)  # before the clock is set: it takes seconds
    now = datetime.now()
    # The scheduled services' clock reads 20 s before a minute turns (real time goes on from there).
    ahead = (40 - now.second) % 60 or 60
    fake_now = now + timedelta(seconds=ahead)
    target = (fake_now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    # The second service's time passed two hours ago, and its config was saved (by hand) yesterday.
    missed = (now - timedelta(hours=2)).strftime("%H:%M")
    scheduled, dest_a, out_a = start_service(tmp_path, "programado", target.strftime("%H:%M"), clock_ahead=ahead)
    # Its clock runs ten times faster, so that the minute's wait before a catch-up (CATCH_UP_DELAY, for a USB
    # disk to mount) takes 6 s of the test's time instead of 60.
    catch_up, dest_b, out_b = start_service(tmp_path, "atrasado", missed, config_age=timedelta(days=1),
                                            clock_speed=10)
    # A third service is stopped with SIGTERM while its scheduled backup is being written.
    stopped, dest_c, out_c = start_service(tmp_path, "interrumpido", target.strftime("%H:%M"), big_mib=600,
                                           clock_ahead=ahead)
    started = time.monotonic()
    stopped_rc = None
    part_seen = False
    try:
        deadline = started + 150
        found_a = found_b = None
        while time.monotonic() < deadline and not (found_a and found_b and stopped_rc is not None):
            if not found_a and backup.list_archives(dest_a):
                found_a = datetime.now() + timedelta(seconds=ahead)  # on the service's clock
            if not found_b and backup.list_archives(dest_b):
                found_b = time.monotonic()
            if not part_seen and any(p.name.endswith(".part") for p in dest_c.iterdir()):
                part_seen = True
                stopped.send_signal(signal.SIGTERM)
                stopped_rc = stopped.wait(timeout=30)
            assert scheduled.poll() is None and catch_up.poll() is None, "a service died"
            time.sleep(0.1)
        assert found_a, f"no scheduled backup; output: {out_a.read_text()}"
        assert target <= found_a < target + timedelta(seconds=60)
        archive = backup.list_archives(dest_a)[0]
        assert target <= archive.created < target + timedelta(seconds=60)
        assert found_b and found_b - started <= 30, f"no catch-up within 5 minutes of its clock: {out_b.read_text()}"
        assert part_seen, f"the large backup was never seen being written: {out_c.read_text()}"
    finally:
        if stopped.poll() is None:
            stopped.kill()
        for proc in (scheduled, catch_up):
            proc.send_signal(signal.SIGTERM)
        for proc in (scheduled, catch_up):
            assert proc.wait(timeout=30) == 0
    # stopped cleanly, nothing half-written, and each run is in its own history with its trigger
    for dest in (dest_a, dest_b):
        assert not [p for p in dest.iterdir() if p.name.endswith(".part")]
    hist_a = (tmp_path / "programado" / "xdg_data_home" / "Respaldos" / "history.jsonl").read_text()
    hist_b = (tmp_path / "atrasado" / "xdg_data_home" / "Respaldos" / "history.jsonl").read_text()
    assert '"trigger": "scheduled"' in hist_a and '"status": "ok"' in hist_a
    assert '"trigger": "catch-up"' in hist_b and '"status": "ok"' in hist_b
    assert "scheduled backup finished: ok" in out_a.read_text()
    # SIGTERM mid-write: a clean exit, no half-written file, no archive, the run recorded as cancelled
    assert stopped_rc == 0, out_c.read_text()
    assert not list(dest_c.iterdir()), list(dest_c.iterdir())
    hist_c = (tmp_path / "interrumpido" / "xdg_data_home" / "Respaldos" / "history.jsonl").read_text()
    assert '"trigger": "scheduled"' in hist_c and '"status": "cancelled"' in hist_c, hist_c
