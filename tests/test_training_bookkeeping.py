"""What the trainer records about a run is what happened: its timings, its checkpoint, its device, its
random state, and the refusal of data or losses it cannot measure honestly."""

from __future__ import annotations

import math
import random
import time

import pytest
import torch

from lmhelpers import TrainingDiverged, build_model, load_checkpoint, make_config, with_vocab
from lmhelpers.data import DataError, TokenDataset, split_text
from lmhelpers.tokenizers import train_tokenizer
from lmhelpers.training import Trainer, lr_at


def _parts(**settings):
    rng = random.Random(1)
    text = "".join(rng.choice("abcdefgh \n") for _ in range(2000))
    train, val = split_text(text, 0.1)
    tok = train_tokenizer("char", text)
    base = dict(arch="transformer", block_size=8, batch_size=4, eval_iters=2, max_iters=6, eval_interval=3)
    cfg = with_vocab(make_config("smoke", **{**base, **settings}), tok)
    return TokenDataset.from_text(train, val, tok), cfg, tok


def _trainer(checkpoint_path=None, device="cpu", seed_init=0, **settings) -> Trainer:
    ds, cfg, tok = _parts(**settings)
    torch.manual_seed(seed_init)
    model = build_model(cfg.model)
    return Trainer(
        model, ds, cfg, tokenizer=tok, device=device, checkpoint_path=checkpoint_path, progress=False
    )


def test_timings_are_measured_from_zero():
    tr = _trainer()
    assert (tr.train_seconds, tr.wall_seconds, tr.tokens_seen, tr.tokens_per_second) == (0.0, 0.0, 0, 0.0)
    tic = time.perf_counter()
    tr.fit()
    elapsed = time.perf_counter() - tic
    assert 0 < tr.train_seconds <= tr.wall_seconds <= elapsed  # no checkpoint: wall time still kept
    assert tr.history[-1]["train_time"] == tr.train_seconds
    walls = [r["wall_time"] for r in tr.history]
    trains = [r["train_time"] for r in tr.history]
    assert 0 <= walls[0] and walls == sorted(walls) and walls[-1] <= tr.wall_seconds
    assert trains[0] == 0.0 and trains == sorted(trains) and all(t <= w for t, w in zip(trains, walls))
    assert tr.tokens_per_second == pytest.approx(6 * 4 * 8 / tr.train_seconds)


def test_resume_restores_timings_step_history_and_checkpoint_path(tmp_path):
    path = tmp_path / "ck.pt"
    first = _trainer(checkpoint_path=path)
    first.fit(until=3)
    assert first.last_checkpoint == path
    state = load_checkpoint(path)
    saved = (state["train_seconds"], state["wall_seconds"], state["tokens_seen"], state["history"])
    assert saved[0] == first.train_seconds > 0 and 0 < saved[1] <= first.wall_seconds
    assert saved[2:] == (first.tokens_seen, first.history)
    again = _trainer(checkpoint_path=path, seed_init=5)
    assert again.last_checkpoint is None
    assert again.resume() == 3
    assert (again.train_seconds, again.wall_seconds, again.tokens_seen, again.history) == saved
    assert again.last_checkpoint == path
    again.fit()
    assert again.train_seconds > saved[0] and again.wall_seconds > saved[1]


def test_explicit_save_records_where(tmp_path):
    tr = _trainer()
    assert tr.save(tmp_path / "x.pt") == tmp_path / "x.pt" == tr.last_checkpoint
    assert (tmp_path / "x.pt").is_file()


def test_the_device_given_wins_and_the_configured_one_is_used_otherwise():
    ds, cfg, tok = _parts(device="cpu")
    tr = Trainer(build_model(cfg.model), ds, cfg, device=None, progress=False)
    assert tr.device == torch.device("cpu")
    if not torch.cuda.is_available():  # the config asks for a GPU, the caller gives the CPU: the CPU
        ds, cfg, tok = _parts(device="cuda")
        tr = Trainer(build_model(cfg.model), ds, cfg, device="cpu", progress=False)
        assert tr.device == torch.device("cpu")


