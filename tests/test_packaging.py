"""What `pip install .` puts on a newcomer's machine: a wheel built from this checkout carries the
English catalog and the window icons (the self-test's "componentes" step needs both), and the console
script; and what it leaves in the clone: nothing in build/, where the PyInstaller spec lives."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.helpers import ROOT, skip_unless_ci


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
        skip_unless_ci("git is needed to list the checkout's files")
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
                   "wizard/assets/respaldos.ico", "wizard/core/detect/profiles.toml"):
        assert needed in names, f"{needed} is missing from the wheel"


def test_the_packaged_icons_are_the_ones_in_assets(wheel):
    for name in ("respaldos.png", "respaldos.ico"):
        assert wheel.read(f"wizard/assets/{name}") == (ROOT / "assets" / name).read_bytes(), (
            f"wizard/assets/{name} differs from assets/{name}: run python tools/make_icon.py")


def test_the_wheel_installs_the_respaldos_command(wheel):
    entry_points = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))

    text = wheel.read(entry_points).decode()

    assert "respaldos = wizard.__main__:main" in text


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=test", "-c", "user.email=test@test", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


def test_pip_install_in_a_fresh_clone_leaves_build_to_the_spec_and_git_status_clean(tmp_path):
    """README's two commands in one clone: `pip install .` first must not leave setuptools' build/lib and
    build/bdist.* beside build/spec, which `.ci/run`'s build test takes for PyInstaller's leftovers
    (setup.cfg sends them to the ignored .setuptools-build/)."""
    if shutil.which("git") is None:
        skip_unless_ci("git is needed to clone the checkout")
    snapshot = checkout_copy(tmp_path / "snapshot")  # the working tree as it is now, as a repository
    git(snapshot, "init", "-q")
    git(snapshot, "add", "-A")
    git(snapshot, "commit", "-q", "-m", "snapshot")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(snapshot), str(clone))
    assert sorted(p.name for p in (clone / "build").iterdir()) == ["spec"]

    # `python3 -m pip install .`, into a folder of its own (offline: the installed setuptools, no deps)
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                           "--target", str(tmp_path / "site"), "."], cwd=clone, capture_output=True, text=True,
                          timeout=300, check=False)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "site" / "wizard" / "locale" / "en" / "LC_MESSAGES" / "respaldos.mo").is_file()
    assert sorted(p.name for p in (clone / "build").iterdir()) == ["spec"]
    assert sorted(p.name for p in (clone / "build" / "spec").iterdir()) == ["respaldos.spec"]
    assert git(clone, "status", "--porcelain", "--untracked-files=all") == ""
