"""Four tokenizers behind one interface: characters, words, our own byte-level BPE, and GPT-2's BPE.

Every tokenizer maps text to a list of integer ids and back, reports its ``vocab_size``, and saves itself
as a small JSON file (never a pickle, so loading a file cannot run code). ``lossless`` says whether
``decode(encode(s)) == s`` is guaranteed: true for char (on its alphabet), bpe and gpt2; false for word,
which maps unknown words to ``<unk>``.
"""

from __future__ import annotations

import abc
import base64
import json
import operator
import os
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .bpe import GPT2_SPLIT_PATTERN, train_bpe
from .config import TOKENIZERS as TOKENIZER_KINDS
from .files import atomic_write
from .language import tr

_FORMAT_VERSION = 1
_WORD = re.compile(r"\w")  # a piece that starts with a word character is a word (not punctuation or space)


class TokenizerError(ValueError):
    """Bad input to a tokenizer; the message says what to change."""


class TokenizerUnavailable(RuntimeError):
    """The GPT-2 encoding files cannot be loaded (no cache and no network)."""


def _as_id_list(ids: Any) -> list[int]:
    """Accept a list of ints, a 1-D torch tensor or numpy array (or a single id)."""
    if hasattr(ids, "tolist"):  # torch / numpy, without importing either
        ids = ids.tolist()
    if isinstance(ids, int):
        return [ids]
    try:  # operator.index accepts numpy integers but rejects floats and nested lists
        return [operator.index(i) for i in ids]
    except TypeError:
        raise TokenizerError(tr("decode expects a 1-D sequence of integer token ids")) from None


