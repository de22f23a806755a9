"""Command line: ``python -m lmhelpers train|compare|evaluate|series|sweep|collect|bench`` (also installed as ``lmhelpers``).

Settings come from a preset plus ``--set name=value`` overrides, the same names the notebooks'
parameters cells and ``make_config`` use.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .config import ARCHES, DEFAULT_PRESET, ConfigError, make_config, preset_names
from .language import message, tr


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """``["n_layer=2", "learning_rate=1e-3"]`` -> typed values (YAML scalars: ints, floats, bools, null)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(tr("--set expects name=value, got {pair!r}", pair=pair))
        key, raw = pair.split("=", 1)
        value = yaml.safe_load(raw) if raw else ""
        if isinstance(value, str) and _looks_numeric(raw):  # YAML reads 3e-4 as a string
            value = float(raw)
        out[key.strip()] = value
    return out


def _looks_numeric(raw: str) -> bool:
    try:
        float(raw)
        return True
    except ValueError:
        return False


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--preset",
        default=DEFAULT_PRESET,
        choices=preset_names(),
        help=tr("named settings (default: {preset})", preset=DEFAULT_PRESET),
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=tr("override one setting, e.g. --set max_iters=200 (repeatable)"),
    )
    p.add_argument(
        "--data-dir", default=None, help=tr("folder holding tinyshakespeare.txt (else $LMHELPERS_DATA_DIR)")
    )
    p.add_argument("--out", default="runs/latest", help=tr("output folder (default: runs/latest)"))
    _resume_flags(p)
    p.add_argument("--no-progress", action="store_true", help=tr("no progress bars"))


