"""Run configuration: the validated dataclasses, the named presets, and the lists every other module uses.

A run is ``RunConfig(data=DataConfig, model=ModelConfig, train=TrainConfig)``. The override rule lives
here only: a setting is named by its flat field name (``n_layer``), unique across the sections, whether
it comes from ``--set NAME=VALUE`` or a notebook's ``settings = {"NAME": value}`` (``settings.NAME`` in
a sweep file). ``vocab_size`` means the tokenizer's cap; ``model.vocab_size`` comes from the tokenizer
(dotted names are accepted where code needs a section, but are not the documented spelling).

The lists defined once here and imported everywhere else: model families (``ARCHES``), tokenizers
(``TOKENIZERS``), devices (``DEVICES``), precisions (``DTYPES``) and presets (``PRESETS``, smallest
first). Adding a preset means adding one entry to ``PRESETS``: the notebooks' validation, the command
line's choices, notebook 00's table and the out-of-memory advice all read it from there.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from .language import N_, tr

ARCHES = ("transformer", "rnn", "gru", "lstm")  # model families: lmhelpers.models builds each
TOKENIZERS = ("char", "word", "bpe", "gpt2")  # lmhelpers.tokenizers implements each
DTYPES = ("auto", "float32", "bfloat16", "float16")
DEVICES = ("auto", "cpu", "cuda", "mps")
NORMALIZATIONS = ("NFC", "NFKC", "none")  # Unicode normalisation of the corpus and prompts


class ConfigError(ValueError):
    """A configuration value is out of range; the message, in the learner's language, names the field and
    what is allowed.

    ``field`` (the flat setting name, e.g. ``max_iters``), ``value`` and ``allowed`` (an :class:`Allowed`)
    carry the same facts for code that reports them in its own terms (a notebook names its parameter).
    """

    def __init__(self, message: str, field: str | None = None, value: Any = None, allowed: str = ""):
        super().__init__(message)
        self.field = field
        self.value = value
        self.allowed = allowed


class Allowed(str):
    """What a setting accepts, "an integer >= 0": the English text (the string itself, which code compares)
    that keeps its catalog template and values, so that :meth:`said` says it in the learner's language."""

    def __new__(cls, template: str, **values: Any) -> Allowed:
        self = super().__new__(cls, template.format(**values) if values else template)
        self.template, self.values = template, values
        return self

    def said(self, language: str | None = None) -> str:
        return tr(self.template, language, **self.values)


def _check(ok: bool, section: str, name: str, value: Any, allowed: str, **values: Any) -> None:
    if not ok:
        allowed = Allowed(allowed, **values)
        facts = dict(section=section, name=name, value=value, allowed=allowed.said())
        raise ConfigError(
            tr("{section}.{name}={value!r} is invalid: {allowed}", **facts), name, value, allowed
        )


def _choice(section: str, obj: Any, name: str, choices: tuple[str, ...]) -> None:
    v = getattr(obj, name)
    _check(v in choices, section, name, v, N_("choose one of {choices}"), choices=list(choices))


def _positive_ints(section: str, obj: Any, *names: str) -> None:
    for name in names:
        v = getattr(obj, name)
        _check(_is_int(v) and v >= 1, section, name, v, N_("a positive integer"))


