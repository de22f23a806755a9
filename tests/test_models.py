"""Model invariants: causality, incremental == full forward, weight tying, sizes, sane init, learning."""

from __future__ import annotations

import math

import pytest
import torch

from lmhelpers.config import ARCHES, ModelConfig
from lmhelpers.models import MODEL_CLASSES, build_model, model_summary
from lmhelpers.rnn import RNNLanguageModel
from lmhelpers.transformer import TransformerLanguageModel

V, BLOCK = 50, 16


def tiny(arch: str = "transformer", **kw) -> ModelConfig:
    base = dict(arch=arch, n_layer=2, n_head=2, n_embd=32, block_size=BLOCK, dropout=0.0, vocab_size=V)
    base.update(kw)
    return ModelConfig(**base)


def make(arch: str, seed: int = 0, **kw) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(tiny(arch, **kw)).eval()


def tokens(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, V, shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("arch", ARCHES)
def test_causal_past_unchanged_future_changed(arch):
    model = make(arch)
    x = tokens(2, BLOCK)
    t = 7
    x2 = x.clone()
    x2[:, t] = (x[:, t] + 1) % V  # change one token
    with torch.no_grad():
        a, _ = model(x)
        b, _ = model(x2)
    torch.testing.assert_close(a[:, :t], b[:, :t], rtol=0, atol=1e-6)  # the past cannot see it
    change = (a[:, t:] - b[:, t:]).abs().amax(dim=-1)  # [B, T - t]
    assert (change > 1e-5).all(), "logits at and after the changed token should change"


@pytest.mark.parametrize("arch", ARCHES)
def test_forward_step_matches_forward(arch):
    model = make(arch, dropout=0.3)  # eval mode: the dropout must not matter
    x = tokens(2, BLOCK, seed=1)
    with torch.no_grad():
        full, _ = model(x)
        state = model.init_state(2)
        pieces = []
        # prefill 5, then a chunk of 4 (new queries against a non-empty cache), then single tokens
        for lo, hi in [(0, 5), (5, 9)] + [(i, i + 1) for i in range(9, BLOCK)]:
            logits, state = model.forward_step(x[:, lo:hi], state)
            pieces.append(logits)
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, rtol=1e-4, atol=1e-5)


def test_rnn_state_shapes_and_device():
    for arch in ("rnn", "gru", "lstm"):
        model = make(arch)
        state = model.init_state(3)
        h = state[0] if arch == "lstm" else state
        assert h.shape == (2, 3, 32) and h.device == model.tok_emb.weight.device
        assert not h.any()
    assert make("transformer").init_state(3) is None


def test_transformer_too_long_input_raises():
    model = make("transformer")
    with pytest.raises(ValueError, match="block_size"):
        model(tokens(1, BLOCK + 1))
    _, cache = model.forward_step(tokens(1, BLOCK - 1), None)
    with pytest.raises(ValueError, match="block_size"):
        model.forward_step(tokens(1, 2), cache)


def test_rnn_accepts_any_length():
    logits, _ = make("lstm")(tokens(1, 3 * BLOCK))
    assert logits.shape == (1, 3 * BLOCK, V)


@pytest.mark.parametrize("arch", ARCHES)
def test_tied_weights_shared_and_counted_once(arch):
    tied, untied = make(arch, tie_weights=True), make(arch, tie_weights=False)
    assert tied.lm_head.weight is tied.tok_emb.weight
    assert tied.lm_head.weight.data_ptr() == tied.tok_emb.weight.data_ptr()
    assert untied.lm_head.weight.data_ptr() != untied.tok_emb.weight.data_ptr()
    assert tied.num_params() == untied.num_params() - V * 32
    unique = {p.data_ptr(): p.numel() for p in tied.parameters()}
    assert tied.num_params() == sum(unique.values())
    # the body excludes vocabulary-sized tables, so it does not depend on tying
    assert (
        0 < tied.num_params(non_embedding=True) == untied.num_params(non_embedding=True) < tied.num_params()
    )


