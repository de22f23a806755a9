"""Sphinx configuration of the course's website, shared by its English and its Korean build.

``tools/build_book.py`` stages a language's executed notebooks in a folder of their own, writes
``_book.json`` beside them (language, titles, each page's Colab address and run, where the MathJax copy
and the Hangul font are) and runs Sphinx with this folder as the configuration and ``LMHELPERS_BOOK``
naming that file. Nothing here reaches the network, when building or when a page is read: notebooks are
rendered as executed (myst-nb, execution off), MathJax comes from the jupyter-server-mathjax wheel, and
ipywidgets' CDN scripts are left out (a progress bar's text is shown instead of the widget).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent
BOOK = json.loads(Path(os.environ["LMHELPERS_BOOK"]).read_text(encoding="utf-8"))

project = BOOK["title"]
language = BOOK["language"]
html_title = BOOK["title"]
extensions = ["myst_nb"]
exclude_patterns = ["_build", "**.ipynb_checkpoints", "_book.json"]

# The notebooks arrive executed: render them as they are.
nb_execution_mode = "off"
# Outputs in Markdown (tables, readings, folded solutions) are read as MyST: tables and raw HTML such as
# <details> pass through, so a folded solution stays folded.
nb_render_markdown_format = "myst"
# A tqdm bar is an ipywidget; drawing it would load require.js and the widget manager from a CDN. Its
# text form ("train lstm: 100%|####| 1000/1000 ...") says the same.
nb_ipywidgets_js: dict[str, dict[str, str]] = {}
nb_mime_priority_overrides = [
    ("html", "application/vnd.jupyter.widget-view+json", None),
    ("html", "application/vnd.jupyter.widget-state+json", None),
]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
# Outputs may print headings of any level; that is no mistake on a page made of outputs.
suppress_warnings = ["myst.header"]

# MathJax 2.7 from the jupyter-server-mathjax wheel (the classic Jupyter notebook's copy: TeX input,
# HTML-CSS output with the STIX-Web fonts), copied into _static/mathjax by the builder.
myst_update_mathjax = False
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
mathjax2_config = {
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]], "processEscapes": True},
    "HTML-CSS": {
        "availableFonts": [],
        "imageFont": None,
        "preferredFont": None,
        "webFont": "STIX-Web",
        # MathJax's always-missing "MathJax_Blank" font points at about:blank, which Chromium reports as a
        # blocked request; a local() name that no system has is missing the same way, without a request.
        "styles": {"@font-face": {"font-family": "MathJax_Blank", "src": "local('MathJax_Blank_None')"}},
    },
    "messageStyle": "none",
}

html_theme = "sphinx_book_theme"
html_static_path = [str(HERE / "_static"), BOOK["assets"]]
html_favicon = str(HERE / "_static" / "favicon.svg")  # else browsers ask for /favicon.ico, a 404
templates_path = [str(HERE / "_templates")]
html_css_files = ["book.css"]
html_context = {"book": BOOK, "default_mode": "auto"}  # no mode stored yet: follow the system
html_show_sourcelink = False
html_copy_source = True  # the download button offers the executed notebook itself
html_theme_options = {
    "repository_url": BOOK["repository"],
    "repository_branch": BOOK["branch"],
    "use_repository_button": True,
    "use_download_button": True,
    "use_fullscreen_button": False,
    "show_toc_level": 2,
    "home_page_in_toc": True,
    "navigation_with_keys": False,
    "article_header_end": ["book-language-switch.html", "article-header-buttons.html"],
    # The search field is in the sidebar; without this, pydata-sphinx-theme 0.20 adds a header bar for it.
    "navbar_persistent": [],
}
