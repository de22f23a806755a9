"""Whole-text evaluation: every validation token scored once, with a standard error and the loss by context.

The training loop's evaluation averages a few fixed random windows, each read from an empty context:
quick, and enough to draw a curve, but it is a sample, and a recurrent model never uses more than one
window of context there. The score a language model is known by is the loss over the whole held-out
text. How each token gets its context depends on the family:

* ``sliding`` (fixed-context models, the Transformer): windows of ``block_size`` tokens moved forward by
  ``stride``. The first window scores all its positions; every later one scores only the tokens no
  earlier window scored, so each token is scored once, after the first window with at least
  ``block_size - stride + 1`` tokens of context. A smaller stride gives more context and costs more.
* ``carried`` (recurrent models): the text is read in one pass and the hidden state is carried from
  chunk to chunk, so a token is predicted from everything before it, as the model would read a book.
* ``reset``: non-overlapping segments of ``reset_every`` tokens, each from a fresh context (an empty
  window, a zero state). The token at position p of its segment has p tokens of context. At
  ``reset_every = block_size`` both families see exactly the same context, and the mean loss at each
  position, over the whole text, is the loss by context (:attr:`TextScore.by_context`).

The standard error comes from the losses of ``n_chunks`` consecutive parts of the text: neighbouring
tokens are correlated (a hard passage is hard for many tokens), so treating tokens as independent would
understate it. Two runs scored on the same tokens can be compared part by part (:func:`paired_stderr`),
which removes the difficulty the parts share.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
import torch.nn.functional as F

from . import threads
from .language import tr
from .metrics import LN2

METHODS = ("sliding", "carried", "reset")
RNN_CONTEXT_FACTOR = 4  # a recurrent model's loss by context is measured out to this many windows


@dataclass
class TextScore:
    """The score of one pass over a text. Losses are in nats per token."""

    method: str  # sliding | carried | reset
    loss: float
    stderr: float  # standard error of ``loss`` from the per-part losses
    tokens: int  # tokens scored (every token of the text but the first, which has no context)
    block_size: int
    stride: int | None = None  # sliding only
    reset_every: int | None = None  # reset only
    bits_per_char: float | None = None
    bpc_stderr: float | None = None
    perplexity: float | None = None
    chunk_losses: list[float] = field(default_factory=list)  # mean loss of each consecutive part
    by_context: list[float] | None = None  # reset only: mean loss at context 1, 2, ..., reset_every
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _token_losses(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits.float().transpose(1, 2), targets, reduction="none").double()


def _device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def sliding_windows(n_targets: int, block_size: int, stride: int) -> list[tuple[int, int]]:
    """``(start, first_scored)`` of each window: window ``start`` reads targets ``start .. start +
    block_size - 1`` and scores those from ``first_scored`` on, so every target is scored exactly once."""
    if n_targets <= block_size:
        return [(0, 0)]
    starts = list(range(0, n_targets - block_size + 1, stride))
    if starts[-1] + block_size < n_targets:
        starts.append(n_targets - block_size)
    windows, scored_to = [], 0
    for s in starts:
        windows.append((s, scored_to))
        scored_to = s + block_size
    return windows


def _sliding(model, ids: torch.Tensor, block_size: int, stride: int, batch_size: int) -> torch.Tensor:
    n_targets = len(ids) - 1
    width = min(block_size, n_targets)
    losses = torch.empty(n_targets, dtype=torch.float64)
    windows = sliding_windows(n_targets, width, stride)
    device, offsets = _device_of(model), torch.arange(width)
    for i in range(0, len(windows), batch_size):
        group = windows[i : i + batch_size]
        starts = torch.tensor([s for s, _ in group])
        x = ids[starts[:, None] + offsets].to(device)
        y = ids[starts[:, None] + offsets + 1].to(device)
        logits, _ = model(x)
        per_token = _token_losses(logits, y).cpu()
        threads.adjust(device)  # fewer threads while other processes are busy
        for row, (s, first) in enumerate(group):
            losses[first : s + width] = per_token[row, first - s :]
    return losses


def _carried(model, ids: torch.Tensor, chunk: int) -> torch.Tensor:
    n_targets = len(ids) - 1
    losses = torch.empty(n_targets, dtype=torch.float64)
    device, state = _device_of(model), None
    for s in range(0, n_targets, chunk):
        e = min(s + chunk, n_targets)
        x = ids[s:e].unsqueeze(0).to(device)
        logits, state = model.forward_step(x, state)
        losses[s:e] = _token_losses(logits, ids[s + 1 : e + 1].unsqueeze(0).to(device))[0].cpu()
        threads.adjust(device)  # fewer threads while other processes are busy
    return losses


def _reset(model, ids: torch.Tensor, length: int, batch_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Losses of every target and the position (0-based) of each in its segment."""
    n_targets = len(ids) - 1
    losses = torch.empty(n_targets, dtype=torch.float64)
    device = _device_of(model)
    starts = list(range(0, n_targets, length))
    full = [s for s in starts if s + length <= n_targets]
    offsets = torch.arange(length)
    for i in range(0, len(full), batch_size):
        st = torch.tensor(full[i : i + batch_size])
        x, y = ids[st[:, None] + offsets].to(device), ids[st[:, None] + offsets + 1].to(device)
        logits, _ = model(x)
        losses[st[:, None] + offsets] = _token_losses(logits, y).cpu()
        threads.adjust(device)  # fewer threads while other processes are busy
    if starts and starts[-1] + length > n_targets:  # the last, shorter segment
        s = starts[-1]
        logits, _ = model(ids[s:n_targets].unsqueeze(0).to(device))
        losses[s:] = _token_losses(logits, ids[s + 1 :].unsqueeze(0).to(device))[0].cpu()
    return losses, torch.arange(n_targets) % length


