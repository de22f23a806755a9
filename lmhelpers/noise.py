"""The noise a comparison is judged against: how far runs land apart by seed, and the evaluation's own error.

Two runs of the same model and settings with different seeds end at different scores. A difference
between two models means something only when it is larger than that. Where a comparison has several
seeds of each model, their spread is the noise (:func:`seeds_noise`). With one seed each (notebook 04's
default run), the spread comes from a measurement kept with the package, ``seed_spread.json``: each
model trained with several seeds at a preset by ``sweeps/seeds.yaml`` and summarised by
``tools/seed_spread.py``; the file names the command, the machine and the date. To that is added the
whole-text evaluation's standard error (:mod:`lmhelpers.evaluation`). A preset nobody measured has only
the evaluation's error, which is then a lower bound, and the verdict says so.

A gap counts when it is larger than :data:`MARGIN` standard deviations of the noise of the difference
(about 95% for a normal spread); otherwise the verdict is "within noise".
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .evaluation import paired_stderr

MARGIN = 2.0
SEED_SPREAD_FILE = Path(__file__).with_name("seed_spread.json")
# What is compared: the whole-text score, a training curve, the loss by context.
KINDS = ("final", "history", "context")
# Where nothing measured the noise: the smallest gap still called a difference (bits/char; nats by context).
FLOOR = {"final": 0.005, "history": 0.005, "context": 0.05}
_SD_KEY = {"final": "bpc_sd", "history": "history_bpc_sd", "context": "context_gain_sd"}


@dataclass(frozen=True)
class Noise:
    """One standard deviation of a difference (bits per character, or nats for ``context``), and where
    it comes from: ``seeds`` (this comparison's own seeds), ``preset`` (the kept seed spread of the
    preset plus the evaluation's error) or ``evaluation`` (no seed spread known: a lower bound)."""

    sd: float
    basis: str
    n_seeds: int = 0

    @property
    def margin(self) -> float:
        return MARGIN * self.sd

    def separates(self, gap: float) -> bool:
        """Whether ``gap`` is larger than the noise allows (a zero-noise comparison needs any gap)."""
        return abs(gap) > self.margin if self.sd > 0 else gap != 0


@lru_cache(maxsize=4)
def _table(path: str) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def seed_spread_table(path: str | Path | None = None) -> dict[str, Any]:
    """The kept seed-spread measurement (``{"presets": {preset: {variant: {...}}}, "command", ...}``)."""
    return _table(str(path or SEED_SPREAD_FILE))


def variant(record: Mapping[str, Any]) -> str:
    """The model as the seed spread names it: the family, with ``-stateful`` for a stateful RNN."""
    cfg = record.get("config", {})
    arch = cfg.get("model", {}).get("arch", "?")
    return f"{arch}-stateful" if cfg.get("train", {}).get("stateful") else arch


def spread_of(
    record: Mapping[str, Any], kind: str = "final", table: Mapping[str, Any] | None = None
) -> float | None:
    """The seed standard deviation kept for this record's preset and model (``kind`` as in KINDS); for a
    model not measured at that preset, the largest spread measured there; None for an unmeasured preset."""
    table = seed_spread_table() if table is None else table
    preset = table.get("presets", {}).get(record.get("config", {}).get("preset", ""), {})
    key = _SD_KEY[kind]
    entry = preset.get(variant(record))
    if entry and entry.get(key) is not None:
        return float(entry[key])
    known = [float(e[key]) for e in preset.values() if e.get(key) is not None]
    return max(known) if known else None


def _evaluation(record: Mapping[str, Any]) -> Mapping[str, Any] | None:
    return (record.get("evaluation") or {}).get("whole_text")


def evaluation_noise(a: Mapping[str, Any], b: Mapping[str, Any]) -> float:
    """Standard error of the difference of two whole-text scores in bits per character: part by part when
    both were scored on the same tokens (the shared difficulty cancels), else the two errors combined."""
    ea, eb = _evaluation(a), _evaluation(b)
    if not ea or not eb:
        return 0.0
    tpc = a.get("tokenizer", {}).get("tokens_per_char")
    same_tokens = ea["tokens"] == eb["tokens"] and tpc == b.get("tokenizer", {}).get("tokens_per_char")
    paired = paired_stderr(ea["chunk_losses"], eb["chunk_losses"]) if same_tokens and tpc else None
    if paired is not None:
        return paired * tpc / math.log(2)
    return math.hypot(ea.get("bpc_stderr") or 0.0, eb.get("bpc_stderr") or 0.0)


def difference_noise(
    a: Mapping[str, Any], b: Mapping[str, Any], kind: str = "final", table: Mapping[str, Any] | None = None
) -> Noise:
    """The noise of ``score(a) - score(b)`` for one run of each: the kept seed spread of both models at
    their preset, plus (for the whole-text score) the evaluation's standard error."""
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r} is invalid: choose one of {list(KINDS)}")
    eval_sd = evaluation_noise(a, b) if kind == "final" else 0.0
    sds = [spread_of(r, kind, table) for r in (a, b)]
    if None in sds:
        # Nothing measured the noise (no seed spread, no whole-text evaluation): a small fixed threshold.
        return Noise(eval_sd, "evaluation") if eval_sd > 0 else Noise(FLOOR[kind] / MARGIN, "threshold")
    return Noise(math.sqrt(sds[0] ** 2 + sds[1] ** 2 + eval_sd**2), "preset")


