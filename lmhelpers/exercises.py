"""Checks for the notebooks' exercises, and ``assert_close`` for their build-it-yourself cells.

An exercise asks for one function. Its check runs that function and the reference on a few seeded random
inputs (tiny tensors, short id lists) and answers with a :class:`CheckResult`: truthy and shown as
``correct: merge (6 cases)``, or a short hint naming the failing case and what was wrong (the shape, the
largest difference, or the exception your code raised) plus a tip for that exercise. The reference is the
real implementation wherever one exists (``nn.LSTMCell``, ``scaled_dot_product_attention``, this
package's attention module and ``build_model``), so a check teaches what the real thing does;
:mod:`lmhelpers.solutions` serves only where none exists. A check never raises for a wrong answer, so a
notebook goes on; ``assert_close`` does raise, because a hand-built piece that differs from the package's
should stop the notebook right there. ``EXERCISES`` lists every check, by name, with its notebook.
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
from .checking import (
    EXERCISES,
    Case,
    CheckResult,
    Exercise,
    _exercise,
    _run,
    assert_close,
    check,
    exercise_table,
)

__all__ = ["EXERCISES", "CheckResult", "Exercise", "assert_close", "check", "exercise_table"]


# ------------------------------------------------------------------------------ helpers for inputs
def _randn(seed: int, *shapes: tuple[int, ...]) -> list[Tensor]:
    """Standard normal tensors of the given shapes, the same for the same seed."""
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*shape, generator=g) for shape in shapes]


def _seeded_module(seed: int, make: Callable[[], nn.Module]) -> nn.Module:
    """A module initialised from ``seed`` without touching the notebook's global random state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make().eval()


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
        return f"weights above the diagonal (the future) must be exactly 0, not up to {leak.abs().max():.3g}"
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
    hint = (
        "per block: two LayerNorms (a gain, and a shift if bias), q/k/v and output projections (4 C^2), "
        "the MLP (8 C^2), their biases if bias; then the token and position tables, the final LayerNorm, "
        "and the head (no bias) only if it is not tied"
    )
    return _run("transformer_params", fn, cases, hint)


@_exercise("00")
def check_logits_bytes(fn: Callable[..., Any]) -> CheckResult:
    """``fn(batch_size, block_size, vocab_size) -> int`` bytes, compared with ``.nbytes`` of a float32
    [B, T, V] tensor on the ``meta`` device (which has a size but allocates nothing)."""
    sizes = [(64, 256, 50257), (32, 64, 65), (1, 1, 10), (12, 64, 10000)]
    cases = [Case(s, torch.empty(*s, dtype=torch.float32, device="meta").nbytes) for s in sizes]
    hint = "one float32 score per vocabulary entry, at every position of every row: 4 bytes each"
    return _run("logits_bytes", fn, cases, hint)


# ------------------------------------------------------------------------------ 01: BPE by hand
@_exercise("01")
def check_count_pairs(fn: Callable[..., Any]) -> CheckResult:
    """``fn(ids: list[int]) -> dict``: (a, b) -> how often b directly follows a. Compared exactly with
    ``solutions.count_pairs`` (a ``Counter`` is a dict, so it passes too)."""
    rng = random.Random(1)
    inputs = [[1, 1, 1], [7]] + [[rng.randrange(4) for _ in range(rng.randint(4, 14))] for _ in range(4)]
    cases = [Case((ids,), solutions.count_pairs(ids)) for ids in inputs]
    hint = "pair each id with the next one, zip(ids, ids[1:]), and count every pair"
    return _run("count_pairs", fn, cases, hint)


@_exercise("01")
def check_merge(fn: Callable[..., Any]) -> CheckResult:
    """``fn(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]``, non-overlapping, left to
    right: ``merge([1, 1, 1], (1, 1), 9) == [9, 1]``. Compared exactly with ``solutions.merge``."""
    rng = random.Random(2)
    inputs = [([1, 1, 1], (1, 1), 9), ([5, 6, 5], (6, 6), 9)]  # the pair may be missing
    for k in range(4):
        ids = [rng.randrange(3) for _ in range(rng.randint(6, 14))]
        at = rng.randrange(len(ids) - 1)
        inputs.append((ids, (ids[at], ids[at + 1]), 100 + k))
    cases = [Case(args, solutions.merge(*args)) for args in inputs]
    hint = (
        "go left to right; after replacing a pair skip both of its ids, so [1, 1, 1] with (1, 1) becomes "
        "[9, 1]; copy every other id as it is, the last one included"
    )
    return _run("merge", fn, cases, hint)


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
    hint = "total nats = loss x tokens; divide by the characters, then by ln 2 (a bit is ln 2 nats)"
    return _run("bits_per_char", fn, cases, hint, atol=1e-9, rtol=1e-6)


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
    hint = (
        "h_next = tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh): weights are stored [out, in]; add both biases"
    )
    return _run("rnn_step", fn, cases, hint)


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
    hint = (
        "PyTorch stacks the four gate blocks in the order input, forget, cell candidate g, output "
        "(gates.chunk(4, dim=-1)); sigmoid on i, f, o, tanh on g; c_next = f*c + i*g, h_next = o*tanh(c_next)"
    )
    return _run("lstm_step", fn, cases, hint)


