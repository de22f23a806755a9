"""Every figure the project reports, checked against an independent computation on data where the
wrong computation gives a different answer.

* Validation and training losses on splits that differ, each with exactly one possible window, so the
  expected loss is computed here from the raw ids with the model in eval mode, with no help from the
  trainer's own batch helpers.
* Bits per character on Korean text, where characters and UTF-8 bytes differ three to one.
* The train/validation split on a text with no period (seeded random characters), at its exact boundary.
"""

from __future__ import annotations

import math
import random

import pytest
import torch

from lmhelpers import build_model, make_config, prepare_data, run_experiment, with_vocab
from lmhelpers.config import ModelConfig
from lmhelpers.data import DataError, TokenDataset, split_text
from lmhelpers.metrics import bits_per_char, loss_by_position, perplexity, summarize_loss
from lmhelpers.tokenizers import train_tokenizer
from lmhelpers.training import Trainer

LN2 = math.log(2)  # written out here, not imported: the figures are recomputed independently

# Original Korean text for these tests (three UTF-8 bytes per Hangul syllable).
KOREAN = (
    "봄비가 그친 저녁, 작은 책방 창가에 앉아 오래된 지도를 펼쳤다.\n"
    "강을 따라 걷던 길과 이름 모를 언덕이 종이 위에서 다시 살아났다.\n"
    "주인은 따뜻한 보리차를 내어 주며 내일은 맑겠다고 말했다.\n"
    "나는 연필로 작은 별을 그려 넣고 다음 여행을 꿈꾸었다.\n"
)


def _random_text(n: int, alphabet: str, seed: int) -> str:
    """Seeded random characters: no period, so a slice copied from elsewhere cannot pass for the split."""
    rng = random.Random(seed)
    return "".join(rng.choice(alphabet) for _ in range(n))


# ------------------------------------------------------------------------------ the split


@pytest.mark.parametrize(
    "n, fraction, cut",
    [(1000, 0.1, 900), (997, 0.13, 867), (10, 0.5, 5), (333, 0.25, 249), (7, 0.5, 3)],
)
def test_split_takes_the_last_fraction_of_the_characters(n, fraction, cut):
    text = _random_text(n, "abcdefghijklmnopqrstuvwxyz ,.\n", seed=n)
    train, val = split_text(text, fraction)
    assert len(train) == cut and len(val) == n - cut  # cut = floor(n * (1 - fraction)), written out
    assert train == text[:cut] and val == text[cut:]
    if 0 < cut < n:  # not a copy of the start, not a shifted window: random text has no period
        assert val != text[: len(val)] and train != text[len(val) :]


def test_split_defaults_to_a_tenth_and_refuses_an_empty_part():
    text = _random_text(250, "xyz", seed=2)
    assert split_text(text) == (text[:225], text[225:])
    for fraction in (0.9, 1e-17):  # 5 * 0.1 rounds down to 0 characters; 1 - 1e-17 == 1.0 keeps them all
        with pytest.raises(DataError, match="cannot be split"):
            split_text(text[:5], fraction)
    for fraction in (0, 1, -0.1, 1.5):
        with pytest.raises(DataError, match="strictly between 0 and 1"):
            split_text(text, fraction)


def test_split_counts_characters_not_bytes():
    text = _random_text(400, "가나다라마바사아자차카타파하 ", seed=3)
    train, val = split_text(text, 0.1)
    assert (len(train), len(val)) == (360, 40) and train + val == text
    assert val == text[360:]


def test_prepared_data_encodes_exactly_the_split_texts(tmp_path):
    text = _random_text(3000, "abcdefghij klmnop\n", seed=11)
    path = tmp_path / "random.txt"
    path.write_text(text, encoding="utf-8")
    prep = prepare_data(make_config("smoke", dataset=str(path), val_fraction=0.2, block_size=8))
    assert prep.train_text == text[:2400] and prep.val_text == text[2400:]
    assert prep.tokenizer.decode(prep.dataset.train.tolist()) == text[:2400]
    assert prep.tokenizer.decode(prep.dataset.val.tolist()) == text[2400:]


