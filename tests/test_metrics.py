import math

import pytest
import torch
from torch import nn

from lmhelpers.checkpoint import load_trained
from lmhelpers.config import ModelConfig, make_config
from lmhelpers.data import TokenDataset
from lmhelpers.evaluation import evaluate_model
from lmhelpers.experiment import prepare_data, run_experiment
from lmhelpers.metrics import (
    bits_per_char,
    causality_check,
    loss_by_position,
    perplexity,
    position_losses,
    summarize_loss,
)
from lmhelpers.models import build_model
from lmhelpers.report import prompt_samples, write_summary


def test_perplexity_and_bits():
    assert perplexity(0.0) == 1.0
    assert perplexity(math.log(65)) == pytest.approx(65)
    # A uniform guess over 2 characters costs exactly one bit per character.
    assert bits_per_char(math.log(2), 1.0) == pytest.approx(1.0)
    # A word model at 0.25 tokens/char with 4x the per-token loss costs the same bits per character.
    assert bits_per_char(4 * 1.2, 0.25) == pytest.approx(bits_per_char(1.2, 1.0))
    with pytest.raises(ValueError):
        bits_per_char(1.0, 0)
    assert math.isfinite(perplexity(1e6))


def test_summary_without_tokens_per_char():
    s = summarize_loss(1.0, None)
    assert s["bits_per_char"] is None and s["perplexity"] == pytest.approx(math.e)


