"""Which training settings held over which steps of a run: kept in its checkpoint, written into its record.

A record's ``config`` names the settings of the run's last steps; its ``settings_history`` lists every
stretch of steps with the training settings that held over it::

    [{"from_step": 0, "to_step": 200, "settings": {"learning_rate": 0.01, ...}},
     {"from_step": 200, "to_step": 400, "settings": {"learning_rate": 0.001, ...}}]

A run that never changed has one stretch. A new one starts only where a resume changed a setting:
``max_iters`` (which reshapes the learning-rate schedule from there on), or any other training setting
when asked for on purpose (``resume="change-settings"``, see :mod:`lmhelpers.resume`). The settings that
change nothing a run computes (device, compile, checkpoint_interval) are left out.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .checkpoint import INCIDENTAL
from .config import RunConfig


def training_settings(config: RunConfig) -> dict[str, Any]:
    """The training settings of ``config`` that shape what a run computes."""
    return {k: v for k, v in asdict(config.train).items() if k not in INCIDENTAL}


def changed_settings(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """``{name: (before, after)}`` for each setting whose value differs."""
    return {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}


def describe_changes(changes: dict[str, tuple[Any, Any]]) -> str:
    """``learning_rate 0.01 -> 0.001, max_iters 200 -> 400``."""
    return ", ".join(f"{k} {a!r} -> {b!r}" for k, (a, b) in changes.items())


def _stretch(start: int, end: int, config: RunConfig) -> dict[str, Any]:
    return {"from_step": start, "to_step": end, "settings": training_settings(config)}


def continued(
    previous: list[dict[str, Any]] | None, saved: RunConfig, step: int, wanted: RunConfig
) -> list[dict[str, Any]]:
    """The stretches of a run resumed at ``step`` with ``wanted``'s settings, after ``previous`` (the
    checkpoint's; None for a checkpoint written before settings were kept, whose ``saved`` config then
    held from step 0)."""
    stretches = [dict(s) for s in previous] if previous else [_stretch(0, step, saved)]
    stretches[-1]["to_step"] = step
    now = training_settings(wanted)
    if stretches[-1]["settings"] == now:
        return stretches
    if stretches[-1]["from_step"] >= step:  # the last stretch ran no step: the new settings replace it
        stretches.pop()
        if stretches and stretches[-1]["settings"] == now:
            return stretches
    return [*stretches, _stretch(step, step, wanted)]


def settings_history(trainer: Any) -> list[dict[str, Any]]:
    """The stretches of ``trainer``'s run up to the step it has reached (one, if its settings never
    changed); :func:`lmhelpers.resume.start_or_resume` sets them on a resume."""
    stretches = getattr(trainer, "settings_log", None) or [_stretch(0, trainer.step, trainer.config)]
    out = [dict(s) for s in stretches]
    out[-1]["to_step"] = trainer.step
    return out
