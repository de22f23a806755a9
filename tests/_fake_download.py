"""A download served from memory: what ``urllib.request.urlopen`` returns, reading ``payload`` in chunks."""

from __future__ import annotations

from collections.abc import Callable


class FakeResponse:
    """``read(n)`` hands out the next ``n`` bytes (b"" at the end); ``on_read`` runs before each read, so
    a test can look at the disk while the download is under way."""

    def __init__(self, payload: bytes, on_read: Callable[[], None] | None = None):
        self.left = payload
        self.on_read = on_read

    def read(self, n: int) -> bytes:
        if self.on_read is not None:
            self.on_read()
        out, self.left = self.left[:n], self.left[n:]
        return out

    def __enter__(self) -> FakeResponse:
        return self

    def __exit__(self, *exc) -> bool:
        return False