def _bools(section: str, obj: Any, *names: str) -> None:
    for name in names:
        v = getattr(obj, name)
        _check(isinstance(v, bool), section, name, v, N_("True or False"))


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
    # Unicode form of corpus and prompts: NFC makes text typed as decomposed jamo or accents (NFD, as
    # some systems save it) the same characters as the composed form. "none" keeps the text as it is.
    normalize: str = "NFC"

    def __post_init__(self) -> None:
        s = "data"
        ok = isinstance(self.dataset, str) and self.dataset != ""
        dataset = N_("a name such as 'tinyshakespeare', or a text file or folder")
        _check(ok, s, "dataset", self.dataset, dataset)
        _choice(s, self, "tokenizer", TOKENIZERS)
        v = self.vocab_size
        _check(_is_int(v) and 2 <= v <= 1_000_000, s, "vocab_size", v, N_("an integer in [2, 1000000]"))
        v = self.val_fraction
        _check(_is_number(v) and 0 < v < 1, s, "val_fraction", v, N_("a number strictly between 0 and 1"))
        _choice(s, self, "normalize", NORMALIZATIONS)


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
        _choice(s, self, "arch", ARCHES)
        _positive_ints(s, self, "n_layer", "n_head", "n_embd", "block_size")
        if self.arch == "transformer":
            divisible = N_("must be divisible by n_head={n_head} (each head gets n_embd // n_head dims)")
            _check(self.n_embd % self.n_head == 0, s, "n_embd", self.n_embd, divisible, n_head=self.n_head)
        ok = _is_number(self.dropout) and 0 <= self.dropout < 1
        _check(ok, s, "dropout", self.dropout, N_("a number in [0, 1)"))
        _bools(s, self, "tie_weights", "bias")
        v = self.vocab_size
        vocab = N_("None (set from the tokenizer) or an integer >= 2")
        _check(v is None or (_is_int(v) and v >= 2), s, "vocab_size", v, vocab)

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
    # Recurrent models only (always False for a Transformer): each batch row a contiguous stream, the
    # state carried from step to step (truncated BPTT) instead of a zero state for every random window.
    stateful: bool = False

    def __post_init__(self) -> None:
        s = "train"
        _positive_ints(s, self, "batch_size", "max_iters", "eval_interval", "eval_iters")
        v = self.warmup_iters
        _check(_is_int(v) and v >= 0, s, "warmup_iters", v, N_("an integer >= 0"))
        lr = self.learning_rate
        _check(_is_number(lr) and lr > 0, s, "learning_rate", lr, N_("a positive number such as 3e-4"))
        v = self.min_lr
        ok = v is None or (_is_number(v) and 0 <= v <= lr)
        _check(ok, s, "min_lr", v, N_("None or a number in [0, learning_rate={lr}]"), lr=lr)
        v = self.weight_decay
        _check(_is_number(v) and v >= 0, s, "weight_decay", v, N_("a number >= 0"))
        for name in ("beta1", "beta2"):
            v = getattr(self, name)
            _check(_is_number(v) and 0 <= v < 1, s, name, v, N_("a number in [0, 1)"))
        v = self.grad_clip
        _check(_is_number(v) and v >= 0, s, "grad_clip", v, N_("a number >= 0 (0 disables clipping)"))
        _check(_is_int(self.seed), s, "seed", self.seed, N_("an integer"))
        _choice(s, self, "device", DEVICES)
        _choice(s, self, "dtype", DTYPES)
        _bools(s, self, "compile", "stateful")
        v = self.checkpoint_interval
        ok = v is None or (_is_int(v) and v >= 1)
        _check(ok, s, "checkpoint_interval", v, N_("None or a positive integer"))

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

    def __post_init__(self) -> None:
        # A Transformer has no state to carry: settings shared by both families (a series, `compare`,
        # notebook 04) may say stateful, and the Transformer's config (and so its record) says False.
        if self.train.stateful and not self.model.is_rnn:
            self.train = dataclasses.replace(self.train, stateful=False)

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
            sec, name = _locate(key)
            parts[sec][name] = value
        return RunConfig(
            data=dataclasses.replace(self.data, **parts["data"]),
            model=dataclasses.replace(self.model, **parts["model"]),
            train=dataclasses.replace(self.train, **parts["train"]),
            preset=self.preset,
        )


SETTINGS = tuple(sorted(_FIELD_SECTION))  # every flat setting name, for validation and messages


def _locate(key: str) -> tuple[str, str]:
    """The (section, field) a setting name means: flat, or dotted for an explicit section."""
    if not isinstance(key, str):
        text = tr("setting names are strings, got {key!r}", key=key)
        raise ConfigError(text, str(key), key, Allowed(N_("one of {choices}"), choices=list(SETTINGS)))
    sec, _, name = key.rpartition(".")
    if sec and sec in _SECTIONS and name in {f.name for f in fields(_SECTIONS[sec])}:
        return sec, name
    if not sec and key in _FIELD_SECTION:
        return _FIELD_SECTION[key], key
    close = difflib.get_close_matches(name, SETTINGS, n=1)
    hint = tr(" (write it as {name!r})", name=name) if sec and name in _FIELD_SECTION else ""
    hint = hint or (tr(" (did you mean {name!r}?)", name=close[0]) if close else "")
    valid = list(SETTINGS)
    text = tr("unknown setting {key!r}{hint}; valid settings: {valid}", key=key, hint=hint, valid=valid)
    raise ConfigError(text, key)


def _build(cls: type, values: dict[str, Any], section: str) -> Any:
    names = {f.name for f in fields(cls)}
    unknown = set(values) - names
    if unknown:
        raise ConfigError(f"unknown {section} settings {sorted(unknown)}; valid: {sorted(names)}")
    return cls(**values)


@dataclass(frozen=True)
class Preset:
    """A named set of settings and what it is meant for.

    ``gpu_memory_gb`` is the GPU memory it needs (None: sized for a CPU); notebook 00 recommends the
    largest preset whose need the runtime meets, and the out-of-memory advice names the smaller ones.
    """

    purpose: str  # English, marked with N_: tr(purpose) says it in the learner's language
    data: dict[str, Any]
    model: dict[str, Any]
    train: dict[str, Any]
    gpu_memory_gb: float | None = None


# Presets, smallest first. 'reference' is the original guide's experiment, unchanged; the others scale it
# down. The order matters: "a smaller preset" in advice means one listed earlier.
# The learning-rate recipe found for nanoGPT's CPU shape (docs/benchmarks.md), shared by both CPU presets:
# 8x nanoGPT's peak learning rate, a short warm-up, cosine decay to zero, weight decay 0.2, beta1 0.8.
_SMALL_CPU_RECIPE = dict(
    learning_rate=8e-3, min_lr=0.0, warmup_iters=50, weight_decay=0.2, beta1=0.8, beta2=0.99
)

