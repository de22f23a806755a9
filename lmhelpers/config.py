"""Run configuration: three validated dataclasses and named presets.

A run is ``RunConfig(data=DataConfig, model=ModelConfig, train=TrainConfig)``. Every field name is
unique across the three sections, so overrides can be given flat (``n_layer=2``) as well as dotted
(``model.n_layer=2``); that keeps papermill parameters and command-line flags simple. The one name in
two sections, ``vocab_size``, means the tokenizer's cap (``data.vocab_size``) when given flat:
``model.vocab_size`` is filled from the tokenizer.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

ARCHES = ("transformer", "rnn", "gru", "lstm")
TOKENIZERS = ("char", "word", "bpe", "gpt2")
DTYPES = ("auto", "float32", "bfloat16", "float16")
DEVICES = ("auto", "cpu", "cuda", "mps")


class ConfigError(ValueError):
    """A configuration value is out of range; the message names the field and what is allowed."""


def _check(ok: bool, section: str, name: str, value: Any, allowed: str) -> None:
    if not ok:
        raise ConfigError(f"{section}.{name}={value!r} is invalid: {allowed}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass
class DataConfig:
    """Where the text comes from and how it becomes tokens."""

    dataset: str = "tinyshakespeare"  # a known name, or a path to a UTF-8 file or folder
    tokenizer: str = "char"  # char | word | bpe | gpt2
    vocab_size: int = 10000  # cap for word and bpe; ignored by char and gpt2
    val_fraction: float = 0.1  # the last fraction of the corpus is validation

    def __post_init__(self) -> None:
        s = "data"
        _check(
            isinstance(self.dataset, str) and self.dataset != "",
            s,
            "dataset",
            self.dataset,
            "give a dataset name such as 'tinyshakespeare' or a path to a text file or folder",
        )
        _check(
            self.tokenizer in TOKENIZERS, s, "tokenizer", self.tokenizer, f"choose one of {list(TOKENIZERS)}"
        )
        _check(
            _is_int(self.vocab_size) and 2 <= self.vocab_size <= 1_000_000,
            s,
            "vocab_size",
            self.vocab_size,
            "an integer in [2, 1000000]",
        )
        _check(
            _is_number(self.val_fraction) and 0 < self.val_fraction < 1,
            s,
            "val_fraction",
            self.val_fraction,
            "a number strictly between 0 and 1",
        )


@dataclass
class ModelConfig:
    """Architecture. ``arch`` picks the family: 'transformer', or an RNN cell ('rnn', 'gru', 'lstm')."""

    arch: str = "transformer"
    n_layer: int = 6
    n_head: int = 8  # transformer only
    n_embd: int = 512  # embedding width; also the RNN hidden size, so embeddings can be tied
    block_size: int = 256  # context length in tokens (training windows, attention span)
    dropout: float = 0.2
    tie_weights: bool = True
    vocab_size: int | None = None  # filled from the tokenizer; stored so checkpoints rebuild the model
    bias: bool = True  # transformer: biases in its Linear and LayerNorm layers (nanoGPT's default is off)

    def __post_init__(self) -> None:
        s = "model"
        _check(self.arch in ARCHES, s, "arch", self.arch, f"choose one of {list(ARCHES)}")
        for name in ("n_layer", "n_head", "n_embd", "block_size"):
            v = getattr(self, name)
            _check(_is_int(v) and v >= 1, s, name, v, "a positive integer")
        if self.arch == "transformer":
            _check(
                self.n_embd % self.n_head == 0,
                s,
                "n_embd",
                self.n_embd,
                f"must be divisible by n_head={self.n_head} (each head gets n_embd // n_head dims)",
            )
        _check(
            _is_number(self.dropout) and 0 <= self.dropout < 1,
            s,
            "dropout",
            self.dropout,
            "a number in [0, 1)",
        )
        _check(isinstance(self.tie_weights, bool), s, "tie_weights", self.tie_weights, "True or False")
        _check(isinstance(self.bias, bool), s, "bias", self.bias, "True or False")
        _check(
            self.vocab_size is None or (_is_int(self.vocab_size) and self.vocab_size >= 2),
            s,
            "vocab_size",
            self.vocab_size,
            "None (set from the tokenizer) or an integer >= 2",
        )

    @property
    def is_rnn(self) -> bool:
        return self.arch != "transformer"


@dataclass
class TrainConfig:
    """Optimisation, evaluation and checkpointing."""

    batch_size: int = 64
    max_iters: int = 5000
    eval_interval: int = 250
    eval_iters: int = 100  # validation batches per evaluation (a fixed set, the same every time)
    learning_rate: float = 3e-4
    min_lr: float | None = None  # end of the cosine decay; None means learning_rate / 10
    warmup_iters: int = 100
    weight_decay: float = 0.1  # applied to matrices only
    beta1: float = 0.9
    beta2: float = 0.95
    grad_clip: float = 1.0  # 0 disables clipping
    seed: int = 1337
    device: str = "auto"  # auto | cpu | cuda | mps
    dtype: str = "auto"  # auto | float32 | bfloat16 | float16 (autocast; auto picks per device)
    # torch.compile, opt in: seconds to compile first, then ~5% per step on a CPU (docs/benchmarks.md)
    compile: bool = False
    checkpoint_interval: int | None = None  # None: checkpoint at every evaluation

    def __post_init__(self) -> None:
        s = "train"
        for name in ("batch_size", "max_iters", "eval_interval", "eval_iters"):
            v = getattr(self, name)
            _check(_is_int(v) and v >= 1, s, name, v, "a positive integer")
        _check(
            _is_int(self.warmup_iters) and self.warmup_iters >= 0,
            s,
            "warmup_iters",
            self.warmup_iters,
            "an integer >= 0",
        )
        _check(
            _is_number(self.learning_rate) and self.learning_rate > 0,
            s,
            "learning_rate",
            self.learning_rate,
            "a positive number such as 3e-4",
        )
        _check(
            self.min_lr is None or (_is_number(self.min_lr) and 0 <= self.min_lr <= self.learning_rate),
            s,
            "min_lr",
            self.min_lr,
            f"None or a number in [0, learning_rate={self.learning_rate}]",
        )
        _check(
            _is_number(self.weight_decay) and self.weight_decay >= 0,
            s,
            "weight_decay",
            self.weight_decay,
            "a number >= 0",
        )
        for name in ("beta1", "beta2"):
            v = getattr(self, name)
            _check(_is_number(v) and 0 <= v < 1, s, name, v, "a number in [0, 1)")
        _check(
            _is_number(self.grad_clip) and self.grad_clip >= 0,
            s,
            "grad_clip",
            self.grad_clip,
            "a number >= 0 (0 disables clipping)",
        )
        _check(_is_int(self.seed), s, "seed", self.seed, "an integer")
        _check(self.device in DEVICES, s, "device", self.device, f"choose one of {list(DEVICES)}")
        _check(self.dtype in DTYPES, s, "dtype", self.dtype, f"choose one of {list(DTYPES)}")
        _check(isinstance(self.compile, bool), s, "compile", self.compile, "True or False")
        _check(
            self.checkpoint_interval is None
            or (_is_int(self.checkpoint_interval) and self.checkpoint_interval >= 1),
            s,
            "checkpoint_interval",
            self.checkpoint_interval,
            "None or a positive integer",
        )

    @property
    def final_lr(self) -> float:
        return self.learning_rate / 10 if self.min_lr is None else self.min_lr


_SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}
# Flat names map to one section each. ``vocab_size`` means the tokenizer's cap (data.vocab_size); the
# model's copy is derived from the tokenizer and reachable only as ``model.vocab_size``.
_FIELD_SECTION = {
    f.name: sec
    for sec, cls in _SECTIONS.items()
    for f in fields(cls)
    if not (sec == "model" and f.name == "vocab_size")
}


@dataclass
class RunConfig:
    """Everything a run needs; ``asdict()`` of it is what run records and checkpoints store."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    preset: str = "custom"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunConfig:
        unknown = set(d) - {"data", "model", "train", "preset"}
        if unknown:
            raise ConfigError(
                f"unknown config sections {sorted(unknown)}; expected data, model, train, preset"
            )
        return cls(
            data=_build(DataConfig, d.get("data", {}), "data"),
            model=_build(ModelConfig, d.get("model", {}), "model"),
            train=_build(TrainConfig, d.get("train", {}), "train"),
            preset=d.get("preset", "custom"),
        )

    def override(self, **overrides: Any) -> RunConfig:
        """A copy with fields replaced; keys are field names (``n_layer``) or dotted (``model.n_layer``)."""
        parts: dict[str, dict[str, Any]] = {"data": {}, "model": {}, "train": {}}
        for key, value in overrides.items():
            if "." in key:
                sec, name = key.split(".", 1)
                if sec not in parts or name not in {f.name for f in fields(_SECTIONS[sec])}:
                    raise ConfigError(f"unknown setting {key!r}; valid settings: {sorted(_FIELD_SECTION)}")
            elif key in _FIELD_SECTION:
                sec, name = _FIELD_SECTION[key], key
            else:
                raise ConfigError(f"unknown setting {key!r}; valid settings: {sorted(_FIELD_SECTION)}")
            parts[sec][name] = value
        return RunConfig(
            data=dataclasses.replace(self.data, **parts["data"]),
            model=dataclasses.replace(self.model, **parts["model"]),
            train=dataclasses.replace(self.train, **parts["train"]),
            preset=self.preset,
        )