def test_a_split_shorter_than_one_window_is_refused_when_the_trainer_is_made():
    ds, cfg, tok = _parts(block_size=8)
    short = TokenDataset(ds.train, ds.val[:8], val_chars=8)  # 8 tokens: no room for 8 inputs + 1 target
    with pytest.raises(DataError, match=r"val split has 8 tokens, fewer than block_size \+ 1 = 9"):
        Trainer(build_model(cfg.model), short, cfg, device="cpu", progress=False)


def test_the_run_seed_decides_dropout_whatever_the_global_random_state():
    """Two runs with one seed end at the same weights even when the global RNG differs before them;
    another seed gives other dropout masks (and batches), hence other weights."""
    results = []
    for global_seed, run_seed in ((1, 7), (2, 7), (1, 8)):
        ds, cfg, tok = _parts(dropout=0.5, seed=run_seed, max_iters=3)
        torch.manual_seed(0)
        model = build_model(cfg.model)
        torch.manual_seed(global_seed)
        tr = Trainer(model, ds, cfg, device="cpu", progress=False)
        tr.fit()
        results.append(torch.cat([p.detach().flatten() for p in tr.model.parameters()]))
    assert torch.equal(results[0], results[1])
    assert not torch.equal(results[0], results[2])


def test_a_model_left_in_eval_mode_still_trains_with_dropout():
    tr = _trainer(dropout=0.5, max_iters=2, eval_interval=2)
    tr.model.eval()
    modes = []
    forward = tr.forward

    def spy(x, y=None):
        if torch.is_grad_enabled():
            modes.append(tr.model.training)
        return forward(x, y)

    tr.forward = spy
    tr.fit()
    assert modes == [True, True]


def test_a_non_finite_validation_loss_stops_the_run():
    tr = _trainer()
    forward = tr.forward

    def nan_in_evaluation(x, y=None):
        logits, loss = forward(x, y)
        return logits, loss if torch.is_grad_enabled() else loss * float("nan")

    tr.forward = nan_in_evaluation
    with pytest.raises(TrainingDiverged, match="nan"):
        tr.fit()
    assert tr.history == []  # no row with a NaN figure was recorded


def test_the_schedule_ends_at_the_final_rate_and_stays_there():
    cfg = make_config("smoke", max_iters=5, warmup_iters=4, learning_rate=1e-2, min_lr=1e-3).train
    assert lr_at(4, cfg) == pytest.approx(1e-2)  # one decay step: the peak, then the end
    assert lr_at(5, cfg) == pytest.approx(1e-3)
    for step in (6, 9, 50):  # past max_iters (fit never goes there, but lr_at is public)
        assert lr_at(step, cfg) == pytest.approx(1e-3)
    long = make_config("smoke", max_iters=20, warmup_iters=0, learning_rate=1e-2, min_lr=0.0).train
    assert lr_at(10, long) == pytest.approx(5e-3) and lr_at(30, long) == pytest.approx(0.0, abs=1e-15)
    assert math.isclose(lr_at(0, long), 1e-2)


def test_checkpoints_are_written_every_checkpoint_interval_and_at_the_end(tmp_path):
    tr = _trainer(checkpoint_path=tmp_path / "ck.pt", max_iters=7, eval_interval=3, checkpoint_interval=2)
    saved_at = []
    save = tr.save

    def spy(path=None):
        saved_at.append(tr.step)
        return save(path)

    tr.save = spy
    tr.fit(until=5)
    assert saved_at == [2, 4, 5]  # every 2 steps, and where this session stops
    tr.fit()
    assert saved_at == [2, 4, 5, 6, 7]


def test_without_a_checkpoint_path_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tr = _trainer(max_iters=4, eval_interval=2)
    tr.fit()
    assert list(tmp_path.iterdir()) == [] and tr.last_checkpoint is None
