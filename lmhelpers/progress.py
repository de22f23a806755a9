"""Training progress for whoever is watching: a live bar, and one line per evaluation.

In a terminal the bar is tqdm's text bar. In a notebook it is a widget, and a widget's saved copy is the
picture taken when it was first drawn, so a notebook executed by papermill or nbmake would keep a bar
frozen at 0% (papermill issues #617 and #765). :class:`NotebookBar` therefore re-sends its display when
it closes: the executed notebook keeps the bar's final state. The evaluation lines are plain text
(``step 200/2,000 | train loss ... | ~1 min left``), readable in an executed notebook, and
``lmhelpers.batch`` echoes exactly these lines to the terminal during ``make run``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import Any

from tqdm import tqdm as text_tqdm

from .language import message, tr

# The evaluation line, as eval_line writes it; batch.py echoes the lines that match to the terminal.
EVAL_LINE = re.compile(r"^(step|스텝)\s+[\d,]+(/[\d,]+)? \| ")


def in_notebook() -> bool:
    """True inside a Jupyter kernel (Jupyter, Colab, papermill, nbmake), where widgets can be shown."""
    shell = sys.modules.get("IPython") and getattr(sys.modules["IPython"], "get_ipython", lambda: None)()
    return type(shell).__name__ == "ZMQInteractiveShell"


def _notebook_bar_class():
    try:
        from IPython.display import display
        from tqdm.notebook import tqdm as notebook_tqdm

        notebook_tqdm.status_printer(None, 1)  # raises ImportError without ipywidgets
    except ImportError:
        return None

    class NotebookBar(notebook_tqdm):
        """tqdm's widget bar, displayed with a display id and re-sent on close, so that the saved
        notebook shows the final count instead of the first frame."""

        def __init__(self, *args: Any, **kwargs: Any):
            super().__init__(*args, display=False, **kwargs)
            self._handle = display(self.container, display_id=True) if not self.disable else None
            self.displayed = True

        def close(self) -> None:
            super().close()
            if self._handle is not None:
                self._handle.update(self.container)  # text/plain now holds the final state
                self._handle = None

    return NotebookBar


def progress_bar(total: int, initial: int = 0, desc: str = "", enabled: bool = True):
    """A tqdm bar: the widget in a notebook (see :class:`NotebookBar`), text in a terminal."""
    cls = _notebook_bar_class() if enabled and in_notebook() else None
    return (cls or text_tqdm)(
        total=total,
        initial=initial,
        desc=desc,
        unit=tr("step"),  # "12.3 step/s"
        disable=not enabled,
        mininterval=2.0,  # few redraws: an executed notebook or a log stays small
        dynamic_ncols=True,
    )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return message("seconds", n=seconds)
    if seconds < 5400:
        return message("minutes", n=seconds / 60)
    return message("hours", n=seconds / 3600)


def eval_line(row: dict[str, float], total: int | None = None) -> str:
    """One evaluation as a line: step (of ``total``), losses, training time so far and, given ``total``,
    the training time left at the pace so far (evaluation pauses not counted)."""
    step = int(row["step"])
    of = f"{step:,}/{total:,}" if total else f"{step:,}"
    line = message(
        "eval_line", step=of, train=row["train_loss"], val=row["val_loss"], seconds=row["train_time"]
    )
    if total and 0 < step < total and row["train_time"] > 0:
        line += message("time_left", left=_duration(row["train_time"] / step * (total - step)))
    return line


def eval_printer(
    total: int | None = None, print_fn: Callable[[str], None] = print
) -> Callable[[dict[str, float]], None]:
    """A ``Trainer.fit`` callback printing :func:`eval_line` for each evaluation (flushed at once, so
    ``make run`` can show it live)."""

    def show(row: dict[str, float]) -> None:
        print_fn(eval_line(row, total))
        sys.stdout.flush()

    return show
