"""Every exercise check accepts its reference solution, rejects a typical wrong answer, and reports
learners' mistakes (exceptions, shapes, missing returns) as hints; every solution matches the real thing."""

from __future__ import annotations

import collections
import inspect
import math
import random
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn import functional as F

from lmhelpers import bpe, solutions
from lmhelpers.config import ModelConfig, make_config
from lmhelpers.exercises import EXERCISES, CheckResult, assert_close, check, exercise_table
from lmhelpers.models import build_model
from lmhelpers.sweep import load_sweep
from lmhelpers.transformer import CausalSelfAttention


# ------------------------------------------------------------------------------ typical wrong answers
def _no_position_table(n_layer, n_embd, vocab_size, block_size, bias, tie_weights):
    return solutions.transformer_params(n_layer, n_embd, vocab_size, block_size, bias, tie_weights) - (
        block_size * n_embd
    )


def _overlapping_merge(ids, pair, new_id):
    out = []
    for i, a in enumerate(ids):  # replaces at every position, so (1, 1) in [1, 1, 1] is found twice
        if i + 1 < len(ids) and (a, ids[i + 1]) == pair:
            out.append(new_id)
        elif not (i > 0 and (ids[i - 1], a) == pair):
            out.append(a)
    return out


def _lstm_ifog(x, h, c, W_ih, W_hh, b_ih, b_hh):
    i, f, o, g = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)  # wrong gate order
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    return torch.sigmoid(o) * torch.tanh(c), c


def _lstm(x, h, c, W_ih, W_hh, b_ih, b_hh, squash=True, swap=False):
    i, f, g, o = (x @ W_ih.T + b_ih + h @ W_hh.T + b_hh).chunk(4, dim=-1)
    c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
    h = torch.sigmoid(o) * (torch.tanh(c) if squash else c)
    return (c, h) if swap else (h, c)


def _gru(x, h, W_ih, W_hh, b_ih, b_hh, bias_outside=False, z_for_new=False, summed=False, order="rzn"):
    gx = dict(zip(order, (x @ W_ih.T + b_ih).chunk(3, dim=-1)))
    gh = dict(zip(order, (h @ W_hh.T + b_hh).chunk(3, dim=-1)))
    r, z = torch.sigmoid(gx["r"] + gh["r"]), torch.sigmoid(gx["z"] + gh["z"])
    if summed:  # the LSTM habit: one sum of both products, reset applied to nothing
        n = torch.tanh(gx["n"] + gh["n"])
    elif bias_outside:  # r * (W_hn h) + b_hn: the reset gate misses the bias
        H = h.size(-1)
        n = torch.tanh(gx["n"] + r * (gh["n"] - b_hh[2 * H :]) + b_hh[2 * H :])
    else:
        n = torch.tanh(gx["n"] + r * gh["n"])
    return z * n + (1 - z) * h if z_for_new else (1 - z) * n + z * h


def _mask_after_softmax(scores):
    T = scores.size(-1)
    return scores.softmax(dim=-1) * torch.ones(T, T).tril()


def _masked(scores, diagonal=1, fill=float("-inf"), dim=-1):
    T = scores.size(-1)
    return scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(diagonal), fill).softmax(dim)


