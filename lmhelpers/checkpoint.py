"""Atomic, pickle-free checkpoints.

A checkpoint is a dict of tensors and plain Python values (config and tokenizer as dicts), loaded with
``torch.load(weights_only=True)``: a file from someone else can hold weights, never code. It is written
to a temporary file in the same folder, flushed to disk and renamed over the old one, so a process killed
mid-write leaves the previous complete checkpoint in place.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

FORMAT_VERSION = 1
# A temporary file untouched for this long belongs to no live writer: torch.save keeps writing (and
# touching) its file until the rename, so only a process killed mid-write leaves one this old.
STALE_TEMP_SECONDS = 60.0


class CheckpointError(RuntimeError):
    """A checkpoint is missing, damaged, unsafe, or belongs to another model; the message says which."""


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` atomically to ``path`` (tmp file + fsync + rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save({"format_version": FORMAT_VERSION, **state}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    remove_stale_temps(path)
    return path


def remove_stale_temps(path: str | os.PathLike, older_than: float = STALE_TEMP_SECONDS) -> list[Path]:
    """Delete the temporary files that killed writes of ``path`` left behind; return what was removed.

    A process killed while writing a checkpoint leaves its hidden ``.NAME.*.tmp`` file (as large as the
    checkpoint) next to it. Files not modified for ``older_than`` seconds are such leftovers; newer ones
    may belong to a writer still at work and are kept.
    """
    path = Path(path)
    removed = []
    cutoff = time.time() - older_than
    for temp in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if temp.stat().st_mtime < cutoff:
                temp.unlink()
                removed.append(temp)
        except FileNotFoundError:  # another process cleaned it first
            continue
    return removed


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX); harmless where directories cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _cause(exc: BaseException) -> str:
    """The line of torch's (long, multi-line) error that says what it met, with the error's type."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    detail = next(
        (x for x in lines if x.startswith(("Unsupported", "Trying to load"))), lines[0] if lines else ""
    )
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _damaged(path: Path, exc: BaseException) -> str:
    return (
        f"{path} is truncated or corrupted and cannot be read ({_cause(exc)}); resume from an "
        "earlier checkpoint or start again."
    )


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; damaged or code-carrying files raise CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}; train first, or point resume at an existing file.")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "global" not in str(exc).lower():  # not a refused class or function: damaged bytes
            raise CheckpointError(_damaged(path, exc)) from exc
        raise CheckpointError(
            f"{path} was refused: it holds Python objects other than tensors and plain values, which could run "
            f"code when loaded. Only checkpoints written by lmhelpers are accepted. ({_cause(exc)})"
        ) from exc
    except Exception as exc:  # damaged bytes fail in many ways: EOFError, zip errors, KeyError ...
        raise CheckpointError(_damaged(path, exc)) from exc
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise CheckpointError(f"{path} is not an lmhelpers checkpoint (no model weights or config in it).")
    return state
