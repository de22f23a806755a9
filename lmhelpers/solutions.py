"""Reference solutions to the notebook exercises: read one after trying it yourself.

Each function answers the exercise of the same name in :mod:`lmhelpers.exercises`, written as plain
teaching code rather than as fast code. The checks compare your function with the real implementation
(PyTorch's ``nn.LSTMCell`` and ``scaled_dot_product_attention``, this package's attention module and
``build_model``) wherever one exists, and with these solutions only where none does (``count_pairs``,
``merge``, ``grid_runs``); the tests check every solution here against the real thing as well.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# ------------------------------------------------------------------------------ 00: sizes
BYTES_PER_FLOAT32 = 4


def transformer_params(
    n_layer: int, n_embd: int, vocab_size: int, block_size: int, bias: bool, tie_weights: bool
) -> int:
    """Parameters of lmhelpers' GPT-style Transformer, counted from its config."""
    C = n_embd
    b = 1 if bias else 0  # with bias=True every Linear and LayerNorm also has a bias vector
    layer_norm = C + b * C  # a gain per feature (and a shift)
    attention = (3 * C * C + b * 3 * C) + (C * C + b * C)  # fused q/k/v projection, output projection
    mlp = (C * 4 * C + b * 4 * C) + (4 * C * C + b * C)  # up to 4C wide, and back down to C
    block = 2 * layer_norm + attention + mlp
    embeddings = vocab_size * C + block_size * C  # a vector per token id and one per position
    head = 0 if tie_weights else vocab_size * C  # tied: the head *is* the token table, counted once
    return embeddings + n_layer * block + layer_norm + head  # + the final LayerNorm


def logits_bytes(batch_size: int, block_size: int, vocab_size: int) -> int:
    """Memory of one batch of float32 logits: a score for every vocabulary entry at every position."""
    return batch_size * block_size * vocab_size * BYTES_PER_FLOAT32


# ------------------------------------------------------------------------------ 01: BPE by hand
def count_pairs(ids: list[int]) -> dict[tuple[int, int], int]:
    """How often each adjacent pair of ids occurs."""
    counts: dict[tuple[int, int], int] = {}
    for pair in zip(ids, ids[1:]):  # (ids[0], ids[1]), (ids[1], ids[2]), ...
        counts[pair] = counts.get(pair, 0) + 1
    return counts


def merge(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every occurrence of ``pair`` by ``new_id``, left to right, never overlapping."""
    out = []
    i = 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)
            i += 2  # both ids are used up: [1, 1, 1] with (1, 1) gives [new_id, 1]
        else:
            out.append(ids[i])
            i += 1
    return out


def bits_per_char(mean_loss_nats: float, n_tokens: int, n_chars: int) -> float:
    """Validation loss per token (nats) turned into bits per character of the text."""
    total_nats = mean_loss_nats * n_tokens  # the information the model needs for the whole text
    return total_nats / n_chars / math.log(2)  # per character, and 1 bit = ln 2 nats


# ------------------------------------------------------------------------------ 02: recurrent cells
def rnn_step(x: Tensor, h: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
    """One step of a tanh RNN: the new state mixes the input and the previous state."""
    # PyTorch stores weights as [out, in], so a batch of row vectors multiplies by the transpose.
    return torch.tanh(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh)


def lstm_step(
    x: Tensor, h: Tensor, c: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor
) -> tuple[Tensor, Tensor]:
    """One LSTM step with PyTorch's weight layout: four gate blocks stacked as (input, forget, g, output)."""
    gates = x @ W_ih.T + b_ih + h @ W_hh.T + b_hh  # [B, 4H]: all four gates in one matmul
    i, f, g, o = gates.chunk(4, dim=-1)
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)  # gates: how much, from 0 to 1
    g = torch.tanh(g)  # the candidate content
    c_next = f * c + i * g  # keep part of the old memory, write part of the new
    h_next = o * torch.tanh(c_next)  # show part of the memory
    return h_next, c_next


def gru_step(x: Tensor, h: Tensor, W_ih: Tensor, W_hh: Tensor, b_ih: Tensor, b_hh: Tensor) -> Tensor:
    """One GRU step with PyTorch's weight layout: three gate blocks stacked as (reset, update, new)."""
    r_x, z_x, n_x = (x @ W_ih.T + b_ih).chunk(3, dim=-1)  # the input's share of each gate
    r_h, z_h, n_h = (h @ W_hh.T + b_hh).chunk(3, dim=-1)  # the state's share, kept apart for n
    r, z = torch.sigmoid(r_x + r_h), torch.sigmoid(z_x + z_h)
    n = torch.tanh(n_x + r * n_h)  # the reset gate scales the state's part, its bias included
    return (1 - z) * n + z * h  # z near 1 keeps the old state


# ------------------------------------------------------------------------------ 03: attention
def causal_average(x: Tensor) -> Tensor:
    """y[t] = mean of x[0..t] along the time axis (-2), as one matrix product."""
    T = x.size(-2)
    weights = torch.tril(torch.ones(T, T, dtype=x.dtype, device=x.device))  # row t: ones at 0..t
    weights = weights / weights.sum(dim=-1, keepdim=True)  # row t: 1/(t+1) at 0..t
    return weights @ x


def masked_softmax(scores: Tensor) -> Tensor:
    """Softmax over the last dim after hiding the future: row i keeps columns 0..i only."""
    T = scores.size(-1)
    future = torch.ones(T, T, dtype=torch.bool, device=scores.device).triu(diagonal=1)
    return scores.masked_fill(future, float("-inf")).softmax(dim=-1)  # exp(-inf) = 0 exactly


