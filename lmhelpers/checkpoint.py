"""Checkpoints: written atomically, loaded without pickle, checked against the run that wants them.

A checkpoint is a dict of tensors and plain Python values (config and tokenizer as dicts), loaded with
``torch.load(weights_only=True)``: a file from someone else can hold weights, never code. It is written
to a temporary file in the same folder, flushed to disk and renamed over the old one, so a process killed
mid-write leaves the previous complete checkpoint in place.
"""

from __future__ import annotations

import os
import pickle
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from .config import RunConfig
from .files import atomic_write
from .language import N_, tr

FORMAT_VERSION = 1
# A temporary file untouched for this long belongs to no live writer: torch.save keeps writing (and
# touching) its file until the rename, so only a process killed mid-write leaves one this old.
STALE_TEMP_SECONDS = 60.0


class CheckpointError(RuntimeError):
    """A checkpoint is missing, damaged, unsafe, or belongs to another model; the message says which."""


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` atomically and durably to ``path`` (temp file + fsync + rename)."""
    path = atomic_write(
        path, lambda f: torch.save({"format_version": FORMAT_VERSION, **state}, f), binary=True, durable=True
    )
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


def _cause(exc: BaseException) -> str:
    """The line of torch's (long, multi-line) error that says what it met, with the error's type."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    detail = next(
        (x for x in lines if x.startswith(("Unsupported", "Trying to load"))), lines[0] if lines else ""
    )
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


def _damaged(path: Path, exc: BaseException) -> str:
    return tr(
        "{path} is truncated or corrupted and cannot be read ({problem}); resume from an earlier checkpoint or "
        "start again.",
        path=path,
        problem=_cause(exc),
    )


def load_checkpoint(
    path: str | os.PathLike, map_location: str | torch.device = "cpu", mmap: bool = False
) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; damaged or code-carrying files raise CheckpointError.
    ``mmap=True`` reads the tensors only when used (cheap when only the settings and step are wanted)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(
            tr("no checkpoint at {path}; train first, or point resume at an existing file.", path=path)
        )
    try:
        state = torch.load(path, map_location=map_location, weights_only=True, mmap=mmap)
    except pickle.UnpicklingError as exc:
        if "global" not in str(exc).lower():  # not a refused class or function: damaged bytes
            raise CheckpointError(_damaged(path, exc)) from exc
        raise CheckpointError(
            tr(
                "{path} was refused: it holds Python objects other than tensors and plain values, which could "
                "run code when loaded. Only checkpoints written by lmhelpers are accepted. ({problem})",
                path=path,
                problem=_cause(exc),
            )
        ) from exc
    except Exception as exc:  # damaged bytes fail in many ways: EOFError, zip errors, KeyError ...
        raise CheckpointError(_damaged(path, exc)) from exc
    if not isinstance(state, dict) or "model" not in state or "config" not in state:
        raise CheckpointError(
            tr("{path} is not an lmhelpers checkpoint (no model weights or config in it).", path=path)
        )
    return state


# Settings that change nothing a run computes: a record or checkpoint made with other values is the same run.
INCIDENTAL = {"device", "compile", "checkpoint_interval"}
# Training settings a resume may change and still be the same run: the incidental ones, and max_iters (to
# train longer or stop sooner; the record's settings history shows the schedule it made from that step).
RESUMABLE = INCIDENTAL | {"max_iters"}


class SettingsChanged(CheckpointError):
    """Only training settings differ from the checkpoint's: the run may go on with them, but only on
    purpose (``resume="change-settings"``), so that its record says which settings held when."""


_changes_accepted: ContextVar[bool] = ContextVar("lmhelpers_training_changes_accepted", default=False)


@contextmanager
def accepting_training_changes(accept: bool = True) -> Iterator[None]:
    """Inside this block, :func:`check_compatible` lets training settings differ (data and model settings
    never): how ``resume="change-settings"`` continues a run through ``Trainer.resume``."""
    token = _changes_accepted.set(accept)
    try:
        yield
    finally:
        _changes_accepted.reset(token)


def config_differences(
    saved: RunConfig, wanted: RunConfig, what: str = "checkpoint", train_fields: tuple[str, ...] | None = None
) -> list[str]:
    """``section.field: <what> value, this run value`` for each setting that differs (``what`` is
    "checkpoint" or "record"), in the learner's language.

    Every data and model setting counts (``model.vocab_size`` only where both know it: it comes from
    the tokenizer); of the training settings, ``train_fields``, or all but device, compile and
    checkpoint_interval.
    """
    diffs = []
    for section in ("data", "model", "train"):
        old, new = getattr(saved, section), getattr(wanted, section)
        for key, value in vars(old).items():
            if section == "train" and (
                key not in train_fields if train_fields is not None else key in INCIDENTAL
            ):
                continue
            if section == "model" and key == "vocab_size" and None in (value, new.vocab_size):
                continue
            if getattr(new, key) != value:
                setting, here = f"{section}.{key}", getattr(new, key)
                diffs.append(tr(_DIFFERENCE[what], setting=setting, saved=value, wanted=here))
    return diffs


_DIFFERENCE = {
    "checkpoint": N_("{setting}: checkpoint {saved!r}, this run {wanted!r}"),
    "record": N_("{setting}: record {saved!r}, this run {wanted!r}"),
}


def check_compatible(state: dict[str, Any], config: RunConfig, tokenizer: Any, path: Path) -> None:
    """Refuse a checkpoint of another run, naming the differences: another model, data or tokenizer, or
    other training settings (their record would name settings its weights were not trained with).

    ``max_iters`` may change (to train longer), but not to fewer steps than the checkpoint has run; the
    other training settings only inside :func:`accepting_training_changes` (then SettingsChanged is not
    raised), which ``resume="change-settings"`` uses.
    """
    saved = RunConfig.from_dict(state["config"])
    compared = () if _changes_accepted.get() else tuple(k for k in vars(saved.train) if k not in RESUMABLE)
    diffs = config_differences(saved, config, "checkpoint", train_fields=compared)
    others = config_differences(saved, config, "checkpoint", train_fields=())  # data and model settings
    if (
        tokenizer is not None
        and state.get("tokenizer") is not None
        and state["tokenizer"] != tokenizer.to_dict()
    ):
        others.append(tr("tokenizer: the checkpoint was trained with a different vocabulary"))
        diffs.append(others[-1])
    if diffs:
        error = CheckpointError if others else SettingsChanged
        raise error(
            tr(
                "{path} belongs to another run and cannot be resumed here:\n  {differences}\nUse the settings it "
                "was trained with, or a new checkpoint path.",
                path=path,
                differences="\n  ".join(diffs),
            )
        )
    step = int(state.get("step", 0))
    if config.train.max_iters < step:
        raise CheckpointError(
            tr(
                "{path} has trained {step:,} steps, more than this run's max_iters={max_iters:,}: its record would "
                "name fewer steps than its weights had. Use max_iters >= {step:,}, or a new checkpoint path.",
                path=path,
                step=step,
                max_iters=config.train.max_iters,
            )
        )


@dataclass
class TrainedModel:
    """A model rebuilt from its checkpoint, with the tokenizer and config it was trained with."""

    name: str
    model: Any
    tokenizer: Any
    config: RunConfig


def load_trained(checkpoint: str | os.PathLike, name: str | None = None, device: Any = None) -> TrainedModel:
    """Rebuild a trained model from an lmhelpers checkpoint, in eval mode on ``device`` (a torch.device,
    or a name such as "auto")."""
    from .device import pick_device
    from .models import build_model
    from .tokenizers import tokenizer_from_dict

    device = pick_device(device or "auto") if device is None or isinstance(device, str) else device
    state = load_checkpoint(checkpoint, map_location=device)
    config = RunConfig.from_dict(state["config"])
    model = build_model(config.model)
    model.load_state_dict(state["model"])
    model.to(device).eval()
    tokenizer = tokenizer_from_dict(state["tokenizer"])
    return TrainedModel(name or config.model.arch, model, tokenizer, config)
