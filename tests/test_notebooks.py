"""The notebook series: its structure, a batch run with injected parameters, and parameter errors.

nbmake also executes every notebook as committed (with its smoke-sized mock parameters) as part of
``pytest``; these tests check what nbmake cannot: that injected parameters take effect, that the
expected figures and records appear, and that a wrong parameter stops a notebook early and clearly.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

from lmhelpers.batch import NotebookFailed, run_series
from lmhelpers.cli import main
from lmhelpers.config import ARCHES, DEVICES, TOKENIZERS, make_config, preset_names
from lmhelpers.notebook import ALL_NOTEBOOKS, BRANCH, NOTEBOOKS, REPOSITORY, colab_url
from lmhelpers.records import load_record

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
TRAINING = ("02_rnn.ipynb", "03_transformer.ipynb", "04_comparison.ipynb")
COMMON = {"preset", "tokenizer", "max_iters", "batch_size", "device", "seed", "settings", "run_dir"}
COLAB_LINK = re.compile(r"https://colab\.research\.google\.com/github/[^)\s\"']+")
pytestmark = pytest.mark.slow


def _read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NB_DIR / name, as_version=4)


def _code(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


# ------------------------------------------------------------------------------------ structure
def test_the_series_is_00_to_04_then_the_sweeps_notebook():
    assert sorted(p.name for p in NB_DIR.glob("*.ipynb")) == list(ALL_NOTEBOOKS)
    assert [n.split("_")[0] for n in NOTEBOOKS] == ["00", "01", "02", "03", "04"]
    assert [n.split("_")[0] for n in ALL_NOTEBOOKS[len(NOTEBOOKS) :]] == ["05"]


@pytest.mark.parametrize("name", ALL_NOTEBOOKS)
def test_badge_and_install_cell_point_at_this_notebook_in_the_repository(name):
    nb = _read(name)
    nbformat.validate(nb)
    title = nb.cells[0]
    assert title.cell_type == "markdown" and title.source.startswith("# ")
    expected = f"https://colab.research.google.com/github/{REPOSITORY.removeprefix('https://github.com/')}/blob/{BRANCH}/notebooks/{name}"
    assert colab_url(name) == expected
    # its own badge first, then the Korean edition's
    assert COLAB_LINK.findall(title.source) == [expected, colab_url(f"ko/{name}")]
    every = COLAB_LINK.findall("".join(c.source for c in nb.cells))
    series = {colab_url(n) for n in ALL_NOTEBOOKS} | {colab_url(f"ko/{n}") for n in ALL_NOTEBOOKS}
    assert set(every) <= series  # only links into the series: the next notebook, the Korean edition
    assert every.count(expected) == 1

    install = _code(nb)[0]
    assert '"google.colab" in sys.modules' in install.source
    assert f'"lmhelpers[notebooks] @ git+{REPOSITORY}.git@{BRANCH}"' in install.source
    assert "sys.executable" in install.source
    assert not re.search(r"^\s*(import|from)\s+lmhelpers", install.source, re.M)  # not installed yet there


@pytest.mark.parametrize("name", ALL_NOTEBOOKS)
def test_one_parameters_cell_with_literal_defaults_and_nbmake_mocks(name):
    nb = _read(name)
    code = _code(nb)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code[1]
    cell = tagged[0]
    declared = papermill.inspect_notebook(str(NB_DIR / name))
    assignments = [ln for ln in cell.source.splitlines() if re.match(r"^\w+ = ", ln)]
    assert len(declared) == len(assignments), "papermill could not parse every parameter line"
    mock = cell.metadata["nbmake"]["mock"]
    assert set(mock) <= set(declared) and mock["run_dir"] == "runs/nbmake"
    assert mock.get("preset", "smoke") == "smoke"
    assert declared["run_dir"]["default"] == '"runs/notebooks"'
    if name in TRAINING:
        assert COMMON | {"checkpoint_dir", "resume"} <= set(declared)
        assert declared["resume"]["default"] == '"auto"' and declared["max_iters"]["default"] == "None"
        assert declared["preset"]["default"] == '"cpu"' and mock["max_iters"] <= 20
    # The validation cell comes next and goes through lmhelpers.
    assert "nbh.prepare_run(" in code[2].source


@pytest.mark.parametrize("name", ALL_NOTEBOOKS)
def test_committed_without_outputs(name):
    for cell in _code(_read(name)):
        assert cell.outputs == [] and cell.execution_count is None


def test_example_parameter_file_names_real_parameters():
    params = yaml.safe_load((NB_DIR / "params" / "example.yaml").read_text())
    declared = set().union(*(papermill.inspect_notebook(str(NB_DIR / n)) for n in NOTEBOOKS))
    assert set(params) <= declared


def test_readmes_link_every_notebook_of_their_language():
    for readme, folder in (("README.md", ""), ("README.ko.md", "ko/")):
        links = set(COLAB_LINK.findall((ROOT / readme).read_text(encoding="utf-8")))
        assert links == {colab_url(folder + n) for n in ALL_NOTEBOOKS}, readme


# ------------------------------------------------------------------------------------ execution
@pytest.fixture()
def series(smoke_series):
    """The whole series once per session (conftest's ``smoke_series``: the `series` command, smoke
    parameters injected with ``--set``), shared with the website's and the Korean output's tests."""
    return smoke_series


def test_series_prints_where_results_are_and_the_summary(series):
    out, rc, printed = series
    assert rc == 0, printed
    assert f"Results: {out}" in printed
    assert (
        "| gru-char-smoke | gru | char |" in printed and "| transformer-char-smoke | transformer |" in printed
    )
    assert printed.count("sample at temperature 0.8") == 2
    assert (out / "summary.md").is_file() and (out / "curves.png").is_file()
    for name in NOTEBOOKS:
        assert (out / name).is_file()


def test_injected_parameters_took_effect(series):
    out, _, _ = series
    rnn, gpt = load_record(out / "02_rnn"), load_record(out / "03_transformer")
    assert rnn["config"]["model"]["arch"] == "gru" and gpt["config"]["model"]["arch"] == "transformer"
    for rec in (rnn, gpt):
        assert rec["config"]["preset"] == "smoke" and rec["config"]["train"]["max_iters"] == 6
        assert [h["step"] for h in rec["history"]] == [0, 3, 6]
        assert Path(rec["checkpoint"]).parent == out / Path(rec["path"]).parent.name
    executed = nbformat.read(out / "02_rnn.ipynb", as_version=4)
    injected = [c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(injected) == 1 and "max_iters = 6" in injected[0].source
    assert f'run_dir = "{out}"' in injected[0].source


@pytest.mark.parametrize(
    "folder, files",
    [
        ("00_setup_gpu_check", {"environment.json"}),
        ("01_tokenizer", {"tokenizer.json", "tokenizers.png", "tokenizers.md", "tokenizers.json"}),
        ("02_rnn", {"record.json", "curves.png", "checkpoint.pt", "tokenizer.json"}),
        ("03_transformer", {"record.json", "curves.png", "checkpoint.pt", "tokenizer.json", "attention.png"}),
        ("04_comparison", {"curves.png", "loss_by_position.png", "reading.md", "comparison.md"}),
    ],
)
def test_each_notebook_wrote_its_figures_and_records(series, folder, files):
    out, _, _ = series
    assert files <= {p.name for p in (out / folder).iterdir()}
    for png in (out / folder).glob("*.png"):
        assert png.read_bytes()[:4] == b"\x89PNG"


def test_models_share_the_tokenizer_of_notebook_01(series):
    out, _, _ = series
    saved = json.loads((out / "01_tokenizer" / "tokenizer.json").read_text())
    for folder in ("02_rnn", "03_transformer"):
        assert json.loads((out / folder / "tokenizer.json").read_text()) == saved
    outputs = json.dumps(
        [c.get("outputs", []) for c in nbformat.read(out / "02_rnn.ipynb", as_version=4).cells]
    )
    assert f"tokenizer: {out / '01_tokenizer' / 'tokenizer.json'}" in outputs


def test_reading_is_written_from_this_runs_numbers(series):
    out, _, _ = series
    reading = (out / "04_comparison" / "reading.md").read_text()
    for folder in ("02_rnn", "03_transformer"):
        final = load_record(out / folder)["final"]
        assert f"{final['bits_per_char']:.3f}" in reading
    assert "loss-by-position curves" in reading
    assert reading.strip() in (out / "summary.md").read_text()


def test_resume_true_continues_after_a_disconnect(series, tmp_path):
    """A new session (no 01 tokenizer, fresh kernel) picks up the checkpoint and trains on from it."""
    out, _, _ = series
    shutil.copytree(out / "02_rnn", tmp_path / "02_rnn")
    params = {"preset": "smoke", "arch": "gru", "max_iters": 9, "settings": {"eval_interval": 3}}
    run_series(tmp_path, {**params, "resume": True}, notebooks=[NB_DIR / "02_rnn.ipynb"], log=None)
    rec = load_record(tmp_path / "02_rnn")
    assert [h["step"] for h in rec["history"]] == [0, 3, 6, 9]
    outputs = json.dumps(
        [c.get("outputs", []) for c in nbformat.read(tmp_path / "02_rnn.ipynb", as_version=4).cells]
    )
    assert "resumed from" in outputs and "at step 6" in outputs


def test_wrong_type_parameter_stops_in_the_validation_cell(tmp_path):
    """With the papermill command line, a parameter file and a -p override, as users run it."""
    params = tmp_path / "params.yaml"
    params.write_text(yaml.safe_dump({"preset": "smoke", "run_dir": str(tmp_path / "runs")}))
    executed = tmp_path / "out.ipynb"
    cmd = [sys.executable, "-m", "papermill", str(NB_DIR / "02_rnn.ipynb"), str(executed)]
    cmd += ["-f", str(params), "-p", "max_iters", "ten", "-k", "python3", "--cwd", str(NB_DIR)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 0
    nb = nbformat.read(executed, as_version=4)
    code = _code(nb)
    errors = [(i, o) for i, c in enumerate(code) for o in c.get("outputs", []) if o.output_type == "error"]
    assert len(errors) == 1
    index, error = errors[0]
    assert "injected-parameters" in code[index - 1].metadata.get("tags", [])  # the cell right after
    assert error.ename == "ParameterError"
    assert "parameter max_iters='ten' is invalid: a positive integer" in error.evalue
    assert not (tmp_path / "runs" / "02_rnn" / "record.json").exists()


def test_a_failing_notebook_is_named_by_its_executed_copy(tmp_path):
    bad = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell("raise RuntimeError('boom')")]
    )
    bad.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(bad, tmp_path / "bad.ipynb")
    with pytest.raises(NotebookFailed, match="boom") as info:
        run_series(tmp_path / "out", {}, notebooks=[tmp_path / "bad.ipynb"], log=None)
    assert str(tmp_path / "out" / "bad.ipynb") in str(info.value)
    assert info.value.executed.is_file()


def test_run_series_refuses_unknown_parameters(tmp_path):
    with pytest.raises(ValueError, match=r"unknown parameters \['epochs'\]"):
        run_series(tmp_path, {"epochs": 3})
    with pytest.raises(ValueError, match="run_dir is set by run_series"):
        run_series(tmp_path, {"run_dir": "x"})


# ------------------------------------------------------------------- parameters mean what they say
def _parameter_lines(name: str) -> dict[str, str]:
    cell = next(c for c in _read(name).cells if "parameters" in c.metadata.get("tags", []))
    return {ln.split(" = ")[0]: ln for ln in cell.source.splitlines() if re.match(r"^\w+ = ", ln)}


@pytest.mark.parametrize("name", ALL_NOTEBOOKS)
def test_parameter_comments_list_what_the_package_accepts(name):
    """The choices a parameters cell names are the package's own lists, so they cannot drift."""
    lines = _parameter_lines(name)
    lists = {
        "preset": preset_names(),
        "arch": [a for a in ARCHES if a != "transformer"],
        "tokenizer": list(TOKENIZERS),
        "device": list(DEVICES),
    }
    for param, choices in lists.items():
        if param in lines:
            comment = lines[param].split("#", 1)[1]
            named = re.findall(r"[\w-]+(?:\s*\|\s*[\w-]+)+", comment)
            assert named, f"{name}: the comment of {param} lists no choices"
            assert [c.strip() for c in named[0].split("|")] == choices, f"{name}: {param}"


