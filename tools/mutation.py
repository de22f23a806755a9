"""Mutation testing for the modules that compute the figures lmhelpers reports.

Usage (from the repository root, with the project's venv; ``make mutation`` runs the first line)::

    python tools/mutation.py                      # every mutant of every module in TARGETS
    python tools/mutation.py --module metrics     # only modules whose path contains "metrics"
    python tools/mutation.py --planted            # the planted bugs of PLANTED, against TARGETS' tests
    python tools/mutation.py --survivors          # re-test only the last run's survivors
    python tools/mutation.py --ref HEAD           # lmhelpers/ as committed at HEAD, tests as they are now
    python tools/mutation.py --planted --all-tests  # the planted bugs against every fast test file

How it works. The repository is copied to a scratch folder (the working tree is never touched), and
every mutant lives only in memory: a forked child process installs an import hook that serves the
mutated module's code instead of the file, runs the module's tests from TARGETS in-process with
pytest (``-x``: the first failure ends it), and reports. torch, pytest and the other heavy imports
are loaded once in the parent before forking, so a mutant costs its tests' time, not interpreter
start-up. A mutant is *killed* when a test fails or errors, or when it runs past its timeout (a
mutant that loops forever); it *survives* when every test passes. Survivors known to be harmless
(equivalent mutants: no observable behaviour changes) are listed in EQUIVALENT with the reason.

The mutation operators (one small change per mutant, applied to the syntax tree):

* arithmetic ``+ - * / // % **`` swapped for a neighbour, also in ``x += ...``;
* comparisons flipped at the boundary or negated (``<`` to ``<=``, ``==`` to ``!=``, ``in`` to
  ``not in``, ``is`` to ``is not`` and back); ``and``/``or`` swapped; ``not`` and unary minus removed;
* number constants ``n`` to ``n + 1``, ``True``/``False`` swapped; ``min``/``max`` swapped;
* an ``if`` condition negated; ``break``/``continue`` swapped;
* a statement deleted (a call made for its effect, a store into an attribute or item, an in-place
  update), a keyword argument dropped from a call.

Not mutated: strings (names and messages), docstrings, type annotations, decorators, f-strings, the
arguments of ``raise`` and of ``warnings.warn`` (error text), imports, and the functions in SKIP.

Survivors known to be harmless are counted as *equivalent* with their reason (EQUIVALENT); the score
is printed both over all mutants and over those not harmless. Results go to ``--out`` (default
``runs/mutation/results.json``, ignored by git); ``--survivors`` merges a re-run into that file and
``--markdown`` writes the survivors of the full run with what became of each. docs/mutation.md
records the last run.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import importlib.abc
import importlib.util
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------------------
# The one table to edit when modules move: each module that computes reported numbers, and the fast
# tests (no subprocesses, no notebooks) that exercise it, quickest killers first.
TARGETS: dict[str, list[str]] = {
    "lmhelpers/training.py": [
        "tests/test_training_applies_settings.py",
        "tests/test_training_bookkeeping.py",
        "tests/test_reported_figures.py",
        "tests/test_training.py",
    ],
    "lmhelpers/metrics.py": [
        "tests/test_metrics.py",
        "tests/test_reported_figures.py",
    ],
    "lmhelpers/data.py": [
        "tests/test_data.py",
        "tests/test_corpus_sources.py",
        "tests/test_reported_figures.py",
        "tests/test_training_bookkeeping.py",
        "tests/test_training_applies_settings.py",
        "tests/test_training.py",
    ],
    "lmhelpers/generation.py": [
        "tests/test_sampling_distribution.py",
        "tests/test_generation.py",
    ],
    "lmhelpers/tokenizers.py": [
        "tests/test_tokenizer_claims.py",
        "tests/test_tokenizers.py",
        "tests/test_reported_figures.py",
    ],
    "lmhelpers/bpe.py": [
        "tests/test_tokenizer_claims.py",
        "tests/test_tokenizers.py",
    ],
    "lmhelpers/sweep.py": [
        "tests/test_sweep_parameters.py",
        "tests/test_sweep_spec.py",
    ],
}

# Functions left unmutated (qualified name within the module), each with the reason.
SKIP: dict[str, dict[str, str]] = {
    "lmhelpers/data.py": {
        "_download": "network download, no reported figure (tested in test_data.py with a fake server)",
        "_missing_message": "error text only",
        "user_cache_dir": "where downloads are kept, no reported figure",
    },
    "lmhelpers/training.py": {
        "Trainer._check_finite": "NaN detection and its message, covered by test_training.py",
    },
    "lmhelpers/sweep.py": {
        "execute_run": "runs notebooks in subprocesses: the slow test_sweep.py, outside the fast set",
        "_run_one": "subprocess orchestration and DONE markers: the slow test_sweep.py",
        "_failure_summary": "error text for a failed run: the slow test_sweep.py",
        "run_specs": "thread pool over subprocess runs: the slow test_sweep.py",
        "run_sweep": "the whole sweep: the slow test_sweep.py",
    },
}

# Survivors that are harmless, as rules: (module, function, text, reason). A surviving mutant of that
# module and function (qualified name, "*" for any) whose "before => after" contains the text is
# counted as equivalent, with the reason; a killed mutant stays killed. docs/mutation.md lists them.
_CUDA = "a CUDA-only path: on a CPU the grad scaler is disabled and there is no CUDA state or device"
_SPEED = "speed only: the same numbers by another route"
_SHOW = "progress display only"
_2D = "dim -1 and dim 1 are the same axis of the 2-D [B, V] logits"
_ADVICE = "the encoding named in a UTF-8 error's advice, not any figure"
_BPE_INDEX = (
    "bookkeeping of the incremental BPE trainer (which words to revisit, stale heap entries): extra "
    "work or none, the same merges; test_incremental_trainer_matches_naive compares with a naive trainer"
)
EQUIVALENT: list[tuple[str, str, str, str]] = [
    # training
    (
        "training.py",
        "make_optimizer",
        "kwargs = dict(betas=",
        "the initial lr is never used: train_step writes the scheduled rate into every group before each step",
    ),
    (
        "training.py",
        "make_optimizer",
        "device.type",
        "fused or plain AdamW, the same update (test_fast_paths compares them): " + _SPEED,
    ),
    (
        "training.py",
        "make_optimizer",
        "AdamW(groups, fused=",
        "fused or plain AdamW, the same update (test_fast_paths compares them): " + _SPEED,
    ),
    ("training.py", "_grad_scaler", "", _CUDA),
    ("training.py", "Trainer.__init__", "self.scaler = _grad_scaler(", _CUDA),
    ("training.py", "Trainer.train_step", "self.scaler.", _CUDA),
    ("training.py", "Trainer.state_dict", "cuda", _CUDA),
    ("training.py", "Trainer.resume", "cuda", _CUDA),
    ("training.py", "Trainer.resume", "map_location", _CUDA),
    ("training.py", "Trainer.resume", "self.scaler.load_state_dict", _CUDA),
    (
        "training.py",
        "Trainer.fit",
        "self.device.type == 'cuda'",
        _CUDA + " (a synchronize before reading the clock)",
    ),
    (
        "training.py",
        "Trainer.__init__",
        "configure_backends(self.device) => pass",
        "TF32 on CUDA and the CPU allocator setting: " + _SPEED,
    ),
    (
        "training.py",
        "Trainer.__init__",
        "self.forward = torch.compile(self.forward) => pass",
        "compile=True is opt-in speed; compiled or eager, the same function (compiling takes tens of seconds, so no fast test sets it)",
    ),
    ("training.py", "Trainer.__init__", "progress: bool=False", "the default of the progress bar: " + _SHOW),
    (
        "training.py",
        "Trainer.__init__",
        "t.seed - self.dist.rank",
        "rank 0 in one process; under DDP the ranks still get distinct dropout seeds",
    ),
    (
        "training.py",
        "Trainer.__init__",
        "self._eval_starts",
        "which fixed windows form the evaluation set: any fixed seed gives an equally honest sample, the same windows at every evaluation",
    ),
    ("training.py", "Trainer.fit", "bar.", _SHOW),
    (
        "training.py",
        "Trainer.fit",
        "len(pending) >",
        "how many losses are read back at once for the NaN check (a GPU sync): every loss is still checked, and the step named stays right",
    ),
    (
        "training.py",
        "Trainer.fit",
        "self.step != target:",
        "reads losses back for the NaN check at more steps: more syncs, the same checks",
    ),
    (
        "training.py",
        "Trainer.fit",
        "pending.clear() => pass",
        "losses already checked are checked again: memory only, the step named stays right",
    ),
    (
        "training.py",
        "Trainer.train_step",
        "zero_grad(",
        "gradients set to None or to zeros: the next backward gives the same gradients",
    ),
    (
        "training.py",
        "Trainer.train_step",
        "/ self.dist.world_size",
        "world_size is 1 in one process; test_distributed.py (slow, outside this run) checks the global count",
    ),
    (
        "training.py",
        "Trainer.save",
        "self.last_checkpoint = path => pass",
        "the branch of ranks other than 0 under DDP",
    ),
    (
        "training.py",
        "lr_at",
        "step <= cfg.warmup_iters",
        "at step == warmup_iters both formulas give the peak rate",
    ),
    (
        "training.py",
        "Trainer.fit",
        "torch.cuda.synchronize()",
        _CUDA + " (a synchronize before reading the clock)",
    ),
    (
        "generation.py",
        "generate",
        "check_temperature(temperature) => pass",
        "sample_next checks the temperature again before the first token is drawn",
    ),
    (
        "generation.py",
        "check_temperature",
        "temperature >= 1000000.0",
        "the largest accepted temperature, 1e6, refused itself: a boundary no sampler uses",
    ),
    (
        "generation.py",
        "check_temperature",
        "1000001.0",
        "the largest accepted temperature moved from 1e6 to 1e6 + 1",
    ),
    # metrics
    (
        "metrics.py",
        "position_losses",
        "def position_losses(",
        "the default number, batch and seed of the sampled windows: another equally honest sample",
    ),
    (
        "metrics.py",
        "position_losses",
        "n_batches = max(2,",
        "one more batch of windows when fewer than one batch is asked for: a larger honest sample",
    ),
    (
        "metrics.py",
        "causality_check",
        "",
        "which random tokens probe causality: any change after the cut must leave earlier outputs alone",
    ),
    ("metrics.py", "perplexity", "701.0", "the cap that keeps exp() finite for JSON: exp(701) is finite too"),
    # data
    ("data.py", "_likely_encoding", "", _ADVICE),
    ("data.py", "read_text_file", "raw[:8193]", "one byte more of the NUL sniffing window"),
    ("data.py", "sha256_of", "f.read(", "the chunk size of the sha256 reader: the same digest"),
    (
        "data.py",
        "TokenDataset.from_text",
        "torch.tensor(tokenizer.encode(",
        "a list of Python ints is int64 already, and __init__ casts to long",
    ),
    (
        "data.py",
        "TokenDataset.fixed_starts",
        "def fixed_starts(",
        "the default seed of the evaluation windows; the trainer always passes its own",
    ),
    ("data.py", "TokenDataset.windows", "non_blocking", _CUDA),
    (
        "data.py",
        "<module>",
        "size=1115395",
        "the size shown in the missing-file message; the sha256 is what is checked",
    ),
    # generation
    ("generation.py", "sample_next", "dim=1", _2D),
    ("generation.py", "sample_next", "logits.size(1)", _2D),
    ("generation.py", "sample_next", "logits.sort(descending=True)", "sort's default dim is the last"),
    ("generation.py", "sample_next", "torch.topk(logits, top_k).values", "topk's default dim is the last"),
    ("generation.py", "sample_next", ".scatter(1,", _2D),
    ("generation.py", "sample_next", "top_k <= logits.size(-1)", "top_k == V keeps every token either way"),
    (
        "generation.py",
        "sample_next",
        "top_p <= 1",
        "top_p == 1 keeps every token but those whose preceding mass rounds to 1 (probability < 1e-7)",
    ),
    (
        "generation.py",
        "sample_next",
        "top_p < 2",
        "top_p == 1 keeps every token but those whose preceding mass rounds to 1 (probability < 1e-7)",
    ),
    (
        "generation.py",
        "sample_next",
        "probs > top_p",
        "differs only when the mass before a token equals top_p exactly",
    ),
    (
        "generation.py",
        "sample_next",
        "temperature <= 0.001",
        "at exactly T = 0.001 sampling is already greedy up to ties closer than 1e-3 nats",
    ),
    ("generation.py", "generate", "torch.Generator()", _CUDA),
    ("generation.py", "_as_batch", "idx.to(dtype=torch.long)", _CUDA),
    ("generation.py", "_as_batch", "torch.tensor(list(prompt))", "a list of Python ints is int64 already"),
    (
        "generation.py",
        "generate",
        "use_cache: bool=False",
        "cached and recomputed decoding give the same tokens by design (test_generation checks it): "
        + _SPEED,
    ),
    (
        "generation.py",
        "generate",
        "if not not use_cache:",
        "cached and recomputed decoding give the same tokens by design (test_generation checks it): "
        + _SPEED,
    ),
    (
        "generation.py",
        "generate",
        "=> if use_cache:",
        "cached and recomputed decoding give the same tokens by design (test_generation checks it): "
        + _SPEED,
    ),
    (
        "generation.py",
        "generate",
        "prefill = True",
        "rebuilding the cache at every step gives the same tokens: " + _SPEED,
    ),
    ("generation.py", "<module>", "MAX_NEW_TOKENS = 100001", "the bound on max_new_tokens, one more allowed"),
    (
        "generation.py",
        "_check_args",
        "max_new_tokens < MAX_NEW_TOKENS",
        "the bound on max_new_tokens, one fewer allowed",
    ),
    (
        "generation.py",
        "sample_text",
        "max_new_tokens: int=201",
        "the default length of a sample; every caller in the project passes its own",
    ),
    # tokenizers
    (
        "tokenizers.py",
        "<module>",
        "_FORMAT_VERSION = 2",
        "written into saved tokenizers, read by nothing yet",
    ),
    ("tokenizers.py", "Tokenizer", "lossless: bool = True", "every concrete tokenizer sets lossless itself"),
    (
        "tokenizers.py",
        "Tokenizer.save",
        "json.dump(",
        "escaped or raw UTF-8 in the JSON file: it loads the same",
    ),
    (
        "tokenizers.py",
        "load_tokenizer",
        "path.read_text()",
        "the locale's encoding is UTF-8 on this machine and CI; only a non-UTF-8 locale would differ",
    ),
    ("tokenizers.py", "WordTokenizer.common_words", "n: int=6", "how many words an error message suggests"),
    (
        "tokenizers.py",
        "WordTokenizer.check_prompt",
        "unknown[:11]",
        "how many unknown words an error message shows",
    ),
    (
        "tokenizers.py",
        "CharTokenizer.encode",
        "unknown[:11]",
        "how many unknown characters an error message shows",
    ),
    # bpe
    ("bpe.py", "train_bpe", "counts.pop(pair, None) => pass", _BPE_INDEX),
    ("bpe.py", "train_bpe", "where.pop(p, None) => pass", _BPE_INDEX),
    ("bpe.py", "train_bpe", "where[p].discard(wi) => pass", _BPE_INDEX),
    ("bpe.py", "train_bpe", "if p not in new_pairs and p != pair:", _BPE_INDEX),
    ("bpe.py", "train_bpe", "if c > 0:", _BPE_INDEX),
    ("bpe.py", "train_bpe", "neg == 0:", _BPE_INDEX),
    ("bpe.py", "_pairs", "strict=False", "strict=False is zip's default"),
    (
        "bpe.py",
        "train_bpe",
        "ids_of[merged] = new_id => pass",
        "unreachable: a token's bytes are only ever made by one pair. Within a word, a span that ends as one "
        "token was never merged across its edges, so the left-to-right merges inside it are those of the span "
        "alone and end with the same pair in every word (docs/mutation.md, Survivors)",
    ),
    # sweep
    ("sweep.py", "RunSpec", "field()", "load_sweep always passes parameters"),
    ("sweep.py", "RunResult", "seconds: float = 1.0", "the time of a skipped run, which nothing prints"),
    (
        "sweep.py",
        "load_sweep",
        "path.read_text()",
        "the locale's encoding is UTF-8 on this machine and CI; only a non-UTF-8 locale would differ",
    ),
]


def equivalent_reason(m: Mutant) -> str | None:
    change = f"{m.before} => {m.after}"
    for module, function, text, reason in EQUIVALENT:
        if m.module.endswith(module) and function in ("*", m.function) and text in change:
            return reason
    return None


# Realistic bugs planted by hand (the five, for a start): each must make a test fail.
# ``function`` is a qualified name, looked up in every module under lmhelpers/ so that the check
# survives module moves; ``old`` must occur in that function's source exactly once.
PLANTED: list[dict[str, str]] = [
    {
        "name": "evaluate measures 'val' on the training split",
        "function": "Trainer.evaluate",
        "old": "self.dataset.split(split)",
        "new": 'self.dataset.split("train")',
    },
    {
        "name": "learning rate computed but never written into the optimizer",
        "function": "Trainer.train_step",
        "old": 'group["lr"] = lr',
        "new": "pass",
    },
    {
        "name": "bits per character counts UTF-8 bytes of the validation text",
        "function": "TokenDataset.from_text",
        "old": "val_chars=len(val_text)",
        "new": 'val_chars=len(val_text.encode("utf-8"))',
    },
    {
        "name": "temperature multiplies the logits",
        "function": "sample_next",
        "old": "logits.float() / temperature",
        "new": "logits.float() * temperature",
    },
    {
        "name": "validation text copied from the start of the corpus",
        "function": "split_text",
        "old": "return text[:cut], text[cut:]",
        "new": "return text[:cut], text[: len(text) - cut]",
    },
]

# What --planted --all-tests runs the planted bugs against: every test file but the slow ones (notebooks, sweeps,
# subprocesses, benchmarks).
SLOW_TESTS = {
    "tests/test_notebooks.py",
    "tests/test_sweep.py",
    "tests/test_crash_resume.py",
    "tests/test_distributed.py",
    "tests/test_bench.py",
}

PRELOAD = ["torch", "numpy", "yaml", "regex", "tiktoken", "tqdm.auto", "hypothesis", "pytest"]


# --------------------------------------------------------------------------------------- mutants
@dataclasses.dataclass
class Mutant:
    module: str  # "lmhelpers/training.py"
    index: int  # position in the module's list of mutants
    node: int  # the mutated node's position in ast.walk order
    op: tuple
    function: str
    line: int
    before: str
    after: str
    key: str = ""
    status: str = "pending"  # killed | survived | timeout | equivalent
    killer: str = ""  # the first failing test; for an equivalent mutant, the reason
    seconds: float = 0.0
    rerun: bool = False  # survived the full run, then killed by a re-run (--survivors)


_BINOP = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
    ast.BitOr: ast.BitAnd,
    ast.BitAnd: ast.BitOr,
    ast.BitXor: ast.BitOr,
}
_CMPOP = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}


def _parents(tree: ast.AST) -> dict[int, tuple[ast.AST, str, int | None]]:
    out = {}
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if isinstance(value, list):
                for i, child in enumerate(value):
                    if isinstance(child, ast.AST):
                        out[id(child)] = (parent, field, i)
            elif isinstance(value, ast.AST):
                out[id(value)] = (parent, field, None)
    return out


def _replace(parents, node: ast.AST, new: ast.AST) -> None:
    parent, field, i = parents[id(node)]
    if i is None:
        setattr(parent, field, new)
    else:
        getattr(parent, field)[i] = new


def _excluded_ids(tree: ast.AST, skip: dict[str, str]) -> tuple[set[int], dict[int, str]]:
    """Nodes not to mutate, and each node's enclosing function's qualified name."""
    excluded: set[int] = set()
    owner: dict[int, str] = {}

    def exclude(node):
        for n in ast.walk(node):
            excluded.add(id(n))

    def visit(node, qual):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            qual = f"{qual}.{node.name}" if qual else node.name
            for d in node.decorator_list:
                exclude(d)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for a in ast.walk(node.args):
                    if isinstance(a, ast.arg) and a.annotation is not None:
                        exclude(a.annotation)
                if node.returns is not None:
                    exclude(node.returns)
            if qual in skip:
                exclude(node)
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                exclude(body[0])  # docstring
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.JoinedStr, ast.Raise)):
            exclude(node)
        if isinstance(node, ast.AnnAssign):
            exclude(node.annotation)
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            exclude(node)
        if isinstance(node, ast.Call) and ast.unparse(node.func) in ("warnings.warn", "warn"):
            exclude(node)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            exclude(node)
        owner[id(node)] = qual or "<module>"
        for child in ast.iter_child_nodes(node):
            visit(child, qual)

    if isinstance(tree, ast.Module) and tree.body:
        first = tree.body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            exclude(first)
    visit(tree, "")
    return excluded, owner


def _ops(node: ast.AST) -> list[tuple]:
    """The mutations of one node, as data (applied by _apply)."""
    ops: list[tuple] = []
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOP:
        ops.append(("binop",))
    elif isinstance(node, ast.AugAssign):
        if type(node.op) in _BINOP:
            ops.append(("binop",))
        ops.append(("delete",))
    elif isinstance(node, ast.Compare):
        ops += [("cmpop", i) for i, op in enumerate(node.ops) if type(op) in _CMPOP]
    elif isinstance(node, ast.BoolOp):
        ops.append(("boolop",))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub, ast.Invert)):
        ops.append(("unwrap",))
    elif isinstance(node, ast.Constant):
        if isinstance(node.value, bool):
            ops.append(("const", not node.value))
        elif isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            ops.append(("const", node.value + 1))
    elif isinstance(node, ast.Name) and node.id in ("min", "max") and isinstance(node.ctx, ast.Load):
        ops.append(("name", "max" if node.id == "min" else "min"))
    elif isinstance(node, ast.If):
        ops.append(("negate",))
    elif isinstance(node, (ast.Break, ast.Continue)):
        ops.append(("loopctl",))
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        ops.append(("delete",))
    elif isinstance(node, ast.Assign) and all(
        isinstance(t, (ast.Attribute, ast.Subscript)) for t in node.targets
    ):
        ops.append(("delete",))
    if isinstance(node, ast.Call):
        ops += [("kwdrop", i) for i, kw in enumerate(node.keywords) if kw.arg is not None]
    return ops


def _apply(tree: ast.AST, node_index: int, op: tuple) -> ast.AST:
    """Mutate ``tree`` in place at the node_index-th node of ast.walk; returns the mutated node."""
    node = list(ast.walk(tree))[node_index]
    parents = _parents(tree)
    kind = op[0]
    if kind == "binop":
        node.op = _BINOP[type(node.op)]()
    elif kind == "cmpop":
        node.ops[op[1]] = _CMPOP[type(node.ops[op[1]])]()
    elif kind == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
    elif kind == "unwrap":
        _replace(parents, node, node.operand)
        node = node.operand
    elif kind == "const":
        node.value = op[1]
    elif kind == "name":
        node.id = op[1]
    elif kind == "negate":
        node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
    elif kind == "loopctl":
        _replace(parents, node, ast.Continue() if isinstance(node, ast.Break) else ast.Break())
    elif kind == "delete":
        _replace(parents, node, ast.Pass())
    elif kind == "kwdrop":
        del node.keywords[op[1]]
    ast.fix_missing_locations(tree)
    return node


def _statement_of(tree: ast.AST, node: ast.AST) -> ast.AST:
    parents = _parents(tree)
    while not isinstance(node, ast.stmt) and id(node) in parents:
        node = parents[id(node)][0]
    return node


def _show(stmt: ast.AST) -> str:
    """A statement as one line; compound statements by their header only."""
    if isinstance(stmt, (ast.If, ast.While)):
        return f"{'if' if isinstance(stmt, ast.If) else 'while'} {ast.unparse(stmt.test)}:"
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return f"for {ast.unparse(stmt.target)} in {ast.unparse(stmt.iter)}:"
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return f"def {stmt.name}({ast.unparse(stmt.args)}):"
    if isinstance(stmt, ast.With):
        return f"with {', '.join(ast.unparse(i) for i in stmt.items)}:"
    if isinstance(stmt, (ast.Try, ast.ClassDef)):
        return ast.unparse(stmt).splitlines()[0]
    return " ".join(ast.unparse(stmt).split())


def module_mutants(module: str, source: str) -> list[Mutant]:
    tree = ast.parse(source)
    excluded, owner = _excluded_ids(tree, SKIP.get(module, {}))
    mutants: list[Mutant] = []
    seen: dict[str, int] = {}
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in excluded:
            continue
        for op in _ops(node):
            stmt = _statement_of(tree, node)
            before, line = _show(stmt), getattr(stmt, "lineno", 0)
            if op[0] == "delete":
                after = "pass"
            elif op[0] == "loopctl":
                after = "continue" if isinstance(node, ast.Break) else "break"
            else:
                fresh = ast.parse(source)
                after = _show(_statement_of(fresh, _apply(fresh, index, op)))
            function = owner[id(node)]
            base = f"{module}::{function}::{before} => {after}"
            seen[base] = seen.get(base, 0) + 1
            key = base if seen[base] == 1 else f"{base} #{seen[base]}"
            mutants.append(Mutant(module, len(mutants), index, op, function, line, before, after, key))
    return mutants


def mutated_code(module_path: Path, mutant: Mutant):
    tree = ast.parse(module_path.read_text(encoding="utf-8"))
    _apply(tree, mutant.node, mutant.op)
    return compile(tree, str(module_path), "exec")


def planted_code(root: Path, bug: dict[str, str]) -> tuple[str, object] | None:
    """(module name, code object) with ``bug`` applied, or None when its function or text is gone."""
    for path in sorted((root / "lmhelpers").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        _, owner = _excluded_ids(tree, {})
        for node in ast.walk(tree):
            if (
                isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                and owner.get(id(node)) == bug["function"]
            ):
                lines = source.splitlines(keepends=True)
                start, end = node.lineno - 1, node.end_lineno
                body = "".join(lines[start:end])
                if body.count(bug["old"]) != 1:
                    return None
                new_source = (
                    "".join(lines[:start]) + body.replace(bug["old"], bug["new"]) + "".join(lines[end:])
                )
                name = ".".join(path.relative_to(root).with_suffix("").parts)
                return name, compile(new_source, str(path), "exec")
    return None


# --------------------------------------------------------------------------------------- running
class _MutantLoader(importlib.abc.Loader):
    def __init__(self, code):
        self.code = code

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        exec(self.code, module.__dict__)


class _MutantFinder(importlib.abc.MetaPathFinder):
    """Serves one module from a code object instead of its file (inside the forked child only)."""

    def __init__(self, name: str, path: Path, code):
        self.name, self.path, self.code = name, path, code

    def find_spec(self, fullname, path, target=None):
        if fullname != self.name:
            return None
        return importlib.util.spec_from_file_location(fullname, self.path, loader=_MutantLoader(self.code))


class _Recorder:
    """pytest plugin: the first failing test's id."""

    def __init__(self):
        self.failed: list[str] = []

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failed.append(report.nodeid)

    def pytest_collectreport(self, report):
        if report.failed:
            self.failed.append(f"{report.nodeid} (collection)")


