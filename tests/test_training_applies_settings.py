"""Every setting the training loop claims to apply, observed applied inside the loop.

Nothing here reads a setting back from the config or from the schedule function: the optimizer's
``step`` is wrapped to see the learning rate, betas and gradients it is actually given, parameters are
compared before and after a step, the forward pass is probed for dropout, autocast and batch shapes, and
the expected values are computed here from the settings.
"""

from __future__ import annotations

import math
import random

import pytest
import torch

from lmhelpers import build_model, make_config, with_vocab
from lmhelpers.data import TokenDataset, split_text
from lmhelpers.tokenizers import train_tokenizer
from lmhelpers.training import Trainer


def _corpus() -> str:
    rng = random.Random(0)
    return "".join(rng.choice("abcdefghijklmnop \n") for _ in range(3000))


def _trainer(arch: str = "transformer", **settings) -> Trainer:
    text = _corpus()
    train, val = split_text(text, 0.1)
    tok = train_tokenizer("char", text)
    ds = TokenDataset.from_text(train, val, tok)
    base = dict(arch=arch, block_size=8, batch_size=4, eval_iters=2, max_iters=8, eval_interval=4)
    cfg = with_vocab(make_config("smoke", **{**base, **settings}), tok)
    torch.manual_seed(0)
    return Trainer(build_model(cfg.model), ds, cfg, tokenizer=tok, device="cpu", progress=False)


class _StepSpy:
    """Wraps ``optimizer.step``: records each group's lr, betas and weight decay and every gradient,
    as the optimizer is about to use them."""

    def __init__(self, trainer: Trainer):
        self.trainer, self.calls = trainer, []
        self._step = trainer.optimizer.step
        trainer.optimizer.step = self

    def __call__(self, *args, **kwargs):
        opt = self.trainer.optimizer
        self.calls.append(
            {
                "lr": [g["lr"] for g in opt.param_groups],
                "betas": [tuple(g["betas"]) for g in opt.param_groups],
                "weight_decay": [g["weight_decay"] for g in opt.param_groups],
                "grads": {
                    n: p.grad.detach().clone()
                    for n, p in self.trainer.model.named_parameters()
                    if p.grad is not None
                },
            }
        )
        return self._step(*args, **kwargs)


def _expected_lr(step: int, peak: float, final: float, warmup: int, total: int) -> float:
    """The documented schedule, written out: linear warm-up to the peak, then a half cosine to final."""
    if step < warmup:
        return peak * (step + 1) / (warmup + 1)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return final + (peak - final) * (1 + math.cos(math.pi * progress)) / 2


# ------------------------------------------------------------------------------ learning rate


