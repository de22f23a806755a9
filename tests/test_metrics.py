import math

import pytest
import torch

from lmhelpers.metrics import bits_per_char, loss_by_position, perplexity, summarize_loss


def test_perplexity_and_bits():
    assert perplexity(0.0) == 1.0
    assert perplexity(math.log(65)) == pytest.approx(65)
    # A uniform guess over 2 characters costs exactly one bit per character.
    assert bits_per_char(math.log(2), 1.0) == pytest.approx(1.0)
    # A word model at 0.25 tokens/char with 4x the per-token loss costs the same bits per character.
    assert bits_per_char(4 * 1.2, 0.25) == pytest.approx(bits_per_char(1.2, 1.0))
    with pytest.raises(ValueError):
        bits_per_char(1.0, 0)
    assert math.isfinite(perplexity(1e6))


def test_summary_without_tokens_per_char():
    s = summarize_loss(1.0, None)
    assert s["bits_per_char"] is None and s["perplexity"] == pytest.approx(math.e)


class _Uniform(torch.nn.Module):
    """Position-dependent logits: confident late in the window, uniform early."""

    def forward(self, x):
        B, T = x.shape
        logits = torch.zeros(B, T, 5)
        logits[:, T // 2 :, 0] = 10.0
        return logits, None


def test_loss_by_position_shape_and_values():
    x = torch.zeros(3, 6, dtype=torch.long)
    y = torch.zeros(3, 6, dtype=torch.long)
    losses = loss_by_position(_Uniform(), [(x, y), (x, y)])
    assert len(losses) == 6
    assert losses[0] == pytest.approx(math.log(5))
    assert losses[-1] < 1e-3