class Tokenizer(abc.ABC):
    """Common interface; subclasses implement encode/decode/vocab_size and their JSON fields."""

    kind: str = ""
    lossless: bool = False

    @property
    @abc.abstractmethod
    def vocab_size(self) -> int: ...

    @abc.abstractmethod
    def encode(self, text: str) -> list[int]: ...

    @abc.abstractmethod
    def decode(self, ids: Sequence[int]) -> str: ...

    @abc.abstractmethod
    def _fields(self) -> dict[str, Any]:
        """Kind-specific JSON fields."""

    @abc.abstractmethod
    def token_strings(self, ids: Sequence[int]) -> list[str]:
        """One human-readable piece per token id, for showing how a text was split."""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "format_version": _FORMAT_VERSION, **self._fields()}

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write JSON atomically (temp file in the same folder, then ``os.replace``) and return the path."""
        return atomic_write(path, lambda f: json.dump(self.to_dict(), f, ensure_ascii=False))  # pragma: no mutate - JSON escaping only: the same data loads back  # fmt: skip

    def check_prompt(self, text: str) -> None:
        """Raise TokenizerError when ``text`` cannot serve as a generation prompt; most tokenizers accept any."""
        return None

    def tokens_per_char(self, text: str) -> float:
        if not text:
            raise TokenizerError(tr("tokens_per_char needs a non-empty text"))
        return len(self.encode(text)) / len(text)

    def _valid_ids(self, ids: Any) -> list[int]:
        """``ids`` as a list of ints, each a valid id for this tokenizer."""
        ids = _as_id_list(ids)
        if ids and (min(ids) < 0 or max(ids) >= self.vocab_size):
            bad = next(i for i in ids if not 0 <= i < self.vocab_size)
            raise TokenizerError(
                tr(
                    "token id {id} is out of range for this {kind} tokenizer (vocab_size={vocab_size}); were these "
                    "ids produced by a different tokenizer?",
                    id=bad,
                    kind=self.kind,
                    vocab_size=self.vocab_size,
                )
            )
        return ids

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.vocab_size})"


class _TableTokenizer(Tokenizer):
    """A tokenizer whose ids index a list of strings (char and word): decoding is a join."""

    _pieces: list[str]

    @property
    def vocab_size(self) -> int:
        return len(self._pieces)

    def decode(self, ids: Sequence[int]) -> str:
        ids = self._valid_ids(ids)
        return "".join([self._pieces[i] for i in ids])

    def token_strings(self, ids: Sequence[int]) -> list[str]:
        ids = self._valid_ids(ids)
        return [self._pieces[i] for i in ids]


class CharTokenizer(_TableTokenizer):
    """One token per character; the vocabulary is the sorted set of characters seen in training."""

    kind = "char"
    lossless = True

    def __init__(self, chars: Sequence[str]):
        self.chars: list[str] = sorted(set(chars))
        if any(not isinstance(c, str) or len(c) != 1 for c in self.chars):
            raise TokenizerError("a char vocabulary must be a list of single characters")  # a damaged file
        if not self.chars:
            raise TokenizerError(
                tr("a char tokenizer needs at least one character; train it on a non-empty text")
            )
        self._pieces = self.chars
        self._stoi = {c: i for i, c in enumerate(self.chars)}

    @classmethod
    def train(cls, text: str) -> CharTokenizer:
        return cls(set(text))

    def encode(self, text: str) -> list[int]:
        try:
            return [self._stoi[c] for c in text]
        except KeyError:
            unknown = sorted(set(text) - self._stoi.keys())
            shown = ", ".join(repr(c) for c in unknown[:10]) + (", ..." if len(unknown) > 10 else "")  # pragma: no mutate - wording of an error message only  # fmt: skip
            raise TokenizerError(
                tr(
                    "{n} character(s) not in the char vocabulary: {shown}. This tokenizer was trained on a text "
                    "without them; remove them from the input, or retrain on a text that contains them.",
                    n=len(unknown),
                    shown=shown,
                )
            ) from None

    def _fields(self) -> dict[str, Any]:
        return {"chars": self.chars}


class WordTokenizer(_TableTokenizer):
    """Whole words, single punctuation marks, newlines and runs of other whitespace, each one token.

    Every character belongs to exactly one piece, so joining the pieces gives the text back; only words
    outside the frequency-capped vocabulary are lost (they decode as ``<unk>``).
    """

    kind = "word"
    lossless = False
    SPECIALS = ("<unk>",)
    # Words | a newline | a run of non-newline whitespace | any other single character (punctuation).
    PATTERN = re.compile(r"\w+|\n|[^\S\n]+|[^\w\s]")

    def __init__(self, vocab: Sequence[str]):
        self.vocab: list[str] = list(vocab)
        if tuple(self.vocab[: len(self.SPECIALS)]) != self.SPECIALS:
            raise TokenizerError(
                f"a word vocabulary must start with the special tokens {list(self.SPECIALS)}"
            )
        self._pieces = self.vocab
        self._stoi = {w: i for i, w in enumerate(self.vocab)}
        if len(self._stoi) != len(self.vocab):
            raise TokenizerError("the word vocabulary contains duplicate entries")  # a damaged file
        self.unk_id: int = 0

    @classmethod
    def train(cls, text: str, vocab_size: int) -> WordTokenizer:
        n_special = len(cls.SPECIALS)
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < n_special + 1:
            raise TokenizerError(
                tr(
                    "vocab_size={vocab_size!r} is too small for a word tokenizer: it must be an integer >= {least} "
                    "(the special tokens {specials} plus at least one word)",
                    vocab_size=vocab_size,
                    least=n_special + 1,
                    specials=list(cls.SPECIALS),
                )
            )
        counts = Counter(cls.PATTERN.findall(text))
        # Most frequent first; ties alphabetically so training is deterministic.
        ranked = sorted(counts, key=lambda w: (-counts[w], w))
        return cls(list(cls.SPECIALS) + ranked[: vocab_size - n_special])

    def encode(self, text: str) -> list[int]:
        get, unk = self._stoi.get, self.unk_id
        return [get(piece, unk) for piece in self.PATTERN.findall(text)]

    def unknown_words(self, text: str) -> list[str]:
        """The distinct pieces of ``text`` outside the vocabulary (each becomes ``<unk>``), in order."""
        return list(dict.fromkeys(p for p in self.PATTERN.findall(text) if p not in self._stoi))

    def common_words(self, n: int = 5) -> list[str]:
        """The ``n`` most frequent words in the vocabulary (punctuation and whitespace left out)."""
        words = (w for w in self.vocab[len(self.SPECIALS) :] if _WORD.match(w))
        return [w for _, w in zip(range(n), words)]

    def check_prompt(self, text: str) -> None:
        """Refuse a prompt that the model would see only as ``<unk>``: one whose words are all unknown.

        A prompt with words needs at least one known word; one without words (punctuation, newlines)
        needs at least one known piece. The empty prompt passes (see ``generation.sample_text``).
        """
        pieces = self.PATTERN.findall(text)
        words = [p for p in pieces if _WORD.match(p)]
        if not pieces or any(p in self._stoi for p in (words or pieces)):
            return
        unknown = self.unknown_words(" ".join(words) if words else text)  # pragma: no mutate - only feeds the error message's list  # fmt: skip
        shown = ", ".join(repr(w) for w in unknown[:10]) + (", ..." if len(unknown) > 10 else "")  # pragma: no mutate - wording of an error message only  # fmt: skip
        what = tr("word") if words else tr("piece")
        common = ", ".join(map(repr, self.common_words()))  # pragma: no mutate - wording of an error message only  # fmt: skip
        raise TokenizerError(
            tr(
                "every {what} of the prompt {prompt!r} is outside this word tokenizer's vocabulary ({shown}), so "
                "generation would start from <unk> alone. Use words from the training text, e.g. {common}, or "
                "train with a larger vocab_size.",
                what=what,
                prompt=text[:60],
                shown=shown,
                common=common,
            )
        )

    def oov_rate(self, text: str) -> float:
        """Fraction of the text's tokens that are out of vocabulary (become ``<unk>``)."""
        ids = self.encode(text)
        return ids.count(self.unk_id) / len(ids) if ids else 0.0

    def _fields(self) -> dict[str, Any]:
        return {"vocab": self.vocab}


