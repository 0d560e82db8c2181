"""The docs are a contract for owners, technicians and maintainers: every `respaldos ...` command line they
show parses with the real parser, every config key in their TOML blocks passes the real validator, every
relative link and image leads somewhere, and the Spanish guides name the same commands as the English
reference (docs/commands.md)."""

from __future__ import annotations

import argparse
import contextlib
import functools
import io
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from wizard.cli import build_parser
from wizard.core.config import validate_dict

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TEXT = {path: path.read_text(encoding="utf-8") for path in DOCS}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.DOTALL | re.MULTILINE)

# Placeholders the docs use in synopses, with a value of the right shape; any other all-capitals word is "x".
SAMPLES = {"P": "/tmp/r.toml", "DIR": "/tmp/d", "CARPETA": "/tmp/d", "S": "60", "SECONDS": "60",
           "SEGUNDOS": "60", "ID": "3f2a9c1b", "U": "root", "PORT": "3307",
           "PUERTO": "3307"}
PLACEHOLDER = re.compile(r"^[A-Z][A-Z_]*$")


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _prose(text: str) -> str:
    return FENCE.sub("", text)


def command_lines(text: str) -> list[str]:
    """`respaldos ...` in code spans (outside fenced blocks) and at the start of lines in fenced blocks."""
    found = [m.group(1) for m in re.finditer(r"`(respaldos(?: [^`]*)?)`", _prose(text))]
    for lang, block in FENCE.findall(text):
        if lang in ("", "bash", "sh", "console", "powershell", "bat", "cmd", "text"):
            for line in block.splitlines():
                line = re.sub(r"^\s*(?:\$|>|PS>|C:\\>)?\s*", "", line)
                if re.match(r"respaldos( |$)", line):
                    found.append(line.split(" #")[0].strip())
    return found


def _one_form(synopsis: str) -> str:
    """A synopsis as one command: optional groups included, the first of alternatives, no ellipses."""
    text = synopsis.replace("\\|", "|").replace("…", " ").replace("...", " ")
    text = re.sub(r"\[([^\[\]]*)\]", lambda m: " " + m.group(1).split(" | ")[0] + " ", text)
    text = text.split(" | ")[0]
    return re.sub(r"(\S+)\|\S+", r"\1", text).replace("\\", "/")


def argv_of(synopsis: str) -> tuple[list[str], bool]:
    """The arguments after `respaldos`, and whether any placeholder was filled in."""
    words = shlex.split(_one_form(synopsis))[1:]
    filled = [SAMPLES.get(w, "x") if PLACEHOLDER.match(w) else w for w in words]
    return filled, filled != words


@functools.cache
def _parser() -> argparse.ArgumentParser:
    return build_parser()


def parse_error(argv: list[str]) -> str | None:
    """None when the real parser accepts ``argv`` (``--help`` included), else its error message."""
    err = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            _parser().parse_args(argv)
    except SystemExit as exc:
        return None if exc.code == 0 else err.getvalue().strip().splitlines()[-1]
    return None


def test_the_docs_show_commands_to_check():
    assert sum(len(command_lines(t)) for t in TEXT.values()) > 100


@pytest.mark.parametrize("path", DOCS, ids=_name)
def test_every_command_line_in_the_docs_parses(path):
    bad = []
    for line in command_lines(TEXT[path]):
        argv, filled = argv_of(line)
        error = parse_error(argv)
        # A bare mention in a sentence ("`respaldos db restore` asks ...") lacks its arguments; that is fine
        # as long as what it names exists. A synopsis with placeholders must parse whole.
        if error and (filled or not re.search(r"required|expected one argument", error)):
            bad.append(f"{line!r}: {error}")
    assert not bad, f"{_name(path)} shows command lines the parser refuses:\n" + "\n".join(bad)


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for key, value in extra.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


MINIMAL = {"source": {"paths": ["/tmp/pos"]}, "destination": {"folder": "/tmp/respaldos"}}
COMMENTED_SETTING = re.compile(r"^# ?(\[\[?[\w.]+\]\]?|[a-z_]+ = \S.*?)(\s+#.*)?$")


def toml_blocks() -> list[tuple[str, str]]:
    return [(_name(path), block) for path, text in TEXT.items()
            for lang, block in FENCE.findall(text) if lang == "toml"]


def test_the_docs_show_config_to_check():
    assert len(toml_blocks()) >= 4


