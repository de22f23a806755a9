"""Notebook 02 as a lesson: its opening, its build-it-yourself checks, the leaky-attention lesson, the closing.

nbmake executes the notebook (a hand-built piece that differs from the real module stops it there) and
tests/test_notebooks.py checks its parameters, outputs and files. This file checks, without training
anything, what the course conventions ask of 02 and what other notebooks rely on: the names of the files
the leaky-attention lesson writes (notebook 04 reads them), and its `leak_iters` parameter.
"""

from __future__ import annotations

import re
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from _notebook_cells import cell, notebook_namespace, run_cells

from lmhelpers.exercises import EXERCISES
from lmhelpers.notebook import ParameterError, colab_url

NB = Path(__file__).resolve().parents[1] / "notebooks" / "02_rnn.ipynb"
LESSON_FILES = (
    "attention_leaky.json",
    "attention_fixed.json",
    "attention_leak_curves.png",
    "attention_leak_positions.png",
)


@pytest.fixture(scope="module")
def nb():
    return nbformat.read(NB, as_version=4)


def _code(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_opening_says_what_you_learn_need_and_see(nb):
    text = nb.cells[0].source
    lines = text.splitlines()
    assert lines[0].startswith("# 02 · ")
    badge = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    assert lines[2] == f"{badge}({colab_url('02_rnn.ipynb')})"
    learn = text.split("**What you will learn**")[1].split("**What you need first**")[0]
    assert 3 <= len(re.findall(r"^\* ", learn, re.M)) <= 5
    see = text.split("**What you will see**")[1]
    start, end = lines.index("<!-- what-you-will-see -->"), lines.index("<!-- /what-you-will-see -->")
    assert start < end and "<!-- what-you-will-see -->" in see


def test_hand_built_pieces_are_checked_against_the_real_modules(nb):
    code = "\n".join(_code(nb))
    assert "from lmhelpers.exercises import assert_close" in code
    for real in ("nn.RNNCell", "nn.LSTMCell", "nn.LSTM outputs", "nn.LSTM final state", "lmhelpers.generate"):
        assert re.search(rf'assert_close\(\s*(?:tr\()?"{re.escape(real)}', code), real
    assert re.search(
        r"lstm_stack\(model\.rnn, emb\),\s*model\.rnn\(emb\)\[0\]", code
    )  # the model's own layers
    assert "nbh.show_source(lmhelpers.rnn.RNNLanguageModel)" in code


def test_every_exercise_of_02_has_a_stub_a_check_and_a_folded_solution(nb):
    names = sorted(e.name for e in EXERCISES.values() if e.notebook == "02")
    assert names == ["gru_step", "lstm_step", "rnn_step"]
    code = _code(nb)
    for name in names:
        stub = next(i for i, s in enumerate(code) if s.startswith(f"def {name}("))
        assert 'raise NotImplementedError("your code here")' in code[stub]
        assert f"check_{name}({name})" in code[stub]
        assert code[stub + 1].strip() == f'nbh.solution("{name}")'


def test_each_task_comes_before_any_cell_that_answers_it(nb):
    """The stub of an exercise comes before every cell that uses or shows its answer, and no code cell
    before the stub holds a line of the reference solution."""
    from test_exercises import _solution_lines

    code = _code(nb)
    for name in ("rnn_step", "lstm_step", "gru_step"):
        stub = next(i for i, s in enumerate(code) if s.startswith(f"def {name}("))
        for line in _solution_lines(name):
            assert not any(line in s for s in code[:stub]), f"{name}: {line!r} shown before its task"
    uses = {"rnn_step": 'assert_close("nn.RNNCell"', "lstm_step": 'assert_close("nn.LSTMCell"'}
    for name, use in uses.items():
        stub = next(i for i, s in enumerate(code) if s.startswith(f"def {name}("))
        assert stub < next(i for i, s in enumerate(code) if use in s)
        assert f'yours_or_reference("{name}", {name})' in "\n".join(code[stub:])


def test_closing_summary_exercises_and_the_next_notebook(nb):
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Summary" in markdown and "## Exercises" in markdown
    assert "../docs/model_contract.md" in markdown
    badge = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    last = nb.cells[-1].source.splitlines()[-1]
    assert last == f"**Next:** {badge}({colab_url('03_transformer.ipynb')}) 03 · A GPT-style Transformer"


def test_the_leaky_lesson_writes_the_files_its_text_names_and_no_run_record(nb):
    """04 picks these files up by name; a `record.json` would be counted as a real run by the series
    summary and by sweeps (find_records), where the leaky model would top the table."""
    start = next(i for i, c in enumerate(nb.cells) if c.get("id") == "cell-22")
    lesson_code = "\n".join(c.source for c in nb.cells[start:] if c.cell_type == "code")
    said = cell(nb, "cell-leaksavemd").source
    for name in LESSON_FILES:
        assert f"`{name}`" in said
    assert 'run.file(f"attention_{name}.json")' in lesson_code
    assert 'run.file("attention_leak_curves.png")' in lesson_code
    assert 'run.file("attention_leak_positions.png")' in lesson_code
    assert "finish_run(" not in lesson_code and "record.json" not in lesson_code
    assert "is_causal=self.causal" in lesson_code  # the bug and its fix are one argument


def _validate(nb, tmp_path, **parameters):
    """Run the parameters cell, the given values, and the validation cell, as papermill would."""
    code = _code(nb)
    namespace = notebook_namespace()
    exec(code[1], namespace)
    namespace.update(preset="smoke", run_dir=str(tmp_path), **parameters)
    exec(code[2], namespace)
    return namespace


def test_leak_iters_none_means_200_or_max_iters_if_fewer(nb, tmp_path):
    assert "leak_iters = None" in _code(nb)[1]
    assert _validate(nb, tmp_path)["leak_steps"] == 20  # the smoke preset's max_iters
    assert _validate(nb, tmp_path, max_iters=500)["leak_steps"] == 200
    assert _validate(nb, tmp_path, leak_iters=7)["leak_steps"] == 7


@pytest.mark.parametrize("bad", [0, -3, "ten", 2.5, True])
def test_a_wrong_leak_iters_stops_in_the_validation_cell(nb, tmp_path, bad):
    with pytest.raises(
        ParameterError, match=r"parameter leak_iters=.* is invalid: None or a positive integer"
    ):
        _validate(nb, tmp_path, leak_iters=bad)


# ------------------------------------------------------------------------------ the training loop, by hand
LOOP = ["loop-batch", "loop-init", "loop-eval", "loop-step"]


def _loop_namespace(**settings) -> dict:
    """What 02 has defined when its training-loop cells run, at the smoke size, on a small text."""
    import torch
    from torch import nn

    import lmhelpers
    from lmhelpers.config import make_config
    from lmhelpers.data import TokenDataset
    from lmhelpers.exercises import assert_close
    from lmhelpers.tokenizers import train_tokenizer

    text = "First Citizen:\nBefore we proceed any further, hear me speak.\nAll:\nSpeak, speak.\n" * 40
    tokenizer = train_tokenizer("char", text, 100)
    dataset = TokenDataset.from_text(text[:2500], text[2500:], tokenizer)
    config = make_config("smoke", arch="lstm", device="cpu", **settings)
    config = config.override(**{"model.vocab_size": tokenizer.vocab_size})
    prepared = SimpleNamespace(dataset=dataset, tokenizer=tokenizer)
    return {
        "torch": torch,
        "nn": nn,
        "lmhelpers": lmhelpers,
        "assert_close": assert_close,
        "config": config,
        "prepared": prepared,
    }


def test_the_training_loop_is_written_out_before_trainer_takes_over(nb):
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown" and c.source]
    assert headings.index("## The training loop, by hand") < headings.index("## Training")
    assert headings.index("### Why `grad_clip`: exploding gradients") < headings.index("## Training")
    code = "\n".join(_code(nb))
    for real in ("TokenDataset.get_batch", "Trainer.evaluate"):
        assert f'assert_close("{real}"' in code
    assert 'tr("Trainer.train_step, the weights after {k} steps", k=k)' in code
    assert "clip_grad_norm_" in cell(nb, "loop-step").source and "clip_grad_norm_" in cell(nb, "clip").source


def test_the_hand_written_loop_matches_trainer_and_the_bigram_is_counted_right(nb, capsys):
    import math

    import torch

    ns = run_cells(nb, LOOP, _loop_namespace())
    out = capsys.readouterr().out
    for real in (
        "TokenDataset.get_batch",
        "Trainer.evaluate",
        "Trainer.train_step, the weights after 5 steps",
    ):
        assert f"matches {real}" in out
    train = torch.tensor([0, 1, 0, 1, 0, 2])  # pairs: (0,1) twice, (1,0) twice, (0,2) once
    x, y = torch.tensor([[0, 0, 1]]), torch.tensor([[1, 2, 2]])
    brute = -(math.log((2 + 1) / (3 + 3)) + math.log((1 + 1) / (3 + 3)) + math.log((0 + 1) / (2 + 3))) / 3
    assert ns["bigram_loss"](train, x, y, 3) == pytest.approx(brute)
    assert ns["bigram"] < ns["untrained"]  # counting pairs already beats knowing nothing


@pytest.mark.parametrize(
    "bug",
    [
        ("    if step < t.warmup_iters:", "    if False:"),  # no warm-up
        ("(step + 1) / (t.warmup_iters + 1)", "step / t.warmup_iters"),  # warm-up off by one
        ('"weight_decay": t.weight_decay}', '"weight_decay": 0.0}'),  # no weight decay on the matrices
        ("    norm = torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip)", "    norm = 0.0"),
    ],
    ids=["no-warmup", "warmup-off-by-one", "no-weight-decay", "no-clipping"],
)
def test_a_wrong_step_by_hand_does_not_match_trainer(nb, bug):
    settings = {"grad_clip": 0.05} if bug[1] == "    norm = 0.0" else {}  # small enough to clip every step
    ns = run_cells(nb, LOOP[:3], _loop_namespace(**settings))
    source = cell(nb, "loop-step").source.replace(*bug)
    assert source != cell(nb, "loop-step").source
    source = source.replace("norm.item()", "float(norm)")
    with pytest.raises(AssertionError, match="does not match Trainer.train_step"):
        exec(compile(source, "loop-step", "exec"), ns)