def mean_sd(values: Sequence[float]) -> tuple[float, float, int]:
    """Mean, sample standard deviation (0 for one value) and count."""
    n = len(values)
    if n == 0:
        raise ValueError("mean_sd needs at least one value")
    mean = sum(values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0
    return mean, sd, n


def seeds_noise(a: Sequence[float], b: Sequence[float]) -> Noise:
    """The noise of ``mean(a) - mean(b)`` from several seeds of each: the standard error of the difference
    of two means, ``sqrt(sd_a^2 / n_a + sd_b^2 / n_b)``."""
    _, sa, na = mean_sd(a)
    _, sb, nb = mean_sd(b)
    return Noise(math.sqrt(sa**2 / na + sb**2 / nb), "seeds", min(na, nb))


# ------------------------------------------------------------------ seeds of one configuration
_INCIDENTAL = {"seed", "device", "compile", "checkpoint_interval"}


def _config_key(record: Mapping[str, Any]) -> str:
    """The record's settings with the seed (and what changes nothing computed) left out."""
    cfg = record.get("config", {})
    train = {k: v for k, v in cfg.get("train", {}).items() if k not in _INCIDENTAL}
    model = {k: v for k, v in cfg.get("model", {}).items() if k != "vocab_size"}
    return json.dumps({**cfg, "train": train, "model": model}, sort_keys=True, default=str)


def whole_text_bpc(record: Mapping[str, Any]) -> float | None:
    """Bits per character on the whole validation text, else the training loop's last evaluation."""
    whole = _evaluation(record)
    return (
        whole["bits_per_char"]
        if whole and whole.get("bits_per_char") is not None
        else record.get("final", {}).get("bits_per_char")
    )


def context_gain(record: Mapping[str, Any]) -> float | None:
    """How much lower the whole-text loss is over the last quarter of the training window than over its
    first quarter (nats): what a model gets out of the context it was trained on."""
    curve = ((record.get("evaluation") or {}).get("by_context") or {}).get("loss")
    n = record.get("config", {}).get("model", {}).get("block_size")
    if not curve or not n or len(curve) < n:
        return None
    q = max(1, n // 4)
    return sum(curve[:q]) / q - sum(curve[n - q : n]) / q


def carried_gain(record: Mapping[str, Any]) -> float | None:
    """Bits per character a recurrent model saves with its state carried instead of reset every window."""
    ev = record.get("evaluation") or {}
    own, reset = ev.get("whole_text") or {}, ev.get("reset") or {}
    if own.get("method") != "carried" or reset.get("bits_per_char") is None:
        return None
    return reset["bits_per_char"] - own["bits_per_char"]


def _stats(prefix: str, values: list[float | None]) -> dict[str, Any]:
    known = [v for v in values if v is not None]
    if not known:
        return {}
    mean, sd, n = mean_sd(known)
    return {f"{prefix}_mean": mean, f"{prefix}_sd": sd if n > 1 else None}


def seed_groups(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Runs that differ only by seed, grouped, with mean and spread of what the verdicts compare:
    whole-text bits per character (``bpc``), the training loop's last evaluation (``history_bpc``), the
    gain from context inside the window (``context_gain``) and, for a recurrent model scored with its
    state carried, what the carried state buys (``carried_gain``). Groups in first-seen order."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for rec in records:
        groups.setdefault(_config_key(rec), []).append(rec)
    out = []
    for recs in groups.values():
        first = recs[0]
        row = {
            "preset": first.get("config", {}).get("preset"),
            "variant": variant(first),
            "block_size": first.get("config", {}).get("model", {}).get("block_size"),
            "n": len(recs),
            "seeds": [r.get("config", {}).get("train", {}).get("seed") for r in recs],
            "names": [r.get("name") for r in recs],
        }
        row.update(_stats("bpc", [whole_text_bpc(r) for r in recs]))
        row.update(_stats("history_bpc", [r.get("final", {}).get("bits_per_char") for r in recs]))
        row.update(_stats("context_gain", [context_gain(r) for r in recs]))
        row.update(_stats("carried_gain", [carried_gain(r) for r in recs]))
        out.append(row)
    return out
