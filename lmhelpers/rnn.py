"""Recurrent language models (Elman RNN, GRU, LSTM) with the same interface as the Transformer.

Shape: token embedding -> dropout -> ``n_layer`` stacked recurrent layers of width n_embd (dropout
between layers) -> dropout -> LayerNorm -> linear head to vocabulary logits, optionally tied to the
embedding (possible because the hidden size equals the embedding width).

Why strictly unidirectional: a language model scores token t+1 from tokens 0..t. A bidirectional RNN
also runs right-to-left, so its output at position t already depends on tokens t+1, t+2, ...; trained
on next-token targets it would simply learn to read the answer off the backward pass, reach a
near-zero training loss, and be useless for generation, where the future does not exist yet.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .config import ModelConfig

_CELLS: dict[str, type[nn.RNNBase]] = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
GATES = {"rnn": 1, "gru": 3, "lstm": 4}  # weight blocks per layer: input-to-hidden and hidden-to-hidden

# The hidden state: h [n_layer, B, n_embd] for rnn/gru, (h, c) for lstm.
RNNState = Tensor | tuple[Tensor, Tensor]


class RNNLanguageModel(nn.Module):
    """Next-token model on an ``nn.RNN`` / ``nn.GRU`` / ``nn.LSTM`` stack, chosen by ``cfg.arch``.

    Unlike the Transformer it has no maximum context: ``forward`` accepts any length, and the state
    carries everything seen so far (block_size only sets the training window length).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        if cfg.vocab_size is None:
            raise ValueError("ModelConfig.vocab_size is None: set vocab_size from the tokenizer")
        if cfg.arch not in _CELLS:
            raise ValueError(f"RNNLanguageModel needs arch in {sorted(_CELLS)}, got {cfg.arch!r}")
        self.config = cfg
        self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.rnn = _CELLS[cfg.arch](
            cfg.n_embd,
            cfg.n_embd,
            num_layers=cfg.n_layer,
            dropout=cfg.dropout if cfg.n_layer > 1 else 0.0,  # PyTorch applies it between layers only
            batch_first=True,
            bidirectional=False,  # see the module docstring
        )
        # The recurrent output lives in (-1, 1) with a scale that drifts during training; normalising it
        # gives the (possibly tied) head inputs of a fixed scale, as the Transformer's ln_f does.
        self.ln_f = nn.LayerNorm(cfg.n_embd)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        if cfg.tie_weights:
            self.lm_head.weight = self.tok_emb.weight
        self._init_weights()

    def _init_weights(self) -> None:
        # Small embedding/head weights give near-uniform predictions at init (loss ~ ln V). The
        # recurrent weights keep PyTorch's uniform(+-1/sqrt(hidden)) default, which suits tanh/sigmoid.
        nn.init.normal_(self.tok_emb.weight, mean=0.0, std=0.02)
        if not self.config.tie_weights:
            nn.init.normal_(self.lm_head.weight, mean=0.0, std=0.02)
        if self.config.arch == "lstm":
            # Forget-gate bias 1 (gate order i, f, g, o): remember by default, so gradients reach far
            # back early in training (Jozefowicz et al. 2015). b_ih and b_hh are summed, so set one.
            h = self.config.n_embd
            for name, p in self.rnn.named_parameters():
                if name.startswith("bias_ih"):
                    nn.init.constant_(p[h : 2 * h], 1.0)
                elif name.startswith("bias_hh"):
                    nn.init.zeros_(p[h : 2 * h])

    # ----------------------------------------------------------------------------------------- sizes
    def num_params(self, non_embedding: bool = False) -> int:
        """Parameter count, a tied matrix counted once; ``non_embedding=True`` leaves out the
        vocabulary-sized embedding and head matrices (same convention as the Transformer)."""
        params = list(self.parameters())
        if non_embedding:
            skip = {id(self.tok_emb.weight), id(self.lm_head.weight)}
            params = [p for p in params if id(p) not in skip]
        return sum(p.numel() for p in params)

    def flops_per_token(self, seq_len: int | None = None) -> float:
        """Training FLOPs per token (forward + backward = 3x forward), counting matmuls only.

        ``3 * (n_layer * 2 * gates * (n_in * h + h * h) + 2 * h * vocab)`` with gates = 1 (rnn), 3 (gru),
        4 (lstm), h = n_in = n_embd. ``seq_len`` is accepted for interface parity and ignored: a
        recurrent step costs the same however long the context is.
        """
        cfg = self.config
        h, g = cfg.n_embd, GATES[cfg.arch]
        per_layer = 2 * g * (h * h + h * h)
        return float(3 * (cfg.n_layer * per_layer + 2 * h * cfg.vocab_size))

    # --------------------------------------------------------------------------------------- forward
    def _run(self, idx: Tensor, state: RNNState | None) -> tuple[Tensor, RNNState]:
        out, state = self.rnn(self.drop(self.tok_emb(idx)), state)
        return self.lm_head(self.ln_f(self.drop(out))), state

    def forward(
        self, idx: Tensor, targets: Tensor | None = None, state: RNNState | None = None
    ) -> tuple[Tensor, Tensor | None] | tuple[Tensor, Tensor | None, RNNState]:
        """Logits [B, T, vocab] from a zero initial state and, given targets, the mean cross-entropy.

        With ``state`` (stateful training: the state the previous window left), the window continues
        from it and the new state is returned third: ``(logits, loss, state)``.
        """
        logits, new_state = self._run(idx, state)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        return (logits, loss) if state is None else (logits, loss, new_state)

    @staticmethod
    def detach_state(state: RNNState) -> RNNState:
        """The state without its history: backpropagation stops here (the "truncated" in truncated BPTT)."""
        return tuple(s.detach() for s in state) if isinstance(state, tuple) else state.detach()

    def init_state(self, batch_size: int) -> RNNState:
        """The zero state, on the model's device and in its dtype."""
        w = self.tok_emb.weight
        h = torch.zeros(self.config.n_layer, batch_size, self.config.n_embd, device=w.device, dtype=w.dtype)
        return (h, torch.zeros_like(h)) if self.config.arch == "lstm" else h

    def forward_step(self, idx: Tensor, state: RNNState | None) -> tuple[Tensor, RNNState]:
        """Logits [B, t, vocab] for ``t`` new tokens continuing from ``state``, and the new state."""
        if idx.device.type == "cpu" and idx.size(1) == 1:
            # One step of a carried state: PyTorch's own kernels take half the time of oneDNN's RNN
            # layer here (which prepares its weights on every call; it is the faster one for sequences).
            with _onednn_disabled():
                return self._run(idx, state)
        return self._run(idx, state)


@contextlib.contextmanager
def _onednn_disabled() -> Iterator[None]:
    previous = torch.backends.mkldnn.enabled
    torch.backends.mkldnn.enabled = False
    try:
        yield
    finally:
        torch.backends.mkldnn.enabled = previous
