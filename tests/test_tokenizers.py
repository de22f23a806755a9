"""Tests for lmhelpers.tokenizers and lmhelpers.bpe: round trips, vocab caps, JSON persistence, errors."""

from __future__ import annotations

import json
import os
import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from lmhelpers.bpe import GPT2_SPLIT_PATTERN, train_bpe
from lmhelpers.tokenizers import (
    TOKENIZER_KINDS,
    BPETokenizer,
    CharTokenizer,
    GPT2Tokenizer,
    TokenizerError,
    TokenizerUnavailable,
    WordTokenizer,
    load_tokenizer,
    tokenizer_from_dict,
    train_tokenizer,
)

DATA_DIR = Path(os.environ.get("LMHELPERS_DATA_DIR", Path(__file__).resolve().parents[2] / "shared" / "data"))
SMALL = (
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\r\n  Indent\ttab.\n"
)
TRICKY = [
    "안녕하세요, 세계!",
    "emoji 🎉👍🏽 and ZWJ 👨‍👩‍👧",
    "mixed\r\nnew\rlines\n\n",
    "  leading and trailing  ",
    "x",
]


@pytest.fixture(scope="module")
def corpus() -> str:
    path = DATA_DIR / "tinyshakespeare.txt"
    if not path.is_file():
        pytest.skip(f"Tiny Shakespeare not found at {path}; set LMHELPERS_DATA_DIR")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def bpe512(corpus: str) -> BPETokenizer:
    return train_tokenizer("bpe", corpus, 512)


@pytest.fixture(scope="module")
def small_bpe() -> BPETokenizer:
    return train_tokenizer("bpe", SMALL * 3 + "".join(TRICKY), 300)


@pytest.fixture(scope="module")
def gpt2() -> GPT2Tokenizer:
    default_cache = DATA_DIR / "tiktoken"
    if "TIKTOKEN_CACHE_DIR" not in os.environ and default_cache.is_dir():
        os.environ["TIKTOKEN_CACHE_DIR"] = str(default_cache)
    try:
        return GPT2Tokenizer()
    except TokenizerUnavailable as e:
        pytest.skip(f"GPT-2 files unavailable offline: {e}")


# ---------------------------------------------------------------- round trips


def test_char_round_trip_and_unknown_character() -> None:
    tok = train_tokenizer("char", SMALL)
    assert tok.lossless and tok.vocab_size == len(set(SMALL))
    assert tok.decode(tok.encode(SMALL)) == SMALL
    with pytest.raises(TokenizerError, match=r"'Z'.*'é'.*trained on a text without them"):
        tok.encode("Zé")


@pytest.mark.parametrize("text", [SMALL, *TRICKY, "<|endoftext|> is plain text"])
def test_bpe_round_trip_exact(small_bpe: BPETokenizer, text: str) -> None:
    assert small_bpe.decode(small_bpe.encode(text)) == text


def test_gpt2_round_trip_and_pieces(gpt2: GPT2Tokenizer) -> None:
    assert gpt2.vocab_size == 50257
    for text in [SMALL, *TRICKY, "<|endoftext|>"]:
        assert gpt2.decode(gpt2.encode(text)) == text
    assert gpt2.token_strings(gpt2.encode("Hello world")) == ["Hello", " world"]


def test_word_readable_round_trip() -> None:
    tok = train_tokenizer("word", SMALL, 1000)
    assert not tok.lossless and tok.unk_id == 0
    assert tok.decode(tok.encode(SMALL)) == SMALL  # every piece in vocab -> exact
    text = "Speak, stranger!\nAll   proceed.\n"
    assert tok.decode(tok.encode(text)) == "Speak, <unk><unk>\nAll<unk>proceed.\n"  # "!" and 3 spaces unseen
    assert tok.oov_rate(text) == pytest.approx(3 / 11)
    assert tok.token_strings(tok.encode("Speak, me")) == ["Speak", ",", " ", "me"]


def test_decode_accepts_arrays_and_rejects_bad_ids(small_bpe: BPETokenizer) -> None:
    torch = pytest.importorskip("torch")
    ids = small_bpe.encode(SMALL)
    assert small_bpe.decode(np.array(ids)) == SMALL
    assert small_bpe.decode(torch.tensor(ids)) == SMALL
    with pytest.raises(TokenizerError, match="out of range"):
        small_bpe.decode([small_bpe.vocab_size])
    with pytest.raises(TokenizerError, match="1-D"):
        small_bpe.decode([[1, 2]])


def test_token_strings_show_partial_utf8(small_bpe: BPETokenizer) -> None:
    pieces = small_bpe.token_strings(small_bpe.encode("hear 🎉"))
    assert "".join(pieces).startswith("hear") and len(pieces) >= 2


# ---------------------------------------------------------------- vocab caps, stats on the corpus


