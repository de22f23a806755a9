"""The Korean documentation: one glossary (docs/ko/glossary.md) whose chosen forms every Korean text uses,
glosses given once, the glossary linked from every Korean notebook, README.ko.md section for section
with README.md, and Korean pages linking Korean pages wherever one exists.

The checks themselves are in tests/_glossary.py, importable for other Korean texts (the .po catalog):
``glossary_violations({name: text})`` and ``gloss_problems({name: text})``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from _glossary import GLOSSARY, gloss_problems, glossary_violations, headings, links, load_glossary

from lmhelpers.notebook import ALL_NOTEBOOKS

ROOT = Path(__file__).resolve().parents[1]
KO = ROOT / "notebooks" / "ko"
DOCS = ROOT / "docs"
HANGUL = re.compile("[가-힣]")

# Terms issue 22 asks the glossary for, by their chosen Korean form.
REQUIRED = [
    "트랜스포머", "순환 신경망", "LSTM", "GRU", "어텐션", "인과 마스크", "토큰", "토크나이저", "어휘", "임베딩",
    "문맥 창", "손실", "검증 손실", "퍼플렉서티", "글자당 비트 수", "기울기 소실", "기울기 클리핑", "학습률",
    "드롭아웃", "체크포인트", "프리셋", "시드", "표준오차", "표준편차", "잡음", "스윕", "샘플링", "온도", "글자",
    "너비", "레이블", "기댓값", "은닉 상태", "셀 상태", "게이트", "잔차 연결", "층 정규화", "상태 유지 학습",
    "잘린 시간 역전파", "창", "파라미터", "매개변수",
]  # fmt: skip


def _markdown_cells(path: Path) -> list[tuple[int, str]]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(i, "".join(c["source"])) for i, c in enumerate(cells) if c["cell_type"] == "markdown"]


def _notebook_parts(path: Path) -> dict[str, str]:
    name = path.relative_to(ROOT).as_posix()
    return {f"{name}, cell {i}": text for i, text in _markdown_cells(path)}


def _korean_docs() -> list[Path]:
    return sorted(p for p in (DOCS / "ko").glob("*.md") if p != GLOSSARY)


def _korean_texts() -> dict[str, str]:
    texts = {}
    for path in sorted(KO.glob("*.ipynb")):
        texts.update(_notebook_parts(path))
    for path in [ROOT / "README.ko.md", *_korean_docs()]:
        texts[path.relative_to(ROOT).as_posix()] = path.read_text(encoding="utf-8")
    return texts


# ------------------------------------------------------------------------------------ the glossary
def test_the_glossary_has_one_form_per_term_and_the_terms_the_course_needs():
    terms = load_glossary()
    chosen = [t.korean for t in terms]
    assert len(chosen) == len(set(chosen)), "a term has two rows"
    missing = [k for k in REQUIRED if k not in chosen]
    assert not missing, f"add to {GLOSSARY.relative_to(ROOT)}: {missing}"
    assert all(t.english and t.meaning.endswith(("다.", ").")) for t in terms), "every row says what it means"
    avoided = {form for t in terms for form in t.avoid}
    assert not avoided & set(chosen), f"chosen and avoided at once: {sorted(avoided & set(chosen))}"
    # the glossary keeps its own rules, outside its English column and the column of forms not to use
    rows = [f"{t.korean}: {t.meaning}" for t in terms]
    prose = [line for line in GLOSSARY.read_text(encoding="utf-8").splitlines() if not line.startswith("|")]
    assert glossary_violations({"glossary.md": "\n".join(prose + rows)}) == []


def test_the_checker_finds_a_form_as_a_word_not_inside_another_word():
    found = glossary_violations(
        {
            "a": "층 x 폭이 4배인 MLP, 폭발하는 기울기, 보폭 32",  # 폭이: found; 폭발, 보폭: other words
            "b": "문자열과 글자, 그리고 문자 단위",  # 문자열 is a string: only 문자 단위
            "c": "GPT 방식 Transformer를, `transformer`와 `TransformerLanguageModel`은 코드, 트랜스포머(Transformer)",
            "d": "기울기\n자르기, $\\mathrm{폭}$, [폭](docs/폭.md)",  # a form across a line break; math and targets skipped
        }
    )
    assert found == [
        "a:1: '폭이' -> 너비 (width)",
        "b:1: '문자' -> 글자 (character)",
        "c:1: 'Transformer' -> 트랜스포머 (Transformer)",
        "d:1: '기울기 자르기' -> 기울기 클리핑 (gradient clipping)",
        "d:2: '폭' -> 너비 (width)",
    ]
    assert gloss_problems(
        {"x": "퍼플렉서티(perplexity)와 손실(loss)", "y": "퍼플렉서티(perplexity) (시드(seed))"}
    ) == [
        "y:1: (perplexity) was already glossed at x:1",
        "y:1: the gloss (seed) is inside another parenthesis",
    ]


def test_korean_texts_use_only_the_glossary_forms():
    """Notebook markdown, README.ko.md and docs/ko/: the forms in the glossary's last column never appear."""
    found = glossary_violations(_korean_texts())
    assert not found, "\n".join(found)