PRESETS: dict[str, Preset] = {
    "smoke": Preset(  # seconds on a CPU: for tests and for checking that a notebook runs at all
        N_("tests; checking that a notebook runs"),
        data=dict(tokenizer="char"),
        model=dict(n_layer=1, n_head=2, n_embd=32, block_size=32, dropout=0.0),
        train=dict(
            batch_size=8, max_iters=20, eval_interval=10, eval_iters=2, learning_rate=1e-3, warmup_iters=2
        ),
    ),
    # Half the steps of the first recipe (2000 at lr 2e-3), with nanogpt-cpu's learning rates: `make run`
    # in 57% of the time, LSTM 2.50 bits/char (was 2.72), Transformer 2.49 (was 2.40). README "Presets".
    "cpu": Preset(
        N_("`make run`: a few minutes for both models on 2 CPU cores"),
        data=dict(tokenizer="char"),
        model=dict(n_layer=4, n_head=4, n_embd=128, block_size=64, dropout=0.0),
        train=dict(batch_size=32, max_iters=1000, eval_interval=200, eval_iters=20, **_SMALL_CPU_RECIPE),
    ),
    # nanoGPT's CPU example shape (4 layers, 128 wide, 4 heads, context 64, batch 12, 2000 steps, no
    # biases, dropout 0; its recipe reaches val 1.886) with the better recipe above at the same steps.
    "nanogpt-cpu": Preset(
        N_("nanoGPT's CPU example at the same steps and tokens, with a better recipe"),
        data=dict(tokenizer="char"),
        model=dict(n_layer=4, n_head=4, n_embd=128, block_size=64, dropout=0.0, bias=False),
        train=dict(batch_size=12, max_iters=2000, eval_interval=500, eval_iters=100, **_SMALL_CPU_RECIPE),
    ),
    "t4": Preset(  # a free Colab T4 (16 GB, fp16): the reference shape at two thirds of the width and steps
        N_("a free Colab T4 (16 GB)"),
        data=dict(tokenizer="word", vocab_size=10000),
        model=dict(n_layer=6, n_head=6, n_embd=384, block_size=256, dropout=0.2),
        train=dict(
            batch_size=64,
            max_iters=3000,
            eval_interval=250,
            eval_iters=50,
            learning_rate=6e-4,
            warmup_iters=100,
        ),
        gpu_memory_gb=12,
    ),
    "reference": Preset(  # the original guide: batch 64, context 256, 512 wide, 8 heads, 6 layers, 5000 iters
        N_("the original guide's experiment (a GPU with 30 GB or more)"),
        data=dict(tokenizer="word", vocab_size=10000),
        model=dict(n_layer=6, n_head=8, n_embd=512, block_size=256, dropout=0.2),
        train=dict(
            batch_size=64,
            max_iters=5000,
            eval_interval=250,
            eval_iters=100,
            learning_rate=3e-4,
            warmup_iters=100,
        ),
        gpu_memory_gb=30,
    ),
}
DEFAULT_PRESET = "cpu"  # the command line's and the notebooks' default: runs anywhere in minutes


def preset_names() -> list[str]:
    return list(PRESETS)


def smaller_presets(name: str) -> list[str]:
    """The presets listed before ``name`` (smaller ones), nearest first; all but the largest if unknown."""
    names = preset_names()
    before = names[: names.index(name)] if name in names else names[:-1]
    return list(reversed(before))


def make_config(preset: str = "smoke", **overrides: Any) -> RunConfig:
    """The named preset with ``overrides`` (flat setting names, see the module docstring) applied, validated."""
    if preset not in PRESETS:
        text = tr("unknown preset {preset!r}; choose one of {choices}", preset=preset, choices=preset_names())
        raise ConfigError(text, "preset", preset, Allowed(N_("one of {choices}"), choices=preset_names()))
    p = PRESETS[preset]
    base = RunConfig(DataConfig(**p.data), ModelConfig(**p.model), TrainConfig(**p.train), preset=preset)
    return base.override(**overrides) if overrides else base


def presets_markdown() -> str:
    """The presets side by side (notebook 00's table and the README's): every entry of ``PRESETS``."""
    titles = N_("preset"), N_("tokenizer"), N_("layers x width"), N_("context")
    titles += N_("steps x batch"), N_("meant for")
    lines = ["| " + " | ".join(tr(t) for t in titles) + " |", "|---|---|---|---|---|---|"]
    for name, preset in PRESETS.items():
        c = make_config(name)
        lines.append(
            f"| `{name}` | {c.data.tokenizer} | {c.model.n_layer} x {c.model.n_embd} | {c.model.block_size} "
            f"| {c.train.max_iters:,} x {c.train.batch_size} | {tr(preset.purpose)} |"
        )
    return "\n".join(lines)
