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
        return "restart (an earlier run here is moved aside first)"
    step = checkpoint_step(checkpoint) if checkpoint.is_file() else None
    if step is None:
        return f"{mode}: no checkpoint found yet, training starts from step 0 (not found yet)"
    if mode == "never":
        return f"never: a checkpoint at step {step} exists, so training will refuse to overwrite it"
    return f"auto: continues the checkpoint at step {step} if it is of the same run"


def _ways_out(out_dir: Path) -> str:
    return (
        f"To keep both runs, either write this one elsewhere (another run_dir, or --out on the command "
        f"line), or start over with resume='restart' (--restart), which first moves {out_dir.name} aside "
        f"to {out_dir.name}.before-<time> and deletes nothing."
    )


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
        where = f"; the earlier run was moved to {', '.join(map(str, sorted(moved)))}" if moved else ""
        return f"starting over from step 0 of {total:,}{where}"
    if ckpt.is_file():
        if mode == "never":
            raise RunConflict(
                f"resume=False, but {ckpt} holds an earlier run (step {checkpoint_step(ckpt)}); training "
                f"would overwrite it. Use resume='auto' to continue it. {_ways_out(out_dir)}"
            )
        try:
            step = trainer.resume(ckpt)
        except CheckpointError as exc:
            raise RunConflict(f"{exc}\n{_ways_out(out_dir)}") from None
        return f"resumed from {ckpt} at step {step:,} of {total:,}"
    if (out_dir / RECORD_NAME).is_file():
        raise RunConflict(
            f"{out_dir} holds the record of an earlier run but no checkpoint to continue it from ({ckpt}), "
            f"so training here would replace that record. {_ways_out(out_dir)}"
        )
    return f"no checkpoint at {ckpt}: training from step 0 of {total:,}"
