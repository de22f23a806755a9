"""Our own byte-level BPE trainer, producing ranks that ``tiktoken`` can encode with.

Byte-level BPE starts from the 256 single bytes, so every UTF-8 string (Korean, emoji, anything) can be
encoded without an unknown token. Training repeatedly merges the most frequent adjacent pair of tokens
into a new token. The output is tiktoken's ``mergeable_ranks`` format: token bytes -> rank, where the 256
bytes get ranks 0..255 and each merge gets the next rank. tiktoken encodes a piece by repeatedly merging
the adjacent pair whose *concatenated bytes* has the lowest rank, which replays our merges in training
order.

Speed: the text is first split into pieces with a GPT-2 style regex and the pieces are counted, so
merges work on a (piece -> frequency) table of a few tens of thousands of entries rather than on
a million characters. Pair counts are updated incrementally: an index pair -> pieces containing it means
each merge only touches the pieces where the pair occurs, and a lazy max-heap finds the next best pair.
"""

from __future__ import annotations

import heapq
from collections import Counter, defaultdict

import regex

__all__ = ["GPT2_SPLIT_PATTERN", "train_bpe"]

# GPT-2's pre-tokenization (as written in tiktoken's r50k/gpt2 definition): contractions, optional space
# plus a run of letters / digits / other symbols, and whitespace. Merges never cross these boundaries,
# so e.g. "dog." and "dog!" share the token " dog". Possessive quantifiers (``++``) work in both the
# ``regex`` package and tiktoken's Rust regex engine, so training and encoding split identically.
GPT2_SPLIT_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}++| ?\p{N}++| ?[^\s\p{L}\p{N}]++|\s++$|\s+(?!\S)|\s"""

Pair = tuple[int, int]


def _pairs(word: list[int]) -> Counter[Pair]:
    return Counter(zip(word, word[1:], strict=False))


def _merge_word(word: list[int], pair: Pair, new_id: int) -> list[int]:
    """Replace each non-overlapping occurrence of ``pair`` (left to right) by ``new_id``."""
    a, b = pair
    out: list[int] = []
    i, n = 0, len(word)
    while i < n:
        if i + 1 < n and word[i] == a and word[i + 1] == b:
            out.append(new_id)
            i += 2
        else:
            out.append(word[i])
            i += 1
    return out


def train_bpe(text: str, vocab_size: int, pattern: str = GPT2_SPLIT_PATTERN) -> dict[bytes, int]:
    """Learn byte-level BPE merges on ``text``; return tiktoken ``mergeable_ranks`` with ``vocab_size`` entries.

    Stops early (fewer entries) when no adjacent pair is left to merge. Ties between equally frequent
    pairs go to the pair with the smallest (left id, right id), so results are deterministic.
    """
    if isinstance(vocab_size, bool) or not isinstance(vocab_size, int) or vocab_size < 256:
        from .language import tr

        raise ValueError(
            tr(
                "vocab_size={vocab_size!r} is too small for byte-level BPE: it needs the 256 single-byte tokens "
                "plus the merges, so use vocab_size >= 256 (e.g. 512 for a quick test, 10000 for real runs)",
                vocab_size=vocab_size,
            )
        )
    token_bytes: list[bytes] = [bytes([i]) for i in range(256)]  # id -> bytes; id == rank
    ids_of: dict[bytes, int] = {b: i for i, b in enumerate(token_bytes)}

    piece_counts = Counter(regex.findall(pattern, text))
    words: list[list[int]] = [list(p.encode("utf-8")) for p in piece_counts]
    freqs: list[int] = list(piece_counts.values())

    counts: defaultdict[Pair, int] = defaultdict(int)
    where: defaultdict[Pair, set[int]] = defaultdict(set)  # pair -> indices of words containing it
    for wi, word in enumerate(words):
        for pair, n in _pairs(word).items():
            counts[pair] += n * freqs[wi]
            where[pair].add(wi)
    # Max-heap via negated counts. Entries go stale when a count changes; a fresh entry is pushed on every
    # change and stale ones are skipped on pop (cheaper than a decrease-key structure).
    heap = [(-c, pair) for pair, c in counts.items()]
    heapq.heapify(heap)

    while len(token_bytes) < vocab_size and heap:
        neg, pair = heapq.heappop(heap)
        if counts.get(pair, 0) != -neg or neg == 0:
            continue  # stale entry (or a pair that no longer occurs)
        merged = token_bytes[pair[0]] + token_bytes[pair[1]]
        new_id = ids_of.get(merged)  # pragma: no mutate - never finds a token: one pair makes its bytes
        if new_id is None:
            new_id = len(token_bytes)
            token_bytes.append(merged)
            ids_of[merged] = new_id  # pragma: no mutate - read only by that lookup, which never finds one
        # else: these bytes are a token already. That cannot happen here (a token's bytes come from one
        # pair only: docs/mutation.md, Survivors), and the lookup keeps a duplicate out of the ranks if
        # a change to the trainer ever made it possible.

        delta: defaultdict[Pair, int] = defaultdict(int)
        for wi in where.pop(pair):
            old = words[wi]
            new = _merge_word(old, pair, new_id)
            words[wi] = new
            f = freqs[wi]
            old_pairs, new_pairs = _pairs(old), _pairs(new)
            for p, n in old_pairs.items():
                delta[p] -= n * f
                if p not in new_pairs and p != pair:  # pragma: no mutate - stale index entries: time only
                    where[p].discard(wi)  # pragma: no mutate - a stale index entry costs time only
            for p, n in new_pairs.items():
                delta[p] += n * f
                where[p].add(wi)
        for p, d in delta.items():
            if d == 0:
                continue
            c = counts[p] + d
            if c > 0:
                counts[p] = c
                heapq.heappush(heap, (-c, p))
            else:
                counts.pop(p, None)
                where.pop(p, None)
        counts.pop(pair, None)

    return {b: i for i, b in enumerate(token_bytes)}
