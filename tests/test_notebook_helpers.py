"""lmhelpers.notebook (parameters, folders, display) and batch routing, without executing notebooks."""

import inspect

import pytest

from lmhelpers import notebook as nbh
from lmhelpers.batch import route_parameters
from lmhelpers.config import make_config
from lmhelpers.rnn import RNNLanguageModel

ROOT = nbh.repo_root()


# ----------------------------------------------------------------------------------- parameters
def test_notebook_config_drops_none_and_applies_the_rest():
    cfg = nbh.notebook_config("smoke", {"n_layer": 2}, arch="gru", max_iters=None, batch_size=4)
    assert cfg.model.arch == "gru" and cfg.model.n_layer == 2 and cfg.train.batch_size == 4
    assert cfg.train.max_iters == make_config("smoke").train.max_iters


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_iters": "ten"}, r"parameter max_iters='ten' is invalid: a positive integer"),
        ({"device": "gpu"}, r"parameter device='gpu' is invalid"),
        ({"settings": {"n_layers": 2}}, r"unknown setting 'n_layers'"),
        ({"settings": [1]}, r"parameter settings=\[1\] is invalid"),
        ({"settings": {"max_iters": 5}, "max_iters": 5}, r"both as parameters and in settings"),
        (
            {"settings": {"n_embd": 30, "n_head": 4}},
            r"parameter n_embd=30 is invalid: must be divisible by n_head=4",
        ),
        ({"settings": {"n_head": 5}}, r"do not fit together: model.n_embd=32"),
    ],
)
def test_notebook_config_names_the_bad_parameter(kwargs, match):
    with pytest.raises(nbh.ParameterError, match=match):
        nbh.notebook_config("smoke", **kwargs)


def test_notebook_config_checks_the_preset_and_routes_vocab_size_to_the_tokenizer():
    with pytest.raises(nbh.ParameterError, match="parameter preset='gpu'"):
        nbh.notebook_config("gpu")
    cfg = nbh.notebook_config("cpu", vocab_size=500)
    assert cfg.data.vocab_size == 500 and cfg.model.vocab_size is None
    with pytest.raises(nbh.ParameterError, match="parameter vocab_size=1 is invalid"):
        nbh.notebook_config("cpu", vocab_size=1)


def test_check_choice():
    nbh.check_choice("arch", "gru", ("rnn", "gru"))
    with pytest.raises(nbh.ParameterError, match="arch='transformer'"):
        nbh.check_choice("arch", "transformer", ("rnn", "gru"))


def test_relative_dirs_count_from_the_checkout_else_the_cwd(tmp_path, monkeypatch):
    assert ROOT is not None
    monkeypatch.chdir(ROOT / "notebooks")  # where nbmake and Jupyter start kernels
    assert nbh.resolve_dir("runs/x") == ROOT / "runs" / "x"
    monkeypatch.chdir(tmp_path)  # e.g. /content on Colab
    assert nbh.resolve_dir("runs/x") == tmp_path / "runs" / "x"
    assert nbh.resolve_dir(tmp_path / "abs") == tmp_path / "abs"
    with pytest.raises(nbh.ParameterError, match="parameter run_dir=5"):
        nbh.resolve_dir(5)


def test_prepare_run_folders_and_checks(tmp_path):
    run = nbh.prepare_run("02_rnn", tmp_path / "runs")
    assert run.out_dir == tmp_path / "runs" / "02_rnn"
    assert not (tmp_path / "runs").exists()  # made when something is written: a failed run leaves none
    assert run.checkpoint_path == run.out_dir / "checkpoint.pt"
    run = nbh.prepare_run("02_rnn", tmp_path / "runs", checkpoint_dir=tmp_path / "ckpt", resume=True)
    assert run.checkpoint_path == tmp_path / "ckpt" / "02_rnn" / "checkpoint.pt"
    assert "not found yet" in run.describe()
    with pytest.raises(nbh.ParameterError, match="resume='yes'"):
        nbh.prepare_run("02_rnn", tmp_path, resume="yes")
    with pytest.raises(nbh.ParameterError, match="Google Drive folder, which exists only on Colab"):
        nbh.prepare_run("02_rnn", tmp_path, checkpoint_dir="/content/drive/MyDrive/x")


