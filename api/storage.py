"""Blob storage: one small interface; the embedded default keeps files in a local directory."""

from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse


class BlobStore(Protocol):
    def ping(self) -> None:
        """Raise when the store is unreachable."""


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def ping(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        probe = self.root / ".ready"
        probe.write_bytes(b"")
        probe.unlink()


def make_blob_store(url: str) -> BlobStore:
    parsed = urlparse(url)
    if parsed.scheme == "file":
        # file:///abs/path and file://./relative/path are both accepted.
        path = (parsed.netloc + parsed.path) if parsed.netloc else parsed.path
        return LocalBlobStore(Path(path))
    raise ValueError(f"unsupported storage URL scheme: {parsed.scheme!r}")
