"""Tiny training runs that a test can SIGKILL at chosen moments (see test_crash_resume.py).

Run as a script: ``python _killable_run.py CORPUS ROOT POINT:STEP [POINT:STEP ...]``. The script imports
torch once, then forks one process per POINT (so the test pays for one import, not one per process).
Each process trains in ``ROOT/POINT`` with a checkpoint after every step, writes its pid to ``pid``
and, at the moment named by POINT during step STEP, writes ``marker`` and sleeps, so the test can kill
it exactly there:

* ``train``: inside the training step (between two checkpoints);
* ``partial``: half-way through writing the checkpoint's temporary file;
* ``before_rename``: the temporary file complete and fsynced, not yet renamed over the checkpoint;
* ``after_rename``: renamed, before the folder's fsync;
* ``none``: no pause (but slowed down); the test kills it at whatever moment it likes.

The script waits for every process and writes how each ended to ``ROOT/POINT/status`` ("signal 9",
"exit 0"). The test builds the same run in-process with :func:`build_trainer` to resume and compare.
"""

from __future__ import annotations

import importlib
import io
import os
import sys
import time
from pathlib import Path

import torch

from lmhelpers.config import make_config
from lmhelpers.experiment import prepare_data, with_vocab
from lmhelpers.models import build_model
from lmhelpers.training import Trainer

MAX_ITERS = 8


def build_trainer(corpus: Path, checkpoint: Path, seed_init: int = 0) -> Trainer:
    cfg = make_config(
        "smoke",
        dataset=str(corpus),
        dropout=0.1,  # dropout masks come from the RNG, which the checkpoint must restore
        block_size=16,
        batch_size=4,
        max_iters=MAX_ITERS,
        eval_interval=2,
        eval_iters=2,
        checkpoint_interval=1,
        device="cpu",
    )
    prepared = prepare_data(cfg)
    cfg = with_vocab(cfg, prepared.tokenizer)
    torch.manual_seed(seed_init)
    model = build_model(cfg.model)
    return Trainer(
        model, prepared.dataset, cfg, tokenizer=prepared.tokenizer, checkpoint_path=checkpoint, progress=False
    )


def _pause(marker: Path) -> None:
    marker.write_text("ready")
    time.sleep(120)  # the test kills us long before this ends
    os._exit(3)  # never carry on from a pause point


def run(corpus: Path, folder: Path, point: str, at: int) -> None:
    """One training run that stops still at ``point`` during step ``at`` (see the module docstring)."""
    from lmhelpers import checkpoint as ckmod
    from lmhelpers import files

    (folder / "pid").write_text(str(os.getpid()))
    mark = folder / "marker"
    trainer = build_trainer(corpus, folder / "ck.pt")

    def writing() -> bool:  # the checkpoint being written is the one after step `at`
        return trainer.step == at

    if point == "train":
        real_step = trainer.train_step
        trainer.train_step = lambda: _pause(mark) if trainer.step == at - 1 else real_step()
    elif point == "partial":
        real_save = torch.save

        def half_save(obj, f, *a, **k):
            if not writing():
                return real_save(obj, f, *a, **k)
            buf = io.BytesIO()
            real_save(obj, buf, *a, **k)
            f.write(buf.getvalue()[: len(buf.getvalue()) // 2])
            f.flush()
            _pause(mark)

        ckmod.torch.save = half_save
    elif point == "before_rename":
        real_replace = ckmod.os.replace
        ckmod.os.replace = lambda src, dst: _pause(mark) if writing() else real_replace(src, dst)
    elif point == "after_rename":
        real_fsync_dir = files.fsync_dir
        files.fsync_dir = lambda d: _pause(mark) if writing() else real_fsync_dir(d)
    elif point == "none":  # slowed down, so the kill lands somewhere in the middle of the run
        real_step = trainer.train_step
        trainer.train_step = lambda: time.sleep(0.02) or real_step()
    else:
        raise SystemExit(f"unknown pause point {point!r}")
    trainer.fit()


def main(corpus: str, root: str, *scenarios: str) -> None:
    torch.set_num_threads(1)  # before any torch work (safe to fork); the test compares bit for bit
    importlib.import_module("torch._dynamo")  # optimizers import it lazily: once here, not once per fork

    children = {}
    for scenario in scenarios:
        point, step = scenario.split(":")
        folder = Path(root) / point
        folder.mkdir(parents=True, exist_ok=True)
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                run(Path(corpus), folder, point, int(step))
            except BaseException as exc:  # noqa: BLE001  (report anything, then leave without cleanup)
                (folder / "error").write_text(repr(exc))
                code = 1
            os._exit(code)
        children[pid] = folder
    for pid, folder in children.items():
        _, status = os.waitpid(pid, 0)
        ended = (
            f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}"
        )
        (folder / "status").write_text(ended)


if __name__ == "__main__":
    main(*sys.argv[1:])
