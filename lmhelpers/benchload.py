"""What else the machine was doing while the benchmark ran: load average, CPU steal, other processes.

On a 2-core machine another busy process does not just take its share: with 2 OpenMP threads on 2
cores every parallel region waits for the thread that lost its core, and a training step grows 5-10x
and becomes erratic. So the benchmark samples the machine before it starts (and chooses its thread
count from the cores left free, :func:`free_cores`), measures what others used during every group of
rows and the whole run (:func:`usage`), samples again at the end, and warns (:func:`load_warnings`).

The counters come from psutil (``cpu_times``, ``getloadavg``), so Linux, macOS and Windows all report the
load and the cores others used; steal only where the platform counts it (Linux), None elsewhere.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import psutil

SAMPLE_S = 0.5  # how long the idle samples at the start and the end of a run last
BUSY_CORES = 0.25  # other processes using more than this many cores make timings suspect
STEAL_SHARE = 0.02  # so does the hypervisor taking more than this share of the CPU time
MIN_SECONDS = 0.25  # the kernel counts CPU time in ticks (10 ms): a shorter span cannot say who used a core


@dataclass(frozen=True)
class CpuSnapshot:
    """Cumulative CPU counters at one moment (seconds, all CPUs together)."""

    wall: float
    own: float  # this process's CPU time, all threads, plus finished children (compile workers)
    busy: float | None = None  # non-idle time of every CPU, not counting steal
    steal: float | None = None  # time the hypervisor gave this VM's CPUs to someone else
    total: float | None = None
    loadavg: tuple[float, float, float] | None = None


def snapshot() -> CpuSnapshot:
    t, cpu = os.times(), psutil.cpu_times()
    # Linux already counts guest time inside user and nice (psutil's cpu_percent subtracts it the same way)
    total = sum(cpu) - getattr(cpu, "guest", 0.0) - getattr(cpu, "guest_nice", 0.0)
    steal = getattr(cpu, "steal", None)  # Linux only: macOS and Windows do not count it
    # busy is everything but idle, iowait and steal: user nice system irq softirq where they exist (Linux,
    # macOS), interrupt and dpc on Windows
    busy = total - cpu.idle - getattr(cpu, "iowait", 0.0) - (steal or 0.0)
    load = tuple(round(x, 2) for x in psutil.getloadavg())
    own = t.user + t.system + t.children_user + t.children_system
    return CpuSnapshot(time.perf_counter(), own, busy, steal, total, load)


def usage(start: CpuSnapshot, end: CpuSnapshot) -> dict[str, Any]:
    """What happened between two snapshots: the cores other processes kept busy on average
    (everything busy minus this process), and the share of CPU time the hypervisor stole (None where the
    platform does not count steal). Both are None when the span is shorter than :data:`MIN_SECONDS`, where
    one tick would read as a busy core."""
    seconds = end.wall - start.wall
    out: dict[str, Any] = {"seconds": round(seconds, 3), "others_cores": None, "steal_share": None}
    if None in (start.busy, end.busy) or seconds < MIN_SECONDS:
        return out
    others = (end.busy - start.busy) - (end.own - start.own)
    total = end.total - start.total
    out["others_cores"] = round(max(0.0, others) / seconds, 3)
    if None not in (start.steal, end.steal):
        out["steal_share"] = round((end.steal - start.steal) / total, 4) if total > 0 else 0.0
    return out


def sample(seconds: float | None = None) -> dict[str, Any]:
    """The machine while this process sleeps for ``seconds``: others' cores, steal, the load average."""
    start = snapshot()
    time.sleep(SAMPLE_S if seconds is None else seconds)
    end = snapshot()
    return {"load_average": list(end.loadavg) if end.loadavg else None, **usage(start, end)}


def free_cores(others_cores: float | None, threads: int) -> int:
    """How many of ``threads`` to use when other processes keep ``others_cores`` cores busy: one fewer
    for every half core or more taken, never fewer than one."""
    if not others_cores:
        return threads
    return max(1, min(threads, (os.cpu_count() or threads) - int(others_cores + 0.5)))


def load_warnings(load: dict[str, Any]) -> list[str]:
    """Plain-language warnings about the samples in ``load`` ('start', 'end', 'during')."""
    warnings = []
    what = {"start": "before the run", "end": "after the run", "during": "during the run"}
    for key, when in what.items():
        s = load.get(key) or {}
        others, steal = s.get("others_cores"), s.get("steal_share")
        if others is not None and others > BUSY_CORES:
            warnings.append(
                f"other processes kept {others:.2f} cores busy {when}: absolute figures are low; the "
                "ratios are pairwise from interleaved rows and hold better"
            )
        if steal is not None and steal > STEAL_SHARE:
            warnings.append(f"the hypervisor stole {100 * steal:.1f}% of the CPU time {when}")
    return warnings


def isa_limits() -> dict[str, str]:
    """Environment variables that cap the instruction set torch, oneDNN or MKL use (an emulated older
    CPU must say so next to its figures)."""
    names = ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA", "MKL_ENABLE_INSTRUCTIONS")
    return {name: os.environ[name] for name in names if name in os.environ}
