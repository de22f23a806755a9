"""Parsing sweep files; executing them is tested in test_sweep.py."""

from pathlib import Path

import pytest

from lmhelpers.sweep import SweepError, load_sweep


@pytest.fixture()
def nbdir(tmp_path):
    for name in ("a.ipynb", "b.ipynb"):
        (tmp_path / name).write_text("{}")
    return tmp_path


def _write(path, text):
    path.write_text(text)
    return path


def test_grid_and_runs(nbdir):
    f = _write(
        nbdir / "s.yaml",
        """
notebooks: [a.ipynb]
parameters: {preset: smoke, max_iters: 4}
grid: {arch: [rnn, gru], learning_rate: [0.001, 0.01]}
runs:
  - {name: gpt, notebooks: [b.ipynb], parameters: {arch: transformer}}
""",
    )
    runs = load_sweep(f)
    assert len(runs) == 5
    assert runs[0].name == "arch=rnn-learning_rate=0.001"
    assert runs[0].parameters == {"preset": "smoke", "max_iters": 4, "arch": "rnn", "learning_rate": 0.001}
    assert runs[0].notebooks == [nbdir / "a.ipynb"]
    assert runs[-1].name == "gpt" and runs[-1].notebooks == [nbdir / "b.ipynb"]
    assert runs[-1].parameters["arch"] == "transformer" and runs[-1].parameters["preset"] == "smoke"


def test_settings_keys_merge(nbdir):
    f = _write(
        nbdir / "s.yaml",
        """
notebooks: [a.ipynb]
parameters: {settings: {n_layer: 2}}
grid: {settings.learning_rate: [0.001]}
""",
    )
    (run,) = load_sweep(f)
    assert run.parameters == {"settings": {"n_layer": 2, "learning_rate": 0.001}}
    assert run.name == "settings.learning_rate=0.001"


@pytest.mark.parametrize(
    "text, match",
    [
        ("grid: {arch: [rnn]}\n", "names no notebooks"),
        ("notebooks: [a.ipynb]\n", "no runs"),
        ("notebooks: [missing.ipynb]\ngrid: {arch: [rnn]}\n", "notebook 'missing.ipynb' not found"),
        ("notebooks: [a.ipynb]\ngrid: {arch: []}\n", "non-empty list"),
        ("notebooks: [a.ipynb]\ngrids: {arch: [rnn]}\n", "unknown keys"),
        ("notebooks: [a.ipynb]\nruns: [{name: x}, {name: x}]\n", "unique"),
        ("- just a list\n", "mapping"),
        ("notebooks: [a.ipynb\n", "cannot read"),
    ],
)
def test_bad_sweep_files(nbdir, text, match):
    with pytest.raises(SweepError, match=match):
        load_sweep(_write(nbdir / "s.yaml", text))


def test_a_description_is_accepted_and_changes_no_run(nbdir):
    f = _write(nbdir / "s.yaml", "description: GRU sizes\nnotebooks: [a.ipynb]\ngrid: {arch: [gru]}\n")
    (run,) = load_sweep(f)
    assert run.name == "arch=gru" and run.parameters == {"arch": "gru"}


@pytest.mark.parametrize(
    "text",
    [
        "notebooks: [missing.ipynb]\ngrid: {arch: [rnn]}\n",
        "notebooks: [a.ipynb]\nruns: [{name: x, notebooks: [missing.ipynb]}]\n",
    ],
)
def test_a_missing_notebook_names_the_sweep_file(nbdir, text):
    f = _write(nbdir / "s.yaml", text)
    with pytest.raises(SweepError) as info:
        load_sweep(f)
    assert str(info.value).startswith(f"{f}: ") and "missing.ipynb" in str(info.value)


def test_sweep_files_are_read_as_utf8_whatever_the_locale(nbdir, monkeypatch):
    f = nbdir / "s.yaml"
    f.write_text(
        "notebooks: [a.ipynb]\nruns: [{name: 한국어, parameters: {prompt: café}}]\n", encoding="utf-8"
    )
    read_text = Path.read_text

    def latin1_locale(self, encoding=None, errors=None):
        # what Path.read_text gives under a Latin-1 locale when no encoding is named
        return read_text(self, encoding=encoding or "latin-1", errors=errors)

    monkeypatch.setattr(Path, "read_text", latin1_locale)
    (run,) = load_sweep(f)
    assert run.name == "한국어" and run.parameters == {"prompt": "café"}
