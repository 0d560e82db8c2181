"""README is a newcomer's first minute: the two commands (the test command is the one CI runs), the quick path,
where each reader goes; and the docs' "see ..." cross-references (moved out of README) lead somewhere.
The commands, config keys and links of README and docs/ are checked in tests/test_docs.py."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TEXTS = {path: path.read_text(encoding="utf-8") for path in DOCS}
HEADINGS = [m.group(1).strip() for text in TEXTS.values() for m in re.finditer(r"^#{1,4} (.+)$", text, re.MULTILINE)]


def _references() -> list[str]:
    found = set()
    for text in TEXTS.values():
        found |= {a or b for a, b in re.findall(r'\(see ([A-Z][^)\[\]]*)\)|see "([^"]+)"', text)}
    return sorted(found)


def test_the_docs_have_cross_references_to_check():
    assert len(_references()) >= 3, _references()


def test_every_see_reference_names_a_heading():
    missing = [t for t in _references() if not any(h == t or h.startswith((t + " ", t + " ("))
                                                    for h in HEADINGS)]
    assert not missing, f"the docs refer to sections that do not exist: {missing}"


def test_every_relative_link_in_readme_exists():
    links = re.findall(r"\]\(((?!https?:)[^)#]+)\)", README)
    assert len(links) >= 15
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, missing


def test_the_test_command_in_readme_is_the_last_line_of_ci():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").strip().splitlines()
    assert ci[-1] == "python3 -m pytest"
    assert "`python3 -m pytest`" in README
    assert "sudo bash .ci/run" in README
    assert "python3 -m pip install . && respaldos" in README
    assert 'python3 -m pip install -e ".[test]" && python3 -m pytest -m "not servers and not build"' in README


def test_readme_is_short_and_sends_each_reader_to_a_guide():
    assert len(README.splitlines()) <= 200
    for guide in ("docs/guia.md", "docs/tecnico.md", "docs/commands.md", "docs/format.md", "docs/testing.md",
                  "docs/performance.md", "docs/screenshots/07-resumen.png"):
        assert f"({guide})" in README, guide