def _multi_head(x, W_qkv, W_proj, n_head, back=True, scale=None, project=True):
    B, T, C = x.shape
    q, k, v = (t.view(B, T, n_head, C // n_head).transpose(1, 2) for t in (x @ W_qkv.T).split(C, dim=-1))
    y = solutions.masked_softmax(q @ k.transpose(-2, -1) / math.sqrt(scale or C // n_head)) @ v
    y = (y.transpose(1, 2) if back else y).reshape(B, T, C)  # not back: [B, n_head, T, hd] read as [B, T, .]
    return y @ W_proj.T if project else y


def _previous_point(times, losses, t):
    return next(l0 for t0, t1, l0 in zip(times, times[1:], losses) if t0 <= t <= t1)


def _strictly_inside(times, losses, t):  # misses both ends of the range
    for t0, t1, l0, l1 in zip(times, times[1:], losses, losses[1:]):
        if t0 < t < t1:
            return l0 + (l1 - l0) * (t - t0) / (t1 - t0)
    return None


def _by_index(times, losses, t):  # as if the points were evenly spaced in time
    where = (t - times[0]) / (times[-1] - times[0]) * (len(times) - 1)
    i = min(int(where), len(times) - 2)
    return losses[i] + (losses[i + 1] - losses[i]) * (where - i)


def _last_key_slowest(grid):
    return [dict(reversed(list(run.items()))) for run in solutions.grid_runs(dict(reversed(grid.items())))]


def _merge(ids, pair, new_id, keep_last=True, first_only=False):
    out, i, done = [], 0, False
    while i < len(ids) - (0 if keep_last else 1):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair and not done:
            out.append(new_id)
            i += 2
            done = first_only
        else:
            out.append(ids[i])
            i += 1
    return out


def _causal_mean(x, shift=1, full=False):
    T = x.size(1)
    weights = torch.ones(T, T) if full else torch.ones(T, T).tril()
    return weights / (weights.sum(-1, keepdim=True) + shift - 1) @ x


# At least three plausible wrong answers per check, boundary cases among them; every one must fail.
WRONG_ANSWERS = {
    "transformer_params": [
        _no_position_table,
        lambda n_layer, n_embd, vocab_size, block_size, bias, tie_weights: solutions.transformer_params(
            n_layer, n_embd, vocab_size, block_size, bias, False
        ),  # the tied head counted twice
        lambda n_layer, n_embd, vocab_size, block_size, bias, tie_weights: (
            solutions.transformer_params(n_layer, n_embd, vocab_size, block_size, bias, tie_weights)
            - n_embd * (2 if bias else 1)
        ),  # no final LayerNorm
    ],
    "logits_bytes": [
        lambda B, T, V: B * T * V,  # a count of numbers, not bytes
        lambda B, T, V: B * T * V * 2,  # half precision
        lambda B, T, V: T * V * 4,  # one row of the batch
    ],
    "count_pairs": [
        lambda ids: {p: 1 for p in zip(ids, ids[1:])},  # each pair once
        lambda ids: dict(collections.Counter(zip(ids, ids[1:] + ids[:1]))),  # wraps around the end
        lambda ids: dict(collections.Counter(zip(ids[:-1], ids[1:-1]))),  # misses the last pair
        lambda ids: dict(collections.Counter(zip(ids, ids[1:]))) or None,  # None for an empty list
    ],
    "merge": [
        _overlapping_merge,
        lambda ids, pair, new_id: _merge(ids, pair, new_id, keep_last=False),  # drops the last id
        lambda ids, pair, new_id: _merge(ids, pair, new_id, first_only=True),  # replaces one pair only
    ],
    "bits_per_char": [
        lambda loss, n_tokens, n_chars: loss * n_tokens / n_chars,  # nats, not bits
        lambda loss, n_tokens, n_chars: loss / math.log(2),  # per token, not per character
        lambda loss, n_tokens, n_chars: loss * n_tokens / n_chars * math.log(2),  # times ln 2
    ],
    "rnn_step": [
        lambda x, h, W_ih, W_hh, b_ih, b_hh: torch.tanh(x @ W_ih.T + h @ W_hh.T + b_ih),  # no b_hh
        lambda x, h, W_ih, W_hh, b_ih, b_hh: torch.sigmoid(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh),
        lambda x, h, W_ih, W_hh, b_ih, b_hh: torch.tanh(x @ W_ih.T + b_ih + b_hh),  # forgets h
        lambda x, h, W_ih, W_hh, b_ih, b_hh: torch.tanh(x @ W_ih.T + b_ih + h @ W_hh + b_hh),  # W_hh not .T
    ],
    "lstm_step": [
        _lstm_ifog,
        lambda *args: _lstm(*args, squash=False),  # h = o * c, no tanh
        lambda *args: _lstm(*args, swap=True),  # (c, h) instead of (h, c)
    ],
    "gru_step": [
        lambda *args: _gru(*args, bias_outside=True),
        lambda *args: _gru(*args, z_for_new=True),  # z weighs the new content, not the old state
        lambda *args: _gru(*args, summed=True),
        lambda *args: _gru(*args, order="zrn"),  # update gate first
    ],
    "causal_average": [
        lambda x: torch.ones(x.size(1), x.size(1)).tril() / x.size(1) @ x,  # divides by T
        lambda x: _causal_mean(x, full=True),  # the mean of the whole sequence: sees the future
        lambda x: _causal_mean(x, shift=2),  # divides by t + 2
    ],
    "masked_softmax": [
        _mask_after_softmax,
        lambda scores: _masked(scores, diagonal=0),  # hides the diagonal too: row 0 has nothing left
        lambda scores: _masked(scores, diagonal=2),  # sees the next token
        lambda scores: _masked(scores, fill=-30.0),  # the future only nearly 0
        lambda scores: _masked(scores, dim=-2),  # softmax over the rows
    ],
    "multi_head": [
        lambda *args: _multi_head(*args, back=False),
        lambda x, W_qkv, W_proj, n_head: _multi_head(x, W_qkv, W_proj, n_head, scale=x.size(-1)),  # sqrt(C)
        lambda *args: _multi_head(*args, project=False),  # no output projection
    ],
    "apply_temperature": [
        lambda logits, t: (logits * t).softmax(dim=-1),
        lambda logits, t: (logits / t).softmax(dim=0),  # over the batch
        lambda logits, t: logits.softmax(dim=-1) / t,  # divides the probabilities
    ],
    "perplexity": [
        lambda loss: 2**loss,  # bits, not nats
        lambda loss: math.e * loss,  # e times, not e to the power
        lambda loss: math.exp(loss) - 1,
    ],
    "loss_at_time": [_previous_point, _strictly_inside, _by_index],
    "grid_runs": [
        _last_key_slowest,
        lambda grid: [dict(zip(grid, values)) for values in zip(*grid.values())],  # zip, not product
        lambda grid: [tuple(run.values()) for run in solutions.grid_runs(grid)],  # tuples, not dicts
    ],
}
WRONG = {name: answers[0] for name, answers in WRONG_ANSWERS.items()}


# ------------------------------------------------------------------------------ 03: the GPT's modules, wrong
# Plausible wrong versions of each module of "Build the GPT yourself"; each must fail its check.
def _attend(q, k, v, future_from=1, scale=None, dim=-1):
    T = q.size(1)
    scores = q @ k.transpose(-2, -1) / math.sqrt(scale or q.size(-1))
    if future_from is not None:
        scores = scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(future_from), float("-inf"))
    return scores.softmax(dim=dim) @ v


class _HeadNoMask(solutions.Head):
    def forward(self, x):
        return _attend(self.query(x), self.key(x), self.value(x), future_from=None)


class _HeadSeesTheNextToken(solutions.Head):  # mask off by one: triu(2) instead of triu(1)
    def forward(self, x):
        return _attend(self.query(x), self.key(x), self.value(x), future_from=2)


class _HeadHidesItself(solutions.Head):  # mask off by one the other way: the diagonal hidden too
    def forward(self, x):
        return _attend(self.query(x), self.key(x), self.value(x), future_from=0)


class _HeadUnscaled(solutions.Head):
    def forward(self, x):
        return _attend(self.query(x), self.key(x), self.value(x), scale=1)


class _HeadScaledByWidth(solutions.Head):  # sqrt(n_embd) instead of sqrt(head_size)
    def forward(self, x):
        return _attend(self.query(x), self.key(x), self.value(x), scale=self.query.in_features)


class _HeadSoftmaxOverColumns(solutions.Head):
    def forward(self, x):
        return _attend(self.query(x), self.key(x), self.value(x), dim=-2)


class _HeadUnslicedMask(solutions.Head):  # Karpathy's buffer, used without [:T, :T]
    def __init__(self, cfg, head_size):
        super().__init__(cfg, head_size)
        self.register_buffer("tril", torch.tril(torch.ones(cfg.block_size, cfg.block_size)))

    def forward(self, x):
        q, k, v = self.query(x), self.key(x), self.value(x)
        scores = (q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))).masked_fill(self.tril == 0, float("-inf"))
        return scores.softmax(dim=-1) @ v


class _HeadWithoutBiases(solutions.Head):
    def __init__(self, cfg, head_size):
        super().__init__(cfg, head_size)
        for name in ("query", "key", "value"):
            setattr(self, name, nn.Linear(cfg.n_embd, head_size, bias=False))


class _HeadsWithoutProjection(solutions.MultiHeadAttention):
    def forward(self, x):
        return torch.cat([h(x) for h in self.heads], dim=-1)


class _HeadsFullWidth(solutions.MultiHeadAttention):  # every head n_embd wide: a wrong head split
    def __init__(self, cfg):
        super().__init__(cfg)
        self.heads = nn.ModuleList(solutions.Head(cfg, cfg.n_embd) for _ in range(cfg.n_head))
        self.proj = nn.Linear(cfg.n_head * cfg.n_embd, cfg.n_embd, bias=cfg.bias)


class _OneHeadRepeated(solutions.MultiHeadAttention):
    def __init__(self, cfg):
        super().__init__(cfg)
        self.heads = nn.ModuleList([solutions.Head(cfg, cfg.n_embd // cfg.n_head)] * cfg.n_head)


class _HeadsJoinedOverTime(solutions.MultiHeadAttention):
    def forward(self, x):
        return self.proj(torch.cat([h(x) for h in self.heads], dim=1))


class _ReluMLP(solutions.FeedForward):
    def forward(self, x):
        return self.proj(F.relu(self.fc(x)))


class _NarrowMLP(solutions.FeedForward):
    def __init__(self, cfg):
        super().__init__(cfg)
        self.fc = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)


class _GeluAfterProjection(solutions.FeedForward):
    def forward(self, x):
        return F.gelu(self.proj(self.fc(x)))


class _TanhGelu(solutions.FeedForward):
    def forward(self, x):
        return self.proj(F.gelu(self.fc(x), approximate="tanh"))


class _PostLayerNorm(solutions.Block):
    def forward(self, x):
        x = self.ln_1(x + self.attn(x))
        return self.ln_2(x + self.mlp(x))


class _NoResidualAroundAttention(solutions.Block):
    def forward(self, x):
        x = self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class _OneLayerNormTwice(solutions.Block):
    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_1(x))


class _MLPReadsTheRawStream(solutions.Block):
    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(x)


class _ParallelBranches(solutions.Block):
    def forward(self, x):
        return x + self.attn(self.ln_1(x)) + self.mlp(self.ln_2(x))


class _UntiedGPT(solutions.GPT):
    def __init__(self, cfg):
        super().__init__(cfg)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)  # its own matrix, always


class _AlwaysTiedGPT(solutions.GPT):
    def __init__(self, cfg):
        super().__init__(cfg)
        self.lm_head.weight = self.tok_emb.weight


def _gpt_forward(
    self, idx, targets=None, final_norm=True, positions=True, last_only=False, whole_table=False
):
    x = self.tok_emb(idx)
    if whole_table:
        x = x + self.pos_emb.weight  # fits only when T == block_size
    elif positions:
        x = x + self.pos_emb(torch.arange(idx.size(1)))
    for block in self.blocks:
        x = block(x)
    logits = self.lm_head(self.ln_f(x) if final_norm else x)
    if last_only:
        logits = logits[:, -1:, :]
    loss = (
        None if targets is None else F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
    )
    return logits, loss


class _NoFinalLayerNorm(solutions.GPT):
    def forward(self, idx, targets=None):
        return _gpt_forward(self, idx, targets, final_norm=False)


class _NoPositions(solutions.GPT):
    def forward(self, idx, targets=None):
        return _gpt_forward(self, idx, targets, positions=False)


class _WholePositionTable(solutions.GPT):
    def forward(self, idx, targets=None):
        return _gpt_forward(self, idx, targets, whole_table=True)


class _LastPositionOnly(solutions.GPT):  # nanoGPT's generation shortcut, always
    def forward(self, idx, targets=None):
        logits, _ = _gpt_forward(self, idx, None)
        loss = (
            None
            if targets is None
            else F.cross_entropy(logits.reshape(-1, logits.size(-1)), targets.reshape(-1))
        )
        return logits[:, -1:, :], loss


class _SummedLoss(solutions.GPT):
    def forward(self, idx, targets=None):
        logits, _ = _gpt_forward(self, idx, None)
        if targets is None:
            return logits, None
        return logits, F.cross_entropy(
            logits.reshape(-1, logits.size(-1)), targets.reshape(-1), reduction="sum"
        )


WRONG_MODULES = {
    "Head": [
        _HeadNoMask,
        _HeadSeesTheNextToken,
        _HeadHidesItself,
        _HeadUnscaled,
        _HeadScaledByWidth,
        _HeadSoftmaxOverColumns,
        _HeadUnslicedMask,
        _HeadWithoutBiases,
    ],
    "MultiHeadAttention": [_HeadsWithoutProjection, _HeadsFullWidth, _OneHeadRepeated, _HeadsJoinedOverTime],
    "FeedForward": [_ReluMLP, _NarrowMLP, _GeluAfterProjection, _TanhGelu],
    "Block": [
        _PostLayerNorm,
        _NoResidualAroundAttention,
        _OneLayerNormTwice,
        _MLPReadsTheRawStream,
        _ParallelBranches,
    ],
    "GPT": [
        _UntiedGPT,
        _AlwaysTiedGPT,
        _NoFinalLayerNorm,
        _NoPositions,
        _WholePositionTable,
        _LastPositionOnly,
        _SummedLoss,
    ],
}
WRONG_ANSWERS.update(WRONG_MODULES)
WRONG.update({name: answers[0] for name, answers in WRONG_MODULES.items()})


def test_every_exercise_has_a_solution_and_a_wrong_answer():
    assert set(WRONG) == set(EXERCISES)
    for name, ex in EXERCISES.items():
        assert callable(getattr(solutions, name))
        assert ex.notebook in {"00", "01", "02", "03", "04", "05"}
        assert ex.signature.removeprefix("class ").startswith(f"{name}(") and ex.description


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_check_accepts_the_solution(name):
    result = EXERCISES[name].check(getattr(solutions, name))
    assert result, str(result)
    assert str(result) == repr(result) == f"correct: {name} ({result.cases} cases)"


@pytest.mark.parametrize("name", sorted(EXERCISES))
def test_check_rejects_a_wrong_answer_with_a_hint(name):
    result = EXERCISES[name].check(WRONG[name])
    assert not result and result.failed_case is not None
    text = str(result)
    assert text.startswith(f"not yet: {name}, case {result.failed_case} of {result.cases}")
    assert "\nhint: " in text


@pytest.mark.parametrize(
    "name, wrong",
    [(name, w) for name, answers in WRONG_ANSWERS.items() for w in answers],
    ids=[f"{name}-{i}" for name, answers in WRONG_ANSWERS.items() for i in range(len(answers))],
)
def test_every_plausible_wrong_answer_fails_its_check(name, wrong):
    assert len(WRONG_ANSWERS[name]) >= 3, f"{name} needs at least three wrong answers in the tests"
    result = check(name, wrong)
    assert not result, f"a wrong answer passed the check of {name}"
    assert "\nhint: " in str(result)


def _solution_lines(name):
    """The lines of code of the reference solution of ``name``, without its signature, docstring, comments."""
    import ast

    source = inspect.getsource(getattr(solutions, name))
    tree = ast.parse(source).body[0]
    lines = source.splitlines()
    first = tree.body[1].lineno if ast.get_docstring(tree) else tree.body[0].lineno
    code = (line.split("#")[0].strip() for line in lines[first - 1 :])
    return [line for line in code if len(line) > 12]


@pytest.mark.parametrize("name", sorted(n for n in EXERCISES if inspect.isfunction(getattr(solutions, n))))
def test_the_first_hint_names_the_idea_and_never_prints_the_answer(name):
    from lmhelpers.checking import SHAPE_HINTS

    def unwritten(*args):
        raise NotImplementedError("your code here")

    text = str(check(name, unwritten))
    assert "not written yet" in text
    for line in _solution_lines(name):
        assert line not in text, f"the first hint of {name} prints a line of its solution: {line}"
    if name in SHAPE_HINTS:
        assert SHAPE_HINTS[name] not in text and f'hint("{name}")' in text


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("lstm_step", "input, forget, cell candidate g, output"),
        ("rnn_step", "max absolute difference"),
        ("transformer_params", "off by -"),
        ("count_pairs", "they differ at (1, 1): yours 1, expected 2"),
        ("merge", "returned [9, 9], expected [9, 1]; first difference at index 1"),
        ("apply_temperature", "not multiply"),
    ],
)
def test_hints_say_what_is_wrong(name, says):
    assert says in str(check(name, WRONG[name]))