# ------------------------------------------------------------------------------ bits per character


@pytest.mark.parametrize("kind, vocab_size", [("char", 0), ("bpe", 300), ("word", 30)])
def test_tokens_per_char_counts_characters_of_non_ascii_text(kind, vocab_size):
    text = KOREAN * 6
    train, val = split_text(text, 0.25)
    tok = train_tokenizer(kind, train, vocab_size) if vocab_size else train_tokenizer(kind, train)
    ds = TokenDataset.from_text(train, val, tok)
    n_tokens, n_chars = len(tok.encode(val)), len(val)
    assert len(val.encode("utf-8")) > 2 * n_chars  # bytes and characters really differ here
    assert ds.val_chars == n_chars
    assert ds.tokens_per_char == pytest.approx(n_tokens / n_chars, rel=1e-12)
    assert tok.tokens_per_char(val) == pytest.approx(n_tokens / n_chars, rel=1e-12)
    if kind == "char":
        assert ds.tokens_per_char == 1.0


def test_prepared_korean_corpus_describes_characters(tmp_path):
    path = tmp_path / "korean.txt"
    path.write_text(KOREAN * 5, encoding="utf-8")
    prep = prepare_data(
        make_config("smoke", dataset=str(path), tokenizer="bpe", vocab_size=280, block_size=8)
    )
    d = prep.describe()
    assert prep.val_text == (KOREAN * 5)[int(len(KOREAN * 5) * 0.9) :]
    assert d["val_chars"] == len(prep.val_text)
    assert d["val_tokens"] == len(prep.tokenizer.encode(prep.val_text))
    assert d["tokens_per_char"] == pytest.approx(d["val_tokens"] / len(prep.val_text), rel=1e-12)
    assert d["train_tokens"] == len(prep.tokenizer.encode(prep.train_text))


def test_bits_per_char_is_total_bits_over_characters():
    # 120 tokens with a mean loss of 1.7 nats describe 300 characters: 120 * 1.7 / ln 2 bits in all.
    assert bits_per_char(1.7, 120 / 300) == pytest.approx(120 * 1.7 / LN2 / 300, rel=1e-12)
    assert bits_per_char(3.0, 2.5) == pytest.approx(3.0 * 2.5 / LN2, rel=1e-12)
    assert perplexity(1.7) == pytest.approx(math.e**1.7, rel=1e-12)
    s = summarize_loss(1.7, 0.4)
    assert s == pytest.approx({"loss": 1.7, "perplexity": math.e**1.7, "bits_per_char": 1.7 * 0.4 / LN2})


def test_run_record_bits_per_char_on_a_korean_corpus(tmp_path):
    text = KOREAN * 8
    path = tmp_path / "korean.txt"
    path.write_text(text, encoding="utf-8")
    cfg = make_config(
        "smoke", dataset=str(path), arch="gru", block_size=8, max_iters=2, eval_interval=2, eval_iters=1
    )
    rec = run_experiment(cfg, tmp_path / "run", progress=False)
    val_text = text[int(len(text) * 0.9) :]  # the split, recomputed here
    tok = train_tokenizer("char", text[: int(len(text) * 0.9)])
    n_tokens, n_chars = len(tok.encode(val_text)), len(val_text)
    final, last = rec["final"], rec["history"][-1]
    assert final["loss"] == last["val_loss"] != last["train_loss"] == final["train_loss"]
    assert final["step"] == 2 and final["tokens"] == 2 * 8 * 8  # smoke batch_size 8, block 8
    assert final["bits_per_char"] == pytest.approx(final["loss"] * n_tokens / n_chars / LN2, rel=1e-9)
    assert final["perplexity"] == pytest.approx(math.exp(final["loss"]), rel=1e-9)
    assert rec["tokenizer"]["val_chars"] == n_chars


# ------------------------------------------------------------------------------ losses the trainer reports


