"""The Korean edition (notebooks/ko/): the whole series, its own prose, the English code.

tools/sync_ko.py keeps the code equal; these tests fail when a code cell drifts on one side only, when a
Korean notebook is malformed, or when a figure would draw Hangul as empty boxes.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import sync_ko

from lmhelpers.language import tr
from lmhelpers.notebook import ALL_NOTEBOOKS
from lmhelpers.repository import colab_url

ROOT = Path(__file__).resolve().parents[1]

KO = ROOT / "notebooks" / "ko"
HANGUL = re.compile("[가-힣]")


def _pair(name: str) -> tuple[dict, dict]:
    return (
        json.loads((ROOT / "notebooks" / name).read_text(encoding="utf-8")),
        json.loads((KO / name).read_text(encoding="utf-8")),
    )


def test_the_korean_edition_has_the_whole_series_and_no_drift():
    assert sorted(p.name for p in KO.glob("*.ipynb")) == sorted(ALL_NOTEBOOKS)
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "sync_ko.py"), "check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_a_code_change_on_one_side_only_is_caught_and_a_translated_comment_is_not():
    english, korean = _pair("02_rnn.ipynb")
    assert sync_ko.drift(english, korean) == []
    code = next(
        i
        for i, c in enumerate(english["cells"])
        if c["cell_type"] == "code" and "Trainer(" in "".join(c["source"])
    )
    changed = copy.deepcopy(english)
    changed["cells"][code]["source"] = ["".join(english["cells"][code]["source"]) + "\nprint('new line')"]
    problems = sync_ko.drift(changed, korean)
    assert problems == [f"cell {english['cells'][code]['id']}: the code differs from the English notebook's"]
    assert sync_ko.drift(changed, sync_ko.synced(changed, korean)) == []  # sync repairs it
    commented = copy.deepcopy(korean)
    commented["cells"][code]["source"] = ["".join(korean["cells"][code]["source"]) + "  # 한국어 주석"]
    assert sync_ko.drift(english, commented) == []


@pytest.mark.parametrize("name", ALL_NOTEBOOKS)
def test_each_korean_notebook_is_well_formed_and_written_in_korean(name):
    english, korean = _pair(name)
    nb = nbformat.reads(json.dumps(korean), as_version=4)
    nbformat.validate(nb)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and 'language = "ko"' in tagged[0].source
    assert all(c.outputs == [] and c.execution_count is None for c in nb.cells if c.cell_type == "code")
    own = colab_url(f"ko/{name}")
    assert own in nb.cells[0].source  # its own badge
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert all(HANGUL.search(m) for m in markdown if len(m) > 40), "a markdown cell is not translated"
    assert sync_ko.TO_TRANSLATE not in "".join(markdown)
    assert colab_url(f"ko/{name}") in "".join(english["cells"][0]["source"])  # 한국어판 link from English


@pytest.mark.slow
def test_a_korean_attention_map_draws_hangul(korean_corpus, tmp_path):
    """The Korean 03 on a Korean corpus: a Korean sentence in the attention map, and no missing glyph."""
    import papermill

    executed = tmp_path / "ko03.ipynb"
    papermill.execute_notebook(
        str(KO / "03_transformer.ipynb"),
        str(executed),
        parameters={
            "preset": "smoke",
            "max_iters": 4,
            "run_dir": str(tmp_path / "runs"),
            "settings": {"dataset": str(korean_corpus)},
        },
        kernel_name="python3",
        cwd=str(KO),
        progress_bar=False,
    )
    outputs = json.dumps(
        [c.get("outputs", []) for c in nbformat.read(executed, as_version=4).cells], ensure_ascii=False
    )
    # the line notebook 03 prints, "attention sentence: '...'" in Korean
    label = tr("attention sentence: {sentence!r}", language="ko").split("{")[0]
    assert label in outputs
    assert (tmp_path / "runs" / "03_transformer" / "attention.png").is_file()
    assert "missing from" not in outputs and "Glyph" not in outputs
    printed = [line.split(label, 1)[1] for line in outputs.split("\\n") if label in line]
    assert any(HANGUL.search(sentence) for sentence in printed), printed
