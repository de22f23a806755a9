"""Do two back-to-back benchmark runs agree? The tables and counts of docs/benchmarks.md, from the runs' JSON.

The runs behind the section "Back-to-back runs" are kept in docs/bench-runs/ (the JSON that
``python -m lmhelpers bench --json`` wrote, unchanged). This script computes, for each pair of runs,
every speed-up ratio of both runs and their difference, the load the machine was under, and the counts
the section states, and writes them between the markers in docs/benchmarks.md:

    python tools/bench_agreement.py          # print the block
    python tools/bench_agreement.py write    # put it into docs/benchmarks.md
    python tools/bench_agreement.py check    # exit 1 when the page differs from the runs (a test runs this)
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from generated_block import fill

ROOT = Path(__file__).resolve().parents[1]
RUNS = ROOT / "docs" / "bench-runs"
PAGE = ROOT / "docs" / "benchmarks.md"
BLOCK = "bench-agreement"  # the markers around the generated part of docs/benchmarks.md

# (label, first run, second run): the same command twice, the second started as the first ended.
# '+ busy': a `while True: pass` process on one core for both runs; '*': the harness before its last
# generation change (3 rounds of 500 / 50 / 20 new tokens instead of 5 of 300 / 30 / 12).
PAIRS = [
    ("AMX, A", "amx_final", "amx_final2"),
    ("AMX + busy, B", "amx_busy1", "amx_busy2"),
    ("AVX2 emul., D", "avx2_final3", "avx2_final4"),
    ("AMX, E*", "quiet1", "quiet2"),
    ("AMX + busy, F*", "busy1", "busy2"),
    ("AVX2 emul., G*", "avx2_1", "avx2_2"),
]
GROUPS = {"train_vs_baseline": "training", "generate": "generation"}
TRAINING_CLOSE, GENERATION_CLOSE = 0.05, 0.10


def load(name: str) -> dict:
    return json.loads((RUNS / f"{name}.json").read_text(encoding="utf-8"))


def difference(a: float, b: float) -> float:
    """Larger over smaller, minus one: 0.05 means the two runs' ratios differ by 5%."""
    return max(a, b) / min(a, b) - 1


def compare(first: dict, second: dict) -> list[tuple[str, str, float, float, float]]:
    """(group, ratio, first run's, second run's, difference) for every ratio both runs have."""
    out = []
    for group in GROUPS:
        for key, s in first["speedups"].get(group, {}).items():
            other = second["speedups"].get(group, {}).get(key)
            if other:
                out.append((group, key, s["ratio"], other["ratio"], difference(s["ratio"], other["ratio"])))
    return out


def _percent(d: float) -> str:
    text = f"{100 * d:.1f}%"
    return f"**{text}**" if d > GENERATION_CLOSE else text


def block(pairs=PAIRS) -> str:
    runs = {name: load(name) for _, a, b in pairs for name in (a, b)}
    compared = {label: compare(runs[a], runs[b]) for label, a, b in pairs}
    keys = [(g, k) for g, k, *_ in compared[pairs[0][0]]]
    lines = ["| ratio | " + " | ".join(label for label, *_ in pairs) + " |", "|---|" + "---:|" * len(pairs)]
    for group, key in keys:
        cells = []
        for label, *_ in pairs:
            row = next((r for r in compared[label] if r[:2] == (group, key)), None)
            cells.append(f"{row[2]:.2f} / {row[3]:.2f} ({_percent(row[4])})" if row else "-")
        lines.append(f"| {GROUPS[group]}: {key} | " + " | ".join(cells) + " |")
    worst = [max(r[4] for r in compared[label]) for label, *_ in pairs]
    lines.append("| largest difference | " + " | ".join(f"{100 * w:.1f}%" for w in worst) + " |")

    lines += [
        "",
        "| pair | load average at the start (1 min) | cores others used during the run | duration | threads |",
    ]
    lines.append("|---|---|---|---|---|")
    for label, a, b in pairs:
        la, lb = runs[a]["load"], runs[b]["load"]
        lines.append(
            f"| {label} | {la['start']['load_average'][0]} / {lb['start']['load_average'][0]} | "
            f"{la['during']['others_cores']:.2f} / {lb['during']['others_cores']:.2f} | "
            f"{la['during']['seconds'] / 60:.1f} / {lb['during']['seconds'] / 60:.1f} min | "
            f"{runs[a]['machine']['torch_threads']} / {runs[b]['machine']['torch_threads']} |"
        )

    train = [(label, r) for label in compared for r in compared[label] if r[0] == "train_vs_baseline"]
    gen = [(label, r) for label in compared for r in compared[label] if r[0] == "generate"]
    far_train = [
        f"{r[1]} in pair {label} ({100 * r[4]:.1f}%)" for label, r in train if r[4] > GENERATION_CLOSE
    ]
    far_gen = sorted({label for label, r in gen if r[4] > GENERATION_CLOSE}, key=[p[0] for p in pairs].index)
    loads = [run["load"]["start"]["load_average"][0] for run in runs.values()]
    mfu = max(row["mfu"] for run in runs.values() for row in run["train"])
    spread = max(run["peak"]["float32"].get("spread", 0.0) for run in runs.values())
    lines += [
        "",
        f"Counted from these {len(runs)} runs (load average {min(loads):.1f} to {max(loads):.1f} at their starts):",
        "",
        f"* training ratios: {sum(r[4] <= TRAINING_CLOSE for _, r in train)} of {len(train)} comparisons within "
        f"{100 * TRAINING_CLOSE:.0f}%, {sum(r[4] <= GENERATION_CLOSE for _, r in train)} within "
        f"{100 * GENERATION_CLOSE:.0f}%"
        + (f" (over {100 * GENERATION_CLOSE:.0f}%: {'; '.join(far_train)})" if far_train else ""),
        f"* generation ratios: {sum(r[4] <= GENERATION_CLOSE for _, r in gen)} of {len(gen)} within "
        f"{100 * GENERATION_CLOSE:.0f}%" + (f"; over it in pairs {'; '.join(far_gen)}" if far_gen else ""),
        f"* the highest MFU any run printed: {100 * mfu:.1f}%; the float32 peak moved by up to {100 * spread:.0f}% "
        "between its measurements within one run",
    ]
    return "\n".join(lines)


def update(write: bool) -> bool:
    """True when the page already holds the block computed from the runs (after writing, when asked)."""
    page = PAGE.read_text(encoding="utf-8")
    new = fill(page, BLOCK, block(), PAGE.name)
    if write and new != page:
        PAGE.write_text(new, encoding="utf-8")
    return new == page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", nargs="?", choices=["print", "write", "check"], default="print")
    args = parser.parse_args(argv)
    if args.command == "print":
        print(block())
        return 0
    same = update(write=args.command == "write")
    if args.command == "check" and not same:
        print(
            f"{PAGE.relative_to(ROOT)} differs from docs/bench-runs/: run python tools/bench_agreement.py write"
        )
        return 1
    print(f"{PAGE.relative_to(ROOT)}: {'up to date' if same else 'updated'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
