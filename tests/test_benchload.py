"""What else the machine was doing (lmhelpers/benchload.py): the CPU counters psutil gives on Linux (with
steal and guest time) and on macOS (no steal), the cores others used and the share stolen between two
snapshots, the load average, the warnings and the thread count chosen from them. psutil and the clocks
are replaced by made-up figures, so the numbers are exact and no time passes."""

from __future__ import annotations

import sys
from collections import namedtuple

import pytest

from lmhelpers import benchload

# the shapes of psutil.cpu_times() on each platform (psutil's scputimes)
LinuxTimes = namedtuple("scputimes", "user nice system idle iowait irq softirq steal guest guest_nice")
MacTimes = namedtuple("scputimes", "user nice system idle")
OsTimes = namedtuple("times_result", "user system children_user children_system elapsed")

# 2 CPUs for 2 s: 4 CPU-seconds. This process used 2 of them, others 1; on Linux 0.4 were stolen.
LINUX = [
    LinuxTimes(10.0, 2.0, 3.0, 50.0, 4.0, 0.5, 0.5, 2.0, guest=1.0, guest_nice=0.0),  # guest is inside user
    LinuxTimes(12.0, 2.0, 4.0, 50.6, 4.0, 0.5, 0.5, 2.4, guest=1.0, guest_nice=0.0),
]
MAC = [MacTimes(10.0, 0.0, 5.0, 85.0), MacTimes(12.5, 0.0, 5.5, 86.0)]


@pytest.fixture
def machine(monkeypatch):
    """Feeds snapshot() the given psutil counters, one per call, 2 s apart, this process using 2 CPU-s."""

    def use(cpu_times, load=(1.234, 0.5, 0.25)):
        cpu, wall, own = iter(cpu_times), iter([10.0, 12.0]), iter([0.5, 1.5])
        monkeypatch.setattr(benchload.psutil, "cpu_times", lambda: next(cpu))
        monkeypatch.setattr(benchload.psutil, "getloadavg", lambda: load)
        monkeypatch.setattr(benchload.time, "perf_counter", lambda: next(wall))
        monkeypatch.setattr(benchload.os, "times", lambda: OsTimes(*[next(own)] * 2, 0.0, 0.0, 0.0))

    return use


def test_linux_counters_give_busy_steal_and_total(machine):
    machine(LINUX)
    snap = benchload.snapshot()
    # busy = user + nice + system + irq + softirq; total adds idle, iowait and steal, not guest again
    assert (snap.busy, snap.steal, snap.total) == (16.0, 2.0, 72.0)
    assert snap.own == 1.0 and snap.wall == 10.0 and snap.loadavg == (1.23, 0.5, 0.25)
    assert benchload.usage(snap, benchload.snapshot()) == pytest.approx(
        {"seconds": 2.0, "others_cores": 0.5, "steal_share": 0.1}
    )


def test_macos_counts_no_steal_but_still_the_others(machine):
    machine(MAC)
    snap = benchload.snapshot()
    assert (snap.busy, snap.steal, snap.total) == (15.0, None, 100.0)
    load = benchload.usage(snap, benchload.snapshot())
    assert load == {"seconds": 2.0, "others_cores": 0.5, "steal_share": None}  # not measured, not 0
    busy = {**load, "others_cores": 1.2}
    assert benchload.load_warnings({"during": busy}) == [
        "other processes kept 1.20 cores busy during the run: absolute figures are low; the ratios are "
        "pairwise from interleaved rows and hold better"
    ]


def test_sample_reports_the_load_average(machine):
    machine(MAC, load=(3.456, 2.0, 1.0))
    assert benchload.sample(0) == {
        "load_average": [3.46, 2.0, 1.0],
        "seconds": 2.0,
        "others_cores": 0.5,
        "steal_share": None,
    }


def test_usage_counts_other_processes_and_steal():
    start = benchload.CpuSnapshot(wall=0.0, own=1.0, busy=10.0, steal=0.0, total=20.0)
    end = benchload.CpuSnapshot(wall=2.0, own=3.0, busy=14.0, steal=0.2, total=24.0)
    # 4 CPU-seconds busy in 2 s, 2 of them this process's: others kept one core busy; 0.2 of 4 s stolen
    assert benchload.usage(start, end) == {"seconds": 2.0, "others_cores": 1.0, "steal_share": 0.05}
    unknown = benchload.CpuSnapshot(wall=0.0, own=0.0)
    assert benchload.usage(unknown, unknown)["others_cores"] is None
    # one 10 ms tick inside 20 ms would read as half a core: too short a span says nothing
    blip = benchload.CpuSnapshot(wall=0.02, own=1.0, busy=10.01, steal=0.0, total=10.04)
    assert benchload.usage(start, blip)["others_cores"] is None


def test_load_warnings():
    quiet = {"others_cores": 0.05, "steal_share": 0.0}
    assert benchload.load_warnings({"start": quiet, "during": quiet, "end": quiet}) == []
    warnings = benchload.load_warnings({"start": {"others_cores": 1.2, "steal_share": 0.1}, "end": quiet})
    assert (
        len(warnings) == 2
        and "1.20 cores busy before the run" in warnings[0]
        and "stole 10.0%" in warnings[1]
    )


def test_free_cores(monkeypatch):
    monkeypatch.setattr(benchload.os, "cpu_count", lambda: 2)
    assert benchload.free_cores(None, 2) == 2
    assert benchload.free_cores(0.3, 2) == 2
    assert benchload.free_cores(0.98, 2) == 1
    assert benchload.free_cores(5.0, 2) == 1  # never none
    monkeypatch.setattr(benchload.os, "cpu_count", lambda: 8)
    assert benchload.free_cores(2.6, 8) == 5


def test_snapshot_reads_this_machine():
    snap = benchload.snapshot()
    assert snap.own >= 0 and snap.total >= snap.busy >= 0 and len(snap.loadavg) == 3
    assert (snap.steal is not None) == sys.platform.startswith("linux")
