"""The benchmark runs end to end (tiny settings) and the baselines are real, causal language models.

No timing is asserted here: performance figures live in the benchmark's output (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from lmhelpers.baseline import BaselineGPT, BaselineLSTM, build_baseline
from lmhelpers.bench import format_tables, run_bench
from lmhelpers.cli import main
from lmhelpers.config import ModelConfig
from lmhelpers.models import build_model

TINY = ["--preset", "smoke", "--steps", "1", "--warmup", "1", "--gen-preset", "smoke", "--gen-context", "8"]
TINY += ["--gen-tokens", "3", "--recompute-tokens", "2", "--peak-sizes", "128", "--device", "cpu"]


def _tiny_bench(**settings):
    """run_bench on the CPU at the smoke size: one step, a tiny peak, no generation, nothing printed."""
    tiny = dict(presets=["smoke"], device="cpu", steps=1, warmup=0, gen_preset=None, peak_sizes=[64])
    return run_bench(**{**tiny, **settings}, log=lambda *_: None)


def test_bench_cli_writes_positive_figures(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", *TINY, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert {"machine", "peak", "train", "generate", "speedups", "settings"} <= set(result)
    assert result["peak"]["float32"]["flops_per_s"] > 0
    rows = {(r["model"], r["impl"]) for r in result["train"]}
    assert rows == {
        ("transformer", "lmhelpers"),
        ("transformer", "baseline"),
        ("lstm", "lmhelpers"),
        ("lstm", "baseline"),
    }
    for r in result["train"]:
        for key in (
            "tokens_per_s",
            "model_flops_per_s",
            "mfu",
            "step_ms_median",
            "flops_per_token",
            "params",
        ):
            assert r[key] > 0 and math.isfinite(r[key]), (r["model"], r["impl"], key)
        assert r["preset"] == "smoke" and r["dtype"] == "float32" and r["compile"] is False
    modes = {(r["model"], r["mode"]) for r in result["generate"]}
    assert modes == {(a, m) for a in ("transformer", "lstm") for m in ("cached", "recompute", "baseline")}
    assert all(r["tokens_per_s"] > 0 for r in result["generate"])
    speed = result["speedups"]
    assert set(speed["train_vs_baseline"]) == {"transformer/smoke", "lstm/smoke"}
    assert {"transformer/cached_vs_recompute", "lstm/cached_vs_recompute"} <= set(speed["generate"])
    assert all(v > 0 for d in speed.values() for v in d.values())
    printed = capsys.readouterr().out
    assert "MFU" in printed and "| speed-up | ratio |" in printed


def test_bench_without_generation_or_baselines():
    result = _tiny_bench(models=["gru"], baseline=False)
    assert [(r["model"], r["impl"]) for r in result["train"]] == [("gru", "lmhelpers")]
    assert result["generate"] == [] and result["speedups"]["train_vs_baseline"] == {}
    assert "| gru | lmhelpers | smoke |" in format_tables(result)


def _cfg(arch: str, **kw) -> ModelConfig:
    base = dict(arch=arch, n_layer=2, n_head=2, n_embd=16, block_size=12, dropout=0.0, vocab_size=23)
    return ModelConfig(**{**base, **kw})


@pytest.mark.parametrize("arch", ["transformer", "lstm"])
def test_baseline_shapes_loss_and_size(arch):
    torch.manual_seed(0)
    cfg = _cfg(arch)
    model = build_baseline(cfg)
    assert isinstance(model, BaselineGPT if arch == "transformer" else BaselineLSTM)
    idx = torch.randint(23, (3, 12))
    logits, loss = model(idx, idx)
    assert logits.shape == (3, 12, 23)
    assert loss.shape == () and abs(loss.item() - math.log(23)) < 1.0  # near-uniform at init
    _, none = model(idx)
    assert none is None
    # Same ModelConfig, same parameter-count ballpark as the package's model (the baseline's output
    # head is untied), and FLOPs counted the same way.
    ours = build_model(cfg)
    assert 0.5 < model.num_params() / ours.num_params() < 2.0
    assert model.flops_per_token() > 0
    loss.backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("arch", ["transformer", "lstm"])
def test_baseline_is_causal(arch):
    torch.manual_seed(0)
    model = build_baseline(_cfg(arch)).eval()
    a = torch.randint(23, (1, 12))
    b = a.clone()
    b[0, 7:] = (b[0, 7:] + 5) % 23  # change the future only
    with torch.no_grad():
        la, _ = model(a)
        lb, _ = model(b)
    torch.testing.assert_close(la[:, :7], lb[:, :7])
    assert not torch.allclose(la[:, 7:], lb[:, 7:])


def test_baseline_attention_is_one_module_per_head_with_a_tril_buffer():
    model = BaselineGPT(_cfg("transformer", n_head=4))
    heads = model.blocks[0].sa.heads
    assert len(heads) == 4
    assert all(torch.equal(h.tril, torch.tril(torch.ones(12, 12))) for h in heads)


@pytest.mark.parametrize("arch", ["transformer", "lstm"])
def test_baseline_generate_recomputes_and_matches_greedy(arch):
    torch.manual_seed(0)
    model = build_baseline(_cfg(arch)).eval()
    prompt = torch.randint(23, (2, 5))
    out = model.generate(prompt, 20)  # past block_size: the GPT crops its window
    assert out.shape == (2, 25) and torch.equal(out[:, :5], prompt)
    # greedy: every new token is the argmax of a full forward over the (cropped) context
    ctx = out[:, : 5 + 3][:, -12:]
    with torch.no_grad():
        logits, _ = model(ctx)
    assert torch.equal(logits[:, -1].argmax(-1), out[:, 8])


def test_nanogpt_cpu_preset_is_nanogpts_cpu_example():
    from lmhelpers.config import make_config

    c = make_config("nanogpt-cpu")
    shape = (c.model.n_layer, c.model.n_head, c.model.n_embd, c.model.block_size, c.train.batch_size)
    assert shape == (4, 4, 128, 64, 12)
    assert (c.train.max_iters, c.model.dropout, c.model.bias, c.data.tokenizer) == (2000, 0.0, False, "char")


def test_transformer_without_biases():
    with_b = build_model(_cfg("transformer"))
    without = build_model(_cfg("transformer", bias=False))
    assert not any(name.endswith(".bias") for name, _ in without.named_parameters())
    assert without.num_params() < with_b.num_params()
    assert without.flops_per_token() == with_b.flops_per_token()
    logits, loss = without(torch.randint(23, (2, 12)), torch.randint(23, (2, 12)))
    assert logits.shape == (2, 12, 23) and torch.isfinite(loss)


def test_speedups_pair_rows_from_the_same_run():
    from lmhelpers.bench import speedups

    def row(impl, tps, compile=False):
        return dict(
            model="transformer", preset="cpu", batch_size=8, impl=impl, compile=compile, tokens_per_s=tps
        )

    gen = [
        dict(model="lstm", mode="cached", tokens_per_s=100.0),
        dict(model="lstm", mode="recompute", tokens_per_s=4.0),
    ]
    s = speedups([row("lmhelpers", 30.0), row("baseline", 10.0), row("lmhelpers", 60.0, True)], gen)
    assert s["train_vs_baseline"] == {"transformer/cpu": 3.0}
    assert s["compile_vs_eager"] == {"transformer/cpu": 2.0}
    assert s["generate"] == {"lstm/cached_vs_recompute": 25.0}


def test_compile_modes():
    from lmhelpers.bench import compile_modes

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    assert compile_modes("auto", cpu) == [False]
    assert compile_modes("auto", cuda) == [False, True]
    assert compile_modes("both", cpu) == [False, True]
    assert compile_modes("on", cpu) == [True] and compile_modes("off", cuda) == [False]
    with pytest.raises(ValueError, match="'both'"):
        compile_modes("yes", cpu)


def test_bench_bfloat16_on_cpu_is_stated_against_the_bfloat16_peak():
    result = _tiny_bench(models=["transformer"], baseline=False, dtype="bfloat16")
    assert set(result["peak"]) == {"float32", "bfloat16"}
    (row,) = result["train"]
    assert row["dtype"] == "bfloat16" and result["settings"]["dtype"] == "bfloat16"
    assert row["mfu"] == pytest.approx(row["model_flops_per_s"] / result["peak"]["bfloat16"]["flops_per_s"])
    assert "(bfloat16)" in format_tables(result)


@pytest.mark.parametrize("bad", [{"dtype": "fp8"}, {"compile": "always"}, {"profile_steps": -1}])
def test_bench_refuses_bad_settings_before_measuring(monkeypatch, bad):
    import lmhelpers.bench as bench

    def no_peak(*args, **kwargs):
        raise AssertionError("measured a peak before checking the settings")

    monkeypatch.setattr(bench, "matmul_peak", no_peak)
    with pytest.raises(ValueError, match=next(iter(bad))):
        _tiny_bench(**bad)


def test_bench_profile_lists_where_a_step_spends_its_time(capsys):
    assert main(["bench", *TINY, "--model", "transformer", "--no-baseline", "--profile", "2"]) == 0
    printed = capsys.readouterr().out
    result = json.loads(printed[printed.index("\n{") :])
    (row,) = result["train"]
    ops = row["profile"]
    assert 0 < len(ops) <= 12 and 0 < sum(op["share"] for op in ops) <= 1 + 1e-9
    assert [op["share"] for op in ops] == sorted((op["share"] for op in ops), reverse=True)
    assert all(op["ms_per_step"] > 0 and op["calls_per_step"] > 0 for op in ops)
    assert any(op["op"] in ("aten::mm", "aten::addmm", "aten::bmm") for op in ops)
    assert "calls  aten::" in printed