def test_vocab_caps(corpus: str, bpe512: BPETokenizer) -> None:
    assert train_tokenizer("word", corpus, 50).vocab_size == 50
    assert bpe512.vocab_size == 512
    tiny = "ab ab ab"
    word = train_tokenizer("word", tiny, 1000)
    assert word.vocab_size == 1 + len({"ab", " "})  # <unk> + distinct pieces, below the cap
    bpe = train_tokenizer("bpe", tiny, 1000)
    assert 256 < bpe.vocab_size < 1000  # stops early when nothing is left to merge
    assert bpe.encode(tiny) == [bpe.encode("ab")[0], bpe.encode(" ab")[0], bpe.encode(" ab")[0]]


def test_corpus_statistics(corpus: str, bpe512: BPETokenizer) -> None:
    assert train_tokenizer("char", corpus).tokens_per_char(corpus) == 1.0
    word = train_tokenizer("word", corpus, 10000)
    assert word.vocab_size == 10000 and word.oov_rate(corpus) < 0.02
    ids = bpe512.encode(corpus)
    assert bpe512.decode(ids) == corpus
    assert 0.4 < len(ids) / len(corpus) < 0.6


def test_bpe_10k_on_corpus(corpus: str) -> None:
    tok = train_tokenizer("bpe", corpus, 10000)  # speed is reported by the benchmark, not asserted here
    assert tok.vocab_size == 10000
    assert 0.25 <= tok.tokens_per_char(corpus) <= 0.30
    assert tok.decode(tok.encode(corpus[:50000])) == corpus[:50000]


# ---------------------------------------------------------------- the BPE trainer itself


def naive_bpe(text: str, vocab_size: int) -> dict[bytes, int]:
    """Reference trainer: recount every pair from scratch before each merge (slow but obviously right)."""
    freqs = Counter(regex.findall(GPT2_SPLIT_PATTERN, text))
    words = {p: list(p.encode()) for p in freqs}
    tokens = [bytes([b]) for b in range(256)]
    while len(tokens) < vocab_size:
        counts: Counter[tuple[int, int]] = Counter()
        for p, w in words.items():
            for pair in zip(w, w[1:], strict=False):
                counts[pair] += freqs[p]
        if not counts:
            break
        best = min(counts, key=lambda pair: (-counts[pair], pair))
        merged = tokens[best[0]] + tokens[best[1]]
        if merged not in tokens:
            tokens.append(merged)
        new_id = tokens.index(merged)
        for p, w in words.items():
            out, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and (w[i], w[i + 1]) == best:
                    out.append(new_id)
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            words[p] = out
    return {t: i for i, t in enumerate(tokens)}


def apply_merges_in_order(ranks: dict[bytes, int], piece: bytes) -> list[int]:
    """Replay the merges rank by rank on one pre-tokenized piece (what training did to it)."""
    parts = [bytes([b]) for b in piece]
    subs = {piece[i:j] for i in range(len(piece)) for j in range(i + 2, len(piece) + 1)}
    for token in sorted((t for t in subs if t in ranks), key=ranks.__getitem__):
        out, i = [], 0
        while i < len(parts):
            if i + 1 < len(parts) and parts[i] + parts[i + 1] == token:
                out.append(token)
                i += 2
            else:
                out.append(parts[i])
                i += 1
        parts = out
    return [ranks[p] for p in parts]


def test_incremental_trainer_matches_naive(corpus: str) -> None:
    text = corpus[:20000]
    assert train_bpe(text, 400) == naive_bpe(text, 400)


def test_tiktoken_encoding_replays_training_merges(corpus: str, bpe512: BPETokenizer) -> None:
    pieces = sorted(set(regex.findall(GPT2_SPLIT_PATTERN, corpus[:100000])))
    for piece in pieces:
        assert bpe512.encode(piece) == apply_merges_in_order(bpe512.mergeable_ranks, piece.encode()), piece


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="abc \n", min_size=1, max_size=80), st.integers(257, 300))
def test_trainer_properties_on_random_texts(text: str, vocab_size: int) -> None:
    ranks = train_bpe(text, vocab_size)
    assert ranks == naive_bpe(text, vocab_size)
    assert len(set(ranks)) == len(ranks) and sorted(ranks.values()) == list(range(len(ranks)))
    tok = BPETokenizer(ranks)
    assert tok.decode(tok.encode(text)) == text
    for piece in set(regex.findall(GPT2_SPLIT_PATTERN, text)):
        assert tok.encode(piece) == apply_merges_in_order(ranks, piece.encode())


def test_bpe_rejects_small_vocab() -> None:
    with pytest.raises(TokenizerError, match="256"):
        train_tokenizer("bpe", SMALL, 255)


