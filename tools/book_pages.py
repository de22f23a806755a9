"""What the course's website says around the notebooks: which run produced a page, and the index page.

All of it is read from the run folder (``series.json``, the executed notebooks' papermill metadata, the
models' ``record.json``) and from ``docs/measured.json``; of the lessons it takes only each notebook's
title and opening paragraph, read from the notebook, so no lesson's text exists twice. tools/build_book.py
puts these pieces on the pages.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

WORDS = {
    "en": {
        "title": "RNN vs Transformer language models, side by side and honestly measured",
        "short": "RNN vs Transformer",
        "colab": "Open in Colab",
        "switch": "한국어",
        "about": "Six notebooks, to read and run in order: 01 saves the tokenizer that 02-04 reuse, 04 compares "
        "the two models that 02 and 03 trained, and 05 runs many such runs and reads them as one table. "
        "Each page is a notebook as a run executed it, with its outputs, figures, tables, readings and "
        "samples; the box at the top of every page names that run and opens the notebook in Colab, to "
        "run it yourself.",
        "order": "The notebooks, in order",
        "columns": ("", "notebook", "on a CPU", "on a GPU", "in this run"),
        "cpu_note": "On a CPU: measured with `{command}` (preset `{preset}`) on {cores} cores of an {cpu}, "
        "{date}; 05: the example sweep `{file}`, {runs} runs.",
        "gpu_note": "On a GPU: measured with preset `{preset}` on {gpu}, {date}.",
        "not_measured": "not measured yet",
        "not_run": "not run",
        "run": "Outputs of `{command}` (preset `{preset}`) on {machine}, {date}.",
        "korean_run": "",
        "took": "This notebook took {time}.",
        "smoke": "**A smoke run**: a few training steps that check that everything runs. Its numbers and "
        "samples are not results; `make run` (preset `cpu`) or a GPU preset gives those.",
        "unexecuted": "Not part of `make run`: shown as committed, without outputs. It runs a sweep, many "
        "runs of the series (`python -m lmhelpers sweep sweeps/cells.yaml`: {time} on a CPU, as "
        "measured); its outputs appear here once the run folder holds an executed `{name}`.",
        "cpu": "CPU: {name}, {cores} cores",
        "gpu": "GPU: {name}",
        "seconds": "{s:.0f} s",
        "minutes": "{m} min {s} s",
        "hours": "{h} h {m} min",
    },
    "ko": {
        "title": "RNN과 트랜스포머 언어 모델, 나란히 놓고 제대로 재기",
        "short": "RNN과 트랜스포머",
        "colab": "Colab에서 열기",
        "switch": "English",
        "about": "노트북 여섯 개를 순서대로 읽고 실행합니다. 01이 저장한 토크나이저(tokenizer)를 02~04가 다시 "
        "쓰고, 04는 02와 03이 학습한 두 모델을 비교하며, 05는 이런 실행을 여러 번 돌려 표 하나로 읽습니다. "
        "각 페이지는 실행(run)이 끝난 노트북 그대로이고, 출력, 그림, 표, 해설, 생성 예시가 모두 들어 "
        "있습니다. 페이지 맨 위의 상자에는 그 페이지를 만든 실행이 적혀 있고, 버튼을 누르면 노트북이 Colab에서 "
        "열려 직접 실행해 볼 수 있습니다.",
        "order": "노트북 순서",
        "columns": ("", "노트북", "CPU에서", "GPU에서", "이 실행에서"),
        "cpu_note": "CPU: `{command}`(프리셋 `{preset}`)로 {cpu}의 코어 {cores}개에서 {date}에 잰 값입니다. "
        "05는 예제 스윕 `{file}`(실행 {runs}개)의 시간입니다.",
        "gpu_note": "GPU: 프리셋 `{preset}`로 {gpu}에서 {date}에 잰 값입니다.",
        "not_measured": "아직 재지 않음",
        "not_run": "실행 안 함",
        "run": "`{command}`(프리셋 `{preset}`)의 출력입니다. {machine}, {date}.",
        "korean_run": " 한국어 노트북(notebooks/ko/)은 `make book`이 영어판 실행과 같은 매개변수로 실행했습니다.",
        "took": "이 노트북의 실행 시간: {time}.",
        "smoke": "**스모크(smoke) 실행**: 모든 것이 돌아가는지만 확인하는 몇 스텝짜리 학습입니다. 여기 나온 "
        "수치와 생성 예시는 결과가 아닙니다. 결과는 `make run`(프리셋 `cpu`)이나 GPU 프리셋으로 얻습니다.",
        "unexecuted": "`make run`에는 들어 있지 않아 출력 없이 저장소의 노트북 그대로 보여 줍니다. 이 노트북은 "
        "시리즈를 여러 번 실행하는 스윕(sweep)을 돌립니다(`python -m lmhelpers sweep sweeps/cells.yaml`: CPU에서 "
        "잰 시간 {time}). 실행 폴더에 실행된 `{name}`이 있으면 그 출력이 여기에 나옵니다.",
        "cpu": "CPU: {name}, 코어 {cores}개",
        "gpu": "GPU: {name}",
        "seconds": "{s:.0f}초",
        "minutes": "{m}분 {s}초",
        "hours": "{h}시간 {m}분",
    },
}


def duration(seconds: float, language: str) -> str:
    """Seconds as a person reads them: "5 s", "2 min 33 s", "1 h 2 min" (or in Korean)."""
    w = WORDS[language]
    if seconds < 59.5:
        return w["seconds"].format(s=seconds)
    whole = round(seconds)
    if whole < 3600:
        return w["minutes"].format(m=whole // 60, s=whole % 60)
    return w["hours"].format(h=whole // 3600, m=whole % 3600 // 60)


@dataclass
class Run:
    """One executed series in one folder: what the banner of each of its pages says."""

    folder: Path
    parameters: dict[str, Any]
    machine: str
    date: str
    command: str
    seconds: dict[str, float] = field(default_factory=dict)  # by notebook name, e.g. "02_rnn"

    @property
    def preset(self) -> str:
        return str(self.parameters.get("preset", "?"))


def series_command(parameters: dict[str, Any], out: str) -> str:
    """The command that runs a series with these parameters into ``out`` (``make run`` when it can)."""
    preset = parameters.get("preset", "cpu")
    others = {k: v for k, v in parameters.items() if k not in ("preset", "language", "resume")}
    if not others:
        return f"make run PRESET={preset}" + ("" if out == "runs/latest" else f" OUT={out}")
    flat = {**(others.pop("settings", None) or {}), **others}
    sets = "".join(f" --set {k}={v}" for k, v in flat.items())
    return f"python -m lmhelpers series --preset {preset}{sets} --out {out}"


def _machine(folder: Path, series: dict[str, Any], language: str) -> str:
    """The device the models trained on, from a run record (else the CPU that ``series.json`` names)."""
    w = WORDS[language]
    for name in ("03_transformer", "02_rnn"):
        record = folder / name / "record.json"
        if record.is_file():
            env = json.loads(record.read_text(encoding="utf-8")).get("environment", {})
            if env.get("device", "cpu") != "cpu":
                return w["gpu"].format(name=env.get("device_name") or env["device"])
            return w["cpu"].format(name=env.get("cpu") or series.get("cpu"), cores=env.get("cpu_count"))
    return w["cpu"].format(name=series.get("cpu", "?"), cores=series.get("cores", "?"))


def read_run(folder: Path, out: str, language: str) -> Run:
    """The run in ``folder`` (a ``series`` output): parameters, machine, when it ended, each notebook's time.

    ``out`` is how the command names the folder (relative to the checkout where it lies inside it)."""
    series = json.loads((folder / "series.json").read_text(encoding="utf-8"))
    ends = []
    for executed in folder.glob("*.ipynb"):
        papermill = json.loads(executed.read_text(encoding="utf-8"))["metadata"].get("papermill", {})
        if papermill.get("end_time"):
            ends.append(papermill["end_time"])
    date = max(ends)[:16].replace("T", " ") + " UTC" if ends else "?"
    parameters = series.get("parameters", {})
    seconds = {Path(name).stem: s for name, s in series.get("notebooks", {}).items()}
    return Run(
        folder, parameters, _machine(folder, series, language), date, series_command(parameters, out), seconds
    )


def banner(
    run: Run | None, language: str, notebook: str | None, measured: dict[str, Any]
) -> tuple[str, bool]:
    """The run line of a page as HTML, and whether it is a smoke run (the banner then shows a warning).

    ``run`` is None for a notebook the run did not execute (05): the line then says so and how to run it.
    """
    w = WORDS[language]
    if run is None:
        sweep = measured.get("sweep", {})
        time = duration(sweep["seconds"], language) if "seconds" in sweep else w["not_measured"]
        return _markdown_html(w["unexecuted"].format(time=time, name=f"{notebook}.ipynb")), False
    text = w["run"].format(command=run.command, preset=run.preset, machine=run.machine, date=run.date)
    text += w["korean_run"]
    if notebook in run.seconds:
        text += " " + w["took"].format(time=duration(run.seconds[notebook], language))
    smoke = run.preset == "smoke"
    if smoke:  # so that nobody takes a smoke run's numbers for results
        return _markdown_html(text) + "<br>" + _markdown_html(w["smoke"]), True
    return _markdown_html(text), False


def _markdown_html(text: str) -> str:
    """The little Markdown the banner uses (`code`, **bold**) as escaped HTML."""
    text = html.escape(text, quote=False)
    text = re.sub(r"`([^`]+)`", r"<code>\1</code>", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)


def opening(notebook: dict[str, Any]) -> tuple[str, list[str]]:
    """A notebook's title and the prose paragraphs of its first cell (badges, tables, lists left out)."""
    source = "".join(notebook["cells"][0]["source"])
    title = next((line[2:].strip() for line in source.splitlines() if line.startswith("# ")), "")
    skip = ("#", "[![", "**", "|", "<!--", "-", "*")
    paragraphs = [" ".join(p.split()) for p in re.split(r"\n\s*\n", source)]
    return title, [p for p in paragraphs if p and not p.startswith(skip)]


