"""Blobs as files in a local directory: the embedded default.

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
import mmap
import os
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path

import anyio
from obstore.store import LocalStore

from infra.storage.base import Meter, MiB, ObjectBlobStore
from submissions.blobs import BlobNotFound, StorageFull, StoredBlob, check_key, new_blob_key


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


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
        meter = Meter(max_bytes)
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
