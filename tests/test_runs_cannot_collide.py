"""One writer per run folder, and Ctrl-C as a normal way to stop (issue 20).

The runs in progress are real ``python -m lmhelpers train`` processes, held still inside a training step
by tests/_paused_train.py until the test lets them go, so that what happens to them does not depend on
timing: a second run into their folder, SIGINT, SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from _same_run import assert_same_run

from lmhelpers import runlock
from lmhelpers.checkpoint import load_checkpoint
from lmhelpers.cli import main
from lmhelpers.config import make_config
from lmhelpers.experiment import prepare_data, with_vocab
from lmhelpers.interrupt import TrainingInterrupted
from lmhelpers.models import build_model
from lmhelpers.records import load_record
from lmhelpers.resume import start_or_resume
from lmhelpers.runlock import FolderInUse, holding

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")

PAUSED = Path(__file__).with_name("_paused_train.py")


def _argv(corpus: Path, out: Path, *settings: str) -> list[str]:
    argv = ["train", "--preset", "smoke", "--arch", "gru", "--out", str(out), "--no-progress"]
    for s in (f"dataset={corpus}", *settings):
        argv += ["--set", s]
    return argv


@contextlib.contextmanager
def paused_run(state: Path, step: int, argv: list[str]):
    """A ``python -m lmhelpers`` process held still during training step ``step``; yields it once it is."""
    state.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, str(PAUSED), str(state), str(step), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        # Ctrl-C as in a terminal, even where the tests themselves run as a background job (which ignores it)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        while not (state / "paused").exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                out, err = proc.communicate(timeout=5) if proc.poll() is not None else ("", "")
                pytest.fail(f"the run never reached step {step} (exit {proc.poll()}):\n{out}\n{err}")
            time.sleep(0.02)
        yield proc
    finally:
        (state / "go").touch()
        if proc.poll() is None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=120)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _finish(proc: subprocess.Popen, state: Path) -> tuple[int, str, str]:
    (state / "go").touch()
    out, err = proc.communicate(timeout=120)
    return proc.returncode, out, err


# -- one writer per folder ----------------------------------------------------------------------------
def test_a_second_run_into_a_folder_in_use_stops_at_once_and_the_first_finishes_intact(
    small_corpus, tmp_path, capsys
):
    out = tmp_path / "X"
    first = _argv(small_corpus, out, "max_iters=6", "eval_interval=3")
    with paused_run(tmp_path / "state", 2, first) as proc:
        tic = time.perf_counter()
        assert main(_argv(small_corpus, out, "max_iters=6", "eval_interval=3", "n_layer=2")) == 2
        assert time.perf_counter() - tic < 30  # stopped at once, before training
        err = capsys.readouterr().err
        assert f"{out / 'gru'} is being written by another run: process {proc.pid}" in err
        assert "python -m lmhelpers train --preset smoke --arch gru" in err  # its command, as typed
        assert "another run_dir, or --out" in err  # the ways out
        assert socket.gethostname() in err
        rc, stdout, stderr = _finish(proc, tmp_path / "state")
    assert rc == 0, stderr
    record = load_record(out / "gru")
    assert record["config"]["model"]["n_layer"] == 1 and record["final"]["step"] == 6
    assert load_checkpoint(out / "gru" / "checkpoint.pt")["step"] == 6
    assert not (out / "gru" / runlock.LOCK_FILE).exists()  # let go when the run ended


def test_a_lock_left_by_a_killed_run_does_not_block_the_next(small_corpus, tmp_path, capsys):
    out = tmp_path / "X"
    argv = _argv(small_corpus, out, "max_iters=4", "eval_interval=2")
    with paused_run(tmp_path / "state", 1, argv) as proc:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    lock = out / "gru" / runlock.LOCK_FILE
    assert runlock.read_holder(lock.parent)["pid"] == proc.pid  # left behind by the killed run
    assert main(argv) == 0
    assert f"was left by process {proc.pid}" in capsys.readouterr().out  # taken over, with a note
    assert load_record(out / "gru")["final"]["step"] == 4
    assert not lock.exists()


def _hold_elsewhere(folder: Path, seconds: float = 60) -> subprocess.Popen:
    """Another process holding ``folder`` (runlock only: no torch, quick to start)."""
    code = (
        "import sys, time\nfrom lmhelpers.runlock import holding\n"
        "with holding(sys.argv[1], log=None):\n    print('held', flush=True)\n    time.sleep(float(sys.argv[2]))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(folder), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout.readline().strip() == "held"
    return proc


def test_a_folder_is_taken_again_by_its_own_process_and_let_go_when_done(tmp_path):
    folder = tmp_path / "a" / "b"
    with holding(folder, log=None):
        with holding(folder, log=None):  # a notebook cell run twice: counted, not refused
            runlock.hold_until_exit(folder, log=None)  # no-op: the with block lets it go
        assert runlock.holds(folder)
        holder = runlock.read_holder(folder)
        assert holder["pid"] == os.getpid() and holder["host"] == socket.gethostname()
        assert holder["since"] and holder["command"]
    assert not runlock.holds(folder)
    assert not (tmp_path / "a").exists()  # the folders made for the lock are removed again


def test_a_live_holder_is_named_and_a_dead_one_taken_over(tmp_path):
    folder = tmp_path / "run"
    proc = _hold_elsewhere(folder)
    try:
        with pytest.raises(FolderInUse, match=rf"process {proc.pid} on {socket.gethostname()}"):
            with holding(folder, log=None):
                pass
    finally:
        proc.kill()
        proc.wait()
    notes = []
    with holding(folder, log=notes.append):  # its process is gone: the lock file is stale
        assert runlock.read_holder(folder)["pid"] == os.getpid()
    assert notes and f"left by process {proc.pid}" in notes[0]


def test_a_lock_from_another_machine_counts_until_its_heartbeat_stops(tmp_path):
    folder = tmp_path / "run"
    folder.mkdir()
    lock = folder / runlock.LOCK_FILE
    lock.write_text('{"pid": 4242, "host": "colab-vm-1", "since": "then", "command": "ipykernel"}')
    with pytest.raises(FolderInUse, match="another machine: process 4242 on colab-vm-1"):
        with holding(folder, log=None):
            pass
    long_ago = time.time() - runlock.STALE_AFTER_SECONDS - 5
    os.utime(lock, (long_ago, long_ago))
    notes = []
    with holding(folder, log=notes.append):
        pass
    assert "left by process 4242" in notes[0]


def test_a_series_or_sweep_into_a_folder_in_use_stops_before_any_notebook(tmp_path, capsys):
    from lmhelpers.sweep import run_sweep

    out = tmp_path / "series"
    other = _hold_elsewhere(out)
    try:
        assert (
            main(["series", "--preset", "smoke", "--out", str(out), "--notebook", "01_tokenizer.ipynb"]) == 2
        )
        assert f"process {other.pid}" in capsys.readouterr().err
        with pytest.raises(FolderInUse, match=f"process {other.pid}"):
            run_sweep(Path(__file__).parents[1] / "sweeps" / "smoke.yaml", out)
    finally:
        other.kill()
        other.wait()
    assert sorted(p.name for p in out.iterdir()) == [runlock.LOCK_FILE]  # nothing ran


def test_notebooks_hold_their_folders_from_start_or_resume_until_the_kernel_ends(small_corpus, tmp_path):
    cfg = make_config("smoke", dataset=str(small_corpus), device="cpu")
    prepared = prepare_data(cfg)
    cfg = with_vocab(cfg, prepared.tokenizer)
    out, ckpt_dir = tmp_path / "02_rnn", tmp_path / "drive" / "02_rnn"
    trainer = _trainer_for(cfg, prepared, ckpt_dir / "checkpoint.pt")
    start_or_resume(trainer, out)
    try:
        assert runlock.holds(out) and runlock.holds(ckpt_dir)
        for folder in (out, ckpt_dir):  # another kernel, or a papermill run, is refused
            code = "import sys\nfrom lmhelpers.runlock import holding\nwith holding(sys.argv[1]): pass"
            other = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True)
            assert other.returncode == 1 and "is being written by another run" in other.stderr
    finally:
        runlock.let_go(out, ckpt_dir)  # what the kernel's exit does
    assert not runlock.holds(out) and not (out / runlock.LOCK_FILE).exists()


def _trainer_for(cfg, prepared, ckpt, init_seed: int = 0):
    from lmhelpers.training import Trainer

    torch.manual_seed(init_seed)  # a fresh process would start from other weights: resume must load them
    model = build_model(cfg.model)
    return Trainer(model, prepared.dataset, cfg, prepared.tokenizer, checkpoint_path=ckpt, progress=False)


# -- Ctrl-C -------------------------------------------------------------------------------------------
def test_ctrl_c_during_train_saves_the_step_reached_and_the_same_command_continues(small_corpus, tmp_path):
    out = tmp_path / "X"
    argv = _argv(small_corpus, out, "max_iters=12", "eval_interval=4")  # checkpoints at 4, 8, 12
    with paused_run(tmp_path / "state", 6, argv) as proc:
        proc.send_signal(signal.SIGINT)  # during step 6
        rc, stdout, stderr = _finish(proc, tmp_path / "state")
    ckpt = out / "gru" / "checkpoint.pt"
    assert rc == 130, stderr
    assert "Traceback" not in stderr
    assert f"Stopped at step 6 of 12 (Ctrl-C). The checkpoint {ckpt} holds that step" in stderr
    assert "the same command continues from it" in stderr
    assert load_checkpoint(ckpt)["step"] == 6  # past the last evaluation (4): those steps are kept
    assert not (out / "gru" / "record.json").exists()

    resumed = subprocess.run(
        [sys.executable, "-m", "lmhelpers", *argv], capture_output=True, text=True, timeout=300
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "resumed from" in resumed.stdout and "at step 6 of 12" in resumed.stdout
    record = load_record(out / "gru")
    assert [h["step"] for h in record["history"]] == [0, 4, 8, 12]


@pytest.fixture()
def trainer_factory(small_corpus, tmp_path):
    """Trainers of one small gru run, in folders of their own; Ctrl-C raises KeyboardInterrupt meanwhile
    (as in a terminal, even where the tests run as a background job, which ignores it)."""
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield _trainers(small_corpus, tmp_path)
    signal.signal(signal.SIGINT, before)


def _trainers(small_corpus, tmp_path):
    cfg = make_config(
        "smoke",
        dataset=str(small_corpus),
        arch="gru",
        max_iters=10,
        eval_interval=4,
        dropout=0.1,
        device="cpu",
    )
    prepared = prepare_data(cfg)
    cfg = with_vocab(cfg, prepared.tokenizer)

    def make(folder: str, init_seed: int = 0):
        return _trainer_for(cfg, prepared, tmp_path / folder / "ck.pt", init_seed)

    return make


def _ctrl_c_at(trainer, step: int, times: int = 1) -> None:
    """Send this process SIGINT ``times`` times while ``trainer`` runs training step ``step``."""
    real = trainer.train_step

    def step_with_ctrl_c():
        if trainer.step == step - 1:
            for _ in range(times):
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.01)  # let the handler run between the two
        return real()

    trainer.train_step = step_with_ctrl_c


def test_resuming_after_ctrl_c_ends_where_an_uninterrupted_run_ends(trainer_factory):
    full = trainer_factory("full")
    full.fit()
    part = trainer_factory("part")
    _ctrl_c_at(part, 6)
    with pytest.raises(TrainingInterrupted) as stopped:
        part.fit()
    assert (stopped.value.step, stopped.value.checkpoint) == (6, part.checkpoint_path)
    assert isinstance(stopped.value, KeyboardInterrupt)  # what a notebook's Interrupt raises
    assert "run the same cells (or the same command) again to continue" in str(stopped.value)
    assert str(part.checkpoint_path) in str(stopped.value)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C as before, after fit

    again = trainer_factory("part", init_seed=99)
    assert again.resume() == 6
    again.fit()
    assert_same_run(full.model.state_dict(), full.history, again)


def test_a_second_ctrl_c_during_the_save_waits_for_it(trainer_factory, monkeypatch):
    import lmhelpers.training as training

    trainer = trainer_factory("run")
    _ctrl_c_at(trainer, 6)
    real_save = training.save_checkpoint

    def save_while_ctrl_c(path, state):
        if state["step"] == 6:  # the second Ctrl-C, while the checkpoint of step 6 is being written
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
        return real_save(path, state)

    monkeypatch.setattr(training, "save_checkpoint", save_while_ctrl_c)
    with pytest.raises(TrainingInterrupted):
        trainer.fit()
    assert load_checkpoint(trainer.checkpoint_path)["step"] == 6  # complete and readable


def test_a_second_ctrl_c_between_saves_stops_at_once_keeping_the_last_checkpoint(trainer_factory):
    trainer = trainer_factory("run")
    _ctrl_c_at(trainer, 6, times=2)
    with pytest.raises(KeyboardInterrupt) as stopped:
        trainer.fit()
    assert not isinstance(stopped.value, TrainingInterrupted)
    assert load_checkpoint(trainer.checkpoint_path)["step"] == 4
