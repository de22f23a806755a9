import json
import math

import pytest

from lmhelpers.plots import plot_curves
from lmhelpers.records import RecordError, comparison_rows, find_records, load_record, new_record, save_record
from lmhelpers.report import markdown_table


def _record(name, arch="lstm", loss=1.5):
    cfg = {"model": {"arch": arch}, "data": {"tokenizer": "char"}, "train": {}}
    hist = [
        {"step": s, "train_time": s / 10, "train_loss": loss + 1 / (s + 1), "val_loss": loss + 1.2 / (s + 1)}
        for s in (0, 10, 20)
    ]
    return new_record(
        name,
        cfg,
        history=hist,
        final={"loss": loss, "perplexity": math.exp(loss), "bits_per_char": loss / math.log(2)},
        model={"params": 12345},
        timings={"tokens_per_second": 2000.0, "train_seconds": 2.0},
    )


def test_save_load_find(tmp_path):
    save_record(_record("a"), tmp_path / "a")
    save_record(_record("b", "transformer"), tmp_path / "x" / "b.json")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "record.json").write_text("{not json")
    recs = find_records(tmp_path)
    assert [r["name"] for r in recs] == ["a"]  # only files named record.json; the broken one is skipped
    assert load_record(tmp_path / "x" / "b.json")["name"] == "b"
    with pytest.raises(RecordError, match="not valid JSON"):
        load_record(tmp_path / "bad")
    with pytest.raises(RecordError, match="no run record"):
        load_record(tmp_path / "missing")


def test_nan_is_written_as_null(tmp_path):
    rec = _record("n")
    rec["final"]["loss"] = float("nan")
    path = save_record(rec, tmp_path)
    assert json.loads(path.read_text())["final"]["loss"] is None


def test_table_and_curves(tmp_path):
    recs = [_record("lstm-run", loss=1.6), _record("gpt-run", "transformer", 1.4)]
    rows = comparison_rows(recs)
    assert rows[1]["arch"] == "transformer" and rows[0]["params"] == 12345
    table = markdown_table(rows)
    assert table.splitlines()[0].startswith("| run | model |")
    assert "| gpt-run | transformer | char | 12,345 |" in table
    assert "1.400" in table
    plot_curves(recs, tmp_path / "c.png")
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
