"""Run records: one JSON file per run, the contract between notebooks, batch runs and comparisons.

A record holds the config, the environment, the model summary, the training history, final metrics,
samples and timings. JSON only, so records can be shared, diffed and read without trusting any code.
"""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

from .files import atomic_write

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
        raise RecordError(f"no run record at {path}; run the training notebook or command first.") from exc
    except json.JSONDecodeError as exc:
        raise RecordError(f"{path} is not valid JSON ({exc}); it may be from an interrupted write.") from exc
    missing = (
        [k for k in REQUIRED_KEYS if k not in record] if isinstance(record, dict) else list(REQUIRED_KEYS)
    )
    if missing:
        raise RecordError(f"{path} is not a run record (missing {missing}).")
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
