"""Records that tell the truth (issue 20): a record names the settings its weights were trained with, a
change of training settings on resume is either another run or recorded step by step, and a sample in a
record can be made again, exactly, from what the record holds.

Played through the real command line where a user would, as tests/test_resume.py does.
"""

from __future__ import annotations

import shutil

import pytest
import torch

from lmhelpers.checkpoint import load_checkpoint, load_trained
from lmhelpers.cli import main
from lmhelpers.config import TrainConfig, make_config
from lmhelpers.experiment import prepare_data, with_vocab
from lmhelpers.generation import sample_text
from lmhelpers.models import build_model
from lmhelpers.records import load_record
from lmhelpers.report import prompt_samples
from lmhelpers.resume import RunConflict, start_or_resume
from lmhelpers.settings_history import continued
from lmhelpers.training import Trainer, lr_at


def _train(corpus, out, *settings: str, arch: str = "gru", flags: tuple[str, ...] = ()) -> int:
    argv = ["train", "--preset", "smoke", "--arch", arch, "--out", str(out), "--no-progress", *flags]
    for s in (f"dataset={corpus}", "eval_interval=2", *settings):
        argv += ["--set", s]
    return main(argv)


def _files(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished gru run (4 steps at learning rate 0.01) and the corpus it was trained on."""
    root = tmp_path_factory.mktemp("finished")
    corpus = root / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    assert _train(corpus, root / "runs", "max_iters=4", "learning_rate=0.01") == 0
    return corpus, root / "runs"


@pytest.fixture()
def run_dir(finished, tmp_path):
    """A copy of the finished run's --out folder, to try things on."""
    return shutil.copytree(finished[1], tmp_path / "runs")


CORPUS = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
    "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n\n"
) * 40


def _stretches(record_or_state):
    return [
        (s["from_step"], s["to_step"], s["settings"]["learning_rate"], s["settings"]["max_iters"])
        for s in record_or_state["settings_history"]
    ]


def test_another_learning_rate_into_the_same_out_is_another_run_and_the_first_record_survives(
    finished, run_dir, capsys
):
    before = _files(run_dir / "gru")
    assert _train(finished[0], run_dir, "max_iters=4", "learning_rate=0.001") == 2
    err = capsys.readouterr().err
    assert "train.learning_rate: checkpoint 0.01, this run 0.001" in err
    assert "--change-settings" in err and "--restart" in err and "--out" in err  # the ways out
    assert _files(run_dir / "gru") == before  # nothing rewritten, the lock let go
    record = load_record(run_dir / "gru")
    assert record["config"]["train"]["learning_rate"] == 0.01
    assert _stretches(record) == [(0, 4, 0.01, 4)]


def test_a_finished_run_takes_no_other_settings_even_on_purpose(finished, run_dir, capsys):
    """Changed settings that would train no step would only relabel the weights: refused, nothing written."""
    before = _files(run_dir / "gru")
    flags = ("--change-settings",)
    assert _train(finished[0], run_dir, "max_iters=4", "learning_rate=0.001", flags=flags) == 2
    assert "raise max_iters too" in capsys.readouterr().err
    assert _files(run_dir / "gru") == before


def test_fewer_steps_than_the_checkpoint_has_run_are_refused(finished, run_dir, capsys):
    before = _files(run_dir / "gru")
    assert _train(finished[0], run_dir, "max_iters=2", "learning_rate=0.01") == 2
    assert "more than this run's max_iters=2" in capsys.readouterr().err
    assert _files(run_dir / "gru") == before


def test_a_change_on_purpose_continues_and_the_record_says_which_settings_held_when(
    finished, run_dir, capsys
):
    corpus, tmp_path = finished[0], run_dir
    flags = ("--change-settings",)
    assert _train(corpus, tmp_path, "max_iters=8", "learning_rate=0.001", flags=flags) == 0
    out = capsys.readouterr().out
    assert "resumed from" in out and "changed training settings from step 4" in out
    assert "learning_rate 0.01 -> 0.001" in out and "max_iters 4 -> 8" in out

    record = load_record(tmp_path / "gru")
    assert [h["step"] for h in record["history"]] == [0, 2, 4, 6, 8]  # continued, not restarted
    assert record["config"]["train"]["learning_rate"] == 0.001
    assert _stretches(record) == [(0, 4, 0.01, 4), (4, 8, 0.001, 8)]
    # The learning rates in the history are those of each stretch's own settings.
    first, second = (TrainConfig(**s["settings"]) for s in record["settings_history"])
    lrs = {h["step"]: h["lr"] for h in record["history"]}
    assert lrs[2] == pytest.approx(lr_at(1, first)) and lrs[6] == pytest.approx(lr_at(5, second))
    assert _stretches(load_checkpoint(tmp_path / "gru" / "checkpoint.pt")) == _stretches(record)

    # The history survives further resumes: a longer run adds a stretch, the same command adds none.
    assert _train(corpus, tmp_path, "max_iters=10", "learning_rate=0.001") == 0
    assert _train(corpus, tmp_path, "max_iters=10", "learning_rate=0.001") == 0
    record = load_record(tmp_path / "gru")
    assert _stretches(record) == [(0, 4, 0.01, 4), (4, 8, 0.001, 8), (8, 10, 0.001, 10)]


