"""Shared fixtures. The corpus is found as users find it: $LMHELPERS_DATA_DIR, else ../shared/data beside
the checkout (where CI keeps its offline copy)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_SHARED = ROOT.parent / "shared" / "data"

if "LMHELPERS_DATA_DIR" not in os.environ and (_SHARED / "tinyshakespeare.txt").is_file():
    os.environ["LMHELPERS_DATA_DIR"] = str(_SHARED)
if "TIKTOKEN_CACHE_DIR" not in os.environ and (_SHARED / "tiktoken").is_dir():
    os.environ["TIKTOKEN_CACHE_DIR"] = str(_SHARED / "tiktoken")


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise(monkeypatch):
    """Each test starts in English and leaves no language behind: a test that calls set_language("ko") (or
    runs a Korean cell in-process) must not turn the next test's messages Korean."""
    from lmhelpers import language

    monkeypatch.delenv("LMHELPERS_LANGUAGE", raising=False)
    monkeypatch.setattr(language, "_default", [])


@pytest.fixture(autouse=True, scope="session")
def _threads_held_in_the_test_process():
    """Tests compare runs bit for bit, and the last bits depend on the thread count: the test process keeps
    its count whatever else runs (lmhelpers.threads). The processes the tests start adjust as users' do."""
    from lmhelpers import threads

    threads.hold()


@pytest.fixture(scope="session")
def shakespeare_path() -> Path:
    path = Path(os.environ.get("LMHELPERS_DATA_DIR", _SHARED)) / "tinyshakespeare.txt"
    if not path.is_file():
        pytest.skip(f"Tiny Shakespeare not found at {path}; set LMHELPERS_DATA_DIR")
    return path


@pytest.fixture(scope="session")
def shakespeare(shakespeare_path: Path) -> str:
    return shakespeare_path.read_text(encoding="utf-8")


@pytest.fixture()
def small_corpus(tmp_path: Path) -> Path:
    """A short corpus that every tokenizer and tiny model can use."""
    lines = [
        "First Citizen:\nBefore we proceed any further, hear me speak.\n",
        "All:\nSpeak, speak.\n",
        "First Citizen:\nYou are all resolved rather to die than to famish?\n",
        "All:\nResolved. resolved.\n",
    ]
    path = tmp_path / "corpus.txt"
    path.write_text("".join(lines) * 40, encoding="utf-8")
    return path


# A short Korean text written for these tests: no Latin letter in it, so every default that assumed
# English (a prompt such as 'ROMEO:', an English attention sentence) would fail on it.
KOREAN_LINES = [
    "아침 일찍 시장에 가면 갓 구운 빵 냄새가 골목을 채운다.\n",
    "할머니는 늘 같은 자리에서 나물을 파시고, 손님에게 덤을 얹어 주신다.\n",
    "비가 그치면 아이들은 물웅덩이를 건너뛰며 웃음소리를 남긴다.\n",
    "버스 정류장에는 졸린 얼굴의 학생들이 줄지어 서 있다.\n",
    "저녁이 되면 창마다 불이 켜지고, 부엌에서는 찌개 끓는 소리가 난다.\n",
    "오늘 배운 것을 공책에 적으며 하루를 천천히 되짚어 본다.\n",
]


@pytest.fixture()
def korean_corpus(tmp_path: Path) -> Path:
    """A Korean corpus (about 4,000 characters) that a smoke-sized run can train on."""
    path = tmp_path / "korean.txt"
    path.write_text("".join(KOREAN_LINES) * 12, encoding="utf-8")
    return path


@pytest.fixture
def make_dry_run():
    """``make -n ARGS`` in the repository root with a bare PATH (plus ``env``): the commands a Makefile
    target would run, as text, without running them."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["make", "-n", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env={"PATH": "/usr/bin:/bin", **(env or {})},
        )

    return run


# What the English series runs with in the tests: short, one RNN family other than the notebooks' default,
# and a setting no notebook declares (it travels in `settings`), all given as a user gives them.
SERIES_SETTINGS = {"max_iters": "6", "arch": "gru", "eval_interval": "3"}


@pytest.fixture(scope="session")
def smoke_series(tmp_path_factory, shakespeare_path: Path) -> tuple[Path, int, str]:
    """The English series 00-04 once per session, through the `series` command at the smoke preset with
    :data:`SERIES_SETTINGS` as ``--set``: (RUN, exit code, what it printed). RUN holds the executed
    notebooks, ``series.json``, ``summary.md`` and one folder per notebook (``RUN/02_rnn/record.json``,
    figures). Tests copy from RUN; none writes into it."""
    import contextlib
    import io

    from lmhelpers.cli import main

    run = tmp_path_factory.mktemp("smoke_series") / "run"
    printed = io.StringIO()
    settings = [arg for name, value in SERIES_SETTINGS.items() for arg in ("--set", f"{name}={value}")]
    with contextlib.redirect_stdout(printed):
        rc = main(["series", "--preset", "smoke", "--out", str(run), *settings])
    return run, rc, printed.getvalue()


@pytest.fixture(scope="session")
def smoke_series_both_languages(smoke_series) -> Path:
    """:func:`smoke_series` with the Korean notebooks 00-04 run beside it (notebooks/ko/, ``language="ko"``,
    the same parameters) into ``RUN/ko/``, laid out as ``make book`` finds a series and its Korean run;
    returns RUN. Notebook 05 is not part of the series and is not run."""
    from build_book import run_korean_series

    run, rc, printed = smoke_series
    assert rc == 0, printed
    run_korean_series(run, log=None)
    return run