@pytest.mark.parametrize("vocab_size", [300.0, "300", True])
def test_train_bpe_wants_a_whole_number_of_tokens(vocab_size: object) -> None:
    with pytest.raises(ValueError, match="256"):
        train_bpe(SMALL, vocab_size)  # type: ignore[arg-type]


# ---------------------------------------------------------------- property tests


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_bpe_round_trips_any_unicode(small_bpe: BPETokenizer, text: str) -> None:
    assert small_bpe.decode(small_bpe.encode(text)) == text


CHAR_TOK = CharTokenizer.train(SMALL)


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=CHAR_TOK.chars))
def test_char_round_trips_its_alphabet(text: str) -> None:
    assert CHAR_TOK.decode(CHAR_TOK.encode(text)) == text


WORD_TOK = WordTokenizer.train(SMALL, 20)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_word_never_crashes_and_is_exact_on_its_own_text(text: str) -> None:
    assert isinstance(WORD_TOK.decode(WORD_TOK.encode(text)), str)
    if text:
        own = WordTokenizer.train(text, 10_000)
        assert own.decode(own.encode(text)) == text


# Texts that mix words the vocabulary knows with arbitrary Unicode it mostly does not.
MIXED_TEXT = st.lists(st.one_of(st.sampled_from(WORD_TOK.vocab[1:]), st.text(max_size=6))).map("".join)


@settings(max_examples=200, deadline=None)
@given(MIXED_TEXT)
def test_word_marks_exactly_the_unknown_pieces(text: str) -> None:
    pieces = WordTokenizer.PATTERN.findall(text)
    assert "".join(pieces) == text  # every character belongs to exactly one piece
    known = set(WORD_TOK.vocab)
    ids = WORD_TOK.encode(text)
    assert ids.count(WORD_TOK.unk_id) == sum(p not in known for p in pieces)
    assert WORD_TOK.decode(ids) == "".join(p if p in known else "<unk>" for p in pieces)
    assert WORD_TOK.unknown_words(text) == list(dict.fromkeys(p for p in pieces if p not in known))


# ---------------------------------------------------------------- persistence and errors


@pytest.mark.parametrize("kind", TOKENIZER_KINDS)
def test_save_load_round_trip(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    tok = request.getfixturevalue("gpt2") if kind == "gpt2" else train_tokenizer(kind, SMALL * 2, 300)
    path = tok.save(tmp_path / "sub" / "tok.json")
    raw = path.read_bytes()
    assert raw.startswith(b"{") and not raw.startswith(b"\x80")  # JSON, not a pickle
    assert json.loads(raw)["kind"] == kind
    assert [p.name for p in path.parent.iterdir()] == ["tok.json"]  # no temp file left behind
    loaded = load_tokenizer(path)
    assert type(loaded) is type(tok) and loaded.vocab_size == tok.vocab_size
    assert loaded.encode(SMALL) == tok.encode(SMALL)
    assert tokenizer_from_dict(tok.to_dict()).encode(SMALL) == tok.encode(SMALL)


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(TokenizerError, match="no tokenizer file"):
        load_tokenizer(tmp_path / "missing.json")
    bad = tmp_path / "tok.pkl"
    bad.write_bytes(pickle.dumps({"kind": "char"}))
    with pytest.raises(TokenizerError, match="not a JSON tokenizer file"):
        load_tokenizer(bad)
    bad.write_text(json.dumps({"kind": "sentencepiece"}))
    with pytest.raises(TokenizerError, match="expected one of"):
        load_tokenizer(bad)
    bad.write_text(json.dumps({"kind": "bpe", "merges": ["!!"]}))
    with pytest.raises(TokenizerError, match="malformed"):
        load_tokenizer(bad)


def test_train_errors() -> None:
    with pytest.raises(TokenizerError, match="char.*word.*bpe.*gpt2"):
        train_tokenizer("sentencepiece", SMALL)
    with pytest.raises(TokenizerError, match="empty"):
        train_tokenizer("word", "")
    with pytest.raises(TokenizerError, match=">= 2"):
        train_tokenizer("word", SMALL, 1)
    with pytest.raises(TokenizerError, match="non-empty"):
        CHAR_TOK.tokens_per_char("")


def test_gpt2_unavailable_names_the_cache_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tiktoken.load
    import tiktoken.registry

    def offline(blobpath: str) -> bytes:
        raise ConnectionError(f"offline (simulated): cannot fetch {blobpath}")

    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path))  # empty cache
    monkeypatch.setattr(tiktoken.registry, "ENCODINGS", {})  # forget an encoding loaded earlier in-process
    monkeypatch.setattr(tiktoken.load, "read_file", offline)  # and never reach the network
    with pytest.raises(TokenizerUnavailable, match="TIKTOKEN_CACHE_DIR"):
        train_tokenizer("gpt2", "")
    with pytest.raises(TokenizerUnavailable):
        tokenizer_from_dict({"kind": "gpt2"})
