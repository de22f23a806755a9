"""SIGKILL a real training process at chosen moments, then resume from what it left behind.

Each process (forked by tests/_killable_run.py) trains with a checkpoint after every step and stops still at
one moment (inside a training step, half-way through writing the checkpoint's temporary file, after the
temporary file is complete but before the rename, after the rename), where it is killed with SIGKILL. One
more is killed at whatever moment the first checkpoint appears. The latest complete checkpoint must load,
and resuming from it must end with exactly the weights and history of an uninterrupted run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from _killable_run import MAX_ITERS, build_trainer
from _same_run import assert_same_run

from lmhelpers.checkpoint import load_checkpoint

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

CHILD = Path(__file__).with_name("_killable_run.py")
# point -> (the step during which the child stops, the step of the checkpoint that must survive)
POINTS = {
    "train": (3, 2),
    "partial": (5, 4),
    "before_rename": (6, 5),
    "after_rename": (4, 4),
}
CORPUS = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
    "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. resolved.\n\n"
) * 30


@pytest.fixture(scope="module")
def single_thread():
    """The child runs single-threaded; so must our runs, for bit-identical float results."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _wait_for(path: Path, launcher: subprocess.Popen, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline or (launcher.poll() is not None and not path.exists()):
            launcher.kill()
            pytest.fail(f"no {path} (launcher exit {launcher.poll()}):\n{log.read_text()}")
        time.sleep(0.005)


@pytest.fixture(scope="module")
def killed(tmp_path_factory) -> dict[str, Path]:
    """Start every run (forked from one launcher), kill each at its moment; returns point -> folder."""
    root = tmp_path_factory.mktemp("killed")
    corpus = root / "corpus.txt"
    corpus.write_text(CORPUS, encoding="utf-8")
    # "none" first: it is killed the moment its first checkpoint appears, before it can finish.
    scenarios = ["none:0"] + [f"{point}:{step}" for point, (step, _) in POINTS.items()]
    log = root / "launcher.log"
    with open(log, "wb") as out:
        launcher = subprocess.Popen(
            [sys.executable, str(CHILD), str(corpus), str(root), *scenarios],
            env={**os.environ, "OMP_NUM_THREADS": "1"},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    folders = {s.split(":")[0]: root / s.split(":")[0] for s in scenarios}
    try:
        for point, folder in folders.items():
            # "none": killed the moment its first checkpoint exists, wherever the process happens to be.
            _wait_for(folder / ("ck.pt" if point == "none" else "marker"), launcher, log)
            _wait_for(folder / "pid", launcher, log)
            os.kill(int((folder / "pid").read_text()), signal.SIGKILL)
        launcher.wait(timeout=60)
    finally:
        if launcher.poll() is None:  # the test failed half-way: leave no paused process behind
            for folder in folders.values():
                if (folder / "pid").exists() and not (folder / "status").exists():
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int((folder / "pid").read_text()), signal.SIGKILL)
            launcher.kill()
            launcher.wait()
    for point, folder in folders.items():
        status = (folder / "status").read_text()
        # "none" may have finished before the kill arrived; every other run must have died by SIGKILL.
        assert status == f"signal {signal.SIGKILL}" or (point == "none" and status == "exit 0"), (
            point,
            status,
            log.read_text(),
        )
    return folders


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, killed, single_thread) -> tuple[dict, list]:
    corpus = next(iter(killed.values())).parent / "corpus.txt"
    trainer = build_trainer(corpus, tmp_path_factory.mktemp("full") / "ck.pt")
    trainer.fit()
    return trainer.model.state_dict(), trainer.history


@pytest.mark.parametrize("point", [*POINTS, "none"])
def test_resume_after_sigkill_matches_an_uninterrupted_run(point, killed, uninterrupted, single_thread):
    folder = killed[point]
    ckpt = folder / "ck.pt"
    state = load_checkpoint(ckpt)  # the latest complete checkpoint is readable
    temps = sorted(folder.glob(".ck.pt.*.tmp"))
    if point in POINTS:
        assert state["step"] == POINTS[point][1]
        if point in ("partial", "before_rename"):  # killed while the new checkpoint was being written
            assert len(temps) == 1
        if point == "before_rename":  # the new file was complete: only the rename had not happened
            assert load_checkpoint(temps[0])["step"] == POINTS[point][0]
    else:
        assert 1 <= state["step"] <= MAX_ITERS

    # The killed writer's temporary file, once it is old enough to be nobody's, goes at the next save.
    long_ago = time.time() - 3600
    for temp in temps:
        os.utime(temp, (long_ago, long_ago))

    # A fresh process would start from other random weights: use other ones to prove everything is loaded.
    trainer = build_trainer(folder.parent / "corpus.txt", ckpt, seed_init=99)
    assert trainer.resume() == state["step"]
    trainer.fit()
    weights, history = uninterrupted
    assert trainer.step == MAX_ITERS
    assert_same_run(weights, history, trainer)
    assert not list(folder.glob(".ck.pt.*.tmp"))
