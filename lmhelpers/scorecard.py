"""Score a saved run on its whole validation text: ``python -m lmhelpers evaluate PATH``.

PATH is a checkpoint, or a run folder (or its ``record.json``) that names one. The model, its tokenizer
and its data settings come from the checkpoint, so the validation text is the very one it was trained
beside; :func:`lmhelpers.evaluation.evaluate_model` does the scoring.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .checkpoint import CheckpointError, load_trained
from .evaluation import describe_method, evaluate_model
from .language import tr
from .records import RECORD_NAME, RecordError, load_record


def find_checkpoint(path: str | os.PathLike) -> Path:
    """The checkpoint ``path`` means: the file itself, ``checkpoint.pt`` in a run folder, or the one a
    run record names. A clear error when there is none."""
    path = Path(path)
    if path.is_file() and path.suffix != ".json":
        return path
    if path.is_dir() and (path / "checkpoint.pt").is_file():
        return path / "checkpoint.pt"
    if path.is_file() or (path / RECORD_NAME).is_file():
        try:
            named = load_record(path).get("checkpoint")
        except RecordError as exc:
            raise CheckpointError(str(exc)) from None
        if named and Path(named).is_file():
            return Path(named)
        raise CheckpointError(
            tr("the record at {path} names no checkpoint that exists ({named}).", path=path, named=named)
        )
    raise CheckpointError(
        tr(
            "no checkpoint at {path}: give a checkpoint file, or a run folder holding checkpoint.pt or a "
            "record.json that names one.",
            path=path,
        )
    )


def score_checkpoint(
    path: str | os.PathLike, data_dir: str | os.PathLike | None = None, device: Any = None
) -> dict[str, Any]:
    """The whole-text figures of a saved run (``evaluate_model``'s dict) plus what was scored."""
    from .experiment import prepare_data

    ckpt = find_checkpoint(path)
    trained = load_trained(ckpt, device=device)
    prepared = prepare_data(trained.config, data_dir, tokenizer=trained.tokenizer)
    out = evaluate_model(trained.model, prepared.dataset)
    out.update(
        checkpoint=str(ckpt),
        arch=trained.config.model.arch,
        preset=trained.config.preset,
        val_tokens=len(prepared.dataset.val),
        val_chars=prepared.dataset.val_chars,
    )
    return out


def _line(title: str, s: dict[str, Any]) -> str:
    bpc = ""
    if s.get("bits_per_char"):
        bpc = tr("  bits/char {bpc:.4f} ± {stderr:.4f}", bpc=s["bits_per_char"], stderr=s["bpc_stderr"])
    figures = tr(
        "loss {loss:.4f} ± {stderr:.4f}  perplexity {perplexity:.3f}{bpc}  ({tokens:,} tokens, {seconds:.1f} s)",
        loss=s["loss"],
        stderr=s["stderr"],
        perplexity=s["perplexity"],
        bpc=bpc,
        tokens=s["tokens"],
        seconds=s["seconds"],
    )
    return f"  {title:<34} {figures}"


def scorecard_text(result: dict[str, Any]) -> str:
    """The figures as a few lines of text (what ``evaluate`` prints)."""
    lines = [
        f"{result['arch']} ({result['preset']}), {result['checkpoint']}",
        tr(
            "validation text: {tokens:,} tokens, {chars:,} characters; ± is one standard error over 50 parts of "
            "the text",
            tokens=result["val_tokens"],
            chars=result["val_chars"],
        ),
        _line(describe_method(result["whole_text"]), result["whole_text"]),
        _line(describe_method(result["reset"]), result["reset"]),
    ]
    ctx = result["by_context"]["loss"]
    marks = sorted({1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, len(ctx)} & set(range(1, len(ctx) + 1)))
    lines.append(tr("  loss by context: {losses}", losses=", ".join(f"{n}: {ctx[n - 1]:.3f}" for n in marks)))
    return "\n".join(lines)


def write_json(result: dict[str, Any], path: str | os.PathLike) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return path
