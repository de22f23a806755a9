"""tools/busy_neighbour.py: one real timed training beside a busy process, and the table of medians."""

from __future__ import annotations

import busy_neighbour
import psutil


def test_a_timed_training_reads_its_record_and_leaves_no_neighbour_behind(tmp_path, small_corpus):
    before = {p.pid for p in psutil.process_iter()}
    env = {**busy_neighbour.os.environ, "OMP_NUM_THREADS": "1"}
    run = busy_neighbour.timed_train("smoke", 2, env, "spin", tmp_path / "run", f"dataset={small_corpus}")
    assert run["seconds"] > 0 and run["thread_changes"] == []  # a count in the environment is kept
    left = [p for p in psutil.process_iter(["cmdline"]) if p.pid not in before]
    assert not [p for p in left if "while True: pass" in " ".join(p.info["cmdline"] or [])]


def test_the_table_gives_the_medians_of_each_kind_and_the_busy_to_idle_ratio(monkeypatch, capsys):
    seconds = {("adjusted", False): [30, 34, 31], ("adjusted", True): [52, 50, 60],
               ("fixed", False): [33, 30, 32], ("fixed", True): [110, 120, 100]}  # fmt: skip
    calls = []

    def fake(preset, steps, env, neighbour, folder, *settings):
        kind = "fixed" if env.get("OMP_NUM_THREADS") else "adjusted"
        calls.append((kind, neighbour))
        return {"seconds": seconds[(kind, neighbour is not None)].pop(), "thread_changes": []}

    monkeypatch.setattr(busy_neighbour, "timed_train", fake)
    busy_neighbour.main(["--rounds", "3"])
    out = capsys.readouterr().out
    assert "| adjusted | 31.0 | 52.0 | 1.68x |" in out and "| fixed | 32.0 | 110.0 | 3.44x |" in out
    assert calls.count(("adjusted", "spin")) == 3 and calls.count(("fixed", None)) == 3


def test_the_training_neighbour_is_the_measured_command_with_more_steps_and_its_own_folder(tmp_path):
    settings = ("dataset=x.txt", "seed=3")
    measured = busy_neighbour.train_command("cpu", 300, settings, tmp_path / "run")
    neighbour = busy_neighbour.NEIGHBOURS["train"]("cpu", settings, tmp_path / "run")
    at = measured.index("max_iters=300")
    assert neighbour[:at] == measured[:at] and neighbour[at] == "max_iters=100000"
    assert measured[at + 1 :] == ["--out", str(tmp_path / "run"), "--no-progress"]
    assert neighbour[at + 1 :] == ["--out", str(tmp_path / "run-neighbour"), "--no-progress"]
