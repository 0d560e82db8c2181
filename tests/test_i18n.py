"""The English catalog: every message the code shows has an English translation, the committed .mo matches
the .po, translations keep their {placeholders}, and the real program speaks Spanish or English depending on
the environment (RESPALDOS_LANG first, then the usual locale variables; Spanish when it cannot tell)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import string
import subprocess
import sys

import pytest

from tests.helpers import ROOT, respaldos_cmd, skip_unless_ci

I18N_TOOL = ROOT / "tools" / "i18n.py"
RUN_UPDATE = "run `python3 tools/i18n.py update`, translate the new entries in " \
             "wizard/locale/en/LC_MESSAGES/respaldos.po, then `python3 tools/i18n.py compile`"


def load_tool():
    spec = importlib.util.spec_from_file_location("i18n_tool", I18N_TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = load_tool()


def english_entries():
    return [m for m in tool.load("en") if m.id]


def pairs(message):
    """(msgid, msgstr) for a singular, (singular, msgstr[0]) and (plural, msgstr[1]) for a plural."""
    if isinstance(message.id, tuple):
        return list(zip(message.id, message.string))
    return [(message.id, message.string)]


def replacement_fields(text: str) -> list[tuple[str, str, str]]:
    return sorted((name, spec or "", conv or "") for _lit, name, spec, conv in string.Formatter().parse(text)
                  if name is not None)


def test_i18n_check_finds_no_untranslated_or_fuzzy_message():
    proc = subprocess.run([sys.executable, str(I18N_TOOL), "check"], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, f"{proc.stdout}{proc.stderr}\nTo fix: {RUN_UPDATE}."


def test_every_message_in_the_code_is_in_the_english_catalog():
    catalog = tool.load("en")
    absent = []
    for message in tool.extract():
        if not message.id:
            continue
        entry = catalog.get(message.id)
        if entry is None or entry.fuzzy or not all(s for _id, s in pairs(entry)):
            absent.append(message.id)
    assert not absent, f"{len(absent)} message(s) without an English translation: {absent[:10]!r}. " \
                       f"To fix: {RUN_UPDATE}."


def test_the_catalog_has_no_entries_the_code_no_longer_uses():
    used = {m.id for m in tool.extract() if m.id}
    stale = [m.id for m in english_entries() if m.id not in used]
    assert not stale, f"entries no longer in the code: {stale[:10]!r}. To fix: {RUN_UPDATE}."


def test_the_committed_mo_is_compiled_from_the_current_po():
    committed = tool.po_path("en").with_suffix(".mo")
    assert committed.exists(), f"{committed} is missing: run `python3 tools/i18n.py compile` and commit it"
    assert tool.mo_messages(committed.read_bytes()) == tool.mo_messages(tool.compile_catalog("en")), (
        f"{committed} is out of date with the .po: run `python3 tools/i18n.py compile` and commit it")


def test_git_does_not_ignore_the_compiled_catalog():
    if shutil.which("git") is None:
        skip_unless_ci("git is needed to ask what it ignores")
    mo = tool.po_path("en").with_suffix(".mo")
    proc = subprocess.run(["git", "check-ignore", "-q", str(mo.relative_to(ROOT))], cwd=ROOT,
                          capture_output=True, timeout=60, check=False)
    assert proc.returncode == 1, f"{mo} is ignored by git, but the app and the build need it"


def test_every_translation_keeps_the_placeholders_of_its_message():
    wrong = []
    for message in english_entries():
        for msgid, msgstr in pairs(message):
            if replacement_fields(msgid) != replacement_fields(msgstr):
                wrong.append((msgid, msgstr))
    assert not wrong, f"placeholders differ between Spanish and English: {wrong!r}"


def test_every_translation_keeps_the_leading_and_trailing_whitespace_of_its_message():
    def edges(text: str) -> tuple[str, str]:
        return text[: len(text) - len(text.lstrip())], text[len(text.rstrip()):]

    wrong = [(msgid, msgstr) for message in english_entries() for msgid, msgstr in pairs(message)
             if edges(msgid) != edges(msgstr)]
    assert not wrong, f"leading/trailing spaces or newlines differ: {wrong!r}"


def test_plural_messages_have_both_english_forms():
    plurals = [m for m in english_entries() if isinstance(m.id, tuple)]
    assert plurals, "the code has ngettext() messages, so the catalog should have plural entries"
    assert all(len(m.string) == 2 and all(m.string) for m in plurals)


# -- the real program ----------------------------------------------------------------------------------------

LANGUAGE_VARS = ("RESPALDOS_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

ENGLISH_HELP, SPANISH_HELP = "make a backup now", "hace un respaldo ahora"
ENGLISH_ERROR, SPANISH_ERROR = "There are no settings in", "No hay configuración en"


def run_with(language_env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in LANGUAGE_VARS}
    env.update(language_env)
    return subprocess.run(respaldos_cmd(*args), cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


CASES = [
    pytest.param({"RESPALDOS_LANG": "en"}, "en", id="RESPALDOS_LANG=en"),
    pytest.param({"RESPALDOS_LANG": "es"}, "es", id="RESPALDOS_LANG=es"),
    pytest.param({"RESPALDOS_LANG": "es", "LANG": "en_US.UTF-8"}, "es", id="RESPALDOS_LANG-beats-LANG"),
    pytest.param({"LANG": "en_US.UTF-8"}, "en", id="LANG=en_US"),
    pytest.param({"LANG": "es_MX.UTF-8"}, "es", id="LANG=es_MX"),
    pytest.param({"LANG": "fr_FR.UTF-8"}, "en", id="LANG=fr_FR-gets-English"),
    pytest.param({"LANG": "C.UTF-8"}, "es", id="LANG=C-gets-Spanish"),
    pytest.param({"LANGUAGE": "es_MX:en", "LANG": "en_US.UTF-8"}, "es", id="LANGUAGE-beats-LANG"),
]


@pytest.mark.parametrize("language_env, expected", CASES)
def test_help_is_in_the_language_the_environment_asks_for(language_env, expected):
    proc = run_with(language_env, "--help")

    assert proc.returncode == 0, proc.stderr
    shown, hidden = (ENGLISH_HELP, SPANISH_HELP) if expected == "en" else (SPANISH_HELP, ENGLISH_HELP)
    assert shown in proc.stdout and hidden not in proc.stdout, proc.stdout


@pytest.mark.parametrize("language_env, expected", CASES)
def test_a_cli_error_is_in_the_language_the_environment_asks_for(tmp_path, language_env, expected):
    missing = tmp_path / "nonexistent" / "x.toml"

    proc = run_with(language_env, "--config", str(missing), "list")

    assert proc.returncode != 0
    shown, hidden = (ENGLISH_ERROR, SPANISH_ERROR) if expected == "en" else (SPANISH_ERROR, ENGLISH_ERROR)
    assert f"{shown} {missing}." in proc.stderr and hidden not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr
