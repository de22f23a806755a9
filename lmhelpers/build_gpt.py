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
from .language import message, tr


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
    names = ", ".join(keys[:3])
    return tr("{names} (and {n} more)", names=names, n=len(keys) - 3) if len(keys) > 3 else names


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
        raise NotYet(
            tr("your module has no {names}: name its layers as the exercise says", names=_names(missing))
        )
    extra = sorted(set(have) - set(wanted))
    if extra:
        raise NotYet(tr("your module has parameters the package's has not: {names}", names=_names(extra)))
    for key, value in wanted.items():
        if have[key].shape != value.shape:
            raise NotYet(
                tr(
                    "{key} is {yours} in your module, {theirs} in the package's",
                    key=key,
                    yours=list(have[key].shape),
                    theirs=list(value.shape),
                )
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
                tr("head {head} of the package's", head=self.head),
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
        return tr("your code")
    frame = tb.tb_frame
    owner = frame.f_locals.get("self")
    method = frame.f_code.co_name
    return f"{type(owner).__name__}.{method}" if owner is not None else method


def _run_module(name: str, cls: Any, cases: list[Case], count: bool = True) -> CheckResult:
    """Check the learner's class ``cls``: built from each case's config, given the package's weights,
    run in eval mode on the case's inputs and compared with the package's module."""

    def run(setup: _Setup, *inputs: Tensor) -> Any:
        if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
            raise NotYet(
                tr("{name} must be a class, a subclass of nn.Module, not {got}", name=name, got=_show(cls))
            )
        try:
            with torch.random.fork_rng(devices=[]):
                mine = cls(setup.cfg, *setup.args)
            load_package_weights(mine, setup.package, setup.head)
            theirs, yours = (sum(p.numel() for p in m.parameters()) for m in (setup.package, mine))
            if count and yours != theirs:
                raise NotYet(
                    tr(
                        "your module has {yours:,} parameters, the package's {theirs:,} "
                        "(a tied matrix counts once)",
                        yours=yours,
                        theirs=theirs,
                    )
                )
            mine.eval()
            with torch.no_grad():
                return mine(*inputs)
        except NotImplementedError as exc:
            where = _unwritten(exc)
            raise NotYet(tr("not written yet: {where} raises NotImplementedError", where=where)) from None

    def show_call(case: Case) -> str:
        setup, *inputs = case.args
        inputs = ", ".join(_show(t) for t in inputs)
        return tr("{module} on {inputs}", module=setup.describe(name), inputs=inputs)

    return _run(name, run, cases, show_call=show_call)


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
    return _run_module("Head", cls, cases, count=False)


def _head_cases(reference: Any, shapes: list[tuple]) -> list:
    """One case per (n_embd, n_head, block_size, bias, B, T): the package's ``reference`` module built
    from that config, fed one random batch ``x`` (seeded by the case's index); its first output compared."""
    cases = []
    for seed, (C, nh, bs, bias, B, T) in enumerate(shapes):
        cfg = _model_config(n_embd=C, n_head=nh, block_size=bs, bias=bias)
        (x,) = _randn(seed, (B, T, C))
        cases.append(_module_case(seed, lambda cfg=cfg: reference(cfg), cfg, (x,), _first))
    return cases


@_exercise("03")
def check_MultiHeadAttention(cls: Any) -> CheckResult:
    """``MultiHeadAttention(cfg)``: ``heads`` (an ``nn.ModuleList`` of ``Head``) and ``proj``; ``forward(x)
    -> [B, T, n_embd]``. Compared with the package's ``CausalSelfAttention`` holding the same weights."""
    from .transformer import CausalSelfAttention

    shapes = [(8, 2, 8, False, 1, 5), (12, 3, 6, True, 2, 6), (16, 4, 8, False, 2, 8), (6, 1, 4, True, 1, 3)]
    return _run_module("MultiHeadAttention", cls, _head_cases(CausalSelfAttention, shapes))


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
    return _run_module("FeedForward", cls, cases)


@_exercise("03")
def check_Block(cls: Any) -> CheckResult:
    """``Block(cfg)``: ``ln_1``, ``attn`` (your ``MultiHeadAttention``), ``ln_2``, ``mlp`` (your
    ``FeedForward``); ``forward(x) -> [B, T, n_embd]``. Compared with the package's ``Block``."""
    from .transformer import Block

    shapes = [(8, 2, 8, False, 1, 5), (12, 3, 6, True, 2, 6), (16, 4, 8, True, 2, 8)]
    return _run_module("Block", cls, _head_cases(Block, shapes))


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
    return _run_module("GPT", cls, cases)
