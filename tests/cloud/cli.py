"""Run ``respaldos`` for real in a subprocess (a new process = the app restarted): ``python -m wizard``."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import ROOT


def env() -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "PYTHONUTF8": "1"}


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "wizard", *args]


def respaldos(*args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(command(*args), input=input, capture_output=True, text=True, encoding="utf-8",
                          cwd=ROOT, env=env(), timeout=timeout, check=False)


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(command(*args), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, encoding="utf-8", cwd=ROOT, env=env())