@pytest.mark.parametrize("arch", ARCHES)
def test_flops_positive_and_grow_with_depth(arch):
    f1, f2 = make(arch, n_layer=1).flops_per_token(), make(arch, n_layer=3).flops_per_token()
    assert 0 < f1 < f2


def test_flops_formulas():
    d, L, T = 32, 2, BLOCK
    n_matmul = L * 12 * d * d + V * d
    assert make("transformer").flops_per_token() == 6 * n_matmul + 12 * L * d * T
    assert make("transformer").flops_per_token(4 * T) > make("transformer").flops_per_token()
    assert make("lstm").flops_per_token() == 3 * (L * 2 * 4 * (d * d + d * d) + 2 * d * V)


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("tie", [True, False])
def test_initial_loss_near_uniform(arch, tie):
    model = make(arch, tie_weights=tie)
    with torch.no_grad():
        _, loss = model(tokens(8, BLOCK, seed=2), tokens(8, BLOCK, seed=3))
    assert abs(loss.item() - math.log(V)) < 0.3


def test_scaled_residual_init():
    model = make("transformer", n_layer=8, n_embd=64)
    w = model.blocks[0].mlp.proj.weight
    assert abs(w.std().item() - 0.02 / math.sqrt(16)) < 0.001
    assert abs(model.blocks[0].attn.qkv.weight.std().item() - 0.02) < 0.002


@pytest.mark.parametrize("arch", ["transformer", "lstm"])
def test_overfits_repeated_sequence(arch):
    model = make(arch).train()
    pattern = torch.randperm(V, generator=torch.Generator().manual_seed(0))[:8]
    seq = pattern.repeat(8)  # 64 tokens, each determines the next
    x = torch.stack([seq[i : i + BLOCK] for i in range(0, 40, 5)])
    y = torch.stack([seq[i + 1 : i + BLOCK + 1] for i in range(0, 40, 5)])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    for _ in range(100):
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    assert loss.item() < 0.5


def test_attention_maps():
    model = make("transformer", dropout=0.5).train()
    x = tokens(1, 10)
    maps = model.attention_maps(x)
    assert maps.shape == (2, 2, 10, 10)
    torch.testing.assert_close(maps.sum(-1), torch.ones(2, 2, 10))
    assert (maps.triu(diagonal=1) == 0).all()
    torch.testing.assert_close(model.attention_maps(x[0]), maps, rtol=0, atol=0)  # no dropout: eval mode
    assert model.training
    with pytest.raises(ValueError):
        model.attention_maps(tokens(2, 10))


def test_attention_maps_match_sdpa():
    # the explicit weights must be the ones SDPA uses: recompute layer 0's attention output with them
    model = make("transformer")
    x = tokens(1, 12)
    attn = model.blocks[0].attn
    with torch.no_grad():
        h = model.blocks[0].ln_1(model.tok_emb(x) + model.pos_emb(torch.arange(12)))
        _, _, v = attn._heads(h)
        y_maps = model.attention_maps(x)[0:1] @ v  # [1, H, T, hd]
        y_sdpa, _ = attn(h)
        y_maps = attn.proj(y_maps.transpose(1, 2).reshape(1, 12, 32))
    torch.testing.assert_close(y_maps, y_sdpa, rtol=1e-4, atol=1e-6)


def test_build_model_and_summary():
    assert set(MODEL_CLASSES) == set(ARCHES)
    assert isinstance(build_model(tiny("transformer")), TransformerLanguageModel)
    assert isinstance(build_model(tiny("gru")), RNNLanguageModel)
    assert isinstance(build_model(tiny("gru")).rnn, torch.nn.GRU)
    with pytest.raises(ValueError, match="set vocab_size from the tokenizer"):
        build_model(tiny("lstm", vocab_size=None))
    model = make("lstm")
    s = model_summary(model)
    assert s["arch"] == "lstm" and s["params"] == model.num_params()
    assert s["non_embedding_params"] < s["params"] and s["flops_per_token"] > 0
    assert s["config"]["n_embd"] == 32 and s["config"]["vocab_size"] == V
