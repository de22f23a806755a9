"""Corpus loading, the train/validation split, and random-window batches.

Every text is cleaned the same way before anything else sees it (:func:`normalize_text`): a leading
byte-order mark is dropped, Windows and old Mac line endings become ``\n``, and the text is put in
Unicode NFC form by default, so Korean typed as separate jamo (NFD, as some systems save files) is the
same text as Korean typed as syllables.

The split is made on the *text* (the first 90% of characters train, the rest validate), before any
tokenizer sees it. Every tokenizer is therefore trained on training text only and evaluated on the
very same validation characters, which is what makes bits per character comparable across tokenizers.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import tempfile
import unicodedata
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import torch

from .language import N_, tr

DATA_DIR_ENV = "LMHELPERS_DATA_DIR"
TEXT_SUFFIXES = (".txt", ".md", ".text")
SPLITS = {"train": N_("train"), "val": N_("val")}  # the two parts of a corpus, as messages name them


class DataError(ValueError):
    """The corpus cannot be used as given; the message says what to change."""


@dataclass(frozen=True)
class KnownDataset:
    filename: str
    url: str
    sha256: str
    size: int


KNOWN_DATASETS: dict[str, KnownDataset] = {
    "tinyshakespeare": KnownDataset(
        filename="tinyshakespeare.txt",
        url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt",
        sha256="86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
        size=1_115_394,
    ),
}


def user_cache_dir() -> Path:
    """Where downloads are kept: $XDG_CACHE_HOME/lmhelpers or ~/.cache/lmhelpers."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "lmhelpers"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        # pragma: no mutate start - read size only: the same digest
        for chunk in iter(lambda: f.read(1 << 20), b""):
            # pragma: no mutate end
            h.update(chunk)
    return h.hexdigest()


def resolve_dataset(
    name_or_path: str | os.PathLike, data_dir: str | os.PathLike | None = None, download: bool = True
) -> Path:
    """Find a corpus on disk, downloading a known one if needed.

    Order: an existing path; ``data_dir``; ``$LMHELPERS_DATA_DIR``; the user cache; a download of a known
    dataset (checked against its sha256 before it is kept).
    """
    candidate = Path(name_or_path).expanduser()
    if candidate.exists():
        return candidate
    name = str(name_or_path)
    if name not in KNOWN_DATASETS:
        raise DataError(
            tr(
                "dataset {name!r} is neither an existing file or folder nor a known dataset ({known}). Give a "
                "path to a UTF-8 text file or a folder of .txt files.",
                name=name,
                known=sorted(KNOWN_DATASETS),
            )
        )
    info = KNOWN_DATASETS[name]
    dirs = [Path(d).expanduser() for d in (data_dir, os.environ.get(DATA_DIR_ENV)) if d]
    dirs.append(user_cache_dir())
    for d in dirs:
        path = d / info.filename
        if path.is_file():
            if sha256_of(path) != info.sha256:
                raise DataError(
                    tr(
                        "{path} exists but its sha256 does not match {name}'s; delete it or replace it with "
                        "the original file ({url}).",
                        path=path,
                        name=name,
                        url=info.url,
                    )
                )
            return path
    if not download:
        raise DataError(_missing_message(info, dirs, reason=tr("downloading is switched off")))
    return _download(info, user_cache_dir(), searched=dirs)


def _missing_message(info: KnownDataset, searched: list[Path], reason: str) -> str:
    # pragma: no mutate start - layout of an error message only
    places = "\n".join(f"  - {d / info.filename}" for d in searched)
    # pragma: no mutate end
    return tr(
        "{file} was not found and {reason}. Put a copy ({size:,} bytes, sha256 {sha256}) at one of:\n{places}\n"
        "or set {env} to the folder that holds it. Source: {url}",
        file=info.filename,
        reason=reason,
        size=info.size,
        sha256=info.sha256,
        places=places,
        env=DATA_DIR_ENV,
        url=info.url,
    )


