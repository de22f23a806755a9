"""Ctrl-C as a normal way to stop training: the step in progress ends, a checkpoint is saved at the step
reached, and the exception says where it is and that the same command (or the notebook's cells, run again)
continues from it.

While ``Trainer.fit`` runs in the main thread of a single process, the first Ctrl-C (SIGINT; a notebook's
*Interrupt* sends one) only asks the loop to stop after the current step, so that the checkpoint holds
weights, optimizer, random state and step that belong together: resuming from it ends where an
uninterrupted run would. A second Ctrl-C stops at once (the last complete checkpoint stays), except while
a checkpoint is being written: that write finishes first. Under ``torchrun``, where every rank must stop at
the same step, Ctrl-C keeps its usual meaning.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .language import message


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C at ``step``; ``checkpoint`` holds that step (None: no checkpoint path)."""

    def __init__(self, step: int, total: int, checkpoint: Path | None):
        self.step, self.total, self.checkpoint = step, total, checkpoint
        if checkpoint is None:
            text = message("interrupted_no_checkpoint", step=step, total=total)
        else:
            text = message("interrupted_saved", step=step, total=total, ckpt=checkpoint)
        super().__init__(text)


class StopRequests:
    """The Ctrl-C handler of one ``fit``, as a ``with`` block: ``requested`` turns True at the first Ctrl-C.

    ``enabled=False`` (distributed training), or a thread other than the main one, leaves Ctrl-C as it is.
    """

    def __init__(self, enabled: bool = True):
        self.enabled = enabled and threading.current_thread() is threading.main_thread()
        self.requested = False
        self._saving = False
        self._previous: Any = None

    def __enter__(self) -> StopRequests:
        if self.enabled and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            self.enabled = False  # started with Ctrl-C ignored (a background job): leave it so
        if self.enabled:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:  # None: a handler installed outside Python, which cannot be put back; the default
            signal.signal(
                signal.SIGINT, signal.default_int_handler if self._previous is None else self._previous
            )

    def _handle(self, signum: int, frame: Any) -> None:
        if not self.requested:
            self.requested = True
            print("\n" + message("stopping_after_step"), file=sys.stderr, flush=True)
        elif not self._saving:
            raise KeyboardInterrupt

    @contextmanager
    def saving(self) -> Iterator[None]:
        """A checkpoint is being written: Ctrl-C waits until it is complete."""
        self._saving = True
        try:
            yield
        finally:
            self._saving = False
