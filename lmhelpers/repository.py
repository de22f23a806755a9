"""Where the series is published: the one place the repository address and branch are written.

Colab badges, the notebooks' install cell and the README links are all generated from ``REPOSITORY`` and
``BRANCH`` by ``python tools/set_repository.py``, which rewrites this file too (``--check`` lists every
copy that disagrees with it; the tests run that check). To publish a fork, or pin a class to a tag:

    python tools/set_repository.py https://github.com/you/your-fork --branch v2026-spring

This module imports nothing from lmhelpers: the tool loads it on its own, before anything is installed.
"""

from __future__ import annotations

REPOSITORY = "https://github.com/lmhelpers/rnn-vs-transformer"
BRANCH = "main"  # a branch, a tag or a commit: what Colab opens and what the install cell installs
COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def colab_url(notebook: str, repository: str | None = None, branch: str | None = None) -> str:
    """The address that opens ``notebooks/<notebook>`` of the repository in Colab."""
    slug = (repository or REPOSITORY).removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{slug}/blob/{branch or BRANCH}/notebooks/{notebook}"


def colab_badge(notebook: str) -> str:
    """Markdown for the "Open in Colab" badge of one notebook."""
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({colab_url(notebook)})"


def install_spec(repository: str | None = None, branch: str | None = None) -> str:
    """The pip requirement the notebooks' Colab cell installs: this package at ``BRANCH``."""
    return f"lmhelpers[notebooks] @ git+{repository or REPOSITORY}.git@{branch or BRANCH}"


# The first code cell of every notebook, written by tools/set_repository.py from this one template. It is
# the only code that runs before lmhelpers is installed, so it imports nothing of ours. On Colab it
# installs the package with pip; a failure shows pip's own output and says what to check, instead of a
# bare CalledProcessError. Anywhere else (a checkout after `make install`, papermill, nbmake) it does
# nothing. {requirement} is filled with install_spec(), the comments with one of the COMMENTS. Only the
# comments differ by language: the Korean notebooks' code is the English code (tools/sync_ko.py checks
# that), and the comment above `raise` shows in the traceback in the learner's language.
INSTALL_CELL_TEMPLATE = """\
# {what}
# {elsewhere}
# {generated}
import subprocess
import sys

if "google.colab" in sys.modules:
    requirement = "{requirement}"
    print(f"Installing {{requirement}} (about a minute)...")
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", requirement], capture_output=True, text=True
    )
    if pip.returncode != 0:
        print(pip.stdout[-4000:], pip.stderr[-4000:], sep="\\n", file=sys.stderr)
        # {failed}
        raise RuntimeError(
            f"pip could not install {{requirement}} (its output is above). Check that the runtime is online,"
            " and that the repository and the branch, tag or commit after '@' exist and are public."
        )"""

COMMENTS = {
    "en": {
        "what": "Colab only: install lmhelpers from the repository before anything imports it (no restart needed).",
        "elsewhere": "Everywhere else (a checkout after `make install`, papermill, nbmake) this cell does nothing.",
        "generated": "Written by tools/set_repository.py from lmhelpers/repository.py: change the address there.",
        "failed": "pip failed: its own output is above.",
    },
    "ko": {
        "what": "Colab에서만: 무엇이든 import하기 전에 저장소에서 lmhelpers를 설치합니다(런타임 재시작 불필요).",
        "elsewhere": "그 밖의 환경(`make install` 후의 체크아웃, papermill, nbmake)에서는 아무 일도 하지 않습니다.",
        "generated": "tools/set_repository.py가 lmhelpers/repository.py에서 만든 셀입니다: 주소는 그곳에서 바꾸세요.",
        "failed": "설치 실패: 위의 pip 출력을 보고, 런타임이 인터넷에 연결되어 있는지, '@' 뒤의 브랜치·태그·커밋이 있고 공개되어 있는지 확인하세요.",
    },
}


def install_cell(language: str = "en", repository: str | None = None, branch: str | None = None) -> str:
    """The source of the notebooks' install cell (``language`` "ko" for notebooks/ko/)."""
    return INSTALL_CELL_TEMPLATE.format(requirement=install_spec(repository, branch), **COMMENTS[language])