def _child(
    root: Path,
    tests: list[str],
    module_name: str | None,
    code,
    result_file: Path,
    threads: int,
    stop_first: bool,
):
    os.setsid()  # its own process group, so a timeout can end everything it started
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    import hypothesis
    import pytest
    import torch

    torch.set_num_threads(threads)
    hypothesis.settings.register_profile("mutation", database=None, derandomize=True)
    hypothesis.settings.load_profile("mutation")
    if module_name is not None:
        sys.meta_path.insert(
            0, _MutantFinder(module_name, root / (module_name.replace(".", "/") + ".py"), code)
        )
    recorder = _Recorder()
    args = ["-q", "-o", "addopts=", "-p", "no:nbmake", "-p", "no:cacheprovider", "--no-header"]
    if stop_first:
        args.append("-x")
    try:
        rc = pytest.main(args + list(tests), plugins=[recorder])
    except BaseException as exc:  # a mutant that breaks pytest itself is killed all the same
        recorder.failed.append(f"<{type(exc).__name__}>")
        rc = 1
    result_file.write_text(json.dumps({"rc": int(rc), "failed": recorder.failed}))
    os._exit(0)


def run_in_child(root: Path, tests, module_name, code, timeout: float, threads: int, stop_first=True) -> dict:
    fd, name = tempfile.mkstemp(prefix="mutant-", suffix=".json", dir=root / ".mutation")
    os.close(fd)
    result_file = Path(name)
    tic = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            _child(root, tests, module_name, code, result_file, threads, stop_first)
        finally:
            os._exit(3)
    status = None
    while time.perf_counter() - tic < timeout:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        time.sleep(0.02)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        result_file.unlink(missing_ok=True)
        return {"rc": None, "failed": ["<timeout>"], "seconds": time.perf_counter() - tic}
    try:
        out = json.loads(result_file.read_text() or "{}")
    except ValueError:
        out = {}
    result_file.unlink(missing_ok=True)
    if "rc" not in out:  # the child died (a crash in native code, say): that is a failure too
        out = {"rc": -1, "failed": [f"<child exit status {status}>"]}
    out["seconds"] = time.perf_counter() - tic
    return out


