"""lmhelpers.notebook and lmhelpers.batch without executing notebooks (that is test_notebooks.py)."""

import inspect
import json
import math

import pytest
import torch
from torch import nn

from lmhelpers import notebook as nbh
from lmhelpers.batch import route_parameters, write_summary
from lmhelpers.config import ModelConfig, make_config
from lmhelpers.experiment import run_experiment
from lmhelpers.models import build_model
from lmhelpers.rnn import RNNLanguageModel
from lmhelpers.tokenizers import GPT2Tokenizer, TokenizerUnavailable, train_tokenizer

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
    assert run.out_dir == tmp_path / "runs" / "02_rnn" and run.out_dir.is_dir()
    assert run.checkpoint_path == run.out_dir / "checkpoint.pt"
    run = nbh.prepare_run("02_rnn", tmp_path / "runs", checkpoint_dir=tmp_path / "ckpt", resume=True)
    assert run.checkpoint_path == tmp_path / "ckpt" / "02_rnn" / "checkpoint.pt"
    assert "not found yet" in run.describe()
    with pytest.raises(nbh.ParameterError, match="resume='yes'"):
        nbh.prepare_run("02_rnn", tmp_path, resume="yes")
    with pytest.raises(nbh.ParameterError, match="Google Drive folder, which exists only on Colab"):
        nbh.prepare_run("02_rnn", tmp_path, checkpoint_dir="/content/drive/MyDrive/x")


def test_saved_tokenizer_is_used_only_when_its_kind_matches(tmp_path):
    assert nbh.saved_tokenizer(tmp_path, "char") is None
    path = train_tokenizer("char", "abc").save(tmp_path / nbh.TOKENIZER_RUN / "tokenizer.json")
    assert nbh.saved_tokenizer(tmp_path, "char") == path
    assert nbh.saved_tokenizer(tmp_path, "word") is None


def test_links_come_from_the_repository_constant():
    assert nbh.colab_url("02_rnn.ipynb") == (
        "https://colab.research.google.com/github/lmhelpers/rnn-vs-transformer/blob/main/notebooks/02_rnn.ipynb"
    )
    assert nbh.install_spec() == f"lmhelpers[notebooks] @ git+{nbh.REPOSITORY}.git@{nbh.BRANCH}"
    assert nbh.colab_url("x.ipynb") in nbh.colab_badge("x.ipynb")


# ------------------------------------------------------------------------------------- display
def test_show_source_is_the_installed_source():
    text = nbh.source_markdown(RNNLanguageModel)
    assert inspect.getsource(RNNLanguageModel) in text and "lmhelpers/rnn.py" in text


def test_causality_check_passes_our_models_and_catches_a_leak():
    for arch in ("lstm", "transformer"):
        model = build_model(
            ModelConfig(arch=arch, n_layer=1, n_head=2, n_embd=16, block_size=16, vocab_size=11)
        )
        assert nbh.causality_check(model) < 1e-5

    class PeeksAhead(nn.Module):  # every position sees the mean of the whole sequence
        def __init__(self):
            super().__init__()
            self.config = ModelConfig(arch="lstm", n_embd=8, block_size=16, vocab_size=11)
            self.emb = nn.Embedding(11, 8)
            self.head = nn.Linear(8, 11)

        def forward(self, idx, targets=None):
            x = self.emb(idx)
            return self.head(x + x.mean(dim=1, keepdim=True)), None

    assert nbh.causality_check(PeeksAhead()) > 1e-3


def test_samples_and_tables():
    rec = {"samples": [{"prompt": "A", "temperature": 0.5, "seed": 1, "top_k": None, "text": "A b"}]}
    assert "**temperature 0.5**" in nbh.samples_markdown(rec) and "A b" in nbh.samples_markdown(rec)
    assert "| preset | smoke |" in nbh.config_markdown(make_config("smoke"))
    assert "`reference`" in nbh.presets_markdown()


