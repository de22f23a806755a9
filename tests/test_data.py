import hashlib
import urllib.request

import pytest
import torch

from lmhelpers import data as data_mod
from lmhelpers.data import DataError, TokenDataset, load_text, resolve_dataset, split_text


def test_known_dataset_found_through_env(shakespeare_path, monkeypatch):
    monkeypatch.setenv("LMHELPERS_DATA_DIR", str(shakespeare_path.parent))
    text = load_text("tinyshakespeare")
    assert len(text) == 1_115_394 and text.startswith("First Citizen:")


def test_explicit_data_dir_wins(shakespeare_path, monkeypatch, tmp_path):
    monkeypatch.setenv("LMHELPERS_DATA_DIR", str(tmp_path))  # empty: would fail
    assert resolve_dataset("tinyshakespeare", data_dir=shakespeare_path.parent) == shakespeare_path


def test_offline_error_says_where_to_put_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv("LMHELPERS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    def offline(*a, **k):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(DataError) as err:
        load_text("tinyshakespeare")
    msg = str(err.value)
    assert str(tmp_path / "data" / "tinyshakespeare.txt") in msg
    assert "LMHELPERS_DATA_DIR" in msg and "sha256" in msg
    assert not list((tmp_path / "cache").rglob("*.txt"))  # nothing half-downloaded left behind


def test_download_is_verified_before_it_is_kept(monkeypatch, tmp_path):
    """A download whose bytes do not match the sha256 is discarded, never cached as the dataset."""
    monkeypatch.setenv("LMHELPERS_DATA_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))

    class Resp:
        def __init__(self, payload):
            self.payload = payload

        def read(self, n):
            out, self.payload = self.payload[:n], self.payload[n:]
            return out

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: Resp(b"not shakespeare"))
    with pytest.raises(DataError, match="sha256"):
        load_text("tinyshakespeare")
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))

    good = b"Good text.\n"
    info = data_mod.KnownDataset(
        "tiny.txt", "http://example.invalid/tiny.txt", hashlib.sha256(good).hexdigest(), len(good)
    )
    monkeypatch.setitem(data_mod.KNOWN_DATASETS, "tiny", info)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: Resp(good))
    assert load_text("tiny") == "Good text.\n"
    assert (tmp_path / "cache" / "lmhelpers" / "tiny.txt").read_bytes() == good


def test_unknown_name_is_explained():
    with pytest.raises(DataError, match="neither an existing file"):
        load_text("no-such-corpus")


def test_folder_of_text_files(tmp_path):
    (tmp_path / "b.txt").write_text("second", encoding="utf-8")
    (tmp_path / "a.txt").write_text("first", encoding="utf-8")
    (tmp_path / "skip.bin").write_bytes(b"\x00\x01")
    assert load_text(tmp_path) == "first\n\nsecond"


@pytest.mark.parametrize(
    "content, match",
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"caf\xe9 au lait", r"not valid UTF-8 at byte 3 \(line 1\)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "binary"),
    ],
)
def test_bad_files(tmp_path, content, match):
    p = tmp_path / "x.txt"
    p.write_bytes(content)
    with pytest.raises(DataError, match=match):
        load_text(p)


def test_empty_folder(tmp_path):
    with pytest.raises(DataError, match="no text files"):
        load_text(tmp_path)


def test_split_is_deterministic_and_complete():
    text = "abcdefghij" * 10
    train, val = split_text(text, 0.1)
    assert train + val == text and len(val) == 10
    assert split_text(text, 0.1) == (train, val)


def _dataset(n=100):
    return TokenDataset(torch.arange(n), torch.arange(1000, 1000 + n // 2), val_chars=n)


def test_batches_are_shifted_windows():
    ds = _dataset()
    x, y = ds.get_batch("train", 4, 8, torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (4, 8) and x.dtype == torch.long
    assert torch.equal(y[:, :-1], x[:, 1:]) and torch.equal(y[:, -1], x[:, -1] + 1)
    xv, _ = ds.get_batch("val", 2, 8)
    assert (xv >= 1000).all()


def test_batches_reproducible_with_generator():
    ds = _dataset()
    a = ds.get_batch("train", 4, 8, torch.Generator().manual_seed(3))
    b = ds.get_batch("train", 4, 8, torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0])


def test_fixed_eval_starts_are_fixed():
    ds = _dataset()
    assert torch.equal(ds.fixed_starts("val", 3, 2, 8, seed=1), ds.fixed_starts("val", 3, 2, 8, seed=1))


def test_corpus_shorter_than_context():
    ds = _dataset(20)
    with pytest.raises(DataError, match="val split has 10 tokens, fewer than block_size \\+ 1 = 17"):
        ds.check_block_size(16)
    ds.check_block_size(8)


def test_tokens_per_char():
    assert _dataset(100).tokens_per_char == pytest.approx(0.5)
