"""The benchmark's timing harness: interleaved rounds, pairwise ratios and the matmul peak.

A figure timed on a shared machine is only as good as the moment it was taken in. Two rules make the
benchmark's comparisons hold anyway:

* rows that are compared run *interleaved*: every member of a group once per round, round after round,
  the order reversed every round (:func:`interleave`), so a load spike lands on both sides of a
  comparison instead of on one row;
* a ratio is taken *pair by pair*, member A's round-i figure over member B's round-i figure, and the
  median of those pairs is reported with their min and max (:func:`pairwise_ratio`).

The peak is measured the same way: several sizes, best of N repeats each, more than once per run
(:func:`best_peaks` keeps every measurement and states MFU against the best one seen).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch


def sync(device: torch.device | None) -> None:
    """Wait for the device: GPU work is asynchronous, and a timer must not stop before it ends."""
    if device is None:
        return
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def spread(values: Sequence[float]) -> dict[str, float]:
    """min, median and max of ``values`` (and how many there were)."""
    if not values:
        raise ValueError("spread of no values")
    return {"min": min(values), "median": statistics.median(values), "max": max(values), "n": len(values)}


def split_steps(total: int, rounds: int) -> list[int]:
    """``total`` steps over ``rounds`` rounds as evenly as they go (earlier rounds take the remainder);
    never more rounds than steps, so no round is empty."""
    if total < 1 or rounds < 1:
        raise ValueError(f"split_steps({total}, {rounds}): need at least one step and one round")
    rounds = min(rounds, total)
    base, extra = divmod(total, rounds)
    return [base + (1 if r < extra else 0) for r in range(rounds)]


def round_order(names: Sequence[str], round_index: int) -> list[str]:
    """The order the members run in at round ``round_index``: as given, then reversed, and so on (A B C,
    C B A, A B C, ...). No member is always first, and neighbours stay neighbours, so the member the
    others are compared with, placed in the middle (:func:`middle`), is always next to each of them."""
    return list(names) if round_index % 2 == 0 else list(reversed(names))


def middle(names: Sequence[str], reference: str) -> list[str]:
    """``names`` with ``reference`` moved to the middle: the timing order for a group whose ratios all
    divide by ``reference`` (with :func:`round_order`, it then runs next to every other member)."""
    others = [n for n in names if n != reference]
    half = len(others) // 2
    return [*others[:half], reference, *others[half:]]


# What a round is timed by: wall time, and this process's CPU time (all its threads). With one thread,
# CPU time leaves out the time other processes held the core, so a ratio of CPU times holds on a busy
# machine; with several, it counts the threads' spin-waiting and is no better than the wall clock.
CLOCKS: dict[str, Callable[[], float]] = {"wall": time.perf_counter, "cpu": time.process_time}


def interleave(
    runners: Mapping[str, Callable[[int], Any]],
    counts: Mapping[str, Sequence[int]],
    device: torch.device | None = None,
    clocks: Mapping[str, Callable[[], float]] = CLOCKS,
) -> dict[str, dict[str, list[float]]]:
    """Seconds per unit (step, token) of every runner by every clock, one figure per round, the runners
    interleaved: ``result[name][clock][r]``.

    ``runners[name](n)`` does ``n`` units of work; in round r it is called with ``counts[name][r]``.
    Every round runs every runner once, in :func:`round_order` of the mapping's order. Figure r of two
    runners was therefore taken seconds apart, which is what :func:`pairwise_ratio` pairs.
    """
    names = list(runners)
    if not names:
        return {}
    rounds = {len(counts[name]) for name in names}
    if len(rounds) != 1:
        raise ValueError(f"every runner needs one count per round; got {dict(counts)}")
    per_unit: dict[str, dict[str, list[float]]] = {name: {c: [] for c in clocks} for name in names}
    for r in range(rounds.pop()):
        for name in round_order(names, r):
            n = counts[name][r]
            sync(device)
            tic = {c: clock() for c, clock in clocks.items()}
            runners[name](n)
            sync(device)
            for c, clock in clocks.items():
                per_unit[name][c].append((clock() - tic[c]) / n)
    return per_unit


def run_clock(device: torch.device, threads: int) -> str:
    """The clock a run's ratios and MFU are taken by: CPU time for one thread on a CPU, else wall time
    (see CLOCKS)."""
    return "cpu" if device.type == "cpu" and threads == 1 else "wall"


def pairwise_ratio(numerators: Sequence[float], denominators: Sequence[float]) -> dict[str, float]:
    """The median, min and max of ``numerators[i] / denominators[i]``: figures of the same round divided.

    Passing step *times* of B as numerators and of A as denominators gives A's speed-up over B.
    """
    if len(numerators) != len(denominators) or not numerators:
        raise ValueError(
            f"pairwise_ratio needs figures from the same rounds; got {len(numerators)} and {len(denominators)}"
        )
    s = spread([a / b for a, b in zip(numerators, denominators)])
    return {"ratio": s["median"], "min": s["min"], "max": s["max"], "pairs": s["n"]}


# ------------------------------------------------------------------------------------------ peak
def default_peak_sizes(device: torch.device) -> tuple[int, ...]:
    return (1024, 2048) if device.type == "cpu" else (4096, 8192)


def matmul_peak(
    device: torch.device,
    dtype: torch.dtype = torch.float32,
    sizes: Sequence[int] | None = None,
    repeats: int = 10,
) -> dict[str, Any]:
    """The best FLOP/s of ``repeats`` square ``n x n`` matmuls for each n in ``sizes``, by the wall
    clock (``flops_per_s``) and by this process's CPU time (``cpu_flops_per_s``, see CLOCKS), and each
    size's best and median (the gap between them shows how steady the machine was)."""
    sizes = tuple(sizes) if sizes else default_peak_sizes(device)
    peak = {"flops_per_s": 0.0, "cpu_flops_per_s": 0.0, "size": 0, "repeats": repeats, "by_size": {}}
    for n in sizes:
        a = torch.randn(n, n, device=device, dtype=dtype)
        b = torch.randn(n, n, device=device, dtype=dtype)
        out = torch.empty(n, n, device=device, dtype=dtype)
        torch.mm(a, b, out=out)  # warm-up

        def mm(_: int, a=a, b=b, out=out) -> None:
            torch.mm(a, b, out=out)

        seconds = interleave({"mm": mm}, {"mm": [1] * repeats}, device)["mm"]
        rates = {clock: [2 * n**3 / max(s, 1e-9) for s in secs] for clock, secs in seconds.items()}
        peak["by_size"][str(n)] = {
            "best": max(rates["wall"]),
            "median": statistics.median(rates["wall"]),
            "cpu_best": max(rates["cpu"]),
        }
        if max(rates["wall"]) > peak["flops_per_s"]:
            peak.update(flops_per_s=max(rates["wall"]), size=n)
        peak["cpu_flops_per_s"] = max(peak["cpu_flops_per_s"], max(rates["cpu"]))
        del a, b, out
    return peak


