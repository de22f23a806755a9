"""What the notebook series needs beyond the training API: parameters, folders, display and a written reading.

The notebooks stay thin: each cell calls one of these or a core lmhelpers function, so the logic is
tested here once instead of living untested in five notebooks.

* Where the notebooks live: ``REPOSITORY`` and ``BRANCH`` are the one place the repository address is
  written; Colab badges and the install cell are built from (and tested against) them.
* Parameters: :func:`notebook_config` validates a parameters cell through ``make_config`` and names the
  offending parameter; :func:`prepare_run` resolves the output and checkpoint folders (Google Drive on
  Colab included) before any training starts.
* Display: real source code, tables, samples, and the tokenizer comparison of notebook 01.
* Comparison: loading trained models back from checkpoints, loss by context position on shared
  validation batches, and :func:`describe_comparison`, which writes the reading of notebook 04 from the
  numbers of the run instead of fixed text.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import PRESETS, ConfigError, RunConfig, make_config
from .device import on_colab
from .repository import BRANCH, REPOSITORY, colab_badge, colab_url, install_spec  # noqa: F401

NOTEBOOKS = (
    "00_setup_gpu_check.ipynb",
    "01_tokenizer.ipynb",
    "02_rnn.ipynb",
    "03_transformer.ipynb",
    "04_comparison.ipynb",
)
SWEEP_NOTEBOOKS = ("05_sweeps.ipynb",)  # not part of the series: it runs the series many times
ALL_NOTEBOOKS = NOTEBOOKS + SWEEP_NOTEBOOKS
DRIVE_ROOT = "/content/drive"
TOKENIZER_RUN = "01_tokenizer"  # notebook 01 saves the chosen tokenizer in run_dir/01_tokenizer/


class ParameterError(ConfigError):
    """A notebook parameter is wrong; the message names the parameter and what it accepts."""


# -------------------------------------------------------------------------------------- parameters
_FIELD_ERROR = re.compile(r"^(?:data|model|train)\.(\w+)=")


def notebook_config(preset: str, settings: Mapping[str, Any] | None = None, **parameters: Any) -> RunConfig:
    """The run config a parameters cell asks for: ``preset`` with the parameters that are not None.

    ``settings`` holds any further config fields (``{"n_layer": 2}``). An invalid value raises a
    ParameterError naming the parameter, so a wrong ``-p max_iters ten`` stops the notebook in its
    first cells rather than half-way through training.
    """
    if not isinstance(preset, str) or preset not in PRESETS:
        raise ParameterError(f"parameter preset={preset!r} is invalid: choose one of {list(PRESETS)}")
    if settings is None:
        settings = {}
    if not isinstance(settings, Mapping) or not all(isinstance(k, str) for k in settings):
        raise ParameterError(
            f"parameter settings={settings!r} is invalid: a dict of setting names to values, e.g. "
            "{'n_layer': 2, 'learning_rate': 1e-3}"
        )
    given = {k: v for k, v in parameters.items() if v is not None}
    both = sorted(set(given) & set(settings))
    if both:
        raise ParameterError(f"{both} given both as parameters and in settings; give each once")
    overrides = {**settings, **given}
    if "vocab_size" in overrides:  # the flat name would reach model.vocab_size, which the tokenizer sets
        overrides["data.vocab_size"] = overrides.pop("vocab_size")
    try:
        return make_config(preset, **overrides)
    except ConfigError as exc:
        raise ParameterError(_name_parameter(str(exc), overrides)) from None


def _name_parameter(message: str, overrides: Mapping[str, Any]) -> str:
    """Rewrite a ConfigError about ``train.max_iters`` as one about the parameter ``max_iters``."""
    m = _FIELD_ERROR.match(message)
    given = [k for k in overrides if m and k.split(".")[-1] == m.group(1)]
    if given:
        name = given[0].split(".")[-1]
        reason = message.split(" is invalid: ", 1)[-1]
        return f"parameter {name}={overrides[given[0]]!r} is invalid: {reason}"
    if m:  # a preset value broke because of another parameter, e.g. n_embd not divisible by n_head
        return f"the parameters {sorted(overrides)} do not fit together: {message}"
    return f"invalid parameter: {message}"


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> None:
    """Refuse a parameter outside ``choices`` (e.g. arch='transformer' in the RNN notebook)."""
    if value not in choices:
        raise ParameterError(f"parameter {name}={value!r} is invalid here: choose one of {list(choices)}")


def repo_root(start: str | os.PathLike | None = None) -> Path | None:
    """The checkout this code runs in (a folder with lmhelpers/ and notebooks/), searching upward."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "lmhelpers" / "__init__.py").is_file() and (folder / "notebooks").is_dir():
            return folder
    return None