def chunk_means(losses: torch.Tensor, n_chunks: int) -> list[float]:
    """Mean loss of ``n_chunks`` consecutive, nearly equal parts of ``losses``."""
    k = max(1, min(n_chunks, len(losses)))
    return [float(part.mean()) for part in torch.tensor_split(losses, k)]


def stderr_of(values: list[float]) -> float:
    """Standard error of the mean of ``values`` (sample standard deviation / sqrt(n)); 0 for one value."""
    n = len(values)
    if n < 2:
        return 0.0
    mean = sum(values) / n
    return math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1) / n)


def paired_stderr(a: list[float], b: list[float]) -> float | None:
    """Standard error of the difference of two scores made on the same tokens, part by part; None when
    the parts do not line up (a different tokenizer or text)."""
    if len(a) != len(b) or len(a) < 2:
        return None
    return stderr_of([x - y for x, y in zip(a, b)])


@torch.no_grad()
def evaluate_text(
    model: torch.nn.Module,
    ids: torch.Tensor,
    method: str = "auto",
    *,
    stride: int | None = None,
    reset_every: int | None = None,
    tokens_per_char: float | None = None,
    batch_size: int = 32,
    chunk: int = 2048,
    n_chunks: int = 50,
) -> TextScore:
    """Score every token of ``ids`` (a 1-D LongTensor: a whole text) once; see the module docstring.

    ``method="auto"`` is ``carried`` for a recurrent model and ``sliding`` for the Transformer. ``stride``
    defaults to half the window, ``reset_every`` to ``block_size``. ``tokens_per_char`` (of this text)
    adds bits per character.
    """
    cfg = model.config
    block_size = cfg.block_size
    method = ("carried" if cfg.is_rnn else "sliding") if method == "auto" else method
    if method not in METHODS:
        text = tr(
            "method={method!r} is invalid: choose 'auto' or one of {choices}",
            method=method,
            choices=list(METHODS),
        )
        raise ValueError(text)
    if method == "carried" and not cfg.is_rnn:
        raise ValueError(tr("method='carried' needs a recurrent model: a Transformer has no state to carry"))
    if len(ids) < 2:
        raise ValueError(
            tr("a text of {n} token(s) has nothing to score: give at least 2 tokens", n=len(ids))
        )
    ids = ids.to(torch.long).cpu()
    tic = time.perf_counter()
    was_training = model.training
    model.eval()
    try:
        score = _score(model, ids, method, stride, reset_every, batch_size, chunk)
    finally:
        model.train(was_training)
    losses, positions, extra = score
    loss = float(losses.mean())
    parts = chunk_means(losses, n_chunks)
    result = TextScore(method, loss, stderr_of(parts), len(losses), block_size, chunk_losses=parts, **extra)
    result.perplexity = math.exp(min(loss, 700.0))
    if tokens_per_char:
        result.bits_per_char = loss * tokens_per_char / LN2
        result.bpc_stderr = result.stderr * tokens_per_char / LN2
    if positions is not None:
        length = extra["reset_every"]
        sums = torch.zeros(length, dtype=torch.float64).index_add_(0, positions, losses)
        counts = torch.bincount(positions, minlength=length).clamp(min=1)
        result.by_context = (sums / counts).tolist()
    result.seconds = time.perf_counter() - tic
    return result


