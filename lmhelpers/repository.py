"""Where the series is published: the one place the repository address and branch are written.

Colab badges, the notebooks' install cell and the README links are all built from ``REPOSITORY`` and
``BRANCH``; tests compare every copy in the notebooks and READMEs against them.
"""

from __future__ import annotations

REPOSITORY = "https://github.com/lmhelpers/rnn-vs-transformer"
BRANCH = "main"
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def colab_url(notebook: str) -> str:
    """The address that opens ``notebooks/<notebook>`` of the repository in Colab."""
    slug = REPOSITORY.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{slug}/blob/{BRANCH}/notebooks/{notebook}"


def colab_badge(notebook: str) -> str:
    """Markdown for the "Open in Colab" badge of one notebook."""
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({colab_url(notebook)})"


def install_spec() -> str:
    """The pip requirement the notebooks' Colab cell installs: this package at ``BRANCH``."""
    return f"lmhelpers[notebooks] @ git+{REPOSITORY}.git@{BRANCH}"
