"""The one-file executable: built by tools/build.sh, at most 45 MB, passes its own --self-test under Xvfb,
carries only what the spec says, and leaves the checkout as it was.

The build (about a minute on 2 cores) runs once for the module, in a copy of this checkout (tracked files
plus untracked ones that are not ignored) that is its own git repository: so `git status` can be asserted
exactly, even while other people edit or build in the real checkout. The vendor's cloud settings are
given through the environment, as a vendor's build would, to prove they reach the bundle and never the
checkout.

Without PyInstaller or a display these tests skip, except in CI: .ci/run sets RESPALDOS_CI=1, and there
a missing tool fails them, so a CI run can never pass without having built and run the executable.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.helpers import skip_unless_ci

REPO = Path(__file__).resolve().parents[1]
MAX_BYTES = 45 * 1000 * 1000
STEPS = ["datos de ejemplo", "respaldo", "verificación", "restauración", "componentes", "ventana"]
FAKE_APP_KEY = f"prueba-{uuid.uuid4().hex}"  # made at run time: grep must not find this file

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def pyinstaller() -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        skip_unless_ci("the build needs PyInstaller: pip install '.[build]'")


@pytest.fixture(scope="module")
def display() -> None:
    """Checked before the build, so that a missing display does not cost a build first."""
    if not os.environ.get("DISPLAY"):
        skip_unless_ci("no display (pytest-xvfb starts one when the Xvfb binary is installed)")


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=build test", "-c", "user.email=build@test", *args], cwd=cwd,
                          check=True, capture_output=True, text=True).stdout


def copy_checkout(target: Path) -> Path:
    """The working tree as it is now (not just HEAD), committed in a fresh repository."""
    proc = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                          check=False, capture_output=True)
    if proc.returncode != 0:
        pytest.skip("not a git checkout: the clean-checkout check needs git")
    listed = proc.stdout.decode().split("\0")
    for name in filter(None, listed):
        source = REPO / name
        if source.is_file():  # a tracked file deleted in the working tree is left out, as it would be
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    git(target, "init", "-q")
    git(target, "add", "-A")
    git(target, "commit", "-q", "-m", "snapshot for the build test")
    return target


class Build:
    def __init__(self, checkout: Path, exe: Path, seconds: float, output: str):
        self.checkout = checkout
        self.exe = exe
        self.seconds = seconds
        self.output = output


@pytest.fixture(scope="module")
def build(pyinstaller, tmp_path_factory) -> Build:
    base = tmp_path_factory.mktemp("build")
    checkout = copy_checkout(base / "checkout")
    secrets = base / "vendor" / "client_secrets.json"  # outside the checkout, as a vendor keeps it
    secrets.parent.mkdir()
    secrets.write_text(json.dumps({"installed": {
        "client_id": "prueba.apps.googleusercontent.com", "client_secret": "secreto-de-prueba",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": "https://oauth2.googleapis.com/token",
        "redirect_uris": ["http://localhost"]}}))
    # README's first command comes first in the same clone, as a newcomer runs them: `pip install .`
    # (offline here: the installed setuptools, no dependencies, into a folder of its own)
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
                                "--target", str(base / "site"), "."], cwd=checkout, capture_output=True, text=True,
                               timeout=300, check=False)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    env = dict(os.environ, PYTHON=sys.executable, WORKPATH=str(base / "work"),
               RESPALDOS_DROPBOX_APP_KEY=FAKE_APP_KEY, RESPALDOS_GOOGLE_CLIENT_SECRETS=str(secrets))
    env.pop("DISTPATH", None)
    started = time.monotonic()
    proc = subprocess.run(["bash", str(checkout / "tools" / "build.sh")], cwd=checkout, env=env,
                          capture_output=True, text=True, timeout=840, check=False)
    seconds = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    exe = checkout / "dist" / ("Respaldos.exe" if sys.platform == "win32" else "respaldos")
    assert exe.is_file(), proc.stdout + proc.stderr
    return Build(checkout, exe, seconds, proc.stdout + proc.stderr)


def read_bundle(exe: Path):
    from PyInstaller.archive.readers import CArchiveReader

    return CArchiveReader(str(exe))


@pytest.fixture(scope="module")
def bundle(build) -> dict[str, tuple]:
    return read_bundle(build.exe).toc


def test_build_script_makes_one_executable_of_at_most_45_MB(build):
    size = build.exe.stat().st_size
    print(f"\n{build.exe.name}: {size / 1e6:.1f} MB, built in {build.seconds:.0f} s")
    assert size <= MAX_BYTES, f"{size / 1e6:.1f} MB"
    assert re.search(r"Built .* MB \(\d+ bytes\) in \d+ s", build.output)
    assert sorted(p.name for p in (build.checkout / "dist").iterdir()) == [build.exe.name]


def test_executable_passes_its_self_test_under_xvfb(display, build, isolated_dirs):
    env = dict(os.environ, TMPDIR=str(isolated_dirs / "tmp"))
    (isolated_dirs / "tmp").mkdir()

    proc = subprocess.run([str(build.exe), "--self-test"], env=env, capture_output=True, text=True, timeout=180,
                          check=False)

    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if " paso " in line]
    assert [line.split(":")[0] for line in lines] == [
        f"OK  paso {number}/{len(STEPS)} {name}" for number, name in enumerate(STEPS, 1)], proc.stdout
    assert proc.stdout.splitlines()[-1].startswith("Autoprueba correcta: 6 de 6 pasos")
    # The one-file executable removed the folder it unpacked itself into.
    assert not list((isolated_dirs / "tmp").iterdir())


def test_pip_install_then_the_build_leave_the_checkout_clean(build):
    """`pip install .` then the build, in one clone: git sees nothing new, and build/ holds only the spec:
    neither PyInstaller's work folder (its default, ./build/respaldos) nor setuptools' build/lib and
    build/bdist.* (setup.cfg sends those to the ignored .setuptools-build/)."""
    assert git(build.checkout, "status", "--porcelain", "--untracked-files=all") == ""
    assert not (build.checkout / "build" / "respaldos").exists(), "PyInstaller's work folder is in the checkout"
    assert sorted(p.name for p in (build.checkout / "build").iterdir()) == ["spec"]
    assert sorted(p.name for p in (build.checkout / "build" / "spec").iterdir()) == ["respaldos.spec"]


def test_vendor_cloud_settings_reach_the_bundle_and_never_the_checkout(build, bundle):
    settings = json.loads(read_bundle(build.exe).extract("respaldos-vendor.json"))
    assert settings["dropbox_app_key"] == FAKE_APP_KEY
    assert settings["google_client_config"]["installed"]["client_secret"] == "secreto-de-prueba"
    ignored = git(build.checkout, "status", "--porcelain", "--ignored", "--untracked-files=all")
    assert [line for line in ignored.splitlines() if "vendor" in line] == []
    found = subprocess.run(["grep", "-rl", "--exclude-dir=dist", "--exclude-dir=.git", FAKE_APP_KEY,
                            str(build.checkout)], capture_output=True, text=True, check=False)
    assert found.stdout == ""


def test_bundle_carries_only_the_drive_discovery_document_and_the_data_files_it_needs(bundle):
    discovery = sorted(name.rsplit("/", 1)[-1] for name in bundle
                       if name.startswith("googleapiclient/discovery_cache/documents/"))
    assert discovery == ["drive.v2.json"]
    for name in ("wizard/locale/en/LC_MESSAGES/respaldos.mo", "assets/respaldos.png", "assets/respaldos.ico",
                 "certifi/cacert.pem", "httplib2/cacerts.txt"):
        assert name in bundle, name
    assert any(name.startswith("ttkbootstrap/assets/") for name in bundle)
    assert not [name for name in bundle if name.startswith(("numpy", "PIL/_avif", "tkinter/test"))]


def test_the_spec_refuses_a_work_folder_inside_the_checkout_before_building_anything(pyinstaller, tmp_path):
    # `pyinstaller build/spec/respaldos.spec` from the checkout: PyInstaller's default work folder is ./build
    checkout = tmp_path / "checkout"
    (checkout / "build" / "spec").mkdir(parents=True)
    shutil.copy2(REPO / "build" / "spec" / "respaldos.spec", checkout / "build" / "spec")

    proc = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "build/spec/respaldos.spec"],
                          cwd=checkout, capture_output=True, text=True, timeout=120, check=False)

    assert proc.returncode != 0
    assert f"work folder {checkout / 'build' / 'respaldos'} is inside the checkout" in proc.stderr
    assert "tools/build.sh" in proc.stderr
    # refused before any analysis: PyInstaller logged none and made no work folder
    assert "Analysis" not in proc.stderr and "Analyzing" not in proc.stderr, proc.stderr
    assert sorted(p.name for p in (checkout / "build").iterdir()) == ["spec"]


SELF_TEST = f"{REPO / 'tests' / 'test_build.py'}::test_executable_passes_its_self_test_under_xvfb"


def run_self_test_test(tmp_path: Path, *, ci: bool, missing: str) -> subprocess.CompletedProcess:
    """This file's self-test test in a child pytest without PyInstaller or without a display."""
    env = {k: v for k, v in os.environ.items() if k not in ("RESPALDOS_CI", "DISPLAY", "PYTHONPATH")}
    paths = [str(REPO)]
    if missing == "pyinstaller":
        hidden = tmp_path / "hide"
        (hidden / "PyInstaller").mkdir(parents=True, exist_ok=True)
        (hidden / "PyInstaller" / "__init__.py").write_text('raise ImportError("hidden by the test")\n')
        paths.insert(0, str(hidden))
        env["DISPLAY"] = ":99"  # only its presence is checked before the build, which never starts
    env["PYTHONPATH"] = os.pathsep.join(paths)
    if ci:
        env["RESPALDOS_CI"] = "1"
    # -p no:xvfb: no display is started; a build started by mistake would run into --timeout
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xvfb", "-p", "no:cacheprovider", "-q",
                           "--timeout", "60", SELF_TEST],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("missing, reason", [("pyinstaller", "the build needs PyInstaller"),
                                             ("display", "no display")])
def test_in_ci_a_missing_pyinstaller_or_display_fails_the_build_tests_instead_of_skipping(tmp_path, missing,
                                                                                         reason):
    outside = run_self_test_test(tmp_path, ci=False, missing=missing)
    in_ci = run_self_test_test(tmp_path, ci=True, missing=missing)

    assert outside.returncode == 0, outside.stdout + outside.stderr
    assert "1 skipped" in outside.stdout and reason in outside.stdout
    assert in_ci.returncode == 1, in_ci.stdout + in_ci.stderr
    assert f"{reason}" in in_ci.stdout and "RESPALDOS_CI is set" in in_ci.stdout
    assert "skipped" not in in_ci.stdout.splitlines()[-1]
