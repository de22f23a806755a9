"""Notebook 03 as a lesson: its cells follow the series' conventions, and its build-it-yourself cells really
compare with the real implementation, so a wrong hand-built piece stops the notebook with the difference.

nbmake runs the notebook as committed; these tests run its build-it-yourself cells alone (they need only a
config, a tokenizer and an untrained model) and break them on purpose.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
import torch
from _notebook_cells import cell, notebook_namespace, run_cells

import lmhelpers
from lmhelpers import notebook as nbh
from lmhelpers.config import make_config
from lmhelpers.exercises import EXERCISES
from lmhelpers.tokenizers import CharTokenizer

NB = Path(__file__).resolve().parents[1] / "notebooks" / "03_transformer.ipynb"
BUILD = [
    "average-loop",
    "average-matrix",
    "exercise-masked-softmax",  # the stub: the reference stands in for it
    "average-softmax",
    "one-head-scale",
    "one-head",
    "cell-08",
    "multi-head",
]
BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
POSITIONS = ["positions-bag", "positions-added", "positions-causal"]


@pytest.fixture(scope="module")
def nb() -> nbformat.NotebookNode:
    return nbformat.read(NB, as_version=4)


def _lesson_namespace() -> dict:
    """What the notebook has defined by the time its build-it-yourself cells run, at the smoke size."""
    config = make_config("smoke", arch="transformer")
    sentence = "to be or not to be"
    tokenizer = CharTokenizer.train(sentence)
    config = lmhelpers.with_vocab(config, tokenizer)

    prepared = SimpleNamespace(tokenizer=tokenizer)  # the one part of prepare_data's result they use
    return {"config": config, "nbh": nbh, "lmhelpers": lmhelpers, "prepared": prepared, "sentence": sentence}


# --------------------------------------------------------------------------------------------- structure
def test_opening_says_what_you_learn_what_you_need_and_where_the_figures_go(nb):
    lines = nb.cells[0].source.splitlines()
    assert lines[0].startswith("# 03 · ")
    assert lines[2] == f"{BADGE}({nbh.colab_url('03_transformer.ipynb')})"
    text = nb.cells[0].source
    learn = text.split("**What you will learn**")[1].split("**What you need first**")[0]
    assert 3 <= len(re.findall(r"^- ", learn, re.M)) <= 5
    need = text.split("**What you need first**")[1].split("**What you will see**")[0]
    assert "01" in need and "02" in need
    see = text.split("**What you will see**")[1].splitlines()
    at, end = see.index("<!-- what-you-will-see -->"), see.index("<!-- /what-you-will-see -->")
    assert any("|---|---|" in line for line in see[at:end])  # filled by tools/what_you_will_see.py


def test_sections_come_in_the_lesson_order_and_end_with_the_next_notebook(nb):
    headings = [
        ln
        for c in nb.cells
        if c.cell_type == "markdown"
        for ln in c.source.splitlines()
        if ln.startswith("## ")
    ]
    order = [
        "## Parameters",
        "## Data and tokenizer",
        "## Self-attention, step by step",
        "## Build the GPT yourself",
        "## Why the model needs positions",
        "## Training",
        "## Your GPT, trained",
        "## Why residual connections and LayerNorm",
        "## What the trained model attends to",
        "## Samples",
        "## The key/value cache",
        "## The checkpoint",
        "## Summary",
        "## Exercises",
    ]
    found = [next(i for i, h in enumerate(headings) if h.startswith(want)) for want in order]
    assert found == sorted(found), headings
    link = nbh.colab_url("04_comparison.ipynb")
    assert nb.cells[-1].source == f"**Next:** {BADGE}({link}) 04 · RNN vs Transformer, measured"


def test_checked_exercises_are_a_stub_its_check_and_its_folded_solution(nb):
    code = [c for c in nb.cells if c.cell_type == "code"]
    stubs = [i for i, c in enumerate(code) if 'raise NotImplementedError("your code here")' in c.source]
    names = [re.search(r"^(?:def|class) (\w+)\(", code[i].source, re.M).group(1) for i in stubs]
    modules = ["Head", "MultiHeadAttention", "FeedForward", "Block", "GPT"]  # built in this order
    assert names == ["masked_softmax", "multi_head", *modules, "apply_temperature"]
    for i, name in zip(stubs, names):
        assert EXERCISES[name].notebook == "03"
        assert '"""' in code[i].source  # a docstring says what to write
        assert f"from lmhelpers.exercises import check_{name}" in code[i + 1].source
        assert code[i + 1].source.rstrip().endswith(f"check_{name}({name})")
        assert code[i + 2].source.strip() == f'nbh.solution("{name}")'
    text = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert text.count("(open-ended)") >= 1


