"""The blob-store interface that domain code receives, and the rules every store shares.

A blob is an opaque byte string under a generated key. Keys never come from a client: they are
``<prefix>/<2 hex>/<32 hex>`` (a random UUID, fanned out so no directory grows too large). A write
is all or nothing: it returns only once the blob is durable, and a write that fails (over its
byte cap, client gone, storage error) leaves nothing behind under the key.
"""

import re
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from models.errors import DomainError, NotFound

# Segments of letters, digits, '_', '.', '-': no "." or ".." segment, no leading dot, no empty one.
_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")
_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_-]*(/[a-z0-9][a-z0-9_-]*)*$")
# One range only: a multi-range request may be answered with the whole representation.
_RANGE = re.compile(r"bytes[ \t]*=[ \t]*([0-9]{0,18})[ \t]*-[ \t]*([0-9]{0,18})", re.IGNORECASE)


class ContentTooLarge(DomainError):
    status = 413
    type = "content-too-large"
    title = "Content too large"


class StorageFull(DomainError):
    """The blob store has no room left (a full disk, a quota): nothing was stored, and the same
    request may succeed later."""

    status = 507
    type = "insufficient-storage"
    title = "Insufficient storage"

    def __init__(self, detail: str = "the document store is full; try again later") -> None:
        super().__init__(detail, headers={"Retry-After": "60"})


class BlobNotFound(NotFound):
    type = "blob-not-found"
    title = "Stored content not found"


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """What a completed write reports: where the bytes are and what they were."""

    key: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class BlobInfo:
    """One entry of a listing."""

    key: str
    size: int
    modified_at: datetime


class BlobStore(Protocol):
    """Durable storage for uploaded bytes (a local directory or an S3-compatible bucket)."""

    async def write(
        self, chunks: AsyncIterable[bytes], *, max_bytes: int, prefix: str = "blobs"
    ) -> StoredBlob:
        """Store the stream under a new key; return once it is durable.

        Counts and hashes (SHA-256) the bytes as they pass. Raises ``ContentTooLarge`` as soon as
        more than ``max_bytes`` arrive; then, as on any other failure (including an exception
        raised by ``chunks``), nothing is left under the key.
        """
        ...

    async def read(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """Open bytes ``[start, end)`` of a blob (``end=None``: to the end) as a stream of
        bounded chunks.

        Awaiting it raises ``BlobNotFound`` when the key holds nothing, before any byte is sent.
        """
        ...

    async def size(self, key: str) -> int:
        """The blob's size in bytes; ``BlobNotFound`` when absent."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the blob; deleting an absent key is not an error."""
        ...

    def list_keys(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        """Every blob under ``prefix`` (a path-segment prefix), in no particular order."""
        ...

    async def ping(self) -> None:
        """Raise when the store is unreachable or not writable."""
        ...

    async def now(self) -> datetime:
        """The store's own clock: the time it stamps on a blob written now.

        ``BlobInfo.modified_at`` is by this clock (the file system's, the S3 server's), which
        need not be this host's: blob ages are measured against it.
        """
        ...


def new_blob_key(prefix: str = "blobs") -> str:
    """A fresh key under ``prefix``; never derived from anything the client sent."""
    check_prefix(prefix)
    token = uuid.uuid4().hex
    return f"{prefix}/{token[:2]}/{token}"


def check_key(key: str) -> str:
    """Refuse anything that is not a well-formed key (keys come from our rows, but be sure)."""
    if len(key) > 512 or not _KEY.fullmatch(key):
        raise ValueError(f"not a blob key: {key!r}")
    return key


def check_prefix(prefix: str) -> str:
    if not _PREFIX.fullmatch(prefix):
        raise ValueError(f"not a blob key prefix: {prefix!r}")
    return prefix


@dataclass(frozen=True, slots=True)
class ByteRange:
    """A satisfiable single byte range: ``start`` inclusive, ``end`` exclusive."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end - 1}/{size}"


class RangeNotSatisfiable(DomainError):
    status = 416
    type = "range-not-satisfiable"
    title = "Range not satisfiable"


def parse_byte_range(header: str | None, size: int) -> ByteRange | None:
    """Interpret a ``Range`` header against a blob of ``size`` bytes (RFC 9110 section 14).

    ``None`` means "send the whole representation": no header, another unit, or a multi-range
    request (only single ranges are served, which a server may do by ignoring the header).
    Raises ``RangeNotSatisfiable`` (with ``Content-Range: bytes */size``) when the one range
    asked for lies wholly outside the blob.
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:  # suffix range: the last N bytes
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(size)
        return ByteRange(max(size - suffix, 0), size)
    start = int(first)
    if last and int(last) < start:
        return None  # an invalid range-spec is ignored, like a missing header
    if start >= size:
        raise _unsatisfiable(size)
    end = min(int(last) + 1, size) if last else size
    return ByteRange(start, end)


def _unsatisfiable(size: int) -> RangeNotSatisfiable:
    return RangeNotSatisfiable(
        f"the requested range lies outside the {size} bytes of this content",
        headers={"Content-Range": f"bytes */{size}"},
    )


async def sweep_orphans(
    *,
    store: BlobStore,
    referenced: Callable[[Collection[str]], Awaitable[Collection[str]]],
    now: datetime,
    grace: timedelta = timedelta(hours=1),
    prefix: str = "",
    batch_size: int = 500,
) -> list[str]:
    """Delete blobs that no row refers to; return the deleted keys.

    ``referenced(keys)`` answers which of ``keys`` some row still refers to. Blobs younger than
    ``grace`` at ``now`` are kept: their upload may not have committed its row yet. ``now`` is
    by the store's clock (``store.now()``), the one that stamped ``modified_at``.
    """
    deleted: list[str] = []
    batch: list[str] = []

    async def flush() -> None:
        keep = set(await referenced(batch))
        for key in batch:
            if key not in keep:
                await store.delete(key)
                deleted.append(key)
        batch.clear()

    async for info in store.list_keys(prefix):
        if now - info.modified_at < grace:
            continue
        batch.append(info.key)
        if len(batch) >= batch_size:
            await flush()
    if batch:
        await flush()
    return deleted
