import csv

import pytest
from test_records import _record

from lmhelpers.collect import collect
from lmhelpers.records import save_record


def test_collect_writes_table_and_plots(tmp_path):
    for name, arch, loss in [("a", "lstm", 1.8), ("b", "transformer", 1.5), ("c", "gru", 2.0)]:
        rec = _record(name, arch, loss)
        rec["timings"]["wall_seconds"] = 10.0
        save_record(rec, tmp_path / "sweep" / f"run-{name}" / arch)
    rows = collect(tmp_path / "sweep", tmp_path / "out")
    assert [r["name"] for r in rows] == ["run-b/transformer", "run-a/lstm", "run-c/gru"]  # best first
    with open(tmp_path / "out" / "results.csv") as f:
        table = list(csv.reader(f))
    assert table[0][:3] == ["run", "model", "tokenizer"] and len(table) == 4
    assert float(table[1][7]) == pytest.approx(1.5 / 0.693147, rel=1e-4)
    assert "| run-b/transformer | transformer |" in (tmp_path / "out" / "results.md").read_text()
    for fig in ("val_curves.png", "tradeoffs.png"):
        assert (tmp_path / "out" / fig).read_bytes()[:4] == b"\x89PNG"


def test_collect_without_records_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run records"):
        collect(tmp_path)


def test_describe_sweep_uses_the_numbers():
    from lmhelpers.reading import describe_sweep

    rows = [
        {
            "name": "b",
            "arch": "transformer",
            "tokenizer": "char",
            "bits_per_char": 2.0,
            "tokens_per_second": 300.0,
            "params": 2000,
        },
        {
            "name": "a",
            "arch": "lstm",
            "tokenizer": "char",
            "bits_per_char": 2.5,
            "tokens_per_second": 900.0,
            "params": 1000,
        },
    ]
    text = " ".join(describe_sweep(rows))
    assert "b (transformer, char) at 2.000" in text and "0.500 bits per character (20%)" in text
    assert "a at 900 tokens/s, 3.0x the slowest (b)" in text and "a with 1,000 parameters" in text
    assert describe_sweep([]) == ["No run finished with a validation score yet."]
