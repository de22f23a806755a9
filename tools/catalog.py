"""The message catalogs: extract every text the package and the notebooks show a learner, with Babel, and
keep each language's .po file and its compiled .mo in step with them.

    python tools/catalog.py update   # add new texts to each .po (empty, to translate), comment out removed
                                     # ones (#~; --drop-stale deletes them), compile the .mo files (make
                                     # catalogs runs this)
    python tools/catalog.py check    # exit 1, saying what, when a text has no translation, a .po entry is
                                     # stale or fuzzy, a placeholder differs, or a .mo is out of date

A text is marked by the function that looks it up: ``tr("...")`` and ``N_("...")`` in lmhelpers/*.py and in
the English notebooks' code cells (the Korean notebooks run the same code). The .mo files are compiled here
and committed beside their .po, as Django ships its catalogs, so a pip install from git, an editable install
and a checkout on sys.path all find them without a build step.
"""

from __future__ import annotations

import io
import json
import string
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "lmhelpers" / "locale"
DOMAIN = "lmhelpers"
TRANSLATED = ("ko",)
KEYWORDS = {"tr": None, "N_": None}


def _po(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"


def extracted() -> Catalog:
    """Every marked text of the package and the English notebooks, with where it is."""
    template = Catalog(project=DOMAIN, fuzzy=False)
    found = extract_from_dir(
        str(ROOT / "lmhelpers"),
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,
        comment_tags=("TRANSLATORS:",),
    )
    for filename, lineno, text, comments, context in found:
        if not isinstance(text, str) or not text:  # tr(variable): the text is marked where it is written
            continue
        template.add(
            text, locations=[(f"lmhelpers/{filename}", lineno)], auto_comments=comments, context=context
        )
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        code = "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))
        for lineno, text, comments, _ in extract("python", io.BytesIO(code.encode()), keywords=KEYWORDS):
            if not isinstance(text, str) or not text:
                continue
            template.add(text, locations=[(f"notebooks/{path.name}", lineno)], auto_comments=comments)
    return template


def _fields(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def _compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def problems(language: str, template: Catalog | None = None) -> list[str]:
    """What is wrong with ``language``'s catalog, one line each; empty when it is complete and compiled."""
    template = template if template is not None else extracted()
    path = _po(language)
    if not path.exists():
        return [f"{path.relative_to(LOCALE.parents[1])} is missing: run `make catalogs`"]
    with path.open("rb") as f:
        catalog = read_po(f, locale=language)
    found = []
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id)
        where = ", ".join(f"{file}:{line}" for file, line in message.locations[:2])
        if entry is None or not entry.string:
            found.append(f"no {language} translation of {message.id!r} ({where})")
        elif entry.fuzzy:
            found.append(
                f"fuzzy {language} translation of {message.id!r}: check it and remove the fuzzy flag"
            )
        elif _fields(message.id) != _fields(entry.string):
            found.append(
                f"{language} translation of {message.id!r} has placeholders {sorted(_fields(entry.string))}, "
                f"the text {sorted(_fields(message.id))}"
            )
    stale = [m.id for m in [*catalog, *catalog.obsolete.values()] if m.id and m.id not in template]
    found += [
        f"stale {language} entry: no tr()/N_() marks {text!r} any more (mark it, or `python tools/catalog.py "
        "update --drop-stale`)"
        for text in stale
    ]
    mo = path.with_suffix(".mo")
    if not mo.exists() or mo.read_bytes() != _compiled(catalog):
        found.append(f"{mo.relative_to(LOCALE.parents[1])} is out of date: run `make catalogs`")
    return found


def update(drop_stale: bool = False) -> None:
    """Bring each .po in step with the extracted texts and compile it. A translation whose text no longer
    appears is kept, commented out (#~), until ``drop_stale``; it comes back if the text does."""
    template = extracted()
    for language in TRANSLATED:
        path = _po(language)
        if path.exists():
            with path.open("rb") as f:
                catalog = read_po(f, locale=language)
        else:
            catalog = Catalog(locale=language, project=DOMAIN, fuzzy=False)
        known = {m.id: m.string for m in [*catalog, *catalog.obsolete.values()] if m.id and m.string}
        created = catalog.creation_date
        catalog.update(template, no_fuzzy_matching=True)
        catalog.creation_date = created  # only the texts changed: keep the header as it was
        catalog.project, catalog.version, catalog.msgid_bugs_address = (
            DOMAIN,
            "0.1.0",
            "the project's issue tracker",
        )
        catalog.last_translator = catalog.language_team = "lmhelpers contributors"
        for message in catalog:
            if message.id and not message.string and message.id in known:
                message.string = known[message.id]
        catalog.obsolete.clear()
        if not drop_stale:
            for text in sorted(known.keys() - {m.id for m in catalog}):
                old = Catalog()
                old.add(text, known[text])
                catalog.obsolete[text] = old[text]
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as f:
            write_po(f, catalog, width=110, include_lineno=False, omit_header=False)
        with path.open("rb") as f:  # compile what was written, exactly as check() will read it
            path.with_suffix(".mo").write_bytes(_compiled(read_po(f, locale=language)))


def main(argv: list[str]) -> int:
    if argv and argv[0] == "update" and set(argv[1:]) <= {"--drop-stale"}:
        update(drop_stale="--drop-stale" in argv)
        return 0
    if argv == ["check"]:
        template = extracted()
        found = [line for language in TRANSLATED for line in problems(language, template)]
        print("\n".join(found) or f"catalogs complete: {len(template) - 1} texts")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
