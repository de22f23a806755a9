"""Result tables and Markdown made from run records: what a notebook, ``collect`` and a series summary show.

One row per run (:func:`lmhelpers.records.comparison_rows`), rendered as Markdown (:func:`markdown_table`); the samples and
settings of a run as Markdown; and ``summary.md`` of a folder of runs, with the written reading of
:mod:`lmhelpers.reading`. Everything here is computed from the records, never written in advance.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import RunConfig
from .language import N_, message, tr
from .records import comparison_rows, run_label

if TYPE_CHECKING:
    from .checkpoint import TrainedModel

# Column titles are English, marked for the catalog; markdown_table shows them in the learner's language.
TABLE_COLUMNS = [
    (N_("run"), "name"),
    (N_("model"), "arch"),
    (N_("tokenizer"), "tokenizer"),
    (N_("params"), "params"),
    (N_("tokens/s"), "tokens_per_second"),
    (N_("gen tok/s"), "generation_tokens_per_second"),
    (N_("val loss"), "loss"),
    (N_("perplexity"), "perplexity"),
    (N_("bits/char"), "bits_per_char"),
    (N_("± s.e."), "bpc_stderr"),
    (N_("train s"), "train_seconds"),
]

# The columns of a sweep's results table (results.csv, with these English titles, and results.md).
RESULT_COLUMNS = [
    (N_("run"), "name"),
    (N_("model"), "arch"),
    (N_("tokenizer"), "tokenizer"),
    (N_("params"), "params"),
    (N_("tokens/s"), "tokens_per_second"),
    (N_("val loss"), "loss"),
    (N_("perplexity"), "perplexity"),
    (N_("bits/char"), "bits_per_char"),
    (N_("± s.e."), "bpc_stderr"),
    (N_("wall s"), "wall_seconds"),
]


def spread_markdown(groups: Sequence[Mapping[str, Any]]) -> str:
    """Runs that differ only by seed, one line per configuration: mean and standard deviation of the
    whole-text bits per character (lmhelpers.noise.seed_groups); empty when no configuration has two.
    Shortest context first, so a context sweep reads down in order."""
    shown = sorted((g for g in groups if g["n"] >= 2), key=lambda g: (g.get("block_size") or 0, g["variant"]))
    if not shown:
        return ""
    titles = (N_("model"), N_("context"), N_("seeds"), N_("bits/char"), N_("sd"), N_("carried state saves"))
    lines = ["| " + " | ".join(tr(t) for t in titles) + " |", "|---|---:|---:|---:|---:|---:|"]
    for g in shown:
        gain = g.get("carried_gain_mean")
        saves = "-" if gain is None else f"{gain:.3f} ± {g.get('carried_gain_sd') or 0:.3f}"
        lines.append(
            f"| {g['variant']} | {g['block_size']} | {g['n']} | {g['bpc_mean']:.3f} | {g.get('bpc_sd') or 0:.3f} "
            f"| {saves} |"
        )
    return "\n".join(lines)


def evaluation_markdown(records: Sequence[Mapping[str, Any]]) -> str:
    """How each run scores on the whole validation text (its ``evaluation``): its own way, then with the
    context reset every window, the same for every family; ± is one standard error."""
    from .evaluation import describe_method

    titles = (N_("run"), N_("scored"), N_("tokens scored"), N_("loss ± s.e."), N_("bits/char ± s.e."))
    lines = ["| " + " | ".join(tr(t) for t in titles) + " |", "|---|---|---:|---:|---:|"]
    for rec in records:
        ev = rec.get("evaluation") or {}
        for key in ("whole_text", "reset"):
            if key not in ev:
                continue
            s = ev[key]
            bpc = (
                "-" if s.get("bits_per_char") is None else f"{s['bits_per_char']:.3f} ± {s['bpc_stderr']:.3f}"
            )
            lines.append(
                f"| {run_label(rec)} | {describe_method(s)} | {s['tokens']:,} | {s['loss']:.4f} ± {s['stderr']:.4f} "
                f"| {bpc} |"
            )
    return "\n".join(lines)


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3f}"  # 568 tokens/s, not 567.999
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def markdown_table(rows: Sequence[dict[str, Any]], columns=TABLE_COLUMNS) -> str:
    """A GitHub-flavoured Markdown table of ``comparison_rows`` output."""
    head = "| " + " | ".join(tr(title) for title, _ in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = ["| " + " | ".join(_fmt(r.get(key)) for _, key in columns) + " |" for r in rows]
    return "\n".join([head, rule, *body])


def samples_markdown(record: Mapping[str, Any]) -> str:
    """The samples of a run record, one fenced block per sampling setting."""
    parts = []
    for s in record.get("samples", []):
        top_k = f", top_k {s['top_k']}" if s.get("top_k") else ""
        head = message(
            "sample_head", temperature=s["temperature"], top_k=top_k, prompt=s["prompt"], seed=s["seed"]
        )
        parts.append(f"{head}\n\n```\n{s['text']}\n```")
    return "\n\n".join(parts)


def key_value_table(values: Mapping[str, Any]) -> str:
    """A two-column Markdown table of a flat dict."""
    rows = [f"| {k} | {v} |" for k, v in values.items()]
    return "\n".join(["| | |", "|---|---|", *rows])


def config_markdown(config: RunConfig) -> str:
    """The settings that shape a run, as a two-column table."""
    m, t = config.model, config.train
    kind, cap = config.data.tokenizer, config.data.vocab_size
    layers = {"layers": m.n_layer, "width": m.n_embd, "heads": m.n_head}
    shown = {
        N_("preset"): config.preset,
        N_("model"): m.arch,
        N_("layers x width"): message("layers_width" if m.is_rnn else "layers_width_heads", **layers),
        N_("context (block_size)"): m.block_size,
        N_("dropout"): m.dropout,
        N_("tokenizer"): message("vocab_cap", kind=kind, cap=cap) if kind in ("word", "bpe") else kind,
        N_("steps x batch"): f"{t.max_iters:,} x {t.batch_size}",
        N_("learning rate"): message(
            "lr_schedule", lr=t.learning_rate, warmup=t.warmup_iters, final=t.final_lr
        ),
        N_("evaluate every"): message("eval_every", interval=t.eval_interval, batches=t.eval_iters),
        N_("device, seed"): f"{t.device}, {t.seed}",
    }
    return key_value_table({tr(k): v for k, v in shown.items()})


SAMPLING_LABELS = {"temperature": N_("temperature"), "seed": N_("seed")}  # top_k, top_p: as written


def prompt_samples(
    models: Sequence[TrainedModel], prompt: str, max_new_tokens: int = 300, **sampling: Any
) -> str:
    """Markdown of one sample per model from the same prompt, seed and sampling settings (``generate``'s
    temperature, top_k, top_p, seed). A seed left out or None becomes the first model's training seed, so
    that every sample shown names the seed that reproduces it."""
    from .generation import sample_text

    if sampling.get("seed") is None and models:
        sampling["seed"] = models[0].config.train.seed
    settings = ", ".join(f"{tr(SAMPLING_LABELS.get(k, k))} {v}" for k, v in sampling.items())
    parts = []
    for m in models:
        text = sample_text(m.model, m.tokenizer, prompt, max_new_tokens=max_new_tokens, **sampling)
        parts.append(f"**{m.name}** ({settings})\n\n```\n{text}\n```")
    return "\n\n".join(parts)


def _shared_sample(records: Sequence[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """One sample per record, taken at a temperature every record has, so they are comparable."""
    temps = [{s["temperature"] for s in r.get("samples", [])} for r in records]
    common = sorted(set.intersection(*temps)) if temps and all(temps) else []
    choice = 0.8 if 0.8 in common else (common[0] if common else None)
    picked = []
    for r in records:
        samples = r.get("samples", [])
        match = [s for s in samples if s["temperature"] == choice] or samples[:1]
        picked.append(match[0] if match else None)
    return picked


POSITION_LOSSES = "position_losses.json"  # loss by context position, as notebook 04 saves it


def save_position_losses(curves: Mapping[str, Sequence[float]], out_dir: str | os.PathLike) -> Path:
    """Keep the loss-by-position curves beside the figure, so a summary reads the same curves."""
    path = Path(out_dir) / POSITION_LOSSES
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({k: list(map(float, v)) for k, v in curves.items()}), encoding="utf-8")
    return path


def find_position_losses(root: str | os.PathLike) -> dict[str, list[float]] | None:
    """The curves :func:`save_position_losses` wrote anywhere under ``root`` (the first found), or None."""
    for path in sorted(Path(root).rglob(POSITION_LOSSES)):
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return None


def write_summary(out_dir: str | os.PathLike, results: Sequence[dict[str, Any]] = ()) -> str | None:
    """``summary.md`` and ``curves.png`` for the run records under ``out_dir``; the summary text, or None
    when no notebook wrote a record."""
    import matplotlib.pyplot as plt

    from .plots import plot_curves
    from .reading import describe_comparison
    from .records import find_records

    out = Path(out_dir)
    every = find_records(out)
    # The runs of the folder's own notebooks or models (out/NAME/record.json) are compared and read;
    # runs kept deeper (a lesson's extra models, out/02_rnn/leaky/) are listed in the table only.
    records = [r for r in every if Path(r["path"]).parent.parent == out]
    if not every:
        return None
    lines = [tr("## Results"), "", markdown_table(comparison_rows(every)), ""]
    if len(records) >= 2:
        curves = find_position_losses(out)
        lines += [tr("## Reading"), "", *[f"- {s}" for s in describe_comparison(records, curves)], ""]
    for rec, s in zip(records, _shared_sample(records)):
        if s is not None:
            lines += [
                tr(
                    "### {name}: sample at temperature {temperature}",
                    name=rec["name"],
                    temperature=s["temperature"],
                ),
                "",
                "```",
                s["text"],
                "```",
                "",
            ]
    if results:
        head = "| " + tr("notebook") + " | " + tr("seconds") + " |"
        lines += [tr("## Notebooks"), "", head, "|---|---|"]
        lines += [f"| {r['notebook']} | {r['seconds']:.1f} |" for r in results]
        lines += ["| " + tr("total") + f" | {sum(r['seconds'] for r in results):.1f} |", ""]
    text = "\n".join(lines)
    (out / "summary.md").write_text(text, encoding="utf-8")
    plt.close(plot_curves(records, out / "curves.png"))
    return text
