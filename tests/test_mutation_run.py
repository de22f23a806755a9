"""tools/mutation_run.py: the planted bugs still fit the code, the score is mutmut's counts, the copy is git's."""

from __future__ import annotations

import json
import subprocess

import mutation_run
import pytest


@pytest.mark.parametrize(
    "name,module,old,new", mutation_run.PLANTED, ids=[p[0] for p in mutation_run.PLANTED]
)
def test_each_planted_bug_still_finds_its_line(name, module, old, new):
    text = (mutation_run.ROOT / module).read_text()
    assert text.count(old) == 1, f"{name}: {old!r} must occur exactly once in {module}"
    assert old != new


def test_the_score_counts_killed_and_timed_out_over_the_tested(tmp_path, monkeypatch):
    (tmp_path / "mutants").mkdir()
    stats = {"killed": 60, "survived": 20, "total": 100, "no_tests": 10, "skipped": 5, "suspicious": 0,
             "timeout": 5, "check_was_interrupted_by_user": 0, "segfault": 0}  # fmt: skip
    (tmp_path / "mutants" / "mutmut-cicd-stats.json").write_text(json.dumps(stats))
    calls = []
    monkeypatch.setattr(mutation_run.subprocess, "run", lambda cmd, **kw: calls.append(cmd))
    result = mutation_run.score(tmp_path)
    assert calls and calls[0][-1] == "export-cicd-stats"
    assert result["detected"] == 65 and result["score"] == pytest.approx(100 * 65 / 95, abs=0.05)


def test_the_scratch_copy_is_the_tree_git_sees_and_keeps_mutmuts_results(tmp_path):
    dest = tmp_path / "tree"
    (dest / "mutants").mkdir(parents=True)
    (dest / "mutants" / "kept.txt").write_text("results")
    (dest / "stale.py").write_text("from an earlier copy")
    mutation_run.copy_tree(dest)
    assert (dest / "mutants" / "kept.txt").read_text() == "results"
    assert not (dest / "stale.py").exists()
    tracked = subprocess.run(["git", "ls-files", "lmhelpers"], cwd=mutation_run.ROOT, capture_output=True,
                             text=True, check=True).stdout.split()  # fmt: skip
    assert (dest / "lmhelpers" / "config.py").read_text() == (
        mutation_run.ROOT / "lmhelpers/config.py"
    ).read_text()
    assert all((dest / name).is_file() for name in tracked if (mutation_run.ROOT / name).is_file())
    assert not (dest / ".venv").exists() and not (dest / "runs").exists()


def test_planted_bugs_are_tried_one_at_a_time_on_a_single_copy(tmp_path, monkeypatch, capsys):
    copies, present = [], []

    def copy(dest):
        copies.append(dest)
        for module in {p[1] for p in mutation_run.PLANTED}:
            (dest / module).parent.mkdir(parents=True, exist_ok=True)
            (dest / module).write_text((mutation_run.ROOT / module).read_text())

    def failing(tree, tests):  # the planted bugs in the tree now; each one "fails" a test named after it
        now = [
            name for name, module, old, _ in mutation_run.PLANTED if old not in (tree / module).read_text()
        ]
        present.append(now)
        return {f"tests/x.py::{name}" for name in now}

    monkeypatch.setattr(mutation_run, "SCRATCH", tmp_path / "mutation" / "tree")
    monkeypatch.setattr(mutation_run, "copy_tree", copy)
    monkeypatch.setattr(mutation_run, "failing_tests", failing)
    assert mutation_run.planted() == 0
    assert copies == [tmp_path / "mutation" / "planted"]
    assert present == [[]] + [[p[0]] for p in mutation_run.PLANTED]
    assert capsys.readouterr().out.count("caught: ") == len(mutation_run.PLANTED)
    for module in {p[1] for p in mutation_run.PLANTED}:  # every module written back
        assert (copies[0] / module).read_text() == (mutation_run.ROOT / module).read_text()