@pytest.mark.parametrize(
    "name, wrong",
    [(name, w) for name, answers in WRONG_MODULES.items() for w in answers],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_every_plausible_wrong_module_fails_its_check(name, wrong):
    assert len(WRONG_MODULES[name]) >= 3
    result = check(name, wrong)
    assert not result, f"{wrong.__name__} passed the check of {name}"
    assert "\nhint: " in str(result) and f'hint("{name}")' in str(result)


@pytest.mark.parametrize(
    ("wrong", "says"),
    [
        (_HeadHidesItself, "NaN"),
        (_HeadUnslicedMask, "raised RuntimeError"),
        (_HeadWithoutBiases, "your module has no key.bias, query.bias, value.bias"),
        (_HeadsFullWidth, "heads.0.query.weight is [8, 8] in your module, [4, 8] in the package's"),
        (_NarrowMLP, "fc.weight is [8, 8] in your module, [32, 8] in the package's"),
        (_UntiedGPT, "parameters, the package's"),
        (_LastPositionOnly, "wrong shape"),
    ],
)
def test_module_checks_say_what_is_wrong(wrong, says):
    name = next(n for n, answers in WRONG_MODULES.items() if wrong in answers)
    assert says in str(check(name, wrong))


def test_an_unwritten_module_names_the_stub_and_the_second_hint_is_asked_for(capsys):
    from lmhelpers.checking import SHAPE_HINTS
    from lmhelpers.exercises import hint, yours_or_reference

    class Head(nn.Module):
        def __init__(self, cfg, head_size):
            super().__init__()
            raise NotImplementedError("your code here")

    class MultiHeadAttention(solutions.MultiHeadAttention):  # complete, but built on the unwritten Head
        def __init__(self, cfg):
            nn.Module.__init__(self)
            self.heads = nn.ModuleList(Head(cfg, cfg.n_embd // cfg.n_head) for _ in range(cfg.n_head))

    text = str(check("MultiHeadAttention", MultiHeadAttention))
    assert "not written yet: Head.__init__ raises NotImplementedError" in text
    assert SHAPE_HINTS["MultiHeadAttention"] not in text  # only the idea, until hint() is called
    assert 'hint("MultiHeadAttention")' in text
    hint("MultiHeadAttention")
    assert capsys.readouterr().out.strip() == SHAPE_HINTS["MultiHeadAttention"]
    assert yours_or_reference("GPT", Head) is solutions.GPT
    assert "the reference GPT from lmhelpers.solutions" in capsys.readouterr().out
    assert yours_or_reference("GPT", solutions.GPT) is solutions.GPT
    assert "passes its check" in capsys.readouterr().out


class _KarpathyHead(nn.Module):  # another correct style: a saved mask buffer, sliced to T
    def __init__(self, cfg, head_size):
        super().__init__()
        self.key = nn.Linear(cfg.n_embd, head_size, bias=cfg.bias)
        self.query = nn.Linear(cfg.n_embd, head_size, bias=cfg.bias)
        self.value = nn.Linear(cfg.n_embd, head_size, bias=cfg.bias)
        self.register_buffer("tril", torch.tril(torch.ones(cfg.block_size, cfg.block_size)))
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        T = x.size(1)
        wei = self.query(x) @ self.key(x).transpose(-2, -1) * self.key.out_features**-0.5
        wei = self.dropout(wei.masked_fill(self.tril[:T, :T] == 0, float("-inf")).softmax(dim=-1))
        return wei @ self.value(x)


class _SequentialGPT(solutions.GPT):  # blocks in an nn.Sequential, called at once
    def __init__(self, cfg):
        super().__init__(cfg)
        self.blocks = nn.Sequential(*[solutions.Block(cfg) for _ in range(cfg.n_layer)])

    def forward(self, idx, targets=None):
        x = self.tok_emb(idx) + self.pos_emb(torch.arange(idx.size(1)))
        logits = self.lm_head(self.ln_f(self.blocks(x)))
        B, T, V = logits.shape
        return logits, None if targets is None else F.cross_entropy(
            logits.view(B * T, V), targets.view(B * T)
        )


def test_other_correct_styles_pass():
    assert check("Head", _KarpathyHead)
    assert check("GPT", _SequentialGPT)


def test_package_weights_load_into_the_reference_modules_and_give_the_same_model():
    from lmhelpers.exercises import load_package_weights

    cfg = ModelConfig(
        arch="transformer", n_layer=2, n_head=4, n_embd=16, block_size=8, vocab_size=11, dropout=0.0
    )
    torch.manual_seed(0)
    package = build_model(cfg).eval()
    mine = load_package_weights(solutions.GPT(cfg), package).eval()
    idx = torch.randint(11, (2, 8))
    assert torch.allclose(mine(idx)[0], package(idx)[0], atol=1e-5)
    assert sum(p.numel() for p in mine.parameters()) == package.num_params()


# ------------------------------------------------------------------------------ learners' mistakes
def test_an_exception_becomes_a_hint_naming_it():
    def rnn_step(x, h, W_ih, W_hh, b_ih, b_hh):
        return torch.tanh(x @ W_ih + h @ W_hh.T + b_ih + b_hh)  # W_ih is [hidden, input]: needs .T

    result = check("rnn_step", rnn_step)
    assert not result and result.failed_case == 1
    assert "raised RuntimeError" in str(result) and "x @ W_ih + h @ W_hh.T" in str(result)
    assert "Traceback" not in str(result)


def test_a_wrong_shape_is_reported_as_such():
    result = check(
        "rnn_step", lambda x, h, W_ih, W_hh, b_ih, b_hh: solutions.rnn_step(x, h, W_ih, W_hh, b_ih, b_hh).T
    )
    assert "wrong shape: expected [3, 5], got [5, 3]" in str(result)


def test_missing_return_unwritten_function_and_non_function():
    assert "forget `return`" in str(check("merge", lambda ids, pair, new_id: None))

    def merge(ids, pair, new_id):
        raise NotImplementedError("your code here")

    assert "not written yet" in str(check("merge", merge))
    assert "needs your function itself" in str(check("merge", merge.__name__))


def test_nan_and_future_leaks_in_attention_weights():
    def diagonal_masked(scores):  # off by one: a token may not see itself, row 0 has nothing left
        T = scores.size(-1)
        return scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(), float("-inf")).softmax(-1)

    assert "NaN" in str(check("masked_softmax", diagonal_masked))

    def soft_mask(scores):  # -30 instead of -inf: within tolerance, but the future still leaks
        T = scores.size(-1)
        return scores.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), -30.0).softmax(-1)

    assert "must be exactly 0" in str(check("masked_softmax", soft_mask))


