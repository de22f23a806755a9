"""Sweeps: many runs of the notebook series from one YAML file, each in a folder and a process of its own.

Every run is a folder holding its executed notebooks, figures and run records, made by
``lmhelpers.batch.run_series`` (what ``make run`` uses) in a worker process of its own, ``jobs`` runs at a
time; a run that fails is reported with the path of its executed notebook without stopping the others. A
finished run leaves ``DONE.json`` with what produced it (parameters, notebook contents); running the sweep
again skips it while that is unchanged. ``redo`` runs it again, moving the earlier run aside first.

Sweep file format::

    notebooks: [02_rnn.ipynb]          # default notebooks for every run, in order
    parameters: {preset: smoke}        # shared by every run
    grid:                              # the cartesian product of these values ...
      arch: [rnn, gru, lstm]
      settings.learning_rate: [1.0e-3, 3.0e-3]   # settings.NAME goes into the `settings` dict
    runs:                              # ... and/or an explicit list of runs
      - {name: gpt, notebooks: [03_transformer.ipynb], parameters: {arch: transformer}}
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .batch import find_notebook, write_worker_parameters
from .language import N_, message, tr

DONE = "DONE.json"
STATUS = {"done": N_("done"), "skipped": N_("skipped"), "failed": N_("failed")}  # a run's status, as shown


class SweepError(ValueError):
    """A sweep file is malformed; the message says what to change."""


@dataclass
class RunSpec:
    name: str
    notebooks: list[Path]
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    name: str
    run_dir: Path
    status: str  # "done" | "skipped" | "failed"
    seconds: float = 0.0
    error: str = ""
    notebook: Path | None = None  # the executed notebook that failed, for the report


def _notebook(name: str, base: Path, sweep_file: Path) -> Path:
    try:
        return find_notebook(name, base)
    except FileNotFoundError as exc:
        raise SweepError(f"{sweep_file}: {exc}") from None


def run_fingerprint(spec: RunSpec) -> dict[str, Any]:
    """What produced a run: its parameters and the notebooks it executed (names and contents). A run
    marked done is skipped only while this is unchanged."""
    return {
        "parameters": spec.parameters,
        "notebooks": {n.name: hashlib.sha256(n.read_bytes()).hexdigest() for n in spec.notebooks},
    }


def _slug(params: dict[str, Any]) -> str:
    text = "-".join(f"{k}={v}" for k, v in params.items()) or "run"
    return re.sub(r"[^A-Za-z0-9_.=+-]+", "_", text)[:120]


def merge_parameters(*layers: dict[str, Any]) -> dict[str, Any]:
    """Later layers win; ``settings.NAME: value`` keys go into the notebooks' ``settings`` dict."""
    out: dict[str, Any] = {}
    for layer in layers:
        for key, value in layer.items():
            if key.startswith("settings."):
                out["settings"] = {**out.get("settings", {}), key.split(".", 1)[1]: value}
            elif key == "settings" and isinstance(value, dict):
                out["settings"] = {**out.get("settings", {}), **value}
            else:
                out[key] = value
    return out


def load_sweep(path: str | os.PathLike) -> list[RunSpec]:
    """Parse a sweep file into run specs (see the module docstring for the format)."""
    path = Path(path)
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SweepError(tr("cannot read sweep file {path}: {problem}", path=path, problem=exc)) from exc
    if not isinstance(spec, dict):
        raise SweepError(
            tr("{path}: a sweep file is a mapping with notebooks, parameters, grid and/or runs", path=path)
        )
    unknown = set(spec) - {"notebooks", "parameters", "grid", "runs", "description"}
    if unknown:
        text = tr(
            "{path}: unknown keys {unknown}; use notebooks, parameters, grid, runs",
            path=path,
            unknown=sorted(unknown),
        )
        raise SweepError(text)
    base = path.parent
    default_nbs = spec.get("notebooks") or []
    shared = spec.get("parameters") or {}
    grid = spec.get("grid") or {}
    if not isinstance(grid, dict) or not all(isinstance(v, list) and v for v in grid.values()):
        raise SweepError(tr("{path}: grid maps each parameter to a non-empty list of values", path=path))
    runs: list[RunSpec] = []
    if grid:
        keys = list(grid)
        for values in itertools.product(*(grid[k] for k in keys)):
            point = dict(zip(keys, values))
            runs.append(
                RunSpec(
                    _slug(point),
                    [_notebook(n, base, path) for n in default_nbs],
                    merge_parameters(shared, point),
                )
            )
    for i, run in enumerate(spec.get("runs") or []):
        if not isinstance(run, dict):
            text = tr(
                "{path}: runs[{i}] must be a mapping with name, notebooks and/or parameters", path=path, i=i
            )
            raise SweepError(text)
        params = merge_parameters(shared, run.get("parameters") or {})
        nbs = run.get("notebooks") or default_nbs
        runs.append(
            RunSpec(
                str(run.get("name") or _slug(run.get("parameters") or {})),
                [_notebook(n, base, path) for n in nbs],
                params,
            )
        )
    if not runs:
        raise SweepError(tr("{path}: no runs; give a grid or a runs list", path=path))
    for r in runs:
        if not r.notebooks:
            text = tr(
                "{path}: run {name!r} names no notebooks; add a top-level notebooks list",
                path=path,
                name=r.name,
            )
            raise SweepError(text)
    names = [r.name for r in runs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SweepError(tr("{path}: run names must be unique, repeated: {dupes}", path=path, dupes=dupes))
    return runs


def execute_run(
    spec: RunSpec, run_dir: Path, threads: int | None = None, restart: bool = False
) -> subprocess.CompletedProcess:
    """Run one sweep point with ``lmhelpers.batch``'s worker (``run_series``, as ``make run`` does) in
    a process of its own, logging to ``run_dir/run.log``. ``restart`` moves an earlier run aside first
    (see :mod:`lmhelpers.resume`); otherwise an unfinished run of the same settings is continued."""
    parameters = {**spec.parameters, "resume": "restart"} if restart else spec.parameters
    write_worker_parameters(run_dir, spec.notebooks, parameters)
    env = dict(os.environ)
    if threads:
        # Parallel runs must share the cores: torch's default of one thread per core in every process
        # oversubscribes them, and OpenMP spin-waiting then slows everything down many times over.
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    cmd = [sys.executable, "-m", "lmhelpers.batch", str(run_dir)]
    with open(run_dir / "run.log", "w", encoding="utf-8") as log:
        return subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, check=False)