# ----------------------------------------------------------------------------------- tokenizers
def test_compare_tokenizers(small_corpus):
    text = small_corpus.read_text()
    toks = nbh.train_tokenizers(text, 300, kinds=("word", "char", "bpe"))
    unseen = "Speak, citizen! Zounds."
    rows = {r["name"]: r for r in nbh.compare_tokenizers(toks, unseen)}
    assert rows["bpe"]["round_trip"] and rows["bpe"]["oov_rate"] == 0
    assert rows["word"]["oov_rate"] > 0 and not rows["word"]["round_trip"]
    assert rows["char"]["tokens_per_char"] is None and rows["char"]["oov_rate"] > 0  # Z is unseen
    assert "| bpe | 300 |" in nbh.tokenizer_table(list(rows.values()))
    assert nbh.token_pieces(toks["char"], "사").startswith("cannot encode")
    assert "".join(nbh.token_pieces(toks["bpe"], "Speak")) == "Speak"


def test_gpt2_is_skipped_with_a_message_when_unavailable(monkeypatch, capsys, small_corpus):
    def offline(self):
        raise TokenizerUnavailable("no cached GPT-2 files")

    monkeypatch.setattr(GPT2Tokenizer, "__init__", offline)
    toks = nbh.train_tokenizers(small_corpus.read_text(), 300, kinds=("char", "gpt2"))
    assert list(toks) == ["char"] and "skipping gpt2: no cached GPT-2 files" in capsys.readouterr().out


# ----------------------------------------------------------------------------------- comparison
def _record(name, arch, bpc, loss, tps, times, params, tokenizer="char", gen=1000.0):
    tpc = bpc * math.log(2) / loss
    history = [
        {"step": i * 10, "train_time": t, "val_loss": loss + (len(times) - 1 - i) * 0.5, "train_loss": loss}
        for i, t in enumerate(times)
    ]
    return {
        "name": name,
        "config": {"model": {"arch": arch}, "data": {"tokenizer": tokenizer}},
        "model": {"params": params},
        "tokenizer": {"tokens_per_char": tpc},
        "history": history,
        "final": {
            "loss": loss,
            "perplexity": math.exp(loss),
            "bits_per_char": bpc,
            "train_loss": loss,
            "step": 20,
        },
        "timings": {
            "tokens_per_second": tps,
            "generation_tokens_per_second": gen,
            "train_seconds": times[-1],
        },
        "environment": {"device": "cpu"},
    }


def test_describe_comparison_reads_the_numbers():
    a = _record("lstm", "lstm", 2.0, 1.4, 30000.0, [0, 5, 10], 500_000)
    b = _record("gpt", "transformer", 1.8, 1.26, 10000.0, [0, 15, 30], 800_000)
    curves = {"lstm": [2.0, 1.6, 1.5, 1.5], "gpt": [2.0, 1.58, 1.3, 1.2]}
    text = "\n".join(nbh.describe_comparison([a, b], curves))
    assert "gpt reaches 1.800 bits per character" in text and "lstm 2.000" in text
    assert "0.200 fewer bits per character (10.0% less)" in text
    assert "same char tokenizer" in text
    assert "lstm trains on 30,000 tokens per second and gpt on 10,000 (3.0x on cpu)" in text
    assert "At equal training time, 10 s (when lstm finished)" in text
    assert "gpt has 800,000 parameters, 1.6x" in text
    assert "separate from position 3 of 4 on: gpt stays more than 0.05 nats below lstm" in text


def test_overfitting_is_a_rising_validation_loss_not_just_a_gap():
    a = _record("a", "lstm", 2.0, 1.4, 100.0, [0, 5, 10], 10)
    b = _record("b", "transformer", 1.9, 1.3, 100.0, [0, 5, 10], 10)
    a["history"][-1]["train_loss"] = 1.2  # a gap of 0.2 nats, validation still falling
    b["history"][1]["val_loss"] = 1.25  # best at step 10, then up to 1.3
    text = "\n".join(nbh.describe_comparison([a, b]))
    assert "a ends 0.20 nats lower on training text" in text and "not yet overfitting" in text
    assert "b is overfitting: its validation loss rose from 1.250 at step 10 to 1.300" in text