def test_the_attention_exercises_are_asked_before_the_cells_that_answer_them(nb):
    """masked_softmax comes before step 3's masked softmax and step 4's `attend`; multi_head before the
    package's CausalSelfAttention is shown; no earlier code cell holds a line of either solution."""
    from test_exercises import _solution_lines

    code = [c.source for c in nb.cells if c.cell_type == "code"]

    def first(text):
        return next(i for i, s in enumerate(code) if text in s)

    for name, answers in {
        "masked_softmax": ['yours_or_reference("masked_softmax", masked_softmax)', "def attend("],
        "multi_head": [
            "nbh.show_source(lmhelpers.transformer.CausalSelfAttention)",
            "def multi_head_by_hand(",
        ],
    }.items():
        stub = first(f"def {name}(")
        assert all(stub < first(answer) for answer in answers), name
        for line in _solution_lines(name):
            assert not any(line in s for s in code[:stub]), f"{name}: {line!r} shown before its task"


@pytest.mark.parametrize("name", ["Head", "MultiHeadAttention", "FeedForward", "Block", "GPT"])
def test_each_module_is_asked_for_before_any_cell_shows_it(nb, name):
    """The task (a markdown cell naming the module) comes first; no earlier cell defines or shows it."""
    at = next(i for i, c in enumerate(nb.cells) if re.search(rf"^class {name}\(", c.source, re.M))
    stub = nb.cells[at]
    assert 'raise NotImplementedError("your code here")' in stub.source
    task = nb.cells[at - 1]
    assert task.cell_type == "markdown" and f"`{name}(cfg" in task.source
    for earlier in nb.cells[:at]:
        assert f"class {name}(" not in earlier.source and f'solution("{name}")' not in earlier.source
    first_use = [i for i, c in enumerate(nb.cells) if f'yours_or_reference("{name}"' in c.source]
    assert all(i > at for i in first_use)


def test_measured_figures_are_computed_not_written(nb):
    """Speed-ups and sizes come from the run; the prose holds no number of its own."""
    prose = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert not re.search(r"\d+(\.\d+)?\s*(x|×|times) (faster|as fast)", prose)
    assert "recomputed_seconds / cached_seconds" in cell(nb, "cache-speed").source


# --------------------------------------------------------------------------------- built by hand, checked
def test_the_build_it_yourself_cells_match_the_real_attention(nb, capsys):
    ns = run_cells(nb, BUILD, _lesson_namespace())
    printed = capsys.readouterr().out
    for real in ("the loop", "F.scaled_dot_product_attention", "CausalSelfAttention with n_embd=8"):
        assert f"matches {real}" in printed
    assert f"CausalSelfAttention with n_embd={ns['config'].model.n_embd}" in printed


@pytest.mark.parametrize(
    "cell, bug, real",
    [
        ("average-matrix", ("tril.sum(dim=1,", "tril.sum(dim=0,"), "the loop"),  # columns summed
        ("one-head", ("/ math.sqrt(q.size(-1))", ""), "F.scaled_dot_product_attention"),  # no scaling
        ("multi-head", ("attention.proj.bias)", "None)"), "CausalSelfAttention"),  # bias forgotten
    ],
)
def test_a_wrong_hand_built_piece_stops_the_notebook_with_the_difference(nb, cell, bug, real):
    ids = BUILD[: BUILD.index(cell) + 1]
    with pytest.raises(AssertionError, match=rf"does not match {real}.*max absolute difference"):
        run_cells(nb, ids, _lesson_namespace(), replace=bug)


def test_attention_without_positions_cannot_tell_the_order(nb, capsys):
    ns = run_cells(nb, BUILD, _lesson_namespace())
    torch.manual_seed(0)
    ns["model"] = lmhelpers.build_model(ns["config"].model)
    run_cells(nb, POSITIONS, ns)
    printed = capsys.readouterr().out
    assert "matches the outputs of the original order, reversed" in printed
    assert "matches the last position before reordering" in printed
    change = float(re.search(r"changes the outputs by (\d+)%", printed).group(1))
    assert change > 0
    # The same check with the positions put in: the layer now tells the orders apart, and the cell stops.
    bag = ("block.ln_1(tokens", "block.ln_1(model.pos_emb(torch.arange(len(ids))) + tokens")
    with pytest.raises(AssertionError, match="does not match the outputs of the original order"):
        run_cells(nb, POSITIONS[:1], ns, replace=bag)


def test_time_per_token_is_measured_next_to_the_complexity_table(nb):
    from torch import nn

    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown" and c.source]
    at = headings.index("### Time per token against context length")
    assert headings.index("## The key/value cache: the same tokens, less work") < at
    assert at < headings.index("## The checkpoint")
    table = cell(nb, "context-text").source
    for entry in ("sequential operations", "maximum path length", "cost per layer", "O(T·d²)", "O(T²·d)"):
        assert entry in table
    namespace = notebook_namespace(torch=torch, lmhelpers=lmhelpers, nbh=nbh)
    namespace["trainer"] = SimpleNamespace(model=nn.Linear(1, 1))  # only its device is read
    exec(compile(cell(nb, "context-time").source, "context-time", "exec"), namespace)
    lstm, transformer = namespace["per_token"]["lstm"], namespace["per_token"]["transformer"]
    assert len(lstm) == len(transformer) == len(namespace["lengths"]) == 4
    assert all(0 < s < 1e-2 for s in lstm + transformer)  # seconds per token, measured
