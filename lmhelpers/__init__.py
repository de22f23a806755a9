"""lmhelpers: train and compare RNN and GPT-style Transformer language models, honestly measured.

The public API is re-exported here and imported lazily, so ``import lmhelpers`` stays fast and the
notebooks' first cell does not pay for matplotlib or tiktoken before it needs them.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "config": [
        "ConfigError",
        "DataConfig",
        "ModelConfig",
        "TrainConfig",
        "RunConfig",
        "PRESETS",
        "make_config",
        "preset_names",
        "presets_markdown",
    ],
    "device": [
        "DeviceError",
        "pick_device",
        "autocast_dtype",
        "environment_report",
        "recommend_preset",
        "on_colab",
    ],
    "data": [
        "DataError",
        "TokenDataset",
        "load_text",
        "normalize_text",
        "resolve_dataset",
        "split_text",
        "KNOWN_DATASETS",
    ],
    "tokenizers": [
        "Tokenizer",
        "TokenizerError",
        "TokenizerUnavailable",
        "train_tokenizer",
        "load_tokenizer",
        "TOKENIZER_KINDS",
    ],
    "tokenizer_comparison": ["compare_tokenizers", "train_tokenizers", "tokenizer_table"],
    "models": ["build_model", "model_summary"],
    "transformer": ["TransformerLanguageModel"],
    "rnn": ["RNNLanguageModel"],
    "generation": ["generate", "sample_text"],
    "training": ["Trainer", "TrainingDiverged", "lr_at"],
    "out_of_memory": ["TrainingOutOfMemory"],
    "checkpoint": ["CheckpointError", "save_checkpoint", "load_checkpoint", "load_trained", "TrainedModel"],
    "resume": ["RunConflict", "start_or_resume"],
    "metrics": [
        "perplexity",
        "bits_per_char",
        "summarize_loss",
        "loss_by_position",
        "position_losses",
        "causality_check",
    ],
    "records": ["RecordError", "save_record", "load_record", "find_records", "comparison_rows"],
    "plots": [
        "plot_curves",
        "plot_attention",
        "plot_loss_by_position",
        "plot_tradeoffs",
        "plot_tokenizers",
        "plot_sentence_attention",
    ],
    "report": ["markdown_table", "samples_markdown", "write_summary"],
    "reading": ["describe_comparison", "describe_sweep"],
    "collect": ["collect"],
    "batch": ["run_series", "NotebookFailed"],
    "sweep": ["load_sweep", "run_sweep", "SweepError"],
    "experiment": [
        "PreparedData",
        "prepare_data",
        "with_vocab",
        "run_experiment",
        "finish_run",
        "load_or_train",
        "save_tokenizer",
        "generation_speed",
        "check_writable",
    ],
}
_WHERE = {name: module for module, names in _EXPORTS.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'lmhelpers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
