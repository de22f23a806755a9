"""How an exercise is checked: the learner's function against a reference on seeded cases, and a hint.

:func:`lmhelpers.exercises` registers one check per exercise with :func:`exercise`; this module holds
what they share: :class:`CheckResult` (truthy when correct, shown as ``correct: merge (6 cases)`` or as a
hint with the failing case and the size of the difference), the comparison of answers, and
:func:`assert_close` for the build-it-yourself cells, which stops a notebook on a mismatch. Every text a
check writes is a template of the message catalog (:func:`~lmhelpers.language.tr`), in the learner's
language; the hints themselves are in :mod:`lmhelpers.hints`.
"""

from __future__ import annotations

import copy
import inspect
import math
import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from . import solutions
from .hints import HINTS, SHAPE_HINTS
from .language import message, tr

Check = Callable[[Callable[..., Any]], "CheckResult"]


@dataclass
class CheckResult:
    """What a check found; truthy when correct. Prints as ``correct: ...`` or as the hint."""

    exercise: str
    passed: bool
    cases: int
    message: str
    failed_case: int | None = None  # 1-based

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message

    __repr__ = __str__  # a notebook cell ending in a check shows the message, not a dataclass


@dataclass(frozen=True)
class Exercise:
    """One registry entry: what a notebook or a test needs to list an exercise and run its check."""

    name: str
    notebook: str  # "00" .. "05", the number of the notebook that asks for it
    signature: str
    description: str
    check: Check


@dataclass
class Case:
    """One input and the reference answer for it, computed before the learner's function runs."""

    args: tuple
    expected: Any


EXERCISES: dict[str, Exercise] = {}


class NotYet(Exception):
    """Raised inside a check when the learner's answer is wrong in a way the check words itself (a
    module whose layers have other names or sizes than the package's): its text is the problem."""


def _exercise(notebook: str) -> Callable[[Check], Check]:
    """Register ``check_NAME``; its signature and description come from ``solutions.NAME``."""

    def register(check: Check) -> Check:
        name = check.__name__.removeprefix("check_")
        solution = getattr(solutions, name)
        sig = inspect.signature(solution)
        if inspect.isclass(solution):  # a module to write: its constructor's arguments
            signature = f"class {name}({', '.join(sig.parameters)})"
        else:
            signature = f"{name}({', '.join(sig.parameters)}) -> {sig.return_annotation}"
        description = inspect.getdoc(solution).splitlines()[0].replace("``", "`")
        EXERCISES[name] = Exercise(name, notebook, signature, description, check)
        return check

    return register


# ------------------------------------------------------------------------------ seeded inputs
def _randn(seed: int, *shapes: tuple[int, ...]) -> list[Tensor]:
    """Standard normal tensors of the given shapes, the same for the same seed."""
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(*shape, generator=g) for shape in shapes]


