"""The benchmark's harness and verdicts, on made-up figures: interleaving order, pairwise ratios, the
peak kept over several measurements, impossible MFU marked, a platform without steal reported, and options
checked with clear errors. Fast, and no timing is asserted."""

from __future__ import annotations

import argparse
from dataclasses import asdict, fields

import bench_agreement
import pytest

from lmhelpers import benchload
from lmhelpers.bench import BenchOptions, add_parser
from lmhelpers.benchreport import apply_mfu, format_tables, speedups, warnings_for
from lmhelpers.benchtiming import best_peaks, interleave, middle, pairwise_ratio, round_order, split_steps
from lmhelpers.config import ARCHES, DEVICES, DTYPES, PRESETS


# ------------------------------------------------------------------------------------------ timing
def test_interleave_rotates_the_order_and_times_each_unit():
    calls, now = [], [0.0]
    cost = {"a": 1.0, "b": 3.0, "c": 10.0}  # seconds per unit on a fake clock

    def runner(name):
        def run(n):
            calls.append((name, n))
            now[0] += cost[name] * n

        return run

    counts = {"a": [2, 1, 1], "b": [2, 1, 1], "c": [5, 5, 5]}
    clocks = {"wall": lambda: now[0], "double": lambda: 2 * now[0]}
    per_unit = interleave({n: runner(n) for n in "abc"}, counts, clocks=clocks)
    assert calls == [
        ("a", 2), ("b", 2), ("c", 5),  # round 0: a b c
        ("c", 5), ("b", 1), ("a", 1),  # round 1: c b a
        ("a", 1), ("b", 1), ("c", 5),  # round 2: a b c
    ]  # fmt: skip
    assert {name: clock["wall"] for name, clock in per_unit.items()} == {
        "a": [1.0] * 3,
        "b": [3.0] * 3,
        "c": [10.0] * 3,
    }
    assert per_unit["c"]["double"] == [20.0] * 3


def test_round_order_reverses_and_the_reference_sits_in_the_middle():
    assert [round_order(["a", "b"], r) for r in range(3)] == [["a", "b"], ["b", "a"], ["a", "b"]]
    assert middle(["cached", "recompute", "baseline"], "cached") == ["recompute", "cached", "baseline"]
    assert middle(["eager", "compiled", "baseline"], "eager") == ["compiled", "eager", "baseline"]
    assert middle(["eager", "baseline"], "eager") == ["eager", "baseline"]


def test_interleave_needs_one_count_per_round_for_everyone():
    with pytest.raises(ValueError, match="one count per round"):
        interleave({"a": lambda n: None, "b": lambda n: None}, {"a": [1, 1], "b": [1]})


def test_split_steps():
    assert split_steps(30, 10) == [3] * 10
    assert split_steps(7, 3) == [3, 2, 2]
    assert split_steps(2, 5) == [1, 1]  # never an empty round
    with pytest.raises(ValueError):
        split_steps(0, 3)


def test_pairwise_ratio_divides_round_by_round():
    # Round 2 was hit by a load spike on both sides: the pairs stay 2, 2, 3; the medians' ratio would be 3.
    fast, slow = [10.0, 40.0, 10.0], [20.0, 80.0, 30.0]
    assert pairwise_ratio(slow, fast) == {"ratio": 2.0, "min": 2.0, "max": 3.0, "pairs": 3}
    with pytest.raises(ValueError, match="same rounds"):
        pairwise_ratio([1.0, 2.0], [1.0])


def test_best_peaks_keeps_every_measurement_and_the_best():
    start = {"float32": {"flops_per_s": 80e9, "size": 1024}}
    after = {"float32": {"flops_per_s": 160e9, "size": 2048}}
    (name, peak), = best_peaks([("start", start), ("after training", after)]).items()  # fmt: skip
    assert name == "float32" and peak["flops_per_s"] == 160e9 and peak["size"] == 2048
    assert peak["when"] == "after training" and peak["spread"] == pytest.approx(0.5)
    assert [m["when"] for m in peak["measurements"]] == ["start", "after training"]
    # without CPU-time figures (a GPU run, an older file) the CPU-time peak is the wall-clock one
    assert peak["cpu_flops_per_s"] == 160e9 and peak["cpu_spread"] == pytest.approx(0.5)


