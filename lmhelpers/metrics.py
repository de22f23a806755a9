"""What the reports measure: loss in nats, perplexity, bits per character, loss by context position, and
whether a model is causal at all.

Per-token loss depends on the tokenizer: a word model predicts far more information per token than a
character model. Bits per character puts them on one scale: the total information the model needs for
the validation text, divided by its number of characters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch
import torch.nn.functional as F

LN2 = math.log(2)


def perplexity(loss_nats: float) -> float:
    """exp(loss): the effective number of equally likely next tokens. Capped to stay finite in JSON."""
    return math.exp(min(loss_nats, 700.0))


def bits_per_char(loss_nats: float, tokens_per_char: float) -> float:
    """Mean loss per token (nats) times tokens per character, in bits."""
    if tokens_per_char <= 0:
        raise ValueError(f"tokens_per_char must be positive, got {tokens_per_char}")
    return loss_nats * tokens_per_char / LN2


def summarize_loss(loss_nats: float, tokens_per_char: float | None) -> dict[str, float | None]:
    """The three figures every report shows for one validation loss."""
    return {
        "loss": loss_nats,
        "perplexity": perplexity(loss_nats),
        "bits_per_char": bits_per_char(loss_nats, tokens_per_char) if tokens_per_char else None,
    }


def loss_by_position(
    model: torch.nn.Module, batches: Iterable[tuple[torch.Tensor, torch.Tensor]]
) -> list[float]:
    """Mean validation loss at each position of the context window (index 0 sees one token of context).

    Falling curves show a model using longer context; a flat tail shows where it stops helping.
    """
    with torch.no_grad():
        was_training = model.training
        model.eval()
        total: torch.Tensor | None = None
        count = 0
        try:
            for x, y in batches:
                logits, _ = model(x)
                loss = F.cross_entropy(logits.float().transpose(1, 2), y, reduction="none")  # [B, T]
                total = loss.sum(0) if total is None else total + loss.sum(0)
                count += x.shape[0]
        finally:
            model.train(was_training)
        if total is None:
            raise ValueError("loss_by_position needs at least one batch")
        return (total / count).cpu().tolist()


def position_losses(
    model: torch.nn.Module,
    dataset: Any,
    n_windows: int = 1024,  # pragma: no mutate - a default no caller in the project uses
    batch_size: int = 64,  # pragma: no mutate - a default no caller in the project uses
    seed: int = 0,  # pragma: no mutate - a default no caller in the project uses
) -> list[float]:
    """:func:`loss_by_position` over ``n_windows`` validation windows of ``dataset`` (a TokenDataset).

    The windows depend only on the dataset, the model's context length and ``seed``, so two models that
    read the same tokens are scored on the very same windows. A thousand windows make a curve smooth
    enough to read; the few evaluation batches of a small preset would show both models' spikes.
    """
    block_size = model.config.block_size
    device = next(model.parameters()).device
    data = dataset.split("val")
    n_batches = max(1, -(-n_windows // batch_size))
    starts = dataset.fixed_starts("val", n_batches, batch_size, block_size, seed=seed)
    batches = (dataset.windows(data, s, block_size, device) for s in starts)
    return loss_by_position(model, batches)


def causality_check(
    model: torch.nn.Module,
    length: int | None = None,
    seed: int = 0,  # pragma: no mutate - which random tokens probe causality
) -> float:
    """Largest change of the outputs at positions 0..t-1 when the tokens from position t on change.

    A next-token model must give exactly 0 (up to float rounding): its prediction for position i may
    depend on tokens 0..i only. A bidirectional model, or attention without a causal mask, would not.
    """
    cfg = model.config
    length = length or min(cfg.block_size, 32)
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    a = torch.randint(cfg.vocab_size, (1, length), generator=g)
    b = a.clone()
    cut = length // 2
    b[:, cut:] = torch.randint(cfg.vocab_size, (1, length - cut), generator=g)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            la, _ = model(a.to(device))
            lb, _ = model(b.to(device))
    finally:
        model.train(was_training)
    return (la[:, :cut] - lb[:, :cut]).abs().max().item()