def test_links_come_from_the_repository_constant():
    slug = nbh.REPOSITORY.removeprefix("https://github.com/")
    assert nbh.colab_url("02_rnn.ipynb") == (
        f"https://colab.research.google.com/github/{slug}/blob/{nbh.BRANCH}/notebooks/02_rnn.ipynb"
    )
    assert nbh.install_spec() == f"lmhelpers[notebooks] @ git+{nbh.REPOSITORY}.git@{nbh.BRANCH}"
    assert nbh.colab_url("x.ipynb") in nbh.colab_badge("x.ipynb")


# ------------------------------------------------------------------------------------- display
def test_show_source_is_the_installed_source():
    text = nbh.source_markdown(RNNLanguageModel)
    assert inspect.getsource(RNNLanguageModel) in text and "lmhelpers/rnn.py" in text


# ---------------------------------------------------------------------------------------- batch
def test_route_parameters():
    declared = [{"run_dir": 1}, {"preset": 1, "arch": 1, "settings": 1}, {"preset": 1, "settings": 1}]
    routed = route_parameters({"preset": "smoke", "arch": "gru", "n_layer": 2}, declared)
    assert routed[0] == {}
    assert routed[1] == {"preset": "smoke", "arch": "gru", "settings": {"n_layer": 2}}
    assert routed[2] == {"preset": "smoke", "settings": {"n_layer": 2}}  # arch is 02's, not 03's
    with pytest.raises(ValueError, match=r"unknown parameters \['epochs'\]"):
        route_parameters({"epochs": 3}, declared)


def test_show_image_displays_the_saved_file_and_names_a_missing_one(tmp_path):
    png = tmp_path / "curves.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    shown = nbh.show_image(png)
    assert shown.data == png.read_bytes() and shown.format == "png"
    with pytest.raises(FileNotFoundError, match="no image at .*missing.png"):
        nbh.show_image(tmp_path / "missing.png")


def test_papermill_text_for_settings_gets_a_hint_about_mappings():
    with pytest.raises(nbh.ParameterError, match=r"-y 'settings: \{n_layer: 2\}' or a -f YAML file"):
        nbh.notebook_config("smoke", "{'n_layer': 2}")


def test_a_text_parameter_defaults_to_the_corpus_and_refuses_what_cannot_be_encoded():
    from lmhelpers.tokenizers import train_tokenizer

    corpus = "가나다라 마바사.\n아자차카 타파하 가나다라마바사.\n"
    tok = train_tokenizer("char", corpus)
    assert nbh.text_parameter("prompt", None, tok, corpus) == "아자차카 타파하 가나다라마바사."
    assert nbh.text_parameter("prompt", "가나", tok, corpus) == "가나"
    with pytest.raises(nbh.ParameterError, match="parameter sentence='ROMEO:' cannot be used here"):
        nbh.text_parameter("sentence", "ROMEO:", tok, corpus)


def test_a_new_preset_needs_only_its_entry_in_config(monkeypatch):
    """Adding a preset touches config.PRESETS only: validation, CLI, notebook 00 and advice all see it."""
    from lmhelpers import config
    from lmhelpers.cli import build_parser
    from lmhelpers.device import recommend_preset
    from lmhelpers.out_of_memory import out_of_memory_message

    huge = config.Preset(
        "a machine with 200 GB",
        data=dict(tokenizer="char"),
        model=dict(n_layer=2, n_head=2, n_embd=16, block_size=16),
        train=dict(max_iters=3, batch_size=2),
        gpu_memory_gb=200,
    )
    monkeypatch.setitem(config.PRESETS, "huge", huge)
    assert nbh.notebook_config("huge").model.n_embd == 16  # the notebooks' validation
    assert build_parser().parse_args(["series", "--preset", "huge"]).preset == "huge"  # the CLI's choices
    assert "| `huge` | char | 2 x 16 | 16 | 3 x 2 | a machine with 200 GB |" in config.presets_markdown()
    assert recommend_preset({"device": "cuda", "gpu_memory_gb": 240, "device_name": "X"})[0] == "huge"
    assert recommend_preset({"device": "cuda", "gpu_memory_gb": 80, "device_name": "X"})[0] == "reference"
    assert "a smaller preset ('reference' or 't4')" in out_of_memory_message(
        config.make_config("huge"), 1, None
    )