# ------------------------------------------------------------------------------ 03: attention
@_exercise("03")
def check_causal_average(fn: Callable[..., Any]) -> CheckResult:
    """``fn(x [B, T, C]) -> y [B, T, C]``, y[:, t] the mean of x[:, 0..t]. Compared with
    ``scaled_dot_product_attention(q=0, k=0, v=x, is_causal=True)``: equal scores give equal weights,
    so causal attention with nothing to prefer *is* the running average."""
    cases = []
    for seed, (B, T, C) in enumerate([(1, 4, 2), (2, 6, 3), (3, 8, 5)]):
        (x,) = _randn(seed, (B, T, C))
        zeros = torch.zeros(B, T, 1)
        cases.append(Case((x,), F.scaled_dot_product_attention(zeros, zeros, x, is_causal=True)))
    hint = "weights = torch.tril(torch.ones(T, T)), each row divided by its sum, then weights @ x"
    return _run("causal_average", fn, cases, hint)


@_exercise("03")
def check_masked_softmax(fn: Callable[..., Any]) -> CheckResult:
    """``fn(scores [B, T, T]) -> weights [B, T, T]``: row i a softmax over columns 0..i, exactly 0 above
    the diagonal. Compared with ``scaled_dot_product_attention(scores, I, I, is_causal=True, scale=1)``:
    identity keys make q @ k.T the scores, identity values return the weights themselves."""
    cases = []
    for seed, (B, T) in enumerate([(1, 3), (2, 5), (2, 8)]):
        scores, eye = 3 * _randn(seed, (B, T, T))[0], torch.eye(T).expand(B, T, T)
        expected = F.scaled_dot_product_attention(scores, eye, eye, is_causal=True, scale=1.0)
        cases.append(Case((scores,), expected))
    hint = (
        "fill the future (column > row: torch.ones(T, T).triu(diagonal=1)) with -inf before the softmax; "
        "keep the diagonal, a token may look at itself; softmax over dim=-1"
    )
    return _run("masked_softmax", fn, cases, hint, extra=_future_is_zero)


@_exercise("03")
def check_attention_head(fn: Callable[..., Any]) -> CheckResult:
    """``fn(x [B, T, C], W_q, W_k, W_v [C, head_size]) -> out [B, T, head_size]`` with q = x @ W_q
    (and so on), compared with ``scaled_dot_product_attention(q, k, v, is_causal=True)``."""
    cases = []
    for seed, (B, T, C, hs) in enumerate([(1, 4, 6, 3), (2, 6, 8, 4), (2, 8, 6, 2)]):
        x, W_q, W_k, W_v = _randn(seed, (B, T, C), (C, hs), (C, hs), (C, hs))
        expected = F.scaled_dot_product_attention(x @ W_q, x @ W_k, x @ W_v, is_causal=True)
        cases.append(Case((x, W_q, W_k, W_v), expected))
    hint = (
        "scores = q @ k.transpose(-2, -1) / sqrt(head_size): did you divide by sqrt(head_size), not "
        "sqrt(C)? Then mask the future, softmax over the last dim, and multiply by v"
    )
    return _run("attention_head", fn, cases, hint)


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
    hint = (
        "split x @ W_qkv.T into q, k, v (C wide each), each into heads with .view(B, T, n_head, C // n_head)"
        ".transpose(1, 2); scale by sqrt(C // n_head); after attention transpose back before reshaping "
        "to [B, T, C], then multiply by W_proj.T"
    )
    return _run("multi_head", fn, cases, hint)


@_exercise("03")
def check_apply_temperature(fn: Callable[..., Any]) -> CheckResult:
    """``fn(logits [B, V], temperature > 0) -> probs [B, V]``, compared with
    ``torch.softmax(logits / temperature, dim=-1)`` (what ``generation.sample_next`` samples from)."""
    cases = []
    for seed, t in enumerate([2.0, 0.5, 1.0, 0.1]):
        logits = 2 * _randn(seed, (2, 7))[0]
        cases.append(Case((logits, t), torch.softmax(logits / t, dim=-1)))
    hint = "divide the logits by the temperature (not multiply), then softmax over the last dim"
    return _run("apply_temperature", fn, cases, hint)


# ------------------------------------------------------------------------------ 04: comparing runs
@_exercise("04")
def check_perplexity(fn: Callable[..., Any]) -> CheckResult:
    """``fn(loss_nats) -> float``, compared with ``lmhelpers.metrics.perplexity``."""
    from .metrics import perplexity

    cases = [Case((loss,), perplexity(loss)) for loss in (0.0, 1.2, 2.5, 4.17, 0.05)]
    hint = "the loss is in nats (natural log), so perplexity = e ** loss, math.exp(loss)"
    return _run("perplexity", fn, cases, hint, atol=1e-9, rtol=1e-6)


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
        t = times[rng.randrange(n)] if k == 1 else round(rng.uniform(times[0], times[-1]), 2)
        cases.append(Case((times, losses, t), float(np.interp(t, times, losses))))
    hint = (
        "find the two points with times[i] <= t <= times[i+1] and go the fraction "
        "(t - times[i]) / (times[i+1] - times[i]) of the way from losses[i] to losses[i+1]"
    )
    return _run("loss_at_time", fn, cases, hint, atol=1e-9, rtol=1e-9)


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
    hint = "itertools.product(*grid.values()) gives the combinations in this order; zip each with the keys"
    return _run("grid_runs", fn, cases, hint)
