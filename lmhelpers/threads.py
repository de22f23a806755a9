"""CPU threads on a shared machine: one thread fewer for every core other processes keep busy.

With torch's default of one OpenMP thread per core, another busy process does not just take its share:
every parallel region waits for the thread that lost its core, and on 2 cores a training step grows
2.5-4x (docs/benchmarks.md, "Training beside a busy process"). ``OMP_WAIT_POLICY=PASSIVE`` softens that
but makes every step on an idle machine slower, and it only counts if set before torch is imported.
So training keeps torch's defaults and watches the machine instead: :func:`adjust`, called once per step
and per evaluation batch, looks at most every :data:`CHECK_SECONDS` at the cores other processes used
since its last look (:mod:`lmhelpers.benchload`) and sets torch's thread count to the cores they left,
back up to the first count when they are free again.

It leaves the count alone where someone chose it: ``OMP_NUM_THREADS`` in the environment (sweeps with
``-j N`` set it for each run), ``torch.set_num_threads`` called by someone else, or :func:`hold` (e.g.
``hold(2)``). Only the CPU is concerned. The price: the last bits of a run's numbers depend on the thread
count (about 2e-7 in the weights after 30 steps here), so a run that changed its count is not bit for bit
the run it would have been on an idle machine; the record lists the changes (``timings.thread_changes``).
"""

from __future__ import annotations

import os
import time

import torch

from . import benchload
from .device import pick_device
from .language import tr

CHECK_SECONDS = 2.0  # long enough for the tick-counted CPU times to tell one busy core from none

_state: dict = {"most": None, "last": None, "expected": None, "held": False, "changes": []}


def chosen_by_user() -> bool:
    """The thread count is someone's choice: OMP_NUM_THREADS is set, or :func:`hold` was called."""
    return _state["held"] or bool(os.environ.get("OMP_NUM_THREADS"))


def hold(threads: int | None = None) -> None:
    """Stop adjusting: keep ``threads`` (or the current count) whatever else runs on the machine."""
    if threads is not None:
        torch.set_num_threads(threads)
    _state["held"] = True


def release() -> None:
    """Adjust again (after :func:`hold`), starting from the current count."""
    _state.update(held=False, most=None, last=None, expected=None)


def adjust(device: torch.device | str = "cpu", step: int | None = None) -> int:
    """Cheap enough to call every step: returns torch's thread count, changed when a look is due and the
    cores other processes left free say so. ``step`` is noted with each change (:func:`changes`)."""
    threads = torch.get_num_threads()
    # Trainer passes a torch.device: no new object per step
    kind = device.type if isinstance(device, torch.device) else torch.device(device).type
    if kind != "cpu" or chosen_by_user():
        return threads
    if _state["most"] is None:
        _state.update(most=threads, last=benchload.snapshot(), expected=threads)
        return threads
    if threads != _state["expected"]:  # someone called torch.set_num_threads: their count from now on
        _state["held"] = True
        return threads
    if time.perf_counter() - _state["last"].wall < CHECK_SECONDS:
        return threads
    now = benchload.snapshot()
    others = benchload.usage(_state["last"], now)["others_cores"]
    _state["last"] = now
    want = benchload.free_cores(others, _state["most"])
    if want != threads:
        torch.set_num_threads(want)
        _state["expected"] = want
        _state["changes"].append({"step": step, "threads": want, "others_cores": others})
    return want


def changes() -> list[dict]:
    """Every change :func:`adjust` made in this process: step, new thread count, cores others used."""
    return list(_state["changes"])


def describe(device: torch.device | str = "auto") -> str:
    """One line for a notebook: the CPU threads this kernel trains with, and how to choose them by hand."""
    if pick_device(str(device)).type != "cpu":
        return tr("CPU threads: {n} (training runs on the GPU; the thread count does not matter there).",
                  n=torch.get_num_threads())  # fmt: skip
    if chosen_by_user():
        return tr("CPU threads: {n}, as you chose (OMP_NUM_THREADS or lmhelpers.threads.hold); kept whatever "
                  "else runs on this machine.", n=torch.get_num_threads())  # fmt: skip
    return tr(
        "CPU threads: {n}. While it trains, one is given up for every core other processes keep busy and taken "
        "back when they are free. To keep a count, set OMP_NUM_THREADS before the kernel starts or run "
        "lmhelpers.threads.hold({n}).",
        n=torch.get_num_threads(),
    )
