"""Whole-text evaluation against a direct computation: every token scored once, one token at a time."""

import math

import pytest
import torch
import torch.nn.functional as F

from lmhelpers.config import make_config
from lmhelpers.data import TokenDataset
from lmhelpers.evaluation import (
    evaluate_model,
    evaluate_text,
    paired_stderr,
    sliding_windows,
    stderr_of,
)
from lmhelpers.models import build_model

VOCAB = 13


def _model(arch: str, block_size: int = 8):
    cfg = make_config("smoke", arch=arch, block_size=block_size, n_layer=2).model
    cfg.vocab_size = VOCAB
    torch.manual_seed(3)
    return build_model(cfg).eval()


def _ids(n: int = 61, seed: int = 0) -> torch.Tensor:
    return torch.randint(VOCAB, (n,), generator=torch.Generator().manual_seed(seed))


def _next_token_loss(model, context: torch.Tensor, target: int) -> float:
    """The loss of ``target`` after ``context``, from a forward pass over the context alone."""
    with torch.no_grad():
        logits, _ = model(context[None])
    return F.cross_entropy(logits[0, -1:], torch.tensor([target])).item()


@pytest.mark.parametrize("stride", [1, 3, 8])
def test_sliding_window_equals_token_by_token_with_the_stated_context(stride):
    model, ids, block = _model("transformer"), _ids(), 8
    n = len(ids) - 1
    direct = []
    for t in range(n):
        # The window that scores target t: the first start (0, stride, 2*stride, ..., clamped to the
        # text's end) whose window reaches past t.
        start = 0 if t < block else min(math.ceil((t - block + 1) / stride) * stride, n - block)
        assert t - start + 1 >= (t + 1 if t < block else block - stride + 1)  # context it promises
        direct.append(_next_token_loss(model, ids[start : t + 1], int(ids[t + 1])))
    score = evaluate_text(model, ids, stride=stride, batch_size=5)
    assert score.method == "sliding" and score.stride == stride and score.tokens == n
    assert score.loss == pytest.approx(sum(direct) / n, abs=1e-6)


def test_sliding_windows_score_each_target_once():
    for n, block, stride in [(61, 8, 3), (8, 8, 4), (5, 8, 2), (100, 16, 16), (33, 4, 1)]:
        counts = [0] * n
        for start, first in sliding_windows(n, min(block, n), stride):
            for t in range(first, start + min(block, n)):
                counts[t] += 1
        assert counts == [1] * n, (n, block, stride)


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
def test_carried_state_equals_reading_the_whole_history(arch):
    model, ids = _model(arch), _ids(40)
    n = len(ids) - 1
    direct = [_next_token_loss(model, ids[: t + 1], int(ids[t + 1])) for t in range(n)]
    for chunk in (1, 7, 1000):  # how the text is cut into chunks must not matter
        score = evaluate_text(model, ids, chunk=chunk)
        assert score.method == "carried" and score.tokens == n
        assert score.loss == pytest.approx(sum(direct) / n, abs=1e-6)


@pytest.mark.parametrize("arch", ["transformer", "lstm"])
def test_reset_gives_each_token_its_position_as_context_and_the_curve_by_context(arch):
    model, ids, block = _model(arch), _ids(45), 8
    n = len(ids) - 1
    by_pos = {p: [] for p in range(block)}
    for t in range(n):
        start = t - t % block
        by_pos[t % block].append(_next_token_loss(model, ids[start : t + 1], int(ids[t + 1])))
    score = evaluate_text(model, ids, "reset")
    every = [x for v in by_pos.values() for x in v]
    assert score.loss == pytest.approx(sum(every) / n, abs=1e-6)
    assert score.by_context == pytest.approx([sum(v) / len(v) for v in by_pos.values()], abs=1e-6)


def test_a_recurrent_model_is_scored_past_its_training_window():
    model, ids = _model("lstm"), _ids(80)
    score = evaluate_text(model, ids, "reset", reset_every=32)
    assert len(score.by_context) == 32
    with pytest.raises(ValueError, match="at most block_size=8 for a Transformer"):
        evaluate_text(_model("transformer"), ids, "reset", reset_every=32)


def test_bad_requests_say_what_to_change():
    with pytest.raises(ValueError, match="needs a recurrent model"):
        evaluate_text(_model("transformer"), _ids(), "carried")
    with pytest.raises(ValueError, match="choose 'auto' or one of"):
        evaluate_text(_model("lstm"), _ids(), "window")
    with pytest.raises(ValueError, match="stride=9 is invalid"):
        evaluate_text(_model("transformer"), _ids(), stride=9)
    with pytest.raises(ValueError, match="nothing to score"):
        evaluate_text(_model("lstm"), _ids(1))


def test_standard_errors_from_parts_of_the_text():
    assert stderr_of([1.0, 3.0]) == pytest.approx(1.0)  # sd sqrt(2), n 2: sqrt(2)/sqrt(2)
    assert stderr_of([2.0]) == 0.0
    # Two scores that share the difficulty of each part differ by a constant: no noise in the gap.
    a, b = [1.0, 2.0, 3.0, 4.0], [1.5, 2.5, 3.5, 4.5]
    assert paired_stderr(a, b) == pytest.approx(0.0) and stderr_of(a) > 0.5
    assert paired_stderr(a, b[:3]) is None


def test_evaluate_model_keeps_both_ways_and_bits_per_character():
    ids = _ids(300)
    ds = TokenDataset(_ids(300, seed=1), ids, val_chars=150)  # 2 tokens per character
    out = evaluate_model(_model("gru"), ds)
    whole, reset = out["whole_text"], out["reset"]
    assert whole["method"] == "carried" and reset["method"] == "reset" and reset["reset_every"] == 8
    assert whole["bits_per_char"] == pytest.approx(whole["loss"] * 2 / math.log(2))
    assert whole["bpc_stderr"] == pytest.approx(whole["stderr"] * 2 / math.log(2))
    assert out["by_context"]["reset_every"] == 32 and len(out["by_context"]["loss"]) == 32
    gpt = evaluate_model(_model("transformer"), ds)
    assert gpt["whole_text"]["method"] == "sliding" and gpt["by_context"]["reset_every"] == 8


def test_the_cost_tool_times_every_pass_on_the_whole_validation_text(shakespeare, capsys):
    """tools/evaluation_cost.py, whose figures docs/noise.md quotes, scores the real text and prints them."""
    import evaluation_cost

    from lmhelpers.experiment import prepare_data

    n_val = len(prepare_data(make_config("smoke")).dataset.val)
    m = evaluation_cost.measure("smoke", "gru", "cpu")
    assert m["tokens"] == n_val - 1 and m["how"] == "carried"
    assert m["seconds"] > 0 and m["tokens_per_s"] == pytest.approx(m["tokens"] / m["seconds"])
    evaluation_cost.main(["--preset", "smoke", "--arch", "transformer"])
    row = capsys.readouterr().out.splitlines()[-1]
    assert row.startswith("| smoke | transformer | ") and f"{n_val - 1:,}" in row and "sliding" in row