def resolve_dir(path: str | os.PathLike, name: str = "run_dir") -> Path:
    """An absolute folder: relative paths count from the repository root inside a checkout (so a
    notebook run from notebooks/ and a command run from the root write to the same place), else the cwd."""
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise ParameterError(f"parameter {name}={path!r} is invalid: a folder path such as 'runs/notebooks'")
    p = Path(path).expanduser()
    return p if p.is_absolute() else (repo_root() or Path.cwd()) / p


def mount_drive_if_needed(path: str | os.PathLike, name: str = "checkpoint_dir") -> bool:
    """Mount Google Drive when ``path`` lies on it; True if the path is on Drive.

    Checkpoints on Drive outlive a Colab disconnect, which is what makes ``resume=True`` useful there.
    """
    if not str(path).startswith(DRIVE_ROOT):
        return False
    if not on_colab():
        raise ParameterError(
            f"parameter {name}={str(path)!r} is a Google Drive folder, which exists only on Colab; "
            "use a local folder here (or None)"
        )
    if not (Path(DRIVE_ROOT) / "MyDrive").is_dir():
        from google.colab import drive  # type: ignore[import-not-found]

        drive.mount(DRIVE_ROOT)
    return True


@dataclass
class NotebookRun:
    """Where one notebook writes: ``root`` is run_dir, ``out_dir`` its own folder inside it."""

    name: str
    root: Path
    out_dir: Path
    checkpoint_path: Path
    resume: bool = False

    def describe(self) -> str:
        lines = [f"results:    {self.out_dir}", f"checkpoint: {self.checkpoint_path}"]
        if self.resume:
            state = "found" if self.checkpoint_path.is_file() else "not found yet, starting from step 0"
            lines.append(f"resume:     yes (checkpoint {state})")
        return "\n".join(lines)


def prepare_run(
    name: str,
    run_dir: str | os.PathLike,
    checkpoint_dir: str | os.PathLike | None = None,
    resume: bool = False,
) -> NotebookRun:
    """Validate the folder parameters and create the folders, failing before any training if unwritable.

    Results go to ``run_dir/name``; the checkpoint to ``checkpoint_dir/name/checkpoint.pt``, or beside
    the results when ``checkpoint_dir`` is None.
    """
    from .experiment import check_writable

    if not isinstance(resume, bool):
        raise ParameterError(f"parameter resume={resume!r} is invalid: True or False")
    if checkpoint_dir is not None and not isinstance(checkpoint_dir, (str, os.PathLike)):
        raise ParameterError(
            f"parameter checkpoint_dir={checkpoint_dir!r} is invalid: None or a folder path, e.g. "
            f"'{DRIVE_ROOT}/MyDrive/lmhelpers' on Colab"
        )
    root = resolve_dir(run_dir, "run_dir")
    mount_drive_if_needed(root, "run_dir")
    out_dir = root / name
    check_writable(out_dir)
    ckpt_dir = out_dir
    if checkpoint_dir is not None:
        mount_drive_if_needed(checkpoint_dir)
        ckpt_dir = resolve_dir(checkpoint_dir, "checkpoint_dir") / name
        check_writable(ckpt_dir)
    return NotebookRun(name, root, out_dir, ckpt_dir / "checkpoint.pt", resume)


