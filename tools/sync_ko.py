"""Keep the Korean notebooks' code the English notebooks' code: one source for the code, two languages.

    python tools/sync_ko.py check    # exit 1, naming each cell, where notebooks/ko/ drifted from notebooks/
    python tools/sync_ko.py sync     # copy the English code into the Korean notebooks

A Korean notebook has the cells of its English notebook, with the same ids, in the same order. Its
markdown is its own (written in Korean); its code cells are the English ones, except that comments may be
translated and the parameters cell says ``language = "ko"``. ``sync`` replaces every Korean code cell
whose code (comments aside) differs from the English one, adds the cells the English notebook gained
(markdown marked ``<!-- 번역 필요 -->`` so a translator finds it) and drops the cells it lost.
tests/test_korean_notebooks.py runs ``check``.
"""

from __future__ import annotations

import io
import json
import re
import sys
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EN, KO = ROOT / "notebooks", ROOT / "notebooks" / "ko"
LANGUAGE_LINE = re.compile(r'^language = "(en|ko)"', re.M)
TO_TRANSLATE = "<!-- 번역 필요 -->"


def code_without_comments(source: str) -> str:
    """The code of a cell with comments and trailing blanks removed, the language line made neutral."""
    source = LANGUAGE_LINE.sub('language = "?"', source)
    try:
        tokens = [
            t for t in tokenize.generate_tokens(io.StringIO(source).readline) if t.type != tokenize.COMMENT
        ]
        source = tokenize.untokenize(tokens)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass  # not plain Python (a magic line): compare as it is
    return "\n".join(line.rstrip() for line in source.splitlines() if line.strip())


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _write(path: Path, nb: dict) -> None:
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def _text(cell: dict) -> str:
    return "".join(cell["source"])


def _lines(text: str) -> list[str]:
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def drift(english: dict, korean: dict) -> list[str]:
    """What differs between the two notebooks' structure and code, one line each."""
    problems = []
    en_ids = [c["id"] for c in english["cells"]]
    ko_ids = [c["id"] for c in korean["cells"]]
    if en_ids != ko_ids:
        problems.append(
            f"cells differ: missing {sorted(set(en_ids) - set(ko_ids))}, extra {sorted(set(ko_ids) - set(en_ids))}"
            if set(en_ids) != set(ko_ids)
            else "cells are in another order"
        )
    ko_by_id = {c["id"]: c for c in korean["cells"]}
    for cell in english["cells"]:
        other = ko_by_id.get(cell["id"])
        if other is None:
            continue
        if other["cell_type"] != cell["cell_type"]:
            problems.append(f"cell {cell['id']}: {other['cell_type']} here, {cell['cell_type']} in English")
        elif cell["cell_type"] == "code":
            if code_without_comments(_text(cell)) != code_without_comments(_text(other)):
                problems.append(f"cell {cell['id']}: the code differs from the English notebook's")
            if cell["metadata"].get("tags") != other["metadata"].get("tags"):
                problems.append(f"cell {cell['id']}: tags differ")
    return problems


def synced(english: dict, korean: dict) -> dict:
    """``korean`` with the English code, cells and order; its markdown and matching code kept."""
    ko_by_id = {c["id"]: c for c in korean["cells"]}
    cells = []
    for cell in english["cells"]:
        mine = ko_by_id.get(cell["id"])
        if mine is not None and mine["cell_type"] == cell["cell_type"]:
            if cell["cell_type"] == "markdown" or code_without_comments(_text(cell)) == code_without_comments(
                _text(mine)
            ):
                cells.append({**mine, "metadata": cell["metadata"]})
                continue
        new = json.loads(json.dumps(cell))
        if cell["cell_type"] == "code":
            new["source"] = _lines(LANGUAGE_LINE.sub('language = "ko"', _text(cell)))
        elif mine is None:
            new["source"] = _lines(TO_TRANSLATE + "\n" + _text(cell))
        cells.append(new)
    return {**korean, "cells": cells}


def main(argv: list[str]) -> int:
    if argv not in (["check"], ["sync"]):
        print(__doc__)
        return 2
    bad = 0
    for en_path in sorted(EN.glob("0*.ipynb")):
        ko_path = KO / en_path.name
        if not ko_path.is_file():
            print(f"{ko_path.relative_to(ROOT)}: missing")
            bad += 1
            continue
        english, korean = _read(en_path), _read(ko_path)
        problems = drift(english, korean)
        if argv == ["sync"] and problems:
            _write(ko_path, synced(english, korean))
            print(f"{ko_path.relative_to(ROOT)}: synced ({len(problems)} differences); translate what is new")
        for p in problems if argv == ["check"] else []:
            print(f"{ko_path.relative_to(ROOT)}: {p}")
            bad += 1
    return 1 if bad and argv == ["check"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
