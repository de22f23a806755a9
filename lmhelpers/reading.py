"""The written reading of a comparison: sentences computed from the run records, never fixed text.

:func:`describe_comparison` reads two or more runs (notebook 04 and the series summary);
:func:`describe_sweep` reads a sweep's results table (notebook 05 and ``collect``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any


def _bpc_at_time(record: Mapping[str, Any], t: float) -> float | None:
    """Validation bits per character at training time ``t``, interpolated along the history."""
    tpc = record.get("tokenizer", {}).get("tokens_per_char")
    points = [
        (h["train_time"], h["val_loss"]) for h in record.get("history", []) if h.get("val_loss") is not None
    ]
    if not tpc or not points:
        return None
    for (t0, l0), (t1, l1) in zip(points, points[1:]):
        if t0 <= t <= t1:
            loss = l0 if t1 == t0 else l0 + (l1 - l0) * (t - t0) / (t1 - t0)
            return loss * tpc / math.log(2)
    return points[-1][1] * tpc / math.log(2) if t >= points[-1][0] else None


def _separation(a: Sequence[float], b: Sequence[float], threshold: float) -> int | None:
    """The first index from which |a - b| stays above ``threshold`` with one sign to the end, else None."""
    n = min(len(a), len(b))
    start = None
    for i in range(n - 1, -1, -1):
        d = a[i] - b[i]
        if abs(d) <= threshold or (start is not None and (d > 0) != (a[start] - b[start] > 0)):
            break
        start = i
    return start


def describe_comparison(
    records: Sequence[Mapping[str, Any]],
    position_curves: Mapping[str, Sequence[float]] | None = None,
    threshold: float = 0.05,
) -> list[str]:
    """Sentences that read the comparison of two or more runs from their records' numbers.

    Covers bits per character (the fair measure across tokenizers), per-token loss and perplexity when
    the tokenizers agree, training throughput and the loss reached at equal training time, size,
    generation speed, the train/validation gap, and, given ``position_curves`` (name -> loss by
    position), where the curves separate. Nothing is fixed text: every claim is computed here.
    """
    from .report import comparison_rows

    if len(records) < 2:
        raise ValueError("describe_comparison needs at least two run records")
    rows = comparison_rows(records)
    by_name = {r["name"]: (r, rec) for r, rec in zip(rows, records)}
    out: list[str] = []

    steps = {r["name"]: rec["final"].get("step") for r, rec in zip(rows, records)}
    if len(set(steps.values())) > 1:
        out.append(
            "The runs trained for different numbers of steps ("
            + ", ".join(f"{n}: {s}" for n, s in steps.items())
            + "), so part of any difference below is training length, not architecture."
        )

    scored = sorted((r for r in rows if r["bits_per_char"] is not None), key=lambda r: r["bits_per_char"])
    if len(scored) >= 2:
        best = scored[0]
        for other in scored[1:]:
            gap = other["bits_per_char"] - best["bits_per_char"]
            if gap < 0.005:
                out.append(
                    f"{best['name']} and {other['name']} end level on the validation text: "
                    f"{best['bits_per_char']:.3f} and {other['bits_per_char']:.3f} bits per character."
                )
            else:
                out.append(
                    f"{best['name']} reaches {best['bits_per_char']:.3f} bits per character on the validation "
                    f"text and {other['name']} {other['bits_per_char']:.3f}: {best['name']} needs "
                    f"{gap:.3f} fewer bits per character ({gap / other['bits_per_char']:.1%} less)."
                )

    tokenizers = {r["tokenizer"] for r in rows}
    if len(tokenizers) == 1 and all(r["loss"] is not None for r in rows):
        losses = ", ".join(
            f"{r['name']} {r['loss']:.3f} nats (perplexity {r['perplexity']:.2f})" for r in rows
        )
        out.append(
            f"{'Both' if len(rows) == 2 else 'All'} read the text through the same {tokenizers.pop()} "
            "tokenizer, so the per-token figures "
            f"compare directly as well: {losses}."
        )
    elif len(tokenizers) > 1:
        out.append(
            f"The runs use different tokenizers ({', '.join(sorted(tokenizers))}), so loss and perplexity "
            "are per different units; compare them by bits per character only."
        )

    speed = sorted((r for r in rows if r["tokens_per_second"]), key=lambda r: -r["tokens_per_second"])
    if len(speed) >= 2:
        fast, slow = speed[0], speed[-1]
        device = by_name[fast["name"]][1].get("environment", {}).get("device", "this device")
        out.append(
            f"{fast['name']} trains on {fast['tokens_per_second']:,.0f} tokens per second and {slow['name']} on "
            f"{slow['tokens_per_second']:,.0f} ({fast['tokens_per_second'] / slow['tokens_per_second']:.1f}x "
            f"on {device})."
        )

    ends = {
        r["name"]: rec["history"][-1]["train_time"] for r, rec in zip(rows, records) if rec.get("history")
    }
    if len(ends) >= 2:
        first_done = min(ends, key=ends.get)
        t = ends[first_done]
        if t > 0 and max(ends.values()) > 1.05 * t:
            at_t = {n: _bpc_at_time(by_name[n][1], t) for n in ends}
            if all(v is not None for v in at_t.values()):
                ranked = sorted(at_t.items(), key=lambda kv: kv[1])
                out.append(
                    f"At equal training time, {t:.3g} s (when {first_done} finished), the validation text "
                    "costs " + ", ".join(f"{n} {v:.3f}" for n, v in ranked) + " bits per character: "
                    f"{ranked[0][0]} gets more out of each second of training."
                )

    sized = [r for r in rows if r["params"]]
    if len(sized) >= 2:
        big, small = max(sized, key=lambda r: r["params"]), min(sized, key=lambda r: r["params"])
        if big is not small:
            out.append(
                f"{big['name']} has {big['params']:,} parameters, {big['params'] / small['params']:.1f}x "
                f"the {small['params']:,} of {small['name']}."
            )

    gen = sorted(
        (r for r in rows if r["generation_tokens_per_second"]),
        key=lambda r: -r["generation_tokens_per_second"],
    )
    if len(gen) >= 2:
        out.append(
            "Generating one sequence token by token, "
            + " and ".join(
                f"{r['name']} produces {r['generation_tokens_per_second']:,.0f} tokens/s" for r in gen
            )
            + "."
        )

    for rec in records:
        sentence = _fit_sentence(rec)
        if sentence:
            out.append(sentence)

    if position_curves and len(position_curves) >= 2:
        out.extend(_describe_positions(position_curves, threshold))
    return out


def _fit_sentence(record: Mapping[str, Any], gap: float = 0.1) -> str | None:
    """Overfitting is validation loss rising from its best; a train/validation gap alone is not proof
    (the validation text is a later part of the corpus, so some gap is expected)."""
    history = [h for h in record.get("history", []) if h.get("val_loss") is not None]
    if not history:
        return None
    name, last = record["name"], history[-1]
    best = min(history, key=lambda h: h["val_loss"])
    if best is not last and last["val_loss"] - best["val_loss"] > 0.01:
        return (
            f"{name} is overfitting: its validation loss rose from {best['val_loss']:.3f} at step "
            f"{best['step']:,} to {last['val_loss']:.3f}; fewer steps or more dropout would help."
        )
    if last["val_loss"] - last["train_loss"] > gap:
        return (
            f"{name} ends {last['val_loss'] - last['train_loss']:.2f} nats lower on training text than on "
            "validation text, but its validation loss was still falling at the last evaluation: a "
            "generalisation gap, not yet overfitting."
        )
    return None


def _describe_positions(curves: Mapping[str, Sequence[float]], threshold: float) -> list[str]:
    (na, a), (nb, b) = list(curves.items())[:2]
    n = min(len(a), len(b))
    if n == 0:
        return []
    tail = max(1, n // 4)
    out = []
    for name, c in ((na, a), (nb, b)):
        late = sum(c[n - tail : n]) / tail
        gain = c[0] - late
        effect = f"{gain:.3f} nats lower" if gain > 0 else f"{-gain:.3f} nats higher"
        out.append(
            f"With one token of context {name} scores {c[0]:.3f} nats; over the last quarter of the "
            f"{n}-token window {late:.3f}, {effect} thanks to the longer context."
        )
    start = _separation(a, b, threshold)
    if start is None:
        gap = max(abs(a[i] - b[i]) for i in range(n))
        out.append(
            f"The loss-by-position curves of {na} and {nb} never part for good: at the end of the window "
            f"they differ by {abs(a[n - 1] - b[n - 1]):.3f} nats (at most {gap:.3f} anywhere)."
        )
    else:
        lower, higher = (na, nb) if a[start] < b[start] else (nb, na)
        where = "from the very first position" if start == 0 else f"from position {start + 1} of {n} on"
        out.append(
            f"The loss-by-position curves separate {where}: {lower} stays more than {threshold} nats below "
            f"{higher} to the end of the window (by {abs(a[n - 1] - b[n - 1]):.3f} nats at position {n})."
        )
    return out


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
