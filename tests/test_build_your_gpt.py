"""Notebook 03's "Build the GPT yourself", executed: with the reference solutions in place of the stubs, the
learner's GPT trains with the package's Trainer to within 0.05 nats of the package's model (same size, seed
and steps, at the smoke preset); with the stubs untouched, the notebook still runs to the end, says that the
reference stands in, and prints no complete answer outside the folded solutions.

The checks themselves, with the wrong answers each must reject, are tested in tests/test_exercises.py.
"""

from __future__ import annotations

import inspect
import json
import re
from pathlib import Path

import nbformat
import papermill
import pytest
from _notebook_cells import cell

from lmhelpers import solutions

ROOT = Path(__file__).resolve().parents[1]
NB = ROOT / "notebooks" / "03_transformer.ipynb"
STUBS = {
    "exercise-head": "Head",
    "exercise-multi-head-attention": "MultiHeadAttention",
    "exercise-feed-forward": "FeedForward",
    "exercise-block": "Block",
    "exercise-gpt": "GPT",
}
pytestmark = pytest.mark.slow


def _execute(tmp_path: Path, fill: bool) -> tuple[nbformat.NotebookNode, dict[str, float]]:
    """Notebook 03 at the smoke preset; ``fill``: each stub cell replaced by the reference solution."""
    nb = nbformat.read(NB, as_version=4)
    by_id = {c.get("id"): c for c in nb.cells}
    assert set(STUBS) <= set(by_id), "a stub cell of Build the GPT yourself is missing"
    for cell_id, name in STUBS.items():
        assert 'raise NotImplementedError("your code here")' in by_id[cell_id].source
        if fill:
            by_id[cell_id].source = f"from lmhelpers.solutions import {name}"
    nb.cells.append(nbformat.v4.new_code_cell('import json\nprint("GPT_LOSSES", json.dumps(gpt_losses))'))
    source = tmp_path / "in.ipynb"
    nbformat.write(nb, source)
    executed = tmp_path / "out.ipynb"
    papermill.execute_notebook(
        str(source),
        str(executed),
        parameters={"preset": "smoke", "run_dir": str(tmp_path / "runs")},
        kernel_name="python3",
        cwd=str(NB.parent),
        progress_bar=False,
    )
    result = nbformat.read(executed, as_version=4)
    printed = _outputs(result.cells[-1])
    losses = json.loads(re.search(r"GPT_LOSSES (\{.*\})", printed).group(1))
    return result, losses


def _outputs(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append(out["text"])
        for value in out.get("data", {}).values():
            parts.append(value if isinstance(value, str) else json.dumps(value))
    return "".join(parts)


def test_with_the_reference_solutions_your_gpt_trains_to_the_package_models_loss(tmp_path):
    nb, losses = _execute(tmp_path, fill=True)
    for cell_id, name in STUBS.items():
        assert f"correct: {name} (" in _outputs(cell(nb, cell_id.replace("exercise-", "check-")))
    trained = _outputs(cell(nb, "yours-train")) + _outputs(cell(nb, "yours-compare"))
    assert "your GPT passes its check: the cells below use it" in trained
    assert "the reference" not in trained
    assert set(losses) == {"yours", "package"}
    assert abs(losses["yours"] - losses["package"]) < 0.05, losses
    assert "within 0.05" in trained


def test_with_the_stubs_untouched_the_notebook_runs_on_and_shows_no_answer(tmp_path):
    nb, losses = _execute(tmp_path, fill=False)
    for cell_id, name in STUBS.items():
        said = _outputs(cell(nb, cell_id.replace("exercise-", "check-")))
        assert said.startswith(f"not yet: {name}, case 1") and "not written yet" in said
        assert f'hint("{name}")' in said  # the second hint is offered, not shown
    trained = _outputs(cell(nb, "yours-train")) + _outputs(cell(nb, "yours-compare"))
    assert "the reference GPT from lmhelpers.solutions in its place" in trained
    assert abs(losses["yours"] - losses["package"]) < 0.05  # the reference stood in
    # No output outside a folded solution holds a line of a reference answer.
    answer_lines = {
        line.strip()
        for name in STUBS.values()
        for line in inspect.getsource(getattr(solutions, name)).splitlines()
        if len(line.strip()) > 25 and not line.strip().startswith(("class ", '"""', "def ", "super()"))
    }
    for shown_cell in nb.cells:
        text = _outputs(shown_cell)
        if shown_cell.get("id", "").startswith("solution-"):
            assert text.count("<details>") == 1  # folded: opened on purpose
            continue
        shown = [line for line in answer_lines if line in text]
        assert not shown, f"cell {shown_cell.get('id')} prints part of an answer: {shown[:2]}"
