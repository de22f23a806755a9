import math
from pathlib import Path

import pytest
import torch
from _same_run import assert_same_run

from lmhelpers import distributed, training
from lmhelpers.checkpoint import CheckpointError, load_checkpoint
from lmhelpers.config import make_config
from lmhelpers.data import TokenDataset, split_text
from lmhelpers.experiment import with_vocab
from lmhelpers.models import build_model
from lmhelpers.tokenizers import train_tokenizer
from lmhelpers.training import Trainer, TrainingDiverged, TrainingOutOfMemory, lr_at, make_optimizer


@pytest.fixture()
def setup(small_corpus):
    text = small_corpus.read_text()
    train, val = split_text(text, 0.2)
    tok = train_tokenizer("char", text)
    ds = TokenDataset.from_text(train, val, tok)
    return tok, ds


def _trainer(setup, tmp_path, arch="transformer", seed_init=0, **over):
    tok, ds = setup
    settings = dict(
        arch=arch, dropout=0.1, max_iters=12, eval_interval=4, eval_iters=2, batch_size=4, block_size=16
    )
    cfg = make_config("smoke", **{**settings, **over})
    cfg = with_vocab(cfg, tok)
    torch.manual_seed(seed_init)
    model = build_model(cfg.model)
    return Trainer(
        model, ds, cfg, tokenizer=tok, device="cpu", checkpoint_path=tmp_path / "ck.pt", progress=False
    )


def test_lr_schedule_warms_up_then_decays():
    cfg = make_config("smoke", max_iters=100, warmup_iters=10, learning_rate=1e-3, min_lr=1e-4).train
    lrs = [lr_at(s, cfg) for s in range(100)]
    assert lrs[0] < lrs[5] < lrs[9] < 1e-3
    assert lrs[10] == pytest.approx(1e-3)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:]))
    assert lr_at(100, cfg) == pytest.approx(1e-4)


def test_weight_decay_on_matrices_only(setup, tmp_path):
    tr = _trainer(setup, tmp_path)
    decay, no_decay = tr.optimizer.param_groups
    assert decay["weight_decay"] > 0 and all(p.dim() >= 2 for p in decay["params"])
    assert no_decay["weight_decay"] == 0 and all(p.dim() < 2 for p in no_decay["params"])
    assert make_optimizer(tr.model, tr.config.train, torch.device("cpu")).defaults["lr"] > 0


@pytest.mark.parametrize("arch", ["transformer", "lstm"])
def test_training_lowers_the_loss_and_logs_history(setup, tmp_path, arch):
    tr = _trainer(setup, tmp_path, arch=arch, max_iters=40, eval_interval=20, learning_rate=1e-2)
    hist = tr.fit()
    assert [r["step"] for r in hist] == [0, 20, 40]
    assert hist[-1]["val_loss"] < hist[0]["val_loss"] - 0.4  # from ~ln(34) = 3.5
    assert hist[-1]["tokens"] == 40 * 4 * 16 and tr.tokens_per_second > 0
    assert all(math.isfinite(r["train_loss"]) for r in hist)


@pytest.mark.parametrize("arch", ["transformer", "lstm"])
def test_resume_mid_run_ends_at_the_same_weights(setup, tmp_path, arch):
    full = _trainer(setup, tmp_path / "full", arch=arch)
    full.fit()

    part = _trainer(setup, tmp_path / "part", arch=arch)
    part.fit(until=8)  # checkpoints at 4 and 8, then the "session" ends
    assert part.step == 8

    # A fresh process would build the model from scratch: use different initial weights to prove loading.
    resumed = _trainer(setup, tmp_path / "part", arch=arch, seed_init=99)
    assert resumed.resume() == 8
    resumed.fit()
    assert_same_run(full.model.state_dict(), full.history, resumed)


def test_resume_refuses_another_configuration(setup, tmp_path):
    _trainer(setup, tmp_path).fit(until=4)
    other = _trainer(setup, tmp_path, n_layer=2)
    with pytest.raises(
        CheckpointError, match=r"ck\.pt belongs to another run(.|\n)*model\.n_layer: checkpoint 1, this run 2"
    ):
        other.resume()


def test_resume_refuses_another_tokenizer(setup, tmp_path, small_corpus):
    tr = _trainer(setup, tmp_path)
    tr.fit(until=4)
    _, ds = setup
    tr2 = _trainer(setup, tmp_path)
    tr2.tokenizer = train_tokenizer("char", small_corpus.read_text() + "#")
    with pytest.raises(CheckpointError, match="different vocabulary"):
        tr2.resume()


class _Exploding(torch.nn.Module):
    """Wraps a model; its loss turns NaN after a few calls."""

    def __init__(self, inner, after):
        super().__init__()
        self.inner, self.after, self.calls = inner, after, 0

    def forward(self, x, y=None):
        logits, loss = self.inner(x, y)
        if self.inner.training:
            self.calls += 1
            if self.calls > self.after:
                loss = loss * float("nan")
        return logits, loss


