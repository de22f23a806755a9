"""Collect run records into one results table (CSV and Markdown) and comparison plots.

Works on any folder of runs: a ``make run`` series, a sweep, or runs copied together by hand.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from .plots import comparison_rows, markdown_table, plot_curves, plot_tradeoffs
from .records import find_records

COLUMNS = [
    ("run", "name"),
    ("model", "arch"),
    ("tokenizer", "tokenizer"),
    ("params", "params"),
    ("tokens/s", "tokens_per_second"),
    ("val loss", "loss"),
    ("perplexity", "perplexity"),
    ("bits/char", "bits_per_char"),
    ("wall s", "wall_seconds"),
]


def collect(root: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """Read every ``record.json`` under ``root``; write results.csv, results.md and two figures.

    Rows are named by each run's folder relative to ``root``, so runs of one model in different sweep
    points stay distinguishable. Returns the rows (sorted by bits per character, best first).
    """
    import matplotlib.pyplot as plt

    root = Path(root)
    out = Path(out_dir) if out_dir is not None else root
    records = find_records(root)
    if not records:
        raise FileNotFoundError(f"no run records (record.json) under {root}; run a series or sweep first.")
    for rec in records:
        rel = Path(rec["path"]).parent.relative_to(root)
        rec["name"] = str(rel) if str(rel) != "." else rec["name"]
    rows = sorted(
        comparison_rows(records), key=lambda r: (r["bits_per_char"] is None, r["bits_per_char"] or 0)
    )
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([title for title, _ in COLUMNS])
        writer.writerows([[r.get(key) for _, key in COLUMNS] for r in rows])
    (out / "results.md").write_text(markdown_table(rows, COLUMNS) + "\n", encoding="utf-8")
    plt.close(plot_curves(records, out / "val_curves.png"))
    plt.close(plot_tradeoffs(rows, out / "tradeoffs.png"))
    return rows


def describe_sweep(rows: list[dict[str, Any]]) -> list[str]:
    """A few sentences drawn from a sweep's own numbers (rows as ``collect`` returns them)."""
    scored = [r for r in rows if r.get("bits_per_char") is not None]
    if not scored:
        return ["No run finished with a validation score yet."]
    best, worst = scored[0], scored[-1]
    out = [
        f"Lowest validation bits per character: {best['name']} ({best['arch']}, {best['tokenizer']}) "
        f"at {best['bits_per_char']:.3f}."
    ]
    if len(scored) > 1:
        gap = worst["bits_per_char"] - best["bits_per_char"]
        out.append(
            f"Highest: {worst['name']} at {worst['bits_per_char']:.3f}, {gap:.3f} bits per character "
            f"({gap / worst['bits_per_char']:.0%}) behind the best."
        )
    timed = [r for r in scored if r.get("tokens_per_second")]
    if len(timed) > 1:
        fast = max(timed, key=lambda r: r["tokens_per_second"])
        slow = min(timed, key=lambda r: r["tokens_per_second"])
        out.append(
            f"Fastest training: {fast['name']} at {fast['tokens_per_second']:,.0f} tokens/s, "
            f"{fast['tokens_per_second'] / slow['tokens_per_second']:.1f}x the slowest ({slow['name']})."
        )
    sized = [r for r in scored if r.get("params")]
    if len(sized) > 1:
        small = min(sized, key=lambda r: r["params"])
        out.append(
            f"Smallest model: {small['name']} with {small['params']:,} parameters reaches "
            f"{small['bits_per_char']:.3f} bits per character."
        )
    return out
