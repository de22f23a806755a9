"""The written reading of a comparison: claims computed from the run records, then put into words.

Every sentence starts as a :class:`Claim`: which statement it is (``key``) and the figures it states
(``values``). :mod:`lmhelpers.sentences` turns claims into sentences in the learner's language, through
the message catalog; the figures and their computation are the same in every language.
:func:`describe_comparison` reads two or more runs (notebook 04 and the series summary), including the
original guide's three expectations, each with a verdict computed from this run; :func:`describe_sweep`
reads a sweep's results table (notebook 05).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .noise import MARGIN, Noise, difference_noise, seeds_noise
from .verdicts import (
    at_equal,
    carried_context,
    context_curve,
    families,
    verdict_better,
    verdict_converges,
    verdict_longer,
)


@dataclass(frozen=True)
class Claim:
    """One statement of a reading: ``key`` names the sentence, ``values`` the figures it states."""

    key: str
    values: dict[str, Any] = field(default_factory=dict)


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
    by_name = {r["name"]: rec for r, rec in zip(rows, records)}
    scored = sorted((r for r in rows if r["bits_per_char"] is not None), key=lambda r: r["bits_per_char"])
    for other in scored[1:]:
        best = scored[0]
        gap = other["bits_per_char"] - best["bits_per_char"]
        noise = difference_noise(by_name[best["name"]], by_name[other["name"]])
        values = {"a": best["name"], "a_bpc": best["bits_per_char"], "b": other["name"]}
        values.update(b_bpc=other["bits_per_char"], gap=gap, share=gap / other["bits_per_char"])
        values.update(noise_sd=noise.sd, noise_basis=noise.basis)
        out.append(Claim("better" if noise.separates(gap) else "level", values))
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
        device = by_name[fast["name"]].get("environment", {}).get("device")  # None: "this device"
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
    found = at_equal(records, [r["name"] for r in rows])
    return (
        None if found is None else {"time": found["at"], "first": found["first"], "ranked": found["ranked"]}
    )


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
    if start is not None and n - start < tail:  # a parting shorter than the window's last quarter is one
        start = None  # or two positions, each averaged over few tokens: not a separation worth a sentence
    if start is None:
        most = max(abs(a[i] - b[i]) for i in range(n))
        out.append(Claim("curves_together", {"a": na, "b": nb, "end_gap": end_gap, "most": most}))
    else:
        lower, higher = (na, nb) if a[start] < b[start] else (nb, na)
        values = {"lower": lower, "higher": higher, "start": start + 1, "n": n, "threshold": threshold}
        out.append(Claim("curves_part", {**values, "end_gap": end_gap}))
    return out


# --------------------------------------------------------------- the original guide's expectations
def guide_claims(
    records: Sequence[Mapping[str, Any]],
    position_curves: Mapping[str, Sequence[float]] | None = None,
    threshold: float = 0.05,
) -> list[Claim]:
    """The original guide's three expectations, each with a verdict from this run judged against its
    noise (:mod:`lmhelpers.verdicts`): supports, contradicts, mixed, within noise or cannot tell, with
    the numbers behind it; then what the carried state buys the recurrent model. Empty without one model
    per family. The curves by context default to the records' whole-text ones."""
    from .records import comparison_rows

    rows = comparison_rows(records)
    pair = families(rows, records)
    if pair is None:
        return []
    rnn, rnn_rec, gpt, gpt_rec = pair
    curves = position_curves or {
        r["name"]: c for r, rec in zip(rows, records) if (c := context_curve(rec)) is not None
    }
    claims = [
        Claim("guide_better", verdict_better(*pair)),
        Claim("guide_converges", verdict_converges(*pair)),
        Claim("guide_longer", verdict_longer(curves, rnn_rec, gpt_rec, rnn["name"], gpt["name"])),
    ]
    carried = carried_context(rnn_rec)
    return claims + ([Claim("carried_context", carried)] if carried else [])


def describe_evaluation(record: Mapping[str, Any], language: str | None = None) -> list[str]:
    """Sentences on one run's whole-text evaluation: what its carried state buys a recurrent model."""
    from .sentences import render

    carried = carried_context(record)
    return [render(Claim("carried_context", carried), language)] if carried else []


def comparison_claims(
    records: Sequence[Mapping[str, Any]],
    position_curves: Mapping[str, Sequence[float]] | None = None,
    threshold: float = 0.05,
) -> list[Claim]:
    """Everything :func:`describe_comparison` says, as claims."""
    from .records import comparison_rows

    if len(records) < 2:
        raise ValueError("describe_comparison needs at least two run records")
    rows = comparison_rows(records)
    out = _score_claims(rows, records) + _cost_claims(rows, records)
    out += [c for c in (_fit_claim(rec) for rec in records) if c is not None]
    position_curves = position_curves or {
        r["name"]: c for r, rec in zip(rows, records) if (c := context_curve(rec)) is not None
    }
    if len(position_curves) >= 2:
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


def _context_gap(at: list[dict[str, Any]]) -> tuple[float, Noise | None] | None:
    """The best recurrent model's mean bits per character minus the Transformer's at one context length,
    and the noise of that difference from the seeds (None with one seed of either)."""
    families: dict[str, list[float]] = {}
    for r in at:
        key = r["arch"] + ("-stateful" if r.get("stateful") else "")
        families.setdefault(key, []).append(r["bits_per_char"])
    gpt = families.pop("transformer", None)
    if not gpt or not families:
        return None
    rnn = min(families.values(), key=lambda v: sum(v) / len(v))
    noise = seeds_noise(rnn, gpt) if min(len(rnn), len(gpt)) >= 2 else None
    return sum(rnn) / len(rnn) - sum(gpt) / len(gpt), noise


def context_claims(rows: list[dict[str, Any]], threshold: float = 0.02) -> list[Claim]:
    """The guide's third expectation across context lengths: the RNN-minus-Transformer gap in bits per
    character at each ``block_size`` a sweep ran both families at (means over seeds), and whether it grows
    from the shortest length to the longest by more than the noise (the seeds' spread; ``threshold``
    where each length has one seed)."""
    gaps = {}
    for size in sorted({r.get("block_size") for r in rows if r.get("block_size")}):
        found = _context_gap([r for r in rows if r.get("block_size") == size])
        if found:
            gaps[size] = found
    if len(gaps) < 2:
        return []
    sizes = sorted(gaps)
    (first, n1), (last, n2) = gaps[sizes[0]], gaps[sizes[-1]]
    noise = (
        Noise(math.hypot(n1.sd, n2.sd), "seeds", min(n1.n_seeds, n2.n_seeds))
        if n1 and n2
        else Noise(threshold / MARGIN, "threshold")
    )
    change = last - first
    verdict = "within_noise" if not noise.separates(change) else ("supports" if change > 0 else "contradicts")
    values = {"gaps": [(s, gaps[s][0]) for s in sizes], "change": change, "verdict": verdict}
    return [Claim("context_sweep", {**values, "noise_sd": noise.sd, "noise_basis": noise.basis})]


def describe_sweep(rows: list[dict[str, Any]], language: str | None = None) -> list[str]:
    """A few sentences drawn from a sweep's own numbers (rows as ``collect`` returns them)."""
    from .sentences import render

    return [render(c, language) for c in sweep_claims(rows)]
