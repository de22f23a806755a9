"""Figures and tables drawn from run records (see records.py), so any run can be compared with any other."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt  # headless, matplotlib falls back to Agg by itself

TABLE_COLUMNS = [
    ("run", "name"),
    ("model", "arch"),
    ("tokenizer", "tokenizer"),
    ("params", "params"),
    ("tokens/s", "tokens_per_second"),
    ("gen tok/s", "generation_tokens_per_second"),
    ("val loss", "loss"),
    ("perplexity", "perplexity"),
    ("bits/char", "bits_per_char"),
    ("train s", "train_seconds"),
]


def _label(record: dict[str, Any]) -> str:
    return record.get("name") or record["config"]["model"]["arch"]


TIME_AXES = {"train_time": "training time (s)", "wall_time": "wall time (s), evaluation included"}


def plot_curves(
    records: Sequence[dict[str, Any]],
    path: str | os.PathLike | None = None,
    metric: str = "val_loss",
    time: str = "train_time",
) -> plt.Figure:
    """Validation (and dashed training) loss by step and by time, on shared axes.

    ``time`` is 'train_time' (optimisation only) or 'wall_time' (everything, evaluation included).
    """
    if time not in TIME_AXES:
        raise ValueError(f"time={time!r}: choose one of {sorted(TIME_AXES)}")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for i, rec in enumerate(records):
        h = rec["history"]
        color = f"C{i}"
        for ax, x in zip(axes, ("step", time)):
            ax.plot([r[x] for r in h], [r[metric] for r in h], color=color, label=f"{_label(rec)} val")
            ax.plot(
                [r[x] for r in h],
                [r["train_loss"] for r in h],
                color=color,
                ls="--",
                alpha=0.6,
                label=f"{_label(rec)} train",
            )
    axes[0].set_xlabel("optimizer step")
    axes[1].set_xlabel(TIME_AXES[time])
    axes[0].set_ylabel("loss per token (nats)")
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        _save(fig, path)
    return fig


def plot_loss_by_position(
    curves: dict[str, Sequence[float]], path: str | os.PathLike | None = None
) -> plt.Figure:
    """Validation loss at each context position, one line per model."""
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, losses in curves.items():
        ax.plot(range(1, len(losses) + 1), losses, label=name)
    ax.set_xlabel("tokens of context seen")
    ax.set_ylabel("validation loss (nats)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    if path is not None:
        _save(fig, path)
    return fig


def plot_attention(
    weights, tokens: Sequence[str], title: str = "", path: str | os.PathLike | None = None
) -> plt.Figure:
    """One attention map [T, T]: row i shows how much position i attends to each earlier position."""
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(weights, cmap="viridis", vmin=0)
    labels = [t.replace("\n", "\\n") for t in tokens]
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("key (attended to)")
    ax.set_ylabel("query")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    if path is not None:
        _save(fig, path)
    return fig


def comparison_rows(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per run with the figures every comparison shows."""
    rows = []
    for rec in records:
        cfg, final, timings = rec["config"], rec.get("final", {}), rec.get("timings", {})
        rows.append(
            {
                "name": _label(rec),
                "arch": cfg["model"]["arch"],
                "tokenizer": cfg["data"]["tokenizer"],
                "params": rec.get("model", {}).get("params"),
                "tokens_per_second": timings.get("tokens_per_second"),
                "generation_tokens_per_second": timings.get("generation_tokens_per_second"),
                "loss": final.get("loss"),
                "perplexity": final.get("perplexity"),
                "bits_per_char": final.get("bits_per_char"),
                "train_seconds": timings.get("train_seconds"),
                "wall_seconds": timings.get("wall_seconds"),
            }
        )
    return rows


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def markdown_table(rows: Sequence[dict[str, Any]], columns=TABLE_COLUMNS) -> str:
    """A GitHub-flavoured Markdown table of ``comparison_rows`` output."""
    head = "| " + " | ".join(title for title, _ in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(_fmt(r.get(key)) for _, key in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def plot_tradeoffs(rows: Sequence[dict[str, Any]], path: str | os.PathLike | None = None) -> plt.Figure:
    """Final bits per character against parameters and against wall time, one labelled point per run."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, key, xlabel in zip(axes, ("params", "wall_seconds"), ("parameters", "wall time (s)")):
        for i, r in enumerate(rows):
            if r.get(key) is None or r.get("bits_per_char") is None:
                continue
            ax.scatter(r[key], r["bits_per_char"], color=f"C{i % 10}")
            ax.annotate(
                r["name"], (r[key], r["bits_per_char"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
            )
        ax.set_xscale("log")
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("validation bits per character")
    fig.tight_layout()
    if path is not None:
        _save(fig, path)
    return fig


def _save(fig: plt.Figure, path: str | os.PathLike) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
