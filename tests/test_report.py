"""Result tables, samples and the series summary (lmhelpers.report)."""

import json

from lmhelpers.config import make_config, presets_markdown
from lmhelpers.report import config_markdown, samples_markdown, write_summary


def test_samples_and_tables():
    rec = {"samples": [{"prompt": "A", "temperature": 0.5, "seed": 1, "top_k": None, "text": "A b"}]}
    assert "**temperature 0.5**" in samples_markdown(rec) and "A b" in samples_markdown(rec)
    assert "| preset | smoke |" in config_markdown(make_config("smoke"))
    assert "`reference`" in presets_markdown()


def test_write_summary_without_records_is_none(tmp_path):
    assert write_summary(tmp_path) is None
    (tmp_path / "x.json").write_text(json.dumps({}))
    assert write_summary(tmp_path) is None
