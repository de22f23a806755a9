"""Checks for the notebooks' exercises, and ``assert_close`` for their build-it-yourself cells.

An exercise asks for one function. Its check runs that function and the reference on a few seeded random
inputs (tiny tensors, short id lists) and answers with a :class:`CheckResult`: truthy and shown as
``correct: merge (6 cases)``, or a short hint naming the failing case and what was wrong (the shape, the
largest difference, or the exception your code raised) plus a tip for that exercise (:mod:`lmhelpers.hints`),
in the learner's language. The reference is the real implementation wherever one exists (``nn.LSTMCell``,
``scaled_dot_product_attention``, this package's attention module and ``build_model``), so a check teaches
what the real thing does; :mod:`lmhelpers.solutions` serves only where none exists. A check never raises
for a wrong answer, so a notebook goes on; ``assert_close`` does raise, because a hand-built piece that
differs from the package's should stop the notebook right there. ``EXERCISES`` lists every check, by name,
with its notebook.
Notebook 03's modules to write (classes, checked with the package's weights loaded into them) are checked
in :mod:`lmhelpers.build_gpt`, whose names are re-exported here.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from . import solutions
from .build_gpt import (
    check_Block,
    check_FeedForward,
    check_GPT,
    check_Head,
    check_MultiHeadAttention,
    load_package_weights,
    package_weights,
    yours_or_reference,
)
from .checking import (
    EXERCISES,
    Case,
    CheckResult,
    Exercise,
    _exercise,
    _randn,
    _run,
    _seeded_module,
    assert_close,
    check,
    exercise_table,
    hint,
)
from .language import tr

__all__ = [
    "EXERCISES",
    "CheckResult",
    "Exercise",
    "assert_close",
    "check",
    "exercise_table",
    "hint",
    "load_package_weights",
    "package_weights",
    "yours_or_reference",
    "check_Head",
    "check_MultiHeadAttention",
    "check_FeedForward",
    "check_Block",
    "check_GPT",
]


# ------------------------------------------------------------------------------ helpers for inputs
def _cell_weights(cell: nn.Module) -> list[Tensor]:
    return [getattr(cell, n).detach().clone() for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def _attention_linears(attn: nn.Module) -> tuple[nn.Linear, nn.Linear]:
    """The fused q/k/v Linear and the output Linear of the package's attention module."""
    fused = next(getattr(attn, n) for n in ("qkv", "c_attn") if hasattr(attn, n))
    proj = next(getattr(attn, n) for n in ("proj", "c_proj") if hasattr(attn, n))
    return fused, proj


def _future_is_zero(weights: Tensor) -> str | None:
    T = weights.size(-1)
    leak = weights.detach()[..., torch.ones(T, T, dtype=torch.bool).triu(1)]
    if leak.numel() and leak.ne(0).any():
        return tr(
            "weights above the diagonal (the future) must be exactly 0, not up to {leak:.3g}",
            leak=leak.abs().max(),
        )
    return None


# ------------------------------------------------------------------------------ 00: sizes
@_exercise("00")
def check_transformer_params(fn: Callable[..., Any]) -> CheckResult:
    """``fn(n_layer, n_embd, vocab_size, block_size, bias, tie_weights) -> int``, compared with
    ``sum(p.numel() for p in build_model(cfg).parameters())`` (which yields a tied matrix once)."""
    from .config import ModelConfig
    from .models import build_model

    cases = []
    configs = [(1, 8, 11, 4, True, True), (2, 16, 50, 8, True, False), (3, 12, 7, 16, False, True)]
    for values in configs + [(2, 8, 30, 5, False, False)]:
        kw = dict(zip(("n_layer", "n_embd", "vocab_size", "block_size", "bias", "tie_weights"), values))
        model = _seeded_module(0, lambda kw=kw: build_model(ModelConfig(arch="transformer", n_head=4, **kw)))
        cases.append(Case(values, sum(p.numel() for p in model.parameters())))
    return _run("transformer_params", fn, cases)


@_exercise("00")
def check_logits_bytes(fn: Callable[..., Any]) -> CheckResult:
    """``fn(batch_size, block_size, vocab_size) -> int`` bytes, compared with ``.nbytes`` of a float32
    [B, T, V] tensor on the ``meta`` device (which has a size but allocates nothing)."""
    sizes = [(64, 256, 50257), (32, 64, 65), (1, 1, 10), (12, 64, 10000)]
    cases = [Case(s, torch.empty(*s, dtype=torch.float32, device="meta").nbytes) for s in sizes]
    return _run("logits_bytes", fn, cases)


# ------------------------------------------------------------------------------ 01: BPE by hand
@_exercise("01")
def check_count_pairs(fn: Callable[..., Any]) -> CheckResult:
    """``fn(ids: list[int]) -> dict``: (a, b) -> how often b directly follows a. Compared exactly with
    ``solutions.count_pairs`` (a ``Counter`` is a dict, so it passes too)."""
    rng = random.Random(1)
    inputs = [[1, 1, 1], [7], []] + [[rng.randrange(4) for _ in range(rng.randint(4, 14))] for _ in range(4)]
    cases = [Case((ids,), solutions.count_pairs(ids)) for ids in inputs]
    return _run("count_pairs", fn, cases)


