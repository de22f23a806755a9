"""Training drops CPU threads while other processes keep cores busy, and takes them back (lmhelpers.threads)."""

from __future__ import annotations

import pytest

from lmhelpers import benchload, threads


class FakeMachine:
    """Two cores, torch's thread count, a clock, and the CPU time other processes use: what adjust reads."""

    def __init__(self, monkeypatch, threads_now: int = 2):
        self.threads, self.wall, self.busy, self.own, self.snapshots = threads_now, 100.0, 0.0, 0.0, 0
        monkeypatch.setattr(threads.torch, "get_num_threads", lambda: self.threads)
        monkeypatch.setattr(threads.torch, "set_num_threads", self.set_threads)
        monkeypatch.setattr(threads.time, "perf_counter", lambda: self.wall)
        monkeypatch.setattr(threads.benchload, "snapshot", self.snapshot)
        monkeypatch.setattr(benchload.os, "cpu_count", lambda: 2)
        monkeypatch.setattr(threads, "_state", {**threads._state, "most": None, "last": None,
                                                "expected": None, "held": False, "changes": []})  # fmt: skip
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)

    def set_threads(self, n: int) -> None:
        self.threads = n

    def snapshot(self) -> benchload.CpuSnapshot:
        self.snapshots += 1
        return benchload.CpuSnapshot(self.wall, self.own, self.busy, 0.0, 2 * self.wall)

    def run(self, seconds: float, others_cores: float) -> None:
        """``seconds`` pass; this process keeps its threads' cores busy, others ``others_cores`` more."""
        self.wall += seconds
        self.own += seconds * min(self.threads, 2 - others_cores)
        self.busy += seconds * (min(self.threads, 2 - others_cores) + others_cores)


def test_a_busy_core_costs_a_thread_and_a_free_one_gives_it_back(monkeypatch):
    m = FakeMachine(monkeypatch)
    assert threads.adjust("cpu", step=0) == 2  # the first look only notes the machine
    m.run(3, others_cores=1.0)
    assert threads.adjust("cpu", step=30) == 1 and m.threads == 1
    m.run(3, others_cores=1.0)
    assert threads.adjust("cpu", step=60) == 1  # still busy: stays at one
    m.run(3, others_cores=0.0)
    assert threads.adjust("cpu", step=90) == 2 and m.threads == 2
    assert threads.changes() == [
        {"step": 30, "threads": 1, "others_cores": 1.0},
        {"step": 90, "threads": 2, "others_cores": 0.0},
    ]


def test_a_little_background_work_keeps_both_threads(monkeypatch):
    m = FakeMachine(monkeypatch)
    threads.adjust()
    m.run(3, others_cores=0.3)  # a browser tab, an editor: less than half a core
    assert threads.adjust() == 2 and threads.changes() == []


def test_no_look_before_the_interval_and_none_at_all_on_a_gpu(monkeypatch):
    m = FakeMachine(monkeypatch)
    threads.adjust()
    m.run(threads.CHECK_SECONDS / 2, others_cores=1.0)
    assert threads.adjust() == 2 and m.snapshots == 1  # too soon: not even a look
    m.run(threads.CHECK_SECONDS, others_cores=1.0)
    assert threads.adjust("cuda") == 2 and m.snapshots == 1


@pytest.mark.parametrize("how", ["environment", "hold"])
def test_a_count_someone_chose_is_kept_when_others_are_busy(monkeypatch, how):
    m = FakeMachine(monkeypatch)
    threads.adjust()
    if how == "environment":
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
    else:
        threads.hold(2)
    m.run(3, others_cores=1.0)
    assert threads.adjust() == 2 and m.threads == 2 and threads.changes() == []
    if how == "hold":
        threads.release()
        threads.adjust()
        m.run(3, others_cores=1.0)
        assert threads.adjust() == 1  # released: adjusted again


def test_a_count_set_with_torch_is_kept_on_an_idle_machine(monkeypatch):
    m = FakeMachine(monkeypatch)
    threads.adjust()
    m.set_threads(1)  # the learner's own torch.set_num_threads(1)
    m.run(3, others_cores=0.0)
    assert threads.adjust() == 1
    m.run(3, others_cores=0.0)
    assert threads.adjust() == 1 and threads.changes() == []
