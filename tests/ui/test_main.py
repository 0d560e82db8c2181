"""``wizard.ui.app.main`` in its own process (it creates the one root a process may have)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers import skip_unless_ci
from wizard.core import config as config_mod
from wizard.core.config import Config, DestinationConfig, SourceConfig

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import sys
    from pathlib import Path
    import ttkbootstrap as ttk
    from wizard.ui import app, dialogs

    seen = {}
    dialogs.Dialogs.error = lambda self, message, title=None: print("ERROR:", message.splitlines()[0])
    original_init = app.RespaldosWindow.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        seen["window"] = self

    app.RespaldosWindow.__init__ = init
    original_mainloop = ttk.App.mainloop

    def mainloop(self, n=0):
        def report():
            window = seen["window"]
            print("PAGE:", "wizard" if window.wizard is not None else "summary")
            print("TITLE:", self.title())
            self.destroy()
        self.after(1500, report)
        original_mainloop(self, n)

    ttk.App.mainloop = mainloop
    # Without a window manager (Xvfb) iconify() changes nothing visible: record the request instead.
    ttk.App.iconify = lambda self: print("ICONIFY")
    sys.exit(app.main(Path(sys.argv[1]), minimized=len(sys.argv) > 2))
""")


def run_main(config_path: Path, *extra: str) -> subprocess.CompletedProcess:
    if os.name == "posix" and sys.platform != "darwin" and not os.environ.get("DISPLAY"):
        skip_unless_ci("needs a display (pytest-xvfb provides one)")
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, str(config_path), *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,  # the tests assert the exit code with stderr in the message
    )


def test_main_without_a_config_opens_the_wizard(tmp_path):
    result = run_main(tmp_path / "respaldos.toml")
    assert result.returncode == 0, result.stderr
    assert "PAGE: wizard" in result.stdout
    assert "TITLE: Respaldos" in result.stdout
    assert "ICONIFY" not in result.stdout


def test_main_with_a_valid_config_opens_the_summary_and_minimized_starts_iconified(tmp_path):
    dest = tmp_path / "usb"
    dest.mkdir()
    path = tmp_path / "respaldos.toml"
    config_mod.save(
        Config(source=SourceConfig([str(tmp_path)]), destination=DestinationConfig(str(dest))), path
    )
    result = run_main(path, "--minimized")
    assert result.returncode == 0, result.stderr
    assert "PAGE: summary" in result.stdout
    assert "ICONIFY" in result.stdout


def test_main_with_an_invalid_config_shows_the_problems_and_opens_the_wizard(tmp_path):
    path = tmp_path / "respaldos.toml"
    path.write_text('[source]\npaths = []\n[destination]\nfolder = "E:/R"\n', encoding="utf-8")
    result = run_main(path)
    assert result.returncode == 0, result.stderr
    assert "PAGE: wizard" in result.stdout
    assert "ERROR: La configuración" in result.stdout
