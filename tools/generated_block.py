"""The generated blocks of the docs and notebooks: text between a pair of HTML-comment markers that a
tool writes from measurements (tools/what_you_will_see.py, tools/bench_agreement.py) and a test checks."""

from __future__ import annotations


def markers(name: str) -> tuple[str, str]:
    """The opening and closing marker of block ``name``: ``<!-- name -->`` ... ``<!-- /name -->``."""
    return f"<!-- {name} -->", f"<!-- /{name} -->"


def fill(text: str, name: str, block: str, where: object) -> str:
    """``text`` with the block between the markers of ``name`` replaced by ``block``; exits naming
    ``where`` when the markers are missing, since the tool cannot know where the block belongs."""
    start, end = markers(name)
    if start not in text or end not in text:
        raise SystemExit(f"{where}: no {start} ... {end} markers")
    before, rest = text.split(start, 1)
    _, after = rest.split(end, 1)
    return f"{before}{start}\n{block}\n{end}{after}"
