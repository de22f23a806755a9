"""What the trainer records about a run is what happened: its timings, its checkpoint, its device, its
random state, and the refusal of data or losses it cannot measure honestly."""

from __future__ import annotations

import math
import random
import signal
import time
from pathlib import Path

import pytest
import torch

import lmhelpers.training as training
from lmhelpers import TrainingDiverged, build_model, load_checkpoint, make_config, threads, with_vocab
from lmhelpers.data import DataError, TokenDataset, split_text
from lmhelpers.interrupt import StopRequests, TrainingInterrupted
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


def test_save_without_a_path_writes_checkpoint_pt_where_resume_looks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tr = _trainer()
    assert tr.save() == Path("checkpoint.pt") == tr.last_checkpoint
    assert (tmp_path / "checkpoint.pt").is_file()
    assert _trainer(seed_init=5).resume() == 0


def test_evaluation_batches_go_to_the_trainers_device():
    tr = _trainer()
    placed = []
    windows = tr.dataset.windows

    def spy(data, starts, block_size, *device):
        placed.append(device)
        return windows(data, starts, block_size, *device)

    tr.dataset.windows = spy
    tr.evaluate()
    assert placed == [(tr.device,)] * 4  # eval_iters=2 batches of each split


def test_thread_changes_are_noted_at_their_step_and_kept_over_sessions(monkeypatch):
    """Each fit keeps the thread changes of its own session (not those of earlier runs in the process),
    added to those of the sessions before, each with the step it happened at."""
    earlier = {"step": 99, "threads": 1, "others_cores": 1.0}  # another run in this process
    monkeypatch.setattr(threads, "_state", {**threads._state, "changes": [earlier]})
    steps = []

    def adjust(device="cpu", step=None):
        steps.append(step)
        if step in (2, 5):  # two changes, during training steps 2 and 5
            threads._state["changes"].append({"step": step, "threads": step % 2 + 1, "others_cores": 1.0})
        return torch.get_num_threads()

    monkeypatch.setattr(threads, "adjust", adjust)
    tr = _trainer()
    tr.fit(until=3)
    tr.fit()
    assert [c["step"] for c in tr.thread_changes] == [2, 5]
    # 4 evaluation batches at steps 0, 3 and 6, one call per training step
    assert steps == [0] * 4 + [1, 2, 3] + [3] * 4 + [4, 5, 6] + [6] * 4


class _Bar:
    """What fit shows on its progress bar."""

    def __init__(self, total, initial=0, desc="", enabled=True):
        self.n, self.postfix, self.closed = initial, [], False

    def set_postfix(self, **shown):
        self.postfix.append(shown)

    def update(self, n=1):
        self.n += n

    def close(self):
        self.closed = True


def test_the_progress_bar_counts_steps_and_shows_the_last_loss_and_rate(monkeypatch):
    bars = []
    monkeypatch.setattr(training, "progress_bar", lambda *a, **k: bars.append(_Bar(*a, **k)) or bars[-1])
    tr = _trainer(learning_rate=1e-2, min_lr=1e-3, warmup_iters=0)
    losses = []
    train_step = tr.train_step
    tr.train_step = lambda: losses.append(train_step()) or losses[-1]
    tr.fit()
    t = tr.config.train
    (bar,) = bars
    assert bar.n == 6 and bar.closed
    assert bar.postfix == [  # at each evaluation: the loss and learning rate of the step just taken
        {"loss": f"{losses[i].item():.3f}", "lr": f"{lr_at(i, t):.1e}"} for i in (2, 5)
    ]
    # (the rates of the steps around them differ at the precision shown, so another step's would show)
    assert len({p["lr"] for p in bar.postfix} | {f"{lr_at(i, t):.1e}" for i in (1, 3, 4, 6)}) == 6


def _nan_from(tr: Trainer, step: int) -> None:
    """The training loss becomes NaN from the step that ends at ``step`` on."""
    forward = tr.forward

    def nan_forward(x, y=None):
        logits, loss = forward(x, y)
        return logits, loss * float("nan") if torch.is_grad_enabled() and tr.step >= step - 1 else loss

    tr.forward = nan_forward


def test_divergence_stops_training_within_25_steps():
    tr = _trainer(max_iters=30, eval_interval=30)
    _nan_from(tr, 2)
    with pytest.raises(TrainingDiverged, match="at step 2"):
        tr.fit()
    assert tr.step == 25  # the loss is read (a GPU sync) and checked every 25 steps, and at evaluations


def test_a_nan_in_the_last_step_of_a_session_is_never_saved(tmp_path):
    tr = _trainer(checkpoint_path=tmp_path / "ck.pt")
    _nan_from(tr, 5)
    with pytest.raises(TrainingDiverged, match="at step 5"):
        tr.fit(until=5)
    assert load_checkpoint(tmp_path / "ck.pt")["step"] == 3


class CtrlCNotHandled(Exception):
    """Ctrl-C reached the handler outside fit's: in a terminal, a KeyboardInterrupt."""


@pytest.fixture()
def ctrl_c():
    """Presses Ctrl-C without a signal: calls the SIGINT handler in place (fit's while it runs). Outside
    fit's, the handler raises CtrlCNotHandled, not a KeyboardInterrupt that would stop pytest itself."""

    def not_handled(signum, frame):
        raise CtrlCNotHandled

    before = signal.signal(signal.SIGINT, not_handled)
    yield lambda: signal.getsignal(signal.SIGINT)(signal.SIGINT, None)
    signal.signal(signal.SIGINT, before)


