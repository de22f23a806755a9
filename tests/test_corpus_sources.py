"""Where a corpus is found and which corpora are accepted (the data every figure is measured on)."""

from __future__ import annotations

import hashlib
import urllib.request

import pytest
from _fake_download import FakeResponse

from lmhelpers.data import KNOWN_DATASETS, KnownDataset, load_text, resolve_dataset, split_text


@pytest.fixture()
def tiny(monkeypatch, tmp_path):
    """A known dataset 'tiny', nowhere on disk yet; downloads are served from memory."""
    payload = b"Small but real corpus.\n" * 20
    monkeypatch.setenv("LMHELPERS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    info = KnownDataset(
        "tiny.txt", "http://example.invalid/tiny.txt", hashlib.sha256(payload).hexdigest(), 460
    )
    monkeypatch.setitem(KNOWN_DATASETS, "tiny", info)

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: FakeResponse(payload))
    return tmp_path, payload


def test_the_user_cache_is_searched_before_downloading(tiny):
    tmp_path, payload = tiny
    cached = tmp_path / "cache" / "lmhelpers" / "tiny.txt"
    cached.parent.mkdir(parents=True)
    cached.write_bytes(payload)
    assert resolve_dataset("tiny", download=False) == cached


def test_resolve_dataset_downloads_by_default(tiny):
    tmp_path, payload = tiny
    path = resolve_dataset("tiny")
    assert path == tmp_path / "cache" / "lmhelpers" / "tiny.txt" and path.read_bytes() == payload


def test_a_corpus_of_two_distinct_characters_is_accepted(tmp_path):
    path = tmp_path / "ab.txt"
    path.write_text("ab" * 50 + "ba" * 50, encoding="utf-8")
    text = load_text(path)
    assert set(text) == {"a", "b"}
    assert split_text(text) == (text[:180], text[180:])
