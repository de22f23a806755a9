"""The parameters and names a sweep gives each run are the ones its file asks for (parsing only)."""

from __future__ import annotations

import pytest

from lmhelpers.sweep import load_sweep


@pytest.fixture()
def sweep(tmp_path):
    (tmp_path / "a.ipynb").write_text("{}")

    def write(text: str):
        path = tmp_path / "s.yaml"
        path.write_text("notebooks: [a.ipynb]\n" + text)
        return load_sweep(path)

    return write


def test_settings_from_every_layer_are_merged_and_other_mappings_kept_whole(sweep):
    (run,) = sweep(
        "parameters: {settings: {n_layer: 2}, extra: {a: 1}}\n"
        "runs:\n  - {name: r, parameters: {settings: {learning_rate: 0.01}, settings.dropout: 0.1}}\n"
    )
    assert run.parameters == {
        "settings": {"n_layer": 2, "learning_rate": 0.01, "dropout": 0.1},
        "extra": {"a": 1},
    }


def test_a_dotted_setting_keeps_everything_after_settings(sweep):
    (run,) = sweep("grid: {settings.model.n_layer: [3]}\n")
    assert run.parameters == {"settings": {"model.n_layer": 3}}


def test_an_unnamed_run_is_named_after_its_parameters(sweep):
    runs = sweep("runs:\n  - {parameters: {arch: gru, max_iters: 5}}\n  - {name: named}\n")
    assert [r.name for r in runs] == ["arch=gru-max_iters=5", "named"]


def test_long_names_are_cut_to_120_characters(sweep):
    (run,) = sweep("grid: {dataset: [" + "x" * 200 + "]}\n")
    assert run.name == ("dataset=" + "x" * 200)[:120]


def test_names_keep_letters_digits_and_signs_and_replace_the_rest(sweep):
    runs = sweep(
        'runs:\n  - {parameters: {Lr: "1e-3", "n layer": 2, out: "a/b c", w+: 0.5}}\n'
        "  - {notebooks: [a.ipynb]}\n"
    )
    assert [r.name for r in runs] == ["Lr=1e-3-n_layer=2-out=a_b_c-w+=0.5", "run"]