def saved_tokenizer(root: str | os.PathLike, kind: str) -> Path | None:
    """The tokenizer notebook 01 saved under ``root``, if it is of ``kind``; else None (train a new one)."""
    path = Path(root) / TOKENIZER_RUN / "tokenizer.json"
    try:
        saved = json.loads(path.read_text(encoding="utf-8")).get("kind")
    except (OSError, ValueError, AttributeError):
        return None
    return path if saved == kind else None


def resume_if_asked(trainer: Any, run: NotebookRun) -> str:
    """Continue ``trainer`` from the run's checkpoint when resume was asked for and one exists."""
    if not run.resume:
        return "training from step 0 (set resume=True to continue from a checkpoint)"
    if not run.checkpoint_path.is_file():
        return f"resume=True but there is no checkpoint at {run.checkpoint_path} yet: training from step 0"
    step = trainer.resume(run.checkpoint_path)
    return f"resumed from {run.checkpoint_path} at step {step}"


def eval_printer(print_fn: Callable[[str], None] = print) -> Callable[[dict[str, float]], None]:
    """A ``Trainer.fit`` callback: one line per evaluation, readable in live and in executed notebooks."""

    def show(row: dict[str, float]) -> None:
        print_fn(
            f"step {row['step']:>6,} | train loss {row['train_loss']:.3f} | val loss {row['val_loss']:.3f}"
            f" | {row['train_time']:.0f} s training"
        )

    return show


# ----------------------------------------------------------------------------------------- display
def markdown(text: str) -> Any:
    """Rendered Markdown in Jupyter/Colab; the plain text elsewhere."""
    try:
        from IPython.display import Markdown
    except ImportError:  # pragma: no cover - IPython comes with every kernel
        return text
    return Markdown(text)


def show_image(path: str | os.PathLike) -> Any:
    """Display a saved figure (e.g. the ``curves.png`` that ``finish_run`` wrote) without drawing it
    again; its path elsewhere."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"no image at {path}: run the cell that writes it (finish_run, plot_...) first"
        )
    try:
        from IPython.display import Image
    except ImportError:  # pragma: no cover - IPython comes with every kernel
        return str(path)
    return Image(filename=str(path))


def source_markdown(obj: Any) -> str:
    """The source of a class or function as it is installed, in a fenced code block with its location."""
    src = inspect.getsource(obj)
    file = Path(inspect.getsourcefile(obj) or "?")
    line = inspect.getsourcelines(obj)[1]
    where = f"lmhelpers/{file.name}" if file.parent.name == "lmhelpers" else str(file)
    return f"`{obj.__module__}.{obj.__qualname__}`, from `{where}` line {line}:\n\n```python\n{src}```"


def show_source(obj: Any) -> Any:
    """Display the real source of ``obj`` (read from the installed package, never a copy)."""
    return markdown(source_markdown(obj))


def key_value_table(values: Mapping[str, Any]) -> str:
    """A two-column Markdown table of a flat dict."""
    rows = [f"| {k} | {v} |" for k, v in values.items()]
    return "\n".join(["| | |", "|---|---|", *rows])


def config_markdown(config: RunConfig) -> str:
    """The settings that shape a run, as a two-column table."""
    m, t = config.model, config.train
    shown = {
        "preset": config.preset,
        "model": m.arch,
        "layers x width": f"{m.n_layer} x {m.n_embd}" + (f", {m.n_head} heads" if not m.is_rnn else ""),
        "context (block_size)": m.block_size,
        "dropout": m.dropout,
        "tokenizer": config.data.tokenizer
        + (
            f" (vocabulary cap {config.data.vocab_size:,})"
            if config.data.tokenizer in ("word", "bpe")
            else ""
        ),
        "steps x batch": f"{t.max_iters:,} x {t.batch_size}",
        "learning rate": f"{t.learning_rate:g} (warmup {t.warmup_iters}, cosine to {t.final_lr:g})",
        "evaluate every": f"{t.eval_interval} steps on {t.eval_iters} batches",
        "device, seed": f"{t.device}, {t.seed}",
    }
    return key_value_table(shown)


def presets_markdown() -> str:
    """The presets side by side, for notebook 00's recommendation."""
    lines = ["| preset | tokenizer | layers x width | context | steps x batch |", "|---|---|---|---|---|"]
    for name in PRESETS:
        c = make_config(name)
        lines.append(
            f"| `{name}` | {c.data.tokenizer} | {c.model.n_layer} x {c.model.n_embd} | {c.model.block_size} "
            f"| {c.train.max_iters:,} x {c.train.batch_size} |"
        )
    return "\n".join(lines)