def test_nan_loss_stops_with_step_and_checkpoint(setup, tmp_path):
    tr = _trainer(setup, tmp_path)
    tr.forward = _Exploding(tr.model, after=6)
    with pytest.raises(TrainingDiverged, match=r"nan at step 7; the last good checkpoint is .*ck\.pt"):
        tr.fit()
    assert tr.last_checkpoint is not None and tr.last_checkpoint.exists()


def _out_of_memory_when_training(self, x, y=None):
    if self.training:  # evaluation still fits; the training step (with gradients) does not
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    return type(self).__wrapped_forward__(self, x, y)


def test_out_of_memory_names_the_settings_and_what_to_change(setup, tmp_path, monkeypatch):
    tr = _trainer(setup, tmp_path, arch="lstm")
    monkeypatch.setattr(type(tr.model), "__wrapped_forward__", type(tr.model).forward, raising=False)
    monkeypatch.setattr(type(tr.model), "forward", _out_of_memory_when_training)
    with pytest.raises(TrainingOutOfMemory) as err:
        tr.fit()
    msg = str(err.value)
    for expected in (
        "out of memory at step 0",
        "preset 'smoke'",
        "batch_size=4",
        "block_size=16",
        "batch_size=2",
        "block_size=8",
        "new output folder",
        "Tried to allocate 2.00 GiB",
    ):
        assert expected in msg
    assert isinstance(err.value, torch.OutOfMemoryError)  # code that catches torch's error still does
    assert all(p.grad is None for p in tr.model.parameters())  # gradients freed for the next attempt


def test_out_of_memory_on_apple_mps_is_explained_too(setup, tmp_path, monkeypatch):
    # MPS reports running out of memory as a plain RuntimeError with this text.
    mps_message = "MPS backend out of memory (MPS allocated: 17.2 GB, other allocations: 1.3 GB)"
    tr = _trainer(setup, tmp_path)

    def forward(x, y=None):
        raise RuntimeError(mps_message)

    tr.forward = forward
    with pytest.raises(TrainingOutOfMemory, match="batch_size=2") as err:
        tr.fit()
    assert mps_message in str(err.value)


def test_other_runtime_errors_are_not_called_out_of_memory(setup, tmp_path):
    tr = _trainer(setup, tmp_path)

    def forward(x, y=None):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (8x16 and 32x16)")

    tr.forward = forward
    with pytest.raises(RuntimeError, match="shapes cannot be multiplied") as err:
        tr.fit()
    assert not isinstance(err.value, TrainingOutOfMemory)


