"""Build the course's website from the executed notebooks of a run: ``make book``.

    python tools/build_book.py [--run runs/latest] [--out build/book] [--no-run]

The site holds the six notebooks as a run executed them, in English (``OUT/index.html``) and in Korean
(``OUT/ko/index.html``), each page linked to its counterpart; open it from disk or serve ``OUT`` with
``python -m http.server``. Sphinx renders the notebooks (myst-nb, execution off) with sphinx-book-theme,
all from PyPI packages and nothing from the network, at build time or when a page is read (why this
stack: docs/book.md; the configuration and templates: book/).

Where the notebooks come from: ``make run`` writes the English ones into RUN/; the Korean ones
(notebooks/ko/) belong in RUN/ko/. When those are missing, or ran other parameters than the English
run, this runs the Korean series there first, with the English run's parameters (``--no-run`` stops
instead). Notebook 05 is not part of the series: its page shows RUN/05_sweeps.ipynb when there is one,
else the committed notebook without outputs, saying so.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from book_pages import WORDS, banner, index_page, read_run

from lmhelpers.batch import run_series
from lmhelpers.notebook import ALL_NOTEBOOKS, NOTEBOOKS
from lmhelpers.repository import BRANCH, COLAB_BADGE_IMAGE, REPOSITORY, colab_url

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"  # conf.py, _templates/, _static/
MEASURED = ROOT / "docs" / "measured.json"
SOURCES = {"en": ROOT / "notebooks", "ko": ROOT / "notebooks" / "ko"}  # the committed notebooks
SUBFOLDER = {"en": "", "ko": "ko"}  # where each language's executed notebooks lie in a run folder
OTHER = {"en": "ko", "ko": "en"}
# What MathJax 2 may load with its TeX-AMS-MML_HTMLorMML-full configuration, HTML-CSS output and STIX-Web
# fonts (extensions/ includes the accessibility explorer a reader can turn on from the math menu).
MATHJAX_PARTS = (
    "MathJax.js",
    "LICENSE",
    "config/TeX-AMS-MML_HTMLorMML-full.js",
    "extensions",
    "jax/input/TeX",
    "jax/element",
    "jax/output/HTML-CSS",
    "fonts/HTML-CSS/STIX-Web/woff",
)
IGNORED_PARAMETERS = ("language", "resume")  # differ between the two languages' runs of one series
LOCAL_LINK = re.compile(r"\]\((?![a-z]+:|#)([^)\s\"]+)\)")  # a Markdown link to a relative path
# Hangul jamo, compatibility jamo, jamo extended A, syllables, jamo extended B (as in book/_static/book.css).
HANGUL = (
    (0x1100, 0x11FF),
    (0x3130, 0x318F),
    (0xA960, 0xA97F),
    (0xAC00, 0xD7AF),
    (0xD7B0, 0xD7FF),
)


class BookError(RuntimeError):
    """The book cannot be built as asked; the message says what to run first."""


def korean_run_needed(run: Path) -> str | None:
    """Why RUN/ko/ must be (re)run before the book is built, or None when it holds a matching series."""
    english, korean = run / "series.json", run / SUBFOLDER["ko"] / "series.json"
    if not english.is_file():
        raise BookError(
            f"{run} holds no series (no series.json): run `make run` (or `make run OUT={run}`) first"
        )
    if not korean.is_file() or any(not (korean.parent / n).is_file() for n in NOTEBOOKS):
        return f"the Korean notebooks have not run into {korean.parent}"
    wanted, ran = (_parameters(path) for path in (english, korean))
    if wanted != ran:
        return f"{korean.parent} ran {ran}, the English run {wanted}"
    return None


def _parameters(series_json: Path) -> dict[str, Any]:
    parameters = json.loads(series_json.read_text(encoding="utf-8")).get("parameters", {})
    return {k: v for k, v in parameters.items() if k not in IGNORED_PARAMETERS}


def run_korean_series(run: Path, log: Callable[[str], None] | None = print) -> None:
    """Execute notebooks/ko/ 00-04 into RUN/ko/ with the English run's parameters (``language`` "ko").

    A folder that ran other parameters is restarted (``resume="restart"`` moves its old runs aside).
    """
    folder = run / SUBFOLDER["ko"]
    parameters = {**_parameters(run / "series.json"), "language": "ko"}
    if (folder / "series.json").is_file():
        parameters["resume"] = "restart"
    run_series(folder, parameters, notebooks=[SOURCES["ko"] / n for n in NOTEBOOKS], log=log)


def _display_path(path: Path) -> str:
    """A folder as a command would name it: relative inside the checkout, else absolute."""
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def copy_assets(assets: Path) -> None:
    """What the pages load besides the theme: MathJax (from jupyter-server-mathjax) and the Hangul font
    of the figures (NanumGothic, from koreanize-matplotlib), copied under ``assets`` (served as _static).
    Both languages' pages use the font: English pages name the Korean edition in Hangul too."""
    mathjax = _package_dir("jupyter_server_mathjax") / "static"
    for part in MATHJAX_PARTS:
        source, target = mathjax / part, assets / "mathjax" / part
        if source.is_dir():
            shutil.copytree(source, target, dirs_exist_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    _web_font(
        _package_dir("koreanize_matplotlib") / "fonts" / "NanumGothic.ttf",
        assets / "fonts" / "NanumGothic.woff",
    )


def _web_font(ttf: Path, woff: Path) -> None:
    """The font's Hangul (syllables and jamo, 0.8 MB of its 4.7), as WOFF. Its empty TSI* tables (hinting
    sources) go too: Chromium's font sanitizer rejects the whole font for them. Kept between builds."""
    if woff.is_file() and woff.stat().st_mtime >= ttf.stat().st_mtime:
        return
    from fontTools import subset  # matplotlib's dependency
    from fontTools.ttLib import TTFont

    font = TTFont(ttf)
    for tag in [tag for tag in font.keys() if tag.startswith("TSI")]:
        del font[tag]
    subsetter = subset.Subsetter(subset.Options(flavor="woff"))
    subsetter.populate(unicodes=[c for first, last in HANGUL for c in range(first, last + 1)])
    subsetter.subset(font)
    font.flavor = "woff"
    woff.parent.mkdir(parents=True, exist_ok=True)
    font.save(woff)


def _package_dir(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise BookError(f"{name} is not installed: pip install -e '.[book]'")
    return Path(next(iter(spec.submodule_search_locations)))


def stage(run: Path, language: str, src: Path, assets: Path, measured: dict[str, Any]) -> None:
    """One language's Sphinx source: the executed notebooks, the index page and ``_book.json``."""
    folder = run / SUBFOLDER[language]
    # The command named is the English run's: `make book` ran the Korean series with its parameters.
    info = read_run(folder, _display_path(run), language)
    src.mkdir(parents=True, exist_ok=True)
    shutil.copy2(BOOK / "_static" / "colab-badge.svg", src / "colab-badge.svg")
    notebooks, pages = {}, {}
    for name in ALL_NOTEBOOKS:
        executed = folder / name
        text = (executed if executed.is_file() else SOURCES[language] / name).read_text(encoding="utf-8")
        # The notebooks' own Colab badges, drawn locally: the usual image is fetched from Colab's site.
        text = _repository_links(text.replace(COLAB_BADGE_IMAGE, "colab-badge.svg"), SOURCES[language])
        (src / name).write_text(text, encoding="utf-8")
        stem = Path(name).stem
        notebooks[stem] = json.loads(text)
        run_html, smoke = banner(info if executed.is_file() else None, language, stem, measured)
        notebook = name if language == "en" else f"ko/{name}"
        pages[stem] = {"colab": colab_url(notebook), "run": run_html, "smoke": smoke}
    (src / "index.md").write_text(index_page(language, notebooks, info, measured), encoding="utf-8")
    run_html, smoke = banner(info, language, None, measured)
    context = {
        "language": language,
        "title": WORDS[language]["short"],
        "assets": str(assets),
        "repository": REPOSITORY,
        "branch": BRANCH,
        "words": {"colab": WORDS[language]["colab"]},
        "switch": {
            "prefix": "ko/" if language == "en" else "../",
            "label": WORDS[language]["switch"],
            "language": OTHER[language],
        },
        "run": run_html,
        "smoke": smoke,
        "pages": pages,
    }
    (src / "_book.json").write_text(json.dumps(context, ensure_ascii=False, indent=1), encoding="utf-8")


def _repository_links(text: str, folder: Path) -> str:
    """Markdown links from a notebook to files of the repository (``../docs/noise.md``) made links to those
    files on GitHub; links to the series' notebooks stay, as links between the book's pages."""

    def resolve(match: re.Match) -> str:
        target = match.group(1)
        path, _, anchor = target.partition("#")
        full = (folder / path).resolve()
        if Path(path).name in ALL_NOTEBOOKS or not full.is_relative_to(ROOT) or not full.exists():
            return match.group(0)
        where = full.relative_to(ROOT).as_posix()
        return f"]({REPOSITORY}/blob/{BRANCH}/{where}{'#' + anchor if anchor else ''})"

    return LOCAL_LINK.sub(resolve, text)


def sphinx(src: Path, out: Path, doctrees: Path) -> subprocess.Popen:
    """Start one language's Sphinx build (quiet: only warnings and errors are printed)."""
    env = {**os.environ, "LMHELPERS_BOOK": str(src / "_book.json")}
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(BOOK), "-d", str(doctrees)]
    return subprocess.Popen(
        [*command, str(src), str(out)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


def build(
    run: str | os.PathLike = ROOT / "runs" / "latest",
    out: str | os.PathLike = ROOT / "build" / "book",
    run_missing: bool = True,
    log: Callable[[str], None] | None = print,
) -> Path:
    """Build the book of ``run`` into ``out`` (emptied first); returns ``out``. Raises BookError."""
    run, out = Path(run).resolve(), Path(out).resolve()
    reason = korean_run_needed(run)
    if reason and not run_missing:
        raise BookError(f"{reason}: run `make book` without --no-run, or run the Korean series yourself")
    if reason:
        if log:
            log(f"Running the Korean notebooks first ({reason}); this takes about as long as `make run`.")
        run_korean_series(run, log=log)
    tic = time.perf_counter()
    work = out.parent / f"{out.name}-sources"  # its assets/ (MathJax, the font) are kept between builds
    for folder in (out, work / "en", work / "ko", work / "doctrees-en", work / "doctrees-ko"):
        shutil.rmtree(folder, ignore_errors=True)
    copy_assets(work / "assets")
    measured = json.loads(MEASURED.read_text(encoding="utf-8")) if MEASURED.is_file() else {}
    builds = {}
    for language in ("en", "ko"):
        stage(run, language, work / language, work / "assets", measured)
        target = out / SUBFOLDER[language]
        builds[language] = sphinx(work / language, target, work / f"doctrees-{language}")
    failed = []
    for language, process in builds.items():
        output, _ = process.communicate()
        if output.strip() and log:
            log(f"sphinx ({language}):\n{output.rstrip()}")
        if process.returncode:
            failed.append(language)
    if failed:
        raise BookError(f"sphinx failed for {failed}; its output is above")
    (out / ".nojekyll").touch()  # GitHub Pages: serve _static/ and _images/ as they are
    if log:
        log(f"Book built in {time.perf_counter() - tic:.0f} s: {out / 'index.html'} (Korean: {out / 'ko'})")
        log(f"Serve it with: python -m http.server -d {_display_path(out)} 8000")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default="runs/latest", help="the run folder (default: runs/latest)")
    parser.add_argument("--out", default="build/book", help="where the site goes (default: build/book)")
    parser.add_argument(
        "--no-run",
        action="store_true",
        help="stop when RUN/ko/ lacks the Korean notebooks, rather than run them",
    )
    args = parser.parse_args(argv)
    try:
        build(args.run, args.out, run_missing=not args.no_run)
    except BookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