@pytest.mark.parametrize("min_lr, final", [(1e-3, 1e-3), (None, 1e-3), (0.0, 0.0)])
def test_the_optimizer_steps_with_the_scheduled_learning_rate(min_lr, final):
    tr = _trainer(max_iters=12, warmup_iters=3, learning_rate=1e-2, min_lr=min_lr, eval_interval=6)
    spy = _StepSpy(tr)
    tr.fit()
    assert len(spy.calls) == 12
    want = [_expected_lr(s, 1e-2, final, 3, 12) for s in range(12)]
    for step, call in enumerate(spy.calls):
        assert call["lr"] == pytest.approx([want[step]] * 2, rel=1e-9, abs=1e-15), step
    # Spot values, by hand: warm-up quarters, the peak right after it, the half-way point of the decay.
    assert want[0] == pytest.approx(2.5e-3) and want[3] == pytest.approx(1e-2)
    assert want[3 + 9 // 2] == pytest.approx(final + (1e-2 - final) * (1 + math.cos(math.pi * 4 / 9)) / 2)
    # The history shows the rate the last step before each evaluation really used.
    assert [r["lr"] for r in tr.history] == pytest.approx([want[0], want[5], want[11]], rel=1e-9)


def test_the_first_update_moves_parameters_by_the_scheduled_rate():
    # Adam's first step moves every parameter with a nonzero gradient by lr (the update is g / |g|).
    tr = _trainer(warmup_iters=4, learning_rate=1e-2, weight_decay=0.0)
    before = {n: p.detach().clone() for n, p in tr.model.named_parameters()}
    tr.train_step()
    moved = torch.cat([(p.detach() - before[n]).abs().flatten() for n, p in tr.model.named_parameters()])
    moved = moved[moved > 0]
    assert moved.numel() > 1000
    assert moved.median().item() == pytest.approx(1e-2 / 5, rel=1e-3)  # lr * (0 + 1) / (4 + 1)
    assert tr.step == 1


def test_optimizer_betas_are_the_configured_ones():
    tr = _trainer(beta1=0.7, beta2=0.9, max_iters=2)
    spy = _StepSpy(tr)
    tr.fit()
    assert all(c["betas"] == [(0.7, 0.9)] * 2 for c in spy.calls) and len(spy.calls) == 2


# ------------------------------------------------------------------------------ gradient clipping


class _RawGrads:
    """The gradient of each parameter before clipping, summed over its uses (hooks fire per use)."""

    def __init__(self, model: torch.nn.Module):
        self.grads: dict[str, torch.Tensor] = {}
        for name, p in model.named_parameters():
            p.register_hook(lambda g, name=name: self._add(name, g))

    def _add(self, name, g):
        self.grads[name] = self.grads[name] + g if name in self.grads else g.detach().clone()

    def take(self) -> dict[str, torch.Tensor]:
        out, self.grads = self.grads, {}
        return out


def _norm(grads: dict[str, torch.Tensor]) -> float:
    return torch.sqrt(sum((g.double() ** 2).sum() for g in grads.values())).item()


@pytest.mark.parametrize("arch", ["transformer", "gru"])
def test_gradients_are_clipped_by_their_total_norm(arch):
    clip = 0.05
    tr = _trainer(arch, grad_clip=clip, max_iters=3)
    raw, spy = _RawGrads(tr.model), _StepSpy(tr)
    raws = []
    for _ in range(3):
        tr.train_step()
        raws.append(raw.take())
    for before, call in zip(raws, spy.calls):
        norm = _norm(before)
        assert norm > 2 * clip  # these gradients need clipping
        assert _norm(call["grads"]) == pytest.approx(clip, rel=1e-4)
        for name, g in before.items():  # one scale for all: the direction is kept
            torch.testing.assert_close(call["grads"][name], g * (clip / norm), rtol=1e-4, atol=1e-9)


def test_no_clipping_when_grad_clip_is_zero_or_above_the_norm():
    for clip in (0.0, 1e6):
        tr = _trainer(grad_clip=clip, max_iters=2)
        raw, spy = _RawGrads(tr.model), _StepSpy(tr)
        tr.train_step()
        before = raw.take()
        assert _norm(before) > 0.1
        for name, g in before.items():
            torch.testing.assert_close(spy.calls[0]["grads"][name], g, rtol=1e-6, atol=0.0)


def test_gradients_are_unscaled_before_clipping_under_a_grad_scaler():
    # float16 on CUDA scales the loss (by 1024 here); a CPU GradScaler stands in for CUDA's.
    clip = 0.05
    tr = _trainer(grad_clip=clip, max_iters=2)
    tr.scaler = torch.amp.GradScaler("cpu", init_scale=1024.0)
    raw, spy = _RawGrads(tr.model), _StepSpy(tr)
    tr.train_step()
    scaled = raw.take()
    norm = _norm(scaled)
    assert norm > 1024 * 2 * clip
    assert _norm(spy.calls[0]["grads"]) == pytest.approx(clip, rel=1e-4)  # the clip is on the true gradient
    for name, g in scaled.items():
        torch.testing.assert_close(spy.calls[0]["grads"][name], g * (clip / norm), rtol=1e-4, atol=1e-9)


# ------------------------------------------------------------------------------ weight decay


def _zero_gradient_step(tr: Trainer) -> None:
    """One real train_step whose loss is multiplied by zero: every gradient is exactly zero, so a
    parameter can only move through weight decay."""
    forward = tr.forward

    def zero_loss(x, y=None):
        logits, loss = forward(x, y)
        return logits, loss * 0.0

    tr.forward = zero_loss
    tr.train_step()
    tr.forward = forward


@pytest.mark.parametrize("arch", ["transformer", "lstm"])
def test_weight_decay_shrinks_matrices_only(arch):
    tr = _trainer(arch, weight_decay=0.5, learning_rate=0.1, warmup_iters=0, max_iters=100, bias=True)
    spy = _StepSpy(tr)
    before = {n: p.detach().clone() for n, p in tr.model.named_parameters()}
    _zero_gradient_step(tr)
    lr = spy.calls[0]["lr"][0]
    assert lr == pytest.approx(0.1)
    matrices = vectors = 0
    for name, p in tr.model.named_parameters():
        if p.dim() >= 2:  # weight matrices and embeddings: p <- p * (1 - lr * weight_decay)
            torch.testing.assert_close(p.detach(), before[name] * (1 - 0.1 * 0.5), rtol=1e-6, atol=0)
            matrices += 1
        else:  # biases and LayerNorm gains: untouched
            assert torch.equal(p.detach(), before[name]), name
            vectors += 1
    assert matrices >= 3 and vectors >= 3


# ------------------------------------------------------------------------------ dropout, precision, shapes


class _ForwardProbe:
    """Wraps ``trainer.forward``; for each call records whether gradients are on (a training step) or
    off (evaluation), whether dropout is active (two extra passes on the same input differ), the
    autocast state, the logits dtype and the batch shape."""

    def __init__(self, trainer: Trainer):
        self.trainer, self.calls = trainer, []
        self._forward = trainer.forward
        trainer.forward = self

    def __call__(self, x, y=None):
        training = torch.is_grad_enabled()
        with torch.no_grad():
            a, b = self.trainer.model(x)[0], self.trainer.model(x)[0]
        logits, loss = self._forward(x, y)
        self.calls.append(
            {
                "training": training,
                "dropout_active": not torch.equal(a, b),
                "autocast": torch.is_autocast_enabled("cpu"),
                "autocast_dtype": torch.get_autocast_dtype("cpu"),
                "logits_dtype": logits.dtype,
                "shape": tuple(x.shape),
            }
        )
        return logits, loss


@pytest.mark.parametrize("arch", ["transformer", "lstm"])
def test_dropout_is_on_for_training_steps_and_off_for_evaluation(arch):
    tr = _trainer(arch, dropout=0.5, n_layer=2, max_iters=6, eval_interval=3, eval_iters=2)
    probe = _ForwardProbe(tr)
    tr.fit()
    # Evaluation at 0, training steps 1-3, evaluation at 3, steps 4-6, evaluation at 6.
    pattern = [c["training"] for c in probe.calls]
    assert pattern == [False] * 4 + [True] * 3 + [False] * 4 + [True] * 3 + [False] * 4
    assert all(c["dropout_active"] == c["training"] for c in probe.calls)


def test_without_dropout_training_steps_are_deterministic():
    tr = _trainer(dropout=0.0, max_iters=2)
    probe = _ForwardProbe(tr)
    tr.fit()
    assert not any(c["dropout_active"] for c in probe.calls)


@pytest.mark.parametrize("dtype, expected", [("bfloat16", torch.bfloat16), ("float32", None)])
def test_the_requested_precision_is_used_inside_the_loop(dtype, expected):
    tr = _trainer(dtype=dtype, max_iters=2, eval_interval=2)
    probe = _ForwardProbe(tr)
    tr.fit()
    assert probe.calls and {c["training"] for c in probe.calls} == {True, False}
    for c in probe.calls:  # training steps and evaluations alike
        if expected is None:
            assert not c["autocast"] and c["logits_dtype"] == torch.float32
        else:
            assert c["autocast"] and c["autocast_dtype"] == expected and c["logits_dtype"] == expected
    assert all(math.isfinite(r["val_loss"]) for r in tr.history)


def test_batch_shape_evaluation_batches_and_schedule_are_the_configured_ones():
    tr = _trainer(batch_size=5, block_size=7, eval_iters=3, max_iters=7, eval_interval=3)
    probe = _ForwardProbe(tr)
    tr.fit()
    assert [r["step"] for r in tr.history] == [0, 3, 6, 7]  # every eval_interval, and at max_iters
    assert [r["tokens"] for r in tr.history] == [0, 3 * 35, 6 * 35, 7 * 35]
    assert tr.step == 7 and tr.tokens_seen == 7 * 5 * 7
    assert all(c["shape"] == (5, 7) for c in probe.calls)
    assert sum(c["training"] for c in probe.calls) == 7
    assert sum(not c["training"] for c in probe.calls) == 4 * 2 * 3  # 4 evaluations x 2 splits x 3


def test_fit_until_stops_there_and_max_iters_caps_it():
    tr = _trainer(max_iters=6, eval_interval=4)
    probe = _ForwardProbe(tr)
    tr.fit(until=2)
    assert tr.step == 2 and sum(c["training"] for c in probe.calls) == 2
    tr.fit(until=50)
    assert tr.step == 6 and sum(c["training"] for c in probe.calls) == 6
    assert [r["step"] for r in tr.history] == [0, 4, 6]


def test_the_training_batches_come_from_the_training_split():
    tr = _trainer(max_iters=3)
    probe_batches = []
    forward = tr.forward

    def spy(x, y=None):
        if torch.is_grad_enabled():
            probe_batches.append((x, y))
        return forward(x, y)

    tr.forward = spy
    tr.fit()
    train = tr.dataset.train.tolist()
    text = "".join(map(chr, [c + 0x100 for c in train]))  # each id one character: find windows as substrings
    for x, y in probe_batches:
        assert torch.equal(x[:, 1:], y[:, :-1])
        for row_x, row_y in zip(x.tolist(), y.tolist()):
            window = "".join(chr(c + 0x100) for c in row_x + row_y[-1:])
            assert window in text


def test_the_training_batches_do_not_depend_on_the_model():
    # The same seed gives both families the same windows, whatever random numbers their dropout draws.
    batches = {}
    for arch in ("transformer", "lstm"):
        tr = _trainer(arch, dropout=0.3, max_iters=3)
        seen = batches[arch] = []
        forward = tr.forward

        def spy(x, y=None, forward=forward, seen=seen):
            seen.append(x.clone())
            return forward(x, y)

        tr.forward = spy
        for _ in range(3):
            tr.train_step()
    assert len(batches["lstm"]) == 3
    assert all(torch.equal(a, b) for a, b in zip(batches["transformer"], batches["lstm"]))


def test_stateful_steps_carry_the_state_under_the_requested_precision():
    tr = _trainer(
        "gru", stateful=True, dtype="bfloat16", max_iters=3
    )  # (oneDNN has no bf16 LSTM on some CPUs)
    calls = []
    forward = tr.forward

    def probe(x, y=None, state=None):
        calls.append(
            {
                "autocast": torch.is_autocast_enabled("cpu"),
                "dtype": torch.get_autocast_dtype("cpu"),
                "given": state,
            }
        )
        logits, loss, left = forward(x, y, state=state)
        calls[-1]["left"] = left
        return logits, loss, left

    tr.forward = probe
    for _ in range(3):
        tr.train_step()
    assert len(calls) == 3
    assert all(c["autocast"] and c["dtype"] == torch.bfloat16 for c in calls)
    assert not calls[0]["given"].any()  # a pass over the streams begins: the zero state
    for before, after in zip(calls, calls[1:]):  # each window starts where the last one ended, detached
        left, given = before["left"], after["given"]
        assert left.abs().sum() > 0 and torch.equal(left.detach(), given) and not given.requires_grad
