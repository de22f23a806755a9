"""The hints of the exercises, by exercise name: the first names the idea, the second the shape of the code.

A check (:mod:`lmhelpers.checking`) shows an exercise's first hint with its feedback; ``hint(NAME)`` prints
the second, only when asked for. Each is written once, in English, marked with ``N_`` for the message
catalog, and translated into the learner's language where it is shown. Code inside a hint stays as it is.
"""

from __future__ import annotations

from .language import N_

# The first hint of each exercise, shown with its check's feedback.
HINTS = {
    "transformer_params": N_(
        "per block: two LayerNorms (a gain, and a shift if bias), q/k/v and output projections (4 C^2), "
        "the MLP (8 C^2), their biases if bias; then the token and position tables, the final LayerNorm, "
        "and the head (no bias) only if it is not tied"
    ),
    "logits_bytes": N_(
        "one float32 score per vocabulary entry, at every position of every row: 4 bytes each"
    ),
    "count_pairs": N_(
        "every id and the one right after it form a pair (the last id starts none); count each pair"
    ),
    "merge": N_(
        "left to right, a replaced pair uses up both of its ids, so two replacements never share an id; "
        "every id outside a replaced pair is kept, the last one included"
    ),
    "bits_per_char": N_(
        "the loss is per token and in nats; the answer is per character and in bits (a bit is ln 2 nats)"
    ),
    "rnn_step": N_(
        "the new state is tanh of two matrix products, one of the input and one of the previous state, "
        "plus both biases; PyTorch stores a weight as [out, in]"
    ),
    "lstm_step": N_(
        "the same two products as the plain RNN, four times as wide, give all four gates, stacked in the "
        "order input, forget, cell candidate g, output; the cell keeps part of the old cell and adds part of "
        "the candidate, and h shows part of the squashed cell"
    ),
    "gru_step": N_(
        "three gate blocks in the order reset, update, new; keep the input's and the state's products apart, "
        "because the reset gate scales only the state's part of the new content, its bias included; the "
        "update gate z mixes, and z near 1 keeps the old state"
    ),
    "causal_average": N_(
        "row t is the mean of rows 0..t: one matrix product with a lower-triangular weight matrix whose "
        "row t holds 1/(t+1) at columns 0..t"
    ),
    "masked_softmax": N_(
        "a token may look at itself and the past, never the future: hide the scores above the diagonal "
        "before the softmax, so that they get exactly 0, and normalise each row over what is left"
    ),
    "multi_head": N_(
        "one product gives q, k and v side by side; cut each into n_head heads of C // n_head numbers, let "
        "every head attend on its own, scaled by its own width, put the heads side by side again in their "
        "order, then apply the output projection"
    ),
    "apply_temperature": N_(
        "the temperature divides the scores (it does not multiply them) before they become probabilities "
        "over the vocabulary: below 1 the likely tokens get likelier"
    ),
    "perplexity": N_(
        "perplexity is the number of equally likely choices that would give the same loss; the loss is a "
        "natural logarithm (nats), so undo that logarithm"
    ),
    "loss_at_time": N_(
        "a straight line between the two recorded points around t, by time rather than by index; t may be "
        "a recorded time itself, the first or the last"
    ),
    "grid_runs": N_(
        "every combination of one value per key, the first key changing slowest, like nested for loops in "
        "the keys' order; each run a dict with every key"
    ),
    "Head": N_(
        "three learned projections of x (query, key, value), then step 4's attention: scores divided by "
        "sqrt(head_size), the future hidden before a softmax over each row, a weighted mix of the values"
    ),
    "MultiHeadAttention": N_(
        "n_head heads, each n_embd // n_head wide, all reading the same x; their outputs side by side are "
        "n_embd wide again, and one more Linear layer (proj) mixes them"
    ),
    "FeedForward": N_(
        "each position on its own, no mixing between positions: widen to 4 * n_embd (fc), a GELU, and "
        "back to n_embd (proj)"
    ),
    "Block": N_(
        "pre-LayerNorm: each branch reads a normalised copy of x, and what it returns is added to x (the "
        "residual stream); attention first, then the MLP, each with a LayerNorm of its own"
    ),
    "GPT": N_(
        "a token vector plus a position vector (positions 0..T-1), the blocks in order, the final LayerNorm, "
        "then lm_head to a score per vocabulary entry at every position; with cfg.tie_weights, lm_head's "
        "weight is tok_emb's; the loss is the mean cross-entropy over all B x T positions, None without "
        "targets"
    ),
}

