"""A whole run, end to end: data, tokenizer, model, training, metrics, samples and the run record.

Notebooks call the steps one at a time to show them; the command line calls ``run_experiment``. Both
produce the same record. The tokenizer is saved (with what it was trained on) in one place,
:func:`save_tokenizer`, and reused only when that still matches; whether training resumes is decided in
:mod:`lmhelpers.resume`.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from .config import RunConfig
from .data import TokenDataset, load_text, split_text
from .device import environment_report, pick_device
from .evaluation import evaluate_model
from .generation import encode_prompt, generate, sample_text
from .language import message, tr
from .metrics import summarize_loss
from .models import build_model, model_summary
from .records import new_record, save_record
from .resume import start_or_resume
from .settings_history import settings_history
from .tokenizers import Tokenizer, TokenizerError, load_tokenizer, train_tokenizer


@dataclass
class PreparedData:
    """The corpus split, the tokenizer trained on the training part, and both parts encoded."""

    train_text: str
    val_text: str
    tokenizer: Tokenizer
    dataset: TokenDataset
    reused_from: Path | None = None  # the saved tokenizer used, when one was reused

    @property
    def tokenizer_origin(self) -> str:
        return str(self.reused_from) if self.reused_from else message("tokenizer_trained_here")

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


TOKENIZER_FILE = "tokenizer.json"
TOKENIZER_SOURCE = "tokenizer.source.json"  # what the tokenizer beside it was trained on


def tokenizer_source(config: RunConfig, train_text: str) -> dict[str, Any]:
    """Everything a trained tokenizer depends on: change any of it and the tokenizer must be trained again."""
    return {
        "kind": config.data.tokenizer,
        "vocab_size": config.data.vocab_size,
        "normalize": config.data.normalize,
        "train_text_sha256": hashlib.sha256(train_text.encode("utf-8")).hexdigest(),
    }


def save_tokenizer(
    tokenizer: Tokenizer, config: RunConfig, train_text: str, folder: str | os.PathLike
) -> Path:
    """Save ``tokenizer`` and what it was trained on (``config``'s data settings, a digest of
    ``train_text``) into ``folder``: the one place tokenizers are saved."""
    folder = Path(folder)
    path = tokenizer.save(folder / TOKENIZER_FILE)
    source = json.dumps(tokenizer_source(config, train_text), indent=2)
    (folder / TOKENIZER_SOURCE).write_text(source + "\n", encoding="utf-8")
    return path


def reusable_tokenizer(folder: str | os.PathLike, config: RunConfig, train_text: str) -> Tokenizer | None:
    """The tokenizer saved in ``folder`` if it was trained exactly as ``config`` asks on this training
    text; None otherwise (another kind, vocabulary cap, corpus or normalisation: train a new one)."""
    folder = Path(folder)
    try:
        saved = json.loads((folder / TOKENIZER_SOURCE).read_text(encoding="utf-8"))
        if saved != tokenizer_source(config, train_text):
            return None
        return load_tokenizer(folder / TOKENIZER_FILE)
    except (OSError, ValueError, TokenizerError):
        return None


def prepare_data(
    config: RunConfig,
    data_dir: str | os.PathLike | None = None,
    tokenizer: Tokenizer | str | os.PathLike | None = None,
    reuse_from: str | os.PathLike | None = None,
) -> PreparedData:
    """Load and split the corpus, then train ``config.data.tokenizer`` on the training text only.

    ``tokenizer`` may be a ready tokenizer or the path of a saved one; its kind must match. With
    ``reuse_from`` (a folder where :func:`save_tokenizer` wrote, such as notebook 01's), the tokenizer
    there is used when it was trained as ``config`` asks on this very text, and trained anew otherwise.
    """
    text = load_text(config.data.dataset, data_dir, normalize=config.data.normalize)
    train_text, val_text = split_text(text, config.data.val_fraction)
    if isinstance(tokenizer, (str, os.PathLike)):
        tokenizer = load_tokenizer(tokenizer)
    reused = None
    if tokenizer is None and reuse_from is not None:
        tokenizer = reusable_tokenizer(reuse_from, config, train_text)
        reused = Path(reuse_from) / TOKENIZER_FILE if tokenizer is not None else None
    if tokenizer is None:
        tokenizer = train_tokenizer(config.data.tokenizer, train_text, config.data.vocab_size)
    elif tokenizer.kind != config.data.tokenizer:
        raise ValueError(
            tr(
                "the given tokenizer is {kind!r} but config.data.tokenizer is {wanted!r}; make them agree.",
                kind=tokenizer.kind,
                wanted=config.data.tokenizer,
            )
        )
    dataset = TokenDataset.from_text(train_text, val_text, tokenizer)
    dataset.check_block_size(config.model.block_size)
    return PreparedData(train_text, val_text, tokenizer, dataset, reused)


def with_vocab(config: RunConfig, tokenizer: Tokenizer) -> RunConfig:
    """The config with ``model.vocab_size`` taken from the tokenizer."""
    return replace(config, model=replace(config.model, vocab_size=tokenizer.vocab_size))


def corpus_line(text: str, tokenizer: Tokenizer, max_chars: int = 60, normalize: str = "NFC") -> str:
    """A line of ``text`` to show or prompt with: the first one of some length that ``tokenizer`` can
    encode (cut at a word boundary near ``max_chars``). Defaults chosen this way work for a corpus in
    any script, where a fixed English sentence would hold characters the tokenizer never saw."""
    fallback = ""
    for line in (ln.strip() for ln in text.splitlines()):
        if not line:
            continue
        cut = line if len(line) <= max_chars else line[:max_chars].rsplit(" ", 1)[0] or line[:max_chars]
        try:
            encode_prompt(tokenizer, cut, normalize)
        except TokenizerError:
            continue
        if len(cut) >= 12:
            return cut
        fallback = fallback or cut
    return fallback or text.strip()[:max_chars]


def default_prompt(config: RunConfig, val_text: str, tokenizer: Tokenizer | None = None) -> str:
    """'ROMEO:' for Shakespeare; otherwise the opening of the validation text.

    With ``tokenizer``, a prompt it would refuse (characters it never saw, a word vocabulary that knows
    none of its words) is replaced by a line of the validation text it can encode, then by its most
    frequent word, and at last by the empty prompt.
    """
    prompt = "ROMEO:" if config.data.dataset == "tinyshakespeare" else val_text.lstrip()[:32] or "\n"
    if tokenizer is None:
        return prompt
    words = getattr(tokenizer, "common_words", lambda n: [])(1)
    for candidate in (prompt, corpus_line(val_text, tokenizer, 32, config.data.normalize), *words):
        try:
            encode_prompt(tokenizer, candidate, config.data.normalize)
        except TokenizerError:
            continue
        return candidate
    return ""


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
                model,
                prepared.tokenizer,
                prompt,
                max_new_tokens=sample_tokens,
                normalize=config.data.normalize,
                temperature=t,
                seed=seed,
            ),
        }
        for t in temperatures
    ]
    prompt_ids = prepared.tokenizer.encode(prompt) or [0]
    summary = model_summary(model)
    evaluation = evaluate_model(model, prepared.dataset)  # the whole validation text, every token once
    timings = {
        "train_seconds": trainer.train_seconds,
        "wall_seconds": trainer.wall_seconds,
        # the CPU threads training dropped while other processes were busy, and restored (lmhelpers.threads)
        "thread_changes": trainer.thread_changes,
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
        evaluation=evaluation,
        samples=samples,
        timings=timings,
        settings_history=settings_history(trainer),  # which training settings held over which steps
        checkpoint=str(trainer.last_checkpoint) if trainer.last_checkpoint else None,
        **(extra or {}),
    )
    save_tokenizer(prepared.tokenizer, config, prepared.train_text, out_dir)
    record["path"] = str(save_record(record, out_dir))  # as load_record gives it
    plt.close(plot_curves([record], out_dir / "curves.png"))
    return record


def run_experiment(
    config: RunConfig,
    out_dir: str | os.PathLike,
    data_dir: str | os.PathLike | None = None,
    checkpoint_path: str | os.PathLike | None = None,
    resume: bool | str = "auto",
    progress: bool = True,
    name: str | None = None,
    prepared: PreparedData | None = None,
    prompt: str | None = None,
    log: Any = print,
) -> dict[str, Any] | None:
    """Train one model as ``config`` says and write its record, curves, tokenizer and checkpoint under
    ``out_dir``.

    ``resume`` follows :mod:`lmhelpers.resume`: by default a compatible checkpoint is continued (after a
    Colab disconnect, say), none means step 0, and a different run already there stops this one. Under
    ``torchrun`` every rank trains (DDP, see :mod:`lmhelpers.distributed`) and only rank 0 writes and
    returns the record; the others return None.
    """
    from contextlib import nullcontext

    from .distributed import env_info
    from .runlock import holding
    from .training import Trainer

    out_dir = Path(out_dir)
    main_rank = env_info().is_main
    ckpt = Path(checkpoint_path) if checkpoint_path else out_dir / "checkpoint.pt"
    if main_rank:  # fail before training, not after, when results could not be written
        check_writable(out_dir)
        check_writable(ckpt.parent)
    # One writer per folder (lmhelpers.runlock): a second run into these stops here, before any work.
    with holding(out_dir, ckpt.parent, log=log) if main_rank else nullcontext():
        device = pick_device(config.train.device)
        prepared = prepared or prepare_data(config, data_dir)
        if prompt is not None:
            # refuse an unusable prompt now, not after training
            encode_prompt(prepared.tokenizer, prompt, config.data.normalize)
        config = with_vocab(config, prepared.tokenizer)
        torch.manual_seed(config.train.seed)  # the same initial weights for the same seed
        model = build_model(config.model)
        trainer = Trainer(
            model,
            prepared.dataset,
            config,
            tokenizer=prepared.tokenizer,
            device=device,
            checkpoint_path=ckpt,
            progress=progress,
        )
        started = start_or_resume(trainer, out_dir, resume)
        if main_rank and log:
            log(started)
        trainer.fit()
        if not main_rank:
            return None
        return finish_run(trainer, prepared, out_dir, name=name, prompt=prompt)


def load_or_train(
    out_dir: str | os.PathLike,
    config: RunConfig,
    checkpoint_path: str | os.PathLike | None = None,
    resume: bool | str = "auto",
    prepared: PreparedData | None = None,
) -> dict[str, Any]:
    """The run record in ``out_dir`` when it is of this very config; otherwise train it there.

    A record of different settings is not used in place of this one (its figures would be
    another run's): training then goes through :func:`run_experiment`, whose resume rule refuses to
    overwrite it and says how to keep both.
    """
    from .checkpoint import config_differences
    from .records import RecordError, load_record

    out_dir = Path(out_dir)
    try:
        record = load_record(out_dir)
    except RecordError:
        print(tr("{name}: no record yet, training {arch} now", name=out_dir.name, arch=config.model.arch))
    else:
        differences = config_differences(RunConfig.from_dict(record["config"]), config, "record")
        if not differences:
            print(tr("{name}: using the record at {path}", name=out_dir.name, path=record["path"]))
            return record
        shown = "; ".join(differences)
        print(
            tr(
                "{name}: the record there is of other settings ({differences})",
                name=out_dir.name,
                differences=shown,
            )
        )
    prepared = prepared or prepare_data(config)
    return run_experiment(config, out_dir, checkpoint_path=checkpoint_path, resume=resume, prepared=prepared)


def check_writable(folder: Path) -> None:
    """Fail before training, not after, when results could not be written. Folders this check had to
    make are removed again, so a run that fails later leaves no empty folders behind."""
    folder = Path(folder)
    made = [p for p in (folder, *folder.parents) if not p.exists()]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test-{os.getpid()}"  # per process: torchrun ranks check at once
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise PermissionError(
            tr(
                "cannot write results to {folder} ({problem}); choose another output directory.",
                folder=folder,
                problem=exc,
            )
        ) from exc
    finally:
        for p in made:  # deepest first
            try:
                p.rmdir()
            except OSError:
                pass
