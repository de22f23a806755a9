"""What the series prints is in the learner's language: the Korean series run at the smoke preset shows no
English prose, and the English series no Korean (tests/_prose.py says how prose is told from data).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from _prose import corpus_text, english_prose, korean_text, shown_text

from lmhelpers.notebook import NOTEBOOKS


def _outputs(run: Path, name: str) -> list[tuple[int, str]]:
    return shown_text(json.loads((run / name).read_text(encoding="utf-8")))


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_korean_series_prints_no_english_prose(smoke_series_both_languages, shakespeare_path, name):
    corpus = corpus_text(shakespeare_path)
    outputs = _outputs(smoke_series_both_languages / "ko", name)
    assert any(korean_text(text) for _, text in outputs), "the Korean notebook printed no Korean"
    found = [(cell, run) for cell, text in outputs for run in english_prose(text, corpus)]
    assert not found, f"English prose in the executed Korean {name} (cell, text): {found}"


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_english_series_prints_no_korean(smoke_series_both_languages, shakespeare_path, name):
    outputs = _outputs(smoke_series_both_languages, name)
    assert any(english_prose(text) for _, text in outputs)
    found = [(cell, words) for cell, text in outputs if (words := korean_text(text))]
    assert not found, f"Korean in the executed English {name} (cell, words): {found}"


def test_prose_is_told_from_data_code_and_names():
    corpus = "First Citizen:\nBefore we proceed any further, hear me speak.\n"
    assert english_prose("the checkpoint is written to the run folder") == [
        "the checkpoint is written to the run folder"
    ]
    assert english_prose("검증 손실: 1.234 (lstm-cpu, `n_layer=2`, block_size 64)") == []
    assert english_prose("LSTM, GRU, Transformer") == []  # names, no sentence
    assert english_prose("```\nand the king is dead\n```\n'to be or not'") == []  # a sample, a repr
    assert english_prose("hear me speak. And you, good sir", corpus) == ["And you, good sir"]
    assert english_prose("Before we proceed any further", corpus) == []  # a line of the corpus: data
    assert english_prose("퍼플렉서티(perplexity)는 손실의 지수입니다") == []
    assert korean_text("a Hangul syllable is 3 bytes: '말'") == []  # shown as data
    assert korean_text("글자당 비트 수: 2.5") == ["글자당", "비트", "수:"]