def test_inputs_are_copies_and_the_global_random_state_is_untouched():
    def merge_in_place(ids, pair, new_id):
        result = solutions.merge(ids, pair, new_id)
        ids.clear()
        return result

    before = torch.get_rng_state()
    assert check("merge", merge_in_place)
    for name in EXERCISES:
        check(name, getattr(solutions, name))
    assert torch.equal(before, torch.get_rng_state())


def test_registry_helpers():
    assert isinstance(check("perplexity", solutions.perplexity), CheckResult)
    with pytest.raises(KeyError, match="no exercise named 'merg'"):
        check("merg", solutions.merge)
    table = exercise_table("03")
    assert "`multi_head(x, W_qkv, W_proj, n_head) -> Tensor`" in table and "merge" not in table
    assert all(f"{name}(" in exercise_table() for name in EXERCISES)
    assert "`class GPT(cfg)`" in table


# ------------------------------------------------------------------------------ assert_close
def test_assert_close_prints_a_match_and_stops_on_a_difference(capsys):
    cfg = ModelConfig(
        arch="transformer", n_layer=1, n_head=2, n_embd=8, block_size=5, dropout=0.0, bias=False
    )
    attn = CausalSelfAttention(cfg).eval()
    x = torch.randn(2, 5, 8)
    real = attn(x)[0]
    mine = solutions.multi_head(x, attn.qkv.weight, attn.proj.weight, 2)
    assert_close("CausalSelfAttention", mine, real)
    assert capsys.readouterr().out.startswith("matches CausalSelfAttention (max difference ")
    with pytest.raises(AssertionError, match="does not match CausalSelfAttention: max absolute difference"):
        assert_close("CausalSelfAttention", mine + 1e-3, real)
    with pytest.raises(AssertionError, match=r"wrong shape: expected \[2, 5, 8\], got \[2, 8, 5\]"):
        assert_close("CausalSelfAttention", mine.transpose(1, 2), real)
    assert_close("the merge", [9, 1], [9, 1])
    assert capsys.readouterr().out == "matches the merge (identical)\n"


