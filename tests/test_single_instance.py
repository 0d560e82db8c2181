"""One copy per user: the lock and channel of wizard.single_instance, then real processes (``python -m wizard
--config ...``) on a private Xvfb with a real tray host: a second start shows the first copy's window and
exits 0 within 3 s, a first copy killed with SIGKILL does not block the next start, and ``run`` and the
window exclude each other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.tray_host import embedded_icons, private_display, tray_host
from wizard import single_instance
from wizard.core import config as config_mod
from wizard.core.config import Config, DestinationConfig, SourceConfig

ROOT = Path(__file__).resolve().parents[1]
SECOND_START_LIMIT = 3.0

pytestmark = pytest.mark.timeout(180)


# -- the lock and the channel, in this process ----------------------------------------------------------

def test_a_second_claim_fails_while_the_first_holds_the_lock_and_succeeds_after_release(tmp_path):
    first = single_instance.claim(single_instance.WINDOW, tmp_path)
    assert first is not None
    try:
        assert single_instance.claim(single_instance.WINDOW, tmp_path) is None
        assert single_instance.claim(single_instance.RUN, tmp_path) is None
    finally:
        first.release()
    again = single_instance.claim(single_instance.RUN, tmp_path)
    assert again is not None
    again.release()


def test_the_owner_answers_what_it_is_and_a_show_request_reaches_it(tmp_path):
    shown = []
    owner = single_instance.claim(single_instance.WINDOW, tmp_path)
    owner.serve(on_show=lambda: shown.append(True))
    try:
        assert single_instance.ask_running_copy(single_instance.WHO, tmp_path).kind == "window"
        assert shown == []
        running = single_instance.ask_running_copy(single_instance.SHOW, tmp_path)
        assert (running.kind, running.pid) == ("window", os.getpid())
        deadline = time.monotonic() + 2
        while not shown and time.monotonic() < deadline:
            time.sleep(0.01)
        assert shown == [True]
    finally:
        owner.release()
    assert single_instance.ask_running_copy(single_instance.WHO, tmp_path, timeout=0.3).kind is None


def test_release_stops_the_channel_at_once_even_right_after_an_answer(tmp_path):
    slowest = 0.0
    for number in range(40):
        folder = tmp_path / str(number)
        owner = single_instance.claim(single_instance.WINDOW, folder)
        owner.serve()
        assert single_instance.ask_running_copy(single_instance.WHO, folder).pid == os.getpid()
        started = time.monotonic()
        owner.release()
        slowest = max(slowest, time.monotonic() - started)
        assert not owner._thread.is_alive()
    assert slowest < 0.5, f"a release took {slowest:.2f} s"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="binds the channel's Linux address itself")
@pytest.mark.timeout(30)
def test_a_copy_that_hangs_mid_handshake_does_not_keep_the_next_start_waiting(tmp_path):
    import socket

    address, _family = single_instance.channel_address(tmp_path)
    (tmp_path / single_instance.KEY_NAME).write_bytes(b"k" * 32)
    hung = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    hung.bind(address)
    hung.listen(5)  # connections wait in its queue; nobody ever answers them
    try:
        started = time.monotonic()
        running = single_instance.ask_running_copy(single_instance.SHOW, tmp_path, timeout=0.5)
        assert running.kind is None
        assert time.monotonic() - started < 1.5
    finally:
        hung.close()


def test_a_client_without_the_key_is_not_answered_and_shows_nothing(tmp_path):
    from multiprocessing.connection import Client

    shown = []
    owner = single_instance.claim(single_instance.WINDOW, tmp_path)
    owner.serve(on_show=lambda: shown.append(True))
    try:
        address, family = single_instance.channel_address(tmp_path)
        with Client(address, family) as stranger:  # knows the address, not the key
            stranger.send({"ask": single_instance.SHOW, "pid": 1})
            first = stranger.recv_bytes() if stranger.poll(1) else b""
        assert b"window" not in first, first  # the owner's challenge, never its answer
        (tmp_path / single_instance.KEY_NAME).write_bytes(b"not the key")
        assert single_instance.ask_running_copy(single_instance.SHOW, tmp_path, timeout=0.5).kind is None
        time.sleep(0.3)
        assert shown == []
    finally:
        owner.release()


HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from wizard import single_instance
    lock = single_instance.claim(single_instance.WINDOW, Path(sys.argv[1]))
    lock.serve()
    print("holding", flush=True)
    time.sleep(120)
""")


