"""Start with the system: the XDG autostart entry on Linux, and the Windows / macOS code paths with fakes."""

from __future__ import annotations

import plistlib
import sys
import types
from pathlib import Path

import pytest

from wizard.core import autostart


@pytest.fixture
def linux(monkeypatch, tmp_path):
    monkeypatch.setattr(autostart, "_platform", lambda: "linux")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "autostart" / "respaldos.desktop"


def _exec_line(path) -> str:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("Exec="):
            return line[len("Exec="):]
    raise AssertionError("no Exec line")


def _unescape_exec(value: str) -> list[str]:
    """Read an Exec value the way the Desktop Entry spec says a desktop does."""
    value = value.replace("\\\\", "\\")  # the string-value escape comes first
    args, current, quoted, i = [], "", False, 0
    while i < len(value):
        c = value[i]
        if quoted and c == "\\" and value[i + 1] in '"`$\\':
            current += value[i + 1]
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif c == " " and not quoted:
            args.append(current)
            current = ""
        else:
            current += c
        i += 1
    args.append(current)
    return [a.replace("%%", "%") for a in args]


def test_enable_writes_an_xdg_autostart_entry_that_starts_minimised(linux):
    autostart.enable(["/opt/respaldos/respaldos", "--minimized"])
    text = linux.read_text(encoding="utf-8")
    assert text.startswith("[Desktop Entry]\n")
    assert "Type=Application" in text
    assert "Name=Respaldos" in text
    assert _exec_line(linux) == "/opt/respaldos/respaldos --minimized"
    assert autostart.is_enabled()


def test_disable_removes_the_entry_and_is_harmless_twice(linux):
    autostart.enable(["/opt/respaldos/respaldos", "--minimized"])
    autostart.disable()
    assert not linux.exists()
    assert not autostart.is_enabled()
    autostart.disable()


def test_not_enabled_by_default(linux):
    assert not autostart.is_enabled()


def test_exec_quotes_paths_with_spaces_and_special_characters(linux):
    command = ["/home/ana/Mis programas/respaldos $1", "-m", "wizard", "100%", 'say "hi"', "back\\slash"]
    autostart.enable(command)
    assert _unescape_exec(_exec_line(linux)) == command


def test_without_xdg_config_home_the_entry_goes_to_dot_config(monkeypatch, tmp_path):
    monkeypatch.setattr(autostart, "_platform", lambda: "linux")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    autostart.enable(["respaldos", "--minimized"])
    assert (tmp_path / ".config" / "autostart" / "respaldos.desktop").is_file()


def test_an_entry_switched_off_by_the_desktop_is_not_enabled(linux):
    autostart.enable(["respaldos", "--minimized"])
    linux.write_text(linux.read_text(encoding="utf-8") + "Hidden=true\n", encoding="utf-8")
    assert not autostart.is_enabled()


def test_default_command_runs_this_python_minimised(monkeypatch):
    monkeypatch.setattr(autostart, "_platform", lambda: "linux")
    monkeypatch.delattr(sys, "frozen", raising=False)
    assert autostart.default_command() == [sys.executable, "-m", "wizard", "--minimized"]
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert autostart.default_command() == [sys.executable, "--minimized"]


class FakeWinreg(types.ModuleType):
    """Enough of winreg for the Run key: values kept in a dict."""

    HKEY_CURRENT_USER = "HKCU"
    KEY_SET_VALUE = 2
    KEY_READ = 1
    REG_SZ = 1

    def __init__(self):
        super().__init__("winreg")
        self.values: dict[tuple[str, str], str] = {}
        self.keys: set[str] = set()

    class _Key:
        def __init__(self, path):
            self.path = path

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def CreateKeyEx(self, root, path, reserved, access):
        self.keys.add(path)
        return self._Key(path)

    def OpenKey(self, root, path, reserved, access):
        if path not in self.keys:
            raise FileNotFoundError(path)
        return self._Key(path)

    def SetValueEx(self, key, name, reserved, kind, value):
        self.values[(key.path, name)] = value

    def QueryValueEx(self, key, name):
        try:
            return self.values[(key.path, name)], self.REG_SZ
        except KeyError:
            raise FileNotFoundError(name) from None

    def DeleteValue(self, key, name):
        try:
            del self.values[(key.path, name)]
        except KeyError:
            raise FileNotFoundError(name) from None


def test_windows_uses_the_run_key_with_the_quoted_exe_and_minimized(monkeypatch):
    fake = FakeWinreg()
    monkeypatch.setitem(sys.modules, "winreg", fake)
    monkeypatch.setattr(autostart, "_platform", lambda: "win32")
    assert not autostart.is_enabled()
    autostart.enable([r"C:\Program Files\Respaldos\Respaldos.exe", "--minimized"])
    key = (r"Software\Microsoft\Windows\CurrentVersion\Run", "Respaldos")
    assert fake.values[key] == r'"C:\Program Files\Respaldos\Respaldos.exe" --minimized'
    assert autostart.is_enabled()
    autostart.disable()
    assert key not in fake.values
    assert not autostart.is_enabled()
    autostart.disable()


def test_macos_writes_a_launch_agent(monkeypatch, tmp_path):
    monkeypatch.setattr(autostart, "_platform", lambda: "darwin")
    monkeypatch.setenv("HOME", str(tmp_path))
    autostart.enable(["/Applications/Respaldos.app/Contents/MacOS/Respaldos", "--minimized"])
    plist_path = tmp_path / "Library" / "LaunchAgents" / "local.respaldos.app.plist"
    plist = plistlib.loads(plist_path.read_bytes())
    assert plist["ProgramArguments"] == ["/Applications/Respaldos.app/Contents/MacOS/Respaldos", "--minimized"]
    assert plist["RunAtLoad"] is True
    assert autostart.is_enabled()
    autostart.disable()
    assert not autostart.is_enabled()


def test_the_module_imports_without_winreg():
    assert "winreg" not in sys.modules or sys.platform == "win32"


def test_a_config_other_than_the_default_is_named_in_the_login_command(monkeypatch, tmp_path):
    monkeypatch.setattr(autostart, "_platform", lambda: "linux")
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    default = autostart.config_dir() / autostart.CONFIG_FILE_NAME
    assert autostart.default_command(default) == [sys.executable, "-m", "wizard", "--minimized"]
    other = tmp_path / "mi tienda" / "respaldos.toml"
    command = autostart.default_command(other)
    assert command == [sys.executable, "-m", "wizard", "--minimized", "--config", str(other)]
    # the command line the login would run parses back to the same config and flag
    from wizard.cli import build_parser

    args = build_parser().parse_args(command[3:])
    assert args.minimized and Path(args.config) == other


def test_the_autostart_entry_carries_a_non_default_config(linux, monkeypatch, tmp_path):
    other = tmp_path / "mi tienda" / "respaldos.toml"
    autostart.enable(config_path=other)
    text = linux.read_text(encoding="utf-8")
    assert "--minimized" in text and f'"{other}"' in text
