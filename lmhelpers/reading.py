"""The written reading of a comparison: claims computed from the run records, then put into words.

Every sentence starts as a :class:`Claim`: which statement it is (``key``) and the figures it states
(``values``). :mod:`lmhelpers.sentences` turns claims into English or Korean sentences; the figures and
their computation are the same in every language. :func:`describe_comparison` reads two or more runs
(notebook 04 and the series summary), including the original guide's three expectations, each with a
verdict computed from this run; :func:`describe_sweep` reads a sweep's results table (notebook 05).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Claim:
    """One statement of a reading: ``key`` names the sentence, ``values`` the figures it states."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


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


# ------------------------------------------------------------------------------ the run's numbers
def _score_claims(rows: list[dict[str, Any]], records: Sequence[Mapping[str, Any]]) -> list[Claim]:
    out = []
    steps = {r["name"]: rec["final"].get("step") for r, rec in zip(rows, records)}
    if len(set(steps.values())) > 1:
        out.append(Claim("different_steps", {"steps": list(steps.items())}))
    scored = sorted((r for r in rows if r["bits_per_char"] is not None), key=lambda r: r["bits_per_char"])
    for other in scored[1:]:
        best = scored[0]
        gap = other["bits_per_char"] - best["bits_per_char"]
        values = {"a": best["name"], "a_bpc": best["bits_per_char"], "b": other["name"]}
        values.update(b_bpc=other["bits_per_char"], gap=gap, share=gap / other["bits_per_char"])
        out.append(Claim("level" if gap < 0.005 else "better", values))
    tokenizers = {r["tokenizer"] for r in rows}
    if len(tokenizers) == 1 and all(r["loss"] is not None for r in rows):
        losses = [(r["name"], r["loss"], r["perplexity"]) for r in rows]
        out.append(Claim("same_tokenizer", {"tokenizer": tokenizers.pop(), "n": len(rows), "losses": losses}))
    elif len(tokenizers) > 1:
        out.append(Claim("different_tokenizers", {"tokenizers": sorted(tokenizers)}))
    return out


def _cost_claims(rows: list[dict[str, Any]], records: Sequence[Mapping[str, Any]]) -> list[Claim]:
    out = []
    by_name = {r["name"]: rec for r, rec in zip(rows, records)}
    speed = sorted((r for r in rows if r["tokens_per_second"]), key=lambda r: -r["tokens_per_second"])
    if len(speed) >= 2:
        fast, slow = speed[0], speed[-1]
        device = by_name[fast["name"]].get("environment", {}).get("device", "this device")
        values = {"fast": fast["name"], "fast_tps": fast["tokens_per_second"], "slow": slow["name"]}
        values.update(slow_tps=slow["tokens_per_second"], device=device)
        out.append(
            Claim("throughput", {**values, "ratio": fast["tokens_per_second"] / slow["tokens_per_second"]})
        )
    at_time = _equal_time(rows, records)
    if at_time:
        out.append(Claim("equal_time", at_time))
    sized = [r for r in rows if r["params"]]
    if len(sized) >= 2:
        big, small = max(sized, key=lambda r: r["params"]), min(sized, key=lambda r: r["params"])
        if big is not small:
            values = {"big": big["name"], "big_params": big["params"], "small": small["name"]}
            out.append(
                Claim(
                    "size",
                    {**values, "small_params": small["params"], "ratio": big["params"] / small["params"]},
                )
            )
    gen = sorted(
        (r for r in rows if r["generation_tokens_per_second"]),
        key=lambda r: -r["generation_tokens_per_second"],
    )
    if len(gen) >= 2:
        out.append(
            Claim("generation", {"speeds": [(r["name"], r["generation_tokens_per_second"]) for r in gen]})
        )
    return out


