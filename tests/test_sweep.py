"""Sweeps end to end: real notebooks, real papermill processes, smoke-sized runs."""

import csv
from pathlib import Path

import pytest

from lmhelpers.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep")
    rc = main(["sweep", str(ROOT / "sweeps" / "smoke.yaml"), "-j", "2", "--out", str(out)])
    return rc, out


def test_sweep_runs_every_point_and_collects(swept, capsys):
    rc, out = swept
    assert rc == 0
    names = {"arch=rnn", "arch=gru", "arch=lstm", "transformer"}
    assert {p.name for p in out.iterdir() if p.is_dir()} == names
    for name in names:
        assert (out / name / "DONE.json").is_file()
    assert (out / "arch=gru" / "02_rnn.ipynb").is_file()  # the executed notebook is kept
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["model"] for r in rows) == ["gru", "lstm", "rnn", "transformer"]
    assert all(float(r["bits/char"]) > 0 for r in rows)
    for fig in ("val_curves.png", "tradeoffs.png"):
        assert (out / fig).stat().st_size > 1000


def test_second_invocation_skips_finished_runs(swept, capsys):
    _, out = swept
    before = (out / "arch=rnn" / "02_rnn" / "record.json").stat().st_mtime_ns
    assert main(["sweep", str(ROOT / "sweeps" / "smoke.yaml"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "4 runs: 0 done, 4 skipped, 0 failed" in printed
    assert (out / "arch=rnn" / "02_rnn" / "record.json").stat().st_mtime_ns == before


def test_a_failing_run_is_reported_and_the_others_finish(tmp_path, capsys):
    sweep = tmp_path / "bad.yaml"
    sweep.write_text(
        f"notebooks: [{ROOT / 'notebooks' / '02_rnn.ipynb'}]\n"
        "parameters: {preset: smoke, arch: gru}\n"
        "runs:\n"
        "  - {name: broken, parameters: {max_iters: ten}}\n"
        "  - {name: fine, parameters: {max_iters: 2}}\n"
    )
    rc = main(["sweep", str(sweep), "-j", "2", "--out", str(tmp_path / "out")])
    assert rc == 1
    err = capsys.readouterr().err
    assert "FAILED broken" in err and str(tmp_path / "out" / "broken" / "02_rnn.ipynb") in err
    assert "max_iters" in err
    assert (tmp_path / "out" / "fine" / "DONE.json").is_file()
    assert not (tmp_path / "out" / "broken" / "DONE.json").exists()


def test_a_run_marked_done_is_run_again_when_what_produced_it_changes(tmp_path, monkeypatch):
    """DONE.json is a cached result: other parameters or an edited notebook invalidate it."""
    import shutil
    import subprocess

    from lmhelpers import sweep as sweep_mod

    notebook = tmp_path / "02_rnn.ipynb"
    shutil.copy(ROOT / "notebooks" / "02_rnn.ipynb", notebook)
    executed = []

    def fake_run(spec, run_dir, threads=None, restart=False):
        executed.append((spec.parameters, restart))
        run_dir.mkdir(parents=True, exist_ok=True)
        return subprocess.CompletedProcess([], 0)

    monkeypatch.setattr(sweep_mod, "execute_run", fake_run)

    def sweep(params, redo=False):
        spec = sweep_mod.RunSpec("point", [notebook], params)
        return sweep_mod.run_specs([spec], tmp_path / "out", redo=redo, echo=False)[0].status

    assert sweep({"max_iters": 2}) == "done"
    assert sweep({"max_iters": 2}) == "skipped"
    assert sweep({"max_iters": 3}) == "done"  # other parameters
    notebook.write_text(notebook.read_text().replace("A language model", "A language model,"))
    assert sweep({"max_iters": 3}) == "done"  # the notebook changed
    assert sweep({"max_iters": 3}) == "skipped"
    assert sweep({"max_iters": 3}, redo=True) == "done"
    assert executed[-1] == ({"max_iters": 3}, True)  # --redo restarts: the old run is moved aside first


def test_the_dataset_sweep_runs_on_a_korean_corpus_with_only_the_path_changed(korean_corpus, tmp_path):
    """sweeps/dataset.yaml promises any text file: a corpus with no Latin letter, nothing else changed
    but its path and the size (smoke, a few steps)."""
    import yaml

    spec = yaml.safe_load((ROOT / "sweeps" / "dataset.yaml").read_text())
    spec["parameters"].update({"preset": "smoke", "max_iters": 4, "settings.dataset": str(korean_corpus)})
    spec["notebooks"] = [str(ROOT / "notebooks" / n) for n in spec["notebooks"]]
    sweep = tmp_path / "dataset.yaml"
    sweep.write_text(yaml.safe_dump(spec, allow_unicode=True))
    assert main(["sweep", str(sweep), "--out", str(tmp_path / "out")]) == 0
    with open(tmp_path / "out" / "results.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["model"] for r in rows) == ["lstm", "transformer"]