# ------------------------------------------------------------------------------ the feedback in Korean
# Every text of a check is a template of the message catalog, a problem inside another (a tuple's value, a
# list's first difference) filled in whole: in Korean the sentence reads as Korean, with no English prose
# left around the identifiers, numbers and code, and particles that fit the values before them.
NUMBER = r"-?\d[\d.e+-]*"
CODE_WORDS = {
    "atol",
    "rtol",
    "torch",
    "return",
    "nats",
    "bias",
    "query",
    "key",
    "value",
    "proj",
    "fc",
    "sqrt",
}


def _english_prose(text: str) -> list[str]:
    """Words of English prose in ``text``: lowercase words outside identifiers, code and the known names."""
    words = re.findall(r"(?<![\w.`'])[a-z]{3,}(?![\w.(`'])", text)
    return [w for w in words if w not in CODE_WORDS and w not in EXERCISES]


@pytest.fixture()
def korean(monkeypatch):
    from lmhelpers import language

    monkeypatch.setattr(language, "_default", ["ko"])


@pytest.mark.parametrize(
    ("name", "wrong", "says"),
    [
        (  # a tuple's value, its largest difference inside: "value 1 of 2" is a template of its own
            "lstm_step",
            _lstm_ifog,
            rf"  돌려준 값 2개 중 1번째: 인덱스 \(2, 2\)에서 절대 차이가 {NUMBER}(으)?로 가장 큽니다\. 계산한 값은 "
            rf"{NUMBER}, 기댓값은 {NUMBER}입니다\(허용 오차 atol=1e-05, rtol=0\.0001\)",
        ),
        (
            "merge",
            WRONG["merge"],
            r"  \[9, 9\]를 돌려주었는데 기댓값은 \[9, 1\]입니다\. 처음 다른 곳은 인덱스 1로, 계산한 값은 9, "
            r"기댓값은 1입니다",
        ),
        (
            "merge",
            WRONG_ANSWERS["merge"][1],
            r"  \[9\]를 돌려주었는데 기댓값은 \[9, 1\]입니다\. 항목이 2개여야 하는데 1개입니다",
        ),
        ("count_pairs", WRONG["count_pairs"], r"  다른 곳이 있습니다: 키 \(1, 1\)의 값은 1, 기댓값은 2"),
        (
            "transformer_params",
            WRONG["transformer_params"],
            "  기댓값은 1,008인데 계산한 값은 976입니다. 차이는 -32입니다",
        ),
        (
            "rnn_step",
            lambda x, h, W_ih, W_hh, b_ih, b_hh: solutions.rnn_step(x, h, W_ih, W_hh, b_ih, b_hh).T,
            r"  모양이 다릅니다: \[3, 5\]여야 하는데 \[5, 3\]입니다",
        ),
        (
            "merge",
            lambda ids, pair, new_id: None,
            r"  함수가 None을 돌려줍니다\. `return`을 빠뜨리지 않았나요\?",
        ),
        (
            "Head",
            _HeadWithoutBiases,
            "  직접 만든 모듈에 key.bias, query.bias, value.bias가 없습니다. 층 이름을 문제에서 말한 대로 지으세요",
        ),
        (
            "FeedForward",
            _NarrowMLP,
            r"  fc\.weight의 모양이 직접 만든 모듈에서는 \[8, 8\], 패키지의 모듈에서는 \[32, 8\]입니다",
        ),
        (
            "GPT",
            _UntiedGPT,
            "  직접 만든 모듈의 파라미터는 1,128개, 패키지의 모듈은 1,040개입니다. 묶인 행렬은 한 번만 셉니다",
        ),
    ],
    ids=[
        "lstm-tuple",
        "merge-list",
        "merge-length",
        "dict",
        "int",
        "shape",
        "none",
        "names",
        "sizes",
        "count",
    ],
)
def test_the_korean_feedback_reads_as_korean(korean, name, wrong, says):
    from lmhelpers.hints import HINTS

    result = check(name, wrong)
    first, problem, hint_line, *more = str(result).split("\n")
    n, i = result.cases, result.failed_case
    assert first.startswith(f"아직 아닙니다: {name}의 사례 {n}개 중 {i}번째에서 문제가 생겼습니다: ")
    assert re.fullmatch(says, problem), problem
    assert hint_line.startswith("힌트: ") and hint_line != f"힌트: {HINTS[name]}"
    if name != "transformer_params":  # the exercises with a second hint say how to ask for it
        assert more == [f'두 번째 힌트(코드의 뼈대)가 필요하면 새 셀에서 실행하세요: hint("{name}")']
    assert _english_prose(str(result)) == [], str(result)


