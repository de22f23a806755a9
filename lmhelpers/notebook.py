"""What exists because a notebook runs: its parameters, its folders (Google Drive on Colab) and its display.

The notebooks stay thin: each cell calls one function of the package, which is tested once here or in
the module that owns the work (training, reports, plots), instead of living untested in six notebooks.

* Parameters: :func:`notebook_config` validates a parameters cell through ``make_config`` and names the
  offending parameter; a parameter left at None means the preset's value.
* Folders: :func:`prepare_run` resolves ``run_dir`` and ``checkpoint_dir`` (mounting Google Drive on
  Colab) before any training starts.
* Display: rendered Markdown, saved figures, and the package's real source (never a copy).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import PRESETS, Allowed, ConfigError, RunConfig, make_config, preset_names
from .device import on_colab
from .language import LANGUAGES, N_, current_language, message, set_language, tr
from .repository import BRANCH, REPOSITORY, colab_badge, colab_url, install_spec  # noqa: F401
from .resume import RESUME_CHOICES, describe_resume, resume_mode

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
def notebook_config(preset: str, settings: Mapping[str, Any] | None = None, **parameters: Any) -> RunConfig:
    """The run config a parameters cell asks for: ``preset`` with the parameters that are not None.

    ``settings`` holds any further setting by its flat name (``{"n_layer": 2}``), as ``--set`` does on
    the command line. A parameter left at None keeps the preset's value. An invalid value raises a
    ParameterError naming the parameter, so a wrong ``-p max_iters ten`` stops the notebook in its
    first cells rather than half-way through training.
    """
    if not isinstance(preset, str) or preset not in PRESETS:
        raise invalid("preset", preset, Allowed(N_("choose one of {choices}"), choices=preset_names()))
    if settings is None:
        settings = {}
    if not isinstance(settings, Mapping) or not all(isinstance(k, str) for k in settings):
        hint = message("settings_hint") if isinstance(settings, str) else ""
        raise ParameterError(message("settings_not_dict", value=settings, hint=hint), "settings", settings)
    given = {k: v for k, v in parameters.items() if v is not None}
    both = sorted(set(given) & set(settings))
    if both:
        raise ParameterError(message("given_twice", names=both))
    overrides = {**settings, **given}
    try:
        return make_config(preset, **overrides)
    except ConfigError as exc:
        raise _as_parameter_error(exc, overrides) from None


def _as_parameter_error(exc: ConfigError, overrides: Mapping[str, Any]) -> ParameterError:
    """A ConfigError about a field restated in terms of the parameter (or setting) that set it."""
    if exc.field in overrides and exc.allowed:
        return invalid(exc.field, overrides[exc.field], exc.allowed)
    if exc.field is not None and exc.allowed and exc.value is not None:
        # a preset's value broken by another parameter, e.g. its n_embd not divisible by a new n_head
        return ParameterError(message("do_not_fit", names=sorted(overrides), detail=exc), exc.field)
    return ParameterError(message("unknown", detail=exc), exc.field)


# The sentence the Korean notebooks show by default (01's tokenizer comparison, 03's attention map).
KOREAN_SAMPLE_SENTENCE = "사느냐 죽느냐, 그것이 문제로다."


def invalid(name: str, value: Any, allowed: str) -> ParameterError:
    """ "parameter NAME=VALUE is invalid: ALLOWED", in the learner's language. ``allowed`` is an
    :class:`~lmhelpers.config.Allowed`, or an English phrase marked for the catalog with ``N_``."""
    said = allowed.said() if isinstance(allowed, Allowed) else tr(allowed)
    return ParameterError(message("invalid", name=name, value=value, allowed=said), name, value, allowed)


def use_language(language: str) -> str:
    """The ``language`` parameter: what the package writes for the learner from now on (readings,
    tables, figure labels, these messages) is in it; Korean also picks a font that draws Hangul."""
    if language not in LANGUAGES:
        raise invalid("language", language, Allowed(N_("choose one of {choices}"), choices=list(LANGUAGES)))
    if language == "ko":  # the notebook's own figures (plt with translated labels) draw Hangul too
        from .plots import use_hangul_font

        use_hangul_font()
    return set_language(language)


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> None:
    """Refuse a parameter outside ``choices`` (e.g. arch='transformer' in the RNN notebook)."""
    if value not in choices:
        raise ParameterError(
            message("invalid_here", name=name, value=value, choices=list(choices)), name, value
        )


def text_parameter(name: str, value: str | None, tokenizer: Any, corpus_text: str) -> str:
    """A text parameter (a prompt, an attention sentence) that the tokenizer can read.

    None takes a line of ``corpus_text`` (so the default suits a corpus in any script); a given text
    that the tokenizer cannot encode stops the notebook here, before any training, naming the parameter.
    """
    from .experiment import corpus_line
    from .generation import encode_prompt

    if value is None:
        if current_language() == "ko":  # the Korean edition shows a Korean sentence where it can
            try:
                encode_prompt(tokenizer, KOREAN_SAMPLE_SENTENCE)
                return KOREAN_SAMPLE_SENTENCE
            except ValueError:
                print(message("sample_unreadable", name=name))
        return corpus_line(corpus_text, tokenizer)
    try:
        encode_prompt(tokenizer, value)
    except ValueError as exc:  # TokenizerError is a ValueError, and so is a value that is not text
        raise ParameterError(
            message("not_encodable", name=name, value=value, detail=str(exc).rstrip(".")), name, value
        ) from None
    return value


# ----------------------------------------------------------------------------------------- folders
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
        raise invalid(name, path, N_("a folder path such as 'runs/notebooks'"))
    p = Path(path).expanduser()
    return p if p.is_absolute() else (repo_root() or Path.cwd()) / p


def mount_drive_if_needed(path: str | os.PathLike, name: str = "checkpoint_dir") -> bool:
    """Mount Google Drive when ``path`` lies on it; True if the path is on Drive.

    Checkpoints on Drive outlive a Colab disconnect, which is what makes resuming useful there.
    """
    if not str(path).startswith(DRIVE_ROOT):
        return False
    if not on_colab():
        raise ParameterError(message("drive_off_colab", name=name, value=str(path)), name, str(path))
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
    resume: bool | str = "auto"

    def file(self, name: str) -> Path:
        """``out_dir/name``, with ``out_dir`` made now: folders appear when something goes into them."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        return self.out_dir / name

    def describe(self) -> str:
        resume = describe_resume(self.checkpoint_path, self.resume)
        return message("run_where", out=self.out_dir, ckpt=self.checkpoint_path, resume=resume)