def samples_markdown(record: Mapping[str, Any]) -> str:
    """The samples of a run record, one fenced block per sampling setting."""
    parts = []
    for s in record.get("samples", []):
        top_k = f", top_k {s['top_k']}" if s.get("top_k") else ""
        parts.append(
            f"**temperature {s['temperature']}**{top_k} (prompt {s['prompt']!r}, seed {s['seed']})\n\n"
            f"```\n{s['text']}\n```"
        )
    return "\n\n".join(parts)


def causality_check(model: Any, length: int | None = None, seed: int = 0) -> float:
    """Largest change of the outputs at positions 0..t-1 when the tokens from position t on change.

    A next-token model must give exactly 0 (up to float rounding): its prediction for position i may
    depend on tokens 0..i only. A bidirectional model, or attention without a causal mask, would not.
    """
    import torch

    cfg = model.config
    length = length or min(cfg.block_size, 32)
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    a = torch.randint(cfg.vocab_size, (1, length), generator=g)
    b = a.clone()
    cut = length // 2
    b[:, cut:] = torch.randint(cfg.vocab_size, (1, length - cut), generator=g)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            la, _ = model(a.to(device))
            lb, _ = model(b.to(device))
    finally:
        model.train(was_training)
    return (la[:, :cut] - lb[:, :cut]).abs().max().item()


# ------------------------------------------------------------------------------ tokenizers (01)
def train_tokenizers(
    train_text: str, vocab_size: int, kinds: Sequence[str] = ("word", "char", "bpe", "gpt2")
) -> dict[str, Any]:
    """One tokenizer of each kind trained on ``train_text``; GPT-2's is skipped, with a message, when
    its files cannot be had (offline without a tiktoken cache)."""
    from .tokenizers import TokenizerUnavailable, train_tokenizer

    out = {}
    for kind in kinds:
        try:
            out[kind] = train_tokenizer(kind, train_text, vocab_size)
        except TokenizerUnavailable as exc:
            print(f"skipping {kind}: {exc}")
    return out


def _oov_rate(tokenizer: Any, text: str) -> float:
    if hasattr(tokenizer, "oov_rate"):  # word: unknown words become <unk>
        return tokenizer.oov_rate(text)
    if tokenizer.kind == "char":  # characters never seen in training cannot be encoded at all
        known = set(tokenizer.chars)
        return sum(c not in known for c in text) / len(text)
    return 0.0  # byte-level BPE: every string is some sequence of bytes


def _encode_seconds(tokenizer: Any, text: str, repeats: int = 3) -> float:
    best = math.inf
    for _ in range(repeats):
        tic = time.perf_counter()
        tokenizer.encode(text)
        best = min(best, time.perf_counter() - tic)
    return best


def compare_tokenizers(tokenizers: Mapping[str, Any], text: str) -> list[dict[str, Any]]:
    """Vocabulary size, tokens per character, OOV rate, exact round trip and encoding speed on ``text``."""
    from .tokenizers import TokenizerError

    rows = []
    for name, tok in tokenizers.items():
        row: dict[str, Any] = {"name": name, "vocab_size": tok.vocab_size, "oov_rate": _oov_rate(tok, text)}
        try:
            ids = tok.encode(text)
        except TokenizerError:  # a char vocabulary missing some of the text's characters
            row.update(tokens_per_char=None, round_trip=False, chars_per_second=None)
        else:
            row.update(
                tokens_per_char=len(ids) / len(text),
                round_trip=tok.decode(ids) == text,
                chars_per_second=len(text) / max(_encode_seconds(tok, text), 1e-9),
            )
        rows.append(row)
    return rows