def test_a_holder_killed_with_sigkill_does_not_block_the_next_claim(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert holder.stdout.readline().strip() == "holding"
        assert single_instance.claim(single_instance.WINDOW, tmp_path) is None
        assert single_instance.ask_running_copy(single_instance.WHO, tmp_path).pid == holder.pid
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    claimed = single_instance.claim(single_instance.WINDOW, tmp_path)
    assert claimed is not None, "a stale lock blocked the next start"
    claimed.serve()  # the channel's address is free again too
    assert single_instance.ask_running_copy(single_instance.WHO, tmp_path).pid == os.getpid()
    claimed.release()


# -- real processes of the program --------------------------------------------------------------------

@pytest.fixture
def shop(tmp_path):
    """A valid configuration and this test's own user folders (XDG), as a second user would have."""
    dest = tmp_path / "usb"
    dest.mkdir()
    data = tmp_path / "pos"
    data.mkdir()
    (data / "ventas.txt").write_text("1 coca 600 ml\n", encoding="utf-8")
    path = tmp_path / "respaldos.toml"
    config_mod.save(Config(source=SourceConfig([str(data)]), destination=DestinationConfig(str(dest))), path)
    return path


@pytest.fixture
def screen():
    with private_display() as display, tray_host(display):
        yield display


def program_env(display: str) -> dict[str, str]:
    return {**os.environ, "DISPLAY": display, "PYTHONPATH": str(ROOT)}


def start(config: Path, display: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "wizard", "--config", str(config), *extra], cwd=ROOT,
                            env=program_env(display), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def visible_windows(display: str) -> list[str]:
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Respaldos$"],
                           env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, check=False)
    return found.stdout.split()


def copies_of(config: Path) -> list[int]:
    """Processes of the program started with this configuration (read from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"wizard" in argv and str(config).encode() in argv:
                pids.append(int(entry.name))
    return pids


def wait_for(condition, timeout: float = 20.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return bool(condition())


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_a_second_start_shows_the_first_copys_window_and_exits_0_within_3_seconds(shop, screen):
    first = start(shop, screen, "--minimized")
    try:
        # --minimized with a tray: only the icon, no window.
        assert wait_for(lambda: embedded_icons(screen)), first.stderr.read() if first.poll() is not None else ""
        assert visible_windows(screen) == []

        started = time.monotonic()
        second = subprocess.run([sys.executable, "-m", "wizard", "--config", str(shop)], cwd=ROOT,
                                env=program_env(screen), capture_output=True, text=True, timeout=30, check=False)
        seconds = time.monotonic() - started

        assert second.returncode == 0, second.stderr
        assert seconds < SECOND_START_LIMIT, f"{seconds:.2f} s"
        assert "ya estaba abierto" in second.stdout
        assert wait_for(lambda: len(visible_windows(screen)) == 1, timeout=5), "the first copy's window came up"
        time.sleep(0.5)
        assert len(visible_windows(screen)) == 1
        assert copies_of(shop) == [first.pid]
        assert first.poll() is None
    finally:
        stop(first)


def test_a_first_copy_killed_with_sigkill_does_not_block_the_next_start(shop, screen):
    first = start(shop, screen)
    assert wait_for(lambda: len(visible_windows(screen)) == 1)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert wait_for(lambda: visible_windows(screen) == [] and not embedded_icons(screen), timeout=10)

    after = start(shop, screen)
    try:
        assert wait_for(lambda: len(visible_windows(screen)) == 1), after.stderr.read() if after.poll() else ""
        assert after.poll() is None
        assert copies_of(shop) == [after.pid]
    finally:
        stop(after)


def test_run_and_the_window_exclude_each_other_and_the_second_says_which_one_runs(shop, screen):
    service = start(shop, screen, "run")
    try:
        assert service.stdout.readline().startswith("Respaldos programados en marcha")
        window = subprocess.run([sys.executable, "-m", "wizard", "--config", str(shop)], cwd=ROOT,
                                env=program_env(screen), capture_output=True, text=True, timeout=30, check=False)
        assert window.returncode == 1
        assert f"sin ventana (respaldos run, proceso {service.pid})" in window.stderr
        assert visible_windows(screen) == []
        # Other subcommands are not affected.
        listed = subprocess.run([sys.executable, "-m", "wizard", "--config", str(shop), "list"], cwd=ROOT,
                                env=program_env(screen), capture_output=True, text=True, timeout=30, check=False)
        assert listed.returncode == 0, listed.stderr
    finally:
        stop(service)

    first = start(shop, screen)
    try:
        assert wait_for(lambda: len(visible_windows(screen)) == 1)
        second_run = subprocess.run([sys.executable, "-m", "wizard", "--config", str(shop), "run"], cwd=ROOT,
                                    env=program_env(screen), capture_output=True, text=True, timeout=30, check=False)
        assert second_run.returncode == 1
        assert f"La ventana de Respaldos ya está abierta (proceso {first.pid})" in second_run.stderr
        assert copies_of(shop) == [first.pid]
    finally:
        stop(first)