def test_describe_comparison_other_cases():
    a = _record("a", "lstm", 2.0, 1.4, 100.0, [0, 10], 10, tokenizer="char")
    b = _record("b", "transformer", 2.002, 0.5, 100.0, [0, 10], 10, tokenizer="word")
    b["final"]["step"] = 40
    text = "\n".join(nbh.describe_comparison([a, b], {"a": [1.0, 1.0], "b": [1.01, 1.0]}))
    assert "different numbers of steps" in text and "end level" in text
    assert "different tokenizers (char, word)" in text and "never part for good" in text
    with pytest.raises(ValueError, match="at least two"):
        nbh.describe_comparison([a])


def test_load_trained_and_position_losses(small_corpus, tmp_path):
    cfg = make_config("smoke", dataset=str(small_corpus), max_iters=4, eval_interval=2)
    recs = [
        run_experiment(cfg.override(arch=arch), tmp_path / arch, progress=False)
        for arch in ("gru", "transformer")
    ]
    models = [nbh.load_trained(r["checkpoint"], name=r["name"]) for r in recs]
    assert not models[0].model.training and models[0].config.model.arch == "gru"
    curves = nbh.position_losses(models)
    assert list(curves) == [r["name"] for r in recs]
    assert all(len(c) == cfg.model.block_size for c in curves.values())
    # The last history row is the loss on the same fixed batches: the curves average back to it.
    for rec, c in zip(recs, curves.values()):
        assert sum(c) / len(c) == pytest.approx(rec["history"][-1]["val_loss"], rel=1e-4)
    md = nbh.prompt_samples(models, "First", max_new_tokens=5, temperature=0.8, seed=1)
    assert all(f"**{r['name']}** (temperature 0.8, seed 1)" in md for r in recs)
    assert md == nbh.prompt_samples(models, "First", max_new_tokens=5, temperature=0.8, seed=1)  # seeded
    text = write_summary(tmp_path)
    assert "| gru-char-smoke | gru |" in text and "sample at temperature 0.8" in text
    assert (tmp_path / "summary.md").is_file() and (tmp_path / "curves.png").is_file()


def test_eval_printer_and_resume_message(tmp_path):
    lines = []
    nbh.eval_printer(lines.append)({"step": 200, "train_loss": 1.5, "val_loss": 1.6, "train_time": 12.0})
    assert lines == ["step    200 | train loss 1.500 | val loss 1.600 | 12 s training"]
    run = nbh.prepare_run("x", tmp_path)
    assert "training from step 0" in nbh.resume_if_asked(None, run)


# ---------------------------------------------------------------------------------------- batch
def test_route_parameters():
    declared = [{"run_dir": 1}, {"preset": 1, "arch": 1, "settings": 1}, {"preset": 1, "settings": 1}]
    routed = route_parameters({"preset": "smoke", "arch": "gru", "n_layer": 2}, declared)
    assert routed[0] == {}
    assert routed[1] == {"preset": "smoke", "arch": "gru", "settings": {"n_layer": 2}}
    assert routed[2] == {"preset": "smoke", "settings": {"n_layer": 2}}  # arch is 02's, not 03's
    with pytest.raises(ValueError, match=r"unknown parameters \['epochs'\]"):
        route_parameters({"epochs": 3}, declared)


def test_write_summary_without_records_is_none(tmp_path):
    assert write_summary(tmp_path) is None
    (tmp_path / "x.json").write_text(json.dumps({}))
    assert write_summary(tmp_path) is None


def test_causality_check_restores_training_mode():
    model = build_model(ModelConfig(arch="gru", n_layer=1, n_embd=8, block_size=8, vocab_size=5))
    model.train()
    nbh.causality_check(model)
    assert model.training
    assert torch.is_grad_enabled()


def test_show_image_displays_the_saved_file_and_names_a_missing_one(tmp_path):
    png = tmp_path / "curves.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    shown = nbh.show_image(png)
    assert shown.data == png.read_bytes() and shown.format == "png"
    with pytest.raises(FileNotFoundError, match="no image at .*missing.png"):
        nbh.show_image(tmp_path / "missing.png")