def _resume_flags(p: argparse.ArgumentParser) -> None:
    """The resume rule of lmhelpers.resume: continue a compatible checkpoint by default."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--resume",
        action="store_const",
        const="auto",
        dest="resume",
        default="auto",
        help=tr("continue from the run's checkpoint when there is one (the default)"),
    )
    group.add_argument(
        "--restart",
        action="store_const",
        const="restart",
        dest="resume",
        help=tr("start over: an earlier run in the output folder is moved aside (never deleted) first"),
    )
    group.add_argument(
        "--change-settings",
        action="store_const",
        const="change-settings",
        dest="resume",
        help=tr(
            "continue the run's checkpoint with other training settings (--set learning_rate=...); its record "
            "then lists which settings held over which steps"
        ),
    )


def build_parser() -> argparse.ArgumentParser:
    description = tr(
        "Command line: python -m lmhelpers train|compare|evaluate|series|sweep|collect|bench (also installed as "
        "lmhelpers)."
    )
    parser = argparse.ArgumentParser(prog="lmhelpers", description=description)
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help=tr("train one model and write its run record"))
    _common(train)
    train.add_argument("--arch", default="transformer", choices=ARCHES)
    compare = sub.add_parser("compare", help=tr("train several models on the same data and compare them"))
    _common(compare)
    compare.add_argument("--arch", nargs="+", default=["lstm", "transformer"], choices=ARCHES)
    _series_parser(sub)
    sweep = sub.add_parser("sweep", help=tr("run a sweep file of notebook runs, then collect the results"))
    sweep.add_argument("file", help=tr("sweep YAML (see sweeps/ for examples)"))
    sweep.add_argument("-j", "--jobs", type=int, default=1, help=tr("runs at a time (default 1)"))
    sweep.add_argument("--out", default="runs/sweep", help=tr("output folder (default: runs/sweep)"))
    sweep.add_argument("--redo", action="store_true", help=tr("run again the runs already finished"))
    collect = sub.add_parser("collect", help=tr("table and plots from every run record under a folder"))
    collect.add_argument("dir", help=tr("folder holding runs (record.json files anywhere below)"))
    collect.add_argument("--out", default=None, help=tr("where to write results.* (default: DIR)"))
    evaluate = sub.add_parser("evaluate", help=tr("score a saved run on its whole validation text"))
    evaluate.add_argument("path", help=tr("a checkpoint, or a run folder (or record.json) that names one"))
    evaluate.add_argument("--json", default=None, metavar="FILE", help=tr("also write the figures as JSON"))
    evaluate.add_argument("--device", default="auto", help=tr("auto | cpu | cuda | mps (default: auto)"))
    evaluate.add_argument(
        "--data-dir", default=None, help=tr("folder holding tinyshakespeare.txt (else $LMHELPERS_DATA_DIR)")
    )
    from .bench import add_parser as _bench_parser

    _bench_parser(sub)
    return parser


def _series_parser(sub) -> None:
    series = sub.add_parser("series", help=tr("execute notebooks 00-04 with papermill and summarise them"))
    series.add_argument(
        "--preset",
        default=DEFAULT_PRESET,
        choices=preset_names(),
        help=tr("named settings (default: {preset})", preset=DEFAULT_PRESET),
    )
    series.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help=tr("a notebook parameter (arch=gru, max_iters=200) or any setting (n_layer=2); repeatable"),
    )
    series.add_argument("--out", default="runs/series", help=tr("output folder (default: runs/series)"))
    series.add_argument(
        "--data-dir", default=None, help=tr("folder holding tinyshakespeare.txt (else $LMHELPERS_DATA_DIR)")
    )
    _resume_flags(series)
    series.add_argument(
        "--params", default=None, metavar="FILE", help=tr("parameters from a YAML file (as papermill -f)")
    )
    series.add_argument(
        "--notebook",
        dest="notebooks",
        action="append",
        default=None,
        metavar="NB",
        help=tr("run only these notebooks, in order (a path or a name in notebooks/); repeatable"),
    )


def _series(args: argparse.Namespace) -> None:
    """``make run``: the notebooks executed as written, then the summary and where everything is."""
    from .batch import find_notebook, run_series

    if args.data_dir:  # the kernels inherit the environment
        os.environ["LMHELPERS_DATA_DIR"] = str(Path(args.data_dir).resolve())
    from_file = {}
    if args.params:
        from_file = yaml.safe_load(Path(args.params).read_text(encoding="utf-8")) or {}
        if not isinstance(from_file, dict):
            raise ValueError(tr("{file} must hold a mapping of parameter names to values", file=args.params))
    parameters = {"preset": args.preset, **from_file, **parse_overrides(args.overrides)}
    if args.resume != "auto":
        parameters["resume"] = args.resume
    out = Path(args.out).resolve()
    notebooks = [find_notebook(n) for n in args.notebooks] if args.notebooks else None
    results = run_series(out, parameters, notebooks=notebooks)
    summary = out / "summary.md"
    if summary.is_file():
        print("\n" + summary.read_text(encoding="utf-8"))
    print(tr("Results: {out}", out=out))
    print(tr("  executed notebooks: {notebooks}", notebooks=", ".join(r["notebook"] for r in results)))
    print(tr("  figures and run records: one folder per notebook; summary.md and curves.png at the top"))


def _sweep_or_collect(args: argparse.Namespace) -> int:
    """Exit status 1 when any sweep run failed (after the others finished), else 0."""
    from .collect import collect
    from .report import RESULT_COLUMNS, markdown_table
    from .sweep import run_sweep

    failed = []
    if args.command == "sweep":
        results, rows = run_sweep(args.file, args.out, jobs=args.jobs, redo=args.redo)
        failed = [r for r in results if r.status == "failed"]
        counts = {s: sum(r.status == s for r in results) for s in ("done", "skipped", "failed")}
        print(tr("{n} runs: {done} done, {skipped} skipped, {failed} failed", n=len(results), **counts))
        for r in failed:
            print(
                tr("FAILED {name}: {notebook}\n  {error}", name=r.name, notebook=r.notebook, error=r.error),
                file=sys.stderr,
            )
        where = Path(args.out)
    else:
        rows = collect(args.dir, args.out)
        where = Path(args.out or args.dir)
    if rows:
        print(markdown_table(rows, RESULT_COLUMNS))
        print(
            tr("Results: {out} (results.csv, results.md, val_curves.png, tradeoffs.png)", out=where.resolve())
        )
    return 1 if failed else 0


def _train(args: argparse.Namespace, arch: str, prepared=None) -> dict[str, Any]:
    from .experiment import run_experiment

    overrides = parse_overrides(args.overrides)
    overrides["arch"] = arch
    config = make_config(args.preset, **overrides)
    out = Path(args.out) / arch
    if os.environ.get("RANK", "0") == "0":  # under torchrun, rank 0 speaks for all
        print(
            tr("== {arch}: preset {preset}, results in {out}", arch=arch, preset=args.preset, out=out),
            flush=True,
        )
    return run_experiment(
        config,
        out,
        data_dir=args.data_dir,
        resume=args.resume,
        progress=not args.no_progress,
        prepared=prepared,
    )


def _evaluate(args: argparse.Namespace) -> int:
    from .scorecard import score_checkpoint, scorecard_text, write_json

    result = score_checkpoint(args.path, args.data_dir, device=args.device)
    print(scorecard_text(result))
    if args.json:
        print(tr("figures: {path}", path=write_json(result, args.json)))
    return 0


def report(out: Path) -> str:
    """Print the summary (table, reading, samples) that batch.write_summary makes of the runs in ``out``."""
    from .report import write_summary

    text = write_summary(out) or tr("no run records were written")
    print(text)
    print(
        tr(
            "Results: {out} (summary.md, curves.png, one folder per model with record.json)",
            out=out.resolve(),
        )
    )
    return text


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "bench":
            from .bench import main_from_args

            return main_from_args(args)
        if args.command == "evaluate":
            return _evaluate(args)
        if args.command == "series":
            _series(args)
            return 0
        if args.command in ("sweep", "collect"):
            return _sweep_or_collect(args)
        if args.command == "train":
            records = [_train(args, args.arch)]
        else:
            from .device import pick_device
            from .experiment import check_writable, prepare_data

            # One tokenizer and one encoded corpus for every model: a like-for-like comparison.
            config = make_config(args.preset, **parse_overrides(args.overrides))
            check_writable(Path(args.out))  # an unusable output folder or device fails before any work
            pick_device(config.train.device)
            prepared = prepare_data(config, args.data_dir)
            records = [_train(args, arch, prepared) for arch in args.arch]
        if all(r is not None for r in records):  # under torchrun only rank 0 returns records
            report(Path(args.out))
        from .distributed import cleanup

        cleanup()
    except (ConfigError, ValueError, RuntimeError, OSError) as exc:
        print(tr("error: {problem}", problem=exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Ctrl-C: a normal way to stop, said in a sentence, not a traceback
        from .interrupt import TrainingInterrupted

        print(file=sys.stderr)
        if isinstance(exc, TrainingInterrupted) and exc.checkpoint is not None:
            print(
                message("interrupted_cli", step=exc.step, total=exc.total, ckpt=exc.checkpoint),
                file=sys.stderr,
            )
        else:
            print(message("interrupted_cli_nothing_saved"), file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