# The second hints, the shape of the code, printed by hint(NAME) only.
SHAPE_HINTS = {
    "count_pairs": N_(
        "counts = {}\n"
        "for pair in <each id with the one after it: zip of the list and the list without its first id>:\n"
        "    counts[pair] = <one more than before, 0 the first time>\n"
        "return counts"
    ),
    "merge": N_(
        "out, i = [], 0\n"
        "while i < len(ids):\n"
        "    if <there is an id after ids[i], and the two are the pair>: append new_id, i += 2\n"
        "    else: append ids[i], i += 1\n"
        "return out"
    ),
    "bits_per_char": N_(
        "return <loss times the tokens: nats of the whole text> / <the characters> / math.log(2)"
    ),
    "rnn_step": N_("return torch.tanh(<x times W_ih transposed> + b_ih + <h times W_hh transposed> + b_hh)"),
    "lstm_step": N_(
        "gates = <the two products and both biases, as in rnn_step>   # [B, 4H]\n"
        "i, f, g, o = gates.chunk(4, dim=-1)\n"
        "<sigmoid on i, f and o; tanh on g>\n"
        "c_next = <f times the old c> + <i times g>\n"
        "h_next = <o times tanh of c_next>\n"
        "return h_next, c_next"
    ),
    "gru_step": N_(
        "r_x, z_x, n_x = (x @ W_ih.T + b_ih).chunk(3, dim=-1)\n"
        "r_h, z_h, n_h = <the same for h, W_hh and b_hh>\n"
        "r, z = <sigmoid of r_x + r_h>, <sigmoid of z_x + z_h>\n"
        "n = torch.tanh(n_x + <r times n_h>)\n"
        "return <(1 - z) times n> + <z times h>"
    ),
    "causal_average": N_(
        "weights = torch.tril(torch.ones(T, T))   # row t: ones at 0..t\n"
        "weights = <each row divided by its sum>\n"
        "return weights @ x"
    ),
    "masked_softmax": N_(
        "future = <a T x T bool tensor, True above the diagonal: torch.ones(...).triu(diagonal=1)>\n"
        "return scores.masked_fill(future, <a score whose exp is exactly 0>).softmax(dim=<the columns>)"
    ),
    "multi_head": N_(
        "q, k, v = (x @ W_qkv.T).split(C, dim=-1)\n"
        "each of them: .view(B, T, n_head, hd).transpose(1, 2)   # [B, n_head, T, hd], hd = C // n_head\n"
        "y = <masked softmax of q @ k.transpose(-2, -1) / math.sqrt(hd)> @ v\n"
        "y = <y with heads and time swapped back>.reshape(B, T, C)\n"
        "return y @ W_proj.T"
    ),
    "apply_temperature": N_("return <softmax over the last dim of the logits divided by the temperature>"),
    "perplexity": N_("return <e to the power of the loss: the math module has it>"),
    "loss_at_time": N_(
        "for t0, t1, l0, l1 in <neighbouring pairs of times and of losses, zipped>:\n"
        "    if t0 <= t <= t1:\n"
        "        return l0 + (l1 - l0) * <the fraction of the way from t0 to t1>"
    ),
    "grid_runs": N_(
        "combinations = <the Cartesian product of the value lists, in key order: itertools has it>\n"
        "return [dict(zip(<the keys>, values)) for values in combinations]"
    ),
    "Head": N_(
        "__init__: self.query = nn.Linear(cfg.n_embd, head_size, bias=cfg.bias), the same for self.key and "
        "self.value, and self.dropout = nn.Dropout(cfg.dropout)\n"
        "forward:  q, k, v from the three layers ([B, T, head_size] each)\n"
        "          scores = q @ k.transpose(-2, -1) / math.sqrt(head_size)   # [B, T, T]\n"
        "          scores = scores.masked_fill(<True above the diagonal, T x T>, float('-inf'))\n"
        "          return self.dropout(<softmax of each row>) @ v"
    ),
    "MultiHeadAttention": N_(
        "__init__: self.heads = nn.ModuleList(Head(cfg, <width of a head>) for _ in range(cfg.n_head)),\n"
        "          self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias), a Dropout\n"
        "forward:  torch.cat([<each head of x>], dim=-1), then self.proj, then the dropout"
    ),
    "FeedForward": N_(
        "__init__: self.fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias), self.proj back from "
        "4 * cfg.n_embd to cfg.n_embd, a Dropout\n"
        "forward:  fc, then F.gelu, then proj, then the dropout"
    ),
    "Block": N_(
        "__init__: self.ln_1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias), "
        "self.attn = MultiHeadAttention(cfg),\n"
        "          self.ln_2 (another LayerNorm), self.mlp = FeedForward(cfg)\n"
        "forward:  x = x + <attention of the normalised x>\n"
        "          x = x + <MLP of the x just computed, normalised by ln_2>\n"
        "          return x"
    ),
    "GPT": N_(
        "__init__: self.tok_emb = nn.Embedding(cfg.vocab_size, cfg.n_embd), self.pos_emb = "
        "nn.Embedding(cfg.block_size, cfg.n_embd),\n"
        "          self.drop = nn.Dropout(cfg.dropout), self.blocks = nn.ModuleList(<cfg.n_layer Blocks>),\n"
        "          self.ln_f = nn.LayerNorm(...), self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, "
        "bias=False),\n"
        "          and if cfg.tie_weights: self.lm_head.weight = self.tok_emb.weight\n"
        "forward:  x = self.drop(self.tok_emb(idx) + self.pos_emb(torch.arange(T, device=idx.device)))\n"
        "          every block in turn, then logits = self.lm_head(self.ln_f(x))\n"
        "          loss = F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1)) if targets is "
        "not None, else None\n"
        "          return logits, loss"
    ),
}