def measure_peaks(
    device: torch.device, sizes: Sequence[int] | None = None, also: Sequence[str] = (), repeats: int = 10
) -> dict[str, dict[str, Any]]:
    """float32 everywhere; on CUDA also TF32 (what float32 training runs in there), bf16 and fp16; and
    the precisions named in ``also`` ('bfloat16', 'float16'), e.g. for bf16 autocast on a CPU."""
    peaks = {}
    if device.type == "cuda":
        saved = torch.backends.cuda.matmul.allow_tf32
        try:
            torch.backends.cuda.matmul.allow_tf32 = False
            peaks["float32"] = matmul_peak(device, torch.float32, sizes, repeats)
            torch.backends.cuda.matmul.allow_tf32 = True
            peaks["tf32"] = matmul_peak(device, torch.float32, sizes, repeats)
        finally:
            torch.backends.cuda.matmul.allow_tf32 = saved
        also = [*(["bfloat16"] if torch.cuda.is_bf16_supported() else []), "float16", *also]
    else:
        peaks["float32"] = matmul_peak(device, torch.float32, sizes, repeats)
    for name in also:
        if name not in peaks:
            peaks[name] = matmul_peak(device, getattr(torch, name), sizes, repeats)
    return peaks


def best_peaks(
    measurements: Sequence[tuple[str, Mapping[str, Mapping[str, Any]]]],
) -> dict[str, dict[str, Any]]:
    """One peak per precision from several :func:`measure_peaks` results, each labelled with when it
    was taken: the best of them by each clock (what MFU is stated against), when and at which size the
    best wall-clock one was seen, every measurement, and their spread, ``(best - worst) / best``
    (``spread`` for the wall clock, ``cpu_spread`` for CPU time)."""
    peaks: dict[str, dict[str, Any]] = {}
    for when, measured in measurements:
        for name, p in measured.items():
            entry = peaks.setdefault(name, {"flops_per_s": 0.0, "cpu_flops_per_s": 0.0, "measurements": []})
            cpu = p.get("cpu_flops_per_s", p["flops_per_s"])
            entry["measurements"].append(
                {"when": when, "flops_per_s": p["flops_per_s"], "cpu_flops_per_s": cpu, "size": p["size"]}
            )
            if p["flops_per_s"] > entry["flops_per_s"]:
                entry.update(flops_per_s=p["flops_per_s"], size=p["size"], when=when)
            entry["cpu_flops_per_s"] = max(entry["cpu_flops_per_s"], cpu)
    for entry in peaks.values():
        for key, spread_key in (("flops_per_s", "spread"), ("cpu_flops_per_s", "cpu_spread")):
            rates = [m[key] for m in entry["measurements"]]
            entry[spread_key] = (max(rates) - min(rates)) / max(rates) if max(rates) > 0 else 0.0
    return peaks
