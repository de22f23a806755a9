"""A GPT-style decoder-only Transformer language model, kept to one readable file.

Shape of the model (GPT-2's): token + learned position embeddings -> ``n_layer`` pre-LayerNorm blocks
(causal self-attention, then a 4x GELU MLP, each added to the residual stream) -> final LayerNorm ->
linear head to vocabulary logits, optionally sharing its weight with the token embedding.

Besides ``forward`` (training and evaluation) the model offers an incremental interface,
``init_state`` / ``forward_step``, backed by a key/value cache, so generation costs one token's
work per new token instead of recomputing the whole window; ``lmhelpers.generation`` uses both.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import ModelConfig


@dataclass
class KVCache:
    """Keys and values of the positions seen so far, per layer, in buffers the size of the window.

    Each layer's buffers, [B, n_head, block_size, head_dim], are allocated at the first write (in the
    dtype the keys come in, so autocast's bf16 cache stays bf16) and filled in place: a new token
    writes its own position only, where concatenating would copy the whole cache for every token
    (14% of a 6-layer, 512-wide model's generation time on a CPU). ``length`` positions are valid.
    ``forward_step`` returns a new ``KVCache`` sharing the buffers; continuing from an older one
    overwrites the positions after its ``length`` for every cache that shares them.
    """

    capacity: int
    keys: list[Tensor | None] = field(default_factory=list)
    values: list[Tensor | None] = field(default_factory=list)
    length: int = 0

    def write(self, layer: int, k: Tensor, v: Tensor) -> tuple[Tensor, Tensor]:
        """Store ``k``, ``v`` [B, n_head, T, head_dim] at positions length..length+T-1 of ``layer``;
        return views of every key and value up to them."""
        while len(self.keys) <= layer:
            self.keys.append(None)
            self.values.append(None)
        if self.keys[layer] is None:
            shape = (k.size(0), k.size(1), self.capacity, k.size(3))
            self.keys[layer] = k.new_empty(shape)
            self.values[layer] = v.new_empty(shape)
        end = self.length + k.size(2)
        self.keys[layer][:, :, self.length : end] = k
        self.values[layer][:, :, self.length : end] = v
        keys, values = self.keys[layer][:, :, :end], self.values[layer][:, :, :end]
        if keys.dtype != k.dtype:  # a cache begun under autocast, continued without it (or vice versa)
            keys, values = keys.to(k.dtype), values.to(v.dtype)
        return keys, values


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position i sees only positions <= i."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.n_head = cfg.n_head
        self.head_dim = cfg.n_embd // cfg.n_head
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)  # one matmul for q, k and v
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)  # residual projection
        self.attn_dropout = cfg.dropout
        self.resid_dropout = nn.Dropout(cfg.dropout)

    def _heads(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        return tuple(t.view(B, T, self.n_head, self.head_dim).transpose(1, 2) for t in (q, k, v))

    def forward(
        self, x: Tensor, cache: KVCache | None = None, layer: int = 0
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        """The attention output and the keys and values it attended to (with ``cache``: all of them)."""
        B, T, C = x.shape
        q, k, v = self._heads(x)
        if cache is not None:
            k, v = cache.write(layer, k, v)
        P = k.size(2) - T  # how many cached positions precede the new ones
        dropout_p = self.attn_dropout if self.training else 0.0
        if P == 0 and dropout_p > 0 and x.device.type == "cpu":
            # PyTorch's CPU flash kernel has no dropout, and its fallback (the math path) spends ~10%
            # more than writing the same steps out: scores, causal mask, softmax, dropout, values.
            scores = (q @ k.transpose(-2, -1)).mul_(1.0 / math.sqrt(self.head_dim))
            future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu_(diagonal=1)
            weights = F.dropout(scores.masked_fill_(future, float("-inf")).softmax(dim=-1), dropout_p)
            y = weights @ v
        elif P == 0:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p, is_causal=True)
        elif T == 1:  # a single new query may look at every cached key: no mask needed
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
        else:
            # is_causal=True would align the triangle to the top-left corner, i.e. hide the cache from
            # the new queries. New query i sits at absolute position P + i and may see keys 0..P+i.
            mask = torch.ones(T, P + T, dtype=torch.bool, device=x.device).tril(diagonal=P)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.proj(y)), (k, v)

    def weights(self, x: Tensor) -> Tensor:
        """The explicit softmax attention weights [B, n_head, T, T] (SDPA never materialises them)."""
        q, k, _ = self._heads(x)
        T = x.size(1)
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(self.head_dim)
        causal = torch.ones(T, T, dtype=torch.bool, device=x.device).tril()
        return scores.masked_fill(~causal, float("-inf")).softmax(dim=-1)


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias)
        self.proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias)  # residual projection
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x: Tensor) -> Tensor:
        return self.dropout(self.proj(F.gelu(self.fc(x))))


class Block(nn.Module):
    """Pre-LayerNorm block: normalising the branch inputs keeps the residual stream an identity path,
    which is why GPT-2 style models train stably without warm-up tricks at this depth."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = CausalSelfAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = MLP(cfg)

    def forward(
        self, x: Tensor, cache: KVCache | None = None, layer: int = 0
    ) -> tuple[Tensor, tuple[Tensor, Tensor]]:
        a, kv = self.attn(self.ln_1(x), cache, layer)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, kv


class TransformerLanguageModel(nn.Module):
    """GPT-style next-token model. See the module docstring for the architecture."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        if cfg.vocab_size is None:
            raise ValueError("ModelConfig.vocab_size is None: set vocab_size from the tokenizer")
        if cfg.arch != "transformer":
            raise ValueError(f"TransformerLanguageModel needs arch='transformer', got {cfg.arch!r}")
        self.config = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.pos_emb = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        if cfg.tie_weights:
            # One matrix both reads tokens in and scores them out: fewer parameters, and in practice
            # a slightly better model at this scale (Press & Wolf 2017).
            self.lm_head.weight = self.tok_emb.weight
        self.apply(self._init_weights)
        # GPT-2: each block adds two branches to the residual stream, so scale their last projection by
        # 1/sqrt(2 * n_layer) to keep the stream's variance from growing with depth.
        resid_std = 0.02 / math.sqrt(2 * cfg.n_layer)
        for name, p in self.named_parameters():
            if name.endswith("proj.weight"):
                nn.init.normal_(p, mean=0.0, std=resid_std)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    # ----------------------------------------------------------------------------------------- sizes
    def num_params(self, non_embedding: bool = False) -> int:
        """Parameter count, a tied matrix counted once.

        ``non_embedding=True`` leaves out the vocabulary-sized tables (token embedding and lm head,
        tied or not) and the position table, i.e. counts the "body" as in Kaplan et al. (2020); that
        number is comparable across tokenizers, tying choices and model families.
        """
        params = list(self.parameters())  # parameters() already yields a shared tensor only once
        if non_embedding:
            skip = {id(self.tok_emb.weight), id(self.pos_emb.weight), id(self.lm_head.weight)}
            params = [p for p in params if id(p) not in skip]
        return sum(p.numel() for p in params)

    def flops_per_token(self, seq_len: int | None = None) -> float:
        """Training FLOPs per token (forward + backward, backward ~ 2x forward), counting matmuls only.

        ``6 * N_matmul + 12 * n_layer * n_embd * T``, where N_matmul = n_layer * 12 * n_embd**2 + n_embd
        * vocab is every weight that takes part in a matmul (qkv, attention and MLP projections and the
        lm head, which is a matmul even when tied; embedding lookups are not) and the second term is
        attention's scores (QK^T) and weighted values (AV), 2 * 2 * T * n_embd forward FLOPs per layer,
        T = ``seq_len`` or block_size (the full T, as in the PaLM paper's MFU accounting).
        """
        T = self.config.block_size if seq_len is None else seq_len
        n_matmul = sum(m.weight.numel() for m in self.modules() if isinstance(m, nn.Linear))
        return float(6 * n_matmul + 12 * self.config.n_layer * self.config.n_embd * T)

    # --------------------------------------------------------------------------------------- forward
    def _body(self, idx: Tensor, cache: KVCache | None) -> Tensor:
        """Final hidden states [B, T, n_embd]; with ``cache``, the new keys and values go into it."""
        T = idx.size(1)
        P = cache.length if cache is not None else 0
        if P + T > self.config.block_size:
            raise ValueError(
                f"{P + T} positions (cached {P} + new {T}) exceed block_size={self.config.block_size}: "
                f"the model has learned positions 0..{self.config.block_size - 1} only; crop the input "
                f"to its last {self.config.block_size} tokens (generate() does this for you)"
            )
        pos = torch.arange(P, P + T, device=idx.device)
        x = self.drop(self.tok_emb(idx) + self.pos_emb(pos))
        for i, block in enumerate(self.blocks):
            x, _ = block(x, cache, i)
        return self.ln_f(x)

    def forward(self, idx: Tensor, targets: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        """Logits [B, T, vocab] for every position and, given targets, the mean cross-entropy (nats)."""
        logits = self.lm_head(self._body(idx, None))
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss

    def init_state(self, batch_size: int) -> KVCache | None:
        """An empty KV cache (None): the first ``forward_step`` is then a prefill."""
        return None

    def forward_step(self, idx: Tensor, state: KVCache | None) -> tuple[Tensor, KVCache]:
        """Logits [B, t, vocab] for ``t`` new tokens that follow the cached ones, and the longer cache.

        The new tokens take positions P..P+t-1 after the P cached ones; P + t may not exceed block_size.
        ``state`` None starts a new cache (a prefill). See :class:`KVCache` for its in-place buffers.
        """
        cache = state if state is not None else KVCache(capacity=self.config.block_size)
        x = self._body(idx, cache)
        return self.lm_head(x), KVCache(cache.capacity, cache.keys, cache.values, cache.length + idx.size(1))

    @torch.no_grad()
    def attention_maps(self, idx: Tensor) -> Tensor:
        """Attention weights [n_layer, n_head, T, T] for one sequence idx [1, T] (or [T]), in eval mode.

        Row i of a map is the distribution over positions 0..i that query i attends to.
        """
        if idx.dim() == 1:
            idx = idx.unsqueeze(0)
        if idx.size(0) != 1:
            raise ValueError(f"attention_maps takes one sequence, shape [1, T]; got {tuple(idx.shape)}")
        if idx.size(1) > self.config.block_size:
            raise ValueError(f"sequence length {idx.size(1)} exceeds block_size={self.config.block_size}")
        was_training = self.training
        self.eval()
        try:
            pos = torch.arange(idx.size(1), device=idx.device)
            x = self.tok_emb(idx) + self.pos_emb(pos)
            maps = []
            for block in self.blocks:
                maps.append(block.attn.weights(block.ln_1(x))[0])
                x, _ = block(x)
        finally:
            self.train(was_training)
        return torch.stack(maps)
