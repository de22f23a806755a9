"""The "what you will see" tables at the top of every notebook, made from a recorded run, never typed.

    python tools/what_you_will_see.py measure runs/latest [--sweep runs/cells]  # -> docs/measured.json
    python tools/what_you_will_see.py write                                    # -> the notebooks' tables
    python tools/what_you_will_see.py check                                    # exit 1 where they differ

``measure`` reads a ``make run`` folder (its ``series.json``, the run records and notebook 01's
``tokenizers.json``) and, optionally, a sweep folder, and keeps the figures in ``docs/measured.json``
with the machine they were measured on. ``write`` renders each notebook's table between the markers
``<!-- what-you-will-see -->`` and ``<!-- /what-you-will-see -->`` in its first cell (English notebooks in
notebooks/, Korean ones in notebooks/ko/). tests/test_what_you_will_see.py runs ``check``, so a table can
only change together with the measurements it shows.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import sys
from pathlib import Path

import nbformat
from generated_block import fill

ROOT = Path(__file__).resolve().parents[1]
MEASURED = ROOT / "docs" / "measured.json"
BLOCK = "what-you-will-see"  # the markers around the table in each notebook's first cell
MODELS = ("02_rnn", "03_transformer")

WORDS = {
    "en": {
        "head": "Measured with `{command}` (preset `{preset}`) on {cores} cores of an {cpu}, {date}. "
        "On a GPU: not measured yet.",
        "value": "{cores} CPU cores (measured)",
        "time": "this notebook runs in",
        "train": "training time",
        "bpc": "validation bits per character",
        "loss": "validation loss (nats per token)",
        "params": "parameters",
        "tpc": "tokens per character, {kind}",
        "sweep_time": "the example sweep `{file}` ({runs} runs)",
        "sweep_best": "best run: {name}",
        "not_yet": "not measured yet",
        "bpc_value": "{:.3f} bits per character",
    },
    "ko": {
        "head": "`{command}`(프리셋 `{preset}`)로 {cpu}의 코어 {cores}개에서 {date}에 잰 값입니다. "
        "GPU에서는 아직 재지 않았습니다.",
        "value": "CPU 코어 {cores}개 (측정값)",
        "time": "이 노트북 실행 시간",
        "train": "학습 시간",
        "bpc": "검증 글자당 비트 수",
        "loss": "검증 손실 (토큰당 nats)",
        "params": "파라미터 수",
        "tpc": "글자당 토큰 수, {kind}",
        "sweep_time": "예제 스윕 `{file}` (실행 {runs}개)",
        "sweep_best": "가장 좋은 실행: {name}",
        "not_yet": "아직 재지 않음",
        "bpc_value": "글자당 {:.3f}비트",
    },
}


def _duration(seconds: float, language: str = "en") -> str:
    if seconds < 90:
        return f"{seconds:.0f}초" if language == "ko" else f"{seconds:.0f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}분 {rest}초" if language == "ko" else f"{minutes} min {rest:02d} s"


# -------------------------------------------------------------------------------------- measure
def measure(run_dir: Path, sweep_dir: Path | None = None) -> dict:
    """The figures of a ``make run`` folder (and a sweep folder) as docs/measured.json holds them."""
    series = json.loads((run_dir / "series.json").read_text(encoding="utf-8"))
    out = {
        "command": "make run",
        "preset": series["parameters"].get("preset", "cpu"),
        "cpu": series["cpu"],
        "cores": series["cores"],
        "date": dt.date.fromtimestamp((run_dir / "series.json").stat().st_mtime).isoformat(),
        "notebooks": {Path(k).stem: v for k, v in series["notebooks"].items()},
        "models": {},
    }
    for name in MODELS:
        rec = json.loads((run_dir / name / "record.json").read_text(encoding="utf-8"))
        # The whole validation text (lmhelpers.evaluation), as notebook 04's table shows it.
        scored = (rec.get("evaluation") or {}).get("whole_text") or rec["final"]
        out["models"][name] = {
            "arch": rec["config"]["model"]["arch"],
            "bits_per_char": round(scored["bits_per_char"], 3),
            "loss": round(scored["loss"], 3),
            "train_seconds": round(rec["timings"]["train_seconds"], 1),
            "params": rec["model"]["params"],
        }
    rows = json.loads((run_dir / "01_tokenizer" / "tokenizers.json").read_text(encoding="utf-8"))
    out["tokenizers"] = {r["name"]: round(r["tokens_per_char"], 3) for r in rows if r.get("tokens_per_char")}
    if sweep_dir is not None:
        out["sweep"] = _measure_sweep(sweep_dir)
    return out


def _measure_sweep(sweep_dir: Path) -> dict:
    seconds = [json.loads(p.read_text())["seconds"] for p in sweep_dir.glob("*/DONE.json")]
    with open(sweep_dir / "results.csv", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    best = min(rows, key=lambda r: float(r["bits/char"]))
    return {
        "command": f"python -m lmhelpers sweep sweeps/{sweep_dir.name}.yaml --out runs/{sweep_dir.name}",
        "file": f"sweeps/{sweep_dir.name}.yaml",
        "runs": len(seconds),
        "seconds": round(sum(seconds), 1),
        "best": best["run"],
        "best_bits_per_char": round(float(best["bits/char"]), 3),
    }


# --------------------------------------------------------------------------------------- render
def table(notebook: str, measured: dict, language: str = "en") -> str:
    """The block between the markers for ``notebook`` (a stem such as '02_rnn')."""
    w = WORDS[language]
    rows = (
        [(w["time"], _duration(measured["notebooks"][notebook], language))]
        if notebook in measured["notebooks"]
        else []
    )
    if notebook in MODELS:
        m = measured["models"][notebook]
        rows += [
            (w["train"], _duration(m["train_seconds"], language)),
            (w["loss"], f"{m['loss']:.3f}"),
            (w["bpc"], f"{m['bits_per_char']:.3f}"),
            (w["params"], f"{m['params']:,}"),
        ]
    if notebook == "01_tokenizer":
        rows += [(w["tpc"].format(kind=k), f"{v:.3f}") for k, v in measured["tokenizers"].items()]
    if notebook == "04_comparison":
        rows += [
            (f"{w['bpc']}, {m['arch']}", f"{m['bits_per_char']:.3f}") for m in measured["models"].values()
        ]
    if notebook == "05_sweeps":
        sweep = measured.get("sweep")
        if sweep:
            rows = [
                (
                    w["sweep_time"].format(file=sweep["file"], runs=sweep["runs"]),
                    _duration(sweep["seconds"], language),
                ),
                (
                    w["sweep_best"].format(name=sweep["best"]),
                    w["bpc_value"].format(sweep["best_bits_per_char"]),
                ),
            ]
        else:
            rows = [(w["sweep_time"].format(file="sweeps/cells.yaml", runs=4), w["not_yet"])]
    facts = {k: measured[k] for k in ("command", "preset", "cpu", "cores", "date")}
    if notebook == "05_sweeps" and measured.get("sweep"):
        facts["command"] = measured["sweep"]["command"]  # the sweep, not make run, made these figures
    head = w["head"].format(**facts)
    value = w["value"].format(cores=measured["cores"])
    lines = [head, "", f"| | {value} |", "|---|---|", *[f"| {a} | {b} |" for a, b in rows]]
    return "\n".join(lines)


def _notebooks() -> list[tuple[Path, str]]:
    found = [(p, "en") for p in sorted((ROOT / "notebooks").glob("0*.ipynb"))]
    return found + [(p, "ko") for p in sorted((ROOT / "notebooks" / "ko").glob("0*.ipynb"))]


def update(write: bool) -> list[str]:
    """Fill (or, with write=False, compare) every notebook's table; the notebooks that differ."""
    measured = json.loads(MEASURED.read_text(encoding="utf-8"))
    stale = []
    for path, language in _notebooks():
        nb = nbformat.read(path, as_version=4)
        new = fill(nb.cells[0].source, BLOCK, table(path.stem, measured, language), f"{path}, first cell")
        if new != nb.cells[0].source:
            stale.append(str(path.relative_to(ROOT)))
            if write:
                nb.cells[0].source = new
                nbformat.write(nb, path)  # nbformat's own layout, as every tool here writes it
    return stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    m = sub.add_parser("measure", help="docs/measured.json from a make run folder")
    m.add_argument("run_dir", type=Path)
    m.add_argument("--sweep", type=Path, default=None, help="a finished sweep folder, for notebook 05")
    sub.add_parser("write", help="fill the notebooks' tables from docs/measured.json")
    sub.add_parser("check", help="exit 1 when a notebook's table differs from docs/measured.json")
    args = parser.parse_args(argv)
    if args.command == "measure":
        MEASURED.write_text(json.dumps(measure(args.run_dir, args.sweep), indent=2) + "\n", encoding="utf-8")
        print(f"wrote {MEASURED}")
        return 0
    stale = update(write=args.command == "write")
    verb = (
        "updated" if args.command == "write" else "out of date (run: python tools/what_you_will_see.py write)"
    )
    for name in stale:
        print(f"{name}: {verb}")
    return 1 if stale and args.command == "check" else 0


if __name__ == "__main__":
    sys.exit(main())
