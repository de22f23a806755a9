"""The "what you will see" table at the top of each notebook is made from a recorded run
(docs/measured.json, by tools/what_you_will_see.py), so it changes only with the measurements."""

from __future__ import annotations

import json
from pathlib import Path

import what_you_will_see

ROOT = Path(__file__).resolve().parents[1]


def test_every_notebook_shows_the_measured_figures():
    assert what_you_will_see.update(write=False) == [], "run: python tools/what_you_will_see.py write"


def test_the_table_states_the_recorded_figures_and_the_machine():
    measured = json.loads(what_you_will_see.MEASURED.read_text(encoding="utf-8"))
    for notebook, language in (("03_transformer", "en"), ("03_transformer", "ko")):
        text = what_you_will_see.table(notebook, measured, language)
        m = measured["models"][notebook]
        assert f"{m['bits_per_char']:.3f}" in text and f"{m['params']:,}" in text
        assert measured["cpu"] in text and str(measured["cores"]) in text
    comparison = what_you_will_see.table("04_comparison", measured)
    assert all(f"{m['bits_per_char']:.3f}" in comparison for m in measured["models"].values())


def test_measure_reads_a_make_run_folder(tmp_path):
    (tmp_path / "01_tokenizer").mkdir()
    (tmp_path / "01_tokenizer" / "tokenizers.json").write_text(
        json.dumps([{"name": "char", "tokens_per_char": 1.0}, {"name": "gpt2", "tokens_per_char": 0.28712}])
    )
    series = {"parameters": {}, "cpu": "Some CPU (AVX2)", "cores": 2, "notebooks": {"02_rnn.ipynb": 61.2}}
    (tmp_path / "series.json").write_text(json.dumps(series))
    for name, arch, bpc in (("02_rnn", "lstm", 2.7161), ("03_transformer", "transformer", 2.4024)):
        (tmp_path / name).mkdir()
        record = {
            "config": {"model": {"arch": arch}},
            "final": {"bits_per_char": bpc, "loss": bpc * 0.693},
            "timings": {"train_seconds": 50.04},
            "model": {"params": 1234},
        }
        (tmp_path / name / "record.json").write_text(json.dumps(record))
    got = what_you_will_see.measure(tmp_path)
    assert got["preset"] == "cpu" and got["cpu"] == "Some CPU (AVX2)" and got["notebooks"] == {"02_rnn": 61.2}
    assert got["models"]["03_transformer"]["bits_per_char"] == 2.402
    assert got["tokenizers"] == {"char": 1.0, "gpt2": 0.287}
    assert "61 s" in what_you_will_see.table("02_rnn", got) and "2.716" in what_you_will_see.table(
        "02_rnn", got
    )