def multi_head(x: Tensor, W_qkv: Tensor, W_proj: Tensor, n_head: int) -> Tensor:
    """Causal multi-head attention as in lmhelpers.transformer.CausalSelfAttention (without biases)."""
    B, T, C = x.shape
    hd = C // n_head
    q, k, v = (x @ W_qkv.T).split(C, dim=-1)  # one fused projection, then three C-wide slices

    def heads(t: Tensor) -> Tensor:  # [B, T, C] -> [B, n_head, T, hd]: each head a slice of C
        return t.view(B, T, n_head, hd).transpose(1, 2)

    q, k, v = heads(q), heads(k), heads(v)
    y = masked_softmax(q @ k.transpose(-2, -1) / math.sqrt(hd)) @ v  # every head at once
    y = y.transpose(1, 2).reshape(B, T, C)  # the heads side by side again
    return y @ W_proj.T


def apply_temperature(logits: Tensor, temperature: float) -> Tensor:
    """Probabilities over the last dim after dividing the scores by the temperature (> 0)."""
    return (logits / temperature).softmax(dim=-1)  # T < 1 sharpens, T > 1 flattens


# ------------------------------------------------------------------------------ 03: the GPT, module by module
# The names of the layers (query, key, value, heads, proj, fc, ln_1, attn, ln_2, mlp, tok_emb, pos_emb,
# blocks, ln_f, lm_head) are the ones the checks load the package's weights into.
class Head(nn.Module):
    """One head of causal self-attention: x [B, T, n_embd] -> [B, T, head_size]."""

    def __init__(self, cfg, head_size):
        super().__init__()
        self.query = nn.Linear(cfg.n_embd, head_size, bias=cfg.bias)  # what each token looks for
        self.key = nn.Linear(cfg.n_embd, head_size, bias=cfg.bias)  # what each token offers
        self.value = nn.Linear(cfg.n_embd, head_size, bias=cfg.bias)  # what it passes on when chosen
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        T = x.size(1)
        q, k, v = self.query(x), self.key(x), self.value(x)  # [B, T, head_size] each
        scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))  # [B, T, T], divided by sqrt(head_size)
        future = torch.ones(T, T, dtype=torch.bool, device=x.device).triu(diagonal=1)  # column > row
        weights = scores.masked_fill(future, float("-inf")).softmax(dim=-1)  # each row sums to 1
        return self.dropout(weights) @ v


class MultiHeadAttention(nn.Module):
    """``n_head`` heads side by side, each ``n_embd // n_head`` wide, then the output projection."""

    def __init__(self, cfg):
        super().__init__()
        head_size = cfg.n_embd // cfg.n_head  # the heads share the width: n_head slices of n_embd
        self.heads = nn.ModuleList(Head(cfg, head_size) for _ in range(cfg.n_head))
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)  # mixes what the heads found
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        y = torch.cat([head(x) for head in self.heads], dim=-1)  # [B, T, n_embd]: the heads side by side
        return self.dropout(self.proj(y))


class FeedForward(nn.Module):
    """The MLP of a block: each position on its own, widened 4x, GELU, and back to n_embd."""

    def __init__(self, cfg):
        super().__init__()
        self.fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias)
        self.proj = nn.Linear(4 * cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.dropout(self.proj(F.gelu(self.fc(x))))


class Block(nn.Module):
    """A pre-LayerNorm residual block: x + attention(LayerNorm(x)), then x + MLP(LayerNorm(x))."""

    def __init__(self, cfg):
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.attn = MultiHeadAttention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.mlp = FeedForward(cfg)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))  # the branch reads a normalised copy; the stream is only added to
        x = x + self.mlp(self.ln_2(x))
        return x


class GPT(nn.Module):
    """The whole model: token + position embeddings, the blocks, a final LayerNorm, tied output weights."""

    def __init__(self, cfg):
        super().__init__()
        self.config = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.pos_emb = nn.Embedding(cfg.block_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = nn.LayerNorm(cfg.n_embd, bias=cfg.bias)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        if cfg.tie_weights:
            self.lm_head.weight = self.tok_emb.weight  # one matrix reads tokens in and scores them out

    def forward(self, idx, targets=None):
        T = idx.size(1)
        positions = self.pos_emb(torch.arange(T, device=idx.device))  # [T, n_embd]: the first T places
        x = self.drop(self.tok_emb(idx) + positions)  # [B, T, n_embd]
        for block in self.blocks:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))  # [B, T, vocab_size]
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        return logits, loss


# ------------------------------------------------------------------------------ 04: comparing runs
def perplexity(loss_nats: float) -> float:
    """The effective number of equally likely next tokens."""
    return math.exp(loss_nats)


def loss_at_time(times: list[float], losses: list[float], t: float) -> float:
    """A loss curve read at time ``t`` by linear interpolation between its two neighbouring points."""
    for t0, t1, l0, l1 in zip(times, times[1:], losses, losses[1:]):
        if t0 <= t <= t1:
            if t1 == t0:
                return l0
            return l0 + (l1 - l0) * (t - t0) / (t1 - t0)  # the straight line from (t0, l0) to (t1, l1)
    raise ValueError(f"t={t} lies outside the curve's times {times[0]}..{times[-1]}")


# ------------------------------------------------------------------------------ 05: sweeps
def grid_runs(grid: dict[str, list]) -> list[dict]:
    """Every combination of the grid's values, the first key varying slowest (itertools.product order)."""
    runs: list[dict] = [{}]
    for key, values in grid.items():
        runs = [{**run, key: value} for run in runs for value in values]
    return runs
