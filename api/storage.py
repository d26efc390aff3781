"""Blob storage adapters behind ``submissions.blobs.BlobStore``: a local directory (the embedded
default) and S3-compatible object storage, both read, listed and deleted through obstore.

Memory stays bounded whatever the file size: incoming chunks are coalesced into blocks of
``block_size``; S3 writes go through obstore's multipart upload (parts of ``part_size``, at most
``max_concurrency`` in flight); local writes keep one block in flight to the disk.

Local writes do not use obstore's ``LocalStore.put``: it never fsyncs, and durability is the point.
A local write streams into ``_staging/<token>`` (directly to the disk where the file system allows
``O_DIRECT``, else through the page cache with the disk flush started while the upload still
arrives), then fsyncs, renames the file to its key and fsyncs the directories above it.
"""

import asyncio
import concurrent.futures
import contextlib
import errno
import fcntl
import functools
import hashlib
import ipaddress
import mmap
import os
import uuid
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlparse

import anyio
import obstore
from fastapi import Depends, Request
from fastapi.responses import StreamingResponse
from obstore.exceptions import GenericError
from obstore.store import LocalStore, S3Store

from api.settings import Settings
from submissions.blobs import (
    BlobInfo,
    BlobNotFound,
    BlobStore,
    ContentTooLarge,
    StorageFull,
    StoredBlob,
    check_key,
    check_prefix,
    new_blob_key,
    parse_byte_range,
)
from submissions.content import content_disposition

if TYPE_CHECKING:
    from obstore import GetOptions, GetResult
    from obstore.store import ClientConfig, S3Config

MiB = 1024 * 1024


class _Meter:
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


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


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
        meter = _Meter(max_bytes)
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


