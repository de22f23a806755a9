"""A whole run, end to end: data, tokenizer, model, training, metrics, samples and the run record.

Notebooks call the steps one at a time to show them; the command line and batch runs call
``run_experiment``. Both produce the same record.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from .config import RunConfig
from .data import TokenDataset, load_text, split_text
from .device import environment_report, pick_device
from .generation import encode_prompt, generate, sample_text
from .metrics import summarize_loss
from .models import build_model, model_summary
from .records import new_record, save_record
from .tokenizers import Tokenizer, TokenizerError, load_tokenizer, train_tokenizer


@dataclass
class PreparedData:
    """The corpus split, the tokenizer trained on the training part, and both parts encoded."""

    train_text: str
    val_text: str
    tokenizer: Tokenizer
    dataset: TokenDataset

    def describe(self) -> dict[str, Any]:
        d = {
            "kind": self.tokenizer.kind,
            "vocab_size": self.tokenizer.vocab_size,
            "train_tokens": len(self.dataset.train),
            "val_tokens": len(self.dataset.val),
            "val_chars": self.dataset.val_chars,
            "tokens_per_char": self.dataset.tokens_per_char,
        }
        if hasattr(self.tokenizer, "oov_rate"):
            d["val_oov_rate"] = self.tokenizer.oov_rate(self.val_text)
        return d


def prepare_data(
    config: RunConfig,
    data_dir: str | os.PathLike | None = None,
    tokenizer: Tokenizer | str | os.PathLike | None = None,
) -> PreparedData:
    """Load and split the corpus, then train ``config.data.tokenizer`` on the training text only.

    ``tokenizer`` may be a ready tokenizer or the path of one saved by notebook 01; its kind must match.
    """
    text = load_text(config.data.dataset, data_dir)
    train_text, val_text = split_text(text, config.data.val_fraction)
    if isinstance(tokenizer, (str, os.PathLike)):
        tokenizer = load_tokenizer(tokenizer)
    if tokenizer is None:
        tokenizer = train_tokenizer(config.data.tokenizer, train_text, config.data.vocab_size)
    elif tokenizer.kind != config.data.tokenizer:
        raise ValueError(
            f"the given tokenizer is {tokenizer.kind!r} but config.data.tokenizer is "
            f"{config.data.tokenizer!r}; make them agree."
        )
    dataset = TokenDataset.from_text(train_text, val_text, tokenizer)
    dataset.check_block_size(config.model.block_size)
    return PreparedData(train_text, val_text, tokenizer, dataset)


def with_vocab(config: RunConfig, tokenizer: Tokenizer) -> RunConfig:
    """The config with ``model.vocab_size`` taken from the tokenizer."""
    return replace(config, model=replace(config.model, vocab_size=tokenizer.vocab_size))


def default_prompt(config: RunConfig, val_text: str, tokenizer: Tokenizer | None = None) -> str:
    """'ROMEO:' for Shakespeare; otherwise the opening of the validation text.

    With ``tokenizer``, a prompt it would refuse (a word vocabulary that knows none of its words) is
    replaced by the tokenizer's most frequent word, or by the empty prompt where it knows no word at all.
    """
    prompt = "ROMEO:" if config.data.dataset == "tinyshakespeare" else val_text.lstrip()[:32] or "\n"
    if tokenizer is None:
        return prompt
    try:
        tokenizer.check_prompt(prompt)
    except TokenizerError:
        words = getattr(tokenizer, "common_words", lambda n: [])(1)
        return words[0] if words else ""
    return prompt


@torch.no_grad()
def generation_speed(
    model: torch.nn.Module, prompt_ids: list[int], new_tokens: int = 100, use_cache: bool = True
) -> float:
    """Generated tokens per second (greedy, batch 1), after one short warm-up call."""
    generate(model, prompt_ids, max_new_tokens=2, temperature=0, use_cache=use_cache)
    device = next(model.parameters()).device
    if device.type == "cuda":
        torch.cuda.synchronize()
    tic = time.perf_counter()
    generate(model, prompt_ids, max_new_tokens=new_tokens, temperature=0, use_cache=use_cache)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return new_tokens / (time.perf_counter() - tic)


def run_name(config: RunConfig) -> str:
    return f"{config.model.arch}-{config.data.tokenizer}-{config.preset}"


def finish_run(
    trainer,
    prepared: PreparedData,
    out_dir: str | os.PathLike,
    name: str | None = None,
    prompt: str | None = None,
    temperatures: tuple[float, ...] = (0.8,),
    sample_tokens: int = 200,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Final metrics, samples and timings of a trained run, written as ``out_dir/record.json``."""
    import matplotlib.pyplot as plt  # imported here so training alone never needs matplotlib

    from .plots import plot_curves

    config: RunConfig = trainer.config
    model = trainer.model
    out_dir = Path(out_dir)
    last = trainer.history[-1]
    final = {
        **summarize_loss(last["val_loss"], prepared.dataset.tokens_per_char),
        "train_loss": last["train_loss"],
        "step": last["step"],
        "tokens": last["tokens"],
    }
    prompt = default_prompt(config, prepared.val_text, prepared.tokenizer) if prompt is None else prompt
    seed = config.train.seed
    samples = [
        {
            "prompt": prompt,
            "temperature": t,
            "top_k": None,
            "seed": seed,
            "max_new_tokens": sample_tokens,
            "text": sample_text(
                model, prepared.tokenizer, prompt, max_new_tokens=sample_tokens, temperature=t, seed=seed
            ),
        }
        for t in temperatures
    ]
    prompt_ids = prepared.tokenizer.encode(prompt) or [0]
    summary = model_summary(model)
    timings = {
        "train_seconds": trainer.train_seconds,
        "wall_seconds": trainer.wall_seconds,
        "tokens_per_second": trainer.tokens_per_second,
        "model_flops_per_second": trainer.tokens_per_second * summary["flops_per_token"],
        "generation_tokens_per_second": generation_speed(
            model, prompt_ids, new_tokens=min(100, sample_tokens)
        ),
    }
    record = new_record(
        name or run_name(config),
        config.to_dict(),
        environment=environment_report(trainer.device),
        model=summary,
        tokenizer=prepared.describe(),
        history=trainer.history,
        final=final,
        samples=samples,
        timings=timings,
        checkpoint=str(trainer.last_checkpoint) if trainer.last_checkpoint else None,
        **(extra or {}),
    )
    save_record(record, out_dir)
    plt.close(plot_curves([record], out_dir / "curves.png"))
    return record