def test_the_korean_checks_say_correct_unwritten_raised_and_print_the_second_hint(korean, capsys):
    from lmhelpers.exercises import hint

    assert _english_prose("돌려준 값 value 1 of 2: max absolute difference 0.5") == [
        "max",
        "absolute",
        "difference",
    ]
    assert str(check("merge", solutions.merge)) == "정답입니다: merge (사례 8개 모두 통과)"

    class Head(solutions.Head):
        def __init__(self, cfg, head_size):
            raise NotImplementedError("your code here")

    unwritten = str(check("Head", Head)).split("\n")[1]
    assert unwritten == "  아직 작성하지 않았습니다: Head.__init__에서 NotImplementedError가 발생합니다"

    def rnn_step(x, h, W_ih, W_hh, b_ih, b_hh):
        return torch.tanh(x @ W_ih + h @ W_hh.T + b_ih + b_hh)

    raised = str(check("rnn_step", rnn_step)).split("\n")
    assert raised[1].startswith("  함수에서 RuntimeError가 발생했습니다: ")
    assert re.fullmatch(r"  rnn_step의 \d+번째 줄: return torch\.tanh\(x @ W_ih \+ .*", raised[2]), raised[2]
    assert "(허용 오차" not in raised[1]
    hint("merge")
    printed = capsys.readouterr().out
    assert "    if <ids[i] 뒤에 id가 있고, 두 id가 그 쌍이면>: new_id를 append, i += 2\n" in printed
    with pytest.raises(
        AssertionError, match=r"결과가 CausalSelfAttention과 다릅니다: 모양이 다릅니다: \[2, 5\]여야"
    ):
        assert_close("CausalSelfAttention", torch.zeros(5, 2), torch.zeros(2, 5))
    with pytest.raises(KeyError, match="'merg'라는 연습 문제는 없습니다"):
        check("merg", solutions.merge)


