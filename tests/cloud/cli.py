"""Run ``respaldos`` for real in a subprocess (a new process = the app restarted).

Until wizard/cli.py lists the cloud subcommands, the same wiring README describes is applied here
before ``wizard.cli.main`` runs; once it does, this is plain ``python -m wizard``.
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import ROOT

HARNESS = """
import argparse, sys
from pathlib import Path
from wizard import cli
from wizard.core.cloud import commands
if "sync" not in cli.COMMANDS:
    original = cli.build_parser
    def build_parser():
        parser = original()
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        config_opt = argparse.ArgumentParser(add_help=False)
        config_opt.add_argument("--config", metavar="P", default=argparse.SUPPRESS, type=Path)
        commands.add_parsers(sub, config_opt)
        return parser
    cli.build_parser = build_parser
    cli.COMMANDS.update(commands.COMMANDS)
sys.exit(cli.main(sys.argv[1:]))
"""


def env() -> dict[str, str]:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path, "PYTHONUTF8": "1"}


def command(*args: str) -> list[str]:
    return [sys.executable, "-c", HARNESS, *args]


def respaldos(*args: str, input: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(command(*args), input=input, capture_output=True, text=True, encoding="utf-8",
                          cwd=ROOT, env=env(), timeout=timeout, check=False)


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(command(*args), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, encoding="utf-8", cwd=ROOT, env=env())