class _TiktokenTokenizer(Tokenizer):
    """Shared by bpe and gpt2: a ``tiktoken.Encoding`` does the work in Rust."""

    lossless = True
    _enc: Any  # tiktoken.Encoding

    @property
    def vocab_size(self) -> int:
        return self._enc.n_vocab

    def encode(self, text: str) -> list[int]:
        # encode_ordinary: text that looks like a special token ("<|endoftext|>") is plain text.
        return self._enc.encode_ordinary(text)

    def decode(self, ids: Sequence[int]) -> str:
        ids = self._valid_ids(ids)
        # Decode the bytes of the whole sequence at once: a character may span several tokens.
        return self._enc.decode_bytes(ids).decode("utf-8", errors="replace")  # pragma: no mutate - equivalent: utf-8 is the default codec, names are case-insensitive  # fmt: skip

    def token_strings(self, ids: Sequence[int]) -> list[str]:
        ids = self._valid_ids(ids)
        # A token may hold part of a multi-byte character; show such bytes as \x.. escapes.
        tok_bytes = self._enc.decode_single_token_bytes
        return [tok_bytes(i).decode("utf-8", errors="backslashreplace") for i in ids]  # pragma: no mutate - equivalent: utf-8 is the default codec, names are case-insensitive  # fmt: skip


class BPETokenizer(_TiktokenTokenizer):
    """Byte-level BPE trained by :func:`lmhelpers.bpe.train_bpe`, encoded by tiktoken's fast Rust core."""

    kind = "bpe"

    def __init__(self, mergeable_ranks: dict[bytes, int], pattern: str = GPT2_SPLIT_PATTERN):
        import tiktoken  # deferred: only BPE/GPT-2 need it

        ranks = sorted(mergeable_ranks.values())
        if ranks != list(range(len(ranks))) or any(mergeable_ranks.get(bytes([b])) != b for b in range(256)):
            raise TokenizerError("BPE ranks must be 0..n-1 with the 256 single bytes first (ranks 0..255)")
        self.mergeable_ranks = dict(mergeable_ranks)
        self.pattern = pattern
        self._enc = tiktoken.Encoding(
            f"lmhelpers-bpe-{len(ranks)}",
            pat_str=pattern,
            mergeable_ranks=self.mergeable_ranks,
            special_tokens={},
        )

    @classmethod
    def train(cls, text: str, vocab_size: int) -> BPETokenizer:
        try:
            return cls(train_bpe(text, vocab_size))
        except ValueError as e:
            raise TokenizerError(str(e)) from None

    def _fields(self) -> dict[str, Any]:
        by_rank = sorted(self.mergeable_ranks, key=self.mergeable_ranks.__getitem__)
        # Bytes 0..255 are implied; the merged tokens are listed in rank order, base64 because they can be
        # arbitrary (even invalid UTF-8) byte strings.
        merges = [base64.b64encode(b).decode("ascii") for b in by_rank[256:]]  # pragma: no mutate - equivalent: codec names are case-insensitive  # fmt: skip
        return {"pattern": self.pattern, "vocab_size": self.vocab_size, "merges": merges}

    @classmethod
    def from_fields(cls, d: dict[str, Any]) -> BPETokenizer:
        tokens = [bytes([b]) for b in range(256)] + [base64.b64decode(m, validate=True) for m in d["merges"]]
        if len(set(tokens)) != len(tokens) or d.get("vocab_size", len(tokens)) != len(tokens):
            raise TokenizerError("the saved BPE merges are inconsistent (duplicates or wrong count)")
        return cls({t: i for i, t in enumerate(tokens)}, pattern=d["pattern"])