TOKENIZER_COLUMNS = [
    ("tokenizer", "name"),
    ("vocabulary", "vocab_size"),
    ("tokens/char", "tokens_per_char"),
    ("OOV rate", "oov_rate"),
    ("decode(encode(x)) == x", "round_trip"),
    ("encode chars/s", "chars_per_second"),
]


def tokenizer_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """``compare_tokenizers`` rows as a Markdown table (round trip as yes/no, OOV as a percentage)."""
    from .plots import markdown_table

    shown = [
        {**r, "round_trip": "yes" if r["round_trip"] else "no", "oov_rate": f"{r['oov_rate']:.2%}"}
        for r in rows
    ]
    return markdown_table(shown, TOKENIZER_COLUMNS)


def token_pieces(tokenizer: Any, text: str) -> list[str] | str:
    """How ``tokenizer`` splits ``text``, one string per token, or why it cannot encode it."""
    from .tokenizers import TokenizerError

    try:
        return tokenizer.token_strings(tokenizer.encode(text))
    except TokenizerError as exc:
        return f"cannot encode: {exc}"


def tokenization_markdown(tokenizers: Mapping[str, Any], text: str) -> str:
    """What each tokenizer makes of ``text``: the token count and the pieces, separated by │."""
    parts = [f"Text: `{text}`"]
    for name, tok in tokenizers.items():
        pieces = token_pieces(tok, text)
        if isinstance(pieces, str):
            parts.append(f"**{name}**: {pieces}")
        else:
            shown = "│".join(p.replace("\n", "\\n") for p in pieces)
            parts.append(f"**{name}** ({len(pieces)} tokens):\n\n```\n{shown}\n```")
    return "\n\n".join(parts)


def plot_tokenizers(rows: Sequence[Mapping[str, Any]], path: str | os.PathLike | None = None):
    """Bars of tokens per character, vocabulary size and encoding speed, one bar per tokenizer."""
    import matplotlib.pyplot as plt

    panels = [
        ("tokens_per_char", "tokens per character (lower: shorter sequences)", False),
        ("vocab_size", "vocabulary size (log scale)", True),
        ("chars_per_second", "encoding speed (characters/s)", False),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(13, 3.6))
    names = [r["name"] for r in rows]
    for ax, (key, title, log) in zip(axes, panels):
        values = [r.get(key) or 0 for r in rows]
        ax.bar(names, values, color=[f"C{i}" for i in range(len(rows))])
        ax.set_title(title, fontsize=10)
        if log:
            ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=110)
    return fig


# ------------------------------------------------------------------------------ attention (03)
def plot_sentence_attention(
    model: Any,
    tokenizer: Any,
    sentence: str,
    layer: int = -1,
    head: int = 0,
    path: str | os.PathLike | None = None,
):
    """The attention map of one layer and head for a real sentence (cropped to the context window)."""
    import torch

    from .plots import plot_attention

    ids = tokenizer.encode(sentence)[: model.config.block_size]
    if not ids:
        raise ValueError("the sentence encodes to no tokens; choose a longer one")
    device = next(model.parameters()).device
    maps = model.attention_maps(torch.tensor(ids, device=device))  # [n_layer, n_head, T, T]
    n_layer, n_head = maps.shape[:2]
    layer_no = range(n_layer)[layer]  # also checks the index
    title = f"layer {layer_no + 1} of {n_layer}, head {range(n_head)[head] + 1} of {n_head}"
    return plot_attention(maps[layer, head].float().cpu(), tokenizer.token_strings(ids), title, path)


# ----------------------------------------------------------------------------- comparison (04)
@dataclass
class TrainedModel:
    """A model rebuilt from its checkpoint, with the tokenizer and config it was trained with."""

    name: str
    model: Any
    tokenizer: Any
    config: RunConfig


