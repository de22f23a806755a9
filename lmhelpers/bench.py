"""``python -m lmhelpers bench``: speed on this machine, as MFU against a peak measured in the same run.

What it measures, in one process:

* the matrix-multiply peak: large square matmuls, best of several, in float32 (on a GPU also with
  TF32, bf16 and fp16; anywhere, the precision ``--dtype`` asks for), so every throughput can be
  stated as MFU, model FLOPs per second divided by the peak of the precision the run computes in;
* training: the median time of full optimisation steps (batch sampling, forward, backward, gradient
  clipping, AdamW) after warm-up, through ``Trainer.train_step``, the very code ``Trainer.fit`` runs
  (same optimizer, autocast policy and backend settings), on random tokens, for each model family at
  each preset, and the same for the tutorial-style baselines of :mod:`lmhelpers.baseline`; with
  ``--profile N``, also the operators N more steps spent their time in;
* generation: tokens per second for ``--gen-tokens`` new tokens after a ``--gen-context`` token prompt
  at the ``--gen-preset`` size with random weights: the Transformer with and without its KV cache, the
  RNN with its carried state and with full-context recompute, and the baselines' generators.

Model FLOPs per token are the models' own ``flops_per_token()`` (6 x matmul weights plus attention's
``12 * n_layer * n_embd * T``, PaLM's accounting): recomputation, padding and non-matmul work count
for nothing, so MFU is what the hardware did for the model, not how busy it was.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .baseline import BASELINES, build_baseline
from .config import ARCHES, DTYPES, PRESETS, RunConfig, make_config
from .data import TokenDataset
from .device import autocast_dtype, configure_backends, environment_report, pick_device
from .generation import generate
from .models import build_model

BENCH_PRESETS = ("nanogpt-cpu", "cpu", "reference")
BENCH_MODELS = ("transformer", "lstm")
# Timed steps and warm-up steps per preset; on a CPU the reference model runs at a smaller batch.
CPU_STEPS = {"reference": (3, 1)}
CPU_BATCH = {"reference": 8}
DEFAULT_STEPS = (20, 5)
CHAR_VOCAB = 65  # Tiny Shakespeare's characters


# ------------------------------------------------------------------------------------------ helpers
def _sync(device: torch.device) -> None:
    """Wait for the device: GPU work is asynchronous, and a timer must not stop before it ends."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _command_line() -> str | None:
    """The command that ran, when it was ``python -m lmhelpers ...`` or the ``lmhelpers`` script."""
    if Path(sys.argv[0]).name in ("__main__.py", "lmhelpers"):
        return "python -m lmhelpers " + " ".join(sys.argv[1:])
    return None


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_report(device: torch.device) -> dict[str, Any]:
    """Environment report plus the CPU model, thread count and load average (a busy machine shows)."""
    report = environment_report(device)
    report["cpu_name"] = cpu_name()
    report["torch_threads"] = torch.get_num_threads()
    if hasattr(os, "getloadavg"):
        report["load_average_start"] = [round(x, 2) for x in os.getloadavg()]
    return report


# ------------------------------------------------------------------------------------------ peak
def matmul_peak(
    device: torch.device,
    dtype: torch.dtype = torch.float32,
    sizes: Sequence[int] | None = None,
    repeats: int = 10,
) -> dict[str, Any]:
    """The best FLOP/s of ``repeats`` square ``n x n`` matmuls for each n in ``sizes``."""
    if sizes is None:
        sizes = (1024, 2048) if device.type == "cpu" else (4096, 8192)
    best, best_n = 0.0, 0
    for n in sizes:
        a = torch.randn(n, n, device=device, dtype=dtype)
        b = torch.randn(n, n, device=device, dtype=dtype)
        out = torch.empty(n, n, device=device, dtype=dtype)
        torch.mm(a, b, out=out)  # warm-up
        _sync(device)
        for _ in range(repeats):
            tic = time.perf_counter()
            torch.mm(a, b, out=out)
            _sync(device)
            flops = 2 * n**3 / (time.perf_counter() - tic)
            if flops > best:
                best, best_n = flops, n
        del a, b, out
    return {"flops_per_s": best, "size": best_n, "repeats": repeats}


