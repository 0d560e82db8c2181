"""Start Respaldos with the user's session, minimised, so the schedule keeps running.

Windows: a value in HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run (a Startup-folder shortcut
would need pywin32). Linux: an XDG autostart entry. macOS: a LaunchAgent. All per user, no admin rights.
"""

from __future__ import annotations

import logging
import os
import plistlib
import subprocess
import sys
from pathlib import Path

from wizard import APP_NAME
from wizard.core.fsutil import atomic_write_bytes
from wizard.core.paths import CONFIG_FILE_NAME, config_dir
from wizard.i18n import _

logger = logging.getLogger(__name__)

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = APP_NAME
DESKTOP_FILE_NAME = "respaldos.desktop"
LAUNCH_AGENT_LABEL = "local.respaldos.app"
MINIMIZED_FLAG = "--minimized"


def _platform() -> str:
    return sys.platform


def default_command(config_path: Path | str | None = None) -> list[str]:
    """How to start this installation minimised: the frozen exe, or this Python with ``-m wizard``.

    A config other than the platform default (``--config`` or RESPALDOS_CONFIG when the box was ticked)
    is named with ``--config``: at login neither the option nor the variable is there any more."""
    if getattr(sys, "frozen", False):
        command = [sys.executable, MINIMIZED_FLAG]
    else:
        python = Path(sys.executable)
        if _platform() == "win32":
            # pythonw.exe starts without a console window.
            windowless = python.with_name("pythonw.exe")
            if windowless.exists():
                python = windowless
        command = [str(python), "-m", "wizard", MINIMIZED_FLAG]
    if config_path is not None:
        chosen = Path(config_path).expanduser().absolute()
        if chosen != (config_dir() / CONFIG_FILE_NAME).absolute():
            command += ["--config", str(chosen)]
    return command


def enable(command: list[str] | None = None, config_path: Path | str | None = None) -> None:
    """Start ``command`` (default: ``default_command(config_path)``) when the user logs in."""
    command = command or default_command(config_path)
    platform = _platform()
    if platform == "win32":
        _windows_enable(command)
    elif platform == "darwin":
        _macos_enable(command)
    else:
        _xdg_enable(command)
    logger.info("start with the system enabled: %s", command)


def disable() -> None:
    """Stop starting with the system. Doing it when it is not enabled is fine."""
    platform = _platform()
    if platform == "win32":
        _windows_disable()
    elif platform == "darwin":
        _remove(_launch_agent_path())
    else:
        _remove(_desktop_file_path())
    logger.info("start with the system disabled")


def is_enabled() -> bool:
    platform = _platform()
    if platform == "win32":
        return _windows_command() is not None
    if platform == "darwin":
        return _launch_agent_path().is_file()
    path = _desktop_file_path()
    if not path.is_file():
        return False
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    # Desktops mark an entry the user switched off with Hidden=true or X-GNOME-Autostart-enabled=false.
    lines = {line.strip().lower().replace(" ", "") for line in text.splitlines()}
    return "hidden=true" not in lines and "x-gnome-autostart-enabled=false" not in lines


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


# -- Linux and other XDG desktops -----------------------------------------------------------------


def _xdg_config_home() -> Path:
    value = os.environ.get("XDG_CONFIG_HOME", "")
    # The spec says a relative value is invalid and must be ignored.
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / ".config"


def _desktop_file_path() -> Path:
    return _xdg_config_home() / "autostart" / DESKTOP_FILE_NAME


def _desktop_exec_arg(arg: str) -> str:
    # Desktop Entry spec: quote arguments with reserved characters, backslash-escaping " ` $ \ inside;
    # then the whole value is a string, where \ itself is written \\. A literal % is %%.
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    if arg and not (set(arg) & reserved):
        quoted = arg
    else:
        inner = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        quoted = f'"{inner}"'
    return quoted.replace("\\", "\\\\").replace("%", "%%")


def desktop_entry(command: list[str]) -> str:
    """The text of the XDG autostart entry that runs ``command``."""
    exec_line = " ".join(_desktop_exec_arg(a) for a in command)
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        f"Name={APP_NAME}",
        "Comment=" + _("Respaldos programados de los datos del punto de venta"),
        f"Exec={exec_line}",
        "Terminal=false",
        "X-GNOME-Autostart-enabled=true",
        "",
    ]
    return "\n".join(lines)


def _xdg_enable(command: list[str]) -> None:
    path = _desktop_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(path, desktop_entry(command).encode("utf-8"))


# -- macOS ---------------------------------------------------------------------------------------


def _launch_agent_path() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"


def _macos_enable(command: list[str]) -> None:
    path = _launch_agent_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    plist = {
        "Label": LAUNCH_AGENT_LABEL,
        "ProgramArguments": list(command),
        "RunAtLoad": True,
        "ProcessType": "Interactive",
    }
    atomic_write_bytes(path, plistlib.dumps(plist))


# -- Windows -------------------------------------------------------------------------------------


def windows_command_line(command: list[str]) -> str:
    """The Run-key value: the executable always quoted (paths have spaces), then the arguments."""
    exe, *args = command
    return f'"{exe}"' + ("" if not args else " " + subprocess.list2cmdline(args))


def _windows_enable(command: list[str]) -> None:
    import winreg  # only on Windows; imported here so this module loads everywhere

    with winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
        winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_SZ, windows_command_line(command))


def _windows_disable() -> None:
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            winreg.DeleteValue(key, RUN_VALUE)
    except FileNotFoundError:
        pass


def _windows_command() -> str | None:
    import winreg

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_READ) as key:
            value, _type = winreg.QueryValueEx(key, RUN_VALUE)
    except FileNotFoundError:
        return None
    return str(value) if value else None
