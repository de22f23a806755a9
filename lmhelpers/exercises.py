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
    SHAPE_HINTS,
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
    inputs = [[1, 1, 1], [7], []] + [[rng.randrange(4) for _ in range(rng.randint(4, 14))] for _ in range(4)]
    cases = [Case((ids,), solutions.count_pairs(ids)) for ids in inputs]
    hint = "every id and the one right after it form a pair (the last id starts none); count each pair"
    return _run("count_pairs", fn, cases, hint)


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
    hint = (
        "left to right, a replaced pair uses up both of its ids, so two replacements never share an id; "
        "every id outside a replaced pair is kept, the last one included"
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
    hint = "the loss is per token and in nats; the answer is per character and in bits (a bit is ln 2 nats)"
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
        "the new state is tanh of two matrix products, one of the input and one of the previous state, "
        "plus both biases; PyTorch stores a weight as [out, in]"
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
        "the same two products as the plain RNN, four times as wide, give all four gates, stacked in the "
        "order input, forget, cell candidate g, output; the cell keeps part of the old cell and adds part of "
        "the candidate, and h shows part of the squashed cell"
    )
    return _run("lstm_step", fn, cases, hint)


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
    hint = (
        "three gate blocks in the order reset, update, new; keep the input's and the state's products apart, "
        "because the reset gate scales only the state's part of the new content, its bias included; the "
        "update gate z mixes, and z near 1 keeps the old state"
    )
    return _run("gru_step", fn, cases, hint)


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
    hint = (
        "row t is the mean of rows 0..t: one matrix product with a lower-triangular weight matrix whose "
        "row t holds 1/(t+1) at columns 0..t"
    )
    return _run("causal_average", fn, cases, hint)


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
    hint = (
        "a token may look at itself and the past, never the future: hide the scores above the diagonal "
        "before the softmax, so that they get exactly 0, and normalise each row over what is left"
    )
    return _run("masked_softmax", fn, cases, hint, extra=_future_is_zero)


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
        "one product gives q, k and v side by side; cut each into n_head heads of C // n_head numbers, let "
        "every head attend on its own, scaled by its own width, put the heads side by side again in their "
        "order, then apply the output projection"
    )
    return _run("multi_head", fn, cases, hint)


@_exercise("03")
def check_apply_temperature(fn: Callable[..., Any]) -> CheckResult:
    """``fn(logits [B, V], temperature > 0) -> probs [B, V]``, compared with
    ``torch.softmax(logits / temperature, dim=-1)`` (what ``generation.sample_next`` samples from)."""
    cases = []
    for seed, t in enumerate([2.0, 0.5, 1.0, 0.1, 3.0]):
        logits = 2 * _randn(seed, (2, 7))[0]
        cases.append(Case((logits, t), torch.softmax(logits / t, dim=-1)))
    hint = (
        "the temperature divides the scores (it does not multiply them) before they become probabilities "
        "over the vocabulary: below 1 the likely tokens get likelier"
    )
    return _run("apply_temperature", fn, cases, hint)


# ------------------------------------------------------------------------------ 04: comparing runs
@_exercise("04")
def check_perplexity(fn: Callable[..., Any]) -> CheckResult:
    """``fn(loss_nats) -> float``, compared with ``lmhelpers.metrics.perplexity``."""
    from .metrics import perplexity

    cases = [Case((loss,), perplexity(loss)) for loss in (0.0, 1.2, 2.5, 4.17, 0.05)]
    hint = (
        "perplexity is the number of equally likely choices that would give the same loss; the loss is a "
        "natural logarithm (nats), so undo that logarithm"
    )
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
        inside = round(rng.uniform(times[0], times[-1]), 2)
        t = {1: times[rng.randrange(n)], 2: times[0], 3: times[-1]}.get(k, inside)  # 2, 3: the ends
        cases.append(Case((times, losses, t), float(np.interp(t, times, losses))))
    hint = (
        "a straight line between the two recorded points around t, by time rather than by index; t may be "
        "a recorded time itself, the first or the last"
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
    hint = (
        "every combination of one value per key, the first key changing slowest, like nested for loops in "
        "the keys' order; each run a dict with every key"
    )
    return _run("grid_runs", fn, cases, hint)


# The second hints, the shape of the code, printed by hint(NAME) only; the first is in each check above.
SHAPE_HINTS.update(
    {
        "count_pairs": (
            "counts = {}\n"
            "for pair in <each id with the one after it: zip of the list and the list without its first id>:\n"
            "    counts[pair] = <one more than before, 0 the first time>\n"
            "return counts"
        ),
        "merge": (
            "out, i = [], 0\n"
            "while i < len(ids):\n"
            "    if <there is an id after ids[i], and the two are the pair>: append new_id, i += 2\n"
            "    else: append ids[i], i += 1\n"
            "return out"
        ),
        "bits_per_char": "return <loss times the tokens: nats of the whole text> / <the characters> / math.log(2)",
        "rnn_step": "return torch.tanh(<x times W_ih transposed> + b_ih + <h times W_hh transposed> + b_hh)",
        "lstm_step": (
            "gates = <the two products and both biases, as in rnn_step>   # [B, 4H]\n"
            "i, f, g, o = gates.chunk(4, dim=-1)\n"
            "<sigmoid on i, f and o; tanh on g>\n"
            "c_next = <f times the old c> + <i times g>\n"
            "h_next = <o times tanh of c_next>\n"
            "return h_next, c_next"
        ),
        "gru_step": (
            "r_x, z_x, n_x = (x @ W_ih.T + b_ih).chunk(3, dim=-1)\n"
            "r_h, z_h, n_h = <the same for h, W_hh and b_hh>\n"
            "r, z = <sigmoid of r_x + r_h>, <sigmoid of z_x + z_h>\n"
            "n = torch.tanh(n_x + <r times n_h>)\n"
            "return <(1 - z) times n> + <z times h>"
        ),
        "causal_average": (
            "weights = torch.tril(torch.ones(T, T))   # row t: ones at 0..t\n"
            "weights = <each row divided by its sum>\n"
            "return weights @ x"
        ),
        "masked_softmax": (
            "future = <a T x T bool tensor, True above the diagonal: torch.ones(...).triu(diagonal=1)>\n"
            "return scores.masked_fill(future, <a score whose exp is exactly 0>).softmax(dim=<the columns>)"
        ),
        "multi_head": (
            "q, k, v = (x @ W_qkv.T).split(C, dim=-1)\n"
            "each of them: .view(B, T, n_head, hd).transpose(1, 2)   # [B, n_head, T, hd], hd = C // n_head\n"
            "y = <masked softmax of q @ k.transpose(-2, -1) / math.sqrt(hd)> @ v\n"
            "y = <y with heads and time swapped back>.reshape(B, T, C)\n"
            "return y @ W_proj.T"
        ),
        "apply_temperature": "return <softmax over the last dim of the logits divided by the temperature>",
        "perplexity": "return <e to the power of the loss: the math module has it>",
        "loss_at_time": (
            "for t0, t1, l0, l1 in <neighbouring pairs of times and of losses, zipped>:\n"
            "    if t0 <= t <= t1:\n"
            "        return l0 + (l1 - l0) * <the fraction of the way from t0 to t1>"
        ),
        "grid_runs": (
            "combinations = <the Cartesian product of the value lists, in key order: itertools has it>\n"
            "return [dict(zip(<the keys>, values)) for values in combinations]"
        ),
    }
)
