"""The Korean glossary (docs/ko/glossary.md) as data, and the checks a Korean text must pass against it.

Each table row of the glossary names one chosen Korean form, its English term and, in its last column,
the forms not to use. :func:`glossary_violations` finds those forms in any Korean texts, given as
``{name: text}`` (a notebook's markdown cell, README.ko.md, a .po catalog's messages), and
:func:`gloss_problems` finds English glosses written twice in one text or inside another parenthesis.
Code, formulas, link targets and the English in a gloss are not checked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "docs" / "ko" / "glossary.md"

HANGUL = "가-힣"
_HEADER = ("한국어", "English", "뜻", "쓰지 않는 말")

# What may follow a Korean noun inside the same word: particles, the copula, plural and a few suffixes,
# so that a forbidden "폭" is found in "폭이" and "폭 32", never in "폭발" or "보폭".
_PARTICLES = sorted(
    """이 가 은 는 을 를 의 에 에서 에게 에는 에도 께 로 으로 로는 으로는 로서 으로서 로써 으로써 와 과 와는 과는
    도 만 까지 부터 마다 보다 처럼 같이 만큼 대로 끼리 뿐 쯤 씩 째 조차 밖에 하고 랑 이랑 이나 나 이든 든 든지
    이라 라 이라는 라는 이라고 라고 이고 고 이며 며 인 일 입니다 이다 다 였 이었 들 당 하 한 할 함 해 했 된 되 돼 됨
    시키 시킨 적 적인 적으로""".split(),
    key=len,
    reverse=True,
)
_TAIL = "(?:" + "|".join(_PARTICLES) + ")*"


@dataclass(frozen=True)
class Term:
    korean: str
    english: str
    meaning: str
    avoid: tuple[str, ...]


def load_glossary(path: Path = GLOSSARY) -> list[Term]:
    """Every row of the glossary's tables (| 한국어 | English | 뜻 | 쓰지 않는 말 |)."""
    terms, in_table = [], False
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            in_table = False
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if tuple(cells) == _HEADER:
            in_table = True
            continue
        if not in_table or set(line) <= set("|-: "):
            continue
        assert len(cells) == 4, f"{path.name}: a row without four columns: {line}"
        korean, english, meaning, avoid = cells
        forms = () if avoid in ("—", "-", "") else tuple(a.strip() for a in avoid.split(", "))
        terms.append(Term(korean, english, meaning, forms))
    return terms


# ----------------------------------------------------------------------------------- what is prose
def _blank(match: re.Match) -> str:
    """The matched text as spaces, its line breaks kept, so positions and line numbers stay."""
    return re.sub(r"[^\n]", " ", match.group(0))


_NOT_PROSE = [
    re.compile(r"```.*?```", re.S),  # fenced code
    re.compile(r"<!--.*?-->", re.S),  # HTML comments (the generated blocks' markers)
    re.compile(r"`[^`\n]*`"),  # inline code
    re.compile(r"\$\$.*?\$\$", re.S),  # display math
    re.compile(r"\$[^$\n]+\$"),  # inline math
    re.compile(r"\]\([^)\s]*\)"),  # link targets (the link text stays)
    re.compile(r"https?://\S+"),  # bare addresses
]
# An English gloss right after a Korean word: 퍼플렉서티(perplexity), *토큰*(token), 미등록어(OOV, out-of-vocabulary)
_GLOSS = re.compile(rf"(?<=[{HANGUL}*])\s?\(([A-Za-z][^()가-힣]*)\)")


def prose(text: str) -> str:
    """``text`` with code, formulas, HTML comments, link targets and addresses blanked out."""
    for pattern in _NOT_PROSE:
        text = pattern.sub(_blank, text)
    return text


def _line(text: str, at: int) -> int:
    return text.count("\n", 0, at) + 1


def _pattern(form: str) -> re.Pattern:
    body = r"\s+".join(re.escape(w) for w in form.split())
    before = rf"(?<![{HANGUL}])" if re.match(rf"[{HANGUL}]", form) else r"(?<![A-Za-z0-9_])"
    after = rf"{_TAIL}(?![{HANGUL}])" if re.search(rf"[{HANGUL}]$", form) else r"(?![A-Za-z0-9_])"
    return re.compile(before + body + after)


def glossary_violations(texts: dict[str, str], terms: list[Term] | None = None) -> list[str]:
    """Every place where ``texts`` ({name: Korean text}) use a form the glossary says not to use, as
    ``"name:line: '폭' -> 너비 (width)"``. A form is found as a word (with its particles), not inside
    another word; code, formulas, link targets and the English inside a gloss are skipped."""
    terms = load_glossary() if terms is None else terms
    rules = [(_pattern(form), term) for term in terms for form in term.avoid]
    found = []
    for name, text in texts.items():
        plain = _GLOSS.sub(_blank, prose(text))
        hits = [(m.start(), m.group(0), term) for pattern, term in rules for m in pattern.finditer(plain)]
        for at, word, term in sorted(hits, key=lambda hit: hit[0]):
            found.append(
                f"{name}:{_line(plain, at)}: '{' '.join(word.split())}' -> {term.korean} ({term.english})"
            )
    return found


def gloss_problems(parts: dict[str, str]) -> list[str]:
    """The English glosses of one document (``parts``: its cells or sections, {name: text}, in order) given
    more than once (a gloss belongs to a term's first use only), and glosses inside another parenthesis
    ("(모델마다 시드(seed) 세 개)"): write the gloss at the first use, outside any other parenthesis."""
    found: list[str] = []
    seen: dict[str, str] = {}
    for name, text in parts.items():
        plain = prose(text)
        opened: list[int] = []
        for i, ch in enumerate(plain):
            if ch == ")" and opened:
                opened.pop()
            if ch != "(":
                continue
            opened.append(i)
            start = i - 1 if i and plain[i - 1] in " \n" else i
            m = _GLOSS.match(plain, start)
            if not m or m.start(1) - 1 != i:
                continue
            key = m.group(1).split(",")[0].strip().lower()
            where = f"{name}:{_line(plain, i)}"
            if len(opened) > 1:
                found.append(f"{where}: the gloss ({m.group(1)}) is inside another parenthesis")
            if key in seen:
                found.append(f"{where}: ({key}) was already glossed at {seen[key]}")
            else:
                seen[key] = where
    return found


# ------------------------------------------------------------------------------------------- links
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def links(text: str) -> list[str]:
    """The targets of the Markdown links in ``text`` (images excluded), code spans skipped."""
    for pattern in _NOT_PROSE[:3]:
        text = pattern.sub(_blank, text)
    return _LINK.findall(text)


def headings(text: str) -> list[tuple[int, str]]:
    """The ## and ### headings of a Markdown text, outside fenced code, as (level, title)."""
    text = _NOT_PROSE[0].sub(_blank, text)
    return [(len(m.group(1)), m.group(2).strip()) for m in re.finditer(r"^(#{2,3}) (.+)$", text, re.M)]