# ------------------------------------------------------------------------------ solutions vs the real thing
@pytest.mark.parametrize("preset", ["smoke", "cpu", "nanogpt-cpu"])
@pytest.mark.parametrize("tie", [True, False])
def test_transformer_params_matches_build_model_at_preset_sizes(preset, tie):
    m = make_config(preset, arch="transformer", tie_weights=tie).model
    model = build_model(ModelConfig(**{**vars(m), "vocab_size": 65}))
    expected = sum(p.numel() for p in model.parameters())
    assert solutions.transformer_params(m.n_layer, m.n_embd, 65, m.block_size, m.bias, tie) == expected


def test_bpe_solutions_match_the_package_bpe_and_known_answers():
    assert solutions.merge([1, 1, 1], (1, 1), 9) == [9, 1]
    assert solutions.merge([1, 2, 1, 2], (1, 2), 7) == [7, 7]
    assert solutions.count_pairs([1, 1, 1]) == {(1, 1): 2}
    merge_word = getattr(bpe, "_merge_word", None)
    pairs = getattr(bpe, "_pairs", None)
    if merge_word is None or pairs is None:
        pytest.skip("lmhelpers.bpe no longer has _merge_word/_pairs to compare with")
    rng = random.Random(0)
    for _ in range(200):
        ids = [rng.randrange(3) for _ in range(rng.randint(0, 12))]
        pair = (rng.randrange(3), rng.randrange(3))
        assert solutions.merge(ids, pair, 99) == merge_word(ids, pair, 99)
        assert solutions.count_pairs(ids) == dict(pairs(ids))


