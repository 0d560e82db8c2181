"""One arrow direction: no import cycle inside wizard/core (tools/import_graph.py, which CI also runs)."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT


def test_wizard_core_has_no_import_cycle_and_the_tool_says_so():
    proc = subprocess.run([sys.executable, str(ROOT / "tools" / "import_graph.py"), "--strict"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("import cycles: 0 (0 inside wizard.core)"), proc.stdout


def test_the_tool_finds_a_cycle_when_there_is_one(tmp_path):
    """The check can fail: a copy of the package with one module importing back up is reported."""
    import shutil

    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "wizard", copy / "wizard", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "tools", copy / "tools")
    names = copy / "wizard" / "core" / "names.py"
    names.write_text(names.read_text(encoding="utf-8") + "\nfrom wizard.core import backup  # noqa\n",
                     encoding="utf-8")
    proc = subprocess.run([sys.executable, str(copy / "tools" / "import_graph.py"), "--strict"], cwd=copy,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "wizard.core.backup" in proc.stdout and "wizard.core.names" in proc.stdout
