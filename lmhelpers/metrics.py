"""Loss in nats, perplexity and bits per character.

Per-token loss depends on the tokenizer: a word model predicts far more information per token than a
character model. Bits per character puts them on one scale: the total information the model needs for
the validation text, divided by its number of characters.
"""

from __future__ import annotations

import math

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


@torch.no_grad()
def loss_by_position(model: torch.nn.Module, batches: list[tuple[torch.Tensor, torch.Tensor]]) -> list[float]:
    """Mean validation loss at each position of the context window (index 0 sees one token of context).

    Falling curves show a model using longer context; a flat tail shows where it stops helping.
    """
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
