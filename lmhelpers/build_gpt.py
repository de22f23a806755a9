"""Checks for notebook 03's *Build the GPT yourself*: the learner's modules, given the package's weights.

The learner writes ``Head``, ``MultiHeadAttention``, ``FeedForward``, ``Block`` and ``GPT`` as
``nn.Module`` classes with the layer names the notebook asks for. A check builds the learner's class from
small configs, loads the weights of the package's module (:mod:`lmhelpers.transformer`) into it under those
names (:func:`package_weights`: the fused ``qkv`` split into heads), and compares outputs in eval mode; a
name or size that differs is reported by layer. The first hint names the idea; :func:`hint` prints the
second, the shape of the code. :func:`yours_or_reference` lets later cells fall back on the reference.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from . import solutions
from .checking import (
    SHAPE_HINTS,
    Case,
    CheckResult,
    NotYet,
    _exercise,
    _randn,
    _run,
    _seeded_module,
    _show,
    check,
)
from .language import message


# ------------------------------------------------------------------------------ 03: the GPT, module by module
# The learner's modules are checked against the package's (lmhelpers.transformer) by loading the package's
# weights into them under the names the notebook asks for, and comparing outputs in eval mode.
def package_weights(package: nn.Module, n_head: int) -> dict[str, Tensor]:
    """The package module's weights under the names of the exercises: its fused ``qkv`` Linear becomes
    ``heads.{h}.query``, ``.key`` and ``.value`` (rows of q, k, v in turn, head h's slice of each);
    every other name (``proj``, ``fc``, ``ln_1``, ``tok_emb``, ...) is the package's own."""
    out: dict[str, Tensor] = {}
    for key, value in package.state_dict().items():
        base, _, leaf = key.rpartition(".")  # "blocks.0.attn.qkv", "weight"
        if base == "qkv" or base.endswith(".qkv"):
            prefix = base.removesuffix("qkv")
            for role, part in zip(("query", "key", "value"), value.chunk(3, dim=0)):
                for h, piece in enumerate(part.chunk(n_head, dim=0)):
                    out[f"{prefix}heads.{h}.{role}.{leaf}"] = piece.detach().clone()
        else:
            out[key] = value.detach().clone()
    return out


def _n_head(package: nn.Module) -> int:
    from .transformer import CausalSelfAttention

    return next((m.n_head for m in package.modules() if isinstance(m, CausalSelfAttention)), 1)


def _names(keys: list[str]) -> str:
    return ", ".join(keys[:3]) + (f" (and {len(keys) - 3} more)" if len(keys) > 3 else "")


def load_package_weights(mine: nn.Module, package: nn.Module, head: int | None = None) -> nn.Module:
    """Copy the package module's weights into ``mine``, a module written with the exercises' layer names
    (``head``: only that head's slice, into a single ``Head``). Raises ``NotYet``, naming the layers,
    when a name or a shape differs; buffers of ``mine`` (a saved mask, say) are left as they are."""
    wanted = package_weights(package, _n_head(package))
    if head is not None:
        start = f"heads.{head}."
        wanted = {k.removeprefix(start): v for k, v in wanted.items() if k.startswith(start)}
    buffers = {name for name, _ in mine.named_buffers()}
    have = {k: v for k, v in mine.state_dict().items() if k not in buffers}
    missing = sorted(set(wanted) - set(have))
    if missing:
        raise NotYet(f"your module has no {_names(missing)}: name its layers as the exercise says")
    extra = sorted(set(have) - set(wanted))
    if extra:
        raise NotYet(f"your module has parameters the package's has not: {_names(extra)}")
    for key, value in wanted.items():
        if have[key].shape != value.shape:
            raise NotYet(
                f"{key} is {list(have[key].shape)} in your module, {list(value.shape)} in the package's"
            )
    mine.load_state_dict(wanted, strict=False)
    return mine


def yours_or_reference(name: str, yours: Any) -> Any:
    """``yours`` when it passes the check of exercise ``name``, else the reference from
    :mod:`lmhelpers.solutions`, with a note saying which one the cells below use."""
    if check(name, yours):
        print(message("using_yours", name=name))
        return yours
    print(message("using_reference", name=name))
    return getattr(solutions, name)


class _Setup:
    """One case of a module check: the config and extra constructor arguments the learner's class gets,
    and the package's module, its weights seeded and spread out, to load into it and compare with."""

    def __init__(self, cfg: Any, package: nn.Module, args: tuple = (), head: int | None = None) -> None:
        self.cfg, self.package, self.args, self.head = cfg, package, args, head

    def describe(self, name: str) -> str:
        c = self.cfg
        sizes = [f"n_embd={c.n_embd}", f"n_head={c.n_head}", f"block_size={c.block_size}", f"bias={c.bias}"]
        if name == "GPT":
            sizes = [
                f"vocab_size={c.vocab_size}",
                f"n_layer={c.n_layer}",
                *sizes,
                f"tie_weights={c.tie_weights}",
            ]
        if name == "Head":
            sizes = [
                *sizes[:2],
                f"head_size={self.args[0]}",
                *sizes[2:],
                f"head {self.head} of the package's",
            ]
        if name == "FeedForward":
            sizes = [sizes[0], sizes[3]]
        return f"{name}({', '.join(sizes)})"


def _spread_weights(module: nn.Module, seed: int) -> nn.Module:
    """Weights no layer could be mistaken for another by: LayerNorm gains and shifts away from 1 and 0,
    biases non-zero, embeddings and Linear weights of unit-ish scale (a tied matrix gets the Linear's)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, (nn.LayerNorm, nn.Linear)) and getattr(m, "bias", None) is not None:
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(1 + 0.3 * torch.randn(m.weight.shape, generator=g))
            elif isinstance(m, nn.Embedding):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g))
            elif isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) / m.in_features**0.5)
    return module


def _model_config(**sizes: Any):
    from .config import ModelConfig

    return ModelConfig(arch="transformer", dropout=0.0, **sizes)


def _unwritten(exc: BaseException) -> str:
    """``Class.method`` of the frame that raised ``exc`` (the stub still in place)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is None:
        return "your code"
    frame = tb.tb_frame
    owner = frame.f_locals.get("self")
    method = frame.f_code.co_name
    return f"{type(owner).__name__}.{method}" if owner is not None else method


def _run_module(name: str, cls: Any, cases: list[Case], hint: str, count: bool = True) -> CheckResult:
    """Check the learner's class ``cls``: built from each case's config, given the package's weights,
    run in eval mode on the case's inputs and compared with the package's module."""

    def run(setup: _Setup, *inputs: Tensor) -> Any:
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
            raise NotYet(f"{name} must be a class, a subclass of nn.Module, not {_show(cls)}")
        try:
            with torch.random.fork_rng(devices=[]):
                mine = cls(setup.cfg, *setup.args)
            load_package_weights(mine, setup.package, setup.head)
            theirs, yours = (sum(p.numel() for p in m.parameters()) for m in (setup.package, mine))
            if count and yours != theirs:
                raise NotYet(
                    f"your module has {yours:,} parameters, the package's {theirs:,} (a tied matrix counts once)"
                )
            mine.eval()
            with torch.no_grad():
                return mine(*inputs)
        except NotImplementedError as exc:
            raise NotYet(f"not written yet: {_unwritten(exc)} raises NotImplementedError") from None

    def show_call(case: Case) -> str:
        setup, *inputs = case.args
        return f"{setup.describe(name)} on {', '.join(_show(t) for t in inputs)}"

    return _run(name, run, cases, hint, show_call=show_call)


def _module_case(seed: int, make: Callable[[], nn.Module], cfg: Any, inputs: tuple, pick=None, **kw) -> Case:
    """A case: the package's module built by ``make`` from ``seed``, its output on ``inputs`` (through
    ``pick``, e.g. the first of a returned pair) the answer."""
    package = _spread_weights(_seeded_module(seed, make), seed)
    with torch.no_grad():
        out = package(*inputs)
    return Case((_Setup(cfg, package, **kw), *inputs), pick(out) if pick else out)


def _first(out: Any) -> Any:
    return out[0] if isinstance(out, tuple) else out


@_exercise("03")
def check_Head(cls: Any) -> CheckResult:
    """``Head(cfg, head_size)``: ``query``, ``key``, ``value`` Linear layers; ``forward(x [B, T, n_embd])
    -> [B, T, head_size]``. Compared with one head of the package's ``CausalSelfAttention``: its q/k/v
    rows of that head loaded into yours, its output projection made to pass that head's slice through."""
    from .transformer import CausalSelfAttention

    cases = []
    # (n_embd, n_head, block_size, bias, B, T, head): T < block_size, T == block_size, a single position
    for seed, (C, nh, bs, bias, B, T, h) in enumerate(
        [
            (8, 2, 8, False, 1, 4, 0),
            (12, 3, 6, True, 2, 6, 2),
            (16, 4, 8, False, 2, 8, 1),
            (8, 2, 8, True, 2, 1, 1),
        ]
    ):
        cfg = _model_config(n_embd=C, n_head=nh, block_size=bs, bias=bias)
        hs = C // nh
        package = _spread_weights(_seeded_module(seed, lambda cfg=cfg: CausalSelfAttention(cfg)), seed)
        with torch.no_grad():  # the output projection passes head h's slice through, as it is
            package.proj.weight.zero_()
            package.proj.weight[h * hs : (h + 1) * hs, h * hs : (h + 1) * hs] = torch.eye(hs)
            if package.proj.bias is not None:
                package.proj.bias.zero_()
        (x,) = _randn(seed, (B, T, C))
        with torch.no_grad():
            expected = package(x)[0][..., h * hs : (h + 1) * hs]
        cases.append(Case((_Setup(cfg, package, args=(hs,), head=h), x), expected))
    hint = (
        "three learned projections of x (query, key, value), then step 4's attention: scores divided by "
        "sqrt(head_size), the future hidden before a softmax over each row, a weighted mix of the values"
    )
    return _run_module("Head", cls, cases, hint, count=False)


@_exercise("03")
def check_MultiHeadAttention(cls: Any) -> CheckResult:
    """``MultiHeadAttention(cfg)``: ``heads`` (an ``nn.ModuleList`` of ``Head``) and ``proj``; ``forward(x)
    -> [B, T, n_embd]``. Compared with the package's ``CausalSelfAttention`` holding the same weights."""
    from .transformer import CausalSelfAttention

    cases = []
    for seed, (C, nh, bs, bias, B, T) in enumerate(
        [(8, 2, 8, False, 1, 5), (12, 3, 6, True, 2, 6), (16, 4, 8, False, 2, 8), (6, 1, 4, True, 1, 3)]
    ):
        cfg = _model_config(n_embd=C, n_head=nh, block_size=bs, bias=bias)
        (x,) = _randn(seed, (B, T, C))
        cases.append(_module_case(seed, lambda cfg=cfg: CausalSelfAttention(cfg), cfg, (x,), _first))
    hint = (
        "n_head heads, each n_embd // n_head wide, all reading the same x; their outputs side by side are "
        "n_embd wide again, and one more Linear layer (proj) mixes them"
    )
    return _run_module("MultiHeadAttention", cls, cases, hint)


@_exercise("03")
def check_FeedForward(cls: Any) -> CheckResult:
    """``FeedForward(cfg)``: ``fc`` and ``proj``; ``forward(x) -> [B, T, n_embd]``. Compared with the
    package's ``MLP`` holding the same weights."""
    from .transformer import MLP

    cases = []
    for seed, (C, bias, B, T) in enumerate([(8, True, 1, 4), (12, False, 2, 6), (16, True, 2, 3)]):
        cfg = _model_config(n_embd=C, n_head=2, block_size=8, bias=bias)
        (x,) = _randn(seed, (B, T, C))
        cases.append(_module_case(seed, lambda cfg=cfg: MLP(cfg), cfg, (2 * x,)))
    hint = (
        "each position on its own, no mixing between positions: widen to 4 * n_embd (fc), a GELU, and "
        "back to n_embd (proj)"
    )
    return _run_module("FeedForward", cls, cases, hint)


@_exercise("03")
def check_Block(cls: Any) -> CheckResult:
    """``Block(cfg)``: ``ln_1``, ``attn`` (your ``MultiHeadAttention``), ``ln_2``, ``mlp`` (your
    ``FeedForward``); ``forward(x) -> [B, T, n_embd]``. Compared with the package's ``Block``."""
    from .transformer import Block

    cases = []
    for seed, (C, nh, bs, bias, B, T) in enumerate(
        [(8, 2, 8, False, 1, 5), (12, 3, 6, True, 2, 6), (16, 4, 8, True, 2, 8)]
    ):
        cfg = _model_config(n_embd=C, n_head=nh, block_size=bs, bias=bias)
        (x,) = _randn(seed, (B, T, C))
        cases.append(_module_case(seed, lambda cfg=cfg: Block(cfg), cfg, (x,), _first))
    hint = (
        "pre-LayerNorm: each branch reads a normalised copy of x, and what it returns is added to x (the "
        "residual stream); attention first, then the MLP, each with a LayerNorm of its own"
    )
    return _run_module("Block", cls, cases, hint)


@_exercise("03")
def check_GPT(cls: Any) -> CheckResult:
    """``GPT(cfg)``: ``tok_emb``, ``pos_emb``, ``blocks``, ``ln_f``, ``lm_head``; ``forward(idx, targets=None)
    -> (logits [B, T, vocab_size], loss or None)``. Compared with the package's
    ``TransformerLanguageModel`` holding the same weights, tied where ``cfg.tie_weights`` says."""
    from .transformer import TransformerLanguageModel

    cases = []
    for seed, (V, L, C, nh, bs, bias, tie, B, T, targets) in enumerate(
        [
            (11, 1, 8, 2, 8, True, True, 2, 8, True),
            (13, 2, 12, 3, 8, False, True, 1, 5, False),
            (7, 2, 16, 4, 6, True, False, 2, 6, True),
        ]
    ):
        cfg = _model_config(
            vocab_size=V, n_layer=L, n_embd=C, n_head=nh, block_size=bs, bias=bias, tie_weights=tie
        )
        g = torch.Generator().manual_seed(seed)
        idx = torch.randint(V, (B, T), generator=g)
        inputs = (idx, torch.randint(V, (B, T), generator=g)) if targets else (idx,)
        cases.append(_module_case(seed, lambda cfg=cfg: TransformerLanguageModel(cfg), cfg, inputs))
    hint = (
        "a token vector plus a position vector (positions 0..T-1), the blocks in order, the final LayerNorm, "
        "then lm_head to a score per vocabulary entry at every position; with cfg.tie_weights, lm_head's "
        "weight is tok_emb's; the loss is the mean cross-entropy over all B x T positions, None without targets"
    )
    return _run_module("GPT", cls, cases, hint)


SHAPE_HINTS.update(
    {
        "Head": (
            "__init__: self.query = nn.Linear(cfg.n_embd, head_size, bias=cfg.bias), the same for self.key and "
            "self.value, and self.dropout = nn.Dropout(cfg.dropout)\n"
            "forward:  q, k, v from the three layers ([B, T, head_size] each)\n"
            "          scores = q @ k.transpose(-2, -1) / math.sqrt(head_size)   # [B, T, T]\n"
            "          scores = scores.masked_fill(<True above the diagonal, T x T>, float('-inf'))\n"
            "          return self.dropout(<softmax of each row>) @ v"
        ),
        "MultiHeadAttention": (
            "__init__: self.heads = nn.ModuleList(Head(cfg, <width of a head>) for _ in range(cfg.n_head)),\n"
            "          self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias), a Dropout\n"
            "forward:  torch.cat([<each head of x>], dim=-1), then self.proj, then the dropout"
        ),
        "FeedForward": (
            "__init__: self.fc = nn.Linear(cfg.n_embd, 4 * cfg.n_embd, bias=cfg.bias), self.proj back from "
            "4 * cfg.n_embd to cfg.n_embd, a Dropout\n"
            "forward:  fc, then F.gelu, then proj, then the dropout"
        ),
        "Block": (
            "__init__: self.ln_1 = nn.LayerNorm(cfg.n_embd, bias=cfg.bias), self.attn = MultiHeadAttention(cfg),\n"
            "          self.ln_2 (another LayerNorm), self.mlp = FeedForward(cfg)\n"
            "forward:  x = x + <attention of the normalised x>\n"
            "          x = x + <MLP of the x just computed, normalised by ln_2>\n"
            "          return x"
        ),
        "GPT": (
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
)
