"""The GitHub workflows are read by a YAML parser here, since nothing on this machine can run them: every file
parses, every step does something, and the Windows test job runs the folders and markers that exist."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True
    if True in data:
        data["on"] = data.pop(True)
    return data


def registered_markers() -> set[str]:
    return {line.split(":")[0].strip() for line in PYPROJECT["tool"]["pytest"]["ini_options"]["markers"]}


def test_there_are_workflows_to_check():
    assert {p.name for p in WORKFLOWS} >= {"build.yml", "tests.yml"}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_every_workflow_parses_and_every_step_runs_or_uses_something(path):
    workflow = load(path)

    assert workflow["name"] and workflow["on"] and workflow["jobs"]
    for name, job in workflow["jobs"].items():
        assert job["runs-on"], name
        assert job["steps"], name
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), f"{name}: {step}"
            if "uses" in step:
                assert re.fullmatch(r"[\w-]+/[\w-]+@v\d+", step["uses"]), step["uses"]
            if "run" in step:
                assert step["run"].strip(), f"{name}: an empty run step"


def windows_test_job() -> dict:
    return load(ROOT / ".github" / "workflows" / "tests.yml")["jobs"]["windows"]


def pytest_command() -> list[str]:
    [command] = [step["run"] for step in windows_test_job()["steps"] if "pytest" in step.get("run", "")]
    return shlex.split(command)


def test_the_windows_job_runs_on_windows_with_the_python_the_project_requires():
    job = windows_test_job()
    assert job["runs-on"] == "windows-latest"
    [python] = [step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-python@")]
    required = re.fullmatch(r">=(\d+\.\d+)", PYPROJECT["project"]["requires-python"]).group(1)
    assert tuple(map(int, str(python["with"]["python-version"]).split("."))) >= tuple(map(int, required.split(".")))
    [install] = [step["run"] for step in job["steps"] if "pip install -e" in step.get("run", "")]
    extras = re.search(r'"\.\[([\w,]+)\]"', install).group(1).split(",")
    assert set(extras) <= set(PYPROJECT["project"]["optional-dependencies"]), extras


def test_the_windows_job_leaves_out_servers_build_and_root_by_registered_markers_only():
    command = pytest_command()
    assert command[:3] == ["python", "-m", "pytest"]
    expression = command[command.index("-m", 3) + 1]
    words = set(re.findall(r"\w+", expression)) - {"and", "or", "not"}
    assert words <= registered_markers(), words - registered_markers()
    assert words == {"servers", "build", "root"}
    assert expression.count("not ") == 3 and " or " not in expression


def test_the_windows_job_runs_the_windows_only_tests_and_folders_that_exist():
    folders = [arg for arg in pytest_command()[3:] if arg.startswith("tests/")]
    assert folders and all((ROOT / folder).is_dir() for folder in folders), folders
    assert "tests/core" in folders, "tests/core/test_windows.py must run there"
    assert "tests/ui" in folders, "the window: GitHub's Windows runners have a desktop"