def _download(info: KnownDataset, dest_dir: Path, searched: list[Path]) -> Path:
    """Download to a temporary file, check the sha256, then rename: a broken download never looks valid."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / info.filename
    fd, tmp_name = tempfile.mkstemp(dir=dest_dir, prefix=f".{info.filename}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(info.url, timeout=30) as resp:
            # pragma: no mutate start - read size only: the same bytes are written
            while chunk := resp.read(1 << 16):
                # pragma: no mutate end
                out.write(chunk)
        digest = sha256_of(Path(tmp_name))
        if digest != info.sha256:
            raise DataError(
                tr(
                    "downloaded {url} but its sha256 is {digest}, expected {sha256}; the file was discarded. Try "
                    "again, or place a verified copy by hand.",
                    url=info.url,
                    digest=digest,
                    sha256=info.sha256,
                )
            )
        os.replace(tmp_name, dest)
        return dest
    except (urllib.error.URLError, http.client.HTTPException, OSError, TimeoutError) as exc:
        # HTTPException covers IncompleteRead: the connection closed half-way through the file.
        problem = f"{type(exc).__name__}: {exc}"  # pragma: no mutate - wording of an error message only
        reason = tr("the download failed ({problem})", problem=problem)
        raise DataError(_missing_message(info, searched, reason=reason)) from exc
    finally:
        if os.path.exists(tmp_name):
            os.remove(tmp_name)


def normalize_text(text: str, form: str = "NFC") -> str:
    """``text`` without a leading byte-order mark, with ``\n`` line endings, in Unicode ``form``
    ("NFC", "NFKC", or "none" to keep the characters as they are)."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text if form == "none" else unicodedata.normalize(form, text)