def _equal_time(rows: list[dict[str, Any]], records: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Bits per character of every run at the training time the first one finished, best first."""
    ends = {
        r["name"]: rec["history"][-1]["train_time"] for r, rec in zip(rows, records) if rec.get("history")
    }
    if len(ends) < 2:
        return None
    first_done = min(ends, key=ends.get)
    t = ends[first_done]
    if t <= 0 or max(ends.values()) <= 1.05 * t:
        return None
    by_name = {r["name"]: rec for r, rec in zip(rows, records)}
    at_t = {n: _bpc_at_time(by_name[n], t) for n in ends}
    if any(v is None for v in at_t.values()):
        return None
    return {"time": t, "first": first_done, "ranked": sorted(at_t.items(), key=lambda kv: kv[1])}


def _fit_claim(record: Mapping[str, Any], gap: float = 0.1) -> Claim | None:
    """Overfitting is validation loss rising from its best; a train/validation gap alone is not proof
    (the validation text is a later part of the corpus, so some gap is expected)."""
    history = [h for h in record.get("history", []) if h.get("val_loss") is not None]
    if not history:
        return None
    name, last = record["name"], history[-1]
    best = min(history, key=lambda h: h["val_loss"])
    if best is not last and last["val_loss"] - best["val_loss"] > 0.01:
        values = {"name": name, "best": best["val_loss"], "best_step": best["step"], "last": last["val_loss"]}
        return Claim("overfitting", values)
    if last["val_loss"] - last["train_loss"] > gap:
        return Claim("generalisation_gap", {"name": name, "gap": last["val_loss"] - last["train_loss"]})
    return None


def _position_claims(curves: Mapping[str, Sequence[float]], threshold: float) -> list[Claim]:
    (na, a), (nb, b) = list(curves.items())[:2]
    n = min(len(a), len(b))
    if n == 0:
        return []
    tail = max(1, n // 4)
    out = []
    for name, c in ((na, a), (nb, b)):
        late = sum(c[n - tail : n]) / tail
        out.append(
            Claim("context_gain", {"name": name, "first": c[0], "late": late, "gain": c[0] - late, "n": n})
        )
    start = _separation(a, b, threshold)
    end_gap = abs(a[n - 1] - b[n - 1])
    if start is None:
        most = max(abs(a[i] - b[i]) for i in range(n))
        out.append(Claim("curves_together", {"a": na, "b": nb, "end_gap": end_gap, "most": most}))
    else:
        lower, higher = (na, nb) if a[start] < b[start] else (nb, na)
        values = {"lower": lower, "higher": higher, "start": start + 1, "n": n, "threshold": threshold}
        out.append(Claim("curves_part", {**values, "end_gap": end_gap}))
    return out


# --------------------------------------------------------------- the original guide's expectations
def _families(rows: list[dict[str, Any]], records: Sequence[Mapping[str, Any]]):
    """(rnn row, its record, transformer row, its record), or None unless there is one of each."""
    rnn = [(r, rec) for r, rec in zip(rows, records) if r["arch"] != "transformer"]
    gpt = [(r, rec) for r, rec in zip(rows, records) if r["arch"] == "transformer"]
    return (*rnn[0], *gpt[0]) if rnn and gpt else None


def _verdict_better(rows, records) -> Claim:
    """Claim 1: the Transformer does better, at equal steps, equal training time and equal size."""
    rnn, rnn_rec, gpt, gpt_rec = _families(rows, records)
    v = {
        "rnn": rnn["name"],
        "gpt": gpt["name"],
        "rnn_bpc": rnn["bits_per_char"],
        "gpt_bpc": gpt["bits_per_char"],
    }
    v["same_steps"] = rnn_rec["final"].get("step") == gpt_rec["final"].get("step")
    v["params_ratio"] = (gpt["params"] or 0) / max(rnn["params"] or 1, 1)
    at_time = _equal_time([rnn, gpt], [rnn_rec, gpt_rec])
    v["time"] = at_time["time"] if at_time else None
    v["time_winner"] = at_time["ranked"][0][0] if at_time else None
    if None in (v["rnn_bpc"], v["gpt_bpc"]) or not v["same_steps"]:
        return Claim("guide_better", {**v, "verdict": "cannot_tell"})
    gpt_wins_steps = v["gpt_bpc"] < v["rnn_bpc"] - 0.005
    wins = [gpt_wins_steps] + ([v["time_winner"] == gpt["name"]] if at_time else [])
    verdict = "supports" if all(wins) else ("contradicts" if not any(wins) else "mixed")
    return Claim("guide_better", {**v, "verdict": verdict})


def _verdict_converges(rows, records) -> Claim:
    """Claim 2: the RNN may converge faster: which model leads at each early evaluation."""
    rnn, rnn_rec, gpt, gpt_rec = _families(rows, records)
    tpc = {
        n: rec.get("tokenizer", {}).get("tokens_per_char") or 1.0 for n, rec in ((0, rnn_rec), (1, gpt_rec))
    }
    hist = [
        {h["step"]: h["val_loss"] * tpc[i] / math.log(2) for h in rec["history"] if h["step"] > 0}
        for i, rec in enumerate((rnn_rec, gpt_rec))
    ]
    shared = sorted(set(hist[0]) & set(hist[1]))
    early = shared[: max(1, len(shared) // 3)] if shared else []
    leaders = [(s, rnn["name"] if hist[0][s] < hist[1][s] else gpt["name"]) for s in early]
    rnn_leads = sum(name == rnn["name"] for _, name in leaders)
    if not leaders:
        verdict = "cannot_tell"
    else:
        verdict = (
            "supports" if rnn_leads > len(leaders) / 2 else ("contradicts" if rnn_leads == 0 else "mixed")
        )
    return Claim(
        "guide_converges", {"rnn": rnn["name"], "gpt": gpt["name"], "leaders": leaders, "verdict": verdict}
    )


def _verdict_longer(curves, rnn_name: str, gpt_name: str, threshold: float) -> Claim:
    """Claim 3: the Transformer's advantage grows with position in the context window."""
    a, b = curves.get(rnn_name), curves.get(gpt_name)
    values = {"rnn": rnn_name, "gpt": gpt_name, "threshold": threshold}
    if not a or not b:
        return Claim("guide_longer", {**values, "verdict": "cannot_tell", "start_gap": None, "end_gap": None})
    n = min(len(a), len(b))
    q = max(1, n // 4)
    start_gap = sum(a[i] - b[i] for i in range(q)) / q  # > 0: the Transformer is lower (better)
    end_gap = sum(a[i] - b[i] for i in range(n - q, n)) / q
    grows = end_gap - start_gap
    verdict = "supports" if grows > threshold else ("contradicts" if grows < -threshold else "cannot_tell")
    return Claim(
        "guide_longer", {**values, "verdict": verdict, "start_gap": start_gap, "end_gap": end_gap, "n": n}
    )


def guide_claims(
    records: Sequence[Mapping[str, Any]],
    position_curves: Mapping[str, Sequence[float]] | None = None,
    threshold: float = 0.05,
) -> list[Claim]:
    """The original guide's three expectations, each with a verdict from this run: supports,
    contradicts, mixed or cannot tell, with the numbers behind it. Empty without one model per family."""
    from .report import comparison_rows

    rows = comparison_rows(records)
    pair = _families(rows, records)
    if pair is None:
        return []
    claims = [_verdict_better(rows, records), _verdict_converges(rows, records)]
    claims.append(_verdict_longer(position_curves or {}, pair[0]["name"], pair[2]["name"], threshold))
    return claims


def comparison_claims(
    records: Sequence[Mapping[str, Any]],
    position_curves: Mapping[str, Sequence[float]] | None = None,
    threshold: float = 0.05,
) -> list[Claim]:
    """Everything :func:`describe_comparison` says, as claims."""
    from .report import comparison_rows

    if len(records) < 2:
        raise ValueError("describe_comparison needs at least two run records")
    rows = comparison_rows(records)
    out = _score_claims(rows, records) + _cost_claims(rows, records)
    out += [c for c in (_fit_claim(rec) for rec in records) if c is not None]
    if position_curves and len(position_curves) >= 2:
        out += _position_claims(position_curves, threshold)
    return out + guide_claims(records, position_curves, threshold)


def describe_comparison(
    records: Sequence[Mapping[str, Any]],
    position_curves: Mapping[str, Sequence[float]] | None = None,
    threshold: float = 0.05,
    language: str | None = None,
) -> list[str]:
    """Sentences that read the comparison of two or more runs from their records' numbers.

    Covers bits per character (the fair measure across tokenizers), per-token loss and perplexity when
    the tokenizers agree, throughput and the loss reached at equal training time, size, generation
    speed, the train/validation gap, where the loss-by-position curves separate, and the original
    guide's three expectations with a verdict each. Nothing is fixed text: every claim is computed here.
    """
    from .sentences import render

    return [render(c, language) for c in comparison_claims(records, position_curves, threshold)]


# ---------------------------------------------------------------------------------------- sweeps
def sweep_claims(rows: list[dict[str, Any]]) -> list[Claim]:
    """A sweep's table (rows as ``collect`` returns them, best first) as claims."""
    scored = [r for r in rows if r.get("bits_per_char") is not None]
    if not scored:
        return [Claim("no_scores")]
    best, worst = scored[0], scored[-1]
    out = [Claim("sweep_best", {k: best[k] for k in ("name", "arch", "tokenizer", "bits_per_char")})]
    if len(scored) > 1:
        gap = worst["bits_per_char"] - best["bits_per_char"]
        out.append(
            Claim(
                "sweep_worst",
                {
                    "name": worst["name"],
                    "bpc": worst["bits_per_char"],
                    "gap": gap,
                    "share": gap / worst["bits_per_char"],
                },
            )
        )
    timed = [r for r in scored if r.get("tokens_per_second")]
    if len(timed) > 1:
        fast = max(timed, key=lambda r: r["tokens_per_second"])
        slow = min(timed, key=lambda r: r["tokens_per_second"])
        out.append(
            Claim(
                "sweep_fastest",
                {
                    "name": fast["name"],
                    "tps": fast["tokens_per_second"],
                    "slow": slow["name"],
                    "ratio": fast["tokens_per_second"] / slow["tokens_per_second"],
                },
            )
        )
    sized = [r for r in scored if r.get("params")]
    if len(sized) > 1:
        small = min(sized, key=lambda r: r["params"])
        out.append(
            Claim(
                "sweep_smallest",
                {"name": small["name"], "params": small["params"], "bpc": small["bits_per_char"]},
            )
        )
    return out + context_claims(scored)


def context_claims(rows: list[dict[str, Any]], threshold: float = 0.02) -> list[Claim]:
    """The guide's third expectation across context lengths: the RNN-minus-Transformer gap in bits per
    character at each ``block_size`` a sweep ran both families at, and whether it grows with length."""
    gaps = {}
    for size in sorted({r.get("block_size") for r in rows if r.get("block_size")}):
        at = [r for r in rows if r.get("block_size") == size]
        rnn = [r["bits_per_char"] for r in at if r["arch"] != "transformer"]
        gpt = [r["bits_per_char"] for r in at if r["arch"] == "transformer"]
        if rnn and gpt:
            gaps[size] = min(rnn) - min(gpt)
    if len(gaps) < 2:
        return []
    sizes = sorted(gaps)
    change = gaps[sizes[-1]] - gaps[sizes[0]]
    verdict = "supports" if change > threshold else ("contradicts" if change < -threshold else "cannot_tell")
    return [Claim("context_sweep", {"gaps": [(s, gaps[s]) for s in sizes], "verdict": verdict})]


def describe_sweep(rows: list[dict[str, Any]], language: str | None = None) -> list[str]:
    """A few sentences drawn from a sweep's own numbers (rows as ``collect`` returns them)."""
    from .sentences import render

    return [render(c, language) for c in sweep_claims(rows)]
