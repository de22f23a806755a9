"""The benchmark's verdicts and tables: MFU against the best peak, invalid rows marked, pairwise ratios.

Everything here works on the plain dicts the benchmark writes as JSON, so a result can be judged and
printed again from its file. An MFU above 100% cannot be true (the peak was measured low, on a busy
machine, or the FLOP count is wrong): :func:`apply_mfu` marks such a row invalid, with the reason, and
:func:`format_tables` prints the mark beside the figure.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from .benchload import BUSY_CORES, load_warnings
from .benchtiming import pairwise_ratio

PEAK_SPREAD = 0.15  # a peak that moved more than this between measurements is worth a warning


_RATE_KEY = {
    "wall": ("model_flops_per_s", "flops_per_s"),
    "cpu": ("cpu_model_flops_per_s", "cpu_flops_per_s"),
}


def apply_mfu(rows: Sequence[dict[str, Any]], peaks: dict[str, dict[str, Any]], clock: str = "wall") -> None:
    """Set every training row's ``mfu``: its model FLOP/s over the best peak of the precision it
    computes in, both by ``clock`` ('wall', or 'cpu': this process's CPU time, see
    :data:`lmhelpers.benchtiming.CLOCKS`), and ``valid``; a row above 100% gets ``valid: False`` and
    ``invalid_reason``."""
    rate_key, peak_key = _RATE_KEY[clock]
    for row in rows:
        rate, peak = row[rate_key], peaks[row["dtype"]][peak_key]
        row.update(mfu=rate / peak, mfu_clock=clock, peak_flops_per_s=peak, valid=rate <= peak)
        row.pop("invalid_reason", None)
        if not row["valid"]:
            row["invalid_reason"] = (
                f"MFU {100 * row['mfu']:.0f}% is impossible: {rate / 1e9:,.0f} GFLOP/s achieved against a best "
                f"{row['dtype']} peak of {peak / 1e9:,.0f} GFLOP/s ({clock} clock); the peak was measured low "
                "(a busy machine?) or the FLOP count is wrong"
            )


def _pair_key(row: dict[str, Any]) -> tuple:
    return row["model"], row["preset"], row["batch_size"]


_ROUNDS_KEY = {  # (training rows: step times, generation rows: rates) per clock
    "wall": ("step_ms_rounds", "tokens_per_s_rounds"),
    "cpu": ("step_cpu_ms_rounds", "tokens_per_cpu_s_rounds"),
}


def speedups(
    train_rows: Sequence[dict[str, Any]], gen_rows: Sequence[dict[str, Any]], clock: str | None = None
) -> dict[str, dict]:
    """Ratios of rows timed interleaved in the same run, pair by pair (see
    :func:`lmhelpers.benchtiming.pairwise_ratio`) by ``clock`` ('wall' or 'cpu'; by default each row's
    own, which its group's thread count decided): the package's model over its baseline (both eager),
    compiled over eager, cached generation over recomputed and over the baseline's generator."""

    def ratio(num: dict[str, Any], den: dict[str, Any], kind: int) -> dict[str, Any]:
        c = clock or den.get("clock", "wall")
        key = _ROUNDS_KEY[c][kind]
        return {**pairwise_ratio(num[key], den[key]), "clock": c}

    train: dict[str, Any] = {}
    compiled: dict[str, Any] = {}
    for row in train_rows:
        if row["impl"] != "lmhelpers":
            continue
        key = f"{row['model']}/{row['preset']}"
        for other in train_rows:
            if _pair_key(other) != _pair_key(row):
                continue
            # step times, the other row's over this one's: this one's speed-up
            if other["impl"] == "baseline" and not row["compile"] and not other["compile"]:
                train[key] = ratio(other, row, 0)
            elif other["impl"] == "lmhelpers" and row["compile"] and not other["compile"]:
                compiled[key] = ratio(other, row, 0)
    gen: dict[str, Any] = {}
    for arch in dict.fromkeys(r["model"] for r in gen_rows):  # in the order measured
        by_mode = {r["mode"]: r for r in gen_rows if r["model"] == arch}
        for other in ("recompute", "baseline"):
            if "cached" in by_mode and other in by_mode:
                gen[f"{arch}/cached_vs_{other}"] = ratio(by_mode["cached"], by_mode[other], 1)
    return {"train_vs_baseline": train, "compile_vs_eager": compiled, "generate": gen}


def warnings_for(result: dict[str, Any]) -> list[str]:
    """Everything a reader of this run should be told before trusting a figure."""
    warnings = list(result.get("machine", {}).get("notes", []))
    warnings += load_warnings(result.get("load", {}))
    clock = result.get("clock", "wall")
    for name, p in result.get("peak", {}).items():
        moved = p.get("cpu_spread" if clock == "cpu" else "spread", 0)
        if moved > PEAK_SPREAD:
            key = _RATE_KEY[clock][1]
            seen = ", ".join(f"{m.get(key, 0) / 1e9:,.0f} ({m['when']})" for m in p["measurements"])
            warnings.append(
                f"the {name} peak ({clock} clock) moved {100 * moved:.0f}% between measurements: {seen} GFLOP/s"
            )
    invalid = [r for r in result.get("train", []) if r.get("valid") is False]
    if invalid:
        warnings.append(f"{len(invalid)} training row(s) read MFU above 100% and are marked invalid")
    for what in ("train", "generate"):
        busy = [r for r in result.get(what, []) if _contended(r)]
        if busy:
            warnings.append(
                f"{len(busy)} {'training' if what == 'train' else 'generation'} row(s) ran while other "
                f"processes used over {BUSY_CORES} cores"
                + (
                    ""
                    if what == "train"
                    else ": cached generation is memory-bound and slows more than the "
                    "compute-bound recompute, so its speed-ups read low"
                )
            )
    return warnings


def _contended(row: dict[str, Any]) -> bool:
    others = (row.get("load") or {}).get("others_cores")
    return others is not None and others > BUSY_CORES


def _mfu_cell(r: dict[str, Any]) -> str:
    cell = f"{100 * r['mfu']:.1f}% ({r['dtype']}, {r.get('mfu_clock', 'wall')})"
    return cell if r.get("valid", True) else f"**INVALID** {cell}"


def _notes(r: dict[str, Any]) -> str:
    notes = [r["invalid_reason"]] if r.get("invalid_reason") else []
    if _contended(r):
        notes.append(f"others used {r['load']['others_cores']:.2f} cores")
    return "; ".join(notes)


# ------------------------------------------------------------------------------------------ lines
def train_line(r: dict[str, Any]) -> str:
    mfu = f"  MFU {100 * r['mfu']:5.1f}% ({r['dtype']})" if "mfu" in r else ""
    return (
        f"train {r['model']:<11} {r['impl']:<9} {r['preset']:<11} B={r['batch_size']:<3} T={r['block_size']:<4}"
        f"{' compile' if r['compile'] else ''}: {r['step_ms_median']:8.1f} ms/step "
        f"({r['step_ms_min']:.1f}-{r['step_ms_max']:.1f}, {r['rounds']} rounds) {r['tokens_per_s']:10,.0f} tok/s"
        f"{mfu}{'  INVALID' if r.get('valid') is False else ''}"
    )


def gen_line(r: dict[str, Any]) -> str:
    return (
        f"generate {r['model']:<11} {r['impl']:<9} {r['mode']:<9} {r['new_tokens']} tokens after "
        f"{r['context']}: {r['tokens_per_s']:8.1f} tok/s ({r['tokens_per_s_min']:.1f}-"
        f"{r['tokens_per_s_max']:.1f}, {r['rounds']} rounds)"
    )


def profile_line(op: dict[str, Any]) -> str:
    return (
        f"    {100 * op['share']:5.1f}%  {op['ms_per_step']:7.2f} ms/step  "
        f"{op['calls_per_step']:6.1f} calls  {op['op'][:70]}"
    )


def _header(result: dict[str, Any]) -> list[str]:
    m, load = result["machine"], result.get("load", {})
    isa = (
        ", ISA limited by " + " ".join(f"{k}={v}" for k, v in m["isa_limits"].items())
        if m.get("isa_limits")
        else ""
    )
    during = load.get("during") or {}
    lines = [
        f"Machine: {m.get('cpu_name')} / {m['device_name']}{isa}, {m['torch_threads']} torch threads, "
        f"torch {m['torch']}",
        f"Load average at start {m.get('load_average_start')}, at end {m.get('load_average_end')} (the end "
        f"includes this run); during the run other processes used {during.get('others_cores')} cores, "
        "steal "
        + (
            "not counted on this platform"
            if during.get("steal_share") is None
            else f"{during['steal_share']}"
        ),
    ]
    lines += [f"**Warning:** {w}" for w in result.get("warnings", [])]
    return lines


def _peak_table(result: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "| peak | threads | GFLOP/s, best (wall clock) | each measurement | spread | best by CPU time | spread "
        "| matmul size |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    by_threads = result.get("peaks_by_threads") or {str(result["machine"]["torch_threads"]): result["peak"]}
    for threads, peaks in by_threads.items():
        for name, p in peaks.items():
            each = ", ".join(
                f"{m['flops_per_s'] / 1e9:,.0f} ({m['when']})" for m in p.get("measurements", [])
            )
            cpu = p.get("cpu_flops_per_s", float("nan")) / 1e9
            lines.append(
                f"| {name} | {threads} | {p['flops_per_s'] / 1e9:,.0f} | {each} | {100 * p.get('spread', 0):.0f}% "
                f"| {cpu:,.0f} | {100 * p.get('cpu_spread', 0):.0f}% | {p['size']} |"
            )
    return lines


def _train_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "| model | impl | preset | batch x context | params | compile | threads | ms/step min / median / max "
        "| CPU ms/step | rounds | tokens/s | MFU (clock) | note |",
        "|---|---|---|---|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        cpu = statistics.median(r["step_cpu_ms_rounds"]) if r.get("step_cpu_ms_rounds") else float("nan")
        lines.append(
            f"| {r['model']} | {r['impl']} | {r['preset']} | {r['batch_size']} x {r['block_size']} | "
            f"{r['params'] / 1e6:.2f}M | {'yes' if r['compile'] else 'no'} | {r.get('threads', '')} | "
            f"{r['step_ms_min']:.1f} / {r['step_ms_median']:.1f} / {r['step_ms_max']:.1f} | {cpu:.1f} | "
            f"{r['rounds']} | {r['tokens_per_s']:,.0f} | {_mfu_cell(r)} | {_notes(r)} |"
        )
    return lines


def _gen_table(rows: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        "",
        "| model | impl | mode | context | new tokens | rounds | tokens/s min / median / max | tokens per CPU s "
        "| note |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        cpu = (
            statistics.median(r["tokens_per_cpu_s_rounds"])
            if r.get("tokens_per_cpu_s_rounds")
            else float("nan")
        )
        lines.append(
            f"| {r['model']} | {r['impl']} | {r['mode']} | {r['context']} | {r['new_tokens']} | {r['rounds']} | "
            f"{r['tokens_per_s_min']:,.1f} / {r['tokens_per_s']:,.1f} / {r['tokens_per_s_max']:,.1f} | {cpu:,.1f} | "
            f"{_notes(r)} |"
        )
    return lines


def _ratio_table(speed: dict[str, dict[str, Any]]) -> list[str]:
    names = {
        "train_vs_baseline": "training vs baseline",
        "compile_vs_eager": "training, compiled vs eager",
        "generate": "generation",
    }
    rows = [(f"{names[what]}: {k}", v) for what, d in speed.items() for k, v in d.items()]
    if not rows:
        return []
    lines = [
        "",
        "| speed-up (interleaved, pair by pair) | ratio (median) | min - max | pairs | clock |",
        "|---|---:|---:|---:|---|",
    ]
    lines += [
        f"| {k} | {v['ratio']:.2f}x | {v['min']:.2f} - {v['max']:.2f} | {v['pairs']} | {v.get('clock', 'wall')} |"
        for k, v in rows
    ]
    if any(v.get("clock") == "cpu" for _, v in rows):
        lines += [
            "",
            "Clock cpu: this process's CPU time per round (one thread: time other processes held the core does not count).",
        ]
    return lines


def format_tables(result: dict[str, Any]) -> str:
    """The results as Markdown tables (what docs/benchmarks.md holds), warnings first."""
    lines = _header(result) + _peak_table(result)
    if result["train"]:
        lines += _train_table(result["train"])
    if result["generate"]:
        lines += _gen_table(result["generate"])
    lines += _ratio_table(result["speedups"])
    return "\n".join(lines)
