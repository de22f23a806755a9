"""Training beside a busy process: the whole ``train`` command timed idle and next to one busy core.

    python tools/busy_neighbour.py                          # nanogpt-cpu, 300 steps, 2 rounds
    python tools/busy_neighbour.py --steps 100 --rounds 3 --json runs/busy-neighbour.json
    python tools/busy_neighbour.py --neighbour train        # beside a second training of the same command

Each round runs, one after the other, ``python -m lmhelpers train --preset P --set max_iters=N`` as it is
(the thread count adjusted to the cores others leave, lmhelpers/threads.py) and with ``OMP_NUM_THREADS``
fixed at the core count (torch's default, as before the adjustment), first on the idle machine and then
beside ``python -c "while True: pass"``. Rounds alternate the order of the two, so drift in the machine
falls on both. Prints a Markdown table of the medians and each run's seconds; the figures in
docs/benchmarks.md ("Training beside a busy process") come from it. Needs a machine nobody else is using.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lmhelpers.device import cpu_name


def train_command(preset: str, steps: int, settings: tuple[str, ...], folder: Path) -> list[str]:
    """The measured command, and the second training of ``--neighbour train`` (with more steps)."""
    cmd = [sys.executable, "-m", "lmhelpers", "train", "--preset", preset]
    for setting in (*settings, f"max_iters={steps}"):
        cmd += ["--set", setting]
    return [*cmd, "--out", str(folder), "--no-progress"]


NEIGHBOURS = {
    "spin": lambda preset, settings, folder: [sys.executable, "-c", "while True: pass"],  # one busy core
    # a second training of the same command and thread policy, longer, so it lasts the whole measured run
    "train": lambda preset, settings, folder: train_command(
        preset, 100_000, settings, folder.with_name(folder.name + "-neighbour")
    ),
}


def timed_train(
    preset: str, steps: int, env: dict[str, str], neighbour: str | None, folder: Path, *settings: str
) -> dict:
    """Seconds of one whole training command, and the thread changes its record lists. ``settings``:
    more NAME=VALUE for ``--set`` (e.g. another dataset)."""
    other = NEIGHBOURS[neighbour](preset, settings, folder) if neighbour else None
    other = (
        subprocess.Popen(other, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if other
        else None
    )
    try:
        if other:
            time.sleep(1 if neighbour == "spin" else 8)  # let it take its core (a training: start training)
        start = time.perf_counter()
        subprocess.run(
            train_command(preset, steps, settings, folder), env=env, check=True, capture_output=True
        )
        seconds = time.perf_counter() - start
    finally:
        if other:
            other.kill()
            other.wait()
    record = json.loads(next(folder.rglob("record.json")).read_text())
    return {"seconds": round(seconds, 1), "thread_changes": record["timings"].get("thread_changes")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--preset", default="nanogpt-cpu")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--neighbour",
        choices=sorted(NEIGHBOURS),
        default="spin",
        help="spin: one busy single-thread process; train: a second training like this one",
    )
    parser.add_argument("--json", type=Path, help="also write every run here")
    args = parser.parse_args(argv)
    base = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    kinds = {"adjusted": base, "fixed": {**base, "OMP_NUM_THREADS": str(os.cpu_count())}}
    runs: list[dict] = []
    with tempfile.TemporaryDirectory() as scratch:
        for r in range(args.rounds):
            for busy in (False, True):
                for kind in sorted(kinds, reverse=r % 2 == 1):
                    folder = Path(scratch) / f"{kind}-{busy}-{r}"
                    run = timed_train(
                        args.preset, args.steps, kinds[kind], args.neighbour if busy else None, folder
                    )
                    runs.append({"threads": kind, "busy": busy, "round": r, **run})
                    print(f"{kind:8} {'busy' if busy else 'idle'} round {r}: {run['seconds']} s", flush=True)
    median = {
        (kind, busy): statistics.median(
            x["seconds"] for x in runs if (x["threads"], x["busy"]) == (kind, busy)
        )
        for kind in kinds
        for busy in (False, True)
    }
    print(
        f"\n{cpu_name()}, {os.cpu_count()} cores; train --preset {args.preset} --set max_iters={args.steps}\n"
    )
    beside = {"spin": "beside a busy process", "train": "beside a second training"}[args.neighbour]
    print(f"| threads | idle: s (median) | {beside}: s (median) | busy / idle |")
    print("|---|---:|---:|---:|")
    for kind in kinds:
        idle, busy = median[(kind, False)], median[(kind, True)]
        print(f"| {kind} | {idle:.1f} | {busy:.1f} | {busy / idle:.2f}x |")
    print(
        f"\nadjusted / fixed on the idle machine: {median[('adjusted', False)] / median[('fixed', False)]:.3f}"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"cpu": cpu_name(), "args": vars(args) | {"json": str(args.json)},
                                         "runs": runs}, indent=1))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
