"""Generation: cached == recompute at any length, determinism, RNG hygiene, filtering, errors, modes."""

from __future__ import annotations

import re
import unicodedata

import pytest
import torch

from lmhelpers.config import ARCHES, ModelConfig
from lmhelpers.generation import encode_prompt, generate, sample_next, sample_text, window_start
from lmhelpers.models import build_model
from lmhelpers.tokenizers import train_tokenizer

V, BLOCK = 50, 16


def make(arch: str, seed: int = 0, **kw) -> torch.nn.Module:
    base = dict(arch=arch, n_layer=2, n_head=2, n_embd=32, block_size=BLOCK, dropout=0.2, vocab_size=V)
    base.update(kw)
    torch.manual_seed(seed)
    return build_model(ModelConfig(**base)).train()  # left in train mode: generate must switch to eval


def prompt(T: int, B: int = 1, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, V, (B, T), generator=torch.Generator().manual_seed(seed))


@pytest.mark.filterwarnings("ignore::lmhelpers.generation.PromptCroppedWarning")  # the long prompt
@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize(
    "T, new",
    [(3, 10), (3, 60), (2 * BLOCK + 3, 25)],  # within the window, well beyond it, prompt longer than it
)
def test_cached_equals_recompute(arch, T, new):
    model = make(arch)
    p = prompt(T, B=2)
    for kw in (
        dict(temperature=0.0),
        dict(temperature=1.0, seed=7),
        dict(temperature=0.8, top_k=10, top_p=0.9, seed=3),
    ):
        cached = generate(model, p, new, use_cache=True, **kw)
        full = generate(model, p, new, use_cache=False, **kw)
        assert cached.shape == (2, T + new)
        assert torch.equal(cached[:, :T], p)
        assert torch.equal(cached, full), kw


def test_greedy_deterministic_and_is_argmax():
    model = make("transformer")
    p = prompt(5)
    a, b = generate(model, p, 30, temperature=0), generate(model, p, 30, temperature=-1.0)
    assert torch.equal(a, b)
    model.eval()
    with torch.no_grad():
        expected = model(p)[0][:, -1].argmax(-1)
    assert generate(model, p, 1, temperature=0)[0, -1] == expected
    # top_k=1 and a tiny nucleus leave only the argmax, so sampling must agree with greedy
    assert torch.equal(generate(model, p, 30, top_k=1, seed=1), a)
    assert torch.equal(generate(model, p, 30, top_p=1e-6, seed=1), a)


@pytest.mark.parametrize("arch", ["transformer", "gru"])
def test_seeded_sampling_reproducible_and_leaves_global_rng(arch):
    model = make(arch)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = generate(model, [1, 2, 3], 40, seed=5)
    b = generate(model, [1, 2, 3], 40, seed=5)
    c = generate(model, [1, 2, 3], 40, seed=6)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(a, b) and not torch.equal(a, c)


def test_unseeded_sampling_follows_global_seed():
    model = make("lstm")
    torch.manual_seed(1)
    a = generate(model, [4], 20)
    torch.manual_seed(1)
    assert torch.equal(a, generate(model, [4], 20))


def test_prompt_forms():
    model = make("rnn")
    out = generate(model, [1, 2, 3], 4, temperature=0)
    assert out.shape == (1, 7) and out.dtype == torch.long
    assert torch.equal(generate(model, torch.tensor([1, 2, 3]), 4, temperature=0), out)
    with pytest.raises(ValueError, match="prompt"):
        generate(model, [], 4)


def test_top_k_and_top_p_filtering():
    g = torch.Generator().manual_seed(0)
    logits = torch.log(torch.tensor([[0.5, 0.3, 0.15, 0.05]])).repeat(2000, 1)
    assert set(sample_next(logits, top_k=2, generator=g).unique().tolist()) == {0, 1}
    assert set(sample_next(logits, top_p=0.8, generator=g).unique().tolist()) == {0, 1}
    assert set(sample_next(logits, top_p=0.81, generator=g).unique().tolist()) == {0, 1, 2}
    assert set(sample_next(logits, top_p=0.4, generator=g).unique().tolist()) == {0}
    assert set(sample_next(logits, generator=g).unique().tolist()) == {0, 1, 2, 3}
    assert (sample_next(logits, temperature=0) == 0).all()


@pytest.mark.parametrize(
    "kw",
    [
        dict(top_k=0),
        dict(top_k=V + 1),
        dict(top_k=2.5),
        dict(top_p=0.0),
        dict(top_p=1.5),
        dict(max_new_tokens=0),
    ],
)
def test_invalid_arguments(kw):
    args = dict(max_new_tokens=5) | kw
    with pytest.raises(ValueError, match=next(iter(kw))):
        generate(make("transformer"), [1], **args)


