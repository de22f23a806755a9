"""The benchmark runs end to end (tiny settings) and the baselines are real, causal language models.

No timing is asserted here: performance figures live in the benchmark's output (docs/benchmarks.md).
"""

from __future__ import annotations

import json
import math

import pytest
import torch

from lmhelpers import benchload
from lmhelpers.baseline import BaselineGPT, BaselineLSTM, build_baseline
from lmhelpers.bench import BenchOptions, format_tables, run_bench
from lmhelpers.cli import main
from lmhelpers.config import ModelConfig
from lmhelpers.models import build_model

TINY = ["--preset", "smoke", "--steps", "1", "--warmup", "1", "--gen-preset", "smoke", "--gen-context", "8"]
TINY += ["--gen-tokens", "3", "--recompute-tokens", "2", "--peak-sizes", "128", "--device", "cpu"]


FREE_CORES = benchload.free_cores


@pytest.fixture(autouse=True)
def short_load_samples(monkeypatch):
    """The idle samples before and after a run last 0.5 s; a test has no use for them. Nor does it drop
    threads for the load of other tests running beside it (that rule is tested in test_bench_harness)."""
    monkeypatch.setattr(benchload, "SAMPLE_S", 0.01)
    monkeypatch.setattr(benchload, "free_cores", lambda others_cores, threads: threads)


def _tiny_bench(**settings):
    """run_bench on the CPU at the smoke size: two steps in two rounds, a tiny peak, no generation."""
    tiny = dict(presets=["smoke"], device="cpu", steps=2, warmup=0, gen_preset=None, peak_sizes=[64])
    return run_bench(BenchOptions(**{**tiny, **settings}), log=lambda *_: None)


def test_bench_cli_writes_positive_figures(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", *TINY, "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert {"machine", "peak", "train", "generate", "speedups", "settings", "load", "warnings"} <= set(result)
    assert result["settings"] == {**result["settings"], "presets": ["smoke"], "steps": 1, "gen_rounds": 5}
    peak = result["peak"]["float32"]
    assert peak["flops_per_s"] > 0 and [m["when"] for m in peak["measurements"]] == [
        "start",
        "after training",
    ]
    assert peak["flops_per_s"] == max(m["flops_per_s"] for m in peak["measurements"])
    assert {"start", "during", "end"} <= set(result["load"])
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
        assert r["step_ms_min"] <= r["step_ms_median"] <= r["step_ms_max"] and len(r["step_ms_rounds"]) == 1
        assert r["valid"] is (r["mfu"] <= 1)
    modes = {(r["model"], r["mode"]) for r in result["generate"]}
    assert modes == {(a, m) for a in ("transformer", "lstm") for m in ("cached", "recompute", "baseline")}
    assert all(r["tokens_per_s"] > 0 and len(r["tokens_per_s_rounds"]) == 5 for r in result["generate"])
    speed = result["speedups"]
    assert set(speed["train_vs_baseline"]) == {"transformer/smoke", "lstm/smoke"}
    assert {"transformer/cached_vs_recompute", "lstm/cached_vs_baseline"} <= set(speed["generate"])
    assert all(
        v["min"] <= v["ratio"] <= v["max"] and v["ratio"] > 0 for d in speed.values() for v in d.values()
    )
    assert speed["generate"]["lstm/cached_vs_recompute"]["pairs"] == 5
    printed = capsys.readouterr().out
    assert "MFU" in printed and "| speed-up (interleaved, pair by pair) | ratio (median) |" in printed


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


def test_bench_bfloat16_on_cpu_is_stated_against_the_bfloat16_peak():
    result = _tiny_bench(models=["transformer"], baseline=False, dtype="bfloat16")
    assert set(result["peak"]) == {"float32", "bfloat16"}
    (row,) = result["train"]
    assert row["dtype"] == "bfloat16" and result["settings"]["dtype"] == "bfloat16"
    rate, peak = ("cpu_", "cpu_") if result["clock"] == "cpu" else ("", "")  # cpu: a one-thread run
    expected = row[f"{rate}model_flops_per_s"] / result["peak"]["bfloat16"][f"{peak}flops_per_s"]
    assert row["mfu"] == pytest.approx(expected) and row["mfu_clock"] == result["clock"]
    assert "(bfloat16, " in format_tables(result)


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--steps", "0"], "bench --steps 0 (BenchOptions.steps): give a whole number of at least 1"),
        (["--rounds", "-2"], "--rounds -2"),
        (["--profile", "-1"], "--profile -1"),
        (["--gen-tokens", "0"], "--gen-tokens 0"),
        (["--peak-sizes", "64", "0"], "--peak-sizes 0"),
    ],
)
def test_bench_refuses_bad_settings_before_measuring(monkeypatch, capsys, flags, message):
    import lmhelpers.bench as bench

    def no_peak(*args, **kwargs):
        raise AssertionError("measured a peak before checking the settings")

    monkeypatch.setattr(bench, "measure_peaks", no_peak)
    assert main(["bench", *TINY, *flags]) == 2
    assert message in capsys.readouterr().err


def test_an_impossible_mfu_is_marked_in_the_table_and_the_json(monkeypatch):
    """A peak measured below what the rows achieve (as on a busy machine) marks the rows, not hides them."""
    import lmhelpers.bench as bench

    monkeypatch.setattr(bench, "measure_peaks", lambda *a, **k: {"float32": {"flops_per_s": 1e3, "size": 64}})
    result = _tiny_bench(models=["transformer"], baseline=False)
    (row,) = result["train"]
    assert row["mfu"] > 1 and row["valid"] is False and "impossible" in row["invalid_reason"]
    assert any("marked invalid" in w for w in result["warnings"])
    assert "**INVALID**" in format_tables(result)


def test_run_bench_gives_the_threads_back(monkeypatch):
    """A busy machine makes run_bench use fewer threads; the caller's setting is restored afterwards."""
    before = torch.get_num_threads()
    monkeypatch.setattr(benchload, "free_cores", FREE_CORES)  # the real rule, which the fixture replaced
    monkeypatch.setattr(
        benchload, "sample", lambda seconds=None: {"others_cores": 64.0, "load_average": None}
    )
    result = _tiny_bench(models=["lstm"], baseline=False)
    assert result["machine"]["torch_threads"] == 1 and result["train"][0]["threads"] == 1
    assert (before == 1) or any("torch thread" in note for note in result["machine"]["notes"])
    assert torch.get_num_threads() == before


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
