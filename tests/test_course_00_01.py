"""Notebooks 00 and 01 as lessons: opening, closing, checked exercises, and the hand-built BPE of 01.

nbmake runs both notebooks top to bottom (where every exercise stub answers "not yet"); these tests check
what that run cannot: that each exercise cell accepts the reference solution, and that the hand-built
BPE trainer of notebook 01 agrees with the package's on texts other than the one the notebook uses.
"""

from __future__ import annotations

import contextlib
import inspect
import io
import random
import re
from pathlib import Path

import nbformat
import pytest
from _notebook_cells import notebook_namespace

from lmhelpers import solutions
from lmhelpers.exercises import EXERCISES
from lmhelpers.notebook import colab_url

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
LESSONS = {
    "00_setup_gpu_check.ipynb": ("00", "01_tokenizer.ipynb"),
    "01_tokenizer.ipynb": ("01", "02_rnn.ipynb"),
}
START, END = "<!-- what-you-will-see -->", "<!-- /what-you-will-see -->"


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NB_DIR / name, as_version=4)


def _bullets(text: str, heading: str) -> list[str]:
    """The bullet lines right after ``heading`` (a bold line or a ## heading)."""
    after = text.split(heading, 1)[1].lstrip("\n").splitlines()
    bullets = []
    for line in after:
        if line.startswith("- "):
            bullets.append(line)
        elif line.startswith("  ") and bullets:
            continue  # a bullet's continuation line
        else:
            break
    return bullets


@pytest.mark.parametrize("name", LESSONS)
def test_opening_says_what_you_learn_need_and_will_see(name):
    opening = _read(name).cells[0].source
    number = LESSONS[name][0]
    assert opening.startswith(f"# {number} · ")
    assert 3 <= len(_bullets(opening, "**What you will learn**")) <= 5
    assert "**What you need first**" in opening
    see = opening.split("**What you will see**", 1)[1]
    # the table between the markers is written by tools/what_you_will_see.py (tests/test_what_you_will_see.py)
    assert see.count(START) == 1 and see.count(END) == 1
    assert "|---|---|" in see.split(START, 1)[1].split(END, 1)[0]


@pytest.mark.parametrize("name", LESSONS)
def test_closing_has_summary_exercises_and_the_next_notebook(name):
    cells = _read(name).cells
    summary = next(c.source for c in cells if c.source.startswith("## Summary"))
    assert 3 <= len(_bullets(summary, "## Summary")) <= 6
    start = next(i for i, c in enumerate(cells) if c.source.startswith("## Exercises"))
    assert cells.index(next(c for c in cells if c.source.startswith("## Summary"))) < start
    exercise_text = "\n".join(c.source for c in cells[start:] if c.cell_type == "markdown")
    numbers = [int(n) for n in re.findall(r"^\*\*(\d)\. ", exercise_text, re.M)]
    assert numbers == list(range(1, len(numbers) + 1)) and 3 <= len(numbers) <= 5
    last = cells[-1]
    nxt = LESSONS[name][1]
    assert last.cell_type == "markdown" and last.source.startswith("**Next:** [![Open In Colab]")
    assert f"({colab_url(nxt)})" in last.source


def _exercise_cells(name: str) -> dict[str, tuple[str, str]]:
    """exercise name -> (the cell defining the learner's function, the cell after it)."""
    cells = _read(name).cells
    found = {}
    for i, cell in enumerate(cells):
        m = re.search(r"^check_(\w+)\((\w+)\)$", cell.source, re.M)
        if cell.cell_type == "code" and m:
            found[m.group(1)] = (cell.source, cells[i + 1].source)
    return found


@pytest.mark.parametrize("name", LESSONS)
def test_every_exercise_of_the_notebook_is_asked_with_a_stub_and_a_folded_solution(name):
    number = LESSONS[name][0]
    expected = {e.name for e in EXERCISES.values() if e.notebook == number}
    found = _exercise_cells(name)
    assert set(found) == expected
    for exercise, (source, after) in found.items():
        assert f"check_{exercise}({exercise})" in source
        assert 'raise NotImplementedError("your code here")' in source
        assert after.strip() == f'nbh.solution("{exercise}")'


def _run_exercise_cell(source: str, exercise: str, answer=None):
    """Run an exercise cell; with ``answer``, as if the learner had written it. Returns the check's result."""
    *body, last = source.rstrip().splitlines()
    namespace = notebook_namespace()
    exec("\n".join(body), namespace)
    stub = namespace[exercise]
    if answer is not None:
        namespace[exercise] = answer
    return stub, eval(last, namespace)


@pytest.mark.parametrize(
    "name, exercise",
    [(n, e.name) for n, (num, _) in LESSONS.items() for e in EXERCISES.values() if e.notebook == num],
)
def test_each_exercise_cell_says_not_yet_to_the_stub_and_correct_to_the_solution(name, exercise):
    source, _ = _exercise_cells(name)[exercise]
    reference = getattr(solutions, exercise)
    stub, result = _run_exercise_cell(source, exercise)
    assert not result and "not written yet" in str(result)
    assert list(inspect.signature(stub).parameters) == list(inspect.signature(reference).parameters)
    _, result = _run_exercise_cell(source, exercise, answer=reference)
    assert result, str(result)


# ------------------------------------------------------------------------------ 01: BPE by hand
HAND_BUILT = ("bpe-bytes", "bpe-count", "bpe-top", "ex-merge", "bpe-merge", "bpe-split", "bpe-hand")


@pytest.fixture(scope="module")
def hand_built() -> dict:
    """The build-it-yourself cells of notebook 01, run as the notebook runs them (on its tiny text)."""
    from lmhelpers import notebook as nbh

    cells = {c.id: c.source for c in _read("01_tokenizer.ipynb").cells}
    namespace = notebook_namespace(nbh=nbh)
    with contextlib.redirect_stdout(io.StringIO()):
        for cell_id in HAND_BUILT:
            exec(cells[cell_id], namespace)
    return namespace


def _texts() -> list[str]:
    rng = random.Random(0)
    texts = [
        "사느냐 죽느냐, 그것이 문제로다. 사느냐 죽느냐!",
        "aaaa aaa aa a aaaaa",
        "it's 2024, isn't it? 1234 12 123\n\n  spaces   here",
    ]
    texts += ["".join(rng.choice("ab c가\n.'s1") for _ in range(rng.randint(5, 80))) for _ in range(30)]
    return texts


@pytest.mark.parametrize("n_merges", [3, 12])
def test_the_hand_built_bpe_makes_the_package_merges_on_other_texts(hand_built, n_merges):
    import regex

    from lmhelpers.bpe import GPT2_SPLIT_PATTERN, train_bpe
    from lmhelpers.tokenizers import train_tokenizer

    for text in _texts():
        _, vocab, pieces = hand_built["train_bpe_by_hand"](text, n_merges)
        ranks = train_bpe(text, len(vocab))
        assert [vocab[i] for i in range(256, len(vocab))] == sorted(ranks, key=ranks.get)[256:], text
        ids = [i for piece in regex.findall(GPT2_SPLIT_PATTERN, text) for i in pieces[piece]]
        assert train_tokenizer("bpe", text, len(vocab)).encode(text) == ids, text


def test_the_hand_built_merge_agrees_with_the_reference_merge(hand_built):
    rng = random.Random(1)
    for _ in range(200):
        ids = [rng.randrange(3) for _ in range(rng.randint(0, 12))]
        pair = (rng.randrange(3), rng.randrange(3))
        assert hand_built["merge_pair"](ids, pair, 9) == solutions.merge(ids, pair, 9)
