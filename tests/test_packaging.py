"""What `pip install .` puts on a newcomer's machine: a wheel built from this checkout carries the
English catalog and the window icons (the self-test's "componentes" step needs both), and the console
script."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT


def checkout_copy(dest: Path) -> Path:
    """The files git would give a clean clone (tracked or new, not ignored); setuptools writes build/
    and *.egg-info beside pyproject.toml, so the wheel is built from a copy."""
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return dest


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    if shutil.which("git") is None:
        pytest.skip("git is needed to list the checkout's files")
    work = tmp_path_factory.mktemp("wheel")
    source = checkout_copy(work / "src")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-q", "-w", str(work / "dist"), str(source)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (built,) = (work / "dist").glob("respaldos-*.whl")
    with zipfile.ZipFile(built) as zf:
        yield zf


def test_the_wheel_carries_the_english_catalog_and_the_icons(wheel):
    names = set(wheel.namelist())

    for needed in ("wizard/locale/en/LC_MESSAGES/respaldos.mo", "wizard/assets/respaldos.png",
                   "wizard/assets/respaldos.ico"):
        assert needed in names, f"{needed} is missing from the wheel"


def test_the_packaged_icons_are_the_ones_in_assets(wheel):
    for name in ("respaldos.png", "respaldos.ico"):
        assert wheel.read(f"wizard/assets/{name}") == (ROOT / "assets" / name).read_bytes(), (
            f"wizard/assets/{name} differs from assets/{name}: run python tools/make_icon.py")


def test_the_wheel_installs_the_respaldos_command(wheel):
    entry_points = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))

    text = wheel.read(entry_points).decode()

    assert "respaldos = wizard.__main__:main" in text
