"""A ``BlobStore`` on any obstore backend (``ObjectBlobStore``), and the stream meter that its
subclasses share.

Memory stays bounded whatever the file size: incoming chunks are coalesced into blocks of
``block_size``; S3 writes go through obstore's multipart upload (parts of ``part_size``, at most
``max_concurrency`` in flight); local writes keep one block in flight to the disk.
"""

import contextlib
import hashlib
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from datetime import datetime
from typing import TYPE_CHECKING

import anyio
import obstore
from obstore.store import LocalStore, S3Store

from submissions.blobs import (
    BlobInfo,
    BlobNotFound,
    ContentTooLarge,
    StoredBlob,
    check_key,
    check_prefix,
    new_blob_key,
)

if TYPE_CHECKING:
    from obstore import GetOptions, GetResult

MiB = 1024 * 1024


class Meter:
    """Counts a stream in batches of about ``block_size`` bytes, refusing it past ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0

    async def batches(
        self, chunks: AsyncIterable[bytes], block_size: int
    ) -> AsyncGenerator[list[bytes], None]:
        pending: list[bytes] = []
        pending_size = 0
        async for chunk in chunks:
            if not chunk:
                continue
            self.size += len(chunk)
            if self.size > self.max_bytes:
                raise ContentTooLarge(f"the content is larger than {self.max_bytes} bytes")
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size >= block_size:
                yield pending
                pending, pending_size = [], 0
        if pending:
            yield pending

    async def blocks(
        self, chunks: AsyncIterable[bytes], block_size: int, digest: "hashlib._Hash"
    ) -> AsyncGenerator[bytes, None]:
        """The stream hashed into ``digest`` and coalesced into blocks."""
        async for batch in self.batches(chunks, block_size):
            for chunk in batch:
                digest.update(chunk)
            yield batch[0] if len(batch) == 1 else b"".join(batch)


async def _nothing() -> AsyncIterator[bytes]:
    return
    yield


async def _prepend(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for block in rest:
        yield block


class ObjectBlobStore:
    """A ``BlobStore`` on any obstore backend; writes are obstore (multipart) uploads."""

    def __init__(
        self,
        store: LocalStore | S3Store,
        *,
        block_size: int = 1 * MiB,
        part_size: int = 5 * MiB,
        max_concurrency: int = 1,
        read_chunk_size: int = 256 * 1024,
    ) -> None:
        self._store = store
        self.block_size = block_size
        self.part_size = part_size
        self.max_concurrency = max_concurrency
        self.read_chunk_size = read_chunk_size

    async def write(
        self, chunks: AsyncIterable[bytes], *, max_bytes: int, prefix: str = "blobs"
    ) -> StoredBlob:
        key = new_blob_key(prefix)
        meter = Meter(max_bytes)
        digest = hashlib.sha256()
        blocks = meter.blocks(chunks, self.block_size, digest)
        try:
            try:
                first = await anext(blocks, b"")
                if len(first) < self.block_size:
                    # The whole stream fitted in one block: one plain PUT, no multipart upload.
                    await obstore.put_async(self._store, key, first, use_multipart=False)
                else:
                    # On any failure (the stream's own included) obstore aborts the multipart
                    # upload, so no part of it becomes visible.
                    await obstore.put_async(
                        self._store,
                        key,
                        _prepend(first, blocks),
                        use_multipart=True,
                        chunk_size=self.part_size,
                        max_concurrency=self.max_concurrency,
                    )
            finally:
                await blocks.aclose()
        except BaseException:
            with anyio.CancelScope(shield=True), contextlib.suppress(Exception):
                await obstore.delete_async(self._store, key)
            raise
        return StoredBlob(key=key, size=meter.size, sha256=digest.hexdigest())

    async def read(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        check_key(key)
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"invalid byte range [{start}, {end})")
        if end == start:
            return _nothing()
        return await self._get(key, start, end)

    async def _get(self, key: str, start: int, end: int | None) -> AsyncIterator[bytes]:
        options: GetOptions = {}
        if end is not None:
            options["range"] = (start, end)
        elif start:
            options["range"] = {"offset": start}
        result = await self._get_result(key, options)
        return result.stream(min_chunk_size=self.read_chunk_size)

    async def _get_result(self, key: str, options: "GetOptions") -> "GetResult":
        try:
            return await obstore.get_async(self._store, key, options=options)
        except FileNotFoundError as exc:
            raise BlobNotFound(f"no stored content under {key}") from exc

    async def size(self, key: str) -> int:
        check_key(key)
        try:
            meta = await obstore.head_async(self._store, key)
        except FileNotFoundError as exc:
            raise BlobNotFound(f"no stored content under {key}") from exc
        return meta["size"]

    async def delete(self, key: str) -> None:
        check_key(key)
        with contextlib.suppress(FileNotFoundError):
            await obstore.delete_async(self._store, key)

    async def list_keys(self, prefix: str = "") -> AsyncIterator[BlobInfo]:
        if prefix:
            check_prefix(prefix)
        async for batch in obstore.list(self._store, prefix or None, chunk_size=1000):
            for meta in batch:
                yield BlobInfo(
                    key=meta["path"], size=meta["size"], modified_at=meta["last_modified"]
                )

    async def ping(self) -> None:
        probe = f"_ping/{uuid.uuid4().hex}"
        await obstore.put_async(self._store, probe, b"", use_multipart=False)
        await obstore.delete_async(self._store, probe)

    async def now(self) -> datetime:
        probe = f"_clock/{uuid.uuid4().hex}"
        await obstore.put_async(self._store, probe, b"", use_multipart=False)
        try:
            meta = await obstore.head_async(self._store, probe)
        finally:
            with contextlib.suppress(FileNotFoundError):
                await obstore.delete_async(self._store, probe)
        return meta["last_modified"]