def _trainer(corpus, ckpt, **settings) -> Trainer:
    cfg = make_config("smoke", dataset=str(corpus), arch="gru", eval_interval=2, device="cpu", **settings)
    prepared = prepare_data(cfg)
    cfg = with_vocab(cfg, prepared.tokenizer)
    torch.manual_seed(0)
    model = build_model(cfg.model)
    return Trainer(model, prepared.dataset, cfg, prepared.tokenizer, checkpoint_path=ckpt, progress=False)


def test_optimizer_settings_changed_on_purpose_are_used_not_the_checkpoints(small_corpus, tmp_path):
    first = _trainer(small_corpus, tmp_path / "ck.pt", max_iters=4)
    start_or_resume(first, tmp_path)
    first.fit()
    changed = dict(max_iters=6, weight_decay=0.0, beta2=0.9)
    with pytest.raises(RunConflict, match=r"train\.weight_decay: checkpoint 0\.1, this run 0\.0"):
        start_or_resume(_trainer(small_corpus, tmp_path / "ck.pt", **changed), tmp_path)
    again = _trainer(small_corpus, tmp_path / "ck.pt", **changed)
    assert "changed training settings" in start_or_resume(again, tmp_path, "change-settings")
    decay, no_decay = again.optimizer.param_groups
    assert decay["weight_decay"] == 0.0 and no_decay["weight_decay"] == 0.0
    assert decay["betas"] == no_decay["betas"] == (0.9, 0.9)


def test_the_settings_history_travels_in_every_checkpoint_also_without_start_or_resume(
    finished, run_dir, tmp_path
):
    """Trainer.save and Trainer.resume, called directly as a script would, keep the stretches too."""
    ckpt = run_dir / "gru" / "checkpoint.pt"
    longer = _trainer(finished[0], ckpt, max_iters=6, learning_rate=0.01)
    assert longer.resume() == 4
    longer.fit()
    assert _stretches(load_checkpoint(ckpt)) == [(0, 4, 0.01, 4), (4, 6, 0.01, 6)]
    elsewhere = _trainer(finished[0], tmp_path / "copy.pt", max_iters=6, learning_rate=0.01)
    assert elsewhere.resume(ckpt) == 6
    elsewhere.save()
    assert _stretches(load_checkpoint(tmp_path / "copy.pt")) == [(0, 4, 0.01, 4), (4, 6, 0.01, 6)]


def test_settings_changed_twice_at_one_step_keep_only_what_ran():
    a = make_config("smoke", learning_rate=0.01)
    b, c = a.override(learning_rate=0.005), a.override(learning_rate=0.001)
    once = continued(None, a, 4, b)
    assert [(s["from_step"], s["to_step"]) for s in once] == [(0, 4), (4, 4)]
    twice = continued(once, b, 4, c)  # changed again before any step ran with b
    assert [(s["from_step"], s["settings"]["learning_rate"]) for s in twice] == [(0, 0.01), (4, 0.001)]
    assert [(s["from_step"], s["to_step"]) for s in continued(once, b, 4, a)] == [(0, 4)]  # back to a


@pytest.mark.parametrize("arch", ["gru", "transformer"])
def test_a_sample_in_a_record_is_made_again_exactly_from_what_the_record_holds(finished, tmp_path, arch):
    corpus, runs = finished
    if arch != "gru":  # the fixture's run is a gru
        runs = tmp_path
        assert _train(corpus, runs, "max_iters=4", arch=arch) == 0
    record = load_record(runs / arch)
    trained = load_trained(record["checkpoint"], device="cpu")
    assert record["samples"]
    for s in record["samples"]:
        assert isinstance(s["seed"], int)
        again = sample_text(
            trained.model,
            trained.tokenizer,
            s["prompt"],
            s["max_new_tokens"],
            temperature=s["temperature"],
            top_k=s["top_k"],
            seed=s["seed"],
        )
        assert again == s["text"]


def test_samples_shown_side_by_side_name_a_seed_even_when_none_was_given(finished):
    trained = load_trained(finished[1] / "gru" / "checkpoint.pt", device="cpu")
    seed = trained.config.train.seed
    text = prompt_samples([trained], "All:", max_new_tokens=20, temperature=0.8, seed=None)
    assert f"seed {seed}" in text and "seed None" not in text
    assert sample_text(trained.model, trained.tokenizer, "All:", 20, temperature=0.8, seed=seed) in text