def load_trained(checkpoint: str | os.PathLike, name: str | None = None, device: Any = None) -> TrainedModel:
    """Rebuild a trained model from an lmhelpers checkpoint, in eval mode on ``device`` (a torch.device,
    or a name such as "auto")."""
    from .checkpoint import load_checkpoint
    from .device import pick_device
    from .models import build_model
    from .tokenizers import tokenizer_from_dict

    device = pick_device(device or "auto") if device is None or isinstance(device, str) else device
    state = load_checkpoint(checkpoint, map_location=device)
    config = RunConfig.from_dict(state["config"])
    model = build_model(config.model)
    model.load_state_dict(state["model"])
    model.to(device).eval()
    tokenizer = tokenizer_from_dict(state["tokenizer"])
    return TrainedModel(name or config.model.arch, model, tokenizer, config)


def prompt_samples(
    models: Sequence[TrainedModel], prompt: str, max_new_tokens: int = 300, **sampling: Any
) -> str:
    """Markdown of one sample per model from the same prompt, seed and sampling settings (``generate``'s
    temperature, top_k, top_p, seed)."""
    from .generation import sample_text

    settings = ", ".join(f"{k} {v}" for k, v in sampling.items())
    parts = []
    for m in models:
        text = sample_text(m.model, m.tokenizer, prompt, max_new_tokens=max_new_tokens, **sampling)
        parts.append(f"**{m.name}** ({settings})\n\n```\n{text}\n```")
    return "\n\n".join(parts)


def load_or_train(run: NotebookRun, config: RunConfig, tokenizer: Any = None) -> dict[str, Any]:
    """The run record in ``run.out_dir`` if there is one; otherwise train it there (resuming if asked)."""
    from .experiment import prepare_data, run_experiment
    from .records import RecordError, load_record

    try:
        record = load_record(run.out_dir)
        print(f"{run.name}: using the record at {record['path']}")
        return record
    except RecordError:
        print(f"{run.name}: no record yet, training {config.model.arch} now")
    prepared = prepare_data(config, tokenizer=tokenizer)
    return run_experiment(
        config,
        run.out_dir,
        checkpoint_path=run.checkpoint_path,
        resume=run.resume,
        prepared=prepared,
    )


def position_losses(
    models: Sequence[TrainedModel], data_dir: str | os.PathLike | None = None
) -> dict[str, list[float]]:
    """Validation loss by context position for each model.

    Models with the same tokenizer are scored on the very same validation batches: the fixed
    evaluation batches of the first such model's training run (``Trainer.eval_batches``).
    """
    from .experiment import prepare_data
    from .metrics import loss_by_position
    from .training import Trainer

    batches_for: dict[str, list] = {}
    curves = {}
    for m in models:
        key = json.dumps(m.tokenizer.to_dict(), sort_keys=True) + f"/{m.config.model.block_size}"
        if key not in batches_for:
            prepared = prepare_data(m.config, data_dir, tokenizer=m.tokenizer)
            device = next(m.model.parameters()).device
            trainer = Trainer(m.model, prepared.dataset, m.config, device=device, progress=False)
            batches_for[key] = trainer.eval_batches("val")
        curves[m.name] = loss_by_position(m.model, batches_for[key])
    return curves


def _bpc_at_time(record: Mapping[str, Any], t: float) -> float | None:
    """Validation bits per character at training time ``t``, interpolated along the history."""
    tpc = record.get("tokenizer", {}).get("tokens_per_char")
    points = [
        (h["train_time"], h["val_loss"]) for h in record.get("history", []) if h.get("val_loss") is not None
    ]
    if not tpc or not points:
        return None
    for (t0, l0), (t1, l1) in zip(points, points[1:]):
        if t0 <= t <= t1:
            loss = l0 if t1 == t0 else l0 + (l1 - l0) * (t - t0) / (t1 - t0)
            return loss * tpc / math.log(2)
    return points[-1][1] * tpc / math.log(2) if t >= points[-1][0] else None


