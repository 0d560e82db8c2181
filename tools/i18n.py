"""Keep the English catalog in step with the code: extract, merge, compile.

    python tools/i18n.py update    # extract _()/ngettext() from wizard/ and merge into en/respaldos.po
    python tools/i18n.py compile   # write respaldos.mo next to each .po
    python tools/i18n.py check     # exit 1 listing messages without an English translation

Message ids are the Spanish sentences (Spanish is the default language); English is the catalog.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "wizard"
LOCALE = PACKAGE / "locale"
DOMAIN = "respaldos"
LANGUAGES = ("en",)
KEYWORDS = {"_": None, "ngettext": (1, 2)}


def extract() -> Catalog:
    template = Catalog(project="Respaldos", domain=DOMAIN, charset="utf-8")
    for filename, lineno, message, comments, context in extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=("TRANSLATORS:",),
    ):
        template.add(message, None, [(f"wizard/{filename}", lineno)], auto_comments=comments, context=context)
    return template


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def load(lang: str) -> Catalog:
    path = po_path(lang)
    if path.exists():
        with open(path, "rb") as fh:
            return read_po(fh, locale=lang, domain=DOMAIN)
    return Catalog(locale=lang, domain=DOMAIN, project="Respaldos", charset="utf-8")


def save(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    write_po(buf, catalog, width=100, omit_header=False, sort_output=True, include_lineno=False)
    path.write_bytes(buf.getvalue())


def update() -> None:
    template = extract()
    for lang in LANGUAGES:
        catalog = load(lang)
        before, created = {m.id for m in catalog}, catalog.creation_date
        catalog.update(template, no_fuzzy_matching=True)
        if {m.id for m in catalog} == before:
            catalog.creation_date = created  # no new messages: leave the file as it was
        catalog.obsolete.clear()
        catalog.fuzzy = False  # a fuzzy header is left out of the .mo, and with it the charset
        save(catalog, po_path(lang))


def compile_catalog(lang: str) -> bytes:
    """The .mo that ``compile`` writes for ``lang``, as bytes."""
    buf = io.BytesIO()
    write_mo(buf, load(lang), use_fuzzy=False)
    return buf.getvalue()


def compile_all() -> None:
    for lang in LANGUAGES:
        po_path(lang).with_suffix(".mo").write_bytes(compile_catalog(lang))


def mo_messages(data: bytes) -> dict:
    """msgid -> msgstr of a compiled catalog, header left out (for comparing two .mo files)."""
    return {
        (tuple(m.id) if isinstance(m.id, (list, tuple)) else m.id):
        (tuple(m.string) if isinstance(m.string, (list, tuple)) else m.string)
        for m in read_mo(io.BytesIO(data)) if m.id
    }


def missing(lang: str) -> list[str]:
    """Message ids used in the code that the catalog does not translate."""
    catalog = load(lang)
    gaps = []
    for message in extract():
        if not message.id:
            continue
        entry = catalog.get(message.id)
        if entry is None or entry.fuzzy or not (
            all(entry.string) if isinstance(entry.string, tuple) else entry.string
        ):
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
    return gaps


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        gaps = [m for lang in LANGUAGES for m in missing(lang)]
        for gap in gaps:
            print(f"untranslated: {gap!r}")
        return 1 if gaps else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
