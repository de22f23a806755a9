"""The original guide's three expectations, each tested against this run's numbers and their noise.

1. *The Transformer generally does better*: bits per character on the whole validation text at equal
   steps, and on the training curves at equal training time (the clock notebook 04's figure shows) and
   at equal training compute (FLOPs).
2. *The RNN may converge faster*: the gap over the whole early part of the curves (the first third of
   the evaluations), not one point.
3. *The Transformer's advantage is larger on longer sequences*: the RNN-minus-Transformer gap in the
   whole-text loss by context, first quarter of the window against the last.

Every gap is judged against the noise of :mod:`lmhelpers.noise`: a gap smaller than the margin is
"within noise", never a win, and a tie goes to nobody. A verdict is ``supports``, ``contradicts``,
``mixed`` (the axes disagree, each beyond the noise), ``within_noise`` or ``cannot_tell`` (a figure is
missing). The recurrent model's carried-state score against its score with the state reset every window
says what context beyond the window buys it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .noise import Noise, difference_noise

Record = Mapping[str, Any]


def _tpc(record: Record) -> float | None:
    return record.get("tokenizer", {}).get("tokens_per_char")


def bpc_at(record: Record, x: float, axis: Callable[[Record, Mapping[str, Any]], float]) -> float | None:
    """Validation bits per character where ``axis(record, history_row)`` reaches ``x``, interpolated
    linearly between the evaluations around it; None outside the curve."""
    tpc = _tpc(record)
    points = [
        (axis(record, h), h["val_loss"]) for h in record.get("history", []) if h.get("val_loss") is not None
    ]
    if not tpc or not points:
        return None
    for (x0, l0), (x1, l1) in zip(points, points[1:]):
        if x0 <= x <= x1:
            loss = l0 if x1 == x0 else l0 + (l1 - l0) * (x - x0) / (x1 - x0)
            return loss * tpc / math.log(2)
    return points[-1][1] * tpc / math.log(2) if x >= points[-1][0] else None


def train_time(record: Record, h: Mapping[str, Any]) -> float:
    return h["train_time"]


def train_flops(record: Record, h: Mapping[str, Any]) -> float:
    return h.get("tokens", 0) * (record.get("model", {}).get("flops_per_token") or 0.0)


def at_equal(records: Sequence[Record], names: Sequence[str], axis=train_time) -> dict[str, Any] | None:
    """Bits per character of every run where the first to finish (on ``axis``) finished, best first."""
    ends = {n: axis(rec, rec["history"][-1]) for n, rec in zip(names, records) if rec.get("history")}
    if len(ends) < 2:
        return None
    first = min(ends, key=ends.get)
    x = ends[first]
    if x <= 0 or max(ends.values()) <= 1.05 * x:
        return None
    at_x = {n: bpc_at(rec, x, axis) for n, rec in zip(names, records)}
    if any(v is None for v in at_x.values()):
        return None
    return {"at": x, "first": first, "ranked": sorted(at_x.items(), key=lambda kv: kv[1])}


def families(rows: list[dict[str, Any]], records: Sequence[Record]):
    """(rnn row, its record, transformer row, its record), or None unless there is one of each."""
    rnn = [(r, rec) for r, rec in zip(rows, records) if r["arch"] != "transformer"]
    gpt = [(r, rec) for r, rec in zip(rows, records) if r["arch"] == "transformer"]
    return (*rnn[0], *gpt[0]) if rnn and gpt else None


def _winner(gap: float | None, noise: Noise, rnn: str, gpt: str) -> str | None:
    """gap = rnn - gpt (lower is better): the name of the model ahead beyond the noise, or None."""
    if gap is None or not noise.separates(gap):
        return None
    return gpt if gap > 0 else rnn


def _verdict(wins: list[str | None], gpt: str) -> str:
    if not wins:
        return "cannot_tell"
    if all(w is None for w in wins):
        return "within_noise"
    if all(w == gpt for w in wins):
        return "supports"
    if all(w not in (gpt, None) for w in wins):
        return "contradicts"
    return "mixed"


def _axis(names, recs, axis, noise) -> dict[str, Any]:
    found = at_equal(recs, names, axis)
    if found is None:
        return {"at": None, "rnn": None, "gpt": None, "winner": None}
    values = dict(found["ranked"])
    gap = values[names[0]] - values[names[1]]
    return {
        "at": found["at"],
        "rnn": values[names[0]],
        "gpt": values[names[1]],
        "winner": _winner(gap, noise, *names),
    }


def verdict_better(rnn, rnn_rec, gpt, gpt_rec) -> dict[str, Any]:
    """Claim 1's values: equal steps (whole text), equal training time and equal FLOPs (curves)."""
    names, recs = (rnn["name"], gpt["name"]), (rnn_rec, gpt_rec)
    noise, curve_noise = difference_noise(rnn_rec, gpt_rec), difference_noise(rnn_rec, gpt_rec, "history")
    v = {"rnn": names[0], "gpt": names[1], "rnn_bpc": rnn["bits_per_char"], "gpt_bpc": gpt["bits_per_char"]}
    v.update(noise_sd=noise.sd, noise_basis=noise.basis, curve_noise_sd=curve_noise.sd)
    v["same_steps"] = rnn_rec["final"].get("step") == gpt_rec["final"].get("step")
    v["params_ratio"] = (gpt["params"] or 0) / max(rnn["params"] or 1, 1)
    v["time"] = _axis(names, recs, train_time, curve_noise)
    v["flops"] = _axis(names, recs, train_flops, curve_noise)
    if None in (v["rnn_bpc"], v["gpt_bpc"]) or not v["same_steps"]:
        return {**v, "steps_winner": None, "verdict": "cannot_tell"}
    v["steps_winner"] = _winner(v["rnn_bpc"] - v["gpt_bpc"], noise, *names)
    wins = [v["steps_winner"]] + [v[k]["winner"] for k in ("time", "flops") if v[k]["at"] is not None]
    return {**v, "verdict": _verdict(wins, names[1])}


