"""``python -m lmhelpers bench``: speed on this machine, as MFU against a peak measured in the same run.

What it measures, in one process (the pieces live in their own modules):

* the matrix-multiply peak, before and after the training rows, several sizes, best of N each
  (:mod:`lmhelpers.benchtiming`); MFU is stated against the best peak seen in the run, and a row whose
  MFU still exceeds 100% is marked invalid (:mod:`lmhelpers.benchreport`);
* training: full optimisation steps through ``Trainer.train_step``, the code ``Trainer.fit`` runs, on
  random tokens, for each model family at each preset, and for the tutorial-style baselines of
  :mod:`lmhelpers.baseline`; the rows a speed-up compares are timed interleaved, round by round, and
  every ratio is the median of round-by-round ratios (:mod:`lmhelpers.benchrows`);
* generation: tokens per second after a ``--gen-context`` token prompt at the ``--gen-preset`` size:
  the Transformer with and without its KV cache, the RNN with its carried state and with full-context
  recompute, and the baselines' generators, interleaved the same way;
* the machine: load average, CPU steal and the cores other processes used, at the start, during and at
  the end (:mod:`lmhelpers.benchload`), with warnings when they were high.

Model FLOPs per token are the models' own ``flops_per_token()`` (6 x matmul weights plus attention's
``12 * n_layer * n_embd * T``, PaLM's accounting): recomputation, padding and non-matmul work count
for nothing, so MFU is what the hardware did for the model, not how busy it was.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from functools import partial
from pathlib import Path
from typing import Any

import torch

from . import benchload
from .baseline import BASELINES
from .benchoptions import BenchOptions, add_arguments
from .benchreport import apply_mfu, format_tables, gen_line, profile_line, speedups, train_line, warnings_for
from .benchrows import (
    bench_config,
    compile_modes,
    dtype_name,
    generation_group,
    generation_modes,
    step_plan,
    train_group,
)
from .benchtiming import best_peaks, measure_peaks, run_clock
from .device import autocast_dtype, configure_backends, cpu_name, environment_report, pick_device

__all__ = ["BenchOptions", "add_parser", "format_tables", "main_from_args", "run_bench", "speedups"]


# ------------------------------------------------------------------------------------------ the run
def _command_line() -> str | None:
    """The command that ran, when it was ``python -m lmhelpers ...`` or the ``lmhelpers`` script."""
    script = Path(sys.argv[0])
    if script.name == "lmhelpers" or (script.name == "__main__.py" and script.parent.name == "lmhelpers"):
        return "python -m lmhelpers " + " ".join(sys.argv[1:])
    return None


def _set_threads(options: BenchOptions, device: torch.device, start: dict[str, Any]) -> list[str]:
    """Apply ``--threads``, or leave out the cores other processes were using; say why when it did."""
    if options.threads is not None:
        torch.set_num_threads(options.threads)
        return []
    current = torch.get_num_threads()
    n = benchload.free_cores(start.get("others_cores"), current) if device.type == "cpu" else current
    if n >= current:
        return []
    torch.set_num_threads(n)
    return [
        f"ran {n} torch thread(s), not {current}: other processes kept {start['others_cores']:.2f} cores busy "
        f"at the start, and a thread that shares its core stalls every parallel region (--threads {current} "
        "insists)"
    ]


def machine_report(device: torch.device, notes: list[str]) -> dict[str, Any]:
    """Environment report plus the CPU model, its instruction-set limits, threads and load average."""
    report = environment_report(device)
    report.update(cpu_name=cpu_name(), torch_threads=torch.get_num_threads(), notes=notes)
    report["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    report["isa_limits"] = benchload.isa_limits()
    load = benchload.snapshot().loadavg
    report["load_average_start"] = list(load) if load else None
    return report


class _Run:
    """One run's device and thread policy, and the peaks measured so far, per thread count."""

    def __init__(self, options: BenchOptions, log) -> None:
        self.options, self.log = options, log
        self.dev = pick_device(options.device)
        configure_backends(self.dev)
        amp = autocast_dtype(self.dev, options.dtype)
        self.also = [dtype_name(amp)] if amp else []
        self.peaks: dict[int, list[tuple[str, dict[str, Any]]]] = {}
        self.notes: list[str] = []
        self.discarded: list[dict[str, Any]] = []

    def measure_peak(self, when: str) -> None:
        measured = measure_peaks(self.dev, self.options.peak_sizes, self.also, self.options.peak_repeats)
        self.peaks.setdefault(torch.get_num_threads(), []).append((when, measured))
        for name, p in measured.items():
            self.log(f"matmul peak {name} ({when}): {p['flops_per_s'] / 1e9:,.0f} GFLOP/s (n={p['size']})")

    def group(self, run_group) -> list[dict[str, Any]]:
        """The rows of one group. When other processes took a core while it ran on several threads (and
        ``--threads`` was not given), the rest of the run uses fewer threads and the group runs again:
        a thread that shares its core stalls every parallel region, and no pairing undoes that."""
        rows = run_group()
        others = max((r["load"].get("others_cores") or 0.0) for r in rows) if rows else 0.0
        current = torch.get_num_threads()
        n = benchload.free_cores(others, current)
        if self.options.threads is not None or self.dev.type != "cpu" or n >= current:
            return rows
        torch.set_num_threads(n)
        note = (
            f"other processes took {others:.2f} cores while a group ran on {current} threads: that group ran "
            f"again, and the rest of the run, on {n} (its first rows are under 'discarded' in the JSON)"
        )
        self.notes.append(note)
        self.log(f"note: {note}")
        self.discarded += rows
        self.measure_peak(f"{n} thread(s), after the load came")
        return run_group()


