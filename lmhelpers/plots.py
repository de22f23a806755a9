"""Every figure the series draws: training curves, loss by position, attention maps, trade-offs, tokenizers."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt  # headless, matplotlib falls back to Agg by itself


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


def plot_tokenizers(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike | None = None):
    """Bars of tokens per character, vocabulary size and encoding speed, one bar per tokenizer."""
    import matplotlib.pyplot as plt

    panels = [
        ("tokens_per_char", "tokens per character (lower: shorter sequences)", False),
        ("vocab_size", "vocabulary size (log scale)", True),
        ("chars_per_second", "encoding speed (characters/s)", False),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(13, 3.6))
    names = [r["name"] for r in rows]
    for ax, (key, title, log) in zip(axes, panels):
        values = [r.get(key) or 0 for r in rows]
        ax.bar(names, values, color=[f"C{i}" for i in range(len(rows))])
        ax.set_title(title, fontsize=10)
        if log:
            ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    return fig


def plot_sentence_attention(
    model: Any,
    tokenizer: Any,
    sentence: str,
    layer: int = -1,
    head: int = 0,
    path: str | os.PathLike | None = None,
):
    """The attention map of one layer and head for a real sentence (cropped to the context window)."""
    import torch

    ids = tokenizer.encode(sentence)[: model.config.block_size]
    if not ids:
        raise ValueError("the sentence encodes to no tokens; choose a longer one")
    device = next(model.parameters()).device
    maps = model.attention_maps(torch.tensor(ids, device=device))  # [n_layer, n_head, T, T]
    n_layer, n_head = maps.shape[:2]
    layer_no = range(n_layer)[layer]  # also checks the index
    title = f"layer {layer_no + 1} of {n_layer}, head {range(n_head)[head] + 1} of {n_head}"
    return plot_attention(maps[layer, head].float().cpu(), tokenizer.token_strings(ids), title, path)


def _save(fig: plt.Figure, path: str | os.PathLike) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
