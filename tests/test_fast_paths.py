"""The speed-motivated code paths compute what the plain ones do (see docs/benchmarks.md)."""

from __future__ import annotations

import torch

from lmhelpers.config import ModelConfig, TrainConfig
from lmhelpers.device import keep_freed_memory
from lmhelpers.generation import generate
from lmhelpers.models import build_model
from lmhelpers.training import make_optimizer
from lmhelpers.transformer import KVCache


def _model(arch: str = "transformer", **kw):
    torch.manual_seed(0)
    base = dict(arch=arch, n_layer=2, n_head=2, n_embd=16, block_size=12, dropout=0.0, vocab_size=19)
    return build_model(ModelConfig(**{**base, **kw}))


def test_kv_cache_fills_window_sized_buffers_in_place():
    model = _model().eval()
    x = torch.randint(19, (2, 12))
    with torch.no_grad():
        _, a = model.forward_step(x[:, :5], None)
        _, b = model.forward_step(x[:, 5:6], a)
    assert isinstance(b, KVCache) and (a.length, b.length) == (5, 6)
    assert b.keys[0].shape == (2, 2, 12, 8)  # [B, n_head, block_size, head_dim]
    assert b.keys[0] is a.keys[0]  # shared buffers: the new token was written in place
    with torch.no_grad():
        _, fresh = model.forward_step(x[:, :6], None)
    torch.testing.assert_close(b.keys[1][:, :, :6], fresh.keys[1][:, :, :6])


def test_cpu_attention_with_dropout_is_causal_and_drops():
    model = _model(dropout=0.5).train()
    a = torch.randint(19, (2, 12))
    b = a.clone()
    b[:, 8:] = (b[:, 8:] + 3) % 19
    torch.manual_seed(1)
    la, _ = model(a)
    torch.manual_seed(1)  # the same dropout masks
    lb, _ = model(b)
    torch.testing.assert_close(la[:, :8], lb[:, :8])
    torch.manual_seed(2)
    lc, _ = model(a)
    assert not torch.allclose(la, lc)  # dropout is on in training
    la.sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters())


def test_carried_lstm_step_matches_the_sequence_kernel():
    model = _model("lstm").eval()
    x = torch.randint(19, (2, 10))
    with torch.no_grad():
        full, _ = model(x)
        state, steps = model.init_state(2), []
        for t in range(10):
            logits, state = model.forward_step(x[:, t : t + 1], state)
            steps.append(logits)
    torch.testing.assert_close(torch.cat(steps, dim=1), full, rtol=1e-4, atol=1e-5)
    assert torch.backends.mkldnn.enabled  # the switch is put back
    out = generate(model, x[:, :3], 5, temperature=0)
    assert torch.equal(out, generate(model, x[:, :3], 5, temperature=0, use_cache=False))


def test_fused_adamw_on_cpu_matches_the_loop():
    cfg = TrainConfig(learning_rate=1e-2)
    results = []
    for fused in (True, False):
        model = _model()
        opt = make_optimizer(model, cfg, torch.device("cpu"))
        if not fused:  # the same groups, stepped one parameter at a time
            groups = [{"params": g["params"], "weight_decay": g["weight_decay"]} for g in opt.param_groups]
            opt = torch.optim.AdamW(groups, lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2), foreach=False)
            assert not opt.defaults["fused"]
        for _ in range(3):
            _, loss = model(torch.arange(12).view(1, 12) % 19, torch.arange(1, 13).view(1, 12) % 19)
            loss.backward()
            opt.step()
            opt.zero_grad()
        results.append([p.detach().clone() for p in model.parameters()])
    for a, b in zip(*results):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)  # lr 1e-2: 1% of a step


def test_keep_freed_memory_is_idempotent():
    first = keep_freed_memory()
    assert keep_freed_memory() == first
