"""What each tokenizer says about itself is what it does: ``lossless``, ``oov_rate``, ``vocab_size``,
the prompts it accepts, and that a saved BPE tokenizer comes back with its own rules."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
import torch

from lmhelpers.tokenizers import (
    BPETokenizer,
    GPT2Tokenizer,
    TokenizerError,
    WordTokenizer,
    load_tokenizer,
    tokenizer_from_dict,
    train_tokenizer,
)

KOREAN = "오늘은 바람이 차고 하늘이 맑다. 우리는 강가를 걸으며 오래된 노래를 흥얼거렸다.\n"
ENGLISH = "the quick brown fox jumps over the lazy dog, and the dog sleeps.\n"
TEXT = (KOREAN + ENGLISH) * 4


@pytest.mark.parametrize("kind, vocab_size", [("char", 0), ("word", 12), ("bpe", 300)])
def test_lossless_says_whether_text_comes_back(kind, vocab_size):
    tok = train_tokenizer(kind, TEXT, vocab_size) if vocab_size else train_tokenizer(kind, TEXT)
    unseen = "the fox and the owl 걸으며 바람이"  # 'owl' and most words are outside a 12-entry vocabulary
    if kind == "char":
        unseen = "".join(c for c in unseen if c in TEXT)
    round_trip = tok.decode(tok.encode(unseen)) == unseen
    assert tok.lossless == round_trip == (kind != "word")


def test_oov_rate_is_the_share_of_unknown_tokens():
    tok = train_tokenizer("word", ENGLISH * 3, 8)  # <unk> and the 7 most frequent pieces
    text = "the cat and the dog"
    ids = tok.encode(text)
    assert tok.oov_rate(text) == pytest.approx(ids.count(0) / len(ids)) and 0 < tok.oov_rate(text) < 1
    assert tok.oov_rate("") == 0.0
    assert tok.oov_rate("the the") == 0.0


def test_bpe_vocab_size_counts_the_256_bytes():
    assert train_tokenizer("bpe", ENGLISH, 256).vocab_size == 256  # bytes only, no merge
    assert train_tokenizer("bpe", ENGLISH * 3, 257).vocab_size == 257
    with pytest.raises(TokenizerError, match="too small"):
        train_tokenizer("bpe", ENGLISH, 255)


def test_word_vocab_size_is_the_cap_including_unk():
    tok = train_tokenizer("word", ENGLISH, 2)  # the smallest allowed: <unk> and one piece
    assert tok.vocab_size == 2 and tok.vocab[0] == "<unk>"
    with pytest.raises(TokenizerError, match="too small"):
        train_tokenizer("word", ENGLISH, 1)


def test_default_vocabulary_cap_is_ten_thousand():
    words = " ".join(f"w{i}" for i in range(10_050))
    assert train_tokenizer("word", words).vocab_size == 10_000


def test_word_prompts_need_one_known_word():
    tok = train_tokenizer("word", ENGLISH * 3, 30)
    tok.check_prompt("the zebra")  # one known word is enough
    tok.check_prompt("")  # nothing to check
    tok.check_prompt(", ")  # no words: a known piece is enough
    for prompt in ("zebra okapi", "zebra"):
        with pytest.raises(TokenizerError, match="outside this word tokenizer's vocabulary"):
            tok.check_prompt(prompt)
    many = " ".join(f"unknown{i}" for i in range(12))
    with pytest.raises(TokenizerError, match=r"'unknown9', \.\.\."):  # ten shown, then an ellipsis
        tok.check_prompt(many)
    assert len(tok.common_words()) == 5 and tok.common_words()[0] == "the"


def test_bpe_decodes_a_split_character_as_a_replacement_not_an_error():
    tok = train_tokenizer("bpe", ENGLISH * 3, 260)  # no Korean merges: '가' is three byte tokens
    ids = tok.encode("가")
    assert len(ids) == 3
    assert tok.decode(ids) == "가"
    assert tok.decode(ids[:2]) == "\ufffd"  # a sampled sequence can end inside a character


def test_bpe_keeps_its_own_split_pattern_through_saving():
    ranks = {bytes([b]): b for b in range(256)}
    ranks[b"ab"] = 256
    tok = BPETokenizer(ranks, pattern=r"\S+|\s+")
    back = tokenizer_from_dict(tok.to_dict())
    assert back.pattern == r"\S+|\s+" and back.encode("ab ab") == tok.encode("ab ab")


@pytest.mark.parametrize(
    "ranks",
    [
        {bytes([b]): b for b in range(255)},  # a single byte missing
        {**{bytes([b]): b for b in range(256)}, b"ab": 257},  # a gap in the ranks
    ],
)
def test_bpe_refuses_malformed_ranks(ranks):
    with pytest.raises(TokenizerError, match="BPE ranks"):
        BPETokenizer(ranks)


def test_saved_bpe_with_duplicated_merges_is_refused():
    d = train_tokenizer("bpe", ENGLISH * 3, 270).to_dict()
    d["merges"] = d["merges"] + d["merges"][:1]
    d["vocab_size"] = 256 + len(d["merges"])
    with pytest.raises(TokenizerError, match="inconsistent"):
        tokenizer_from_dict(d)
    assert isinstance(tokenizer_from_dict({"kind": "word", "vocab": ["<unk>", "a"]}), WordTokenizer)


@pytest.mark.parametrize("kind, vocab_size", [("char", 0), ("word", 30), ("bpe", 270)])
def test_ids_outside_the_vocabulary_are_refused_not_wrapped(kind, vocab_size):
    tok = train_tokenizer(kind, ENGLISH * 3, vocab_size) if vocab_size else train_tokenizer(kind, ENGLISH)
    for ids, bad in (([1, -1], -1), ([-1], -1), ([0, tok.vocab_size], tok.vocab_size), ([2, 0, -3], -3)):
        with pytest.raises(TokenizerError, match=f"token id {bad} is out of range"):
            tok.decode(ids)
    assert tok.decode([]) == ""


def test_unknown_lists_show_ten_then_an_ellipsis():
    word = train_tokenizer("word", ENGLISH * 3, 30)
    char = train_tokenizer("char", ENGLISH)
    for n, ellipsis in ((10, False), (11, True)):
        words = " ".join(f"zz{i}" for i in range(n))
        with pytest.raises(TokenizerError) as err:
            word.check_prompt(words)
        assert ("..." in str(err.value)) == ellipsis
        chars = "".join(
            chr(0x3131 + i) for i in range(n)
        )  # n distinct Hangul letters, none in the vocabulary
        with pytest.raises(TokenizerError) as err:
            char.encode(chars)
        assert ("'ㄱ', " in str(err.value)) and ((", ..." in str(err.value)) == ellipsis)


@pytest.mark.parametrize(
    "saved",
    [
        {"kind": "char", "chars": ["ab", "c"]},  # not single characters
        {"kind": "bpe", "pattern": r"\S+", "merges": ["YWJj!"]},  # not base64
    ],
)
def test_malformed_saved_tokenizers_are_refused(saved):
    with pytest.raises(TokenizerError):
        tokenizer_from_dict(saved)


def test_a_single_id_tensor_decodes_like_a_one_element_list():
    tok = train_tokenizer("char", ENGLISH)
    assert tok.decode(torch.tensor(5)) == tok.decode([5]) == tok.chars[5]
    assert tok.decode(torch.tensor([5, 6])) == tok.decode([5, 6])


def test_saved_files_carry_their_format_version_and_bpe_size():
    assert train_tokenizer("char", ENGLISH).to_dict()["format_version"] == 1
    bpe = train_tokenizer("bpe", ENGLISH * 3, 270)
    assert bpe.to_dict()["vocab_size"] == bpe.vocab_size == 270


def test_a_saved_bpe_size_must_match_its_merges_and_may_be_left_out():
    d = train_tokenizer("bpe", ENGLISH * 3, 270).to_dict()
    with pytest.raises(TokenizerError, match="inconsistent"):
        tokenizer_from_dict({**d, "vocab_size": 271})
    del d["vocab_size"]
    assert tokenizer_from_dict(d).vocab_size == 270


def test_a_word_vocab_size_must_be_an_integer():
    with pytest.raises(TokenizerError, match="must be an integer"):
        train_tokenizer("word", ENGLISH, 10.0)


@pytest.mark.parametrize("saved", [["char"], None, "char"])
def test_a_saved_tokenizer_must_be_a_json_object(saved):
    with pytest.raises(TokenizerError, match="not a saved tokenizer"):
        tokenizer_from_dict(saved)


def test_a_saved_tokenizer_loads_the_same_under_a_non_utf8_locale(tmp_path, monkeypatch):
    """Windows opens text as cp1252 unless told otherwise; the file is UTF-8 whatever the locale."""
    tok = train_tokenizer("char", TEXT)
    path = tok.save(tmp_path / "tok.json")
    monkeypatch.setattr(io, "text_encoding", lambda encoding, stacklevel=2: encoding or "latin-1")
    assert load_tokenizer(path).chars == tok.chars


def test_gpt2_loads_whenever_its_files_are_cached():
    """Where the cache is present (CI, the mutation run), a GPT-2 that fails to load is a failure, not a skip."""
    cache = os.environ.get("TIKTOKEN_CACHE_DIR")
    if not cache or not Path(cache).is_dir() or not any(Path(cache).iterdir()):
        pytest.skip("no tiktoken cache here")
    tok = GPT2Tokenizer()
    assert tok.vocab_size == 50257 and tok.encode("Hello world") == [15496, 995]