class GPT2Tokenizer(_TiktokenTokenizer):
    """OpenAI's GPT-2 BPE (50,257 tokens) via ``tiktoken.get_encoding("gpt2")``."""

    kind = "gpt2"

    def __init__(self) -> None:
        try:
            import tiktoken

            self._enc = tiktoken.get_encoding("gpt2")
        except Exception as e:  # network errors, missing cache, import errors: all mean "not available"
            problem = f"{type(e).__name__}: {e}"  # pragma: no mutate - wording of an error message only
            raise TokenizerUnavailable(
                tr(
                    "cannot load the GPT-2 tokenizer files ({problem}). tiktoken downloads them once and caches "
                    "them: either go online once, or set the environment variable TIKTOKEN_CACHE_DIR to a folder "
                    "that already holds the cached files (e.g. shared/data/tiktoken).",
                    problem=problem,
                )
            ) from e

    def _fields(self) -> dict[str, Any]:
        return {}


def train_tokenizer(kind: str, text: str, vocab_size: int = 10000) -> Tokenizer:
    """Build a tokenizer of ``kind`` from ``text``; ``vocab_size`` caps word and bpe (gpt2 ignores both)."""
    if kind not in TOKENIZER_KINDS:
        kinds = list(TOKENIZER_KINDS)
        raise TokenizerError(
            tr("unknown tokenizer kind {kind!r}; choose one of {kinds}", kind=kind, kinds=kinds)
        )
    if kind == "gpt2":
        return GPT2Tokenizer()
    if not isinstance(text, str) or not text:
        raise TokenizerError(
            tr("cannot train a {kind} tokenizer on an empty text; pass the training corpus", kind=kind)
        )
    if kind == "char":
        return CharTokenizer.train(text)
    if kind == "word":
        return WordTokenizer.train(text, vocab_size)
    return BPETokenizer.train(text, vocab_size)


def tokenizer_from_dict(d: dict[str, Any]) -> Tokenizer:
    """Rebuild a tokenizer from :meth:`Tokenizer.to_dict` output."""
    kind = d.get("kind") if isinstance(d, dict) else None
    if kind not in TOKENIZER_KINDS:
        raise TokenizerError(
            tr(
                "not a saved tokenizer: 'kind' is {kind!r}, expected one of {choices}",
                kind=kind,
                choices=list(TOKENIZER_KINDS),
            )
        )
    try:
        if kind == "char":
            return CharTokenizer(d["chars"])
        if kind == "word":
            return WordTokenizer(d["vocab"])
        if kind == "bpe":
            return BPETokenizer.from_fields(d)
        return GPT2Tokenizer()
    except (KeyError, TypeError, ValueError) as e:
        if isinstance(e, TokenizerError):
            raise
        problem = f"{type(e).__name__}: {e}"  # pragma: no mutate - wording of an error message only
        raise TokenizerError(
            tr("the saved {kind} tokenizer is malformed ({problem})", kind=kind, problem=problem)
        ) from e


def load_tokenizer(path: str | os.PathLike[str]) -> Tokenizer:
    """Load a tokenizer saved with :meth:`Tokenizer.save`."""
    path = Path(path)
    if not path.is_file():
        raise TokenizerError(
            tr("no tokenizer file at {path}; train one with train_tokenizer(...).save(path)", path=path)
        )
    try:
        d = json.loads(path.read_text(encoding="utf-8"))  # pragma: no mutate - equivalent: codec names are case-insensitive (the locale case is tested)  # fmt: skip
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise TokenizerError(
            tr(
                "{path} is not a JSON tokenizer file ({problem}); was it saved with .save()?",
                path=path,
                problem=type(e).__name__,
            )
        ) from e
    return tokenizer_from_dict(d)
