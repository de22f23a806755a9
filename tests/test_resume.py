"""The resume rule (lmhelpers.resume): a run's folder is never overwritten by a different run.

Each scenario is played through the real command line, as a user would, and checks the earlier
checkpoint and record byte for byte.
"""

from __future__ import annotations

import os
import stat

import pytest

from lmhelpers.cli import main
from lmhelpers.records import load_record


def _train(corpus, out, *extra: str) -> int:
    argv = ["train", "--preset", "smoke", "--arch", "gru", "--out", str(out), "--no-progress"]
    argv += ["--set", f"dataset={corpus}", "--set", "eval_interval=2", *extra]
    return main(argv)


def _files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_the_same_command_again_continues_and_says_so(small_corpus, tmp_path, capsys):
    assert _train(small_corpus, tmp_path, "--set", "max_iters=4") == 0
    assert "no checkpoint at" in capsys.readouterr().out  # a fresh start is announced too
    assert _train(small_corpus, tmp_path, "--set", "max_iters=6") == 0
    assert "resumed from" in capsys.readouterr().out
    rec = load_record(tmp_path / "gru")
    assert [h["step"] for h in rec["history"]] == [0, 2, 4, 6]


def test_a_different_run_into_the_same_out_stops_and_loses_nothing(small_corpus, tmp_path, capsys):
    assert _train(small_corpus, tmp_path, "--set", "max_iters=4") == 0
    before = _files(tmp_path / "gru")
    assert _train(small_corpus, tmp_path, "--set", "max_iters=4", "--set", "n_embd=48") == 2
    err = capsys.readouterr().err
    assert "model.n_embd: checkpoint 32, this run 48" in err
    assert "--out" in err and "--restart" in err  # both ways out are named
    assert _files(tmp_path / "gru") == before


def test_restart_moves_the_old_run_aside_and_the_summary_ignores_it(small_corpus, tmp_path, capsys):
    assert _train(small_corpus, tmp_path, "--set", "max_iters=4") == 0
    before = _files(tmp_path / "gru")
    capsys.readouterr()
    assert _train(small_corpus, tmp_path, "--set", "max_iters=4", "--set", "n_embd=48", "--restart") == 0
    out = capsys.readouterr().out
    assert "starting over" in out and "moved to" in out
    (aside,) = tmp_path.glob("gru.before-*")
    assert _files(aside) == before
    assert load_record(tmp_path / "gru")["config"]["model"]["n_embd"] == 48
    assert out.count("| gru-char-smoke |") == 1  # the moved-aside run is not summarised as a second run


def test_a_record_without_its_checkpoint_is_not_replaced(small_corpus, tmp_path, capsys):
    assert _train(small_corpus, tmp_path, "--set", "max_iters=4") == 0
    (tmp_path / "gru" / "checkpoint.pt").unlink()
    record = (tmp_path / "gru" / "record.json").read_bytes()
    assert _train(small_corpus, tmp_path, "--set", "max_iters=4") == 2
    assert "no checkpoint to continue it from" in capsys.readouterr().err
    assert (tmp_path / "gru" / "record.json").read_bytes() == record


def test_a_failed_run_leaves_no_empty_folders(tmp_path, capsys):
    bad = tmp_path / "one.txt"
    bad.write_text("a" * 500, encoding="utf-8")
    assert _train(bad, tmp_path / "runs" / "x") == 2
    assert "single distinct character" in capsys.readouterr().err
    assert not (tmp_path / "runs").exists()


def test_run_files_are_readable_by_others_under_the_usual_umask(small_corpus, tmp_path):
    old = os.umask(0o022)
    try:
        assert _train(small_corpus, tmp_path, "--set", "max_iters=2") == 0
    finally:
        os.umask(old)
    for name in ("record.json", "checkpoint.pt", "tokenizer.json"):
        mode = stat.S_IMODE((tmp_path / "gru" / name).stat().st_mode)
        assert mode == 0o644, (name, oct(mode))


@pytest.mark.parametrize("resume", ["yes", 1, None])
def test_a_resume_value_outside_the_rule_is_refused(resume):
    from lmhelpers.resume import resume_mode

    with pytest.raises(ValueError, match="auto"):
        resume_mode(resume)