@pytest.mark.parametrize("name", ALL_NOTEBOOKS)
def test_a_korean_notebook_glosses_a_term_once_and_never_inside_parentheses(name):
    found = gloss_problems(_notebook_parts(KO / name))
    assert not found, "\n".join(found)


def test_readme_and_docs_gloss_a_term_once_and_never_inside_parentheses():
    for path in [ROOT / "README.ko.md", *sorted((DOCS / "ko").glob("*.md"))]:
        found = gloss_problems({path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")})
        assert not found, "\n".join(found)


@pytest.mark.parametrize("name", ALL_NOTEBOOKS)
def test_each_korean_notebook_links_the_glossary_near_the_top_and_quotes_korean_output(name):
    cells = _markdown_cells(KO / name)
    assert "../../docs/ko/glossary.md" in links(cells[0][1]), "the first cell links the glossary"
    markdown = "\n".join(text for _, text in cells)
    assert "`correct`" not in markdown, "the Korean checker prints 정답입니다, not correct"


# ------------------------------------------------------------------------------------- the READMEs
def test_the_korean_readme_has_the_english_readmes_sections_in_the_same_order():
    english = headings((ROOT / "README.md").read_text(encoding="utf-8"))
    korean = headings((ROOT / "README.ko.md").read_text(encoding="utf-8"))
    assert [level for level, _ in korean] == [level for level, _ in english], list(
        zip([f"{'#' * n} {t}" for n, t in english], [f"{'#' * n} {t}" for n, t in korean])
    )
    untranslated = [title for _, title in korean if not HANGUL.search(title)]
    assert not untranslated, f"README.ko.md: headings in English: {untranslated}"


# ------------------------------------------------------------------------------------------- links
def _targets(path: Path, text: str) -> list[tuple[str, Path]]:
    """(link as written, the file it points at) for each relative link of ``text``."""
    out = []
    for link in links(text):
        if re.match(r"[a-z]+:", link) or link.startswith("#"):
            continue
        out.append((link, (path.parent / link.split("#")[0]).resolve()))
    return out


def _korean_pages() -> list[tuple[str, Path, str]]:
    pages = [
        (f"{p.relative_to(ROOT)}", p, "\n".join(t for _, t in _markdown_cells(p)))
        for p in sorted(KO.glob("*.ipynb"))
    ]
    for p in [ROOT / "README.ko.md", *sorted((DOCS / "ko").glob("*.md"))]:
        pages.append((f"{p.relative_to(ROOT)}", p, p.read_text(encoding="utf-8")))
    return pages


def test_korean_pages_link_the_korean_version_of_a_doc_wherever_there_is_one():
    wrong = []
    for name, path, text in _korean_pages():
        for link, target in _targets(path, text):
            if not target.exists():
                wrong.append(f"{name}: {link} does not exist")
            elif (
                target.parent == DOCS.resolve()
                and (DOCS / "ko" / target.name).is_file()
                and path != DOCS / "ko" / target.name  # a translation links its original
            ):
                wrong.append(f"{name}: {link} has a Korean version, docs/ko/{target.name}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    "page", [p.name for p in sorted((DOCS / "ko").glob("*.md")) if p.name != "glossary.md"]
)
def test_each_translated_doc_and_its_original_link_each_other_and_have_the_same_sections(page):
    english, korean = DOCS / page, DOCS / "ko" / page
    assert english.is_file(), f"docs/ko/{page} translates a page that does not exist"
    english_text, korean_text = english.read_text(encoding="utf-8"), korean.read_text(encoding="utf-8")
    assert f"ko/{page}" in links("\n".join(english_text.splitlines()[:4])), (
        f"docs/{page} links its Korean version first"
    )
    assert f"../{page}" in links("\n".join(korean_text.splitlines()[:4])), (
        f"docs/ko/{page} links the English page"
    )
    assert [n for n, _ in headings(korean_text)] == [n for n, _ in headings(english_text)]
    assert all(HANGUL.search(title) for _, title in headings(korean_text))
    # names, commands and paths are not translated: every one the English page mentions, the Korean one does
    missing = _names(english_text) - _names(korean_text)
    assert not missing, f"docs/ko/{page} lacks what docs/{page} mentions: {sorted(missing)}"


_CODE = re.compile(r"`([^`\n]+)`")


def _names(text: str) -> set[str]:
    """The code spans that name something (an identifier, a path, a command), not a formula in words."""
    return {c for c in _CODE.findall(text) if " " not in c or c.startswith(("python ", "-"))}
