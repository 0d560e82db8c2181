"""Start with the system: the XDG autostart entry on Linux, and the Windows / macOS code paths with fakes."""

from __future__ import annotations

import plistlib
import subprocess
import sys
import types
from pathlib import Path

import pytest

from tests.helpers import ROOT
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
    """Enough of winreg for the Run key: values kept per hive and key path, access rights checked as Windows
    does (a key opened for reading cannot be written, one opened for writing cannot be read)."""

    HKEY_CURRENT_USER = 0x80000001
    HKEY_LOCAL_MACHINE = 0x80000002
    KEY_QUERY_VALUE = 0x0001
    KEY_SET_VALUE = 0x0002
    KEY_READ = 0x20019
    KEY_WRITE = 0x20006
    REG_SZ = 1

    def __init__(self):
        super().__init__("winreg")
        self.values: dict[tuple[int, str, str], str] = {}  # (hive, key path, value name) -> value
        self.keys: set[tuple[int, str]] = set()

    class _Key:
        def __init__(self, hive, path, access):
            self.hive, self.path, self.access = hive, path, access

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def _hive(self, root):
        if root not in (self.HKEY_CURRENT_USER, self.HKEY_LOCAL_MACHINE):
            raise OSError(6, "The handle is invalid")  # ERROR_INVALID_HANDLE
        return root

    def CreateKeyEx(self, root, path, reserved=0, access=KEY_WRITE):
        self.keys.add((self._hive(root), path))
        return self._Key(root, path, access)

    def OpenKey(self, root, path, reserved=0, access=KEY_READ):
        if (self._hive(root), path) not in self.keys:
            raise FileNotFoundError(2, "The system cannot find the file specified")
        return self._Key(root, path, access)

    @staticmethod
    def _allowed(key, right):
        if not key.access & right:
            raise PermissionError(5, "Access is denied")

    def SetValueEx(self, key, name, reserved, kind, value):
        self._allowed(key, self.KEY_SET_VALUE)
        assert kind == self.REG_SZ
        self.values[(key.hive, key.path, name)] = value

    def QueryValueEx(self, key, name):
        self._allowed(key, self.KEY_QUERY_VALUE)
        try:
            return self.values[(key.hive, key.path, name)], self.REG_SZ
        except KeyError:
            raise FileNotFoundError(2, name) from None

    def DeleteValue(self, key, name):
        self._allowed(key, self.KEY_SET_VALUE)
        try:
            del self.values[(key.hive, key.path, name)]
        except KeyError:
            raise FileNotFoundError(2, name) from None


@pytest.fixture
def fake_winreg(monkeypatch):
    fake = FakeWinreg()
    monkeypatch.setitem(sys.modules, "winreg", fake)
    monkeypatch.setattr(autostart, "_platform", lambda: "win32")
    return fake


def test_windows_uses_the_current_user_s_run_key_with_the_quoted_exe_and_minimized(fake_winreg):
    assert not autostart.is_enabled()
    autostart.enable([r"C:\Program Files\Respaldos\Respaldos.exe", "--minimized"])
    key = (FakeWinreg.HKEY_CURRENT_USER, r"Software\Microsoft\Windows\CurrentVersion\Run", "Respaldos")
    assert fake_winreg.values == {key: r'"C:\Program Files\Respaldos\Respaldos.exe" --minimized'}
    assert autostart.is_enabled()
    autostart.disable()
    assert fake_winreg.values == {}
    assert not autostart.is_enabled()
    autostart.disable()


def test_windows_reads_only_the_current_user_s_run_key(fake_winreg):
    """A value for all users (HKLM, which needs admin rights) is not this user's setting to show or remove."""
    fake_winreg.keys.add((FakeWinreg.HKEY_LOCAL_MACHINE, autostart.RUN_KEY))
    machine = (FakeWinreg.HKEY_LOCAL_MACHINE, autostart.RUN_KEY, autostart.RUN_VALUE)
    fake_winreg.values[machine] = r'"C:\Respaldos\Respaldos.exe" --minimized'
    assert not autostart.is_enabled()
    autostart.disable()
    assert machine in fake_winreg.values


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


def test_the_module_imports_and_answers_where_there_is_no_winreg():
    """winreg is imported only on the Windows paths: with it blocked, the module loads and works (Linux)."""
    code = ("import sys; sys.modules['winreg'] = None\n"
            "from wizard.core import autostart\n"
            "autostart._platform = lambda: 'linux'\n"
            "print(autostart.is_enabled())\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "False\n"


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
