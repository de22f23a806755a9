"""Collect run records into one results table (CSV and Markdown) and comparison plots.

Works on any folder of runs: a ``make run`` series, a sweep, or runs copied together by hand.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from .language import tr
from .noise import seed_groups
from .plots import plot_curves, plot_tradeoffs
from .records import comparison_rows, find_records
from .report import RESULT_COLUMNS, markdown_table, spread_markdown


def collect(root: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> list[dict[str, Any]]:
    """Read every ``record.json`` under ``root``; write results.csv, results.md and two figures.

    results.md ends with the mean and spread of each configuration run with several seeds.

    Rows are named by each run's folder relative to ``root``, so runs of one model in different sweep
    points stay distinguishable. Returns the rows (sorted by bits per character, best first).
    """
    import matplotlib.pyplot as plt

    root = Path(root)
    out = Path(out_dir) if out_dir is not None else root
    records = find_records(root)
    if not records:
        raise FileNotFoundError(
            tr("no run records (record.json) under {root}; run a series or sweep first.", root=root)
        )
    for rec in records:
        rel = Path(rec["path"]).parent.relative_to(root)
        rec["name"] = str(rel) if str(rel) != "." else rec["name"]
    rows = sorted(
        comparison_rows(records), key=lambda r: (r["bits_per_char"] is None, r["bits_per_char"] or 0)
    )
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([title for title, _ in RESULT_COLUMNS])
        writer.writerows([[r.get(key) for _, key in RESULT_COLUMNS] for r in rows])
    spread = spread_markdown(seed_groups(records))
    over_seeds = "\n## " + tr("Over seeds") + f"\n\n{spread}\n" if spread else ""
    (out / "results.md").write_text(
        markdown_table(rows, RESULT_COLUMNS) + "\n" + over_seeds, encoding="utf-8"
    )
    plt.close(plot_curves(records, out / "val_curves.png"))
    plt.close(plot_tradeoffs(rows, out / "tradeoffs.png"))
    return rows