def test_grid_runs_matches_how_a_sweep_expands_its_grid(tmp_path):
    (tmp_path / "a.ipynb").write_text("{}")
    grid = {"arch": ["rnn", "gru"], "n_layer": [1, 2, 3], "seed": [7, 8]}
    lines = [f"  {k}: [{', '.join(map(str, v))}]" for k, v in grid.items()]
    (tmp_path / "s.yaml").write_text("notebooks: [a.ipynb]\ngrid:\n" + "\n".join(lines) + "\n")
    assert [r.parameters for r in load_sweep(tmp_path / "s.yaml")] == solutions.grid_runs(grid)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(0.1, 10.0), min_size=2, max_size=6),
    st.lists(st.floats(0.5, 5.0), min_size=6, max_size=6),
    st.floats(0.0, 1.0),
)
def test_loss_at_time_matches_numpy_interp(steps, losses, where):
    import numpy as np

    times = list(np.cumsum(steps))
    losses = losses[: len(times)]
    t = times[0] + where * (times[-1] - times[0])
    assert solutions.loss_at_time(times, losses, t) == pytest.approx(float(np.interp(t, times, losses)))


# ------------------------------------------------------------------------------ docs/model_contract.md
def test_the_model_contract_example_trains_checks_and_generates():
    import re
    from pathlib import Path

    from lmhelpers import metrics
    from lmhelpers.data import TokenDataset
    from lmhelpers.generation import generate
    from lmhelpers.models import model_summary
    from lmhelpers.tokenizers import train_tokenizer
    from lmhelpers.training import Trainer

    doc = (Path(__file__).resolve().parents[1] / "docs" / "model_contract.md").read_text(encoding="utf-8")
    example = next(b for b in re.findall(r"```python\n(.*?)```", doc, re.S) if "class AveragingLM" in b)
    namespace: dict = {}
    exec(example, namespace)
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\nAll:\nSpeak, speak.\n" * 30
    tokenizer = train_tokenizer("char", text, 100)
    dataset = TokenDataset.from_text(text[:1500], text[1500:], tokenizer)
    config = make_config("smoke", max_iters=2, eval_interval=2, eval_iters=1, device="cpu")
    config = config.override(**{"model.vocab_size": tokenizer.vocab_size})
    model = namespace["AveragingLM"](config.model)
    history = Trainer(model, dataset, config, progress=False).fit()
    assert math.isfinite(history[-1]["val_loss"])
    assert metrics.causality_check(model) < 1e-5
    prompt = tokenizer.encode("First")
    cached = generate(model, prompt, 40, seed=0)
    assert torch.equal(cached, generate(model, prompt, 40, seed=0, use_cache=False))
    summary = model_summary(model)
    assert summary["params"] > summary["non_embedding_params"] == 0