def _one_window_trainer(arch: str, dropout: float = 0.3, **over):
    """Train and validation splits of exactly block_size + 1 tokens: each has one possible window, so
    every batch of a split is that window and its loss can be computed here from the raw ids."""
    block = 12
    train_text = "the cat sat on"[: block + 1]
    val_text = "XYZ!?xyz.,;:Q"[: block + 1]  # different characters: the two losses cannot coincide
    tok = train_tokenizer("char", train_text + val_text)
    ds = TokenDataset.from_text(train_text, val_text, tok)
    assert len(ds.train) == len(ds.val) == block + 1
    cfg = make_config(
        "smoke", arch=arch, block_size=block, dropout=dropout, batch_size=3, eval_iters=2, **over
    )
    cfg = with_vocab(cfg, tok)
    torch.manual_seed(0)
    model = build_model(cfg.model)
    return Trainer(model, ds, cfg, tokenizer=tok, device="cpu", progress=False), ds


def _loss_on(model: torch.nn.Module, ids: torch.Tensor) -> float:
    """Mean next-token cross-entropy of ``ids`` as one sequence, in eval mode, via log-softmax."""
    was = model.training
    model.eval()
    with torch.no_grad():
        logits, _ = model(ids[:-1].unsqueeze(0))
    model.train(was)
    logp = torch.log_softmax(logits[0].double(), dim=-1)
    return -logp.gather(1, ids[1:, None]).mean().item()


@pytest.mark.parametrize("arch", ["transformer", "lstm"])
def test_evaluate_measures_each_split_on_its_own_data_without_dropout(arch):
    tr, ds = _one_window_trainer(arch)
    tr.model.train()
    expected = {"train": _loss_on(tr.model, ds.train), "val": _loss_on(tr.model, ds.val)}
    assert abs(expected["train"] - expected["val"]) > 0.01  # the splits give different losses
    got = tr.evaluate()
    assert got["train"] == pytest.approx(expected["train"], abs=1e-5)
    assert got["val"] == pytest.approx(expected["val"], abs=1e-5)
    assert tr.evaluate(("val",)) == pytest.approx({"val": expected["val"]}, abs=1e-5)
    assert tr.model.training  # the mode it had is restored


def test_history_rows_are_the_losses_of_the_model_at_that_step():
    tr, ds = _one_window_trainer("transformer", max_iters=6, eval_interval=3, learning_rate=3e-2)
    before = {"train": _loss_on(tr.model, ds.train), "val": _loss_on(tr.model, ds.val)}
    rows = []
    tr.fit(until=3, callback=rows.append)
    middle = {"train": _loss_on(tr.model, ds.train), "val": _loss_on(tr.model, ds.val)}
    tr.fit(callback=rows.append)
    after = {"train": _loss_on(tr.model, ds.train), "val": _loss_on(tr.model, ds.val)}
    assert rows == tr.history and [r["step"] for r in rows] == [0, 3, 6]
    for row, want in zip(rows, (before, middle, after)):
        assert row["train_loss"] == pytest.approx(want["train"], abs=1e-5)
        assert row["val_loss"] == pytest.approx(want["val"], abs=1e-5)
    assert after["train"] < before["train"] - 0.1  # it trained on the training window
    assert [r["tokens"] for r in rows] == [0, 3 * 3 * 12, 6 * 3 * 12]


def test_loss_by_position_is_the_mean_loss_at_each_position():
    torch.manual_seed(0)
    model = build_model(
        ModelConfig(
            arch="transformer", n_layer=1, n_head=2, n_embd=16, block_size=6, dropout=0.5, vocab_size=7
        )
    ).train()
    g = torch.Generator().manual_seed(1)
    batches = [
        (torch.randint(7, (3, 6), generator=g), torch.randint(7, (3, 6), generator=g)) for _ in range(2)
    ]
    got = loss_by_position(model, batches)
    assert model.training  # its mode is restored
    model.eval()
    with torch.no_grad():
        nll = [
            -torch.log_softmax(model(x)[0].double(), -1).gather(2, y[..., None])[..., 0] for x, y in batches
        ]
    assert got == pytest.approx(torch.cat(nll).mean(0).tolist(), abs=1e-5)  # all 6 rows, eval mode
