import hashlib
import http.client
import re
import unicodedata
import urllib.request

import pytest
import torch
from _fake_download import FakeResponse

from lmhelpers import data as data_mod
from lmhelpers.data import DataError, TokenDataset, load_text, resolve_dataset, split_text
from lmhelpers.generation import encode_prompt
from lmhelpers.tokenizers import train_tokenizer


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

    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: FakeResponse(b"not shakespeare"))
    with pytest.raises(DataError, match="sha256"):
        load_text("tinyshakespeare")
    assert not any(p.is_file() for p in (tmp_path / "cache").rglob("*"))

    good = b"Good text.\n"
    info = data_mod.KnownDataset(
        "tiny.txt", "http://example.invalid/tiny.txt", hashlib.sha256(good).hexdigest(), len(good)
    )
    monkeypatch.setitem(data_mod.KNOWN_DATASETS, "tiny", info)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: FakeResponse(good))
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


class _BrokenStream:
    """An HTTP response that delivers the first half of ``payload``, then fails with ``error``."""

    def __init__(self, payload: bytes, error: BaseException):
        self.left, self.error = payload[: len(payload) // 2], error

    def read(self, n):
        if not self.left:
            raise self.error
        out, self.left = self.left[:n], self.left[n:]
        return out

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False


def _tiny_dataset(monkeypatch, tmp_path, payload: bytes):
    monkeypatch.setenv("LMHELPERS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    info = data_mod.KnownDataset(
        "tiny.txt", "http://example.invalid/tiny.txt", hashlib.sha256(payload).hexdigest(), len(payload)
    )
    monkeypatch.setitem(data_mod.KNOWN_DATASETS, "tiny", info)
    return tmp_path / "cache" / "lmhelpers"


@pytest.mark.parametrize(
    "error, raised",
    [
        (http.client.IncompleteRead(b"", 70000), DataError),  # the server closed the connection early
        (ConnectionResetError("connection reset by peer"), DataError),
        (TimeoutError("read timed out"), DataError),
        (KeyboardInterrupt(), KeyboardInterrupt),  # the user stopped it: no DataError, but still no file
    ],
)
def test_download_interrupted_half_way_leaves_nothing_that_passes(monkeypatch, tmp_path, error, raised):
    payload = b"To be, or not to be, that is the question.\n" * 3000
    cache = _tiny_dataset(monkeypatch, tmp_path, payload)
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: _BrokenStream(payload, error))
    with pytest.raises(raised) as err:
        load_text("tiny")
    if raised is DataError:
        assert "the download failed" in str(err.value) and str(tmp_path / "data" / "tiny.txt") in str(
            err.value
        )
    assert not [p for p in cache.rglob("*") if p.is_file()]  # no partial file, not even a hidden one
    with pytest.raises(DataError, match="downloading is switched off"):  # and nothing found later
        load_text("tiny", download=False)


