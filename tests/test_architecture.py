"""The package's layout keeps explaining itself: layers run one way, modules stay small and say what
they are for (docs/architecture.md)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "lmhelpers"
MODULES = sorted(p for p in PACKAGE.glob("*.py") if p.name != "__main__.py")
ABOVE_THE_NOTEBOOKS = {"batch", "sweep", "cli"}  # cli -> sweep -> batch -> notebooks -> library
MAX_MODULE_LINES = 420
MAX_FUNCTION_LINES = 80


def _imports(path: Path) -> set[str]:
    """The lmhelpers modules ``path`` imports (relative or absolute), at module level or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(a.name for a in node.names)
            elif node.module and node.module.startswith("lmhelpers."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("lmhelpers."))
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_nothing_below_batch_imports_the_layers_above(path):
    layer_order = ["cli", "sweep", "batch"]
    allowed = set(layer_order[layer_order.index(path.stem) + 1 :]) if path.stem in layer_order else set()
    upward = (_imports(path) & ABOVE_THE_NOTEBOOKS) - allowed - {path.stem}
    if path.stem == "__init__":
        upward = set()  # the lazy re-export table names every module without importing it
    assert not upward, f"{path.name} imports {sorted(upward)}, a layer above it"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_no_module_starts_the_packages_own_command_line(path):
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"""["']-m["'],\s*["']lmhelpers["']""", text), path.name
    assert "cli.main(" not in text and (path.stem == "cli" or "from .cli import" not in text), path.name


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_modules_are_small_and_say_what_they_are_for(path):
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_MODULE_LINES, f"{path.name}: more than one concern?"
    doc = ast.get_docstring(ast.parse(text))
    assert doc and len(doc.splitlines()[0]) > 20, f"{path.name} needs a first line saying what it is for"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_functions_stay_short_unless_a_comment_says_why(path):
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                header = "\n".join(lines[node.lineno - 3 : node.lineno + 3])
                assert "long because" in header, f"{path.name}:{node.lineno} {node.name} has {length} lines"


def test_every_module_is_on_the_map():
    """docs/architecture.md names every module (the bench* family together), so a newcomer finds it."""
    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    names = {p.stem for p in MODULES if not p.stem.startswith("_")}
    missing = {n for n in names if f"`{n}`" not in doc and not (n.startswith("bench") and "`bench*`" in doc)}
    assert not missing, f"add a line for {sorted(missing)} to docs/architecture.md"


def _circle(graph: dict[str, set[str]]) -> list[str]:
    """One import circle of ``graph`` (module -> modules it imports) as [a, b, ..., a]; [] when none."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str]:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return []
        for nxt in sorted(graph.get(node, ())):
            found = visit(nxt, path + [node])
            if found:
                return found
        done.add(node)
        return []

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return []


def test_no_import_circle_in_the_package():
    """Layers hold without exceptions: no module imports, even lazily inside a function, one that imports
    it back, directly or round a longer circle (the package's __init__ only names modules lazily)."""
    graph = {p.stem: _imports(p) - {p.stem} for p in MODULES if p.stem != "__init__"}
    assert _circle(graph) == []


def test_a_circle_is_found_however_long():
    assert _circle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert _circle({"language": {"plots"}, "plots": {"language"}}) == ["language", "plots", "language"]
    assert _circle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) == []
