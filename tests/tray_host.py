"""A real X11 system tray for the tests: ``trayer`` (Debian's package) owning the system-tray selection, on
the session's display (pytest-xvfb) or on a private Xvfb started here, the X queries that say whether an
icon is embedded in it, and a real notification service (D-Bus and dunst)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest


def skip_unless_ci(reason: str) -> None:
    """Skip where a tool is missing, but fail in CI (RESPALDOS_CI set by .ci/run)."""
    if os.environ.get("RESPALDOS_CI"):
        pytest.fail(f"{reason} (RESPALDOS_CI is set: in CI this test must run, not skip)", pytrace=False)
    pytest.skip(reason)


def _display(name: str):
    import Xlib.display

    return Xlib.display.Display(name)


def tray_owner(display: str) -> int | None:
    """The id of the window owning the system-tray selection of ``display``, None without a tray."""
    import Xlib.X

    d = _display(display)
    try:
        owner = d.get_selection_owner(d.intern_atom(f"_NET_SYSTEM_TRAY_S{d.get_default_screen()}"))
        return None if owner == Xlib.X.NONE else owner.id
    finally:
        d.close()


def embedded_icons(display: str, wm_class: str = "respaldos") -> list[tuple[int, str]]:
    """(window id, name) of each window whose class is ``wm_class`` and is not a toplevel: an icon that a tray
    embedded (XEmbed reparents it into the host; one that no tray took stays a child of the root)."""
    import Xlib.error

    d = _display(display)
    try:
        screen_root = d.screen().root
        found = []
        pending = [(child, 1) for child in screen_root.query_tree().children]
        while pending:
            window, depth = pending.pop()
            try:
                children = window.query_tree().children
                cls = window.get_wm_class() if depth > 1 else None
                name = window.get_wm_name() or "" if cls and wm_class in cls else None
            except Xlib.error.XError:  # a window that went away meanwhile
                children, name = [], None
            pending += [(child, depth + 1) for child in children]
            if name is not None:
                found.append((window.id, name))
        return found
    finally:
        d.close()


@contextmanager
def tray_host(display: str, timeout: float = 10.0) -> Iterator[subprocess.Popen]:
    """trayer on ``display``, running until the block ends; waits for it to own the tray selection."""
    if not shutil.which("trayer"):
        skip_unless_ci("no X11 tray host: apt-get install trayer")
    if tray_owner(display) is not None:
        pytest.fail(f"display {display} already has a system tray")
    proc = subprocess.Popen(
        ["trayer", "--edge", "bottom", "--align", "right", "--widthtype", "request", "--height", "32",
         "--transparent", "false", "--tint", "0xdddddd", "--SetDockType", "true"],
        env={**os.environ, "DISPLAY": display}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        end = time.monotonic() + timeout
        while tray_owner(display) is None:
            if proc.poll() is not None or time.monotonic() > end:
                pytest.fail(f"trayer did not take the system tray on {display} (exit code {proc.poll()})")
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        end = time.monotonic() + 5
        while tray_owner(display) is not None and time.monotonic() < end:
            time.sleep(0.05)


@contextmanager
def private_display() -> Iterator[str]:
    """An Xvfb of our own (so that windows of other tests never count), as ``:N``."""
    if not shutil.which("Xvfb"):
        skip_unless_ci("no Xvfb: apt-get install xvfb")
    read_fd, write_fd = os.pipe()
    # -noreset: by default an X server resets when its last client leaves, and refuses connections meanwhile.
    proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1366x768x24",
                             "-nolisten", "tcp", "-noreset"], pass_fds=(write_fd,),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()  # written once Xvfb accepts clients
    try:
        if not number:
            pytest.fail("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def notification_service(display: str) -> Iterator[Callable[[], list[tuple[str, str, str]]]]:
    """A desktop's notification service for the block: a private D-Bus session bus and dunst (freedesktop
    notifications) on ``display``; DBUS_SESSION_BUS_ADDRESS is set in this process for the block, so what
    it starts (notify-send) reaches them. Yields ``received()``: (app, title, text) of each notification so
    far, oldest first."""
    for tool in ("dbus-daemon", "dunst", "dunstctl", "notify-send"):
        if not shutil.which(tool):
            skip_unless_ci(f"no {tool}: apt-get install dbus dunst libnotify-bin")
    bus = subprocess.Popen(["dbus-daemon", "--session", "--print-address=1", "--nofork"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    address = bus.stdout.readline().strip()
    env = {**os.environ, "DISPLAY": display, "DBUS_SESSION_BUS_ADDRESS": address}
    daemon = subprocess.Popen(["dunst"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    previous = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    os.environ["DBUS_SESSION_BUS_ADDRESS"] = address

    def received() -> list[tuple[str, str, str]]:
        subprocess.run(["dunstctl", "close-all"], env=env, check=False, capture_output=True)
        out = subprocess.run(["dunstctl", "history"], env=env, check=False, capture_output=True, text=True).stdout
        try:
            shown = json.loads(out)["data"][0]
        except (ValueError, KeyError, IndexError):
            return []
        return [(n["appname"]["data"], n["summary"]["data"], n["body"]["data"]) for n in reversed(shown)]

    try:
        end = time.monotonic() + 10
        while subprocess.run(["dunstctl", "count"], env=env, capture_output=True, check=False).returncode:
            if daemon.poll() is not None or time.monotonic() > end:
                pytest.fail(f"dunst did not start (exit code {daemon.poll()})")
            time.sleep(0.05)
        yield received
    finally:
        if previous is None:
            os.environ.pop("DBUS_SESSION_BUS_ADDRESS", None)
        else:
            os.environ["DBUS_SESSION_BUS_ADDRESS"] = previous
        for proc in (daemon, bus):
            proc.terminate()
            proc.wait(timeout=10)
