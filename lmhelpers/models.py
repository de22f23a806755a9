"""One entry point for building any of the language models from a ``ModelConfig``."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from torch import nn

from .config import ModelConfig
from .rnn import RNNLanguageModel
from .transformer import TransformerLanguageModel

MODEL_CLASSES: dict[str, type[nn.Module]] = {
    "transformer": TransformerLanguageModel,
    "rnn": RNNLanguageModel,
    "gru": RNNLanguageModel,
    "lstm": RNNLanguageModel,
}


def build_model(cfg: ModelConfig) -> nn.Module:
    """The model for ``cfg.arch``, freshly initialised on the CPU (move it with ``.to(device)``)."""
    if cfg.vocab_size is None:
        raise ValueError(
            "ModelConfig.vocab_size is None: set vocab_size from the tokenizer "
            "(e.g. dataclasses.replace(cfg, vocab_size=tokenizer.vocab_size))"
        )
    if cfg.arch not in MODEL_CLASSES:
        raise ValueError(f"unknown arch {cfg.arch!r}; choose one of {sorted(MODEL_CLASSES)}")
    return MODEL_CLASSES[cfg.arch](cfg)


def model_summary(model: nn.Module) -> dict[str, Any]:
    """Size and cost of a model in one dict, for run records and comparison tables."""
    cfg: ModelConfig = model.config
    return {
        "arch": cfg.arch,
        "params": model.num_params(),
        "non_embedding_params": model.num_params(non_embedding=True),
        "flops_per_token": model.flops_per_token(),
        "config": asdict(cfg),
    }
