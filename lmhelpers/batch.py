"""Run the notebook series in batch with papermill: the notebooks are the experiment, executed as written.

``run_series`` executes notebooks 00-04 in order into one folder. Each notebook gets only the parameters
it declares (papermill would otherwise inject unknown names and just warn), with ``run_dir`` pointing
into that folder so every figure and record lands beside the executed notebooks. A config setting that
no notebook declares (``n_layer``, ``learning_rate``) goes into the ``settings`` parameter of every
notebook that has one, so ``--set n_layer=2`` works as on the ``train`` command.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from .config import DataConfig, ModelConfig, TrainConfig
from .notebook import NOTEBOOKS

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
DEFAULT_KERNEL = "python3"
SETTINGS = frozenset(f.name for cls in (DataConfig, ModelConfig, TrainConfig) for f in fields(cls))


class NotebookFailed(RuntimeError):
    """A notebook raised; ``executed`` is the executed copy, which shows the failing cell and traceback."""

    def __init__(self, message: str, executed: Path):
        super().__init__(message)
        self.executed = executed


def series_notebooks(folder: str | os.PathLike | None = None) -> list[Path]:
    """Notebooks 00-04 of the checkout (or of ``folder``), in order."""
    folder = Path(folder) if folder is not None else NOTEBOOKS_DIR
    paths = [folder / name for name in NOTEBOOKS]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"notebooks not found: {missing}. run_series runs the notebooks of a checkout of the "
            "repository; pass notebooks=[...] to run others."
        )
    return paths


def declared_parameters(notebook: str | os.PathLike) -> dict[str, Any]:
    """The parameters a notebook declares in its ``parameters`` cell, with their defaults."""
    import papermill

    return {name: p["default"] for name, p in papermill.inspect_notebook(str(notebook)).items()}


def route_parameters(parameters: dict[str, Any], declared: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Split ``parameters`` into what each notebook receives (one dict per entry of ``declared``).

    A name some notebook declares goes to the notebooks that declare it; a config setting no notebook
    declares goes into ``settings``; anything else is a mistake and raises a ValueError naming it.
    """
    known = set().union(*declared) if declared else set()
    extra = {k: v for k, v in parameters.items() if k not in known}
    unknown = sorted(k for k in extra if k.split(".")[-1] not in SETTINGS)
    if unknown:
        raise ValueError(
            f"unknown parameters {unknown}: not declared by any notebook of the series "
            f"({sorted(known)}) and not config settings ({sorted(SETTINGS)})"
        )
    routed = []
    for names in declared:
        own = {k: v for k, v in parameters.items() if k in names}
        if extra and "settings" in names:
            own["settings"] = {**(own.get("settings") or {}), **extra}
        routed.append(own)
    return routed


def run_notebook(
    notebook: str | os.PathLike,
    executed: str | os.PathLike,
    parameters: dict[str, Any],
    kernel_name: str | None = None,
) -> float:
    """Execute one notebook with papermill into ``executed``; seconds taken. Raises NotebookFailed.

    The kernel starts in the notebook's folder, as under Jupyter and nbmake.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    notebook, executed = Path(notebook), Path(executed)
    executed.parent.mkdir(parents=True, exist_ok=True)
    tic = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=parameters,
            kernel_name=kernel_name or DEFAULT_KERNEL,
            progress_bar=False,
            cwd=str(notebook.parent),
            # Keeps ipykernel's start-up warnings (e.g. about TCP without encryption on a local kernel)
            # out of the console; errors still show.
            extra_arguments=["--IPKernelApp.log_level=ERROR"],
        )
    except PapermillExecutionError as exc:
        raise NotebookFailed(
            f"{notebook.name} failed ({exc.ename}: {exc.evalue}); the executed notebook with the "
            f"traceback is {executed}",
            executed,
        ) from exc
    return time.perf_counter() - tic


def run_series(
    out_dir: str | os.PathLike,
    parameters: dict[str, Any],
    notebooks: Sequence[str | os.PathLike] | None = None,
    kernel_name: str | None = None,
    log: Callable[[str], None] | None = print,
) -> list[dict[str, Any]]:
    """Execute ``notebooks`` (default 00-04) in order into ``out_dir``, then write ``out_dir/summary.md``.

    Returns one dict per notebook: name, executed path, parameters given and seconds taken. The first
    failure stops the series with a NotebookFailed naming its executed notebook.
    """
    out = Path(out_dir).resolve()
    if "run_dir" in parameters:
        raise ValueError("run_dir is set by run_series (it is out_dir); do not pass it as a parameter")
    paths = [Path(p).resolve() for p in notebooks] if notebooks is not None else series_notebooks()
    declared = [declared_parameters(p) for p in paths]
    routed = route_parameters(parameters, declared)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for i, (path, names, params) in enumerate(zip(paths, declared, routed), 1):
        if "run_dir" in names:
            params["run_dir"] = str(out)
        executed = out / path.name
        if log:
            log(f"[{i}/{len(paths)}] {path.name} -> {executed}")
        seconds = run_notebook(path, executed, params, kernel_name)
        if log:
            log(f"[{i}/{len(paths)}] {path.name} done in {seconds:.1f} s")
        results.append(
            {"notebook": path.name, "executed": executed, "parameters": params, "seconds": seconds}
        )
    write_summary(out, results)
    return results


def _shared_sample(records: Sequence[dict[str, Any]]) -> list[dict[str, Any] | None]:
    """One sample per record, taken at a temperature every record has, so they are comparable."""
    temps = [{s["temperature"] for s in r.get("samples", [])} for r in records]
    common = sorted(set.intersection(*temps)) if temps and all(temps) else []
    choice = 0.8 if 0.8 in common else (common[0] if common else None)
    picked = []
    for r in records:
        samples = r.get("samples", [])
        match = [s for s in samples if s["temperature"] == choice] or samples[:1]
        picked.append(match[0] if match else None)
    return picked


def write_summary(out_dir: str | os.PathLike, results: Sequence[dict[str, Any]] = ()) -> str | None:
    """``summary.md`` and ``curves.png`` for the run records under ``out_dir``; the summary text, or None
    when no notebook wrote a record."""
    import matplotlib.pyplot as plt

    from .notebook import describe_comparison
    from .plots import comparison_rows, markdown_table, plot_curves
    from .records import find_records

    out = Path(out_dir)
    records = find_records(out)
    if not records:
        return None
    lines = ["## Results", "", markdown_table(comparison_rows(records)), ""]
    reading = out / "04_comparison" / "reading.md"
    if reading.is_file():
        lines += [reading.read_text(encoding="utf-8").strip(), ""]
    elif len(records) >= 2:
        lines += ["## Reading", "", *[f"- {s}" for s in describe_comparison(records)], ""]
    for rec, s in zip(records, _shared_sample(records)):
        if s is not None:
            lines += [
                f"### {rec['name']}: sample at temperature {s['temperature']}",
                "",
                "```",
                s["text"],
                "```",
                "",
            ]
    if results:
        lines += ["## Notebooks", "", "| notebook | seconds |", "|---|---|"]
        lines += [f"| {r['notebook']} | {r['seconds']:.1f} |" for r in results]
        lines += [f"| total | {sum(r['seconds'] for r in results):.1f} |", ""]
    text = "\n".join(lines)
    (out / "summary.md").write_text(text, encoding="utf-8")
    plt.close(plot_curves(records, out / "curves.png"))
    return text