def make_scratch(ref: str | None) -> Path:
    """A copy of the working tree; with ``ref``, the tree at that commit with the working tree's tests/
    and tools/ laid over it (tests that fail against that commit are then left out, see settle)."""
    scratch = Path(tempfile.mkdtemp(prefix="lmhelpers-mutation-"))
    if ref:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", ref], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
        print(f"source: commit {commit} ({ref}), with the working tree's tests/ and tools/", flush=True)
        archive = subprocess.run(["git", "archive", ref], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(scratch)], input=archive.stdout, check=True)
        for folder in ("tests", "tools"):
            ignore = shutil.ignore_patterns("__pycache__", ".pytest_cache", ".hypothesis")
            shutil.copytree(ROOT / folder, scratch / folder, ignore=ignore, dirs_exist_ok=True)
    else:
        ignore = shutil.ignore_patterns(
            ".venv",
            ".git",
            "runs",
            "__pycache__",
            ".pytest_cache",
            ".hypothesis",
            ".ruff_cache",
            "*.egg-info",
        )
        shutil.copytree(ROOT, scratch, ignore=ignore, dirs_exist_ok=True)
    (scratch / ".mutation").mkdir()
    return scratch


def settle(scratch: Path, tests: list[str], threads: int, label: str) -> tuple[list[str], float] | None:
    """Run ``tests`` unmutated; tests that already fail (a tree in the middle of a refactor) are left
    out with a warning. Returns the pytest arguments that pass and their time, or None."""
    args = list(tests)
    for _ in range(4):
        base = run_in_child(scratch, args, None, None, timeout=900, threads=threads, stop_first=False)
        if base["rc"] == 0:
            return args, base["seconds"]
        failed = [f for f in base["failed"] if not f.startswith("<")]
        if not failed:
            print(f"{label}: the tests fail without any mutant: {base['failed']}")
            return None
        for f in failed:
            if f.endswith(" (collection)"):
                path = f[: -len(" (collection)")]
                print(f"{label}: WARNING {path} fails to import without any mutant: left out")
                args = [a for a in args if a != path] + ["--ignore", path]
            else:
                print(f"{label}: WARNING {f} fails without any mutant: deselected")
                args += ["--deselect", f]
    return None


