"""``python -m lmhelpers ARGS``, held still inside one training step until a test lets it go.

Run as ``python _paused_train.py STATE_DIR STEP ARGS...``: the command line ``ARGS`` runs exactly as
``python -m lmhelpers ARGS`` would, except that during training step STEP the process writes
``STATE_DIR/paused`` (its pid) and waits until ``STATE_DIR/go`` exists. A test can then do what it wants
to a run known to be in progress: start a second run into its folder, send it SIGINT, or SIGKILL it.
Used by tests/test_runs_cannot_collide.py.
"""

from __future__ import annotations

import os
import runpy
import sys
import time
from pathlib import Path

from lmhelpers.training import Trainer


def main(state_dir: str, step: str, *argv: str) -> None:
    state, at = Path(state_dir), int(step)
    real_step = Trainer.train_step

    def held_step(self: Trainer):
        if self.step == at - 1:  # the step that will end at `at`
            (state / "paused").write_text(str(os.getpid()))
            deadline = time.monotonic() + 120  # never outlive a test that forgot us
            while not (state / "go").exists() and time.monotonic() < deadline:
                time.sleep(0.01)
        return real_step(self)

    Trainer.train_step = held_step  # type: ignore[method-assign]
    sys.argv = ["python -m lmhelpers", *argv]
    runpy.run_module("lmhelpers", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
