"""The benchmark's settings: one validated dataclass, and the ``bench`` command line built from it.

Each :class:`BenchOptions` field carries its default, its flags and its argparse settings, so a setting
is written once: :func:`add_arguments` makes the flags from the fields, ``BenchOptions.from_args`` maps
the parsed flags back, and a run's JSON stores ``asdict(options)`` as its ``settings``. The lists come
from their one definition: devices, dtypes, presets and model families from :mod:`lmhelpers.config`.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields
from typing import Any

from .baseline import BASELINES
from .benchrows import (
    CPU_BATCH,
    CPU_RECOMPUTE_TOKENS,
    CPU_RNN_RECOMPUTE_TOKENS,
    CPU_STEPS,
    DEFAULT_ROUNDS,
    DEFAULT_STEPS,
)
from .config import ARCHES, DEVICES, DTYPES, PRESETS

BENCH_PRESETS = ("nanogpt-cpu", "cpu", "reference")
BENCH_MODELS = ("transformer", "lstm")
COMPILE_CHOICES = ("auto", "both", "on", "off")
_REF_STEPS, _REF_WARMUP = CPU_STEPS["reference"]


def _opt(default: Any, *flags: str, help: str, **argparse_kwargs: Any) -> Any:
    """A BenchOptions field: its default, and how the command line spells it (flags, argparse settings)."""
    return field(default=default, metadata={"flags": flags, "help": help, **argparse_kwargs})


@dataclass
class BenchOptions:
    """Every setting of one benchmark run, checked when made, before any minute is spent measuring.

    The command line is built from these fields (:func:`add_arguments`), and a run's JSON stores them as
    ``settings``. 'none' is accepted for ``presets`` (no training rows) and ``gen_preset`` (no generation).
    """

    models: tuple[str, ...] = _opt(
        BENCH_MODELS,
        "--model",
        "--arch",
        nargs="+",
        choices=ARCHES,
        help=f"model families (default: {' '.join(BENCH_MODELS)}); baselines exist for {' '.join(BASELINES)}",
    )
    presets: tuple[str, ...] = _opt(
        BENCH_PRESETS,
        "--preset",
        nargs="+",
        choices=[*PRESETS, "none"],
        help=f"sizes to time training at (default: {' '.join(BENCH_PRESETS)}; 'none': no training)",
    )
    steps: int | None = _opt(
        None,
        "--steps",
        type=int,
        help=f"timed steps per row, spread over the rounds (default {DEFAULT_STEPS[0]}; {_REF_STEPS} for "
        "reference on CPU)",
    )
    warmup: int | None = _opt(
        None,
        "--warmup",
        type=int,
        help=f"untimed steps per row first (default {DEFAULT_STEPS[1]}; {_REF_WARMUP} for reference on CPU)",
    )
    rounds: int | None = _opt(
        None,
        "--rounds",
        type=int,
        help=f"interleaved rounds over the rows a ratio compares (default {DEFAULT_ROUNDS}; never more than steps)",
    )
    batch_size: int | None = _opt(
        None,
        "--batch-size",
        type=int,
        help=f"every preset's batch (default: the preset's; {CPU_BATCH['reference']} for reference on CPU)",
    )
    device: str = _opt("auto", "--device", choices=DEVICES, help="where to run (default: %(default)s)")
    threads: int | None = _opt(
        None,
        "--threads",
        type=int,
        help="torch threads (default: torch's, less one for every core other processes keep busy at the start)",
    )
    baseline: bool = _opt(True, "--no-baseline", action="store_false", help="skip the tutorial baselines")
    compile: str = _opt(
        "auto",
        "--compile",
        choices=COMPILE_CHOICES,
        help="torch.compile: auto = with and without on CUDA, without elsewhere; both = with and without",
    )
    dtype: str = _opt(
        "auto",
        "--dtype",
        choices=DTYPES,
        help="training precision, as the dtype setting (default auto: bf16/fp16 autocast on CUDA, float32 "
        "elsewhere); MFU is against the peak of the precision used",
    )
    profile_steps: int = _opt(
        0,
        "--profile",
        type=int,
        metavar="N",
        help="also profile N more steps of every training row and list the operators that took the most time",
    )
    gen_preset: str | None = _opt(
        "reference",
        "--gen-preset",
        choices=[*PRESETS, "none"],
        help="model size for generation (default: %(default)s); 'none' skips it",
    )
    gen_context: int = _opt(256, "--gen-context", type=int, help="prompt length for generation (default 256)")
    gen_tokens: int = _opt(
        300, "--gen-tokens", type=int, help="new tokens per round, cached modes (default 300)"
    )
    recompute_tokens: int | None = _opt(
        None,
        "--recompute-tokens",
        type=int,
        help=f"new tokens per round for the recompute modes (default: --gen-tokens; on CPU {CPU_RECOMPUTE_TOKENS['transformer']} for the "
        f"Transformer, {CPU_RNN_RECOMPUTE_TOKENS} for RNNs)",
    )
    gen_rounds: int = _opt(5, "--gen-rounds", type=int, help="interleaved rounds of generation (default 5)")
    peak_sizes: tuple[int, ...] | None = _opt(
        None,
        "--peak-sizes",
        type=int,
        nargs="+",
        help="square matmul sizes for the peak (default: 1024 2048 on CPU, 4096 8192 on GPU)",
    )
    peak_repeats: int = _opt(
        10, "--peak-repeats", type=int, help="matmuls per size and measurement (default 10)"
    )
    json: str | None = _opt(None, "--json", metavar="PATH", help="also write the results as JSON to PATH")

    def __post_init__(self) -> None:
        self.models = (self.models,) if isinstance(self.models, str) else tuple(self.models)
        presets = (self.presets,) if isinstance(self.presets, str) else self.presets
        self.presets = tuple(p for p in presets if p != "none")
        if self.gen_preset is not None and str(self.gen_preset).lower() == "none":
            self.gen_preset = None
        if self.peak_sizes is not None:
            self.peak_sizes = tuple(self.peak_sizes)
        self._check()

    def _check(self) -> None:
        _one_of(self, "device", DEVICES)
        _one_of(self, "dtype", DTYPES)
        _one_of(self, "compile", COMPILE_CHOICES)
        if self.gen_preset is not None:
            _one_of(self, "gen_preset", [*PRESETS, "none"])
        if not self.models:
            raise _bad("models", self.models, "name at least one model family")
        for name, allowed in (("models", ARCHES), ("presets", [*PRESETS, "none"])):
            for value in getattr(self, name):
                if value not in allowed:
                    raise _bad(name, value, f"choose from {list(allowed)}")
        at_least = {"warmup": 0, "profile_steps": 0, **dict.fromkeys(_POSITIVE, 1)}
        for name, low in at_least.items():
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
                raise _bad(name, value, f"give a whole number of at least {low}")
        for size in self.peak_sizes or ():
            if not isinstance(size, int) or size < 1:
                raise _bad("peak_sizes", size, "give positive matrix sizes")

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> BenchOptions:
        """The options a ``bench`` command line parsed into (see :func:`add_arguments`)."""
        return cls(**{f.name: getattr(args, f.name) for f in fields(cls)})


_POSITIVE = ("steps", "rounds", "batch_size", "threads", "gen_context", "gen_tokens", "recompute_tokens")
_POSITIVE += ("gen_rounds", "peak_repeats")


def _bad(name: str, value: Any, why: str) -> ValueError:
    flag = next(f for f in fields(BenchOptions) if f.name == name).metadata["flags"][0]
    return ValueError(f"bench {flag} {value!r} (BenchOptions.{name}): {why}")


def _one_of(options: BenchOptions, name: str, allowed) -> None:
    if getattr(options, name) not in allowed:
        raise _bad(name, getattr(options, name), f"choose one of {list(allowed)}")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag (or more spellings) per :class:`BenchOptions` field, with its default and choices."""
    for f in fields(BenchOptions):
        settings = {k: v for k, v in f.metadata.items() if k != "flags"}
        if settings.get("type") is int:
            settings.setdefault("metavar", "N")
        parser.add_argument(*f.metadata["flags"], dest=f.name, default=f.default, **settings)