@pytest.mark.parametrize("where,block", toml_blocks(), ids=[f"{n}#{i}" for i, (n, _) in enumerate(toml_blocks())])
def test_every_config_block_in_the_docs_is_valid(where, block):
    """A block may be a fragment (only [notify]): it is checked on top of a minimal config. Settings shown
    commented out (`# keep_daily = 7`) are real keys too: the block is checked again with them switched on."""
    forms = [block]
    uncommented = "\n".join(COMMENTED_SETTING.sub(r"\1", line) for line in block.splitlines())
    if uncommented != block:
        forms.append(uncommented)
    for form in forms:
        problems = validate_dict(_merge(MINIMAL, tomllib.loads(form)))
        assert not problems, f"{where}: {[(p.key, p.message) for p in problems]}\n{form}"


LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_slug(h) for h in re.findall(r"^#{1,6} (.+)$", _prose(path.read_text(encoding="utf-8")), re.MULTILINE)}


def test_every_relative_link_and_image_resolves():
    missing = []
    for path, text in TEXT.items():
        for target in LINK.findall(_prose(text)):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            dest = (path.parent / file).resolve() if file else path
            if not dest.exists():
                missing.append(f"{_name(path)}: {target}")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                missing.append(f"{_name(path)}: {target} (no such heading)")
    assert not missing, missing


def test_every_doc_is_linked_from_readme_or_another_doc():
    linked = {(path.parent / t.partition("#")[0]).resolve() for path, text in TEXT.items()
              for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)}
    orphans = [_name(p) for p in DOCS[1:] if p.resolve() not in linked]
    assert not orphans, f"nothing links to {orphans}: link them or remove them"


def _subcommands() -> set[str]:
    """Every subcommand path of the real parser: "backup", "db", "db restore", ..."""
    out: set[str] = set()

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    out.add(prefix + name)
                    walk(sub, prefix + name + " ")

    walk(build_parser(), "")
    return out


def mentioned(text: str) -> set[str]:
    known = _subcommands()
    found = set()
    for line in command_lines(text):
        words = _one_form(line).split()[1:]
        for n in (2, 1):
            if " ".join(words[:n]) in known:
                found.add(" ".join(words[:n]))
                break
    return found


def test_the_spanish_guides_and_the_english_reference_name_the_same_commands():
    english = mentioned(TEXT[ROOT / "docs" / "commands.md"])
    spanish = mentioned(TEXT[ROOT / "docs" / "guia.md"] + TEXT[ROOT / "docs" / "tecnico.md"])
    assert len(english) >= 15, english
    assert english == spanish, f"only in commands.md: {english - spanish}; only in Spanish: {spanish - english}"


def _dataclass_keys(cls: type, prefix: str = "") -> set[str]:
    """Every key path of the config schema, from its dataclasses: "source.paths", "source.databases.port"..."""
    import dataclasses
    import typing

    out = set()
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        out.add(prefix + f.name)
        for inner in (hints[f.name], *typing.get_args(hints[f.name])):
            for kind in (inner, *typing.get_args(inner)):
                if dataclasses.is_dataclass(kind):
                    out |= _dataclass_keys(kind, prefix + f.name + ".")
    return out


def _block_keys(data: dict, prefix: str = "") -> set[str]:
    out = set()
    for key, value in data.items():
        out.add(prefix + key)
        tables = [value] if isinstance(value, dict) else [v for v in value if isinstance(v, dict)] \
            if isinstance(value, list) else []
        for table in tables:
            out |= _block_keys(table, prefix + key + ".")
    return out


REFERENCES = ["docs/commands.md", "docs/tecnico.md"]  # the English and the Spanish (technician's) reference


@pytest.mark.parametrize("reference", REFERENCES)
def test_the_reference_shows_every_config_key(reference):
    from wizard.core.config import Config

    shown = set()
    for where, block in toml_blocks():
        if where == reference:
            shown |= _block_keys(tomllib.loads("\n".join(COMMENTED_SETTING.sub(r"\1", line)
                                                         for line in block.splitlines())))
    schema = _dataclass_keys(Config)
    assert len(schema) > 30
    assert not schema - shown, f"{reference} does not show {sorted(schema - shown)}"


def test_the_environment_variables_are_the_same_in_code_and_both_references():
    code = {v for path in (ROOT / "wizard").rglob("*.py")
            for v in re.findall(r"RESPALDOS_[A-Z_]+", path.read_text(encoding="utf-8"))}
    english = set(re.findall(r"RESPALDOS_[A-Z_]+", TEXT[ROOT / "docs" / "commands.md"]))
    spanish = set(re.findall(r"RESPALDOS_[A-Z_]+", TEXT[ROOT / "docs" / "tecnico.md"]))
    assert len(code) >= 5
    assert code == english == spanish, (sorted(code ^ english), sorted(code ^ spanish))