@_exercise("01")
def check_merge(fn: Callable[..., Any]) -> CheckResult:
    """``fn(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]``, non-overlapping, left to
    right: ``merge([1, 1, 1], (1, 1), 9) == [9, 1]``. Compared exactly with ``solutions.merge``."""
    rng = random.Random(2)
    # the pair may be missing, overlap itself, end the list, or the list may be empty
    inputs = [([1, 1, 1], (1, 1), 9), ([5, 6, 5], (6, 6), 9), ([3, 4, 3, 4], (3, 4), 8), ([], (1, 2), 9)]
    for k in range(4):
        ids = [rng.randrange(3) for _ in range(rng.randint(6, 14))]
        at = rng.randrange(len(ids) - 1)
        inputs.append((ids, (ids[at], ids[at + 1]), 100 + k))
    cases = [Case(args, solutions.merge(*args)) for args in inputs]
    return _run("merge", fn, cases)


@_exercise("01")
def check_bits_per_char(fn: Callable[..., Any]) -> CheckResult:
    """``fn(mean_loss_nats, n_tokens, n_chars) -> float``, compared with ``metrics.bits_per_char``."""
    from .metrics import bits_per_char

    rng = random.Random(3)
    inputs = [(1.3, 1000, 1000), (4.2, 250, 1000)]
    inputs += [
        (round(rng.uniform(0.5, 6), 3), rng.randint(100, 2000), rng.randint(500, 3000)) for _ in range(3)
    ]
    cases = [Case(a, bits_per_char(a[0], a[1] / a[2])) for a in inputs]
    return _run("bits_per_char", fn, cases, atol=1e-9, rtol=1e-6)


# ------------------------------------------------------------------------------ 02: recurrent cells
@_exercise("02")
def check_rnn_step(fn: Callable[..., Any]) -> CheckResult:
    """``fn(x [B, I], h [B, H], W_ih [H, I], W_hh [H, H], b_ih [H], b_hh [H]) -> h_next [B, H]``,
    compared with ``nn.RNNCell`` holding the same weights."""
    cases = []
    for seed in range(4):
        cell = _seeded_module(seed, lambda: nn.RNNCell(4, 5))
        x, h = _randn(seed, (3, 4), (3, 5))
        with torch.no_grad():
            cases.append(Case((x, h, *_cell_weights(cell)), cell(x, h)))
    return _run("rnn_step", fn, cases)


@_exercise("02")
def check_lstm_step(fn: Callable[..., Any]) -> CheckResult:
    """``fn(x [B, I], h [B, H], c [B, H], W_ih [4H, I], W_hh [4H, H], b_ih [4H], b_hh [4H]) ->
    (h_next, c_next)``, compared with ``nn.LSTMCell`` holding the same weights."""
    cases = []
    for seed in range(4):
        cell = _seeded_module(seed, lambda: nn.LSTMCell(4, 5))
        x, h, c = _randn(seed, (3, 4), (3, 5), (3, 5))
        with torch.no_grad():
            cases.append(Case((x, h, c, *_cell_weights(cell)), cell(x, (h, c))))
    return _run("lstm_step", fn, cases)


@_exercise("02")
def check_gru_step(fn: Callable[..., Any]) -> CheckResult:
    """``fn(x [B, I], h [B, H], W_ih [3H, I], W_hh [3H, H], b_ih [3H], b_hh [3H]) -> h_next [B, H]``,
    compared with ``nn.GRUCell`` holding the same weights."""
    cases = []
    for seed in range(4):
        cell = _seeded_module(seed, lambda: nn.GRUCell(4, 5))
        x, h = _randn(seed, (3, 4), (3, 5))
        with torch.no_grad():
            cases.append(Case((x, h, *_cell_weights(cell)), cell(x, h)))
    return _run("gru_step", fn, cases)


# ------------------------------------------------------------------------------ 03: attention
@_exercise("03")
def check_causal_average(fn: Callable[..., Any]) -> CheckResult:
    """``fn(x [B, T, C]) -> y [B, T, C]``, y[:, t] the mean of x[:, 0..t]. Compared with
    ``scaled_dot_product_attention(q=0, k=0, v=x, is_causal=True)``: equal scores give equal weights,
    so causal attention with nothing to prefer *is* the running average."""
    cases = []
    for seed, (B, T, C) in enumerate([(1, 1, 2), (1, 4, 2), (2, 6, 3), (3, 8, 5)]):  # T = 1: one token
        (x,) = _randn(seed, (B, T, C))
        zeros = torch.zeros(B, T, 1)
        cases.append(Case((x,), F.scaled_dot_product_attention(zeros, zeros, x, is_causal=True)))
    return _run("causal_average", fn, cases)