def _build(cls: type, values: dict[str, Any], section: str) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = set(values) - names
    if unknown:
        raise ConfigError(f"unknown {section} settings {sorted(unknown)}; valid: {sorted(names)}")
    return cls(**values)


# Presets. 'reference' is the original guide's experiment, unchanged; the others scale it down.
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "smoke": {  # seconds on a CPU: for tests and for checking that a notebook runs at all
        "data": dict(tokenizer="char"),
        "model": dict(n_layer=1, n_head=2, n_embd=32, block_size=32, dropout=0.0),
        "train": dict(
            batch_size=8, max_iters=20, eval_interval=10, eval_iters=2, learning_rate=1e-3, warmup_iters=2
        ),
    },
    "cpu": {  # a few minutes on 2 CPU cores, and the loss falls well below the unigram baseline
        "data": dict(tokenizer="char"),
        "model": dict(n_layer=4, n_head=4, n_embd=128, block_size=64, dropout=0.0),
        "train": dict(
            batch_size=32,
            max_iters=2000,
            eval_interval=200,
            eval_iters=20,
            learning_rate=2e-3,
            warmup_iters=100,
            min_lr=2e-4,
        ),
    },
    # nanoGPT's CPU example shape (4 layers, 128 wide, 4 heads, context 64, batch 12, 2000 steps, no
    # biases, dropout 0; its recipe reaches val 1.886) with a better recipe at the same steps and tokens:
    # 8x the peak learning rate, half the warm-up, cosine decay to zero, weight decay 0.2, beta1 0.8.
    # See docs/benchmarks.md.
    "nanogpt-cpu": {
        "data": dict(tokenizer="char"),
        "model": dict(n_layer=4, n_head=4, n_embd=128, block_size=64, dropout=0.0, bias=False),
        "train": dict(
            batch_size=12,
            max_iters=2000,
            eval_interval=500,
            eval_iters=100,
            learning_rate=8e-3,
            min_lr=0.0,
            warmup_iters=50,
            weight_decay=0.2,
            beta1=0.8,
            beta2=0.99,
        ),
    },
    "t4": {  # a free Colab T4 (16 GB, fp16): the reference shape at two thirds of the width and steps
        "data": dict(tokenizer="word", vocab_size=10000),
        "model": dict(n_layer=6, n_head=6, n_embd=384, block_size=256, dropout=0.2),
        "train": dict(
            batch_size=64,
            max_iters=3000,
            eval_interval=250,
            eval_iters=50,
            learning_rate=6e-4,
            warmup_iters=100,
        ),
    },
    "reference": {  # the original guide: batch 64, context 256, 512 wide, 8 heads, 6 layers, 5000 iters
        "data": dict(tokenizer="word", vocab_size=10000),
        "model": dict(n_layer=6, n_head=8, n_embd=512, block_size=256, dropout=0.2),
        "train": dict(
            batch_size=64,
            max_iters=5000,
            eval_interval=250,
            eval_iters=100,
            learning_rate=3e-4,
            warmup_iters=100,
        ),
    },
}


def preset_names() -> list[str]:
    return list(PRESETS)


def make_config(preset: str = "smoke", **overrides: Any) -> RunConfig:
    """The named preset with ``overrides`` applied, validated."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown preset {preset!r}; choose one of {preset_names()}")
    p = PRESETS[preset]
    base = RunConfig(
        DataConfig(**p["data"]), ModelConfig(**p["model"]), TrainConfig(**p["train"]), preset=preset
    )
    return base.override(**overrides) if overrides else base