def _score(model, ids, method, stride, reset_every, batch_size, chunk):
    cfg = model.config
    if method == "sliding":
        stride = stride or max(1, cfg.block_size // 2)
        if not 1 <= stride <= cfg.block_size:
            text = tr(
                "stride={stride} is invalid: an integer in [1, block_size={block}]",
                stride=stride,
                block=cfg.block_size,
            )
            raise ValueError(text)
        return _sliding(model, ids, cfg.block_size, stride, batch_size), None, {"stride": stride}
    if method == "carried":
        return _carried(model, ids, chunk), None, {}
    length = reset_every or cfg.block_size
    if length < 1 or (not cfg.is_rnn and length > cfg.block_size):
        raise ValueError(
            tr(
                "reset_every={n} is invalid: at least 1, and at most block_size={block} for a Transformer (it "
                "has no positions beyond its window)",
                n=length,
                block=cfg.block_size,
            )
        )
    losses, positions = _reset(model, ids, length, batch_size)
    return losses, positions, {"reset_every": length}


def describe_method(score: dict[str, Any]) -> str:
    """How a score's tokens got their context, in a few words (``TextScore.to_dict()`` or a record's)."""
    if score["method"] == "sliding":
        return tr(
            "sliding window {block}, stride {stride}", block=score["block_size"], stride=score["stride"]
        )
    if score["method"] == "carried":
        return tr("state carried through the text")
    return tr("reset every {n} tokens", n=score["reset_every"])


def evaluate_model(
    model: torch.nn.Module, dataset: Any, split: str = "val", context_factor: int | None = None
) -> dict[str, Any]:
    """The figures a run record keeps (``record["evaluation"]``) for ``dataset``'s ``split``:

    * ``whole_text``: the family's own way (carried state for a recurrent model, sliding window with
      half-window stride for the Transformer);
    * ``reset``: state or window reset every ``block_size`` tokens, the same context for both families;
    * ``by_context``: the mean loss at each context length over the whole text; for a recurrent model
      out to ``context_factor`` windows (default 4), to show what context beyond the window buys.
    """
    ids = dataset.split(split)
    tpc = dataset.tokens_per_char if split == "val" else None
    cfg = model.config
    own = evaluate_text(model, ids, "auto", tokens_per_char=tpc)
    reset = evaluate_text(model, ids, "reset", tokens_per_char=tpc)
    factor = (context_factor or RNN_CONTEXT_FACTOR) if cfg.is_rnn else 1
    longest = (
        reset if factor == 1 else evaluate_text(model, ids, "reset", reset_every=factor * cfg.block_size)
    )
    by_context = {"reset_every": longest.reset_every, "loss": longest.by_context}
    strip = ("by_context",)
    return {
        "split": split,
        "whole_text": {k: v for k, v in own.to_dict().items() if k not in strip},
        "reset": {k: v for k, v in reset.to_dict().items() if k not in strip},
        "by_context": by_context,
        "seconds": own.seconds + reset.seconds + (0.0 if longest is reset else longest.seconds),
    }