def _seeded_module(seed: int, make: Callable[[], Any]) -> Any:
    """A module initialised from ``seed`` without touching the notebook's global random state."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return make().eval()


def check(name: str, fn: Callable[..., Any]) -> CheckResult:
    """Run the check of exercise ``name`` on ``fn``: ``check("merge", merge)``."""
    if name not in EXERCISES:
        raise KeyError(
            tr("no exercise named {name!r}; the exercises are {names}", name=name, names=sorted(EXERCISES))
        )
    return EXERCISES[name].check(fn)


def exercise_table(notebook: str | None = None) -> str:
    """The exercises (of one notebook, e.g. "03") as a Markdown table: name, signature, what it asks."""
    rows = [e for e in EXERCISES.values() if notebook is None or e.notebook == notebook]
    lines = ["| notebook | function | what it does |", "|---|---|---|"]
    lines += [f"| {e.notebook} | `{e.signature}` | {e.description} |" for e in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------------------ comparing answers
# Each problem is one template of the catalog; a problem inside another (a tuple's value, a list's first
# difference) is filled into the outer template whole, so that each language orders the sentence its way.
def _show(value: Any) -> str:
    """A short description of an argument or a result: tensors by shape, other values by repr."""
    if isinstance(value, Tensor):
        return tr("tensor {shape}", shape=list(value.shape))
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _compare(got: Any, expected: Any, atol: float, rtol: float) -> str | None:
    """None when ``got`` matches ``expected``, else what differs, in one or two lines."""
    if got is None and expected is not None:
        return tr("your function returned None: did you forget `return`?")
    if isinstance(expected, tuple):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return tr("expected a tuple of {n} values, got {got}", n=len(expected), got=_show(got))
        for j, (g, e) in enumerate(zip(got, expected)):
            problem = _compare(g, e, atol, rtol)
            if problem:
                return tr("returned value {j} of {n}: {problem}", j=j + 1, n=len(expected), problem=problem)
        return None
    if isinstance(expected, Tensor):
        return _compare_tensor(got, expected, atol, rtol)
    if isinstance(expected, float):
        return _compare_float(got, expected, atol, rtol)
    return _compare_exact(got, expected)


def _as_double(value: Any) -> Tensor:
    return torch.as_tensor(value).detach().cpu().double()


def _compare_tensor(got: Any, expected: Tensor, atol: float, rtol: float) -> str | None:
    shape = list(expected.shape)
    if not isinstance(got, Tensor):
        return tr("expected a torch tensor of shape {shape}, got {got}", shape=shape, got=type(got).__name__)
    if got.shape != expected.shape:
        return tr("wrong shape: expected {expected}, got {got}", expected=shape, got=list(got.shape))
    g, e = _as_double(got), _as_double(expected)
    if not expected.is_floating_point():
        wrong = (g != e).nonzero()
        if not len(wrong):
            return None
        return tr("{n} entries differ, first at {at}", n=len(wrong), at=tuple(wrong[0].tolist()))
    nan = (g.isnan() & ~e.isnan()).nonzero()
    if len(nan):
        return tr(
            "your result has {n} NaN entries (first at index {at})", n=len(nan), at=tuple(nan[0].tolist())
        )
    if torch.allclose(g, e, atol=atol, rtol=rtol, equal_nan=True):
        return None
    diff = (g - e).abs().nan_to_num(nan=math.inf)
    at = tuple(int(i) for i in np.unravel_index(int(diff.argmax()), diff.shape))
    return tr(
        "max absolute difference {diff:.3g} at index {at}: yours {yours:.6g}, expected {expected:.6g} "
        "(tolerance atol={atol:g}, rtol={rtol:g})",
        diff=diff.max().item(),
        at=at,
        yours=g[at].item(),
        expected=e[at].item(),
        atol=atol,
        rtol=rtol,
    )


def _compare_float(got: Any, expected: float, atol: float, rtol: float) -> str | None:
    if isinstance(got, Tensor) and got.numel() == 1:
        got = got.item()
    if isinstance(got, bool) or not isinstance(got, (int, float, np.number)):
        return tr("expected a number, got {got}", got=_show(got))
    if math.isclose(float(got), expected, rel_tol=rtol, abs_tol=atol):
        return None
    return tr(
        "expected {expected:.6g}, got {got:.6g} "
        "(difference {diff:.3g}; tolerance atol={atol:g}, rtol={rtol:g})",
        expected=expected,
        got=float(got),
        diff=abs(float(got) - expected),
        atol=atol,
        rtol=rtol,
    )


def _compare_exact(got: Any, expected: Any) -> str | None:
    if isinstance(expected, int) and isinstance(got, (int, np.integer)) and not isinstance(got, bool):
        if got == expected:
            return None
        return tr(
            "expected {expected:,}, got {got:,} (off by {off:+,})",
            expected=expected,
            got=got,
            off=got - expected,
        )
    if type(got) is not type(expected) and not (isinstance(expected, dict) and isinstance(got, dict)):
        return tr(
            "expected {expected_type} {expected}, got {got_type} {got}",
            expected_type=type(expected).__name__,
            expected=_show(expected),
            got_type=type(got).__name__,
            got=_show(got),
        )
    if got == expected:
        return None
    if isinstance(expected, dict):
        keys = [k for k in {**expected, **got} if got.get(k) != expected.get(k)]
        wrong = "; ".join(
            tr("{key}: yours {yours}, expected {expected}", key=k, yours=got.get(k), expected=expected.get(k))
            for k in keys[:3]
        )
        if len(keys) > 3:
            return tr("they differ at {where} (and {n} more)", where=wrong, n=len(keys) - 3)
        return tr("they differ at {where}", where=wrong)
    returned = tr("returned {got}, expected {expected}", got=_show(got), expected=_show(expected))
    if isinstance(expected, list) and len(got) == len(expected):
        i = next(i for i, (g, e) in enumerate(zip(got, expected)) if g != e)
        return tr(
            "{returned}; first difference at index {i}: yours {yours}, expected {expected}",
            returned=returned,
            i=i,
            yours=_show(got[i]),
            expected=_show(expected[i]),
        )
    if isinstance(expected, list):
        return tr("{returned} ({n} items instead of {m})", returned=returned, n=len(got), m=len(expected))
    return returned


def _where(exc: BaseException) -> str:
    """Where in the learner's code an exception came from: the deepest frame outside torch and here."""
    skip = (os.path.dirname(torch.__file__), os.path.abspath(__file__))
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(skip)]
    if not frames:
        return ""
    f = frames[-1]
    if f.line:
        return tr("\n  in {function}, line {line}: {code}", function=f.name, line=f.lineno, code=f.line)
    return tr(" (in {function}, line {line})", function=f.name, line=f.lineno)


