"""One real Tk root for the whole UI session (creating roots is slow; ttkbootstrap allows one per process).

pytest-xvfb starts a virtual display when the Xvfb binary exists. Each test builds a RespaldosWindow into
the shared root and takes it out again; dialogs are answered by a fake instead of modal windows.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

import pytest

os.environ.setdefault("TTKBOOTSTRAP_STRICT", "1")  # an unknown style word is an error, not a warning

import ttkbootstrap as ttk  # noqa: E402

from tests.helpers import skip_unless_ci  # noqa: E402
from wizard.core import config as config_mod  # noqa: E402
from wizard.core.config import Config, DestinationConfig, ScheduleConfig, SourceConfig  # noqa: E402


class FakeDialogs:
    """Records every message; answers questions with what the test set beforehand."""

    def __init__(self) -> None:
        self.infos: list[str] = []
        self.warnings: list[str] = []
        self.errors: list[str] = []
        self.questions: list[str] = []
        self.confirm_answer = True
        self.directory: str | None = None
        self.files: list[str] = []

    def info(self, message, title=None):
        self.infos.append(message)

    def warning(self, message, title=None):
        self.warnings.append(message)

    def error(self, message, title=None):
        self.errors.append(message)

    def confirm(self, message, title=None, yes=None, no=None):
        self.questions.append(message)
        return self.confirm_answer

    def choose_directory(self, title, initial=None):
        return self.directory

    def choose_files(self, title, initial=None):
        return list(self.files)


@pytest.fixture(scope="session")
def tk_root():
    # Windows and macOS always have a desktop; elsewhere X11 needs DISPLAY or pytest-xvfb's Xvfb.
    if os.name == "posix" and sys.platform != "darwin" and not os.environ.get("DISPLAY") and not shutil.which("Xvfb"):
        skip_unless_ci("no display and no Xvfb (apt-get install xvfb xauth)")
    ttk.set_bootstyle_strict(True)
    from wizard.ui.app import THEME, configure_root

    root = ttk.App(title="Respaldos", theme=THEME, iconphoto=None)
    configure_root(root)
    root.update()
    yield root
    root.destroy()


def pump(root, until=None, timeout: float = 10.0) -> bool:
    """Run the Tk event loop until ``until()`` is true (or for ``timeout`` seconds without one)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        root.update()
        if until is not None and until():
            root.update()
            return True
        time.sleep(0.01)
    if until is None:
        return True
    root.update()
    return bool(until())


@pytest.fixture
def dialogs():
    return FakeDialogs()


@pytest.fixture
def open_window(tk_root, dialogs, tmp_path):
    """open_window(config_path=None) -> RespaldosWindow in the session root, removed after the test."""
    from wizard.ui.app import RespaldosWindow

    made = []
    quits = []

    def factory(config_path: Path | None = None, **kwargs):
        path = config_path or tmp_path / "config" / "respaldos.toml"
        kwargs.setdefault("run_scheduler", False)
        window = RespaldosWindow(tk_root, path, dialogs=dialogs, on_quit=lambda: quits.append(True), **kwargs)
        window.quits = quits
        made.append(window)
        pump(tk_root, timeout=0.1)
        return window

    yield factory
    for window in made:
        if window.worker is not None and window.worker.thread is not None:
            window.worker.cancel()
            window.worker.thread.join(timeout=30)
        window.destroy()
    pump(tk_root, timeout=0.05)


@pytest.fixture
def pos_data(tmp_path):
    """A POS data folder: a SQLite database, a photo and an invoice."""
    from tests.helpers import make_sales_db

    data = tmp_path / "SICAR" / "datos"
    (data / "imagenes").mkdir(parents=True)
    make_sales_db(data / "punto_de_venta.db", rows=2000)
    (data / "imagenes" / "coca_600.jpg").write_bytes(os.urandom(5000))
    (data / "factura F1001.xml").write_text("<cfdi:Comprobante Folio='1001'/>", encoding="utf-8")
    return data


@pytest.fixture
def usb(tmp_path):
    folder = tmp_path / "KINGSTON" / "Respaldos"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def saved_config(tmp_path, pos_data, usb):
    """A valid config file, as the wizard would have saved it."""
    path = tmp_path / "config" / "respaldos.toml"
    config = Config(
        source=SourceConfig(paths=[str(pos_data)]),
        destination=DestinationConfig(folder=str(usb)),
        schedule=ScheduleConfig(frequency="weekly", weekdays=["friday"], time="20:00"),
    )
    config_mod.save(config, path)
    return path
