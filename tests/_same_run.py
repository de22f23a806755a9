"""The check that a resumed run is the run that never stopped: the same weights and the same history."""

from __future__ import annotations

from collections.abc import Mapping

import torch


def untimed(history: list[dict]) -> list[dict]:
    """History rows without their clock readings, the one thing two identical runs do not share."""
    return [{k: v for k, v in row.items() if "time" not in k} for row in history]


def assert_same_run(weights: Mapping[str, torch.Tensor], history: list[dict], trainer) -> None:
    """``trainer`` ended with exactly these weights (named on failure) and this history, clocks aside."""
    for (name, a), b in zip(weights.items(), trainer.model.state_dict().values()):
        assert torch.equal(a, b), name
    assert untimed(trainer.history) == untimed(history)
