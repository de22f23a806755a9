"""Autoregressive sampling for any model with the lmhelpers interface (Transformer or RNN).

Two ways to produce each new token, which give the same tokens:

* ``use_cache=True``: feed the prompt once (a "prefill"), then one token per step while the model
  carries a state: the RNN its hidden state, the Transformer its key/value cache.
* ``use_cache=False``: recompute the forward pass over the whole context for every token. Slower,
  but obviously correct, which is what the cached path is tested against.

The Transformer's context window. Its positions are learned absolute embeddings for 0..block_size-1,
so a cache cannot slide by one token (every cached key was computed at a position that would shift).
Both modes therefore share one policy: the model conditions on ``tokens[start:]``; a prompt longer
than block_size is cropped to its last block_size tokens (with a ``PromptCroppedWarning`` that says
so), and whenever the window would exceed
block_size, ``start`` jumps forward so that the last ``max(1, block_size // 2)`` tokens are kept (in
cache mode the cache is rebuilt by a prefill of those). Jumping by half a window means a rebuild only
every block_size // 2 tokens, at the price of conditioning on between half and a full window. The
RNN has no window: it conditions on the whole history.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from .language import tr


class PromptCroppedWarning(UserWarning):
    """A Transformer prompt longer than the context window: only its last block_size tokens are used."""


def window_start(n_tokens: int, start: int, block_size: int) -> int:
    """The Transformer window policy: where the context starts once ``n_tokens`` tokens exist."""
    if n_tokens - start <= block_size:
        return start
    return n_tokens - max(1, block_size // 2)


# Generation is one forward step per token: a million tokens take minutes on a GPU and hours on a CPU.
# Past this bound a typo (10**9) would run until killed; generate in pieces for more.
MAX_NEW_TOKENS = 100_000


def check_temperature(temperature: Any) -> None:
    """A finite number (<= 0 means greedy); anything else is refused with a message naming it."""
    ok = isinstance(temperature, (int, float)) and not isinstance(temperature, bool)
    if not ok or not math.isfinite(temperature) or temperature > 1e6:
        raise ValueError(
            tr(
                "temperature={temperature!r} is invalid: a finite number such as 0.8 (0 or below: greedy)",
                temperature=temperature,
            )
        )


def _check_args(vocab_size: int, max_new_tokens: int, top_k: int | None, top_p: float | None) -> None:
    if (
        isinstance(max_new_tokens, bool)
        or not isinstance(max_new_tokens, int)
        or not 1 <= max_new_tokens <= MAX_NEW_TOKENS
    ):
        raise ValueError(
            tr(
                "max_new_tokens={n!r} is invalid: an integer >= 1 and at most {most:,} (generate in several calls "
                "for more)",
                n=max_new_tokens,
                most=MAX_NEW_TOKENS,
            )
        )
    if top_k is not None and (
        isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= vocab_size
    ):
        raise ValueError(
            tr(
                "top_k={top_k!r} is invalid: None or an integer in [1, vocab_size={vocab_size}]",
                top_k=top_k,
                vocab_size=vocab_size,
            )
        )
    if top_p is not None and not (
        isinstance(top_p, (int, float)) and not isinstance(top_p, bool) and 0 < top_p <= 1
    ):
        raise ValueError(tr("top_p={top_p!r} is invalid: None or a number in (0, 1]", top_p=top_p))


def _as_batch(prompt: Tensor | Sequence[int], device: torch.device) -> Tensor:
    idx = prompt if isinstance(prompt, Tensor) else torch.tensor(list(prompt), dtype=torch.long)
    if idx.dim() == 1:
        idx = idx.unsqueeze(0)
    if idx.dim() != 2 or idx.size(1) == 0:
        raise ValueError(
            tr(
                "prompt must be a list of ids or a [B, T] tensor with T >= 1; got shape {shape}",
                shape=tuple(idx.shape),
            )
        )
    return idx.to(device=device, dtype=torch.long)


def sample_next(
    logits: Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> Tensor:
    """One token id per row [B, 1] from last-position logits [B, V].

    temperature <= 0 means greedy decoding (argmax). Otherwise: divide by temperature, keep the top_k
    most likely tokens, then the smallest set whose probability reaches top_p (nucleus), and sample.
    """
    check_temperature(temperature)
    if temperature <= 0:
        return logits.argmax(dim=-1, keepdim=True)
    logits = logits.float() / temperature  # float32: autocast may hand us bf16/fp16 logits
    if temperature < 1e-3:  # so cold that exp() overflows: the same as greedy, without the inf/nan
        return logits.argmax(dim=-1, keepdim=True)
    if top_k is not None and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1:
        sorted_logits, order = logits.sort(dim=-1, descending=True)
        probs = sorted_logits.softmax(dim=-1)
        # Drop a token when the tokens ranked above it already hold top_p; the first is always kept.
        drop = (probs.cumsum(dim=-1) - probs) >= top_p
        sorted_logits = sorted_logits.masked_fill(drop, float("-inf"))
        logits = torch.full_like(logits, float("-inf")).scatter(-1, order, sorted_logits)
    return torch.multinomial(logits.softmax(dim=-1), num_samples=1, generator=generator)


def generate(
    model: nn.Module,
    prompt: Tensor | Sequence[int],
    max_new_tokens: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    use_cache: bool = True,
) -> Tensor:
    """Extend ``prompt`` (ids, or a [B, T] tensor) by ``max_new_tokens`` tokens; returns [B, T + new].

    ``temperature <= 0`` means greedy decoding: always the most likely token, the same output every time.
    Runs in eval mode (no dropout) and restores every module's previous mode afterwards. With
    ``seed`` the sampling draws from a private ``torch.Generator`` on the model's device, so it is
    reproducible and leaves the global RNG untouched; with ``seed=None`` it uses the global RNG (so
    ``torch.manual_seed`` governs it). See the module docstring for ``use_cache`` and the context window.
    """
    with torch.no_grad():
        cfg = model.config
        _check_args(cfg.vocab_size, max_new_tokens, top_k, top_p)
        check_temperature(temperature)
        device = next(model.parameters()).device
        out = _as_batch(prompt, device)
        generator = None
        if seed is not None:
            generator = torch.Generator(device=device)
            generator.manual_seed(seed)

        windowed = not cfg.is_rnn  # only the Transformer has a maximum context
        block_size = cfg.block_size
        start = max(0, out.size(1) - block_size) if windowed else 0
        if start > 0:
            warnings.warn(
                tr(
                    "the prompt has {n} tokens but the model's context window is block_size={block_size}: only its "
                    "last {block_size} tokens are used. Shorten the prompt to silence this warning.",
                    n=out.size(1),
                    block_size=block_size,
                ),
                PromptCroppedWarning,
                stacklevel=3,  # the caller of generate, past torch.no_grad's wrapper
            )
        modes = {m: m.training for m in model.modules()}
        model.eval()
        try:
            state, prefill = None, True
            for _ in range(max_new_tokens):
                if windowed:
                    new_start = window_start(out.size(1), start, block_size)
                    prefill = prefill or new_start != start  # the window jumped: rebuild the cache
                    start = new_start
                if not use_cache:
                    logits, _ = model(out[:, start:])
                elif prefill:
                    logits, state = model.forward_step(out[:, start:], model.init_state(out.size(0)))
                    prefill = False
                else:
                    logits, state = model.forward_step(out[:, -1:], state)
                next_id = sample_next(logits[:, -1, :], temperature, top_k, top_p, generator)
                out = torch.cat([out, next_id], dim=1)
        finally:
            for m, training in modes.items():
                m.training = training
        return out


def encode_prompt(tokenizer: Any, prompt: str, normalize: str = "NFC") -> list[int]:
    """The prompt's ids; a TokenizerError (a ValueError) when the tokenizer cannot use the prompt.

    The prompt is cleaned as the corpus was (:func:`lmhelpers.data.normalize_text`, NFC by default), so
    a prompt typed in decomposed form finds the characters and words the tokenizer learnt. A char
    tokenizer refuses unknown characters; a word tokenizer refuses a prompt whose words are all out of
    its vocabulary (it would condition on ``<unk>`` alone), listing them.
    """
    from .data import normalize_text

    if not isinstance(prompt, str):
        raise ValueError(tr("prompt={prompt!r} is invalid: a string (it may be empty)", prompt=prompt))
    prompt = normalize_text(prompt, normalize)
    check = getattr(tokenizer, "check_prompt", None)
    if check is not None:
        check(prompt)
    return list(tokenizer.encode(prompt))


def sample_text(
    model: nn.Module,
    tokenizer: Any,
    prompt: str,
    max_new_tokens: int = 200,
    normalize: str = "NFC",
    **kw: Any,
) -> str:
    """Decoded prompt + continuation. Keyword arguments go to :func:`generate`; ``normalize`` is the
    corpus's Unicode form (``DataConfig.normalize``), which the prompt is brought into first.

    The prompt's ids and the new ids are decoded together (so e.g. a word tokenizer joins them with
    its usual separator). An empty prompt has nothing to condition on, so generation starts from token
    id 0; that seed token is not part of
    the returned text. A prompt the tokenizer cannot use is refused (see :func:`encode_prompt`).
    """
    ids = encode_prompt(tokenizer, prompt, normalize)
    seeded = not ids
    if seeded:
        ids = [0]
    out = generate(model, ids, max_new_tokens, **kw)[0].tolist()
    return tokenizer.decode(out[1:] if seeded else out)
