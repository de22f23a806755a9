"""Stateful training of the recurrent models: contiguous streams, a carried and detached state, exact resume."""

import pytest
import torch

from lmhelpers.config import ConfigError, make_config
from lmhelpers.data import DataError, TokenDataset, split_text
from lmhelpers.experiment import with_vocab
from lmhelpers.models import build_model
from lmhelpers.tokenizers import train_tokenizer
from lmhelpers.training import Trainer


@pytest.fixture()
def setup(small_corpus):
    text = small_corpus.read_text()
    train, val = split_text(text, 0.2)
    tok = train_tokenizer("char", text)
    return tok, TokenDataset.from_text(train, val, tok)


def _trainer(setup, tmp_path, arch="lstm", **over):
    tok, ds = setup
    settings = dict(arch=arch, stateful=True, max_iters=12, eval_interval=6, eval_iters=2, batch_size=4)
    cfg = with_vocab(make_config("smoke", **{**settings, "block_size": 16, **over}), tok)
    torch.manual_seed(0)
    model = build_model(cfg.model)
    return Trainer(
        model, ds, cfg, tokenizer=tok, device="cpu", checkpoint_path=tmp_path / "ck.pt", progress=False
    )


def test_each_row_reads_on_where_the_last_window_ended():
    data = torch.arange(103)
    ds = TokenDataset(data, data[:20])
    rows, block = 4, 5  # streams of 25 tokens: 4 full windows each (the 5th would need token 26)
    x0, y0, first0 = ds.stream_windows("train", rows, block, 0)
    x1, _, first1 = ds.stream_windows("train", rows, block, 1)
    assert first0 and not first1
    assert x0[:, 0].tolist() == [0, 25, 50, 75]
    assert torch.equal(x1[:, 0], x0[:, -1] + 1) and torch.equal(y0, x0 + 1)
    x4, _, again = ds.stream_windows("train", rows, block, 4)  # the pass is over: back to the start
    assert again and torch.equal(x4, x0)
    with pytest.raises(DataError, match="Lower batch_size or block_size"):
        ds.stream_windows("train", 50, block, 0)


def test_a_window_from_the_carried_state_continues_the_text_exactly():
    cfg = make_config("smoke", arch="gru", n_layer=2).model
    cfg.vocab_size = 11
    torch.manual_seed(1)
    model = build_model(cfg).eval()
    ids = torch.randint(11, (2, 24))
    with torch.no_grad():
        whole, _ = model(ids)
        first, _, state = model(ids[:, :10], state=model.init_state(2))
        rest, _, _ = model(ids[:, 10:], state=state)
    torch.testing.assert_close(torch.cat([first, rest], 1), whole)


@pytest.mark.parametrize("arch", ["rnn", "gru", "lstm"])
def test_training_carries_a_detached_state_from_step_to_step(setup, tmp_path, arch):
    trainer = _trainer(setup, tmp_path, arch)
    assert trainer.stream_state is None
    trainer.train_step()
    state = trainer.stream_state
    parts = state if isinstance(state, tuple) else (state,)
    assert all(not p.requires_grad and p.abs().sum() > 0 for p in parts)
    assert parts[0].shape == (1, 4, 32)  # n_layer, batch rows, width


def test_stateful_training_resumes_to_the_same_weights(setup, tmp_path):
    straight = _trainer(setup, tmp_path / "a")
    straight.fit()
    first = _trainer(setup, tmp_path / "b")
    first.fit(until=6)
    first.save()
    again = _trainer(setup, tmp_path / "b")
    assert again.resume() == 6
    assert torch.equal(again.stream_state[0], first.stream_state[0])
    again.fit()
    for a, b in zip(straight.model.state_dict().values(), again.model.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_stateful_training_differs_from_random_windows(setup, tmp_path):
    stateful = _trainer(setup, tmp_path / "s")
    windows = _trainer(setup, tmp_path / "w", stateful=False)
    stateful.fit()
    windows.fit()
    assert stateful.history[-1]["val_loss"] != windows.history[-1]["val_loss"]


def test_stateful_is_for_the_recurrent_families_and_a_transformer_never_claims_it():
    # Settings shared by both families (a series, compare, notebook 04) may say stateful: the
    # Transformer's config, and so its record, says False.
    assert make_config("smoke", arch="transformer", stateful=True).train.stateful is False
    assert make_config("smoke", arch="lstm", stateful=True).train.stateful is True
    assert (
        make_config("smoke", arch="lstm", stateful=True).override(arch="transformer").train.stateful is False
    )
    with pytest.raises(ConfigError, match="stateful"):
        make_config("smoke", arch="lstm", stateful="yes")


@pytest.mark.parametrize("windows", [1, 2])
def test_streams_of_exactly_n_windows_plus_one_token_give_n_windows(windows):
    rows, block = 3, 4
    data = torch.arange(rows * (windows * block + 1))  # each stream: the windows and the last target
    ds = TokenDataset(data, data[:10])
    firsts = [ds.stream_windows("train", rows, block, i)[2] for i in range(2 * windows)]
    assert firsts == ([True, False] * 2 if windows == 2 else [True, True])
    x, y, _ = ds.stream_windows("train", rows, block, windows - 1)
    assert y[:, -1].tolist() == [(r + 1) * (windows * block + 1) - 1 for r in range(rows)]  # the last token


def test_the_state_starts_afresh_where_each_pass_over_the_streams_begins(setup, tmp_path, monkeypatch):
    trainer = _trainer(setup, tmp_path, "gru")
    _, ds = setup
    n_windows = (len(ds.split("train")) // 4 - 1) // 16  # batch_size 4 streams, block_size 16
    resets, init_state = [], trainer.model.init_state
    monkeypatch.setattr(
        trainer.model, "init_state", lambda rows: resets.append(trainer.step) or init_state(rows)
    )
    for _ in range(2 * n_windows + 1):
        trainer.train_step()
    assert resets == [0, n_windows, 2 * n_windows]


def test_stream_batches_go_to_the_trainers_device(setup, tmp_path):
    trainer = _trainer(setup, tmp_path)
    trainer.device = torch.device("meta")  # a device no CPU tensor is on: the batch must be moved there
    x, y = trainer._stream_batch()
    assert (x.device.type, y.device.type) == ("meta", "meta")
