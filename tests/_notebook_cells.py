"""Reading and running a notebook's cells by id, for the course tests that execute a lesson's cells."""

from __future__ import annotations

import nbformat

from lmhelpers.language import N_, message, tr

# What a notebook's first cells import for every later cell: the learner's-language lookups.
IMPORTED_EARLIER = {"tr": tr, "N_": N_, "message": message}


def notebook_namespace(**names) -> dict:
    """A namespace to run a lesson's cells in, holding what its earlier cells imported, and ``names``."""
    return {**IMPORTED_EARLIER, **names}


def cell(nb: nbformat.NotebookNode, cell_id: str) -> nbformat.NotebookNode:
    """The cell of ``nb`` with this id (StopIteration when the notebook lost it)."""
    return next(c for c in nb.cells if c.get("id") == cell_id)


def run_cells(
    nb: nbformat.NotebookNode, ids: list[str], namespace: dict, replace: tuple[str, str] | None = None
) -> dict:
    """Execute the cells ``ids`` in ``namespace``; ``replace`` edits the source first (a deliberate bug)."""
    for name, value in IMPORTED_EARLIER.items():
        namespace.setdefault(name, value)
    for cell_id in ids:
        source = cell(nb, cell_id).source
        if replace and replace[0] in source:
            source = source.replace(*replace)
        exec(compile(source, cell_id, "exec"), namespace)
    return namespace
