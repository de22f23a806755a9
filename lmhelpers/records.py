"""Run records: one JSON file per run, the contract between notebooks, batch runs and comparisons.

A record holds the config, the environment, the model summary, the training history, final metrics,
samples and timings. JSON only, so records can be shared, diffed and read without trusting any code.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .files import atomic_write
from .language import tr

RECORD_NAME = "record.json"
RECORD_VERSION = 1
REQUIRED_KEYS = ("name", "config", "final", "history")


class RecordError(ValueError):
    """A run record is missing or malformed."""


def new_record(name: str, config: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A record skeleton; callers fill in history, final metrics, samples and timings."""
    return {
        "record_version": RECORD_VERSION,
        "name": name,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "config": config,
        "environment": {},
        "model": {},
        "tokenizer": {},
        "history": [],
        "final": {},
        "samples": [],
        "timings": {},
        **fields,
    }


def _json_safe(obj: Any) -> Any:
    """NaN and infinity are not JSON; write them as null so every JSON reader accepts the file."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if hasattr(obj, "item") and callable(obj.item):  # numpy / torch scalars
        return _json_safe(obj.item())
    return obj


def save_record(record: dict[str, Any], path: str | os.PathLike) -> Path:
    """Write the record as indented JSON, atomically; ``path`` may be a run folder or a .json file."""
    path = Path(path)
    if path.suffix != ".json":
        path = path / RECORD_NAME
    return atomic_write(
        path, lambda f: json.dump(_json_safe(record), f, indent=2, ensure_ascii=False, allow_nan=False)
    )


def load_record(path: str | os.PathLike) -> dict[str, Any]:
    """Read a record from a run folder or a .json file; a clear RecordError when it is not one."""
    path = Path(path)
    if path.is_dir():
        path = path / RECORD_NAME
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise RecordError(
            tr("no run record at {path}; run the training notebook or command first.", path=path)
        ) from exc
    except json.JSONDecodeError as exc:
        raise RecordError(
            tr(
                "{path} is not valid JSON ({problem}); it may be from an interrupted write.",
                path=path,
                problem=exc,
            )
        ) from exc
    missing = (
        [k for k in REQUIRED_KEYS if k not in record] if isinstance(record, dict) else list(REQUIRED_KEYS)
    )
    if missing:
        raise RecordError(tr("{path} is not a run record (missing {missing}).", path=path, missing=missing))
    record["path"] = str(path)
    return record


def find_records(root: str | os.PathLike) -> list[dict[str, Any]]:
    """Every readable run record below ``root``, sorted by path; unreadable ones are skipped, and so are
    earlier runs moved aside by a restart (folders named ``NAME.before-TIME``, see lmhelpers.resume)."""
    root = Path(root)
    paths = sorted(root.rglob(RECORD_NAME))
    return _readable(
        p for p in paths if not any(".before-" in part for part in p.relative_to(root).parts[:-1])
    )


def records_beside(folder: str | os.PathLike) -> list[dict[str, Any]]:
    """The run records kept as other ``*.json`` files directly in ``folder`` (a lesson's extra models,
    such as notebook 02's ``attention_leaky.json``), sorted by name; ``record.json`` and JSON files that
    are not run records are left out."""
    return _readable(p for p in sorted(Path(folder).glob("*.json")) if p.name != RECORD_NAME)


def _readable(paths) -> list[dict[str, Any]]:
    """The records of ``paths`` that load; a file that is not a run record is skipped."""
    out = []
    for p in paths:
        try:
            out.append(load_record(p))
        except RecordError:
            continue
    return out


def run_label(record: dict[str, Any]) -> str:
    """The name a run goes by in tables and readings: its name, else its model family."""
    return record.get("name") or record["config"]["model"]["arch"]


def comparison_rows(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per run with the figures every comparison shows."""
    rows = []
    for rec in records:
        cfg, final, timings = rec["config"], rec.get("final", {}), rec.get("timings", {})
        # The whole validation text where the record has it (lmhelpers.evaluation), else the last
        # evaluation on the training loop's fixed batches (records written before it existed).
        whole = (rec.get("evaluation") or {}).get("whole_text") or {}
        final = {**final, **{k: whole[k] for k in ("loss", "perplexity", "bits_per_char") if k in whole}}
        rows.append(
            {
                "name": run_label(rec),
                "arch": cfg["model"]["arch"],
                "tokenizer": cfg["data"]["tokenizer"],
                "block_size": cfg["model"].get("block_size"),
                "params": rec.get("model", {}).get("params"),
                "tokens_per_second": timings.get("tokens_per_second"),
                "generation_tokens_per_second": timings.get("generation_tokens_per_second"),
                "loss": final.get("loss"),
                "perplexity": final.get("perplexity"),
                "bits_per_char": final.get("bits_per_char"),
                "bpc_stderr": whole.get("bpc_stderr"),
                "stateful": bool(cfg.get("train", {}).get("stateful")),
                "seed": cfg.get("train", {}).get("seed"),
                "train_seconds": timings.get("train_seconds"),
                "wall_seconds": timings.get("wall_seconds"),
            }
        )
    return rows