def test_out_of_memory_through_the_command_line(small_corpus, tmp_path, monkeypatch, capsys):
    from lmhelpers.cli import main
    from lmhelpers.transformer import TransformerLanguageModel

    monkeypatch.setattr(
        TransformerLanguageModel, "__wrapped_forward__", TransformerLanguageModel.forward, raising=False
    )
    monkeypatch.setattr(TransformerLanguageModel, "forward", _out_of_memory_when_training)
    argv = [
        "train",
        "--preset",
        "cpu",
        "--arch",
        "transformer",
        "--out",
        str(tmp_path),
        "--no-progress",
        "--set",
        f"dataset={small_corpus}",
        "--set",
        "block_size=48",
        "--set",
        "eval_iters=1",
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the GPU ran out of memory at step 0") and "Traceback" not in err
    assert "preset 'cpu', batch_size=32, block_size=48" in err
    assert "batch_size=16" in err and "a smaller preset ('smoke')" in err
    assert not (tmp_path / "transformer" / "record.json").exists()


def test_make_optimizer_fuses_on_cpu_and_builds_the_same_groups_elsewhere(setup, tmp_path):
    tr = _trainer(setup, tmp_path, learning_rate=2e-3, beta1=0.8, beta2=0.9, weight_decay=0.2)
    fused = make_optimizer(tr.model, tr.config.train, torch.device("cpu"))
    plain = make_optimizer(tr.model, tr.config.train, torch.device("mps"))  # builds only: no MPS needed
    assert fused.defaults["fused"] is True  # one kernel for all parameters (CPU from torch 2.4)
    assert not plain.defaults["fused"]
    sizes = [len(g["params"]) for g in tr.optimizer.param_groups]
    for opt in (fused, plain):
        assert [len(g["params"]) for g in opt.param_groups] == sizes
        assert [g["weight_decay"] for g in opt.param_groups] == [0.2, 0.0]
        assert all(g["lr"] == 2e-3 and g["betas"] == (0.8, 0.9) for g in opt.param_groups)


class _Bigram(torch.nn.Module):
    """A model of the user's own with no carried state (no init_state)."""

    def __init__(self, vocab_size: int):
        super().__init__()
        self.table = torch.nn.Embedding(vocab_size, vocab_size)

    def forward(self, x, y=None):
        logits = self.table(x)
        loss = None if y is None else torch.nn.functional.cross_entropy(logits.flatten(0, 1), y.flatten())
        return logits, loss


def test_any_model_trains_but_only_a_model_with_a_state_trains_statefully(setup):
    tok, ds = setup
    for stateful in (False, True):
        cfg = with_vocab(
            make_config("smoke", arch="lstm", stateful=stateful, block_size=16, eval_iters=1), tok
        )
        Trainer(
            build_model(cfg.model), ds, cfg, device="cpu", progress=False
        )  # the recurrent families have one
        if stateful:
            with pytest.raises(ValueError, match="init_state"):
                Trainer(_Bigram(tok.vocab_size), ds, cfg, device="cpu", progress=False)
        else:
            tr = Trainer(_Bigram(tok.vocab_size), ds, cfg, device="cpu", progress=False)
            tr.train_step()
            assert tr.step == 1


def test_the_model_is_moved_to_the_trainers_device(setup):
    tok, ds = setup
    cfg = with_vocab(make_config("smoke", block_size=16, eval_iters=1), tok)
    # "meta" stands in for a GPU: a device the model is not on, where nothing is computed.
    tr = Trainer(build_model(cfg.model), ds, cfg, device="meta", progress=False)
    assert {p.device.type for p in tr.model.parameters()} == {"meta"}


def test_compile_sends_every_step_through_torch_compile(setup, tmp_path, monkeypatch):
    compiled = []

    def fake_compile(fn):  # the real one takes seconds; this one only records what it was given
        def run(*args, **kwargs):
            compiled.append(fn)
            return fn(*args, **kwargs)

        return run

    monkeypatch.setattr(torch, "compile", fake_compile)
    tr = _trainer(setup, tmp_path, compile=True)
    tr.train_step()
    tr.train_step()
    assert compiled == [tr.model, tr.model]


def test_a_rank_seeds_its_own_dropout_and_counts_the_global_batch(setup, tmp_path, monkeypatch):
    rank_1_of_2 = distributed.DistInfo(rank=1, world_size=2, local_rank=1)
    monkeypatch.setattr(distributed, "setup", lambda device: (rank_1_of_2, device))
    tr = _trainer(setup, tmp_path, seed=5)
    assert torch.initial_seed() == 5 + 1  # dropout masks differ from rank to rank
    tr.train_step()
    assert tr.tokens_seen == 4 * 16 * 2  # batch_size rows on each of the 2 ranks


def test_the_settings_history_grows_over_resumes_that_change_max_iters(setup, tmp_path):
    def stretches(trainer):
        return [
            (s["from_step"], s["to_step"], s["settings"]["max_iters"])
            for s in trainer.state_dict()["settings_history"]
        ]

    _trainer(setup, tmp_path, max_iters=8).fit(until=4)
    second = _trainer(setup, tmp_path, max_iters=12)
    second.resume()
    second.fit(until=8)
    third = _trainer(setup, tmp_path, max_iters=16)
    third.resume()
    assert stretches(third) == [(0, 4, 8), (4, 8, 12), (8, 8, 16)]
    # A checkpoint written before settings were kept: its own config held from step 0.
    ck = tmp_path / "ck.pt"
    state = torch.load(ck, weights_only=True)
    del state["settings_history"]
    torch.save(state, ck)
    old = _trainer(setup, tmp_path, max_iters=20)
    old.resume()
    assert stretches(old) == [(0, 8, 12), (8, 8, 20)]


def test_resume_reads_the_checkpoint_onto_the_trainers_device(setup, tmp_path, monkeypatch):
    _trainer(setup, tmp_path).fit(until=4)
    asked = []
    real = training.load_checkpoint
    monkeypatch.setattr(training, "load_checkpoint", lambda path, **kw: asked.append(kw) or real(path, **kw))
    assert _trainer(setup, tmp_path).resume() == 4
    assert asked == [{"map_location": torch.device("cpu")}]  # a GPU's checkpoint resumes on a CPU too


def test_resume_restores_the_grad_scalers_loss_scale(setup, tmp_path):
    # float16 on CUDA scales the loss; a CPU GradScaler stands in for CUDA's here.
    first = _trainer(setup, tmp_path)
    first.scaler = torch.amp.GradScaler("cpu", init_scale=256.0, growth_interval=1)
    first.fit(until=4)  # no inf: the scale doubles at every step
    again = _trainer(setup, tmp_path)
    again.scaler = torch.amp.GradScaler("cpu", init_scale=2.0, growth_interval=1)
    again.resume()
    assert again.scaler.get_scale() == first.scaler.get_scale() == 256.0 * 2**4


def test_without_a_path_or_a_tokenizer_the_checkpoint_is_checkpoint_pt_here(setup, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    tok, ds = setup
    cfg = with_vocab(make_config("smoke", block_size=16, batch_size=4, eval_iters=1), tok)

    def trainer():
        return Trainer(build_model(cfg.model), ds, cfg, device="cpu", progress=False)

    first = trainer()
    for _ in range(3):
        first.train_step()
    first.save()
    assert Path("checkpoint.pt").is_file()
    assert trainer().resume() == 3
    state = load_checkpoint("checkpoint.pt")
    assert state["tokenizer"] is None  # nothing to compare a later resume's tokenizer with
    assert state["scheduler"] == {"name": "warmup_cosine", "step": 3}
    assert state["stream_state"] is None  # not stateful: no state carried between steps
