"""``respaldos --self-test`` from source: every step passes on a real display, and real failures name their step.

The self-test is run as a user runs it, in a subprocess (``python -m wizard --self-test``), with the display
pytest-xvfb provides. The per-test XDG folders (tests/conftest.py) stand in for the user's own folders.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import skip_unless_ci

REPO = Path(__file__).resolve().parents[1]
STEPS = ["datos de ejemplo", "respaldo", "verificación", "restauración", "componentes", "ventana"]


def run_self_test(env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "wizard", "--self-test"], cwd=REPO, env=env or dict(os.environ),
                          capture_output=True, text=True, timeout=timeout, check=False)


def step_lines(stdout: str) -> list[str]:
    return [line for line in stdout.splitlines() if re.match(r"^(OK  |FALLO |OMITIDO )paso ", line)]


def assert_all_steps_passed(result: subprocess.CompletedProcess, *, skipped: tuple[str, ...] = ()) -> None:
    """One line per step, in order, each OK (or OMITIDO for ``skipped``); exit 0 and a closing line."""
    assert result.returncode == 0, result.stdout + result.stderr
    lines = step_lines(result.stdout)
    assert len(lines) == len(STEPS), result.stdout
    for number, (line, name) in enumerate(zip(lines, STEPS, strict=True), 1):
        status = "OMITIDO" if name in skipped else "OK "
        assert line.startswith(f"{status} paso {number}/{len(STEPS)} {name}: "), line
    assert result.stdout.splitlines()[-1].startswith("Autoprueba correcta: ")


@pytest.fixture
def display() -> None:
    if not os.environ.get("DISPLAY"):
        skip_unless_ci("no display (pytest-xvfb starts one when the Xvfb binary is installed)")


def unused_display() -> str:
    number = next(n for n in range(150, 250) if not Path(f"/tmp/.X11-unix/X{n}").exists()
                  and not Path(f"/tmp/.X{n}-lock").exists())
    return f":{number}"


def test_self_test_from_source_passes_every_step_and_opens_the_window(display, isolated_dirs):
    result = run_self_test()

    assert_all_steps_passed(result)
    assert '"Respaldos" abierta en' in result.stdout
    # The run was recorded in its own temporary history, not in the user's.
    assert not list(isolated_dirs.rglob("history.jsonl"))
    assert not list(isolated_dirs.rglob("respaldo_*.zip"))


def test_self_test_without_a_display_skips_only_the_window_and_copies_its_lines_to_a_file(tmp_path):
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    output = tmp_path / "autoprueba.txt"
    env["RESPALDOS_SELFTEST_OUTPUT"] = str(output)

    result = run_self_test(env)

    assert_all_steps_passed(result, skipped=("ventana",))
    assert "no hay pantalla" in result.stdout
    assert output.read_text(encoding="utf-8") == result.stdout


def test_self_test_names_the_window_step_when_the_display_cannot_be_opened():
    env = dict(os.environ, DISPLAY=unused_display())

    result = run_self_test(env)

    assert result.returncode == 1
    lines = step_lines(result.stdout)
    assert [line.split(":")[0] for line in lines[:5]] == [
        f"OK  paso {n}/6 {name}" for n, name in enumerate(STEPS[:5], 1)]
    assert lines[5].startswith("FALLO paso 6/6 ventana: no se pudo abrir la ventana"), lines[5]
    assert result.stdout.splitlines()[-1] == 'La autoprueba falló en el paso "ventana".'


@pytest.fixture
def small_disk(tmp_path):
    """A real 6 MiB filesystem: the demo folder (about 4 MB) fits, a backup next to it does not."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        skip_unless_ci("mounting a tmpfs needs root (as in CI)")
    mount = tmp_path / "small"
    mount.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        skip_unless_ci(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_self_test_fails_at_the_backup_step_when_its_temporary_disk_is_full(small_disk):
    env = dict(os.environ, TMPDIR=str(small_disk))
    env.pop("DISPLAY", None)

    result = run_self_test(env)

    assert result.returncode == 1, result.stdout
    lines = step_lines(result.stdout)
    assert lines[0].startswith("OK  paso 1/6 datos de ejemplo: "), result.stdout
    assert lines[1].startswith("FALLO paso 2/6 respaldo: No hay espacio suficiente en "), result.stdout
    assert len(lines) == 2
    assert result.stdout.splitlines()[-1] == 'La autoprueba falló en el paso "respaldo".'
    assert not any(small_disk.iterdir()), "the self-test leaves nothing behind, even when it fails"
