"""Every figure the series draws: training curves, loss by position, attention maps, trade-offs, tokenizers."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt  # headless, matplotlib falls back to Agg by itself

from .language import N_, current_language, tr

# Fonts that draw Hangul, most common first: Colab and Linux (Nanum, Noto CJK), macOS, Windows.
HANGUL_FONTS = (
    "NanumGothic",
    "Noto Sans CJK KR",
    "Noto Sans KR",
    "AppleGothic",
    "Apple SD Gothic Neo",
    "Malgun Gothic",
    "UnDotum",
)
_hangul: list[str | None] = []


def use_hangul_font() -> str | None:
    """Make figures draw Hangul: the first installed font of ``HANGUL_FONTS``, else the NanumGothic that
    the ``koreanize-matplotlib`` package ships. Returns the font's name, or None after one warning that
    says what to install (Korean text would otherwise show as empty boxes)."""
    if _hangul:
        return _hangul[0]
    import warnings

    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    name = next((f for f in HANGUL_FONTS if f in installed), None)
    if name is None:
        try:
            with warnings.catch_warnings():  # it imports distutils, deprecated: not the learner's concern
                warnings.simplefilter("ignore")
                import koreanize_matplotlib  # noqa: F401  (registers NanumGothic with matplotlib)

            installed = {f.name for f in font_manager.fontManager.ttflist}
            name = "NanumGothic" if "NanumGothic" in installed else None
        except ImportError:
            warnings.warn(
                tr(
                    "no font with Hangul was found, so Korean text in figures would show as empty boxes; "
                    "install one with `pip install koreanize-matplotlib` (or the system's fonts-nanum package)"
                ),
                stacklevel=2,
            )
    if name is not None:
        # DejaVu first, the Hangul font second: matplotlib takes each glyph from the first font that has it,
        # so Latin text, digits and the minus signs of math text (log-axis ticks, which NanumGothic lacks)
        # come from DejaVu and Hangul from the Hangul font.
        plt.rcParams["font.family"] = ["DejaVu Sans", name]
    _hangul.append(name)
    return name


def _needs_hangul(*texts: str) -> None:
    """Pick a Hangul font when the figure will say something in Korean: its labels (the learner's language
    is Korean, the command line's included) or the texts it shows (tokens, a sentence)."""
    korean = current_language() == "ko"
    if korean or any(
        "\uac00" <= ch <= "\ud7a3" or "\u3131" <= ch <= "\u318e" for t in texts for ch in str(t)
    ):
        use_hangul_font()


def _label(record: dict[str, Any]) -> str:
    return record.get("name") or record["config"]["model"]["arch"]


TIME_AXES = {"train_time": N_("training time (s)"), "wall_time": N_("wall time (s), evaluation included")}


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
        raise ValueError(tr("time={time!r}: choose one of {choices}", time=time, choices=sorted(TIME_AXES)))
    _needs_hangul(*(_label(r) for r in records))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for i, rec in enumerate(records):
        h = rec["history"]
        color = f"C{i}"
        for ax, x in zip(axes, ("step", time)):
            val = tr("{name} val", name=_label(rec))
            ax.plot([r[x] for r in h], [r[metric] for r in h], color=color, label=val)
            ax.plot(
                [r[x] for r in h],
                [r["train_loss"] for r in h],
                color=color,
                ls="--",
                alpha=0.6,
                label=tr("{name} train", name=_label(rec)),
            )
    axes[0].set_xlabel(tr("optimizer step"))
    axes[1].set_xlabel(tr(TIME_AXES[time]))
    axes[0].set_ylabel(tr("loss per token (nats)"))
    for ax in axes:
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    if path is not None:
        _save(fig, path)
    return fig


def plot_loss_by_position(
    curves: dict[str, Sequence[float]], path: str | os.PathLike | None = None, window: int | None = None
) -> plt.Figure:
    """Validation loss at each amount of context, one line per model.

    With ``window`` (the training context, block_size) a dotted line marks it; curves that run past it
    (a recurrent model scored beyond its window) are drawn on a log axis, so both ends stay readable.
    """
    _needs_hangul(*curves)
    fig, ax = plt.subplots(figsize=(7, 4))
    for name, losses in curves.items():
        ax.plot(range(1, len(losses) + 1), losses, label=name)
    if window:
        ax.axvline(window, color="gray", ls=":", label=tr("training window (block_size)"))
        if max(len(c) for c in curves.values()) > window:
            ax.set_xscale("log", base=2)
    ax.set_xlabel(tr("tokens of context seen"))
    ax.set_ylabel(tr("validation loss (nats)"))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    if path is not None:
        _save(fig, path)
    return fig


def plot_attention(
    weights, tokens: Sequence[str], title: str = "", path: str | os.PathLike | None = None
) -> plt.Figure:
    """One attention map [T, T]: row i shows how much position i attends to each earlier position.

    ``title`` is shown through ``tr``: an English title marked with ``N_`` appears in the learner's language."""
    labels = [t.replace("\n", "\\n") for t in tokens]
    _needs_hangul(title, *labels)
    fig, ax = plt.subplots(figsize=(6, 5))
    im = ax.imshow(weights, cmap="viridis", vmin=0)
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel(tr("key (attended to)"))
    ax.set_ylabel(tr("query"))
    ax.set_title(tr(title))
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    if path is not None:
        _save(fig, path)
    return fig


def plot_tradeoffs(rows: Sequence[dict[str, Any]], path: str | os.PathLike | None = None) -> plt.Figure:
    """Final bits per character against parameters and against wall time, one labelled point per run."""
    _needs_hangul(*(r.get("name", "") for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, key, xlabel in zip(axes, ("params", "wall_seconds"), (N_("parameters"), N_("wall time (s)"))):
        for i, r in enumerate(rows):
            if r.get(key) is None or r.get("bits_per_char") is None:
                continue
            ax.scatter(r[key], r["bits_per_char"], color=f"C{i % 10}")
            ax.annotate(
                r["name"], (r[key], r["bits_per_char"]), fontsize=7, xytext=(3, 3), textcoords="offset points"
            )
        ax.set_xscale("log")
        ax.set_xlabel(tr(xlabel))
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(tr("validation bits per character"))
    fig.tight_layout()
    if path is not None:
        _save(fig, path)
    return fig


def plot_tokenizers(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike | None = None):
    """Bars of tokens per character, vocabulary size and encoding speed, one bar per tokenizer."""
    import matplotlib.pyplot as plt

    _needs_hangul(*(r["name"] for r in rows))
    panels = [
        ("tokens_per_char", N_("tokens per character (lower: shorter sequences)"), False),
        ("vocab_size", N_("vocabulary size (log scale)"), True),
        ("chars_per_second", N_("encoding speed (characters/s)"), False),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(13, 3.6))
    names = [r["name"] for r in rows]
    for ax, (key, title, log) in zip(axes, panels):
        values = [r.get(key) or 0 for r in rows]
        ax.bar(names, values, color=[f"C{i}" for i in range(len(rows))])
        ax.set_title(tr(title), fontsize=10)
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
        raise ValueError(tr("the sentence encodes to no tokens; choose a longer one"))
    device = next(model.parameters()).device
    maps = model.attention_maps(torch.tensor(ids, device=device))  # [n_layer, n_head, T, T]
    n_layer, n_head = maps.shape[:2]
    layer_no = range(n_layer)[layer]  # also checks the index
    head_no = range(n_head)[head]
    title = tr(
        "layer {layer} of {n_layer}, head {head} of {n_head}",
        layer=layer_no + 1,
        n_layer=n_layer,
        head=head_no + 1,
        n_head=n_head,
    )
    return plot_attention(maps[layer, head].float().cpu(), tokenizer.token_strings(ids), title, path)


def _save(fig: plt.Figure, path: str | os.PathLike) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