def _separation(a: Sequence[float], b: Sequence[float], threshold: float) -> int | None:
    """The first index from which |a - b| stays above ``threshold`` with one sign to the end, else None."""
    n = min(len(a), len(b))
    start = None
    for i in range(n - 1, -1, -1):
        d = a[i] - b[i]
        if abs(d) <= threshold or (start is not None and (d > 0) != (a[start] - b[start] > 0)):
            break
        start = i
    return start


def describe_comparison(
    records: Sequence[Mapping[str, Any]],
    position_curves: Mapping[str, Sequence[float]] | None = None,
    threshold: float = 0.05,
) -> list[str]:
    """Sentences that read the comparison of two or more runs from their records' numbers.

    Covers bits per character (the fair measure across tokenizers), per-token loss and perplexity when
    the tokenizers agree, training throughput and the loss reached at equal training time, size,
    generation speed, the train/validation gap, and, given ``position_curves`` (name -> loss by
    position), where the curves separate. Nothing is fixed text: every claim is computed here.
    """
    from .plots import comparison_rows

    if len(records) < 2:
        raise ValueError("describe_comparison needs at least two run records")
    rows = comparison_rows(records)
    by_name = {r["name"]: (r, rec) for r, rec in zip(rows, records)}
    out: list[str] = []

    steps = {r["name"]: rec["final"].get("step") for r, rec in zip(rows, records)}
    if len(set(steps.values())) > 1:
        out.append(
            "The runs trained for different numbers of steps ("
            + ", ".join(f"{n}: {s}" for n, s in steps.items())
            + "), so part of any difference below is training length, not architecture."
        )

    scored = sorted((r for r in rows if r["bits_per_char"] is not None), key=lambda r: r["bits_per_char"])
    if len(scored) >= 2:
        best = scored[0]
        for other in scored[1:]:
            gap = other["bits_per_char"] - best["bits_per_char"]
            if gap < 0.005:
                out.append(
                    f"{best['name']} and {other['name']} end level on the validation text: "
                    f"{best['bits_per_char']:.3f} and {other['bits_per_char']:.3f} bits per character."
                )
            else:
                out.append(
                    f"{best['name']} reaches {best['bits_per_char']:.3f} bits per character on the validation "
                    f"text and {other['name']} {other['bits_per_char']:.3f}: {best['name']} needs "
                    f"{gap:.3f} fewer bits per character ({gap / other['bits_per_char']:.1%} less)."
                )

    tokenizers = {r["tokenizer"] for r in rows}
    if len(tokenizers) == 1 and all(r["loss"] is not None for r in rows):
        losses = ", ".join(
            f"{r['name']} {r['loss']:.3f} nats (perplexity {r['perplexity']:.2f})" for r in rows
        )
        out.append(
            f"{'Both' if len(rows) == 2 else 'All'} read the text through the same {tokenizers.pop()} "
            "tokenizer, so the per-token figures "
            f"compare directly as well: {losses}."
        )
    elif len(tokenizers) > 1:
        out.append(
            f"The runs use different tokenizers ({', '.join(sorted(tokenizers))}), so loss and perplexity "
            "are per different units; compare them by bits per character only."
        )

    speed = sorted((r for r in rows if r["tokens_per_second"]), key=lambda r: -r["tokens_per_second"])
    if len(speed) >= 2:
        fast, slow = speed[0], speed[-1]
        device = by_name[fast["name"]][1].get("environment", {}).get("device", "this device")
        out.append(
            f"{fast['name']} trains on {fast['tokens_per_second']:,.0f} tokens per second and {slow['name']} on "
            f"{slow['tokens_per_second']:,.0f} ({fast['tokens_per_second'] / slow['tokens_per_second']:.1f}x "
            f"on {device})."
        )

    ends = {
        r["name"]: rec["history"][-1]["train_time"] for r, rec in zip(rows, records) if rec.get("history")
    }
    if len(ends) >= 2:
        first_done = min(ends, key=ends.get)
        t = ends[first_done]
        if t > 0 and max(ends.values()) > 1.05 * t:
            at_t = {n: _bpc_at_time(by_name[n][1], t) for n in ends}
            if all(v is not None for v in at_t.values()):
                ranked = sorted(at_t.items(), key=lambda kv: kv[1])
                out.append(
                    f"At equal training time, {t:.3g} s (when {first_done} finished), the validation text "
                    "costs " + ", ".join(f"{n} {v:.3f}" for n, v in ranked) + " bits per character: "
                    f"{ranked[0][0]} gets more out of each second of training."
                )

    sized = [r for r in rows if r["params"]]
    if len(sized) >= 2:
        big, small = max(sized, key=lambda r: r["params"]), min(sized, key=lambda r: r["params"])
        if big is not small:
            out.append(
                f"{big['name']} has {big['params']:,} parameters, {big['params'] / small['params']:.1f}x "
                f"the {small['params']:,} of {small['name']}."
            )

    gen = sorted(
        (r for r in rows if r["generation_tokens_per_second"]),
        key=lambda r: -r["generation_tokens_per_second"],
    )
    if len(gen) >= 2:
        out.append(
            "Generating one sequence token by token, "
            + " and ".join(
                f"{r['name']} produces {r['generation_tokens_per_second']:,.0f} tokens/s" for r in gen
            )
            + "."
        )

    for rec in records:
        sentence = _fit_sentence(rec)
        if sentence:
            out.append(sentence)

    if position_curves and len(position_curves) >= 2:
        out.extend(_describe_positions(position_curves, threshold))
    return out