@pytest.mark.parametrize("name", TRAINING)
@pytest.mark.parametrize("preset", preset_names())
def test_notebook_defaults_mean_the_presets_values(name, preset):
    """A parameter left at its default is the preset's value: the notebook and make_config agree."""
    from lmhelpers.notebook import notebook_config

    values: dict = {}
    exec("\n".join(_parameter_lines(name).values()), {}, values)
    settings = values.pop("settings")
    arch = "transformer" if name == "03_transformer.ipynb" else values["arch"]
    given = {k: values[k] for k in ("tokenizer", "max_iters", "batch_size", "device", "seed")}
    assert notebook_config(preset, settings, arch=arch, **given) == make_config(preset, arch=arch)


# ----------------------------------------------------------------------- nothing a user runs is lost
def test_a_forgotten_resume_continues_instead_of_starting_over(series, tmp_path):
    """A reconnected runtime that runs the notebook again as it was: the checkpoint is continued."""
    out, _, _ = series
    shutil.copytree(out / "02_rnn", tmp_path / "02_rnn")
    params = {"preset": "smoke", "arch": "gru", "max_iters": 9, "settings": {"eval_interval": 3}}
    run_series(tmp_path, params, notebooks=[NB_DIR / "02_rnn.ipynb"], log=None)
    rec = load_record(tmp_path / "02_rnn")
    assert [h["step"] for h in rec["history"]] == [0, 3, 6, 9]
    assert rec["history"][:3] == load_record(out / "02_rnn")["history"]  # the first run's steps, kept