# ------------------------------------------------------------------------------------------ verdicts
def _train_row(impl, rounds_ms, gflops=50.0, **kw):
    row = dict(model="lstm", preset="reference", batch_size=8, block_size=256, impl=impl, compile=False)
    row.update(params=1e6, dtype="float32", step_ms_rounds=rounds_ms, rounds=len(rounds_ms))
    row.update(step_cpu_ms_rounds=list(rounds_ms))
    row.update(step_ms_min=min(rounds_ms), step_ms_median=sorted(rounds_ms)[len(rounds_ms) // 2])
    row.update(step_ms_max=max(rounds_ms), tokens_per_s=1000.0, model_flops_per_s=gflops * 1e9)
    return {**row, **kw}


def _result(train, peaks, gen=()):
    machine = dict(cpu_name="AMD EPYC", device_name="x86_64", torch_threads=2, torch="2.x", notes=[])
    result = dict(machine=machine, peak=peaks, train=list(train), generate=list(gen), load={})
    result["speedups"] = speedups(result["train"], result["generate"])
    return result


def test_a_row_above_the_peak_is_marked_invalid_with_its_reason():
    peaks = best_peaks([("start", {"float32": {"flops_per_s": 81e9, "size": 2048}})])
    rows = [_train_row("lmhelpers", [10.0], gflops=105.0), _train_row("baseline", [12.0], gflops=40.0)]
    apply_mfu(rows, peaks)
    over, fine = rows
    assert over["mfu"] == pytest.approx(105 / 81) and over["valid"] is False
    assert "130%" in over["invalid_reason"] and "81 GFLOP/s" in over["invalid_reason"]
    assert fine["valid"] is True and "invalid_reason" not in fine
    result = _result(rows, peaks)
    result["warnings"] = warnings_for(result)
    assert "1 training row(s) read MFU above 100% and are marked invalid" in result["warnings"]
    lines = format_tables(result).splitlines()
    (marked,) = [line for line in lines if "| lstm | lmhelpers |" in line]
    assert "**INVALID** 129.6% (float32, wall)" in marked and "impossible" in marked
    (unmarked,) = [line for line in lines if "| lstm | baseline |" in line]
    assert "INVALID" not in unmarked and "49.4% (float32, wall)" in unmarked


def test_mfu_by_cpu_time_is_against_the_cpu_time_peak():
    """A one-thread run on a busy machine states MFU by CPU time: its rate over the CPU-time peak."""
    measured = {"float32": {"flops_per_s": 50e9, "cpu_flops_per_s": 200e9, "size": 1024}}
    peaks = best_peaks([("start", measured)])
    row = _train_row("lmhelpers", [10.0], gflops=60.0, cpu_model_flops_per_s=100e9)
    apply_mfu([row], peaks, clock="cpu")
    assert row["mfu"] == pytest.approx(0.5) and row["valid"] is True and row["mfu_clock"] == "cpu"
    apply_mfu([row], peaks)  # by the wall clock the same row reads 120%: marked, not printed as true
    assert (
        row["mfu"] == pytest.approx(1.2) and row["valid"] is False and "(wall clock)" in row["invalid_reason"]
    )


def test_speedups_are_pairwise_over_rows_of_the_same_group():
    rows = [
        _train_row("lmhelpers", [10.0, 40.0, 10.0], step_cpu_ms_rounds=[10.0, 10.0, 10.0]),
        _train_row("baseline", [20.0, 80.0, 30.0], step_cpu_ms_rounds=[30.0, 30.0, 30.0]),
        _train_row("lmhelpers", [5.0, 20.0, 5.0], compile=True),
        _train_row("baseline", [99.0, 99.0, 99.0], preset="cpu"),  # another group: never paired
    ]
    gen = [
        dict(model="lstm", mode="cached", tokens_per_s_rounds=[100.0, 50.0]),
        dict(model="lstm", mode="recompute", tokens_per_s_rounds=[4.0, 2.5]),
    ]
    s = speedups(rows, gen)
    pairs = {"ratio": 2.0, "min": 2.0, "max": 3.0, "pairs": 3, "clock": "wall"}
    assert s["train_vs_baseline"] == {"lstm/reference": pairs}
    assert s["compile_vs_eager"]["lstm/reference"]["ratio"] == 2.0
    # by this process's CPU time instead (what a one-thread run on a busy machine divides)
    assert speedups(rows, [], clock="cpu")["train_vs_baseline"]["lstm/reference"]["ratio"] == 3.0
    assert s["generate"] == {
        "lstm/cached_vs_recompute": {"ratio": 22.5, "min": 20.0, "max": 25.0, "pairs": 2, "clock": "wall"}
    }


def test_peak_spread_and_contended_rows_are_warned_about():
    peaks = best_peaks([("start", {"float32": {"flops_per_s": 81e9, "size": 2048}}), ("end", {"float32": {"flops_per_s": 158e9, "size": 2048}})])  # fmt: skip
    row = _train_row("lmhelpers", [10.0], load={"others_cores": 0.9, "steal_share": 0.0})
    apply_mfu([row], peaks)
    result = _result([row], peaks)
    warnings = warnings_for(result)
    assert any("peak (wall clock) moved 49%" in w and "81 (start), 158 (end)" in w for w in warnings)
    assert any("other processes used over" in w for w in warnings)
    assert "others used 0.90 cores" in format_tables(result)


def test_a_platform_without_steal_is_reported_without_it():
    """macOS counts no steal: the load says None there, and the warnings and tables still come out."""
    peaks = best_peaks([("start", {"float32": {"flops_per_s": 81e9, "size": 2048}})])
    row = _train_row("lmhelpers", [10.0])
    apply_mfu([row], peaks)
    result = _result([row], peaks)
    result["load"] = {"during": {"seconds": 9.0, "others_cores": 0.5, "steal_share": None}}
    assert any("0.50 cores busy during the run" in w for w in warnings_for(result))
    assert not any("stole" in w for w in warnings_for(result))
    assert "other processes used 0.5 cores" in format_tables(result)


# ------------------------------------------------------------------------------------------ options
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers(dest="command"))
    return parser


def test_every_option_has_its_flag_and_the_defaults_round_trip():
    args = _parser().parse_args(["bench"])
    assert BenchOptions.from_args(args) == BenchOptions()
    flags = ["--model", "gru", "transformer", "--preset", "cpu", "--steps", "8", "--warmup", "0"]
    flags += ["--rounds", "4", "--batch-size", "4", "--device", "cpu", "--threads", "1", "--no-baseline"]
    flags += ["--compile", "both", "--dtype", "bfloat16", "--profile", "2", "--gen-preset", "none"]
    flags += ["--gen-context", "16", "--gen-tokens", "9", "--recompute-tokens", "3", "--gen-rounds", "2"]
    flags += ["--peak-sizes", "64", "128", "--peak-repeats", "3", "--json", "out.json"]
    options = BenchOptions.from_args(_parser().parse_args(["bench", *flags]))
    assert asdict(options) == dict(
        models=("gru", "transformer"), presets=("cpu",), steps=8, warmup=0, rounds=4, batch_size=4,
        device="cpu", threads=1, baseline=False, compile="both", dtype="bfloat16", profile_steps=2,
        gen_preset=None, gen_context=16, gen_tokens=9, recompute_tokens=3, gen_rounds=2,
        peak_sizes=(64, 128), peak_repeats=3, json="out.json",
    )  # fmt: skip
    assert len(fields(BenchOptions)) == len(asdict(options))


def test_choices_come_from_the_config_lists():
    bench = _parser()._subparsers._group_actions[0].choices["bench"]
    choices = {a.dest: list(a.choices) for a in bench._actions if a.choices}
    assert choices["models"] == list(ARCHES) and choices["device"] == list(DEVICES)
    assert choices["dtype"] == list(DTYPES) and choices["presets"] == [*PRESETS, "none"]
    assert choices["gen_preset"] == [*PRESETS, "none"]


def test_none_means_no_training_or_no_generation():
    options = BenchOptions(presets=["none"], gen_preset="none", models="lstm")
    assert options.presets == () and options.gen_preset is None and options.models == ("lstm",)


@pytest.mark.parametrize(
    "bad, message",
    [
        (dict(models=["mamba"]), "bench --model 'mamba' (BenchOptions.models): choose from"),
        (dict(models=[]), "--model () (BenchOptions.models): name at least one"),
        (dict(presets=["huge"]), "--preset 'huge'"),
        (dict(device="tpu"), "--device 'tpu' (BenchOptions.device): choose one of ['auto', 'cpu'"),
        (dict(dtype="fp8"), "--dtype 'fp8'"),
        (dict(compile="always"), "--compile 'always'"),
        (dict(gen_preset="huge"), "--gen-preset 'huge'"),
        (dict(steps=0), "--steps 0 (BenchOptions.steps): give a whole number of at least 1"),
        (dict(steps=2.5), "--steps 2.5"),
        (dict(warmup=-1), "--warmup -1"),
        (dict(threads=0), "--threads 0"),
        (dict(profile_steps=-1), "--profile -1"),
        (dict(gen_rounds=0), "--gen-rounds 0"),
        (dict(peak_sizes=[0]), "--peak-sizes 0"),
    ],
)
def test_bad_options_are_refused_with_the_flag_named(bad, message):
    with pytest.raises(ValueError) as err:
        BenchOptions(**bad)
    assert message in str(err.value)


def test_the_command_is_recorded_only_when_it_was_lmhelpers(monkeypatch):
    from lmhelpers.bench import _command_line

    monkeypatch.setattr("sys.argv", ["/venv/lib/lmhelpers/__main__.py", "bench", "--steps", "3"])
    assert _command_line() == "python -m lmhelpers bench --steps 3"
    monkeypatch.setattr("sys.argv", ["/venv/lib/pytest/__main__.py", "-q"])
    assert _command_line() is None


@pytest.mark.parametrize("threads_option", [None, 2])
def test_a_group_that_lost_a_core_runs_again_on_fewer_threads(monkeypatch, threads_option):
    import torch

    import lmhelpers.bench as bench

    monkeypatch.setattr(bench, "measure_peaks", lambda *a, **k: {"float32": {"flops_per_s": 1e9, "size": 8}})
    monkeypatch.setattr(benchload.os, "cpu_count", lambda: 2)
    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        run = bench._Run(BenchOptions(device="cpu", threads=threads_option), log=lambda *_: None)
        calls = []

        def group():  # other processes take a core during the first attempt only
            calls.append(torch.get_num_threads())
            return [{"load": {"others_cores": 0.9 if len(calls) == 1 else 0.0}}]

        rows = run.group(group)
        if threads_option is None:
            assert calls == [2, 1] and rows == [{"load": {"others_cores": 0.0}}]
            assert run.discarded == [{"load": {"others_cores": 0.9}}] and "ran again" in run.notes[0]
            assert list(run.peaks) == [1]  # the peak of the new thread count, for the rows' MFU
        else:  # --threads given: measured as asked, and flagged, never changed
            assert calls == [2] and run.discarded == [] and run.peaks == {}
    finally:
        torch.set_num_threads(saved)


# ------------------------------------------------------------------- docs/benchmarks.md agreement
def test_the_agreement_tables_are_computed_from_the_kept_runs():
    tool = bench_agreement
    assert tool.update(write=False), "docs/benchmarks.md differs: run python tools/bench_agreement.py write"


def test_agreement_compares_each_ratio_of_two_runs():
    tool = bench_agreement
    first = {"speedups": {"train_vs_baseline": {"t/cpu": {"ratio": 1.10}}, "generate": {"g": {"ratio": 6.0}}}}
    second = {
        "speedups": {"train_vs_baseline": {"t/cpu": {"ratio": 1.21}}, "generate": {"g": {"ratio": 5.0}}}
    }
    rows = tool.compare(first, second)
    assert [(g, k) for g, k, *_ in rows] == [("train_vs_baseline", "t/cpu"), ("generate", "g")]
    assert rows[0][4] == pytest.approx(0.10) and rows[1][4] == pytest.approx(0.20)