def run_experiment(
    config: RunConfig,
    out_dir: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    resume: bool = False,
    progress: bool = True,
    name: str | None = None,
    prepared: PreparedData | None = None,
    prompt: str | None = None,
) -> dict[str, Any] | None:
    """Train one model as ``config`` says and write its record, curves and checkpoint under ``out_dir``.

    With ``resume=True`` and an existing checkpoint, training continues from it (after a Colab
    disconnect, say) instead of starting over. Under ``torchrun`` every rank trains (DDP, see
    :mod:`lmhelpers.distributed`) and only rank 0 writes and returns the record; the others return None.
    """
    from .distributed import env_info
    from .training import Trainer

    out_dir = Path(out_dir)
    main_rank = env_info().is_main
    if main_rank:
        check_writable(out_dir)
    device = pick_device(config.train.device)
    prepared = prepared or prepare_data(config, data_dir)
    if prompt is not None:
        encode_prompt(prepared.tokenizer, prompt)  # refuse an unusable prompt now, not after training
    config = with_vocab(config, prepared.tokenizer)
    torch.manual_seed(config.train.seed)  # the same initial weights for the same seed
    model = build_model(config.model)
    ckpt = Path(checkpoint_path) if checkpoint_path else out_dir / "checkpoint.pt"
    if main_rank:
        check_writable(ckpt.parent)  # a checkpoint folder elsewhere must be writable too, before training
    trainer = Trainer(
        model,
        prepared.dataset,
        config,
        tokenizer=prepared.tokenizer,
        device=device,
        checkpoint_path=ckpt,
        progress=progress,
    )
    if resume and ckpt.exists():
        trainer.resume(ckpt)
    trainer.fit()
    if not main_rank:
        return None
    prepared.tokenizer.save(out_dir / "tokenizer.json")
    return finish_run(trainer, prepared, out_dir, name=name, prompt=prompt)


def check_writable(folder: Path) -> None:
    """Fail before training, not after, when results could not be written."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"  # per process: torchrun ranks check at once
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise PermissionError(
            f"cannot write results to {folder} ({exc}); choose another output directory."
        ) from exc