def _fit_sentence(record: Mapping[str, Any], gap: float = 0.1) -> str | None:
    """Overfitting is validation loss rising from its best; a train/validation gap alone is not proof
    (the validation text is a later part of the corpus, so some gap is expected)."""
    history = [h for h in record.get("history", []) if h.get("val_loss") is not None]
    if not history:
        return None
    name, last = record["name"], history[-1]
    best = min(history, key=lambda h: h["val_loss"])
    if best is not last and last["val_loss"] - best["val_loss"] > 0.01:
        return (
            f"{name} is overfitting: its validation loss rose from {best['val_loss']:.3f} at step "
            f"{best['step']:,} to {last['val_loss']:.3f}; fewer steps or more dropout would help."
        )
    if last["val_loss"] - last["train_loss"] > gap:
        return (
            f"{name} ends {last['val_loss'] - last['train_loss']:.2f} nats lower on training text than on "
            "validation text, but its validation loss was still falling at the last evaluation: a "
            "generalisation gap, not yet overfitting."
        )
    return None


def _describe_positions(curves: Mapping[str, Sequence[float]], threshold: float) -> list[str]:
    (na, a), (nb, b) = list(curves.items())[:2]
    n = min(len(a), len(b))
    if n == 0:
        return []
    tail = max(1, n // 4)
    out = []
    for name, c in ((na, a), (nb, b)):
        late = sum(c[n - tail : n]) / tail
        gain = c[0] - late
        effect = f"{gain:.3f} nats lower" if gain > 0 else f"{-gain:.3f} nats higher"
        out.append(
            f"With one token of context {name} scores {c[0]:.3f} nats; over the last quarter of the "
            f"{n}-token window {late:.3f}, {effect} thanks to the longer context."
        )
    start = _separation(a, b, threshold)
    if start is None:
        gap = max(abs(a[i] - b[i]) for i in range(n))
        out.append(
            f"The loss-by-position curves of {na} and {nb} never part for good: at the end of the window "
            f"they differ by {abs(a[n - 1] - b[n - 1]):.3f} nats (at most {gap:.3f} anywhere)."
        )
    else:
        lower, higher = (na, nb) if a[start] < b[start] else (nb, na)
        where = "from the very first position" if start == 0 else f"from position {start + 1} of {n} on"
        out.append(
            f"The loss-by-position curves separate {where}: {lower} stays more than {threshold} nats below "
            f"{higher} to the end of the window (by {abs(a[n - 1] - b[n - 1]):.3f} nats at position {n})."
        )
    return out