def _ctrl_c_during(tr: Trainer, step: int, press) -> list[int]:
    """Ctrl-C while ``tr`` runs training step ``step``; returns the steps of the checkpoints it saves."""
    train_step, save, saved = tr.train_step, tr.save, []

    def step_with_ctrl_c():
        if tr.step == step - 1:
            press()
        return train_step()

    def spy(path=None):
        saved.append(tr.step)
        return save(path)

    tr.train_step, tr.save = step_with_ctrl_c, spy
    return saved


def _raised(call) -> BaseException | None:
    """What ``call`` raised, a KeyboardInterrupt such as TrainingInterrupted included, or None."""
    try:
        call()
    except BaseException as e:
        return e
    return None


@pytest.mark.parametrize("step", [2, 3])  # 3 ends with a checkpoint of its own (eval_interval): written once
def test_ctrl_c_saves_the_step_reached_once_with_its_timings(tmp_path, ctrl_c, step):
    tr = _trainer(checkpoint_path=tmp_path / "ck.pt")
    saved = _ctrl_c_during(tr, step, ctrl_c)
    stopped = _raised(tr.fit)
    assert type(stopped) is TrainingInterrupted, stopped
    assert (stopped.step, stopped.checkpoint, saved) == (step, tmp_path / "ck.pt", [step])
    state = load_checkpoint(tmp_path / "ck.pt")
    assert state["step"] == step and 0 < state["train_seconds"] <= state["wall_seconds"] <= tr.wall_seconds


def test_the_step_a_checkpoint_holds_is_known_whoever_saved_or_stepped(tmp_path):
    tr = _trainer(checkpoint_path=tmp_path / "ck.pt")
    assert tr.saved_step is None
    tr.fit(until=2)
    tr.train_step()  # a step outside fit: the checkpoint on disk still holds step 2
    assert (tr.step, tr.saved_step, load_checkpoint(tmp_path / "ck.pt")["step"]) == (3, 2, 2)
    again = _trainer(checkpoint_path=tmp_path / "ck.pt")
    again.resume()
    assert again.saved_step == 2 and again.last_checkpoint == tmp_path / "ck.pt"
    tr.save(tmp_path / "other.pt")
    assert (tr.saved_step, tr.last_checkpoint) == (3, tmp_path / "other.pt")


def test_ctrl_c_during_the_last_step_lets_the_session_end_as_usual(tmp_path, ctrl_c):
    tr = _trainer(checkpoint_path=tmp_path / "ck.pt")
    saved = _ctrl_c_during(tr, 4, ctrl_c)
    assert _raised(lambda: tr.fit(until=4)) is None
    assert (tr.step, saved, tr.history[-1]["step"]) == (4, [3, 4], 3)


def test_ctrl_c_never_saves_a_diverged_model(tmp_path, ctrl_c):
    tr = _trainer(checkpoint_path=tmp_path / "ck.pt")
    _nan_from(tr, 2)
    saved = _ctrl_c_during(tr, 2, ctrl_c)
    stopped = _raised(tr.fit)
    assert type(stopped) is TrainingDiverged and "at step 2" in str(stopped), stopped
    assert saved == [] and not (tmp_path / "ck.pt").exists()


@pytest.fixture()
def ctrl_c_as_fit_starts(ctrl_c, monkeypatch):
    """Ctrl-C right after fit installs its handler, before its first step."""

    class PressedAtOnce(StopRequests):
        def __enter__(self):
            super().__enter__()
            ctrl_c()
            return self

    monkeypatch.setattr(training, "StopRequests", PressedAtOnce)


def test_ctrl_c_before_the_first_step_names_the_checkpoint_that_holds_the_step(
    tmp_path, ctrl_c_as_fit_starts
):
    tr = _trainer()  # no checkpoint path: only the one saved by hand holds the step
    tr.train_step()
    tr.save(tmp_path / "mine.pt")
    stopped = _raised(tr.fit)
    assert type(stopped) is TrainingInterrupted, stopped
    assert (stopped.step, stopped.checkpoint) == (1, tmp_path / "mine.pt")


@pytest.mark.parametrize("steps", [1, 2])
def test_ctrl_c_before_the_first_step_saves_a_step_no_checkpoint_holds(tmp_path, ctrl_c_as_fit_starts, steps):
    tr = _trainer(checkpoint_path=tmp_path / "ck.pt")
    for _ in range(steps):  # steps taken outside fit (as the benchmark does): no checkpoint holds them
        tr.train_step()
    stopped = _raised(tr.fit)
    assert type(stopped) is TrainingInterrupted, stopped
    assert (stopped.step, stopped.checkpoint) == (steps, tmp_path / "ck.pt")
    assert load_checkpoint(tmp_path / "ck.pt")["step"] == steps


def test_ctrl_c_before_any_step_saves_nothing(tmp_path, ctrl_c_as_fit_starts):
    tr = _trainer(checkpoint_path=tmp_path / "ck.pt")
    stopped = _raised(tr.fit)
    assert type(stopped) is TrainingInterrupted, stopped
    assert (stopped.step, stopped.checkpoint) == (0, None) and not (tmp_path / "ck.pt").exists()


def test_ctrl_c_never_names_a_checkpoint_a_step_behind(tmp_path, ctrl_c_as_fit_starts):
    tr = _trainer()  # no checkpoint path: Ctrl-C cannot save, and the one saved by hand holds step 1
    tr.train_step()
    tr.save(tmp_path / "mine.pt")
    tr.train_step()
    stopped = _raised(tr.fit)
    assert type(stopped) is TrainingInterrupted, stopped
    assert (stopped.step, stopped.checkpoint) == (2, None)
