"""Run the notebook series in batch with papermill: the notebooks are the experiment, executed as written.

``run_series`` executes notebooks 00-04 in order into one folder. Each notebook gets only the parameters
it declares (papermill would otherwise inject unknown names and just warn), with ``run_dir`` pointing
into that folder so every figure and record lands beside the executed notebooks. A config setting that
no notebook declares (``n_layer``, ``learning_rate``) goes into the ``settings`` parameter of every
notebook that has one, so ``--set n_layer=2`` works as on the ``train`` command.

While a notebook runs, its evaluation lines (``step 200/2,000 | ... | ~1 min left``) are echoed to the
terminal, so ``make run`` is never silent for minutes; everything else stays in the executed notebook.

``python -m lmhelpers.batch RUN_DIR`` is the worker a sweep starts for each run in a process of its
own: it runs ``RUN_DIR/parameters.yaml`` (notebooks and parameters) into ``RUN_DIR``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .config import SETTINGS
from .language import speaking, tr
from .notebook import NOTEBOOKS
from .progress import EVAL_LINE
from .report import write_summary
from .runlock import FolderInUse, holding

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
DEFAULT_KERNEL = "python3"
WORKER_PARAMETERS = "parameters.yaml"  # what the worker runs: {notebooks: [...], parameters: {...}}


class NotebookFailed(RuntimeError):
    """A notebook raised; ``executed`` is the executed copy, which shows the failing cell and traceback."""

    def __init__(self, message: str, executed: Path):
        super().__init__(message)
        self.executed = executed


def find_notebook(name: str | os.PathLike, base: Path | None = None) -> Path:
    """A notebook by path, relative to ``base`` (e.g. a sweep file's folder), or by name in the
    notebooks/ folder beside it (a checkout's sweeps/ and notebooks/) or of this package's checkout."""
    base = base or Path.cwd()
    for candidate in (Path(name), base / name, base.parent / "notebooks" / name, NOTEBOOKS_DIR / name):
        if candidate.is_file():
            return candidate.resolve()
    known = sorted(p.name for p in NOTEBOOKS_DIR.glob("*.ipynb"))
    raise FileNotFoundError(
        tr("notebook {name!r} not found; give a path or one of {known}", name=str(name), known=known)
    )


def series_notebooks(folder: str | os.PathLike | None = None) -> list[Path]:
    """Notebooks 00-04 of the checkout (or of ``folder``), in order."""
    folder = Path(folder) if folder is not None else NOTEBOOKS_DIR
    paths = [folder / name for name in NOTEBOOKS]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            tr(
                "notebooks not found: {missing}. run_series runs the notebooks of a checkout of the repository; "
                "pass notebooks=[...] to run others.",
                missing=missing,
            )
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
            tr(
                "unknown parameters {unknown}: not declared by any notebook of the series ({declared}) and not "
                "config settings ({settings})",
                unknown=unknown,
                declared=sorted(known),
                settings=list(SETTINGS),
            )
        )
    routed = []
    for names in declared:
        own = {k: v for k, v in parameters.items() if k in names}
        if extra and "settings" in names:
            own["settings"] = {**(own.get("settings") or {}), **extra}
        routed.append(own)
    return routed


class _EchoProgress:
    """A papermill ``stdout_file``: passes the evaluation lines of the kernel's output to the terminal,
    prefixed with the notebook's name, and drops the rest (it stays in the executed notebook)."""

    def __init__(self, name: str, echo: Callable[[str], None]):
        self.name, self.echo, self.partial = name, echo, ""

    def write(self, text: str) -> None:
        lines = (self.partial + text).split("\n")
        self.partial = lines.pop()
        for line in lines:
            if EVAL_LINE.match(line):
                self.echo(f"  {self.name}: {line}")

    def flush(self) -> None:
        pass


def run_notebook(
    notebook: str | os.PathLike,
    executed: str | os.PathLike,
    parameters: dict[str, Any],
    kernel_name: str | None = None,
    echo: Callable[[str], None] | None = None,
) -> float:
    """Execute one notebook with papermill into ``executed``; seconds taken. Raises NotebookFailed.

    The kernel starts in the notebook's folder, as under Jupyter and nbmake. ``echo`` receives the
    notebook's evaluation lines while it runs.
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
            stdout_file=_EchoProgress(notebook.stem, echo) if echo else None,
        )
    except PapermillExecutionError as exc:
        problem = f"{exc.ename}: {exc.evalue}"
        raise NotebookFailed(
            tr(
                "{notebook} failed ({problem}); the executed notebook with the traceback is {executed}",
                notebook=notebook.name,
                problem=problem,
                executed=executed,
            ),
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
    failure stops the series with a NotebookFailed naming its executed notebook. The series holds
    ``out_dir`` while it runs: a second series into it stops at once (FolderInUse).
    """
    out = Path(out_dir).resolve()
    if "run_dir" in parameters:
        raise ValueError(tr("run_dir is set by run_series (it is out_dir); do not pass it as a parameter"))
    paths = [Path(p).resolve() for p in notebooks] if notebooks is not None else series_notebooks()
    declared = [declared_parameters(p) for p in paths]
    routed = route_parameters(parameters, declared)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    with holding(out, log=log):  # one series per folder at a time (lmhelpers.runlock)
        for i, (path, names, params) in enumerate(zip(paths, declared, routed), 1):
            if "run_dir" in names:
                params["run_dir"] = str(out)
            executed = out / path.name
            if log:
                log(f"[{i}/{len(paths)}] {path.name} -> {executed}")
            seconds = run_notebook(path, executed, params, kernel_name, echo=_flushed(log) if log else None)
            if log:
                log(
                    tr(
                        "[{i}/{n}] {notebook} done in {seconds:.1f} s",
                        i=i,
                        n=len(paths),
                        notebook=path.name,
                        seconds=seconds,
                    )
                )
            results.append(
                {"notebook": path.name, "executed": executed, "parameters": params, "seconds": seconds}
            )
        with speaking(parameters.get("language")):  # the summary in the notebooks' language, only it
            write_summary(out, results)
        _write_series_record(out, parameters, results)
    return results


def _write_series_record(out: Path, parameters: dict[str, Any], results: Sequence[dict[str, Any]]) -> None:
    """``series.json``: what ran, with which parameters, how long each notebook took, and on what CPU
    (docs/measured.json and the notebooks' "what you will see" tables are made from it)."""
    import json
    import platform

    from .device import cpu_name

    record = {
        "parameters": parameters,
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "notebooks": {r["notebook"]: round(r["seconds"], 1) for r in results},
        "total_seconds": round(sum(r["seconds"] for r in results), 1),
    }
    (out / "series.json").write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")


def _flushed(log: Callable[[str], None]) -> Callable[[str], None]:
    def echo(line: str) -> None:
        log(line)
        sys.stdout.flush()

    return echo


def write_worker_parameters(run_dir: Path, notebooks: Sequence[Path], parameters: dict[str, Any]) -> Path:
    """What :func:`worker_main` will run in ``run_dir``, as YAML (kept there as a record of the run)."""
    import yaml

    run_dir.mkdir(parents=True, exist_ok=True)
    spec = {"notebooks": [str(n) for n in notebooks], "parameters": parameters}
    path = run_dir / WORKER_PARAMETERS
    path.write_text(yaml.safe_dump(spec, sort_keys=True, allow_unicode=True), encoding="utf-8")
    return path


def worker_main(argv: Sequence[str]) -> int:
    """``python -m lmhelpers.batch RUN_DIR``: run the series that ``RUN_DIR/parameters.yaml`` describes."""
    import yaml

    if len(argv) != 1:
        print("usage: python -m lmhelpers.batch RUN_DIR (holding parameters.yaml)", file=sys.stderr)
        return 2
    run_dir = Path(argv[0]).resolve()
    spec = yaml.safe_load((run_dir / WORKER_PARAMETERS).read_text(encoding="utf-8"))
    try:
        run_series(run_dir, spec["parameters"], notebooks=spec["notebooks"])
    except (NotebookFailed, FolderInUse, ValueError, OSError) as exc:
        print(tr("error: {problem}", problem=exc), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
