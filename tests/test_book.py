"""The course as a website (tools/build_book.py): built from a smoke run in both languages, then read in
a real browser, the system's Chromium driven by Playwright, served by ``http.server`` as a reader would.

One build and one browser session: the ``visits`` fixture opens every page once and keeps what it saw
(console errors, failed or outside requests, images, links, text); the tests below judge it.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from book_pages import duration, series_command
from build_book import BookError, build, korean_run_needed

from lmhelpers.notebook import ALL_NOTEBOOKS, NOTEBOOKS
from lmhelpers.repository import colab_url

ROOT = Path(__file__).resolve().parents[1]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Headless, and nothing in the background that would try the network (closed here).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
STEMS = [Path(n).stem for n in ALL_NOTEBOOKS]
PAGES = [f"{prefix}{page}.html" for prefix in ("", "ko/") for page in ("index", *STEMS, "search", "genindex")]
HANGUL = re.compile(r"[\uac00-\ud7a3]")

# Every image (figures are loaded lazily: load them all), the internal links, what the page says.
READ_PAGE = """async () => {
  const images = Array.from(document.images);
  images.forEach(i => { i.loading = "eager"; });
  const widths = await Promise.all(images.map(i => i.decode().then(() => i.naturalWidth, () => 0)));
  return {
    lang: document.documentElement.lang,
    images: images.map((i, k) => [i.src, widths[k]]),
    links: Array.from(document.querySelectorAll("a[href]")).map(a => a.href),
    text: document.body.innerText,
  };
}"""


# ------------------------------------------------------------------------------------ without a browser
def test_the_run_command_and_times_read_as_a_person_types_them():
    assert series_command({"preset": "smoke"}, "runs/latest") == "make run PRESET=smoke"
    assert series_command({"preset": "cpu", "language": "ko"}, "runs/x") == "make run PRESET=cpu OUT=runs/x"
    assert (
        series_command({"preset": "cpu", "arch": "gru", "settings": {"n_layer": 2}}, "runs/x")
        == "python -m lmhelpers series --preset cpu --set n_layer=2 --set arch=gru --out runs/x"
    )
    assert [duration(s, "en") for s in (4.8, 153.1, 3725)] == ["5 s", "2 min 33 s", "1 h 2 min"]
    assert [duration(s, "ko") for s in (4.8, 153.1)] == ["5초", "2분 33초"]


def test_the_korean_notebooks_run_when_missing_or_run_with_other_parameters(tmp_path):
    with pytest.raises(BookError, match="make run"):
        korean_run_needed(tmp_path)
    (tmp_path / "series.json").write_text('{"parameters": {"preset": "cpu"}}')
    assert "have not run" in korean_run_needed(tmp_path)
    (tmp_path / "ko").mkdir()
    for name in NOTEBOOKS:
        (tmp_path / "ko" / name).write_text("{}")
    (tmp_path / "ko" / "series.json").write_text('{"parameters": {"preset": "smoke", "language": "ko"}}')
    assert "smoke" in korean_run_needed(tmp_path)
    (tmp_path / "ko" / "series.json").write_text('{"parameters": {"preset": "cpu", "language": "ko"}}')
    assert korean_run_needed(tmp_path) is None


def test_the_pages_workflow_runs_the_series_then_publishes_what_make_book_builds(make_dry_run):
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["build"]["steps"]
    commands = [step.get("run", "") for step in steps]
    assert commands.index("make book") > next(i for i, c in enumerate(commands) if c.startswith("make run"))
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert f"--out {upload['with']['path']}" in make_dry_run("book").stdout
    deploy = workflow["jobs"]["deploy"]["steps"]
    assert any(s.get("uses", "").startswith("actions/deploy-pages") for s in deploy)


# ------------------------------------------------------------------------------------ in the browser
@pytest.fixture(scope="module")
def site(smoke_series_both_languages, tmp_path_factory) -> Path:
    return build(
        smoke_series_both_languages, tmp_path_factory.mktemp("book") / "site", run_missing=False, log=None
    )


@pytest.fixture(scope="module")
def base_url(site: Path):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()


@pytest.fixture(scope="module")
def page(base_url: str):
    """One browser page; ``page.problems`` collects console errors, page errors, failed requests and
    requests that leave the site (the site must load nothing from the network)."""
    if not Path(CHROMIUM).is_file():
        message = "no chromium: apt-get install -y chromium (.ci/run does it)"
        if os.environ.get("CI"):  # CI installs it, so a missing browser there is a failure, not a skip
            pytest.fail(message)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.problems = []
        tab.on("console", lambda m: m.type == "error" and tab.problems.append(f"console: {m.text}"))
        tab.on("pageerror", lambda e: tab.problems.append(f"page error: {e}"))
        tab.on(  # a request cut short by going to the next page is no fault of the page
            "requestfailed",
            lambda r: r.failure == "net::ERR_ABORTED" or tab.problems.append(f"failed: {r.url} {r.failure}"),
        )
        tab.on(
            "request",
            lambda r: (
                r.url.startswith((base_url, "data:", "blob:")) or tab.problems.append(f"outside: {r.url}")
            ),
        )
        yield tab
        browser.close()


def _open(page, url: str) -> None:
    page.problems.clear()
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")


@pytest.fixture(scope="module")
def visits(page, base_url: str) -> dict[str, dict]:
    """Every page of both languages, opened once: what each showed, and what went wrong on it."""
    seen = {}
    for name in PAGES:
        _open(page, base_url + name)
        seen[name] = {**page.evaluate(READ_PAGE), "problems": list(page.problems)}
    return seen


@pytest.mark.slow
def test_every_page_loads_with_no_console_error_and_nothing_from_outside(visits):
    assert {name: v["problems"] for name, v in visits.items() if v["problems"]} == {}


@pytest.mark.slow
def test_every_image_has_loaded(visits):
    assert any(v["images"] for v in visits.values())
    broken = {name: [src for src, width in v["images"] if width <= 0] for name, v in visits.items()}
    assert {name: srcs for name, srcs in broken.items() if srcs} == {}
    figures = [src for src, _ in visits["04_comparison.html"]["images"] if src.endswith(".png")]
    assert figures, "notebook 04's figures are on its page"


@pytest.mark.slow
def test_every_internal_link_resolves(visits, base_url: str):
    targets = {link for v in visits.values() for link in v["links"] if link.startswith(base_url)}
    pages: dict[str, str] = {}
    for link in sorted(targets):
        url, _, fragment = link.partition("#")
        if url not in pages:
            with urllib.request.urlopen(url) as response:  # raises on a 404
                pages[url] = response.read().decode("utf-8", "replace")
        if fragment and url.endswith(".html"):
            assert f'id="{urllib.parse.unquote(fragment)}"' in pages[url], link
    assert len(pages) > len(PAGES) // 2


@pytest.mark.slow
def test_each_notebook_page_opens_its_notebook_in_colab_and_names_its_run(visits):
    for name in STEMS:
        english, korean = visits[f"{name}.html"], visits[f"ko/{name}.html"]
        assert colab_url(f"{name}.ipynb") in english["links"]
        assert colab_url(f"ko/{name}.ipynb") in korean["links"]
        if name != "05_sweeps":  # not part of the series: its page says so
            # the command of this run (conftest's smoke_series: --set on the command line), and the warning
            assert "python -m lmhelpers series --preset smoke --set" in english["text"], name
            assert "--set arch=gru" in english["text"] and "A smoke run" in english["text"]
            assert "스모크(smoke) 실행" in korean["text"]
    assert "Not part of make run" in visits["05_sweeps.html"]["text"]


@pytest.mark.slow
def test_korean_pages_are_in_korean_with_a_font_for_hangul(page, base_url: str, visits):
    for name in PAGES:
        expected = "ko" if name.startswith("ko/") else "en"
        assert visits[name]["lang"] == expected, name
    assert len(HANGUL.findall(visits["ko/04_comparison.html"]["text"])) > 200
    _open(page, base_url + "ko/04_comparison.html")
    # NanumGothic ships with the site: Hangul renders even where the system has no Korean font.
    assert page.evaluate("document.fonts.load('16px BookHangul', '한').then(f => f.length)") == 1


@pytest.mark.slow
@pytest.mark.parametrize("name", ["index", "04_comparison", "search"])
def test_the_language_switch_lands_on_the_counterpart_page(page, base_url: str, name: str):
    _open(page, f"{base_url}{name}.html")
    page.click("a.book-language-switch")
    page.wait_for_load_state("load")
    assert page.url.split("?")[0] == f"{base_url}ko/{name}.html"
    assert page.evaluate("document.documentElement.lang") == "ko"
    page.click("a.book-language-switch")
    page.wait_for_load_state("load")
    assert page.url.split("?")[0] == f"{base_url}{name}.html"


@pytest.mark.slow
@pytest.mark.parametrize("prefix, term", [("", "masked_softmax"), ("ko/", "어텐션")])
def test_search_finds_a_term_of_notebook_03(page, base_url: str, prefix: str, term: str):
    _open(page, f"{base_url}{prefix}search.html?q={urllib.parse.quote(term)}")
    page.wait_for_selector("ul.search li a", timeout=20_000)
    found = page.eval_on_selector_all("ul.search li a", "links => links.map(a => a.href)")
    assert any(link.split("#")[0] == f"{base_url}{prefix}03_transformer.html" for link in found), found


@pytest.mark.slow
def test_equations_are_typeset_and_solutions_stay_folded(page, base_url: str):
    _open(page, base_url + "02_rnn.html")
    page.wait_for_selector(".MathJax", timeout=20_000)  # MathJax replaced the TeX of the equations
    _open(page, base_url + "03_transformer.html")
    folded = page.eval_on_selector_all("details", "ds => ds.map(d => [d.open, d.innerText.slice(0, 40)])")
    assert folded and not any(is_open for is_open, _ in folded), folded
    assert not page.is_visible("details pre")  # the solution's code is hidden until opened