def run_bench(options: BenchOptions | None = None, log=print) -> dict[str, Any]:
    """Everything the command measures, as one JSON-ready dict (see the module docstring)."""
    saved_threads = torch.get_num_threads()
    try:
        run = _Run(options or BenchOptions(), log)
        start = benchload.sample()
        run.notes += _set_threads(run.options, run.dev, start)
        machine = machine_report(run.dev, run.notes)
        settings = asdict(run.options)
        result: dict[str, Any] = {"command": _command_line(), "machine": machine, "settings": settings}
        result["load"] = {"start": start}
        log(f"device {run.dev} ({machine['cpu_name']}), {torch.get_num_threads()} torch threads")
        for note in run.notes:
            log(f"note: {note}")
        before = benchload.snapshot()
        run.measure_peak("start")
        result["train"] = _training(run)
        run.measure_peak("after training")
        result["generate"] = _generation(run)
        result["load"]["during"] = benchload.usage(before, benchload.snapshot())
        result["load"]["end"] = benchload.sample()
        machine.update(
            load_average_end=result["load"]["end"]["load_average"], torch_threads=torch.get_num_threads()
        )
        _verdicts(result, run)
    finally:
        torch.set_num_threads(saved_threads)
    return result


def _verdicts(result: dict[str, Any], run: _Run) -> None:
    """Peaks (the best per thread count), MFU against the peak of each row's thread count and clock,
    pairwise speed-ups, warnings."""
    by_threads = {t: best_peaks(measured) for t, measured in run.peaks.items()}
    result["peaks_by_threads"] = {str(t): p for t, p in by_threads.items()}
    result["peak"] = by_threads[torch.get_num_threads()]
    result["clock"] = run_clock(run.dev, torch.get_num_threads())
    for t in dict.fromkeys(r["threads"] for r in result["train"]):
        rows = [r for r in result["train"] if r["threads"] == t]
        apply_mfu(rows, by_threads[t], run_clock(run.dev, t))
    result["speedups"] = speedups(result["train"], result["generate"])
    result["discarded"] = run.discarded
    result["warnings"] = warnings_for(result)


def _training(run: _Run) -> list[dict[str, Any]]:
    """One interleaved group per preset and model family: the package's model (eager, and compiled
    when asked) and its baseline."""
    options, dev = run.options, run.dev
    compiles = compile_modes(options.compile, dev)
    rows = []
    for preset in options.presets:
        plan = step_plan(preset, dev, options.steps, options.warmup, options.rounds, options.batch_size)
        for arch in options.models:
            members = [
                (bench_config(preset, arch, dev, plan["batch_size"], c, options.dtype), "lmhelpers")
                for c in compiles
            ]
            if options.baseline and arch in BASELINES:  # the baselines run eager
                members.append(
                    (bench_config(preset, arch, dev, plan["batch_size"], False, options.dtype), "baseline")
                )
            for row in run.group(partial(train_group, members, dev, plan, options.profile_steps)):
                rows.append(row)
                run.log(train_line(row))
                for op in row.get("profile", []):
                    run.log(profile_line(op))
    return rows


def _generation(run: _Run) -> list[dict[str, Any]]:
    options, dev = run.options, run.dev
    if options.gen_preset is None:
        return []
    rows = []
    for arch in options.models:
        config = bench_config(options.gen_preset, arch, dev)
        modes = generation_modes(arch, dev, options.gen_tokens, options.recompute_tokens, options.baseline)
        for row in run.group(
            partial(generation_group, config, dev, options.gen_context, modes, options.gen_rounds)
        ):
            rows.append(row)
            run.log(gen_line(row))
    return rows


# ------------------------------------------------------------------------------------------ CLI
def add_parser(sub) -> argparse.ArgumentParser:
    """The ``bench`` subcommand, one flag per :class:`BenchOptions` field."""
    p = sub.add_parser("bench", help="measure training and generation speed (MFU) on this machine")
    add_arguments(p)
    return p


def main_from_args(args: argparse.Namespace) -> int:
    """Run the benchmark a ``bench`` command line asked for; print the tables, then the JSON (or write
    it to ``--json``). Bad settings raise ValueError before anything is measured."""
    options = BenchOptions.from_args(args)
    result = run_bench(options)
    print()
    print(format_tables(result))
    text = json.dumps(result, indent=2, default=str)
    if options.json:
        path = Path(options.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        print(f"\nJSON: {path.resolve()}")
    else:
        print()
        print(text)
    return 0