def verdict_converges(rnn, rnn_rec, gpt, gpt_rec) -> dict[str, Any]:
    """Claim 2's values: the mean RNN-minus-Transformer gap over the first third of the shared evaluations."""
    curves = [
        {h["step"]: h["val_loss"] * (_tpc(rec) or 1.0) / math.log(2) for h in rec["history"] if h["step"] > 0}
        for rec in (rnn_rec, gpt_rec)
    ]
    shared = sorted(set(curves[0]) & set(curves[1]))
    early = shared[: max(1, len(shared) // 3)] if shared else []
    noise = difference_noise(rnn_rec, gpt_rec, "history")
    points = [(s, curves[0][s], curves[1][s]) for s in early]
    v = {
        "rnn": rnn["name"],
        "gpt": gpt["name"],
        "early": points,
        "noise_sd": noise.sd,
        "noise_basis": noise.basis,
    }
    if not points:
        return {**v, "mean_gap": None, "verdict": "cannot_tell"}
    gap = sum(a - b for _, a, b in points) / len(points)
    winner = _winner(gap, noise, rnn["name"], gpt["name"])
    verdict = "within_noise" if winner is None else ("supports" if winner == rnn["name"] else "contradicts")
    return {**v, "mean_gap": gap, "verdict": verdict}


def context_curve(record: Record) -> list[float] | None:
    """The whole-text loss by context of a record (``evaluation.by_context``), or None."""
    return ((record.get("evaluation") or {}).get("by_context") or {}).get("loss")


def verdict_longer(
    curves: Mapping[str, Sequence[float]], rnn_rec, gpt_rec, rnn: str, gpt: str
) -> dict[str, Any]:
    """Claim 3's values: the gap over the first quarter of the Transformer's window against the last."""
    a, b = curves.get(rnn), curves.get(gpt)
    noise = difference_noise(rnn_rec, gpt_rec, "context")
    v = {"rnn": rnn, "gpt": gpt, "noise_sd": noise.sd, "noise_basis": noise.basis}
    if not a or not b:
        return {**v, "verdict": "cannot_tell", "start_gap": None, "end_gap": None, "n": 0}
    n = min(len(a), len(b))
    q = max(1, n // 4)
    start_gap = sum(a[i] - b[i] for i in range(q)) / q  # > 0: the Transformer is lower (better)
    end_gap = sum(a[i] - b[i] for i in range(n - q, n)) / q
    growth = end_gap - start_gap
    verdict = "within_noise" if not noise.separates(growth) else ("supports" if growth > 0 else "contradicts")
    return {**v, "verdict": verdict, "start_gap": start_gap, "end_gap": end_gap, "n": n}


def carried_context(record: Record) -> dict[str, Any] | None:
    """What carrying the state through the text buys a recurrent model over resetting it every window,
    in bits per character, with the paired standard error of the two scores (same model, same tokens)."""
    from .evaluation import paired_stderr

    ev = record.get("evaluation") or {}
    own, reset, tpc = ev.get("whole_text"), ev.get("reset"), _tpc(record)
    if not own or not reset or own.get("method") != "carried" or not tpc:
        return None
    se = (paired_stderr(own["chunk_losses"], reset["chunk_losses"]) or 0.0) * tpc / math.log(2)
    gain = reset["bits_per_char"] - own["bits_per_char"]
    noise = Noise(se, "evaluation")
    verdict = "within_noise" if not noise.separates(gain) else ("helps" if gain > 0 else "hurts")
    values = {
        "name": record.get("name"),
        "carried_bpc": own["bits_per_char"],
        "reset_bpc": reset["bits_per_char"],
    }
    return {**values, "gain": gain, "noise_sd": se, "reset_every": reset["reset_every"], "verdict": verdict}
