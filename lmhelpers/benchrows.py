"""The benchmark's rows: models built at a preset's size and timed, group by group, interleaved.

A *group* is the rows a speed-up compares: for one model family at one preset, the package's model
(eager, and compiled when asked) and its tutorial-style baseline; for generation, the cached, the
recomputing and the baseline generator. All members of a group are built first, warmed up, then timed
round by round with :func:`lmhelpers.benchtiming.interleave`, and each row keeps its per-round figures
so that :mod:`lmhelpers.benchreport` can divide them pair by pair.
"""

from __future__ import annotations

import gc
import statistics
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn

from . import benchload
from .baseline import BASELINES, build_baseline
from .benchtiming import interleave, middle, run_clock, split_steps, spread
from .config import RunConfig, make_config
from .data import TokenDataset
from .device import autocast_dtype
from .generation import generate
from .models import build_model

CHAR_VOCAB = 65  # Tiny Shakespeare's characters
# (timed steps, warm-up steps) per row, and the batch, where a preset needs other figures on a CPU: the
# reference model's step takes 1-3 s there, so it runs at batch 8 (2,048 tokens, matmuls still large).
DEFAULT_STEPS = (30, 5)
CPU_STEPS = {"reference": (6, 1)}
CPU_BATCH = {"reference": 8}
DEFAULT_ROUNDS = 10
# New tokens per round the recomputing generators time on a CPU: the Transformer's full-window
# recompute costs the same for every token (a steady rate), an RNN re-reading its growing history only
# slows down (so its speed-up over 12 tokens is a lower bound).
CPU_RECOMPUTE_TOKENS = {"transformer": 30}
CPU_RNN_RECOMPUTE_TOKENS = 12


# ------------------------------------------------------------------------------------------ settings
def compile_modes(choice: str, device: torch.device) -> list[bool]:
    """Which of eager (False) and compiled (True) to time. 'auto' times both on CUDA, where compiling
    usually pays, and eager only elsewhere (on a CPU it costs seconds to compile for a few percent)."""
    modes = {"on": [True], "off": [False], "both": [False, True]}
    if choice == "auto":
        return [False, True] if device.type == "cuda" else [False]
    if choice not in modes:
        raise ValueError(f"compile={choice!r}: choose one of 'auto', 'both', 'on', 'off'")
    return modes[choice]


def dtype_name(dtype: torch.dtype) -> str:
    """'bfloat16' for torch.bfloat16: the key of a peak in ``measure_peaks``' result."""
    return str(dtype).replace("torch.", "")


def compute_dtype(device: torch.device, config: RunConfig) -> str:
    """The peak a run is compared with: its autocast dtype, TF32 for float32 on CUDA, else float32."""
    amp = autocast_dtype(device, config.train.dtype)
    if amp is not None:
        return dtype_name(amp)
    return "tf32" if device.type == "cuda" else "float32"


def step_plan(
    preset: str,
    device: torch.device,
    steps: int | None = None,
    warmup: int | None = None,
    rounds: int | None = None,
    batch_size: int | None = None,
) -> dict[str, Any]:
    """Timed steps, warm-up steps, rounds and batch for ``preset``: the given figures, else its defaults."""
    default_steps, default_warmup = (
        CPU_STEPS.get(preset, DEFAULT_STEPS) if device.type == "cpu" else DEFAULT_STEPS
    )
    steps = default_steps if steps is None else steps
    if batch_size is None and device.type == "cpu":
        batch_size = CPU_BATCH.get(preset)
    return {
        "steps": steps,
        "warmup": default_warmup if warmup is None else warmup,
        "counts": split_steps(steps, DEFAULT_ROUNDS if rounds is None else rounds),
        "batch_size": batch_size,
    }


def bench_config(
    preset: str,
    arch: str,
    device: torch.device,
    batch_size: int | None = None,
    compile: bool = False,
    dtype: str = "auto",
) -> RunConfig:
    """The preset's model and training settings for ``arch``, with the vocabulary its tokenizer gives."""
    config = make_config(preset, arch=arch, device=device.type, compile=compile, dtype=dtype)
    if batch_size is not None:
        config = config.override(batch_size=batch_size)
    vocab = CHAR_VOCAB if config.data.tokenizer == "char" else config.data.vocab_size
    return config.override(**{"model.vocab_size": vocab})


def build(config: RunConfig, impl: str) -> nn.Module:
    torch.manual_seed(0)
    return build_model(config.model) if impl == "lmhelpers" else build_baseline(config.model)