class _Uniform(torch.nn.Module):
    """Position-dependent logits: confident late in the window, uniform early."""

    def forward(self, x):
        B, T = x.shape
        logits = torch.zeros(B, T, 5)
        logits[:, T // 2 :, 0] = 10.0
        return logits, None


def test_loss_by_position_shape_and_values():
    x = torch.zeros(3, 6, dtype=torch.long)
    y = torch.zeros(3, 6, dtype=torch.long)
    losses = loss_by_position(_Uniform(), [(x, y), (x, y)])
    assert len(losses) == 6
    assert losses[0] == pytest.approx(math.log(5))
    assert losses[-1] < 1e-3


def test_causality_check_passes_our_models_and_catches_a_leak():
    for arch in ("lstm", "transformer"):
        model = build_model(
            ModelConfig(arch=arch, n_layer=1, n_head=2, n_embd=16, block_size=16, vocab_size=11)
        )
        assert causality_check(model) < 1e-5

    class PeeksAhead(nn.Module):  # every position sees the mean of the whole sequence
        def __init__(self):
            super().__init__()
            self.config = ModelConfig(arch="lstm", n_embd=8, block_size=16, vocab_size=11)
            self.emb = nn.Embedding(11, 8)
            self.head = nn.Linear(8, 11)

        def forward(self, idx, targets=None):
            x = self.emb(idx)
            return self.head(x + x.mean(dim=1, keepdim=True)), None

    assert causality_check(PeeksAhead()) > 1e-3


def test_causality_check_restores_training_mode():
    model = build_model(ModelConfig(arch="gru", n_layer=1, n_embd=8, block_size=8, vocab_size=5))
    model.train()
    causality_check(model)
    assert model.training
    assert torch.is_grad_enabled()


def test_perplexity_of_a_diverged_loss_is_capped_at_exp_700():
    # Every loss past 700 nats reports the same finite perplexity in the records.
    assert perplexity(700.0) == math.exp(700.0)
    assert perplexity(1e6) == math.exp(700.0)


class _Probe(nn.Module):
    """Records the token batches it is given. Position i's output is the next token (a one-token leak), so
    the check's figure is the change of the token right after the cut."""

    def __init__(self, block_size, device="cpu"):
        super().__init__()
        self.config = ModelConfig(arch="lstm", n_embd=8, block_size=block_size, vocab_size=11)
        self.w = nn.Parameter(torch.zeros(1, device=device))
        self.inputs = []

    def forward(self, idx, targets=None):
        self.inputs.append(idx)
        if idx.is_meta:  # no values to compute with: only where the tokens were sent matters
            return torch.zeros(*idx.shape, 1), None
        return torch.cat([idx[:, 1:], idx[:, -1:]], dim=1).float().unsqueeze(-1), None


@pytest.mark.parametrize("block_size, length", [(64, 32), (16, 16)])
def test_causality_check_compares_two_sequences_that_differ_from_the_middle_on(block_size, length):
    model = _Probe(block_size)
    change = causality_check(model)
    a, b = model.inputs
    assert a.shape == b.shape == (1, length)  # one sequence of min(block_size, 32) tokens
    cut = length // 2
    assert torch.equal(a[:, :cut], b[:, :cut]) and not torch.equal(a[:, cut:], b[:, cut:])
    assert change == abs(a[0, cut].item() - b[0, cut].item())


def test_causality_check_feeds_the_model_on_its_device():
    model = _Probe(16, device="meta")
    causality_check(model)
    assert [x.device.type for x in model.inputs] == ["meta", "meta"]


def test_causality_check_is_seeded_and_leaves_the_global_random_state_alone():
    model = _Probe(16)
    torch.manual_seed(7)
    first = causality_check(model)
    after = torch.rand(3)
    torch.manual_seed(7)
    assert torch.equal(after, torch.rand(3))
    torch.manual_seed(8)
    assert causality_check(model) == first


class _RecordingDataset(TokenDataset):
    """A TokenDataset that records the device each batch of windows is asked for."""

    def __init__(self, *args):
        super().__init__(*args)
        self.devices = []

    def windows(self, data, starts, block_size, device=None):
        self.devices.append(device)
        return TokenDataset.windows(data, starts, block_size)


@pytest.mark.parametrize("n_windows, n_batches", [(3, 1), (4, 1), (6, 2)])
def test_position_losses_scores_whole_batches_of_fixed_windows(n_windows, n_batches):
    g = torch.Generator().manual_seed(0)
    dataset = _RecordingDataset(
        torch.randint(11, (200,), generator=g), torch.randint(11, (200,), generator=g)
    )
    torch.manual_seed(0)
    model = build_model(ModelConfig(arch="gru", n_layer=1, n_embd=8, block_size=8, vocab_size=11))
    curve = position_losses(model, dataset, n_windows=n_windows, batch_size=4, seed=5)
    # n_windows rounded up to whole batches, on the model's device
    assert dataset.devices == [torch.device("cpu")] * n_batches
    starts = dataset.fixed_starts("val", n_batches, 4, 8, seed=5)
    expected = loss_by_position(model, [TokenDataset.windows(dataset.val, s, 8) for s in starts])
    assert curve == pytest.approx(expected, rel=1e-6)


def test_load_trained_and_position_losses(small_corpus, tmp_path):
    cfg = make_config("smoke", dataset=str(small_corpus), max_iters=4, eval_interval=2)
    recs = [
        run_experiment(cfg.override(arch=arch), tmp_path / arch, progress=False)
        for arch in ("gru", "transformer")
    ]
    models = [load_trained(r["checkpoint"], name=r["name"]) for r in recs]
    assert not models[0].model.training and models[0].config.model.arch == "gru"
    # The loss by context of the whole validation text, as records keep it: a window's worth for the
    # Transformer, four windows for the recurrent model, whose state reaches further.
    dataset = prepare_data(cfg, tokenizer=models[0].tokenizer).dataset
    curves = [evaluate_model(m.model, dataset)["by_context"]["loss"] for m in models]
    assert [len(c) for c in curves] == [4 * cfg.model.block_size, cfg.model.block_size]
    assert [len(r["evaluation"]["by_context"]["loss"]) for r in recs] == [len(c) for c in curves]
    # Scored on the very windows of the training run's last evaluation, the curve averages back to the
    # loss that evaluation recorded: the same model, the same batches, an independent computation.
    t = cfg.train
    for rec, m in zip(recs, models):
        c = position_losses(m.model, dataset, t.eval_iters * t.batch_size, t.batch_size, seed=t.seed + 1)
        assert sum(c) / len(c) == pytest.approx(rec["history"][-1]["val_loss"], rel=1e-4)
    md = prompt_samples(models, "First", max_new_tokens=5, temperature=0.8, seed=1)
    assert all(f"**{r['name']}** (temperature 0.8, seed 1)" in md for r in recs)
    assert md == prompt_samples(models, "First", max_new_tokens=5, temperature=0.8, seed=1)  # seeded
    text = write_summary(tmp_path)
    assert "| gru-char-smoke | gru |" in text and "sample at temperature 0.8" in text
    assert (tmp_path / "summary.md").is_file() and (tmp_path / "curves.png").is_file()