def measure_peaks(
    device: torch.device, sizes: Sequence[int] | None = None, also: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """float32 everywhere; on CUDA also TF32 (what float32 training runs in there), bf16 and fp16; and
    the precisions named in ``also`` ('bfloat16', 'float16'), e.g. for bf16 autocast on a CPU."""
    peaks = {}
    if device.type == "cuda":
        saved = torch.backends.cuda.matmul.allow_tf32
        try:
            torch.backends.cuda.matmul.allow_tf32 = False
            peaks["float32"] = matmul_peak(device, torch.float32, sizes)
            torch.backends.cuda.matmul.allow_tf32 = True
            peaks["tf32"] = matmul_peak(device, torch.float32, sizes)
        finally:
            torch.backends.cuda.matmul.allow_tf32 = saved
        also = [*(["bfloat16"] if torch.cuda.is_bf16_supported() else []), "float16", *also]
    else:
        peaks["float32"] = matmul_peak(device, torch.float32, sizes)
    for name in also:
        if name not in peaks:
            peaks[name] = matmul_peak(device, getattr(torch, name), sizes)
    return peaks


def compute_dtype(device: torch.device, config: RunConfig) -> str:
    """The peak a run is compared with: its autocast dtype, TF32 for float32 on CUDA, else float32."""
    amp = autocast_dtype(device, config.train.dtype)
    if amp is not None:
        return dtype_name(amp)
    return "tf32" if device.type == "cuda" else "float32"


def dtype_name(dtype: torch.dtype) -> str:
    """'bfloat16' for torch.bfloat16: the key of a peak in ``measure_peaks``' result."""
    return str(dtype).replace("torch.", "")


def compile_modes(choice: str, device: torch.device) -> list[bool]:
    """Which of eager (False) and compiled (True) to time. 'auto' times both on CUDA, where compiling
    usually pays, and eager only elsewhere (on a CPU it costs seconds to compile for a few percent)."""
    modes = {"on": [True], "off": [False], "both": [False, True]}
    if choice == "auto":
        return [False, True] if device.type == "cuda" else [False]
    if choice not in modes:
        raise ValueError(f"compile={choice!r}: choose one of 'auto', 'both', 'on', 'off'")
    return modes[choice]


# ------------------------------------------------------------------------------------------ training
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


def time_training(
    config: RunConfig, impl: str, device: torch.device, steps: int, warmup: int, profile_steps: int = 0
) -> dict[str, Any]:
    """Median wall time of full training steps, through the Trainer's own step; with ``profile_steps``,
    also where the time of that many further steps went (see :func:`profile_ops`)."""
    from .training import Trainer

    model = build(config, impl)
    # eval_iters=1: the Trainer draws its fixed evaluation windows at construction; none are used here.
    config = config.override(eval_iters=1)
    trainer = Trainer(model, random_dataset(config), config, device=device, progress=False)
    try:
        for _ in range(warmup):
            trainer.train_step()
        _sync(device)
        times = []
        for _ in range(steps):
            tic = time.perf_counter()
            trainer.train_step()
            _sync(device)
            times.append(time.perf_counter() - tic)
        ops = profile_ops(trainer.train_step, device, profile_steps) if profile_steps else None
    finally:
        del trainer
    B, T = config.train.batch_size, config.model.block_size
    median = statistics.median(times)
    fpt = model.flops_per_token()
    row = {
        "model": config.model.arch,
        "impl": impl,
        "preset": config.preset,
        "params": model.num_params(),
        "flops_per_token": fpt,
        "batch_size": B,
        "block_size": T,
        "n_layer": config.model.n_layer,
        "n_embd": config.model.n_embd,
        "dtype": compute_dtype(device, config),
        "compile": config.train.compile,
        "warmup_steps": warmup,
        "steps": steps,
        "step_ms_median": median * 1e3,
        "step_ms_min": min(times) * 1e3,
        "tokens_per_s": B * T / median,
        "model_flops_per_s": fpt * B * T / median,
    }
    if ops is not None:
        row["profile"] = ops
    del model
    _free(device)
    return row


def profile_ops(step, device: torch.device, steps: int, top: int = 12) -> list[dict[str, Any]]:
    """The operators that took the most time over ``steps`` calls of ``step``, per step, by torch.profiler.

    Self time, so nested calls are not counted twice; on a GPU, the device time of the kernels. The
    profiler adds its own overhead, so shares are the point here, not the absolute milliseconds.
    """
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        for _ in range(steps):
            step()
        _sync(device)
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


def _free(device: torch.device) -> None:
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()


# ------------------------------------------------------------------------------------------ generation
def time_generation(
    model: nn.Module, device: torch.device, context: int, new_tokens: int, mode: str
) -> dict[str, Any]:
    """Tokens per second of greedy batch-1 generation; ``mode`` is 'cached', 'recompute' or 'baseline'."""
    model.to(device).eval()
    prompt = torch.randint(model.config.vocab_size, (1, context), generator=torch.Generator().manual_seed(0))
    prompt = prompt.to(device)

    def run(n: int) -> None:
        if mode == "baseline":
            model.generate(prompt, n)
        else:
            generate(model, prompt, n, temperature=0, use_cache=(mode == "cached"))

    run(2)  # warm-up
    _sync(device)
    tic = time.perf_counter()
    run(new_tokens)
    _sync(device)
    seconds = time.perf_counter() - tic
    return {"mode": mode, "context": context, "new_tokens": new_tokens, "tokens_per_s": new_tokens / seconds}


# ------------------------------------------------------------------------------------------ the run
def run_bench(
    models: Sequence[str] = BENCH_MODELS,
    presets: Sequence[str] = BENCH_PRESETS,
    device: str = "auto",
    steps: int | None = None,
    warmup: int | None = None,
    batch_size: int | None = None,
    baseline: bool = True,
    compile: str = "auto",
    dtype: str = "auto",
    profile_steps: int = 0,
    gen_preset: str | None = "reference",
    gen_context: int = 256,
    gen_tokens: int = 500,
    recompute_tokens: int | None = None,
    peak_sizes: Sequence[int] | None = None,
    log=print,
) -> dict[str, Any]:
    """Everything the command measures, as one JSON-ready dict (see the module docstring)."""
    dev = pick_device(device)
    configure_backends(dev)
    result: dict[str, Any] = {
        "command": _command_line(),
        "machine": machine_report(dev),
        "settings": {
            "models": list(models),
            "presets": list(presets),
            "baseline": baseline,
            "compile": compile,
            "dtype": dtype,
            "profile_steps": profile_steps,
            "gen_preset": gen_preset,
            "gen_context": gen_context,
            "gen_tokens": gen_tokens,
        },
    }
    log(f"device {dev} ({result['machine']['device_name']}), {torch.get_num_threads()} torch threads")
    compiles = compile_modes(compile, dev)
    if dtype not in DTYPES:  # checked before the minutes of measuring, not at the first row
        raise ValueError(f"dtype={dtype!r}: choose one of {list(DTYPES)}")
    if profile_steps < 0:
        raise ValueError(f"profile_steps={profile_steps}: give 0 (no profile) or a number of steps")
    amp = autocast_dtype(dev, dtype)
    peaks = measure_peaks(dev, peak_sizes, also=[dtype_name(amp)] if amp else [])
    result["peak"] = peaks
    for name, p in peaks.items():
        log(f"matmul peak {name}: {p['flops_per_s'] / 1e9:,.0f} GFLOP/s (n={p['size']})")

    train_rows = []
    for preset in presets:
        default_steps, default_warmup = (
            CPU_STEPS.get(preset, DEFAULT_STEPS) if dev.type == "cpu" else DEFAULT_STEPS
        )
        n_steps = steps if steps is not None else default_steps
        n_warm = warmup if warmup is not None else default_warmup
        batch = (
            batch_size if batch_size is not None else (CPU_BATCH.get(preset) if dev.type == "cpu" else None)
        )
        for arch in models:
            impls = ["lmhelpers"] + (["baseline"] if baseline and arch in BASELINES else [])
            for impl in impls:
                # torch.compile is timed for the package's models only (the baselines run eager).
                for use_compile in compiles if impl == "lmhelpers" else [False]:
                    config = bench_config(preset, arch, dev, batch, use_compile, dtype)
                    row = time_training(config, impl, dev, n_steps, n_warm, profile_steps)
                    row["mfu"] = row["model_flops_per_s"] / peaks[row["dtype"]]["flops_per_s"]
                    train_rows.append(row)
                    log(_train_line(row))
                    for op in row.get("profile", []):
                        log(_profile_line(op))
    result["train"] = train_rows

    gen_rows = []
    if gen_preset:
        for arch in models:
            config = bench_config(gen_preset, arch, dev)
            context = gen_context
            n_recompute = recompute_tokens
            if n_recompute is None:
                # An RNN re-reading its whole, growing history is slow on a CPU: time its first 50 new
                # tokens only, a lower bound on the speed-up (recomputation only slows as it goes on).
                slow = dev.type == "cpu" and arch != "transformer"
                n_recompute = min(gen_tokens, 50) if slow else gen_tokens
            modes = [("lmhelpers", "cached", gen_tokens), ("lmhelpers", "recompute", n_recompute)]
            if baseline and arch in BASELINES:
                modes.append(("baseline", "baseline", n_recompute))
            for impl, mode, n in modes:
                model = build(config, impl)
                row = {"model": arch, "impl": impl, "preset": gen_preset, "params": model.num_params()}
                row.update(time_generation(model, dev, context, n, mode))
                gen_rows.append(row)
                log(_gen_line(row))
                del model
                _free(dev)
    result["generate"] = gen_rows
    result["speedups"] = speedups(train_rows, gen_rows)
    if hasattr(os, "getloadavg"):
        result["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return result


def speedups(train_rows: list[dict[str, Any]], gen_rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Ratios from the same run: the package's model over its baseline (both eager), compiled over
    eager, cached generation over recomputed."""
    train, compiled = {}, {}
    same = ("model", "preset", "batch_size")
    for row in train_rows:
        if row["impl"] != "lmhelpers":
            continue
        for other in train_rows:
            if not all(other[k] == row[k] for k in same):
                continue
            key = f"{row['model']}/{row['preset']}"
            if other["impl"] == "baseline" and not row["compile"] and not other["compile"]:
                train[key] = row["tokens_per_s"] / other["tokens_per_s"]
            if other["impl"] == "lmhelpers" and row["compile"] and not other["compile"]:
                compiled[key] = row["tokens_per_s"] / other["tokens_per_s"]
    gen = {}
    for arch in dict.fromkeys(r["model"] for r in gen_rows):  # in the order measured
        by_mode = {r["mode"]: r["tokens_per_s"] for r in gen_rows if r["model"] == arch}
        if "cached" in by_mode and "recompute" in by_mode:
            gen[f"{arch}/cached_vs_recompute"] = by_mode["cached"] / by_mode["recompute"]
        if "cached" in by_mode and "baseline" in by_mode:
            gen[f"{arch}/cached_vs_baseline"] = by_mode["cached"] / by_mode["baseline"]
    return {"train_vs_baseline": train, "compile_vs_eager": compiled, "generate": gen}


# ------------------------------------------------------------------------------------------ output
def _train_line(r: dict[str, Any]) -> str:
    return (
        f"train {r['model']:<11} {r['impl']:<9} {r['preset']:<11} B={r['batch_size']:<3} T={r['block_size']:<4}"
        f"{' compile' if r['compile'] else ''}: {r['step_ms_median']:8.1f} ms/step "
        f"{r['tokens_per_s']:10,.0f} tok/s  MFU {100 * r['mfu']:5.1f}% ({r['dtype']})"
    )


def _gen_line(r: dict[str, Any]) -> str:
    return (
        f"generate {r['model']:<11} {r['impl']:<9} {r['mode']:<9} {r['new_tokens']} tokens after "
        f"{r['context']}: {r['tokens_per_s']:8.1f} tok/s"
    )


def _profile_line(op: dict[str, Any]) -> str:
    return (
        f"    {100 * op['share']:5.1f}%  {op['ms_per_step']:7.2f} ms/step  "
        f"{op['calls_per_step']:6.1f} calls  {op['op'][:70]}"
    )


def format_tables(result: dict[str, Any]) -> str:
    """The results as Markdown tables (what docs/benchmarks.md holds)."""
    m = result["machine"]
    lines = [
        f"Machine: {m.get('cpu_name')} / {m['device_name']}, {m['torch_threads']} torch threads, torch "
        f"{m['torch']}, load average at start {m.get('load_average_start')} end {m.get('load_average_end')}",
        "",
        "| peak | GFLOP/s | matmul size |",
        "|---|---:|---:|",
    ]
    lines += [f"| {k} | {v['flops_per_s'] / 1e9:,.0f} | {v['size']} |" for k, v in result["peak"].items()]
    lines += [
        "",
        "| model | impl | preset | batch x context | params | compile | ms/step | tokens/s | MFU |",
        "|---|---|---|---|---:|---|---:|---:|---:|",
    ]
    for r in result["train"]:
        lines.append(
            f"| {r['model']} | {r['impl']} | {r['preset']} | {r['batch_size']} x {r['block_size']} | "
            f"{r['params'] / 1e6:.2f}M | {'yes' if r['compile'] else 'no'} | {r['step_ms_median']:.1f} | "
            f"{r['tokens_per_s']:,.0f} | {100 * r['mfu']:.1f}% ({r['dtype']}) |"
        )
    if result["generate"]:
        lines += [
            "",
            "| model | impl | mode | context | new tokens | tokens/s |",
            "|---|---|---|---:|---:|---:|",
        ]
        for r in result["generate"]:
            lines.append(
                f"| {r['model']} | {r['impl']} | {r['mode']} | {r['context']} | {r['new_tokens']} | "
                f"{r['tokens_per_s']:,.1f} |"
            )
    ratios = [
        (f"{what}: {k}", v)
        for what, d in (
            ("training vs baseline", result["speedups"]["train_vs_baseline"]),
            ("training, compiled vs eager", result["speedups"]["compile_vs_eager"]),
            ("generation", result["speedups"]["generate"]),
        )
        for k, v in d.items()
    ]
    if ratios:
        lines += ["", "| speed-up | ratio |", "|---|---:|"]
        lines += [f"| {k} | {v:.2f}x |" for k, v in ratios]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ CLI
def add_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser("bench", help="measure training and generation speed (MFU) on this machine")
    p.add_argument(
        "--model",
        "--arch",
        dest="models",
        nargs="+",
        default=list(BENCH_MODELS),
        choices=ARCHES,
        help="model families (default: transformer lstm); baselines exist for transformer and lstm",
    )
    p.add_argument(
        "--preset",
        dest="presets",
        nargs="+",
        default=list(BENCH_PRESETS),
        choices=[*PRESETS, "none"],
        help="sizes to time training at (default: nanogpt-cpu cpu reference; 'none': no training)",
    )
    p.add_argument(
        "--steps", type=int, default=None, help="timed steps per row (default 20; 3 for reference on CPU)"
    )
    p.add_argument(
        "--warmup", type=int, default=None, help="untimed steps first (default 5; 1 for reference on CPU)"
    )
    p.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="override every preset's batch (default: the preset's; 8 for reference on CPU)",
    )
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    p.add_argument(
        "--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)"
    )
    p.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the tutorial baselines")
    p.add_argument(
        "--compile",
        default="auto",
        choices=["auto", "both", "on", "off"],
        help="torch.compile: auto = with and without on CUDA, without elsewhere; both = with and without",
    )
    p.add_argument(
        "--dtype",
        default="auto",
        choices=list(DTYPES),
        help="training precision, as the dtype setting (default auto: bf16/fp16 autocast on CUDA, "
        "float32 elsewhere); MFU is against the peak of the precision used",
    )
    p.add_argument(
        "--profile",
        dest="profile_steps",
        type=int,
        default=0,
        metavar="N",
        help="also profile N more steps of every training row and list the operators that took the most time",
    )
    p.add_argument("--gen-preset", default="reference", help="model size for generation; 'none' skips it")
    p.add_argument("--gen-context", type=int, default=256, help="prompt length for generation (default 256)")
    p.add_argument("--gen-tokens", type=int, default=500, help="new tokens, cached modes (default 500)")
    p.add_argument(
        "--recompute-tokens",
        type=int,
        default=None,
        help="new tokens for the recompute modes (default: --gen-tokens; 50 for RNNs on CPU)",
    )
    p.add_argument(
        "--peak-sizes",
        type=int,
        nargs="+",
        default=None,
        help="square matmul sizes for the peak (default: 1024 2048 on CPU, 4096 8192 on GPU)",
    )
    p.add_argument("--json", default=None, metavar="PATH", help="also write the results as JSON to PATH")
    return p


def main_from_args(args: argparse.Namespace) -> int:
    if args.threads:
        torch.set_num_threads(args.threads)
    gen_preset = None if str(args.gen_preset).lower() == "none" else args.gen_preset
    if gen_preset is not None and gen_preset not in PRESETS:
        raise ValueError(f"--gen-preset {gen_preset!r}: choose one of {sorted(PRESETS)} or 'none'")
    result = run_bench(
        models=args.models,
        presets=[p for p in args.presets if p != "none"],
        device=args.device,
        steps=args.steps,
        warmup=args.warmup,
        batch_size=args.batch_size,
        baseline=args.baseline,
        compile=args.compile,
        dtype=args.dtype,
        profile_steps=args.profile_steps,
        gen_preset=gen_preset,
        gen_context=args.gen_context,
        gen_tokens=args.gen_tokens,
        recompute_tokens=args.recompute_tokens,
        peak_sizes=args.peak_sizes,
    )
    print()
    print(format_tables(result))
    text = json.dumps(result, indent=2, default=str)
    if args.json:
        path = Path(args.json)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n", encoding="utf-8")
        print(f"\nJSON: {path.resolve()}")
    else:
        print()
        print(text)
    return 0