def _run(
    name: str, fn: Any, cases: list[Case], atol=1e-5, rtol=1e-4, extra=None, show_call=None
) -> CheckResult:
    """Call ``fn`` on every case (on copies, so it may modify its inputs) and compare; the first
    failing case becomes the message, with the exercise's first hint. ``extra(got)`` may add a requirement
    of its own; ``show_call(case)`` words the call in the message (default: the name and its arguments)."""
    n = len(cases)
    if not callable(fn):
        return CheckResult(name, False, n, message("check_not_a_function", name=name, got=_show(fn)))
    for i, case in enumerate(cases, 1):
        call = show_call(case) if show_call else f"{name}({', '.join(_show(a) for a in case.args)})"
        try:
            got = fn(*copy.deepcopy(case.args))
        except NotYet as exc:
            problem = str(exc)
        except NotImplementedError:
            problem = tr("not written yet: your function raises NotImplementedError")
        except Exception as exc:  # the learner's bug, reported as a hint rather than a traceback
            problem = tr(
                "your function raised {error}: {detail}{where}",
                error=type(exc).__name__,
                detail=exc,
                where=_where(exc),
            )
        else:
            problem = _compare(got, case.expected, atol, rtol) or (extra(got) if extra else None)
        if problem:
            hint = tr(HINTS[name])
            text = message("check_not_yet", name=name, i=i, n=n, call=call, problem=problem, hint=hint)
            if name in SHAPE_HINTS:
                text += "\n" + message("check_more_hint", name=name)
            return CheckResult(name, False, n, text, i)
    return CheckResult(name, True, n, message("check_correct", name=name, n=n))


def hint(name: str) -> None:
    """Print the second hint of exercise ``name``, the shape of the code (the first is in its check's
    answer; the whole answer only in the folded solution)."""
    if name not in SHAPE_HINTS:
        raise KeyError(
            tr("no second hint for {name!r}; there is one for {names}", name=name, names=sorted(SHAPE_HINTS))
        )
    print(tr(SHAPE_HINTS[name]))


def assert_close(name: str, mine: Any, real: Any, atol: float = 1e-5, rtol: float = 1e-4) -> None:
    """Stop with the difference when a hand-built result differs from the real one; else say it matches.

    ``mine`` and ``real`` are tensors (or tuples of them, numbers, lists). Shapes must agree exactly.
    """
    problem = _compare(mine, real, atol, rtol)
    if problem:
        raise AssertionError(message("does_not_match", name=name, problem=problem))
    pairs = list(zip(mine, real)) if isinstance(real, tuple) else [(mine, real)]
    if all(isinstance(r, (Tensor, float)) for _, r in pairs):
        diff = max(float((_as_double(m) - _as_double(r)).abs().max()) for m, r in pairs)
        print(message("matches", name=name, diff=diff))
    else:
        print(message("matches_exactly", name=name))