def prepare_run(
    name: str,
    run_dir: str | os.PathLike,
    checkpoint_dir: str | os.PathLike | None = None,
    resume: bool | str = "auto",
) -> NotebookRun:
    """Validate the folder parameters and check they are writable, failing before any training.

    Results go to ``run_dir/name``; the checkpoint to ``checkpoint_dir/name/checkpoint.pt``, or beside
    the results when ``checkpoint_dir`` is None. ``resume`` is one of ``RESUME_CHOICES`` (see
    :mod:`lmhelpers.resume`). The folders themselves are made when something is written into them.
    """
    from .experiment import check_writable

    try:
        resume_mode(resume)
    except ValueError:
        raise invalid(
            "resume", resume, Allowed(N_("choose one of {choices}"), choices=RESUME_CHOICES)
        ) from None
    if checkpoint_dir is not None and not isinstance(checkpoint_dir, (str, os.PathLike)):
        folder = N_("None or a folder path, e.g. '{drive}/MyDrive/lmhelpers' on Colab")
        raise invalid("checkpoint_dir", checkpoint_dir, Allowed(folder, drive=DRIVE_ROOT))
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
            tr("no image at {path}: run the cell that writes it (finish_run, plot_...) first", path=path)
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
    head = message("source_from", name=f"{obj.__module__}.{obj.__qualname__}", where=where, line=line)
    return f"{head}\n\n```python\n{src}```"


def show_source(obj: Any) -> Any:
    """Display the real source of ``obj`` (read from the installed package, never a copy)."""
    return markdown(source_markdown(obj))


def solution(name: str) -> Any:
    """The reference solution of exercise ``name`` (from :mod:`lmhelpers.solutions`), folded: the reader
    sees a "Solution" line and opens it on purpose, even after *Run all*."""
    from . import solutions

    if not hasattr(solutions, name):
        raise ParameterError(tr("no solution named {name!r}; see lmhelpers/solutions.py", name=name))
    inner = source_markdown(getattr(solutions, name))
    return markdown(f"<details><summary>{message('solution', name=name)}</summary>\n\n{inner}\n</details>")