def index_page(
    language: str,
    notebooks: dict[str, dict[str, Any]],
    run: Run,
    measured: dict[str, Any],
) -> str:
    """The index page as MyST Markdown: what the course is, the order, each notebook's time, the toctree."""
    w = WORDS[language]
    openings = {name: opening(nb) for name, nb in notebooks.items()}
    first = next(iter(openings.values()))[1]
    lines = [f"# {w['title']}", "", first[0] if first else "", "", w["about"], "", f"## {w['order']}", ""]
    lines += ["| " + " | ".join(w["columns"]) + " |", "|---|---|--:|--:|--:|"]
    gpu = measured.get("gpu", {})
    for i, (name, (title, _)) in enumerate(openings.items(), 1):
        cpu = measured.get("notebooks", {}).get(name)
        if cpu is None and name == "05_sweeps":
            cpu = measured.get("sweep", {}).get("seconds")
        cells = [
            str(i),
            f"[{title}]({name}.ipynb)",
            duration(cpu, language) if cpu is not None else w["not_measured"],
            duration(gpu["notebooks"][name], language)
            if name in gpu.get("notebooks", {})
            else w["not_measured"],
            duration(run.seconds[name], language) if name in run.seconds else w["not_run"],
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    if measured.get("notebooks"):
        sweep = measured.get("sweep", {})
        lines += [
            w["cpu_note"].format(**measured, file=sweep.get("file", "?"), runs=sweep.get("runs", "?")),
            "",
        ]
    if gpu.get("notebooks"):
        lines += [w["gpu_note"].format(**gpu), ""]
    run_line = w["run"].format(command=run.command, preset=run.preset, machine=run.machine, date=run.date)
    lines += [run_line + w["korean_run"], ""]
    for name, (title, paragraphs) in openings.items():
        text = paragraphs[1:] if name == next(iter(openings)) else paragraphs
        lines += [f"### [{title}]({name}.ipynb)", "", text[0] if text else "", ""]
    lines += ["```{toctree}", ":hidden:", ":maxdepth: 1", "", *notebooks, "```", ""]
    return "\n".join(lines)
