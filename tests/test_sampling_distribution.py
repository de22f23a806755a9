"""Samples are drawn from the distribution they claim: softmax(logits / T), then top-k and top-p.

Each check draws many samples with a fixed seed and compares the counts with the expected
probabilities by Pearson's chi-square statistic. The threshold is the statistic's 1e-6 upper quantile
for the degrees of freedom at hand (computed below in closed form), so a correct sampler would fail a
fresh seed once in a million; the seeds are fixed, so the tests are deterministic. The wrong
distributions tested against (logits times T instead of divided, no temperature, filters ignored)
give statistics in the hundreds or thousands.
"""

from __future__ import annotations

import math
import warnings

import pytest
import torch

from lmhelpers import build_model
from lmhelpers.config import ModelConfig
from lmhelpers.generation import generate, sample_next, sample_text
from lmhelpers.tokenizers import TokenizerError, train_tokenizer

N = 12_000
LOGITS = torch.tensor([2.0, 1.0, 0.5, 0.0, -1.0, -3.0])  # six tokens, none negligible at T = 2


def chi2_critical(df: int, tail: float = 1e-6) -> float:
    """x with P(chi2_df > x) = tail, for even df: the survival function is exp(-x/2) * sum_{i<df/2} (x/2)^i / i!."""
    assert df % 2 == 0

    def sf(x: float) -> float:
        return math.exp(-x / 2) * sum((x / 2) ** i / math.factorial(i) for i in range(df // 2))

    lo, hi = 0.0, 1000.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if sf(mid) > tail else (lo, mid)
    return hi


def chi2(samples: torch.Tensor, probs: torch.Tensor) -> tuple[float, int]:
    """Pearson's statistic over the tokens with nonzero probability; a sample outside them is infinite."""
    counts = torch.bincount(samples.flatten(), minlength=len(probs)).double()
    support = probs > 0
    if counts[~support].sum() > 0:
        return math.inf, int(support.sum()) - 1
    expected = probs[support].double() * counts.sum()
    return (((counts[support] - expected) ** 2) / expected).sum().item(), int(support.sum()) - 1


def assert_follows(samples: torch.Tensor, probs: torch.Tensor) -> None:
    stat, df = chi2(samples, probs)
    if df % 2:  # odd df: the next even df's quantile is larger, so the test only gets more lenient
        df += 1
    assert stat < chi2_critical(df), f"chi2={stat:.1f} for df={df}; counts do not follow {probs.tolist()}"


def test_chi2_threshold_matches_tables():
    assert chi2_critical(2) == pytest.approx(2 * math.log(1e6), rel=1e-6)  # df 2: exactly -2 ln(tail)
    # Tables of the chi-square distribution: P(chi2_4 > 33.38) = P(chi2_6 > 38.26) = 1e-6.
    assert chi2_critical(4) == pytest.approx(33.38, abs=0.01)
    assert chi2_critical(6) == pytest.approx(38.26, abs=0.01)


@pytest.mark.parametrize("temperature", [0.5, 0.8, 1.0, 2.0])
def test_sample_next_follows_softmax_of_logits_over_temperature(temperature):
    g = torch.Generator().manual_seed(0)
    samples = sample_next(LOGITS.repeat(N, 1), temperature=temperature, generator=g)
    assert samples.shape == (N, 1)
    assert_follows(samples, torch.softmax(LOGITS / temperature, dim=-1))
    if temperature != 1.0:  # and not the wrong ones
        for wrong in (LOGITS * temperature, LOGITS):
            assert chi2(samples, torch.softmax(wrong, dim=-1))[0] > 100


def test_lower_temperature_is_sharper():
    g = torch.Generator().manual_seed(1)
    top = [
        (sample_next(LOGITS.repeat(N, 1), temperature=t, generator=g) == 0).float().mean() for t in (0.5, 2)
    ]
    assert top[0] > 0.8 > 0.4 > top[1]  # p(top) = 0.84 at T = 0.5, 0.33 at T = 2


@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_top_k_renormalises_the_k_most_likely_after_temperature(temperature):
    g = torch.Generator().manual_seed(2)
    samples = sample_next(LOGITS.repeat(N, 1), temperature=temperature, top_k=3, generator=g)
    probs = torch.softmax(LOGITS / temperature, dim=-1)
    probs[3:] = 0
    assert_follows(samples, probs / probs.sum())


@pytest.mark.parametrize("temperature, top_p, kept", [(1.0, 0.75, 2), (0.5, 0.75, 1), (2.0, 0.75, 3)])
def test_top_p_keeps_the_smallest_set_reaching_p_after_temperature(temperature, top_p, kept):
    probs = torch.softmax(LOGITS / temperature, dim=-1)
    # The smallest prefix of the sorted probabilities whose mass reaches top_p, computed by hand.
    mass = probs.cumsum(0)
    assert (mass[kept - 2] < top_p if kept > 1 else True) and mass[kept - 1] >= top_p
    g = torch.Generator().manual_seed(3)
    samples = sample_next(LOGITS.repeat(N, 1), temperature=temperature, top_p=top_p, generator=g)
    probs[kept:] = 0
    assert_follows(samples, probs / probs.sum())


def test_rows_are_sampled_from_their_own_logits():
    # Two rows with opposite preferences: each row's samples follow its own distribution.
    rows = torch.stack([LOGITS, LOGITS.flip(0)])
    g = torch.Generator().manual_seed(4)
    samples = sample_next(rows.repeat(N // 2, 1), temperature=0.8, generator=g).view(N // 2, 2)
    assert_follows(samples[:, 0], torch.softmax(rows[0] / 0.8, -1))
    assert_follows(samples[:, 1], torch.softmax(rows[1] / 0.8, -1))


def test_greedy_is_the_argmax_of_each_row():
    rows = torch.stack([LOGITS, LOGITS.flip(0), LOGITS.roll(2)])
    for t in (0, -1.0, 1e-4):  # 1e-4: so cold that it is greedy too
        out = sample_next(rows, temperature=t, generator=torch.Generator().manual_seed(0))
        assert out.shape == (3, 1) and out.flatten().tolist() == [0, 5, 2]


def test_the_default_temperature_is_one():
    g = torch.Generator().manual_seed(5)
    assert_follows(sample_next(LOGITS.repeat(N, 1), generator=g), torch.softmax(LOGITS, dim=-1))
    model = _model("transformer")
    first = generate(model, torch.tensor([[1, 4, 2]]).repeat(N, 1), 1, seed=0)[:, -1]
    model.eval()
    with torch.no_grad():
        logits = model(torch.tensor([[1, 4, 2]]))[0][0, -1]
    assert_follows(first, torch.softmax(logits, dim=-1))


def _model(arch: str) -> torch.nn.Module:
    torch.manual_seed(0)
    cfg = ModelConfig(arch=arch, n_layer=1, n_head=2, n_embd=16, block_size=8, dropout=0.3, vocab_size=6)
    model = build_model(cfg)
    with torch.no_grad():  # sharpen the head so that temperature makes a large difference
        model.lm_head.weight.mul_(5)
    return model.train()  # generate must switch to eval itself


@pytest.mark.parametrize("use_cache", [True, False])
@pytest.mark.parametrize("arch", ["transformer", "lstm"])
@pytest.mark.parametrize("temperature", [0.5, 2.0])
def test_generate_samples_the_models_next_token_distribution(arch, use_cache, temperature):
    model = _model(arch)
    prompt = torch.tensor([[1, 4, 2]]).repeat(N, 1)
    first = generate(model, prompt, 1, temperature=temperature, seed=0, use_cache=use_cache)[:, -1]
    model.eval()
    with torch.no_grad():
        logits = model(prompt[:1])[0][0, -1]
    probs = torch.softmax(logits / temperature, dim=-1)
    assert probs.max() < 0.95  # not degenerate: the test can tell temperatures apart
    assert_follows(first, probs)
    assert chi2(first, torch.softmax(logits * temperature, dim=-1))[0] > 100


def test_second_token_is_sampled_given_the_first():
    """Each row's second token follows the model's distribution after that row's own first token."""
    model = _model("transformer")
    out = generate(model, torch.tensor([[3]]).repeat(N, 1), 2, temperature=0.8, seed=1)
    model.eval()
    for first in out[:, 1].unique().tolist():
        rows = out[out[:, 1] == first]
        if len(rows) < 2000:
            continue
        with torch.no_grad():
            logits = model(torch.tensor([[3, first]]))[0][0, -1]
        assert_follows(rows[:, 2], torch.softmax(logits / 0.8, dim=-1))


class _Chars:
    def encode(self, s: str) -> list[int]:
        return [ord(c) - 97 for c in s]

    def decode(self, ids: list[int]) -> str:
        return "".join(chr(i + 97) for i in ids)


def test_sample_text_passes_temperature_through():
    """sample_text draws exactly what generate draws at that temperature (whose distribution is tested
    above), and not what it would draw at another."""
    model = _model("transformer")
    texts = [
        sample_text(model, _Chars(), "bec", max_new_tokens=3, temperature=2.0, seed=s) for s in range(20)
    ]
    same = [
        _Chars().decode(generate(model, [1, 4, 2], 3, temperature=2.0, seed=s)[0].tolist()) for s in range(20)
    ]
    other = [
        _Chars().decode(generate(model, [1, 4, 2], 3, temperature=1.0, seed=s)[0].tolist()) for s in range(20)
    ]
    assert texts == same != other
    assert all(t.startswith("bec") and len(t) == 6 for t in texts)


def test_prompt_ids_of_any_integer_type_give_the_same_tokens():
    model = _model("transformer")
    want = generate(model, torch.tensor([[1, 4, 2]]), 5, seed=3)
    for dtype in (torch.int32, torch.int16, torch.uint8):  # numpy arrays and small-vocabulary ids
        got = generate(model, torch.tensor([[1, 4, 2]], dtype=dtype), 5, seed=3)
        assert got.dtype == torch.long and torch.equal(got, want)


def test_only_a_prompt_longer_than_the_context_is_cropped_with_a_warning():
    model = _model("transformer")  # block_size 8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        generate(model, list(range(6)) + [1, 2], 3, seed=0)  # exactly block_size tokens: no warning
    with pytest.warns(UserWarning, match="only its last 8 tokens"):
        out = generate(model, [5] + list(range(6)) + [1, 2], 3, seed=0)
    assert out.shape == (1, 12)


def test_an_empty_prompt_starts_from_token_zero_which_is_not_returned():
    model = _model("transformer")
    text = sample_text(model, _Chars(), "", max_new_tokens=4, temperature=0)
    from_zero = generate(model, [0], 4, temperature=0)[0, 1:].tolist()
    assert generate(model, [1], 4, temperature=0)[0, 1:].tolist() != from_zero  # the start matters here
    assert text == _Chars().decode(from_zero)


def test_bad_temperatures_are_refused_and_the_widest_filters_accepted():
    for t in (float("nan"), float("inf"), "0.8", True):
        with pytest.raises(ValueError, match="temperature"):
            sample_next(LOGITS.repeat(2, 1), temperature=t)
    model = _model("transformer")
    wide = generate(model, [1, 4, 2], 4, top_k=6, top_p=1.0, seed=9)  # top_k = vocab_size, top_p = 1
    assert torch.equal(wide, generate(model, [1, 4, 2], 4, seed=9))


def test_a_word_prompt_the_model_would_see_as_unknown_is_refused():
    tok = train_tokenizer("word", "to be or not to be\n" * 5, 6)
    model = _model("transformer")  # vocab 6, as the tokenizer's
    assert sample_text(model, tok, "to", max_new_tokens=2, seed=0).startswith("to")
    with pytest.raises(TokenizerError, match="outside this word tokenizer's vocabulary"):
        sample_text(model, tok, "zebra okapi", max_new_tokens=2, seed=0)
