"""Notebook 01's tokenizer comparison (lmhelpers.tokenizer_comparison)."""

from lmhelpers import tokenizer_comparison as tc
from lmhelpers.tokenizers import GPT2Tokenizer, TokenizerUnavailable


def test_compare_tokenizers(small_corpus):
    text = small_corpus.read_text()
    toks = tc.train_tokenizers(text, 300, kinds=("word", "char", "bpe"))
    unseen = "Speak, citizen! Zounds."
    rows = {r["name"]: r for r in tc.compare_tokenizers(toks, unseen)}
    assert rows["bpe"]["round_trip"] and rows["bpe"]["oov_rate"] == 0
    assert rows["word"]["oov_rate"] > 0 and not rows["word"]["round_trip"]
    assert rows["char"]["tokens_per_char"] is None and rows["char"]["oov_rate"] > 0  # Z is unseen
    assert "| bpe | 300 |" in tc.tokenizer_table(list(rows.values()))
    assert tc.token_pieces(toks["char"], "사").startswith("cannot encode")
    assert "".join(tc.token_pieces(toks["bpe"], "Speak")) == "Speak"


def test_gpt2_is_skipped_with_a_message_when_unavailable(monkeypatch, capsys, small_corpus):
    def offline(self):
        raise TokenizerUnavailable("no cached GPT-2 files")

    monkeypatch.setattr(GPT2Tokenizer, "__init__", offline)
    toks = tc.train_tokenizers(small_corpus.read_text(), 300, kinds=("char", "gpt2"))
    assert list(toks) == ["char"] and "skipping gpt2: no cached GPT-2 files" in capsys.readouterr().out
