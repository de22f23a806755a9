"""The original guide's models, written the way tutorials write them: the benchmark's baseline.

These exist to be measured against, not to be used. ``python -m lmhelpers bench`` times them beside
``transformer.TransformerLanguageModel`` and ``rnn.RNNLanguageModel`` in the same run, so every
speed-up it reports is a ratio from one machine at one moment.

* :class:`BaselineGPT`: the classic "Head / MultiHeadAttention" decoder. Every head is its own
  ``nn.Module`` with its own key, query and value projections and its own registered lower-triangular
  buffer; attention is ``q @ k^T`` scaled, ``masked_fill`` with -inf above the diagonal, ``softmax``,
  dropout, ``@ v``; the heads' outputs are concatenated and projected. ReLU feed-forward, pre-LayerNorm
  blocks, an untied output head. Generation crops the context to the last ``block_size`` tokens and
  runs the whole window again for every new token (no cache).
* :class:`BaselineLSTM`: embedding, ``nn.LSTM``, linear head. Generation re-reads the whole context
  from a zero state for every new token (no carried state).

Both take the same :class:`~lmhelpers.config.ModelConfig` as the package's models, count their
parameters and FLOPs the same way, and have ``forward(idx, targets) -> (logits, loss)``, so the
package's Trainer trains them unchanged.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import ModelConfig


class Head(nn.Module):
    """One head of causal self-attention, as its own module."""

    def __init__(self, n_embd: int, head_size: int, block_size: int, dropout: float) -> None:
        super().__init__()
        self.key = nn.Linear(n_embd, head_size, bias=False)
        self.query = nn.Linear(n_embd, head_size, bias=False)
        self.value = nn.Linear(n_embd, head_size, bias=False)
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        B, T, C = x.shape
        k = self.key(x)  # (B, T, hs)
        q = self.query(x)  # (B, T, hs)
        wei = q @ k.transpose(-2, -1) * k.shape[-1] ** -0.5  # (B, T, T)
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        wei = F.softmax(wei, dim=-1)
        wei = self.dropout(wei)
        v = self.value(x)
        return wei @ v  # (B, T, hs)


class MultiHeadAttention(nn.Module):
    """Several heads in parallel (a Python loop over modules), concatenated and projected."""

    def __init__(self, n_embd: int, n_head: int, block_size: int, dropout: float) -> None:
        super().__init__()
        head_size = n_embd // n_head
        self.heads = nn.ModuleList(Head(n_embd, head_size, block_size, dropout) for _ in range(n_head))
        self.proj = nn.Linear(head_size * n_head, n_embd)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor) -> Tensor:
        out = torch.cat([h(x) for h in self.heads], dim=-1)
        return self.dropout(self.proj(out))


class FeedForward(nn.Module):
    def __init__(self, n_embd: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_embd, 4 * n_embd),
            nn.ReLU(),
            nn.Linear(4 * n_embd, n_embd),
            nn.Dropout(dropout),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class BaselineBlock(nn.Module):
    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.sa = MultiHeadAttention(cfg.n_embd, cfg.n_head, cfg.block_size, cfg.dropout)
        self.ffwd = FeedForward(cfg.n_embd, cfg.dropout)
        self.ln1 = nn.LayerNorm(cfg.n_embd)
        self.ln2 = nn.LayerNorm(cfg.n_embd)

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.sa(self.ln1(x))
        x = x + self.ffwd(self.ln2(x))
        return x


def _loss(logits: Tensor, targets: Tensor | None) -> Tensor | None:
    if targets is None:
        return None
    return F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))


def _matmul_weights(model: nn.Module) -> int:
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))


class BaselineGPT(nn.Module):
    """The tutorial GPT. Same shape as the package's Transformer (width, depth, heads, context, 4x MLP);
    it differs in how it is written, which is what the benchmark measures."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        if cfg.vocab_size is None:
            raise ValueError("ModelConfig.vocab_size is None: set vocab_size from the tokenizer")
        if cfg.n_embd % cfg.n_head != 0:
            raise ValueError(f"n_embd={cfg.n_embd} must be divisible by n_head={cfg.n_head}")
        self.config = cfg
        self.token_embedding_table = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.position_embedding_table = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.blocks = nn.Sequential(*[BaselineBlock(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size)

    def num_params(self, non_embedding: bool = False) -> int:
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.token_embedding_table.weight.numel() + self.position_embedding_table.weight.numel()
            n -= self.lm_head.weight.numel()
        return n

    def flops_per_token(self, seq_len: int | None = None) -> float:
        """The same accounting as ``TransformerLanguageModel.flops_per_token``: 6 x matmul weights
        plus attention's ``12 * n_layer * n_embd * T``."""
        T = self.config.block_size if seq_len is None else seq_len
        return float(6 * _matmul_weights(self) + 12 * self.config.n_layer * self.config.n_embd * T)

    def forward(self, idx: Tensor, targets: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        B, T = idx.shape
        tok_emb = self.token_embedding_table(idx)  # (B, T, C)
        pos_emb = self.position_embedding_table(torch.arange(T, device=idx.device))  # (T, C)
        x = tok_emb + pos_emb
        x = self.blocks(x)
        x = self.ln_f(x)
        logits = self.lm_head(x)  # (B, T, vocab)
        return logits, _loss(logits, targets)

    @torch.no_grad()
    def generate(self, idx: Tensor, max_new_tokens: int, temperature: float = 0.0) -> Tensor:
        """Crop to the last block_size tokens and run the whole window for each new token."""
        for _ in range(max_new_tokens):
            idx_cond = idx[:, -self.config.block_size :]
            logits, _ = self(idx_cond)
            next_id = _pick(logits[:, -1, :], temperature)
            idx = torch.cat((idx, next_id), dim=1)
        return idx


class BaselineLSTM(nn.Module):
    """Embedding -> ``nn.LSTM`` -> linear head; generation recomputes from the whole context."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        if cfg.vocab_size is None:
            raise ValueError("ModelConfig.vocab_size is None: set vocab_size from the tokenizer")
        self.config = cfg
        self.embedding = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.lstm = nn.LSTM(
            cfg.n_embd,
            cfg.n_embd,
            num_layers=cfg.n_layer,
            dropout=cfg.dropout if cfg.n_layer > 1 else 0.0,
            batch_first=True,
        )
        self.fc = nn.Linear(cfg.n_embd, cfg.vocab_size)

    def num_params(self, non_embedding: bool = False) -> int:
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= self.embedding.weight.numel() + self.fc.weight.numel()
        return n

    def flops_per_token(self, seq_len: int | None = None) -> float:
        """The same accounting as ``RNNLanguageModel.flops_per_token`` for an LSTM (4 gates)."""
        h, L, V = self.config.n_embd, self.config.n_layer, self.config.vocab_size
        return float(3 * (L * 2 * 4 * (h * h + h * h) + 2 * h * V))

    def forward(self, idx: Tensor, targets: Tensor | None = None) -> tuple[Tensor, Tensor | None]:
        out, _ = self.lstm(self.embedding(idx))
        logits = self.fc(out)
        return logits, _loss(logits, targets)

    @torch.no_grad()
    def generate(self, idx: Tensor, max_new_tokens: int, temperature: float = 0.0) -> Tensor:
        """Run the LSTM over the whole context, from a zero state, for every new token."""
        for _ in range(max_new_tokens):
            logits, _ = self(idx)
            next_id = _pick(logits[:, -1, :], temperature)
            idx = torch.cat((idx, next_id), dim=1)
        return idx


def _pick(logits: Tensor, temperature: float) -> Tensor:
    if temperature <= 0:
        return logits.argmax(dim=-1, keepdim=True)
    return torch.multinomial(F.softmax(logits / temperature, dim=-1), num_samples=1)


BASELINES: dict[str, type[nn.Module]] = {"transformer": BaselineGPT, "lstm": BaselineLSTM}


def build_baseline(cfg: ModelConfig) -> nn.Module:
    """The baseline for ``cfg.arch`` ('transformer' or 'lstm'), freshly initialised on the CPU."""
    if cfg.arch not in BASELINES:
        raise ValueError(f"no baseline for arch {cfg.arch!r}; baselines exist for {sorted(BASELINES)}")
    return BASELINES[cfg.arch](cfg)