def test_a_partial_file_never_passes_as_the_dataset(monkeypatch, tmp_path):
    """A download killed by SIGKILL leaves a hidden .part file; one cut short by hand (wget) a short file."""
    payload = b"Now is the winter of our discontent\n" * 100
    cache = _tiny_dataset(monkeypatch, tmp_path, payload)
    cache.mkdir(parents=True)
    (cache / ".tiny.txt.k3j2x9.part").write_bytes(payload)  # even complete, a .part file is not used
    with pytest.raises(DataError, match="was not found"):
        load_text("tiny", download=False)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "tiny.txt").write_bytes(payload[: len(payload) // 2])
    with pytest.raises(DataError, match="sha256 does not match tiny's; delete it or replace it"):
        load_text("tiny", download=False)


# ----------------------------------------------------------------- any text, in any script, works
_CLEAN = "첫째 줄에는 한글이 있다.\nSecond line: café, naïve.\n셋째 줄.\n" * 20


@pytest.mark.parametrize(
    "variant",
    [
        pytest.param(lambda t: "\ufeff" + t, id="byte-order-mark"),
        pytest.param(lambda t: t.replace("\n", "\r\n"), id="windows-line-endings"),
        pytest.param(lambda t: t.replace("\n", "\r"), id="old-mac-line-endings"),
        pytest.param(lambda t: unicodedata.normalize("NFD", t), id="decomposed-NFD"),
        pytest.param(lambda t: "\ufeff" + unicodedata.normalize("NFD", t).replace("\n", "\r\n"), id="all"),
    ],
)
@pytest.mark.parametrize("kind", ["char", "word", "bpe"])
def test_messy_text_gives_the_tokenizer_of_its_clean_form(tmp_path, variant, kind):
    clean, messy = tmp_path / "clean.txt", tmp_path / "messy.txt"
    clean.write_text(_CLEAN, encoding="utf-8")
    messy.write_bytes(variant(_CLEAN).encode("utf-8"))
    assert messy.read_bytes() != clean.read_bytes()
    assert load_text(messy) == load_text(clean) == _CLEAN
    tokenizers = [train_tokenizer(kind, load_text(p), 300) for p in (clean, messy)]
    assert tokenizers[0].to_dict() == tokenizers[1].to_dict()
    if kind != "bpe":  # byte-level BPE has every byte in its base vocabulary, \r included
        assert "\r" not in "".join(tokenizers[1].token_strings(range(tokenizers[1].vocab_size)))


def test_normalisation_can_be_switched_off(tmp_path):
    path = tmp_path / "nfd.txt"
    path.write_text(unicodedata.normalize("NFD", "한글"), encoding="utf-8")
    assert load_text(path, normalize="none") == unicodedata.normalize("NFD", "한글")
    assert load_text(path) == "한글"
    assert len(load_text(path, normalize="none")) == 6 and len(load_text(path)) == 2  # jamo vs syllables


def test_a_decomposed_prompt_finds_the_words_the_tokenizer_knows():
    tok = train_tokenizer("word", "사과 배 사과 포도 사과\n" * 5, 50)
    nfd = unicodedata.normalize("NFD", "사과")
    assert encode_prompt(tok, nfd) == tok.encode("사과") and tok.unknown_words("사과") == []


@pytest.mark.parametrize(
    "raw, says",
    [
        ("“Quoted” — text".encode("cp1252"), "looks like cp1252; convert it, e.g. `iconv -f cp1252"),
        ("한국어 문장입니다".encode("cp949"), "looks like cp949; convert it, e.g. `iconv -f cp949"),
        ("café au lait".encode("latin1"), "looks like latin1"),
    ],
)
def test_the_encoding_advice_names_the_likely_encoding(tmp_path, raw, says):
    path = tmp_path / "legacy.txt"
    path.write_bytes(raw)
    with pytest.raises(DataError, match=re.escape(says)):
        load_text(path)


def test_too_short_or_too_uniform_corpora_say_what_is_wrong(tmp_path):
    one = tmp_path / "one.txt"
    one.write_text("a", encoding="utf-8")
    with pytest.raises(DataError, match="single distinct character"):
        load_text(one)
    with pytest.raises(DataError, match="cannot be split into training and validation.*longer text"):
        split_text("x", 0.5)  # one character: one of the two parts would be empty


# ------------------------------------------------------------- where files go, what is read how
def test_the_default_cache_is_dot_cache_in_the_home_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data_mod.user_cache_dir() == tmp_path / ".cache" / "lmhelpers"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_mod.user_cache_dir() == tmp_path / "xdg" / "lmhelpers"


def test_a_download_goes_to_a_hidden_part_file_beside_the_target(monkeypatch, tmp_path):
    """The partial file sits in the cache folder (so the final rename stays on one file system) as a
    hidden ``.<name>.*.part``; the request names the dataset's URL and gives up after 30 seconds."""
    payload = b"Once more unto the breach, dear friends.\n" * 50
    cache = _tiny_dataset(monkeypatch, tmp_path, payload)
    seen, calls = [], []

    def urlopen(url, timeout=None):
        calls.append((url, timeout))
        return FakeResponse(payload, on_read=lambda: seen.extend(p.name for p in cache.iterdir()))

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    assert load_text("tiny") == payload.decode()
    assert calls == [("http://example.invalid/tiny.txt", 30)]
    assert seen and all(re.fullmatch(r"\.tiny\.txt\..+\.part", name) for name in seen), seen
    assert [p.name for p in cache.iterdir()] == ["tiny.txt"]


def test_normalize_text_defaults_to_nfc():
    assert data_mod.normalize_text(unicodedata.normalize("NFD", "한글 café")) == "한글 café"


def test_load_text_defaults_to_tinyshakespeare_and_honours_data_dir(shakespeare_path, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LMHELPERS_DATA_DIR", str(tmp_path / "empty"))
    text = load_text(data_dir=shakespeare_path.parent, download=False)
    assert len(text) == 1_115_394 and text.startswith("First Citizen:")
    monkeypatch.setenv("LMHELPERS_DATA_DIR", str(shakespeare_path.parent))
    assert load_text() == text


def test_a_folder_keeps_its_characters_when_normalisation_is_off(tmp_path):
    nfd = unicodedata.normalize("NFD", "한글 문장")
    (tmp_path / "a.txt").write_text(nfd, encoding="utf-8")
    (tmp_path / "b.txt").write_text(nfd, encoding="utf-8")
    assert load_text(tmp_path, normalize="none") == nfd + "\n\n" + nfd
    assert load_text(tmp_path) == "한글 문장\n\n한글 문장"


def test_the_binary_sniff_reads_the_first_8_kib(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(b"a" * 8191 + b"\x00" + b"b")
    with pytest.raises(DataError, match="binary"):
        load_text(path)
    path.write_bytes(b"a" * 8192 + b"\x00" + b"b")  # a NUL past the sniffed bytes is just a character
    assert load_text(path) == "a" * 8192 + "\x00b"


def test_the_utf8_error_names_the_right_line(tmp_path):
    path = tmp_path / "x.txt"
    path.write_bytes(b"one\ntwo\ncaf\xe9 au lait\n")
    with pytest.raises(DataError, match=r"not valid UTF-8 at byte 11 \(line 3\)"):
        load_text(path)


@pytest.mark.parametrize(
    "raw, says",
    [
        ("UTF-16 text, little-endian".encode("utf-16-le"), None),
        (b"\xff\xfe" + "UTF-16 text, little-endian".encode("utf-16-le"), "looks like utf-16"),
        (b"\xfe\xff" + "UTF-16 text, big-endian".encode("utf-16-be"), "looks like utf-16"),
        ("가".encode("cp949"), "looks like cp949"),  # the first Hangul syllable
        ("힣".encode("cp949"), "looks like cp949"),  # the last one
        ("informações".encode("latin1"), "looks like latin1"),  # valid cp949, but Hanja, not Hangul
        ("€5".encode("cp1252"), "looks like cp1252"),  # 0x80, the first cp1252-only byte
        ("Ÿ.".encode("cp1252"), "looks like cp1252"),  # 0x9f, the last one
        ("50\xa0".encode("latin1"), "looks like latin1"),  # 0xa0 is latin1 too
    ],
)
def test_the_encoding_advice_at_the_edges(tmp_path, raw, says):
    path = tmp_path / "legacy.txt"
    path.write_bytes(raw)
    with pytest.raises(DataError, match=re.escape(says) if says else "binary"):
        load_text(path)


def test_token_ids_are_stored_as_long_whatever_they_came_as():
    ds = TokenDataset(torch.arange(40, dtype=torch.int32), torch.arange(20, dtype=torch.int16))
    assert ds.train.dtype == ds.val.dtype == torch.long
    assert ds.tokens_per_char is None and TokenDataset(ds.train, ds.val, val_chars=0).tokens_per_char is None


def test_batches_go_to_the_device_asked_for():
    ds = _dataset()
    x, y = ds.get_batch("train", 2, 8, torch.Generator().manual_seed(0), device="meta")
    assert x.device.type == y.device.type == "meta" and x.shape == y.shape == (2, 8)
    x, y, first = ds.stream_windows("train", 2, 8, 0)  # no device: the CPU
    assert x.device.type == y.device.type == "cpu" and first
    assert torch.equal(x[:, 0], torch.tensor([0, 50])) and torch.equal(y, x + 1)
