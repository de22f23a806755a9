import json

import pytest

from lmhelpers.cli import main, parse_overrides
from lmhelpers.config import ConfigError, make_config
from lmhelpers.experiment import prepare_data, run_experiment
from lmhelpers.records import load_record


def test_run_experiment_writes_record_curves_and_checkpoint(small_corpus, tmp_path):
    cfg = make_config("smoke", dataset=str(small_corpus), arch="gru", max_iters=6, eval_interval=3)
    rec = run_experiment(cfg, tmp_path / "run", progress=False)
    out = tmp_path / "run"
    assert {"record.json", "curves.png", "checkpoint.pt", "tokenizer.json"} <= {p.name for p in out.iterdir()}
    saved = load_record(out)
    assert saved["config"]["model"]["arch"] == "gru" and saved["config"]["train"]["max_iters"] == 6
    assert saved["config"]["model"]["vocab_size"] == rec["tokenizer"]["vocab_size"]
    assert [h["step"] for h in saved["history"]] == [0, 3, 6]
    f = saved["final"]
    assert f["bits_per_char"] == pytest.approx(
        f["loss"] * rec["tokenizer"]["tokens_per_char"] / 0.6931, rel=1e-3
    )
    assert saved["samples"][0]["text"].startswith(saved["samples"][0]["prompt"])
    assert saved["timings"]["tokens_per_second"] > 0 and saved["timings"]["generation_tokens_per_second"] > 0
    assert saved["environment"]["torch"] and saved["model"]["params"] > 0


def test_resume_continues_a_finished_or_interrupted_run(small_corpus, tmp_path):
    cfg = make_config("smoke", dataset=str(small_corpus), max_iters=4, eval_interval=2)
    run_experiment(cfg, tmp_path, progress=False)
    longer = cfg.override(max_iters=6)
    rec = run_experiment(longer, tmp_path, resume=True, progress=False)
    assert [h["step"] for h in rec["history"]] == [0, 2, 4, 6]  # continued, not restarted


def test_same_corpus_split_for_every_tokenizer(small_corpus):
    a = prepare_data(make_config("smoke", dataset=str(small_corpus), tokenizer="char"))
    b = prepare_data(make_config("smoke", dataset=str(small_corpus), tokenizer="word", vocab_size=50))
    assert a.val_text == b.val_text and a.dataset.val_chars == b.dataset.val_chars
    assert b.dataset.tokens_per_char < a.dataset.tokens_per_char == 1.0


def test_unwritable_output_is_found_before_training(small_corpus, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cfg = make_config("smoke", dataset=str(small_corpus))
    with pytest.raises(PermissionError, match="choose another output directory"):
        run_experiment(cfg, blocker / "sub", progress=False)


def test_overrides_are_typed():
    assert parse_overrides(["max_iters=5", "learning_rate=3e-4", "tie_weights=false", "min_lr=null"]) == {
        "max_iters": 5,
        "learning_rate": 3e-4,
        "tie_weights": False,
        "min_lr": None,
    }
    with pytest.raises(ConfigError):
        parse_overrides(["max_iters"])


def test_cli_compare_trains_both_and_summarises(small_corpus, tmp_path, capsys):
    rc = main(
        [
            "compare",
            "--preset",
            "smoke",
            "--arch",
            "lstm",
            "transformer",
            "--out",
            str(tmp_path),
            "--set",
            f"dataset={small_corpus}",
            "--set",
            "max_iters=4",
            "--set",
            "eval_interval=2",
            "--no-progress",
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "| lstm-char-smoke | lstm |" in printed and "| transformer-char-smoke | transformer |" in printed
    assert (tmp_path / "summary.md").is_file() and (tmp_path / "curves.png").is_file()
    rec = json.loads((tmp_path / "lstm" / "record.json").read_text())
    assert rec["final"]["bits_per_char"] > 0


def test_cli_reports_bad_settings(capsys):
    assert main(["train", "--preset", "smoke", "--set", "n_layers=2"]) == 2
    assert "unknown setting 'n_layers'" in capsys.readouterr().err


def test_a_saved_tokenizer_is_reused_only_for_what_it_was_trained_on(small_corpus, tmp_path):
    """Notebook 01's tokenizer is a cached result: any change of what produced it trains a new one."""
    from lmhelpers.experiment import save_tokenizer

    base = make_config("smoke", dataset=str(small_corpus), tokenizer="word", vocab_size=40)
    first = prepare_data(base)
    save_tokenizer(first.tokenizer, base, first.train_text, tmp_path)
    again = prepare_data(base, reuse_from=tmp_path)
    assert again.reused_from == tmp_path / "tokenizer.json"
    other = small_corpus.with_name("other.txt")
    other.write_text(small_corpus.read_text() + "Another line entirely.\n" * 30)
    for change in (
        {"tokenizer": "char"},
        {"vocab_size": 30},
        {"dataset": str(other)},
        {"val_fraction": 0.2},
        {"normalize": "NFKC"},
    ):
        fresh = prepare_data(base.override(**change), reuse_from=tmp_path)
        assert fresh.reused_from is None, change
    assert prepare_data(base, reuse_from=tmp_path / "missing").reused_from is None