def random_dataset(config: RunConfig, seed: int = 0) -> TokenDataset:
    """Random token ids, enough for distinct windows: speed does not depend on what the tokens are."""
    g = torch.Generator().manual_seed(seed)
    T, B = config.model.block_size, config.train.batch_size
    train = torch.randint(config.model.vocab_size, (max(100_000, 4 * B * (T + 1)),), generator=g)
    val = torch.randint(config.model.vocab_size, (4 * (T + 1),), generator=g)
    return TokenDataset(train, val)


def free(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


# ------------------------------------------------------------------------------------------ training
class TrainRunner:
    """One training row's model and Trainer; calling it runs ``n`` steps of ``Trainer.train_step``, the
    code ``Trainer.fit`` runs (batch sampling, forward, backward, clipping, AdamW, autocast policy)."""

    def __init__(self, config: RunConfig, impl: str, device: torch.device) -> None:
        from .training import Trainer

        self.config, self.impl = config, impl
        self.model = build(config, impl)
        # eval_iters=1: the Trainer draws its fixed evaluation windows at construction; none are used.
        config = config.override(eval_iters=1)
        self.trainer = Trainer(self.model, random_dataset(config), config, device=device, progress=False)

    def __call__(self, n: int) -> None:
        for _ in range(n):
            self.trainer.train_step()

    @property
    def name(self) -> str:
        return f"{self.impl}{' compiled' if self.config.train.compile else ''}"


def train_group(
    members: Sequence[tuple[RunConfig, str]],
    device: torch.device,
    plan: dict[str, Any],
    profile_steps: int = 0,
) -> list[dict[str, Any]]:
    """Time the rows of one group interleaved (``plan`` from :func:`step_plan`); one row each."""
    runners = {}
    try:
        for config, impl in members:
            runner = TrainRunner(config, impl, device)
            runners[runner.name] = runner
            runner(max(plan["warmup"], int(config.train.compile)))  # compiling is never timed
        # the package's eager model, every ratio's divisor, runs in the middle of each round
        order = middle(list(runners), next(iter(runners)))
        before = benchload.snapshot()
        seconds = interleave({n: runners[n] for n in order}, {n: plan["counts"] for n in order}, device)
        load = benchload.usage(before, benchload.snapshot())
        rows = [_train_row(r, seconds[name], plan, device, load) for name, r in runners.items()]
        if profile_steps:
            for row, runner in zip(rows, runners.values()):
                row["profile"] = profile_ops(runner.trainer.train_step, device, profile_steps)
    finally:
        runners.clear()
        free(device)
    return rows


def _train_row(
    runner: TrainRunner,
    seconds: dict[str, list[float]],
    plan: dict[str, Any],
    device: torch.device,
    load: dict,
) -> dict[str, Any]:
    config, model = runner.config, runner.model
    B, T = config.train.batch_size, config.model.block_size
    ms = spread([1e3 * s for s in seconds["wall"]])
    fpt = model.flops_per_token()
    return {
        "model": config.model.arch,
        "impl": runner.impl,
        "preset": config.preset,
        "params": model.num_params(),
        "flops_per_token": fpt,
        "batch_size": B,
        "block_size": T,
        "n_layer": config.model.n_layer,
        "n_embd": config.model.n_embd,
        "dtype": compute_dtype(device, config),
        "compile": config.train.compile,
        "threads": torch.get_num_threads(),
        "clock": run_clock(device, torch.get_num_threads()),  # what its ratios and MFU are taken by
        "warmup_steps": plan["warmup"],
        "steps": plan["steps"],
        "rounds": ms["n"],
        "step_ms_min": ms["min"],
        "step_ms_median": ms["median"],
        "step_ms_max": ms["max"],
        # the mean step time of each round, in round order: wall time, and this process's CPU time
        "step_ms_rounds": [1e3 * s for s in seconds["wall"]],
        "step_cpu_ms_rounds": [1e3 * s for s in seconds["cpu"]],
        "tokens_per_s": B * T / (ms["median"] / 1e3),
        "model_flops_per_s": fpt * B * T / (ms["median"] / 1e3),
        # the same by this process's CPU time (median over the rounds)
        "cpu_model_flops_per_s": fpt * B * T / (statistics.median(seconds["cpu"])),
        "load": load,
    }


def profile_ops(
    step: Callable[[], Any], device: torch.device, steps: int, top: int = 12
) -> list[dict[str, Any]]:
    """The operators that took the most time over ``steps`` calls of ``step``, per step, by torch.profiler.

    Self time, so nested calls are not counted twice; on a GPU, the device time of the kernels. The
    profiler adds its own overhead, so shares are the point here, not the absolute milliseconds.
    """
    from torch.profiler import ProfilerActivity, profile

    from .benchtiming import sync

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            step()
        sync(device)
    attr = "self_device_time_total" if device.type == "cuda" else "self_cpu_time_total"
    events = [e for e in prof.key_averages() if getattr(e, attr, 0) > 0]
    total = sum(getattr(e, attr) for e in events)
    events.sort(key=lambda e: getattr(e, attr), reverse=True)
    return [
        {
            "op": e.key,
            "ms_per_step": getattr(e, attr) / 1e3 / steps,
            "share": getattr(e, attr) / total,
            "calls_per_step": e.count / steps,
        }
        for e in events[:top]
    ]


# ------------------------------------------------------------------------------------------ generation
def generation_modes(
    arch: str, device: torch.device, tokens: int, recompute_tokens: int | None, baseline: bool
) -> list[tuple[str, str, int]]:
    """(impl, mode, new tokens per round) for each generator of ``arch`` that the benchmark times."""
    n_recompute = recompute_tokens
    if n_recompute is None:
        cpu_default = CPU_RECOMPUTE_TOKENS.get(arch, CPU_RNN_RECOMPUTE_TOKENS)
        n_recompute = min(tokens, cpu_default) if device.type == "cpu" else tokens
    modes = [("lmhelpers", "cached", tokens), ("lmhelpers", "recompute", n_recompute)]
    if baseline and arch in BASELINES:
        modes.append(("baseline", "baseline", n_recompute))
    return modes


def _generators(
    config: RunConfig, device: torch.device, context: int, modes: Sequence[tuple[str, str, int]]
) -> tuple[dict[str, Callable[[int], Any]], dict[str, int]]:
    """A function generating ``n`` tokens for each mode, and each implementation's parameter count."""
    models = {impl: build(config, impl).to(device).eval() for impl in dict.fromkeys(m[0] for m in modes)}
    vocab = config.model.vocab_size
    prompt = torch.randint(vocab, (1, context), generator=torch.Generator().manual_seed(0)).to(device)

    def generator(model: nn.Module, mode: str) -> Callable[[int], Any]:
        if mode == "baseline":
            return lambda n: model.generate(prompt, n)
        return lambda n: generate(model, prompt, n, temperature=0, use_cache=(mode == "cached"))

    runners = {mode: generator(models[impl], mode) for impl, mode, _ in modes}
    return runners, {impl: m.num_params() for impl, m in models.items()}


def generation_group(
    config: RunConfig,
    device: torch.device,
    context: int,
    modes: Sequence[tuple[str, str, int]],
    rounds: int,
) -> list[dict[str, Any]]:
    """Greedy batch-1 generation of ``context``-token random prompts with random weights, every mode
    timed once per round, interleaved: 'cached' (KV cache or carried state), 'recompute' (the whole
    window for every token) and 'baseline' (the baseline's own generator)."""
    runners, params = _generators(config, device, context, modes)
    try:
        for run in runners.values():
            run(2)  # warm-up
        before = benchload.snapshot()
        order = middle(list(runners), "cached")  # what every generation ratio compares
        counts = {mode: [n] * rounds for _, mode, n in modes}
        seconds = interleave({m: runners[m] for m in order}, {m: counts[m] for m in order}, device)
        load = benchload.usage(before, benchload.snapshot())
    finally:
        runners.clear()
        free(device)
    rows = []
    for impl, mode, n in modes:
        rates = [1 / sec for sec in seconds[mode]["wall"]]
        rate = spread(rates)
        row = {"model": config.model.arch, "impl": impl, "preset": config.preset, "params": params[impl]}
        row.update(mode=mode, context=context, new_tokens=n, rounds=rounds, load=load)
        row.update(threads=torch.get_num_threads(), clock=run_clock(device, torch.get_num_threads()))
        row.update(tokens_per_s=rate["median"], tokens_per_s_min=rate["min"], tokens_per_s_max=rate["max"])
        row["tokens_per_s_rounds"] = rates  # in round order; and per second of this process's CPU time:
        row["tokens_per_cpu_s_rounds"] = [1 / sec for sec in seconds[mode]["cpu"]]
        rows.append(row)
    return rows