def _environment() -> None:
    shared = ROOT.parent / "shared" / "data"
    if "LMHELPERS_DATA_DIR" not in os.environ and (shared / "tinyshakespeare.txt").is_file():
        os.environ["LMHELPERS_DATA_DIR"] = str(shared)
    if "TIKTOKEN_CACHE_DIR" not in os.environ and (shared / "tiktoken").is_dir():
        os.environ["TIKTOKEN_CACHE_DIR"] = str(shared / "tiktoken")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    sys.dont_write_bytecode = True


def cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
    except ImportError:
        pass


def run_planted(scratch: Path, threads: int, all_tests: bool) -> int:
    if all_tests:  # every test file but the slow ones
        tests = sorted(
            rel
            for rel in (str(p.relative_to(scratch)) for p in (scratch / "tests").glob("test_*.py"))
            if rel not in SLOW_TESTS
        )
    else:  # the tests of the modules that compute reported figures
        tests = list(dict.fromkeys(t for files in TARGETS.values() for t in files))
    settled = settle(scratch, tests, threads, "planted")
    if settled is None:
        return 2
    tests, seconds = settled
    print(f"{len(tests)} test files pass without planted bugs: {seconds:.0f} s", flush=True)
    missed = 0
    for bug in PLANTED:
        planted = planted_code(scratch, bug)
        if planted is None:
            print(f"[gone]    {bug['name']}: {bug['function']} with {bug['old']!r} not found; update PLANTED")
            missed += 1
            continue
        name, code = planted
        res = run_in_child(scratch, tests, name, code, timeout=900, threads=threads, stop_first=False)
        caught = res["rc"] != 0
        missed += not caught
        print(f"[{'caught' if caught else 'MISSED'}]  {bug['name']} ({name}, {res['seconds']:.0f} s)")
        for test in res["failed"]:
            print(f"            {test}")
    return 1 if missed else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--module", action="append", help="only modules whose path contains this (repeatable)")
    ap.add_argument("--planted", action="store_true", help="run the planted bugs (PLANTED) instead")
    ap.add_argument(
        "--all-tests", action="store_true", help="--planted against every fast test file, not TARGETS' only"
    )
    ap.add_argument("--survivors", action="store_true", help="only the survivors of the run in --out")
    ap.add_argument("--ref", help="take lmhelpers/ from this git commit (tests from the working tree)")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="mutants tested at once (default 1)")
    ap.add_argument("--limit", type=int, help="test at most this many mutants per module (a quick look)")
    ap.add_argument("--list", action="store_true", help="list the mutants and exit")
    ap.add_argument("--out", default=str(ROOT / "runs" / "mutation" / "results.json"))
    ap.add_argument("--keep", action="store_true", help="keep the scratch copy")
    ap.add_argument("--markdown", help="also write the survivors, and what became of them, as a table")
    ap.add_argument("--reclassify", action="store_true", help="apply EQUIVALENT to --out again and report")
    args = ap.parse_args(argv)
    _environment()
    if args.reclassify:
        data, mutants = _load(args.out)
        args.jobs, args.survivors, args.ref = data["run"]["jobs"], False, data["run"]["ref"]
        return report(mutants, data["run"]["elapsed_seconds"], args, data["run"]["threads"], data["run"])

    scratch = make_scratch(args.ref)
    try:
        sys.path.insert(0, str(scratch))
        os.chdir(scratch)
        threads = max(1, (os.cpu_count() or 1) // max(1, args.jobs))
        _preload()
        if args.planted:
            return run_planted(scratch, threads, args.all_tests)
        return run_mutants(scratch, args, threads)
    finally:
        os.chdir(ROOT)
        if args.keep:
            print(f"scratch copy kept at {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def run_mutants(scratch: Path, args, threads: int) -> int:
    modules = [m for m in TARGETS if not args.module or any(s in m for s in args.module)]
    previous = {}
    if args.survivors:
        old = json.loads(Path(args.out).read_text())
        previous = {m["key"] for m in old["mutants"] if m["status"] == "survived"}
    all_mutants: list[Mutant] = []
    for module in modules:
        path = scratch / module
        if not path.is_file():
            print(f"{module}: not found (update TARGETS)")
            continue
        ms = module_mutants(module, path.read_text(encoding="utf-8"))
        if args.survivors:
            ms = [m for m in ms if m.key in previous]
        if args.limit:
            ms = ms[: args.limit]
        all_mutants += ms
    if args.list:
        for m in all_mutants:
            print(f"{m.module}:{m.line} [{m.function}] {m.before}  =>  {m.after}")
        print(f"{len(all_mutants)} mutants")
        return 0

    started = time.time()
    timeouts: dict[str, float] = {}
    test_args: dict[str, list[str]] = {}
    for module in dict.fromkeys(m.module for m in all_mutants):
        settled = settle(scratch, TARGETS[module], threads, module)
        if settled is None:
            return 2
        test_args[module], seconds = settled
        timeouts[module] = 2.5 * seconds + 15
        print(
            f"{module}: tests pass in {seconds:.1f} s; {sum(m.module == module for m in all_mutants)} mutants",
            flush=True,
        )

    pending = list(all_mutants)

    def finish(m: Mutant, res: dict) -> None:
        m.seconds = round(res["seconds"], 2)
        if res["rc"] is None:
            m.status, m.killer = "timeout", "<timeout>"
        elif res["rc"] != 0:
            m.status, m.killer = "killed", (res["failed"] or ["?"])[0]
        elif equivalent_reason(m):
            m.status, m.killer = "equivalent", equivalent_reason(m)
        else:
            m.status = "survived"
        done = sum(x.status != "pending" for x in all_mutants)
        if m.status in ("survived",) or done % 25 == 0:
            print(
                f"[{done}/{len(all_mutants)}] {m.status}: {m.module}:{m.line} {m.before} => {m.after}",
                flush=True,
            )

    if args.jobs <= 1:
        for m in pending:
            code = mutated_code(scratch / m.module, m)
            name = m.module[:-3].replace("/", ".")
            finish(m, run_in_child(scratch, test_args[m.module], name, code, timeouts[m.module], threads))
    else:
        from concurrent.futures import ThreadPoolExecutor

        def one(m: Mutant):
            code = mutated_code(scratch / m.module, m)
            name = m.module[:-3].replace("/", ".")
            return m, run_in_child(scratch, test_args[m.module], name, code, timeouts[m.module], threads)

        with ThreadPoolExecutor(args.jobs) as pool:
            for m, res in pool.map(one, pending):
                finish(m, res)
    elapsed = time.time() - started
    return report(all_mutants, elapsed, args, threads)


def _load(path: str) -> tuple[dict, list[Mutant]]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    fields = {f.name for f in dataclasses.fields(Mutant)}
    mutants = []
    for d in data["mutants"]:
        m = Mutant(**{k: v for k, v in d.items() if k in fields})
        m.op = tuple(m.op)
        mutants.append(m)
    return data, mutants


def _count(mutants: list[Mutant]) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    by_module: dict[str, dict[str, int]] = {}
    for m in mutants:
        c = by_module.setdefault(
            m.module, {"total": 0, "killed": 0, "timeout": 0, "equivalent": 0, "survived": 0}
        )
        c["total"] += 1
        c[m.status] += 1
    total = {
        k: sum(c[k] for c in by_module.values())
        for k in ("total", "killed", "timeout", "equivalent", "survived")
    }
    return by_module, total


def report(mutants: list[Mutant], elapsed: float, args, threads: int, previous: dict | None = None) -> int:
    run = previous or {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "elapsed_seconds": round(elapsed),
        "jobs": args.jobs,
        "threads": threads,
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "ref": args.ref or "working tree",
    }
    save = args.survivors or (not args.module and not args.limit)
    if args.survivors:  # merge the re-run into the full run's results
        data, old = _load(args.out)
        now = {m.key: m for m in mutants}
        for m in old:
            if m.key in now and m.status == "survived":
                new = now[m.key]
                m.status, m.killer, m.seconds = new.status, new.killer, new.seconds
                m.rerun = True
        mutants = old
        run = {**data["run"], "reruns": data["run"].get("reruns", []) + [run]}
    for m in mutants:  # the equivalence rules as they are now
        reason = equivalent_reason(m) if m.status in ("survived", "equivalent") else None
        if m.status in ("survived", "equivalent"):
            m.status, m.killer = ("equivalent", reason) if reason else ("survived", "")
    by_module, total = _count(mutants)
    detected = total["killed"] + total["timeout"]
    score = detected / max(1, total["total"])
    score_non_equiv = detected / max(1, total["total"] - total["equivalent"])
    print()
    print(f"{'module':28} {'total':>6} {'killed':>7} {'timeout':>8} {'equiv':>6} {'survived':>9}")
    for module, c in [*by_module.items(), ("all", total)]:
        print(
            f"{module:28} {c['total']:6} {c['killed']:7} {c['timeout']:8} {c['equivalent']:6} {c['survived']:9}"
        )
    print(f"score: {score:.1%} of all mutants detected; {score_non_equiv:.1%} of the non-equivalent ones")
    print(
        f"time: {elapsed / 60:.1f} min with {args.jobs} job(s) x {threads} thread(s) on {cpu_model()} "
        f"({os.cpu_count()} CPUs)"
    )
    survivors = [m for m in mutants if m.status == "survived"]
    if survivors:
        print("\nsurvivors:")
        for m in survivors:
            print(f"  {m.module}:{m.line} [{m.function}] {m.before}  =>  {m.after}")
    if save:
        out = {
            "run": run,
            "totals": total,
            "score": score,
            "score_non_equivalent": score_non_equiv,
            "modules": by_module,
            "mutants": [dataclasses.asdict(m) | {"op": list(m.op)} for m in mutants],
        }
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"\nresults written to {args.out}")
    if args.markdown:
        write_markdown(mutants, Path(args.markdown))
    return 0 if not survivors else 1


def write_markdown(mutants: list[Mutant], path: Path) -> None:
    """The mutants that survived the first run, each with what became of it: killed by a test added
    later (named), or harmless (the reason), or still surviving."""

    def cell(text: str, limit: int = 150) -> str:
        text = text if len(text) <= limit else text[: limit - 1] + "…"
        return text.replace("|", "\\|")

    rows = ["| where | change | now |", "|---|---|---|"]
    for m in mutants:
        if m.status == "equivalent":
            now = f"harmless: {m.killer}"
        elif m.status == "survived":
            now = "**survives**"
        elif getattr(m, "rerun", False):
            test, _, name = m.killer.partition("::")
            now = f"killed by `{name.split('[')[0] or test}` ({test})"
        else:
            continue
        change = f"`{cell(m.before)}` → `{cell(m.after)}`"
        rows.append(f"| {m.module.split('/')[-1]}:{m.line} `{m.function}` | {change} | {cell(now, 400)} |")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    print(f"table of survivors written to {path}")


if __name__ == "__main__":
    sys.exit(main())
