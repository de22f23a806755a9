"""Shared fixtures. The corpus is found as users find it: $LMHELPERS_DATA_DIR, else ../shared/data beside
the checkout (where CI keeps its offline copy)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_SHARED = ROOT.parent / "shared" / "data"

if "LMHELPERS_DATA_DIR" not in os.environ and (_SHARED / "tinyshakespeare.txt").is_file():
    os.environ["LMHELPERS_DATA_DIR"] = str(_SHARED)
if "TIKTOKEN_CACHE_DIR" not in os.environ and (_SHARED / "tiktoken").is_dir():
    os.environ["TIKTOKEN_CACHE_DIR"] = str(_SHARED / "tiktoken")


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
