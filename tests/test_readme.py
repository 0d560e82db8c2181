"""README is a contract for newcomers and support staff: its cross-references must lead somewhere."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
HEADINGS = [m.group(1).strip() for m in re.finditer(r"^#{2,4} (.+)$", README, re.M)]
REFERENCES = sorted(set(re.findall(r'\(see ([A-Z][^)]*)\)|see "([^"]+)"', README)))


def _targets() -> list[str]:
    return sorted({a or b for a, b in REFERENCES})


def test_readme_has_cross_references_to_check():
    assert len(_targets()) >= 5, _targets()


def test_every_see_reference_names_a_heading():
    missing = [t for t in _targets() if not any(h == t or h.startswith(t + " ") or h.startswith(t + " (")
                                                 for h in HEADINGS)]
    assert not missing, f"README refers to sections that do not exist: {missing}"


def test_every_relative_link_in_readme_exists():
    links = re.findall(r"\]\(((?!https?:)[^)#]+)\)", README)
    assert links
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, missing


def test_the_test_command_in_readme_is_the_last_line_of_ci():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == "python3 -m pytest"
    assert "`python3 -m pytest`" in README
    assert "sudo bash .ci/run" in README