class _StagedFile:
    """One local write in progress; its methods run in worker threads, one at a time.

    Where the file system allows it (``O_DIRECT``: ext4, XFS, btrfs), the bytes are copied into
    one page-aligned buffer and go from there straight to the disk, bypassing the page cache: the
    kernel neither copies them nor writes them back later (for 200 MB, ~0.02 s of system time
    instead of ~0.14 s). Each full buffer is hashed in a ``side`` thread while it is written (both
    release the GIL), so a file opened ``direct`` hashes itself and the event loop only reads and
    parses. Elsewhere (tmpfs, other systems) the bytes go through the page cache with a flush
    started every ``flush_every`` bytes, and whoever writes hashes them (``hash``); should the
    disk refuse a direct write, the rest goes that way too, hashed here (``direct`` stays true).
    Either way ``commit`` fsyncs.

    ``side`` runs only work that never waits for other work (hashing, flushes), so that a write or
    a commit waiting for it can never be starved by its own pool."""

    def __init__(
        self,
        path: Path,
        side: concurrent.futures.Executor,
        flush_every: int,
        *,
        direct_block: int = 0,
    ) -> None:
        self.path = path
        self.side = side
        self.flush_every = flush_every
        self.digest = hashlib.sha256()
        self.size = 0
        self.renamed_to: Path | None = None
        self._unflushed = 0
        self._flush: concurrent.futures.Future[None] | None = None
        path.parent.mkdir(parents=True, exist_ok=True)
        # Direct writes: the aligned buffer (made first: nothing can fail once the file exists)
        # and how many of its bytes are not on disk yet.
        self._buffer: mmap.mmap | None = (
            mmap.mmap(-1, _aligned(direct_block)) if direct_block else None
        )
        self._filled = 0
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o640)
        self.direct = self._buffer is not None and _set_direct(self.fd, on=True)
        if not self.direct:
            self._release_buffer()

    def hash(self, batch: list[bytes]) -> None:
        for chunk in batch:
            self.digest.update(chunk)

    def write(self, batch: list[bytes]) -> None:
        buffer = self._buffer
        if buffer is None:
            if self.direct:  # direct writes were refused earlier
                self.hash(batch)
            self._write_buffered(batch)
            return
        capacity = len(buffer)
        for index, chunk in enumerate(batch):
            view = memoryview(chunk)
            while view:
                taken = min(len(view), capacity - self._filled)
                buffer[self._filled : self._filled + taken] = view[:taken]
                self._filled += taken
                self.size += taken
                view = view[taken:]
                if self._filled == capacity and not self._drain(capacity):
                    # The disk refused a direct write: the rest goes through the page cache.
                    rest = [bytes(view), *batch[index + 1 :]]
                    self.hash(rest)
                    self._write_buffered(rest)
                    return

    def _write_buffered(self, batch: list[bytes]) -> None:
        if len(batch) > _MAX_IOVECS:
            batch = [b"".join(batch)]
        size = sum(len(chunk) for chunk in batch)
        written = os.writev(self.fd, batch)
        if written < size:  # a short write: finish the rest piece by piece
            _write_all(self.fd, memoryview(b"".join(batch))[written:])
        self.size += size
        self._unflushed += size
        if self._unflushed >= self.flush_every and (self._flush is None or self._flush.done()):
            # Let the disk catch up while the upload goes on, so the final fsync has little
            # left to wait for (and dirty pages never pile up).
            self._flush = self.side.submit(os.fdatasync, self.fd)
            self._unflushed = 0

    def _drain(self, length: int) -> bool:
        """Write the buffer's first ``length`` bytes (a multiple of the alignment) directly, while
        a side thread hashes its bytes (the ``_filled`` first: not a padding). ``False`` when
        the disk refused (``EINVAL``): then the file has left direct mode, the buffer's bytes
        were written through the page cache, and the buffer is gone."""
        buffer = self._buffer
        assert buffer is not None
        hashing = self.side.submit(_hash_into, self.digest, buffer, self._filled)
        written = 0
        try:
            with memoryview(buffer) as whole:
                try:
                    while written < length:
                        written += os.write(self.fd, whole[written:length])
                except OSError as exc:
                    if exc.errno != errno.EINVAL or not _set_direct(self.fd, on=False):
                        raise
                    _write_all(self.fd, whole[written : self._filled])
                    refused = True
                else:
                    refused = False
        finally:
            # The buffer is refilled (and the digest fed) only once the hash has read it.
            hashing.result()
        self._filled = 0
        if refused:
            self._release_buffer()
        return not refused

    def _release_buffer(self) -> None:
        buffer, self._buffer = self._buffer, None
        if buffer is not None:
            # A view of it may outlive a failed write (held by its traceback): the memory is
            # then freed with the last view instead of now.
            with contextlib.suppress(BufferError):
                buffer.close()

    def commit(self, destination: Path, root: Path) -> None:
        if self._buffer is not None and self._filled:
            # The last, partial block: padded to the alignment, then cut to the true size.
            tail = self._filled
            padded = _aligned(tail)
            self._buffer[tail:padded] = bytes(padded - tail)
            self._drain(padded)
        self._release_buffer()
        if self.direct:
            os.ftruncate(self.fd, self.size)
        if self._flush is not None:
            self._flush.result()
        os.fsync(self.fd)
        os.close(self.fd)
        self.fd = -1
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.rename(self.path, destination)
        self.renamed_to = destination
        # The new names (and any fan-out directory made just now) must reach the disk too, or a
        # crash could lose the name of a file whose bytes are safe.
        directory = destination.parent
        while True:
            _fsync_directory(directory)
            if directory == root or directory == directory.parent:
                break
            directory = directory.parent

    def discard(self) -> None:
        """Close and remove the file; called once no write of it runs any more."""
        if self._flush is not None:  # read only now: the last write may have started one
            with contextlib.suppress(BaseException):
                self._flush.result()
        self._release_buffer()
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
        for path in (self.path, self.renamed_to):
            if path is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)


_ALIGNMENT = 4096
"""What direct writes align their memory, lengths and offsets to: the page size, a multiple of
every disk's logical block size but for rare 64 KiB-sector devices (which refuse: ``EINVAL``)."""


def _aligned(size: int) -> int:
    return -(-size // _ALIGNMENT) * _ALIGNMENT


def _set_direct(fd: int, *, on: bool) -> bool:
    """Turn direct writes on or off for ``fd``; ``False`` where that is not possible (no
    ``O_DIRECT`` on this system, or a file system without it, such as tmpfs on older kernels)."""
    direct = getattr(os, "O_DIRECT", 0)
    if not direct:
        return False
    try:
        flags = fcntl.fcntl(fd, fcntl.F_GETFL)
        fcntl.fcntl(fd, fcntl.F_SETFL, flags | direct if on else flags & ~direct)
    except OSError:
        return False
    return True


def _hash_into(digest: "hashlib._Hash", buffer: mmap.mmap, size: int) -> None:
    with memoryview(buffer) as whole:
        digest.update(whole[:size])


def _write_all(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]


_NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT})
"""A disk or a quota full: the client may try again later (507), unlike any other disk error."""

