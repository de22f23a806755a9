"""What an executed notebook shows a learner, and the English prose or the Korean in it.

Measured this way: every output a learner sees (printed text, Markdown, plain results, errors) is read
line by line after the parts that are data or code are taken out: code blocks and `code spans`, quoted
strings (reprs of texts and lists), URLs and paths, and words that are identifiers (an underscore, a
digit, a dot or an equals sign inside), run names (a hyphen inside) and lines cut from the corpus (samples'
prompts are the corpus's language, not the lesson's). What is left is prose when three or more Latin
words stand in a row and at least two of them are English function words ("the", "of", "is", ...): model
names, units and one-word glosses such as "(perplexity)" never are. Korean is any Hangul syllable or jamo.
"""

from __future__ import annotations

import re
from pathlib import Path

FUNCTION_WORDS = set(
    """a an the of to in on at by for from with without into over under per than as and or but nor not no
    is are was were be been being has have had do does did can could will would should may might must
    this that these those it its there here which who what when where why how each every all any some
    one two your you we our us they their them he she his her if then so also only both either neither
    yet still now just more most less least very too after before since until while""".split()
)
HANGUL = re.compile("[\uac00-\ud7a3\u3131-\u318e]")
_DATA = [
    re.compile(r"```.*?```", re.S),  # code blocks: samples, tracebacks' code, shell lines
    re.compile(r"`[^`\n]*`"),  # code spans
    re.compile(r"'[^'\n]*'|\"[^\"\n]*\""),  # quoted strings: reprs of texts, lists of names
    re.compile(r"https?://\S+|\S*[/\\]\S*"),  # URLs and paths
    re.compile(r"<[^>\n]+>"),  # HTML tags of a folded solution
]
_WORD_RUN = re.compile(r"[A-Za-z]+(?:[ ,;:]+[A-Za-z]+)+")
_IDENTIFIER = re.compile(r"\S*[_=\d\-+*#@$%|]\S*|\S+\.\w\S*")  # a full stop only inside: module.name


def shown_text(notebook: dict) -> list[tuple[int, str]]:
    """(cell index, text) of every output of an executed notebook, as a learner sees it."""
    found = []
    for index, cell in enumerate(notebook["cells"]):
        for output in cell.get("outputs", []):
            kind = output["output_type"]
            if kind == "stream":
                found.append((index, "".join(output["text"])))
            elif kind in ("display_data", "execute_result"):
                data = output.get("data", {})
                for mime in ("text/markdown", "text/plain"):
                    if mime in data:
                        found.append((index, "".join(data[mime])))
                        break
            elif kind == "error":
                found.append((index, f"{output['ename']}: {output['evalue']}"))
    return found


def english_prose(text: str, corpus: str = "") -> list[str]:
    """The runs of English prose in ``text`` (see the module's docstring for what counts)."""
    for pattern in _DATA:
        text = pattern.sub(" ", text)
    found = []
    for line in text.splitlines():
        if corpus and line.strip() and line.strip() in corpus:  # a line or a cut of the corpus: data
            continue
        line = _IDENTIFIER.sub(" ", line)
        for run in _WORD_RUN.findall(line):
            words = re.findall(r"[A-Za-z]+", run)
            if len(words) >= 3 and sum(w.lower() in FUNCTION_WORDS for w in words) >= 2:
                found.append(run.strip())
    return found


def corpus_text(path: Path) -> str:
    """The corpus a run read: text a notebook shows as data (samples' prompts, excerpts), in its language."""
    return path.read_text(encoding="utf-8")


def korean_text(text: str) -> list[str]:
    """The Hangul in ``text`` outside its data and code (a Korean sentence shown as data is in quotes or a
    code span, as every notebook shows one)."""
    for pattern in _DATA:
        text = pattern.sub(" ", text)
    return re.findall(r"\S*[\uac00-\ud7a3\u3131-\u318e]\S*", text)
