"""Command line: ``python -m lmhelpers train|compare`` (also installed as ``lmhelpers``).

Settings come from a preset plus ``--set name=value`` overrides, the same names the notebooks'
parameters cells and ``make_config`` use.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from .config import ARCHES, ConfigError, make_config, preset_names


def parse_overrides(pairs: Sequence[str]) -> dict[str, Any]:
    """``["n_layer=2", "learning_rate=1e-3"]`` -> typed values (YAML scalars: ints, floats, bools, null)."""
    out: dict[str, Any] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ConfigError(f"--set expects name=value, got {pair!r}")
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
    p.add_argument("--preset", default="cpu", choices=preset_names(), help="named settings (default: cpu)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override one setting, e.g. --set max_iters=200 (repeatable)",
    )
    p.add_argument(
        "--data-dir", default=None, help="folder holding tinyshakespeare.txt (else $LMHELPERS_DATA_DIR)"
    )
    p.add_argument("--out", default="runs/latest", help="output folder (default: runs/latest)")
    p.add_argument("--resume", action="store_true", help="continue from the run's checkpoint if there is one")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lmhelpers", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    train = sub.add_parser("train", help="train one model and write its run record")
    _common(train)
    train.add_argument("--arch", default="transformer", choices=ARCHES)
    compare = sub.add_parser("compare", help="train several models on the same data and compare them")
    _common(compare)
    compare.add_argument("--arch", nargs="+", default=["lstm", "transformer"], choices=ARCHES)
    return parser


def _train(args: argparse.Namespace, arch: str, prepared=None) -> dict[str, Any]:
    from .experiment import run_experiment

    overrides = parse_overrides(args.overrides)
    overrides["arch"] = arch
    config = make_config(args.preset, **overrides)
    out = Path(args.out) / arch
    print(f"== {arch}: preset {args.preset}, results in {out}", flush=True)
    return run_experiment(
        config,
        out,
        data_dir=args.data_dir,
        resume=args.resume,
        progress=not args.no_progress,
        prepared=prepared,
    )


def report(records: list[dict[str, Any]], out: Path) -> str:
    """Print and save the comparison table, samples and the shared curves figure."""
    import matplotlib.pyplot as plt

    from .plots import comparison_rows, markdown_table, plot_curves

    table = markdown_table(comparison_rows(records))
    lines = [table, ""]
    for rec in records:
        s = rec["samples"][0]
        lines += [f"### {rec['name']} (temperature {s['temperature']})", "", "```", s["text"], "```", ""]
    text = "\n".join(lines)
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.md").write_text(text, encoding="utf-8")
    plt.close(plot_curves(records, out / "curves.png"))
    print(text)
    print(f"Results: {out.resolve()} (summary.md, curves.png, one folder per model with record.json)")
    return text


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "train":
            records = [_train(args, args.arch)]
        else:
            from .experiment import prepare_data

            # One tokenizer and one encoded corpus for every model: a like-for-like comparison.
            config = make_config(args.preset, **parse_overrides(args.overrides))
            prepared = prepare_data(config, args.data_dir)
            records = [_train(args, arch, prepared) for arch in args.arch]
        report(records, Path(args.out))
    except (ConfigError, ValueError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
