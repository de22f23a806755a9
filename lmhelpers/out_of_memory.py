"""Running out of GPU memory during training: recognising it and saying which settings to lower.

torch reports it as ``torch.OutOfMemoryError`` on CUDA and as a plain ``RuntimeError`` on Apple's MPS;
:func:`explained_out_of_memory` turns either into :class:`TrainingOutOfMemory`, whose message names the
run's ``batch_size``, ``block_size`` and preset, the smaller values to try, and where the last checkpoint is.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import torch

from .config import RunConfig, smaller_presets
from .language import tr

# torch >= 2.5 raises torch.OutOfMemoryError; older versions name it torch.cuda.OutOfMemoryError.
OUT_OF_MEMORY = getattr(torch, "OutOfMemoryError", None) or torch.cuda.OutOfMemoryError


class TrainingOutOfMemory(OUT_OF_MEMORY):
    """The GPU (CUDA or Apple's MPS) ran out of memory; the message names batch_size, block_size and
    preset and what to lower.

    A subclass of torch's OutOfMemoryError, so code that already catches that error still does.
    """


def is_out_of_memory(exc: BaseException) -> bool:
    """torch's out-of-memory error, or the plain RuntimeError that Apple's MPS backend raises for it."""
    if isinstance(exc, OUT_OF_MEMORY):
        return True
    return isinstance(exc, RuntimeError) and "MPS backend out of memory" in str(exc)


def out_of_memory_message(config: RunConfig, step: int, last_checkpoint: Path | None, cause: str = "") -> str:
    """What ran out, with which settings, and what to change: the text of TrainingOutOfMemory."""
    t, m = config.train, config.model
    smaller = [repr(p) for p in smaller_presets(config.preset)]
    advice = []
    if t.batch_size > 1:
        advice.append(f"batch_size={t.batch_size // 2}")
    if m.block_size > 1:
        advice.append(f"block_size={m.block_size // 2}")
    advice.append(
        tr("a smaller model (now n_layer={n_layer}, n_embd={n_embd})", n_layer=m.n_layer, n_embd=m.n_embd)
    )
    if smaller:
        advice.append(tr("a smaller preset ({presets})", presets=tr(" or ").join(smaller[:2])))
    if t.dtype == "float32":
        advice.append(tr("dtype='auto' (mixed precision)"))
    example = advice[0] if advice[0].startswith(("batch_size", "block_size")) else "n_embd=..."
    where = (
        tr("the last checkpoint is {path}", path=last_checkpoint)
        if last_checkpoint
        else tr("no checkpoint was written")
    )
    cause = f" (torch: {cause.strip().splitlines()[0]})" if cause.strip() else ""
    return tr(
        "the GPU ran out of memory at step {step} of {arch} training with preset {preset!r}, "
        "batch_size={batch_size}, block_size={block_size}. To fit, try {advice} or {last}: e.g. "
        "make_config({preset!r}, {example}), or --set {example} on the command line. A checkpoint resumes only "
        "with the batch_size and block_size it was trained with, so start the smaller run in a new output "
        "folder; {where}.{cause}",
        step=step,
        arch=m.arch,
        preset=config.preset,
        batch_size=t.batch_size,
        block_size=m.block_size,
        advice=", ".join(advice[:-1]),
        last=advice[-1],
        example=example,
        where=where,
        cause=cause,
    )


def _free_memory(trainer) -> None:
    trainer.optimizer.zero_grad(set_to_none=True)  # free the gradients, so a notebook can go on
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif trainer.device.type == "mps":
        torch.mps.empty_cache()


@contextlib.contextmanager
def explained_out_of_memory(trainer) -> Iterator[None]:
    """Around a Trainer's work: torch's bare out-of-memory error becomes TrainingOutOfMemory with advice.

    A ``with`` block rather than a decorator, so the methods it guards stay plain functions that the
    mutation tests can reach (mutmut leaves decorated functions alone; docs/mutation.md)."""
    try:
        yield
    except TrainingOutOfMemory:
        raise
    except RuntimeError as exc:
        if not is_out_of_memory(exc):
            raise
        _free_memory(trainer)
        message = out_of_memory_message(trainer.config, trainer.step, trainer.last_checkpoint, str(exc))
        raise TrainingOutOfMemory(message) from exc