_MAX_IOVECS = 256  # well under IOV_MAX (1024 on Linux)


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore(ObjectBlobStore):
    """Blobs as files under ``root``; once ``write`` returns, the blob survives a power cut,
    and until then its key holds nothing."""

    STAGING = "_staging"

    def __init__(
        self,
        root: Path,
        *,
        block_size: int = 1 * MiB,
        flush_every: int = 8 * MiB,
        read_chunk_size: int = 256 * 1024,
        disk_threads: int = 8,
        direct_io: bool = True,
    ) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        super().__init__(
            LocalStore(self.root), block_size=block_size, read_chunk_size=read_chunk_size
        )
        self.flush_every = flush_every
        self.direct_block = block_size if direct_io else 0
        self._executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=disk_threads, thread_name_prefix="blob-disk"
        )
        # Work that writes and commits wait for, and that never waits itself (``_StagedFile``).
        self._side = concurrent.futures.ThreadPoolExecutor(
            max_workers=disk_threads, thread_name_prefix="blob-side"
        )

    async def read(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        check_key(key)
        if end is not None and 0 <= start < end and end - start <= self.read_chunk_size:
            # A small range (the PDF check reads a handful, at the start and the end of the file):
            # one read in a disk thread, not a round trip through obstore's runtime (~4x faster).
            loop = asyncio.get_running_loop()
            data = await loop.run_in_executor(self._executor, self._read_range, key, start, end)
            if data is not None:
                return _once(data)
        return await super().read(key, start=start, end=end)

    def _read_range(self, key: str, start: int, end: int) -> bytes | None:
        """Bytes ``[start, end)`` of a blob; ``None`` when it ends before ``end`` or is no plain
        file (obstore then answers as it does for any range)."""
        try:
            fd = os.open(self.root / key, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError as exc:
            raise BlobNotFound(f"no stored content under {key}") from exc
        except OSError:
            return None
        try:
            data = os.pread(fd, end - start, start)
        except OSError:
            return None
        finally:
            os.close(fd)
        return data if len(data) == end - start else None

    async def write(
        self, chunks: AsyncIterable[bytes], *, max_bytes: int, prefix: str = "blobs"
    ) -> StoredBlob:
        key = new_blob_key(prefix)
        loop = asyncio.get_running_loop()
        staging = self.root / self.STAGING / key.rsplit("/", 1)[-1]
        staged = await loop.run_in_executor(
            self._executor,
            functools.partial(
                _StagedFile,
                staging,
                self._side,
                self.flush_every,
                direct_block=self.direct_block,
            ),
        )
        meter = _Meter(max_bytes)
        batches = meter.batches(chunks, self.block_size)
        in_flight: list[concurrent.futures.Future[None]] = []
        try:
            async for batch in batches:
                for future in in_flight:
                    await asyncio.wrap_future(future)
                # While this batch goes to the disk (and is hashed there, when the file is
                # direct), the next one is read and parsed here.
                in_flight = [self._executor.submit(staged.write, batch)]
                if not staged.direct:
                    # Through the page cache: hashed here meanwhile (hashing releases the GIL;
                    # per chunk in a third thread, its handoffs cost more than they save).
                    staged.hash(batch)
            for future in in_flight:
                await asyncio.wrap_future(future)
            await loop.run_in_executor(self._executor, staged.commit, self.root / key, self.root)
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                # A write still running in another thread must end before its descriptor is
                # closed (the number could otherwise be reused by another file mid-write). Waited
                # for here, not in a pool thread: one queued behind the waiting threads could
                # otherwise never run.
                for future in in_flight:
                    with contextlib.suppress(BaseException):
                        await asyncio.wrap_future(future)
                await loop.run_in_executor(self._executor, staged.discard)
            if isinstance(exc, OSError) and exc.errno in _NO_ROOM:
                raise StorageFull() from exc
            raise
        finally:
            await batches.aclose()
        return StoredBlob(key=key, size=staged.size, sha256=staged.digest.hexdigest())


class S3BlobStore(ObjectBlobStore):
    """Blobs as objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, rclone, ...).

    Objects become visible only when their PUT or multipart upload completes, and S3 stores them
    durably before it acknowledges; a failed multipart upload is aborted. Parts are 5 MiB (the
    smallest S3 accepts), one in flight: about 10 MiB of memory per upload.
    """

    async def _get(self, key: str, start: int, end: int | None) -> AsyncIterator[bytes]:
        try:
            return await super()._get(key, start, end)
        except GenericError as exc:
            if "non-partial response" not in str(exc):
                raise
        # Some S3 implementations (rclone's, among them) answer a ranged GET with the whole
        # object and 200: read the whole object and cut the range out of it while streaming.
        result = await self._get_result(key, {})
        return _slice(result.stream(min_chunk_size=self.read_chunk_size), start, end)

    async def ping(self) -> None:
        # A LIST proves the endpoint, the credentials and the bucket without writing anything.
        async for _batch in obstore.list(self._store, "_ping", chunk_size=1):
            break


async def _slice(chunks: AsyncIterator[bytes], start: int, end: int | None) -> AsyncIterator[bytes]:
    position = 0
    async for chunk in chunks:
        chunk_end = position + len(chunk)
        if chunk_end > start:
            piece = chunk[max(start - position, 0) : None if end is None else end - position]
            if piece:
                yield piece
        position = chunk_end
        if end is not None and position >= end:
            break


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def make_s3_store(settings: Settings, bucket: str, prefix: str | None) -> S3Store:
    config: S3Config = {"region": settings.s3_region}
    client_options: ClientConfig = {
        "connect_timeout": "10s",
        # A download streams through one response for as long as the client takes to read it.
        "timeout": "1h",
    }
    if settings.s3_endpoint_url:
        endpoint = urlparse(settings.s3_endpoint_url)
        if endpoint.scheme not in {"http", "https"} or not endpoint.hostname:
            raise ValueError(f"invalid S3 endpoint URL: {settings.s3_endpoint_url!r}")
        if endpoint.scheme == "http":
            if not (settings.s3_allow_http or _is_loopback(endpoint.hostname)):
                raise ValueError(
                    "plain-HTTP S3 endpoints are only allowed on loopback "
                    "(set SHORTLIST_S3_ALLOW_HTTP=true to override)"
                )
            client_options["allow_http"] = True
        config["endpoint"] = settings.s3_endpoint_url.rstrip("/")
        config["virtual_hosted_style_request"] = False
    if settings.s3_access_key_id:
        config["access_key_id"] = settings.s3_access_key_id
    if settings.s3_secret_access_key is not None:
        config["secret_access_key"] = settings.s3_secret_access_key.get_secret_value()
    return S3Store(bucket, prefix=prefix, config=config, client_options=client_options)


def make_blob_store(settings: Settings) -> BlobStore:
    """The blob store ``SHORTLIST_STORAGE_URL`` names: ``file://...`` or ``s3://bucket/prefix``."""
    url = settings.storage_url
    parsed = urlparse(url)
    if parsed.scheme == "file":
        # file:///abs/path and file://./relative/path are both accepted.
        path = (parsed.netloc + parsed.path) if parsed.netloc else parsed.path
        if not path:
            raise ValueError(f"storage URL names no directory: {url!r}")
        return LocalBlobStore(Path(path), direct_io=settings.storage_direct_io)
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise ValueError(f"storage URL names no bucket: {url!r}")
        prefix = parsed.path.strip("/") or None
        return S3BlobStore(make_s3_store(settings, parsed.netloc, prefix))
    raise ValueError(f"unsupported storage URL scheme: {parsed.scheme!r}")


async def blob_response(
    *,
    store: BlobStore,
    key: str,
    size: int,
    content_type: str,
    filename: str,
    sha256: str,
    range_header: str | None = None,
    if_range: str | None = None,
) -> StreamingResponse:
    """A stored document as a download: always an attachment under its sanitized name, with its
    stored type (never sniffed by the browser) and one byte range when asked (206; 416 when the
    range lies outside it). The SHA-256 is a strong ETag, so ``If-Range`` resumes safely."""
    etag = f'"{sha256}"'
    wanted = range_header if if_range is None or if_range.strip() == etag else None
    byte_range = parse_byte_range(wanted, size)
    start, end = (byte_range.start, byte_range.end) if byte_range else (0, size)
    headers = {
        "Content-Type": content_type,
        "Content-Disposition": content_disposition(filename),
        "Content-Length": str(end - start),
        "X-Content-Type-Options": "nosniff",
        # Opened directly anyway, the document runs no script and loads nothing.
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Accept-Ranges": "bytes",
        "ETag": etag,
    }
    if byte_range is not None:
        headers["Content-Range"] = byte_range.content_range(size)
    chunks = await store.read(key, start=start, end=end)
    return StreamingResponse(chunks, status_code=206 if byte_range else 200, headers=headers)


async def get_blob_store(request: Request) -> BlobStore:
    store: BlobStore = request.app.state.blob_store
    return store


BlobStoreDep = Annotated[BlobStore, Depends(get_blob_store)]