def _likely_encoding(raw: bytes) -> str:
    """The legacy encoding a non-UTF-8 file most likely uses, for the advice in the error message."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for enc in ("cp949", "cp1252"):  # Korean Windows, then Western Windows (curly quotes in 0x80-0x9f)
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        if enc == "cp949" and any("\uac00" <= c <= "\ud7a3" for c in text):
            return "cp949"
        if enc == "cp1252" and any(0x80 <= b <= 0x9F for b in raw):
            return "cp1252"
    return "latin1"


def read_text_file(path: Path) -> str:
    raw = path.read_bytes()
    if b"\x00" in raw[:8192] and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(
            tr("{path} looks like a binary file (it contains NUL bytes); give a UTF-8 text file.", path=path)
        )
    try:
        return raw.decode("utf-8")  # pragma: no mutate - equivalent: codec names are case-insensitive
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        enc = _likely_encoding(raw)
        raise DataError(
            tr(
                "{path} is not valid UTF-8 at byte {byte} (line {line}) and looks like {encoding}; convert it, e.g. "
                "`iconv -f {encoding} -t utf-8 {name} > fixed.txt`.",
                path=path,
                byte=exc.start,
                line=line,
                encoding=enc,
                name=path.name,
            )
        ) from exc


def load_text(
    name_or_path: str | os.PathLike = "tinyshakespeare",
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    normalize: str = "NFC",
) -> str:
    """The corpus as one string: a known dataset, a UTF-8 file, or every text file in a folder (sorted),
    each cleaned by :func:`normalize_text`."""
    path = resolve_dataset(name_or_path, data_dir, download)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in TEXT_SUFFIXES)
        if not files:
            raise DataError(
                tr(
                    "folder {path} holds no text files ({suffixes}); add some or point at a file.",
                    path=path,
                    suffixes=", ".join(TEXT_SUFFIXES),
                )
            )
        text = "\n\n".join(normalize_text(read_text_file(p), normalize) for p in files)
    else:
        text = normalize_text(read_text_file(path), normalize)
    if not text.strip():
        raise DataError(tr("the corpus at {path} is empty; give a text with some content.", path=path))
    if len(set(text)) < 2:
        raise DataError(
            tr(
                "the corpus at {path} has a single distinct character ({char!r}); there is nothing to predict. "
                "Give a text with some variety.",
                path=path,
                char=text[0],
            )
        )
    return text


def split_text(text: str, val_fraction: float = 0.1) -> tuple[str, str]:
    """The first (1 - val_fraction) of the characters train; the rest validate. Deterministic."""
    if not 0 < val_fraction < 1:
        raise DataError(tr("val_fraction={value} must be strictly between 0 and 1", value=val_fraction))
    cut = int(len(text) * (1 - val_fraction))
    if cut == 0 or cut == len(text):
        raise DataError(
            tr(
                "a text of {n} characters cannot be split into training and validation parts at "
                "val_fraction={value}; give a longer text.",
                n=len(text),
                value=val_fraction,
            )
        )
    return text[:cut], text[cut:]


class TokenDataset:
    """Train and validation token ids as 1-D long tensors, sampled as random windows."""

    def __init__(self, train_ids: torch.Tensor, val_ids: torch.Tensor, val_chars: int | None = None):
        self.train = train_ids.to(torch.long).contiguous()
        self.val = val_ids.to(torch.long).contiguous()
        # Validation characters per token, for bits per character (see metrics.bits_per_char).
        self.val_chars = val_chars
        self.tokens_per_char = len(self.val) / val_chars if val_chars else None

    @classmethod
    def from_text(cls, train_text: str, val_text: str, tokenizer) -> TokenDataset:
        """Encode both splits once with ``tokenizer``."""
        # pragma: no mutate start - equivalent: int64 is the default for ints and __init__ casts to long
        train = torch.tensor(tokenizer.encode(train_text), dtype=torch.long)
        # pragma: no mutate end
        # pragma: no mutate start - equivalent: int64 is the default for ints and __init__ casts to long
        val = torch.tensor(tokenizer.encode(val_text), dtype=torch.long)
        # pragma: no mutate end
        return cls(train, val, val_chars=len(val_text))

    def split(self, name: str) -> torch.Tensor:
        if name not in ("train", "val"):
            raise ValueError(tr("split must be 'train' or 'val', not {name!r}", name=name))
        return self.train if name == "train" else self.val

    def check_block_size(self, block_size: int) -> None:
        """Each split must hold at least one full window plus its next-token target."""
        for name in ("train", "val"):
            n = len(self.split(name))
            if n < block_size + 1:
                raise DataError(
                    tr(
                        "the {split} split has {n} tokens, fewer than block_size + 1 = {needed}. Use a longer "
                        "corpus, a smaller block_size, or a larger val_fraction (for the val split).",
                        split=tr(SPLITS[name]),
                        n=n,
                        needed=block_size + 1,
                    )
                )

    def get_batch(
        self,
        split: str,
        batch_size: int,
        block_size: int,
        generator: torch.Generator | None = None,
        device: torch.device | str = "cpu",
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``batch_size`` random windows: inputs ``x`` and next-token targets ``y``, both [B, T]."""
        data = self.split(split)
        starts = torch.randint(len(data) - block_size, (batch_size,), generator=generator)
        return self.windows(data, starts, block_size, device)

    @staticmethod
    def windows(
        data: torch.Tensor, starts: torch.Tensor, block_size: int, device: torch.device | str = "cpu"
    ) -> tuple[torch.Tensor, torch.Tensor]:
        chunk = data[starts[:, None] + torch.arange(block_size + 1)]
        x, y = chunk[:, :-1], chunk[:, 1:]
        device = torch.device(device)
        # pragma: no mutate start - CUDA only: a pinned, non-blocking copy (speed only)
        if device.type == "cuda":  # pinned memory lets the copy overlap with compute
            return x.pin_memory().to(device, non_blocking=True), y.pin_memory().to(device, non_blocking=True)
        # pragma: no mutate end
        return x.to(device), y.to(device)

    def fixed_starts(
        self,
        split: str,
        n_batches: int,
        batch_size: int,
        block_size: int,
        seed: int = 0,  # pragma: no mutate - a default every caller overrides
    ) -> torch.Tensor:
        """Window starts for a fixed evaluation set: the same batches at every evaluation, so curves are smooth."""
        g = torch.Generator().manual_seed(seed)
        return torch.randint(len(self.split(split)) - block_size, (n_batches, batch_size), generator=g)

    def stream_windows(
        self, split: str, rows: int, block_size: int, index: int
    ) -> tuple[torch.Tensor, torch.Tensor, bool]:
        """Window ``index`` of ``rows`` contiguous streams, for training with a carried state.

        The split is cut into ``rows`` equal streams, one per batch row, read ``block_size`` tokens at a
        time: window k of row b follows window k - 1 of the same row in the text, so the state left by
        one step is the right start for the next (truncated backpropagation through time). After the
        last full window the streams start again from their beginning; the flag says a window is the
        first of such a pass, where the state must be reset.
        """
        data = self.split(split)
        length = len(data) // rows
        n_windows = (length - 1) // block_size
        if n_windows < 1:
            raise DataError(
                tr(
                    "the {split} split ({n} tokens) cut into {rows} streams leaves {length} tokens per stream, "
                    "fewer than block_size + 1 = {needed}. Lower batch_size or block_size.",
                    split=tr(SPLITS[split]),
                    n=len(data),
                    rows=rows,
                    length=length,
                    needed=block_size + 1,
                )
            )
        k = index % n_windows
        starts = torch.arange(rows) * length + k * block_size
        x, y = self.windows(data, starts, block_size)
        return x, y, k == 0
