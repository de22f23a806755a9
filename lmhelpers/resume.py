"""Whether a run continues, starts, or stops: a run's folder is never overwritten by a different run.

The rule, the same for the notebooks, ``train``, ``series`` and sweeps:

* ``resume="auto"`` (the default): a compatible checkpoint is continued (and said so, with its step);
  with none, training starts from step 0 (and says so); an incompatible one stops the run with the
  differences and the two ways out.
* ``resume="restart"``: the previous run (its results folder, and its checkpoint folder when that is
  elsewhere) is moved aside to ``NAME.before-TIMESTAMP`` (never deleted), then training starts afresh.
* ``resume="change-settings"``: as "auto", but the run may go on with other training settings (a lower
  learning rate from here, say); the record then lists which settings held over which steps
  (:mod:`lmhelpers.settings_history`). Under "auto", such a change stops the run like any other
  difference: its record would name settings its weights were not trained with. ``max_iters`` may
  change under either (to train longer), never to fewer steps than the checkpoint has run.
* ``resume=True`` is "auto"; ``resume=False`` starts afresh only where no earlier run exists, and
  otherwise stops rather than overwrite it.

Whoever starts or resumes a run here becomes the one writer of its folders (:mod:`lmhelpers.runlock`):
a second run into them stops at once, naming the first.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from .checkpoint import CheckpointError, SettingsChanged, accepting_training_changes, load_checkpoint
from .config import RunConfig
from .language import message, tr
from .runlock import hold_until_exit, moving, only_a_lock_in
from .settings_history import changed_settings, describe_changes, training_settings

RESUME_CHOICES = ["auto", "restart", "change-settings", True, False]
RECORD_NAME = "record.json"


class RunConflict(CheckpointError):
    """An earlier, different run is where this one would write; the message says how to keep both."""


def resume_mode(resume: Any) -> str:
    """``"auto"``, ``"restart"``, ``"change-settings"`` or ``"never"`` for a resume value; ValueError for
    anything else."""
    if resume is True or resume == "auto":
        return "auto"
    if resume is False:
        return "never"
    if resume in ("restart", "change-settings"):
        return resume
    raise ValueError(
        tr("resume={resume!r} is invalid: choose one of {choices}", resume=resume, choices=RESUME_CHOICES)
    )


def checkpoint_step(path: str | os.PathLike) -> int | None:
    """The step a checkpoint was written at, or None when there is none (or it cannot be read)."""
    try:
        return int(load_checkpoint(path, mmap=True)["step"])
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
    key = {"never": "resume_never", "change-settings": "resume_change"}.get(mode, "resume_auto")
    return message(key, step=step)


def _ways_out(out_dir: Path) -> str:
    return message("ways_out", name=out_dir.name)


def move_aside(folder: Path) -> Path | None:
    """Rename ``folder`` to ``folder.before-YYYYmmdd-HHMMSS`` (never deleting it); None if it is absent or
    holds nothing but a lock file. A lock this process holds on it stays on ``folder``."""
    if not folder.exists() or only_a_lock_in(folder):
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = folder.with_name(f"{folder.name}.before-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = folder.with_name(f"{folder.name}.before-{stamp}-{n}")
    with moving(folder):
        folder.rename(target)
    return target


def start_or_resume(trainer: Any, out_dir: str | os.PathLike, resume: Any = "auto") -> str:
    """Resume ``trainer`` from its checkpoint or start it at step 0, as ``resume`` says; the sentence
    that reports what happened. Raises RunConflict rather than overwrite a different run.

    This process holds the run's folders (results, checkpoint) from here until it ends, unless a
    ``runlock.holding`` block (``run_experiment``) holds them already; FolderInUse if another run does.
    """
    mode = resume_mode(resume)
    out_dir = Path(out_dir)
    ckpt = Path(trainer.checkpoint_path) if trainer.checkpoint_path else out_dir / "checkpoint.pt"
    total = trainer.config.train.max_iters
    if trainer.dist.is_main:  # under torchrun, rank 0 writes for all
        hold_until_exit(out_dir, ckpt.parent)
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
        return _resume(trainer, ckpt, out_dir, mode)
    if (out_dir / RECORD_NAME).is_file():
        raise RunConflict(
            message("record_without_checkpoint", out=out_dir, ckpt=ckpt, ways_out=_ways_out(out_dir))
        )
    return message("fresh_start", ckpt=ckpt, total=total)


def _resume(trainer: Any, ckpt: Path, out_dir: Path, mode: str) -> str:
    """Continue ``trainer`` from ``ckpt`` (changing training settings only with "change-settings"),
    carrying on the checkpoint's settings history; the sentence that says so."""
    total = trainer.config.train.max_iters
    try:
        with accepting_training_changes(mode == "change-settings"):
            step = trainer.resume(ckpt)
    except SettingsChanged as exc:
        raise RunConflict(f"{exc}\n{message('change_settings_hint')} {_ways_out(out_dir)}") from None
    except CheckpointError as exc:
        raise RunConflict(f"{exc}\n{_ways_out(out_dir)}") from None
    state = load_checkpoint(ckpt, mmap=True)  # its settings history; the weights are not read again
    saved = RunConfig.from_dict(state["config"])
    changes = changed_settings(training_settings(saved), training_settings(trainer.config))
    if set(changes) - {"max_iters"} and step >= total:
        raise RunConflict(message("change_nothing_left", ckpt=ckpt, step=step, total=total))
    text = message("resumed", ckpt=ckpt, step=step, total=total)
    if changes:
        from .training import apply_optimizer_settings

        apply_optimizer_settings(trainer.optimizer, trainer.config.train)  # the checkpoint's were loaded
        text += message("resumed_with_changes", changes=describe_changes(changes), step=step)
    return text
