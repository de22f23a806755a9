"""Tokenizers side by side: vocabulary, tokens per character, unknown words, round trip and speed.

Notebook 01's comparison, kept beside the tokenizers it measures so the notebook only calls and shows it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from .language import N_, message, tr


def train_tokenizers(
    train_text: str, vocab_size: int, kinds: Sequence[str] = ("word", "char", "bpe", "gpt2")
) -> dict[str, Any]:
    """One tokenizer of each kind trained on ``train_text``; GPT-2's is skipped, with a message, when
    its files cannot be had (offline without a tiktoken cache)."""
    from .tokenizers import TokenizerUnavailable, train_tokenizer

    out = {}
    for kind in kinds:
        try:
            out[kind] = train_tokenizer(kind, train_text, vocab_size)
        except TokenizerUnavailable as exc:
            print(tr("skipping {kind}: {problem}", kind=kind, problem=exc))
    return out


def _oov_rate(tokenizer: Any, text: str) -> float:
    if hasattr(tokenizer, "oov_rate"):  # word: unknown words become <unk>
        return tokenizer.oov_rate(text)
    if tokenizer.kind == "char":  # characters never seen in training cannot be encoded at all
        known = set(tokenizer.chars)
        return sum(c not in known for c in text) / len(text)
    return 0.0  # byte-level BPE: every string is some sequence of bytes


def _encode_seconds(tokenizer: Any, text: str, repeats: int = 3) -> float:
    best = math.inf
    for _ in range(repeats):
        tic = time.perf_counter()
        tokenizer.encode(text)
        best = min(best, time.perf_counter() - tic)
    return best


def compare_tokenizers(tokenizers: Mapping[str, Any], text: str) -> list[dict[str, Any]]:
    """Vocabulary size, tokens per character, OOV rate, exact round trip and encoding speed on ``text``."""
    from .tokenizers import TokenizerError

    rows = []
    for name, tok in tokenizers.items():
        row: dict[str, Any] = {"name": name, "vocab_size": tok.vocab_size, "oov_rate": _oov_rate(tok, text)}
        try:
            ids = tok.encode(text)
        except TokenizerError:  # a char vocabulary missing some of the text's characters
            row.update(tokens_per_char=None, round_trip=False, chars_per_second=None)
        else:
            row.update(
                tokens_per_char=len(ids) / len(text),
                round_trip=tok.decode(ids) == text,
                chars_per_second=len(text) / max(_encode_seconds(tok, text), 1e-9),
            )
        rows.append(row)
    return rows


TOKENIZER_COLUMNS = [
    (N_("tokenizer"), "name"),
    (N_("vocabulary"), "vocab_size"),
    (N_("tokens/char"), "tokens_per_char"),
    (N_("OOV rate"), "oov_rate"),
    ("decode(encode(x)) == x", "round_trip"),  # code: the same in every language
    (N_("encode chars/s"), "chars_per_second"),
]


def tokenizer_table(rows: Sequence[Mapping[str, Any]]) -> str:
    """``compare_tokenizers`` rows as a Markdown table (round trip as yes/no, OOV as a percentage)."""
    from .report import markdown_table

    shown = [
        {**r, "round_trip": tr("yes") if r["round_trip"] else tr("no"), "oov_rate": f"{r['oov_rate']:.2%}"}
        for r in rows
    ]
    return markdown_table(shown, TOKENIZER_COLUMNS)


def token_pieces(tokenizer: Any, text: str) -> list[str] | str:
    """How ``tokenizer`` splits ``text``, one string per token, or why it cannot encode it."""
    from .tokenizers import TokenizerError

    try:
        return tokenizer.token_strings(tokenizer.encode(text))
    except TokenizerError as exc:
        return message("cannot_encode", detail=exc)


def tokenization_markdown(tokenizers: Mapping[str, Any], text: str) -> str:
    """What each tokenizer makes of ``text``: the token count and the pieces, separated by │."""
    parts = [message("text", text=text)]
    for name, tok in tokenizers.items():
        pieces = token_pieces(tok, text)
        if isinstance(pieces, str):
            parts.append(f"**{name}**: {pieces}")
        else:
            shown = "│".join(p.replace("\n", "\\n") for p in pieces)
            parts.append(f"**{name}** ({message('n_tokens', n=len(pieces))}):\n\n```\n{shown}\n```")
    return "\n\n".join(parts)