def test_model_mode_restored():
    model = make("transformer")
    model.blocks[0].eval()  # a mixed state must come back exactly as it was
    modes = [m.training for m in model.modules()]
    generate(model, [1], 5)
    assert [m.training for m in model.modules()] == modes
    model.eval()
    generate(model, [1], 5)
    assert not any(m.training for m in model.modules())


def test_window_policy():
    assert window_start(16, 0, 16) == 0  # a full window is still fine
    assert window_start(17, 0, 16) == 9  # one too many: keep the last 8
    assert window_start(20, 9, 16) == 9
    assert window_start(26, 9, 16) == 18
    assert window_start(2, 0, 1) == 1  # block_size 1 keeps at least one token


@pytest.mark.filterwarnings("ignore::lmhelpers.generation.PromptCroppedWarning")  # 2 tokens > block 1
def test_transformer_block_size_one():
    model = make("transformer", block_size=1)
    assert torch.equal(
        generate(model, [1, 2], 10, seed=0), generate(model, [1, 2], 10, seed=0, use_cache=False)
    )


class CharTokenizer:
    def encode(self, s: str) -> list[int]:
        return [ord(c) - 97 for c in s]

    def decode(self, ids: list[int]) -> str:
        return "".join(chr(i + 97) for i in ids)


def test_sample_text():
    model = make("gru")
    text = sample_text(model, CharTokenizer(), "abc", max_new_tokens=12, seed=0)
    assert text.startswith("abc") and len(text) == 15
    empty = sample_text(model, CharTokenizer(), "", max_new_tokens=12, seed=0)  # starts from token 0
    assert len(empty) == 12
    assert empty == CharTokenizer().decode(generate(model, [0], 12, seed=0)[0, 1:].tolist())


@pytest.mark.parametrize(
    "kw, says",
    [
        (
            {"max_new_tokens": 10**9},
            "max_new_tokens=1000000000 is invalid: an integer >= 1 and at most 100,000",
        ),
        ({"temperature": float("nan")}, "temperature=nan is invalid: a finite number"),
        ({"temperature": float("inf")}, "temperature=inf is invalid"),
        ({"temperature": "0.8"}, "temperature='0.8' is invalid"),
        ({"temperature": True}, "temperature=True is invalid"),
        ({"top_p": True}, "top_p=True is invalid"),
    ],
)
def test_sampling_arguments_are_bounded_before_any_work(kw, says):
    model = build_model(ModelConfig(arch="gru", n_layer=1, n_embd=8, block_size=8, vocab_size=5))
    with pytest.raises(ValueError, match=re.escape(says)):
        generate(model, [1, 2], **{"max_new_tokens": 3, **kw})


def test_a_vanishing_temperature_is_greedy_not_an_error():
    model = build_model(ModelConfig(arch="gru", n_layer=1, n_embd=8, block_size=8, vocab_size=5))
    cold = generate(model, [1, 2], max_new_tokens=6, temperature=1e-40, seed=0)
    assert torch.equal(cold, generate(model, [1, 2], max_new_tokens=6, temperature=0))


def test_a_prompt_that_is_not_text_is_refused():
    tok = train_tokenizer("char", "abc")
    with pytest.raises(ValueError, match="prompt=5 is invalid: a string"):
        encode_prompt(tok, 5)


def test_the_prompt_is_brought_into_the_corpus_unicode_form():
    decomposed = unicodedata.normalize("NFD", "café résumé")  # e + combining accent, as some files are
    tok = train_tokenizer("char", decomposed)  # a corpus kept as it is (DataConfig.normalize="none")
    assert encode_prompt(tok, decomposed, "none") == tok.encode(decomposed)
    with pytest.raises(ValueError, match="not in the char vocabulary"):
        encode_prompt(tok, decomposed)  # NFC composes é, which this corpus never spelled that way
    model = build_model(ModelConfig(arch="gru", n_layer=1, n_embd=8, block_size=8, vocab_size=tok.vocab_size))
    assert sample_text(model, tok, decomposed, max_new_tokens=3, normalize="none", seed=0).startswith(
        decomposed
    )


def test_a_sample_is_two_hundred_new_tokens_unless_told_otherwise():
    tok = train_tokenizer("char", "abcdefgh")
    model = build_model(ModelConfig(arch="gru", n_layer=1, n_embd=8, block_size=8, vocab_size=tok.vocab_size))
    assert len(sample_text(model, tok, "abc", seed=0)) == 3 + 200