def _run_one(spec: RunSpec, out_dir: Path, redo: bool, threads: int | None) -> RunResult:
    run_dir = (out_dir / spec.name).resolve()
    done = run_dir / DONE
    fingerprint = run_fingerprint(spec)
    if done.is_file() and not redo:
        try:
            if json.loads(done.read_text())["fingerprint"] == fingerprint:
                return RunResult(spec.name, run_dir, "skipped")
        except (ValueError, KeyError):
            pass  # a damaged or older marker: run again
    done.unlink(missing_ok=True)
    tic = time.perf_counter()
    proc = execute_run(spec, run_dir, threads, restart=redo and run_dir.exists())
    seconds = time.perf_counter() - tic
    if proc.returncode != 0:
        error = _failure_summary(run_dir / "run.log")
        # papermill writes the executed copy even when a cell fails: the last one written is the culprit.
        written = [run_dir / nb.name for nb in spec.notebooks if (run_dir / nb.name).is_file()]
        failed = written[-1] if written else None
        return RunResult(spec.name, run_dir, "failed", seconds, error, failed or run_dir / "run.log")
    done.write_text(
        json.dumps(
            {"fingerprint": fingerprint, "seconds": seconds},
            indent=2,
        ),
        encoding="utf-8",
    )
    return RunResult(spec.name, run_dir, "done", seconds)


def _failure_summary(log: Path) -> str:
    """The exception line papermill logged, so the report says what went wrong, not just that it did."""
    try:
        lines = [ln.strip() for ln in log.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except OSError:
        return tr("see the executed notebook")
    said = tr(
        "error: {problem}", problem=""
    ).strip()  # how the worker starts its error line, in this language
    errors = [
        ln
        for ln in lines
        if ln.startswith(("error:", said)) or re.match(r"^[A-Za-z_.]*(Error|Exception)\b", ln)
    ]
    return (errors or lines or [tr("see the executed notebook")])[-1][:500]


def run_specs(
    specs: list[RunSpec], out_dir: str | os.PathLike, jobs: int = 1, redo: bool = False, echo: bool = True
) -> list[RunResult]:
    """Execute runs, ``jobs`` at a time; failures are collected, never raised."""
    if jobs < 1:
        raise SweepError(tr("jobs={jobs} must be >= 1", jobs=jobs))
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    threads = max(1, (os.cpu_count() or 1) // jobs) if jobs > 1 else None

    def one(spec: RunSpec) -> RunResult:
        result = _run_one(spec, out_dir, redo, threads)
        if echo:
            extra = f" ({message('seconds', n=result.seconds)})" if result.status == "done" else ""
            where = f": {result.notebook} - {result.error}" if result.status == "failed" else ""
            print(f"[{tr(STATUS[result.status])}] {spec.name}{extra}{where}", flush=True)
        return result

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        return list(pool.map(one, specs))


def run_sweep(
    path: str | os.PathLike, out_dir: str | os.PathLike, jobs: int = 1, redo: bool = False
) -> tuple[list[RunResult], list[dict[str, Any]]]:
    """Load a sweep file, run what is not finished yet, then collect every record under ``out_dir``."""
    from .collect import collect
    from .runlock import holding

    specs = load_sweep(path)
    with holding(out_dir):  # one sweep per folder at a time; each run's series holds its own folder
        results = run_specs(specs, out_dir, jobs=jobs, redo=redo)
    try:
        rows = collect(out_dir)
    except FileNotFoundError:
        rows = []
    return results, rows