@pytest.mark.parametrize("reference", REFERENCES)
def test_the_reference_shows_every_option_of_every_command(reference):
    options: set[tuple[str, tuple[str, ...]]] = set()

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, prefix + name + " ")
            elif action.option_strings and action.help != argparse.SUPPRESS:
                options.add((prefix.strip(), tuple(action.option_strings)))

    walk(build_parser(), "")
    shown = " ".join(command_lines(TEXT[ROOT / reference]))
    missing = [f"{cmd} {names[-1]}".strip() for cmd, names in options
               if names[0] not in ("-h", "--config") and not any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", shown)
                                                                   for n in names)]
    assert len(options) > 30
    assert not missing, f"{reference} does not show {sorted(missing)}"


def test_the_code_points_to_docs_and_sections_that_exist():
    """Docstrings say `docs/design.md, "Restore"`: the file and the section must exist."""
    headings = {path.name: re.findall(r"^#{1,6} (.+)$", _prose(text), re.MULTILINE) for path, text in TEXT.items()}
    missing, seen = [], 0
    for folder in ("wizard", "tools", "bench", ".ci"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix not in (".py", ".sh", "") or not path.is_file():
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            for doc, section in re.findall(r'docs/([\w-]+\.md)(?:,\s+"([^"]+)")?', text):
                seen += 1
                section = " ".join(section.split())
                if doc not in headings or (section and not any(h.startswith(section) for h in headings[doc])):
                    missing.append(f"{path.relative_to(ROOT)}: docs/{doc} {section}")
    assert seen >= 10
    assert not missing, missing


def test_every_screenshot_is_shown_by_a_doc():
    shown = " ".join(TEXT.values())
    shots = sorted((ROOT / "docs" / "screenshots").glob("*.png"))
    assert len(shots) >= 10
    unused = [p.name for p in shots if p.name not in shown]
    assert not unused, f"screenshots no doc shows (stale?): {unused}"


# -- the app's own sentences -------------------------------------------------------------------------------
# docs/guia.md and docs/tecnico.md show what the app says in tables whose first column is "La aplicación
# dice"; the variable parts are written as the code writes them ({folder}, {path}) and "…" at the end stands
# for the rest of a long sentence.

SAID = re.compile(r"^\| La aplicación dice \|.*\n\|[- |]+\|\n((?:\|.*\n)+)", re.MULTILINE)
FIELD = re.compile(r"\{[^{}]*\}|%\(\w+\)[sdr]|%[sdr]")
HOLE, ELIDED = "\x00", "\x01"


def said(text: str) -> list[tuple[str, str]]:
    """(what the app says, what to do) for each row of the guide's "La aplicación dice" tables."""
    rows = []
    for block in SAID.findall(text):
        for line in block.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            rows.append((cells[0], cells[1] if len(cells) > 1 else ""))
    return rows


@functools.cache
def _messages() -> list[str | tuple[str, str]]:
    """Every msgid of the code, as tools/i18n.py extracts it (a plural: its two forms)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "tools" / "i18n.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return [message.id for message in tool.extract() if message.id]


@functools.cache
def _singular() -> dict[str, str]:
    """A plural msgid -> its singular: a guide shows one form ("Hace {n} días ..."), the code names both."""
    plurals = [m for m in _messages() if isinstance(m, tuple)]
    return {form: m[0] for m in plurals for form in m}


@functools.cache
def _patterns() -> list[tuple[str, re.Pattern]]:
    """A pattern per msgid: its words as they are; each field is a hole in the doc or a lower-case message
    without fields the code puts there ("... o {elsewhere}." with "elige otra carpeta de destino")."""
    forms = [form for m in _messages() for form in (m if isinstance(m, tuple) else (m,))]
    fillers = sorted({m for m in forms if m[:1].islower() and not FIELD.search(m)}, key=len, reverse=True)
    fill = "(?:" + "|".join([HOLE] + [re.escape(" ".join(f.split())) for f in fillers]) + ")"
    out = []
    for msgid in forms:
        words = " ".join(msgid.split())
        if words.strip() and FIELD.sub("", words).strip():
            out.append((msgid, re.compile(fill.join(re.escape(part) for part in FIELD.split(words)))))
    return out


def messages_of(sentence: str) -> list[str] | None:
    """The msgids that, one after another (separated by a space, as the code joins them), make up
    ``sentence``; None when it is not the app's. A final "…" matches the rest of a longer message."""
    doc = re.sub(r"\{\w*\}", HOLE, " ".join(sentence.replace("\\|", "|").split()))
    doc = re.sub(r"\s*…$", ELIDED, doc)

    @functools.cache
    def from_(start: int) -> tuple[str, ...] | None:
        for msgid, pattern in _patterns():
            m = pattern.match(doc, start)
            if m is None:
                # An elided sentence: the doc stops at "…" part way through this message.
                if doc.endswith(ELIDED) and start < len(doc) - 1 and pattern.pattern.startswith(
                        re.escape(doc[start:-1])):
                    return (msgid,)
                continue
            end = m.end()
            if end == len(doc) or doc[end:] in (ELIDED, "."):  # the code often adds the full stop
                return (msgid,)
            if doc[end] == " ":
                rest = from_(end + 1)
                if rest is not None:
                    return (msgid, *rest)
        return None

    found = from_(0)
    return list(found) if found is not None else None


SPANISH_GUIDES = [ROOT / "docs" / "guia.md", ROOT / "docs" / "tecnico.md"]


def test_the_guides_show_what_the_app_says_in_tables():
    assert len(said(TEXT[ROOT / "docs" / "guia.md"])) >= 40


@pytest.mark.parametrize("path", SPANISH_GUIDES, ids=_name)
def test_every_sentence_a_guide_says_the_app_shows_is_the_apps_own(path):
    wrong = [sentence for sentence, _todo in said(TEXT[path]) if messages_of(sentence) is None]
    assert not wrong, f"{_name(path)} quotes sentences the code does not have (copy the msgid):\n" + \
        "\n".join(wrong)


def _shown_in_colour(path: Path) -> list[str]:
    """The msgids a module shows in red or yellow: those in the same block of statements as the style
    "danger" or "warning" (a block: a function's or a branch's own statements, not the branches inside)."""
    import ast

    found: list[str] = []

    def nested(stmt) -> list[list]:
        return [getattr(stmt, f) for f in ("body", "orelse", "finalbody") if isinstance(getattr(stmt, f, None), list)
                and getattr(stmt, f)] + [h.body for h in getattr(stmt, "handlers", [])]

    def styles(stmt) -> list[str]:
        """The styles a statement gives: bootstyle="danger", `return text, "danger"`, `style = "danger"`."""
        values = []
        for n in ast.walk(stmt):
            if isinstance(n, ast.keyword) and n.arg == "bootstyle":
                values.append(n.value)
            elif isinstance(n, (ast.Return, ast.Assign)) and n.value is not None:
                values += n.value.elts if isinstance(n.value, ast.Tuple) else [n.value]
        return [v.value for v in values if isinstance(v, ast.Constant)]

    def visit(body: list) -> None:
        own = [stmt for stmt in body if not nested(stmt)]
        coloured = bool({"danger", "warning"} & {style for stmt in own for style in styles(stmt)})
        for stmt in body:
            for block in nested(stmt):
                visit(block)
            if coloured and stmt in own:
                found.extend(_msgids_in(stmt))
    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def _msgids_in(node) -> list[str]:
    import ast

    return [call.args[0].value for call in ast.walk(node)
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id in ("_", "ngettext")
            and call.args and isinstance(call.args[0], ast.Constant)]


def _function(path: Path, name: str):
    import ast

    return next(n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
                if isinstance(n, ast.FunctionDef) and n.name == name)


def owner_messages() -> list[str]:
    """What an owner can meet that needs doing something, taken from the code: the sentences of a file or
    disk problem (core/oserrors.py), why the tray icon asks for attention (tray.attention and the watchdog's
    describe_overdue), and what the summary and its drill line show in red."""
    wizard = ROOT / "wizard"
    found = [m for m in _msgids_in(__import__("ast").parse((wizard / "core" / "oserrors.py").read_text()))
             if not m[:1].islower()]
    found += _msgids_in(_function(wizard / "ui" / "tray.py", "attention"))
    found += _msgids_in(_function(wizard / "core" / "schedule.py", "describe_overdue"))
    found += _shown_in_colour(wizard / "ui" / "pages" / "summary.py")
    found += _shown_in_colour(wizard / "ui" / "drill_panel.py")
    return list(dict.fromkeys(found))


def test_the_owner_guide_says_what_to_do_for_every_red_or_yellow_sentence():
    needed = owner_messages()
    assert len(needed) >= 20, needed
    covered = {_singular().get(m, m) for sentence, todo in said(TEXT[ROOT / "docs" / "guia.md"]) if todo
               for m in messages_of(sentence) or []}
    missing = [m for m in needed if m not in covered]
    assert not missing, "docs/guia.md, section 5, has no row (with what to do) for:\n" + "\n".join(missing)