def test_a_different_run_in_the_same_folder_stops_and_keeps_the_old_one(series, tmp_path):
    out, _, _ = series
    shutil.copytree(out / "02_rnn", tmp_path / "02_rnn")
    before = {p.name: p.read_bytes() for p in (tmp_path / "02_rnn").iterdir()}
    params = {"preset": "smoke", "arch": "gru", "max_iters": 6, "settings": {"n_layer": 2}}
    with pytest.raises(NotebookFailed, match="RunConflict") as info:
        run_series(tmp_path, params, notebooks=[NB_DIR / "02_rnn.ipynb"], log=None)
    message = str(info.value)
    assert "model.n_layer: checkpoint 1, this run 2" in message and "restart" in message
    assert {p.name: p.read_bytes() for p in (tmp_path / "02_rnn").iterdir()} == before  # byte for byte
    # The explicit way out moves the old run aside (nothing deleted) and trains the new one.
    run_series(tmp_path, {**params, "resume": "restart"}, notebooks=[NB_DIR / "02_rnn.ipynb"], log=None)
    assert load_record(tmp_path / "02_rnn")["config"]["model"]["n_layer"] == 2
    (aside,) = tmp_path.glob("02_rnn.before-*")
    assert {p.name: p.read_bytes() for p in aside.iterdir()} == before


def test_the_series_runs_on_a_corpus_with_no_latin_letters(korean_corpus, tmp_path):
    """No parameter changed but the dataset: every corpus-dependent default comes from the corpus."""
    out = tmp_path / "ko"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        rc = main(["series", "--preset", "smoke", "--out", str(out), "--set", f"dataset={korean_corpus}"])
    assert rc == 0, printed.getvalue()
    reading = (out / "04_comparison" / "reading.md").read_text(encoding="utf-8")
    assert "bits per character" in reading
    for folder in ("02_rnn", "03_transformer"):
        sample = load_record(out / folder)["samples"][0]
        assert sample["prompt"] and not re.search("[A-Za-z]", sample["prompt"])