@_exercise("03")
def check_masked_softmax(fn: Callable[..., Any]) -> CheckResult:
    """``fn(scores [B, T, T]) -> weights [B, T, T]``: row i a softmax over columns 0..i, exactly 0 above
    the diagonal. Compared with ``scaled_dot_product_attention(scores, I, I, is_causal=True, scale=1)``:
    identity keys make q @ k.T the scores, identity values return the weights themselves."""
    cases = []
    for seed, (B, T) in enumerate([(1, 1), (1, 3), (2, 5), (2, 8)]):
        scores, eye = 3 * _randn(seed, (B, T, T))[0], torch.eye(T).expand(B, T, T)
        expected = F.scaled_dot_product_attention(scores, eye, eye, is_causal=True, scale=1.0)
        cases.append(Case((scores,), expected))
    return _run("masked_softmax", fn, cases, extra=_future_is_zero)


@_exercise("03")
def check_multi_head(fn: Callable[..., Any]) -> CheckResult:
    """``fn(x [B, T, C], W_qkv [3C, C], W_proj [C, C], n_head) -> out [B, T, C]``, compared with the
    package's ``CausalSelfAttention`` (bias=False, no dropout) whose fused q/k/v and output Linear
    weights are passed in: ``x @ W_qkv.T`` holds q, k, v side by side, C columns each."""
    from .config import ModelConfig
    from .transformer import CausalSelfAttention

    cases = []
    for seed, (B, T, C, n_head) in enumerate([(1, 4, 8, 2), (2, 6, 12, 3), (2, 5, 16, 4)]):
        cfg = ModelConfig(arch="transformer", n_head=n_head, n_embd=C, block_size=T, dropout=0.0, bias=False)
        attn = _seeded_module(seed, lambda cfg=cfg: CausalSelfAttention(cfg))
        (x,) = _randn(seed, (B, T, C))
        with torch.no_grad():
            out = attn(x)
        weights = [linear.weight.detach().clone() for linear in _attention_linears(attn)]
        cases.append(Case((x, *weights, n_head), out[0] if isinstance(out, tuple) else out))
    return _run("multi_head", fn, cases)


@_exercise("03")
def check_apply_temperature(fn: Callable[..., Any]) -> CheckResult:
    """``fn(logits [B, V], temperature > 0) -> probs [B, V]``, compared with
    ``torch.softmax(logits / temperature, dim=-1)`` (what ``generation.sample_next`` samples from)."""
    cases = []
    for seed, t in enumerate([2.0, 0.5, 1.0, 0.1, 3.0]):
        logits = 2 * _randn(seed, (2, 7))[0]
        cases.append(Case((logits, t), torch.softmax(logits / t, dim=-1)))
    return _run("apply_temperature", fn, cases)


# ------------------------------------------------------------------------------ 04: comparing runs
@_exercise("04")
def check_perplexity(fn: Callable[..., Any]) -> CheckResult:
    """``fn(loss_nats) -> float``, compared with ``lmhelpers.metrics.perplexity``."""
    from .metrics import perplexity

    cases = [Case((loss,), perplexity(loss)) for loss in (0.0, 1.2, 2.5, 4.17, 0.05)]
    return _run("perplexity", fn, cases, atol=1e-9, rtol=1e-6)


@_exercise("04")
def check_loss_at_time(fn: Callable[..., Any]) -> CheckResult:
    """``fn(times: list[float], losses: list[float], t) -> float``; times increase and
    times[0] <= t <= times[-1]. Compared with ``numpy.interp(t, times, losses)``."""
    rng = random.Random(4)
    cases = []
    for k in range(5):
        n = rng.randint(2, 7)
        times = list(itertools.accumulate(round(rng.uniform(0.5, 10.0), 1) for _ in range(n)))
        losses = sorted((round(rng.uniform(1.0, 4.5), 3) for _ in range(n)), reverse=True)
        inside = round(rng.uniform(times[0], times[-1]), 2)
        t = {1: times[rng.randrange(n)], 2: times[0], 3: times[-1]}.get(k, inside)  # 2, 3: the ends
        cases.append(Case((times, losses, t), float(np.interp(t, times, losses))))
    return _run("loss_at_time", fn, cases, atol=1e-9, rtol=1e-9)


# ------------------------------------------------------------------------------ 05: sweeps
@_exercise("05")
def check_grid_runs(fn: Callable[..., Any]) -> CheckResult:
    """``fn(grid: dict[str, list]) -> list[dict]``: one dict per combination, first key varying slowest
    (``itertools.product`` order), as a sweep file's ``grid`` expands. Compared exactly with
    ``solutions.grid_runs``."""
    rng = random.Random(5)
    grids: list[dict[str, list]] = [
        {"arch": ["rnn", "gru", "lstm"]},
        {"arch": ["rnn", "lstm"], "learning_rate": [1e-3, 3e-3]},
        {"n_layer": [2], "n_embd": [64, 128], "seed": [1, 2, 3]},
    ]
    grids += [{k: [rng.randint(0, 9) for _ in range(rng.randint(1, 3))] for k in "abc"} for _ in range(2)]
    cases = [Case((grid,), solutions.grid_runs(grid)) for grid in grids]
    return _run("grid_runs", fn, cases)
