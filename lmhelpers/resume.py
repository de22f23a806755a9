"""Whether a run continues, starts, or stops: a run's folder is never overwritten by a different run.

The rule, the same for the notebooks, ``train``, ``series`` and sweeps:

* ``resume="auto"`` (the default): a compatible checkpoint is continued (and said so, with its step);
  with none, training starts from step 0 (and says so); an incompatible one stops the run with the
  differences and the two ways out.
* ``resume="restart"``: the previous run (its results folder, and its checkpoint folder when that is
  elsewhere) is moved aside to ``NAME.before-TIMESTAMP`` (never deleted), then training starts afresh.
* ``resume=True`` is "auto"; ``resume=False`` starts afresh only where no earlier run exists, and
  otherwise stops rather than overwrite it.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from .checkpoint import CheckpointError, load_checkpoint
from .language import message

RESUME_CHOICES = ["auto", "restart", True, False]
RECORD_NAME = "record.json"


class RunConflict(CheckpointError):
    """An earlier, different run is where this one would write; the message says how to keep both."""


def resume_mode(resume: Any) -> str:
    """``"auto"``, ``"restart"`` or ``"never"`` for a resume value; ValueError for anything else."""
    if resume is True or resume == "auto":
        return "auto"
    if resume is False:
        return "never"
    if resume == "restart":
        return "restart"
    raise ValueError(f"resume={resume!r} is invalid: choose one of {RESUME_CHOICES}")


def checkpoint_step(path: str | os.PathLike) -> int | None:
    """The step a checkpoint was written at, or None when there is none (or it cannot be read)."""
    try:
        return int(load_checkpoint(path)["step"])
    except (CheckpointError, KeyError, TypeError, ValueError):
        return None


def describe_resume(checkpoint: Path, resume: Any) -> str:
    """What ``resume`` will do with ``checkpoint``, in one line, before any training."""
    mode = resume_mode(resume)
    if mode == "restart":
        return message("resume_restart")
    step = checkpoint_step(checkpoint) if checkpoint.is_file() else None
    if step is None:
        return message("resume_none_yet", mode=mode)
    return message("resume_never" if mode == "never" else "resume_auto", step=step)


def _ways_out(out_dir: Path) -> str:
    return message("ways_out", name=out_dir.name)


def move_aside(folder: Path) -> Path | None:
    """Rename ``folder`` to ``folder.before-YYYYmmdd-HHMMSS`` (never deleting it); None if it is absent."""
    if not folder.exists():
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = folder.with_name(f"{folder.name}.before-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = folder.with_name(f"{folder.name}.before-{stamp}-{n}")
    folder.rename(target)
    return target


def start_or_resume(trainer: Any, out_dir: str | os.PathLike, resume: Any = "auto") -> str:
    """Resume ``trainer`` from its checkpoint or start it at step 0, as ``resume`` says; the sentence
    that reports what happened. Raises RunConflict rather than overwrite a different run."""
    mode = resume_mode(resume)
    out_dir = Path(out_dir)
    ckpt = Path(trainer.checkpoint_path) if trainer.checkpoint_path else out_dir / "checkpoint.pt"
    total = trainer.config.train.max_iters
    if mode == "restart":
        moved = [m for m in {move_aside(out_dir), move_aside(ckpt.parent)} if m is not None]
        where = message("moved_to", where=", ".join(map(str, sorted(moved)))) if moved else ""
        return message("starting_over", total=total) + where
    if ckpt.is_file():
        if mode == "never":
            step = checkpoint_step(ckpt)
            raise RunConflict(
                message("resume_false_conflict", ckpt=ckpt, step=step, ways_out=_ways_out(out_dir))
            )
        try:
            step = trainer.resume(ckpt)
        except CheckpointError as exc:
            raise RunConflict(f"{exc}\n{_ways_out(out_dir)}") from None
        return message("resumed", ckpt=ckpt, step=step, total=total)
    if (out_dir / RECORD_NAME).is_file():
        raise RunConflict(
            message("record_without_checkpoint", out=out_dir, ckpt=ckpt, ways_out=_ways_out(out_dir))
        )
    return message("fresh_start", ckpt=ckpt, total=total)
