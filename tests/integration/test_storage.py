"""The same blob-store tests on the local directory store and on S3 (a real ``rclone serve s3``),
plus the upload pipeline's attack set on both: every refused file leaves nothing behind."""

import asyncio
import errno
import fcntl
import hashlib
import io
import os
import struct
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable, Collection, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from pypdf import PdfWriter
from pypdf.actions import JavaScript

from infra.settings import Settings
from infra.storage import local, make_blob_store
from infra.storage.local import LocalBlobStore
from infra.storage.s3 import S3BlobStore
from models.errors import DomainError
from submissions.active_content import ActiveContent
from submissions.blobs import (
    BlobNotFound,
    BlobStore,
    ContentTooLarge,
    StorageFull,
    sweep_orphans,
)
from submissions.content import (
    BrokenFile,
    ContentRule,
    EmptyFile,
    UnsupportedMediaType,
    store_checked_upload,
)
from tests.integration.conftest import S3Server
from tests.security.crafted_pdfs import build, javascript_action, objects

pytestmark = [pytest.mark.integration, pytest.mark.anyio]

MiB = 1024 * 1024


@dataclass
class Backend:
    store: BlobStore
    files: Path  # where the bytes end up on disk (rclone keeps them in a directory too)


def s3_settings(server: S3Server, prefix: str) -> Settings:
    return Settings(
        environment="test",
        storage_url=f"s3://{server.bucket}/{prefix}",
        s3_endpoint_url=server.endpoint,
        s3_access_key_id=server.access_key_id,
        s3_secret_access_key=SecretStr(server.secret_access_key),
    )


# S3 requests are signed with this process's clock, and rclone (a Go program, which libfaketime
# cannot shift) refuses those more than 15 minutes from its own, as S3 does.
@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.real_clock)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        yield Backend(LocalBlobStore(tmp_path / "blobs"), tmp_path / "blobs")
        return
    server: S3Server = request.getfixturevalue("s3_server")
    prefix = f"run-{uuid.uuid4().hex[:12]}"
    store = make_blob_store(s3_settings(server, prefix))
    assert isinstance(store, S3BlobStore)
    yield Backend(store, server.root / server.bucket / prefix)


def payload(size: int, seed: int = 7) -> bytes:
    block = hashlib.sha256(str(seed).encode()).digest() * 2048  # 64 KiB, not all alike
    return (block * (size // len(block) + 1))[:size]


async def chunked(
    data: bytes, sizes: Collection[int] = (1, 1000, 65536, 7, 300_001)
) -> AsyncIterator[bytes]:
    """``data`` in irregular chunks, the way a network delivers it."""
    position, pattern = 0, list(sizes)
    while position < len(data):
        size = pattern[position % len(pattern)]
        yield data[position : position + size]
        position += size


async def read_all(store: BlobStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in await store.read(key, start=start, end=end)])


async def keys(store: BlobStore, prefix: str = "") -> list[str]:
    return sorted([info.key async for info in store.list_keys(prefix)])


def files_on_disk(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def assert_nothing_stored(backend: Backend) -> None:
    assert await keys(backend.store) == []
    # rclone removes the parts of an aborted multipart upload a moment after the abort.
    for _ in range(50):
        if not files_on_disk(backend.files):
            return
        await asyncio.sleep(0.1)
    assert files_on_disk(backend.files) == []


# -- the store ----------------------------------------------------------------------------------


async def test_a_blob_is_written_durably_and_read_back(backend: Backend) -> None:
    data = payload(3 * MiB + 12345)
    stored = await backend.store.write(chunked(data), max_bytes=10 * MiB, prefix="documents")
    assert stored.size == len(data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.key.startswith("documents/")
    assert await backend.store.size(stored.key) == len(data)
    assert await read_all(backend.store, stored.key) == data
    assert await keys(backend.store) == [stored.key]


@pytest.mark.parametrize("size", [0, 1, 4096, 1 * MiB, 1 * MiB + 1])
async def test_small_blobs_and_the_block_boundary(backend: Backend, size: int) -> None:
    data = payload(size)
    stored = await backend.store.write(chunked(data), max_bytes=size)
    assert (stored.size, stored.sha256) == (size, hashlib.sha256(data).hexdigest())
    assert await read_all(backend.store, stored.key) == data


async def test_byte_ranges(backend: Backend) -> None:
    data = payload(2 * MiB + 3)
    stored = await backend.store.write(chunked(data), max_bytes=len(data))
    for start, end in [(0, 1), (0, 100), (65530, 65560), (MiB - 1, MiB + 1), (len(data) - 1, None)]:
        assert await read_all(backend.store, stored.key, start, end) == data[start:end]
    assert await read_all(backend.store, stored.key, 1000) == data[1000:]
    assert await read_all(backend.store, stored.key, 10, 10) == b""
    with pytest.raises(ValueError, match="invalid byte range"):
        await backend.store.read(stored.key, start=10, end=5)


async def test_a_missing_blob_is_blob_not_found(backend: Backend) -> None:
    key = "documents/00/00000000000000000000000000000000"
    with pytest.raises(BlobNotFound) as caught:
        await backend.store.read(key)
    assert caught.value.status == 404
    with pytest.raises(BlobNotFound):
        await backend.store.read(key, start=0, end=10)
    with pytest.raises(BlobNotFound):
        await backend.store.size(key)
    await backend.store.delete(key)  # deleting nothing is not an error


async def test_delete_removes_the_blob(backend: Backend) -> None:
    stored = await backend.store.write(chunked(payload(5000)), max_bytes=5000)
    await backend.store.delete(stored.key)
    with pytest.raises(BlobNotFound):
        await backend.store.size(stored.key)
    await assert_nothing_stored(backend)


async def test_list_keys_under_a_prefix(backend: Backend) -> None:
    documents = [
        (await backend.store.write(chunked(payload(n)), max_bytes=n, prefix="documents")).key
        for n in (10, 20)
    ]
    other = await backend.store.write(chunked(payload(30)), max_bytes=30, prefix="exports")
    assert await keys(backend.store, "documents") == sorted(documents)
    assert await keys(backend.store) == sorted([*documents, other.key])
    infos = [info async for info in backend.store.list_keys("exports")]
    assert [(i.key, i.size) for i in infos] == [(other.key, 30)]
    assert infos[0].modified_at.tzinfo is not None
    # By the store's clock (the file system's, the S3 server's), not necessarily this host's.
    store_now = await backend.store.now()
    assert abs(store_now - infos[0].modified_at) < timedelta(minutes=5)
    assert await keys(backend.store) == sorted([*documents, other.key])  # no probe left


async def test_keys_are_generated_and_distinct(backend: Backend) -> None:
    stored = [await backend.store.write(chunked(b"same bytes"), max_bytes=100) for _ in range(3)]
    assert len({s.key for s in stored}) == 3
    assert len({s.sha256 for s in stored}) == 1


@pytest.mark.parametrize("size", [5000, 4 * MiB])
async def test_over_the_cap_is_413_and_leaves_nothing(backend: Backend, size: int) -> None:
    delivered = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal delivered
        async for chunk in chunked(payload(size)):
            delivered += len(chunk)
            yield chunk

    with pytest.raises(ContentTooLarge) as caught:
        await backend.store.write(counted(), max_bytes=size - 1)
    assert caught.value.status == 413
    assert caught.value.type == "content-too-large"
    assert delivered <= size  # refused as the excess arrived, not after
    await assert_nothing_stored(backend)


async def test_a_stream_that_fails_midway_leaves_nothing(backend: Backend) -> None:
    class Gone(Exception):
        pass

    async def dies() -> AsyncIterator[bytes]:
        async for chunk in chunked(payload(3 * MiB)):
            yield chunk
        raise Gone

    with pytest.raises(Gone):
        await backend.store.write(dies(), max_bytes=10 * MiB)
    await assert_nothing_stored(backend)


async def test_concurrent_writes_keep_their_own_bytes(backend: Backend) -> None:
    datas = [payload(MiB + 100 * i, seed=i) for i in range(6)]
    stored = await asyncio.gather(
        *(backend.store.write(chunked(d), max_bytes=2 * MiB) for d in datas)
    )
    for data, blob in zip(datas, stored, strict=True):
        assert blob.sha256 == hashlib.sha256(data).hexdigest()
        assert await read_all(backend.store, blob.key) == data


async def test_sweep_removes_old_blobs_no_row_refers_to(backend: Backend) -> None:
    kept = await backend.store.write(chunked(b"referenced"), max_bytes=100, prefix="documents")
    orphan = await backend.store.write(chunked(b"orphan"), max_bytes=100, prefix="documents")
    asked: list[str] = []

    async def referenced(candidates: Collection[str]) -> Collection[str]:
        asked.extend(candidates)
        return {kept.key} & set(candidates)

    now = await backend.store.now()
    young = await sweep_orphans(store=backend.store, referenced=referenced, now=now)
    assert young == []  # inside the grace period an upload may not have committed its row yet
    deleted = await sweep_orphans(
        store=backend.store, referenced=referenced, now=now + timedelta(hours=2)
    )
    assert deleted == [orphan.key]
    assert sorted(asked) == sorted([kept.key, orphan.key])
    assert await keys(backend.store) == [kept.key]


async def test_ping(backend: Backend) -> None:
    await backend.store.ping()
    assert await keys(backend.store) == []


# -- the upload pipeline on each store ----------------------------------------------------------

PDF_RULE = ContentRule(content_types=frozenset({"application/pdf"}), max_bytes=2 * MiB)


def pdf_bytes(*, javascript: bool = False, pages: int = 2) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if javascript:
        writer.add_open_action(JavaScript("app.alert('x');"))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def windows_executable() -> bytes:
    dos = bytearray(b"MZ" + b"\x00" * 126)
    dos[0x3C:0x40] = struct.pack("<I", 0x80)
    return bytes(dos) + b"PE\x00\x00" + struct.pack("<HH", 0x14C, 3) + b"\x00" * 4096


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("inner.pdf", pdf_bytes())
    return out.getvalue()


async def test_a_good_pdf_is_stored_with_its_metadata(backend: Backend) -> None:
    data = pdf_bytes(pages=3)
    upload = await store_checked_upload(
        chunks=chunked(data, sizes=(100, 4096)),
        filename="../../etc/passwd.pdf",
        declared_type="application/pdf",
        rule=PDF_RULE,
        store=backend.store,
    )
    assert upload.filename == "passwd.pdf"
    assert upload.content_type == "application/pdf"
    assert upload.pdf is not None
    assert upload.pdf.pages == 3
    assert upload.blob.sha256 == hashlib.sha256(data).hexdigest()
    assert upload.blob.key.startswith("documents/")
    assert "passwd" not in upload.blob.key  # the key never comes from the client's name
    assert await read_all(backend.store, upload.blob.key) == data


def big_pdf(size: int) -> bytes:
    data = pdf_bytes()
    # A comment line before the trailer keeps the file valid and makes it large.
    cut = data.rindex(b"\nxref") + 1
    padding = b"%" + b"x" * (size - len(data) - 2) + b"\n"
    startxref = data.rindex(b"startxref")
    offset = int(data[startxref:].split()[1]) + len(padding)
    tail = data[cut:startxref] + b"startxref\n%d\n%%%%EOF\n" % offset
    return data[:cut] + padding + tail


async def test_a_large_pdf_is_inspected_by_ranges(backend: Backend) -> None:
    data = big_pdf(3 * MiB)
    upload = await store_checked_upload(
        chunks=chunked(data),
        filename="big.pdf",
        declared_type=None,
        rule=ContentRule(content_types=frozenset({"application/pdf"}), max_bytes=4 * MiB),
        store=backend.store,
    )
    assert upload.blob.size == len(data)
    assert upload.pdf is not None
    assert upload.pdf.pages == 2


def long_stream_pdf(hidden: bytes) -> bytes:
    """A PDF whose content stream holds 6 MiB of data, followed by object 5, ``hidden``."""
    filler = payload(6 * MiB)
    body = b"<< /Length %d >>\nstream\n" % len(filler) + filler + b"\nendstream"
    return build(objects(page=b"/Contents 4 0 R") | {4: body, 5: hidden})


@pytest.mark.parametrize("sizes", [(1, 1000, 65536, 7, 300_001), (1024 * 1024 + 1,)])
async def test_active_content_after_long_stream_data_is_refused_and_leaves_nothing(
    backend: Backend, sizes: tuple[int, ...]
) -> None:
    """The stream's data is passed over by the scan as it streams in (``_scanned`` feeds it
    without a worker thread); what follows it is still looked at."""
    rule = ContentRule(content_types=frozenset({"application/pdf"}), max_bytes=8 * MiB)
    harmless = long_stream_pdf(b"<< /S /GoTo /D [3 0 R /Fit] >>")
    upload = await store_checked_upload(
        chunks=chunked(harmless, sizes),
        filename="a.pdf",
        declared_type=None,
        rule=rule,
        store=backend.store,
    )
    assert upload.blob.sha256 == hashlib.sha256(harmless).hexdigest()
    assert await read_all(backend.store, upload.blob.key) == harmless
    await backend.store.delete(upload.blob.key)
    with pytest.raises(ActiveContent):
        await store_checked_upload(
            chunks=chunked(long_stream_pdf(javascript_action()), sizes),
            filename="a.pdf",
            declared_type=None,
            rule=rule,
            store=backend.store,
        )
    await assert_nothing_stored(backend)


ATTACKS: dict[str, tuple[Callable[[], bytes], type[DomainError]]] = {
    "exe-named-pdf": (windows_executable, UnsupportedMediaType),
    "zip-named-pdf": (zip_archive, UnsupportedMediaType),
    "truncated-pdf": (lambda: pdf_bytes()[:-100], BrokenFile),
    "javascript-pdf": (lambda: pdf_bytes(javascript=True), ActiveContent),
    "empty-file": (lambda: b"", EmptyFile),
    "over-max-bytes": (lambda: big_pdf(2 * MiB + 1), ContentTooLarge),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
async def test_the_attack_set_is_refused_and_leaves_nothing(backend: Backend, attack: str) -> None:
    make_data, error = ATTACKS[attack]
    with pytest.raises(error) as caught:
        await store_checked_upload(
            chunks=chunked(make_data()),
            filename="budget.pdf",
            declared_type="application/pdf",
            rule=PDF_RULE,
            store=backend.store,
        )
    assert 400 <= caught.value.status < 500
    await assert_nothing_stored(backend)


# -- local store specifics ----------------------------------------------------------------------


async def test_a_local_write_is_fsynced_before_it_is_renamed_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    events: list[tuple[str, str]] = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def rename(source: str | os.PathLike[str], destination: str | os.PathLike[str]) -> None:
        events.append(("rename", f"{source} -> {destination}"))
        real_rename(source, destination)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    stored = await store.write(chunked(payload(3 * MiB)), max_bytes=4 * MiB, prefix="documents")
    monkeypatch.undo()

    root = store.root
    final = root / stored.key
    staging = root / LocalBlobStore.STAGING / final.name
    assert events == [
        ("fsync", str(staging)),
        ("rename", f"{staging} -> {final}"),
        ("fsync", str(final.parent)),
        ("fsync", str(final.parent.parent)),
        ("fsync", str(root)),
    ]
    assert files_on_disk(root) == [final]
    assert final.read_bytes() == payload(3 * MiB)


async def test_the_relative_file_url_and_the_readiness_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = make_blob_store(Settings(environment="test", storage_url="file://./var/blobs"))
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "var" / "blobs"
    await store.ping()
    assert files_on_disk(store.root) == []


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"storage_url": "ftp://host/x"}, "unsupported storage URL"),
        ({"storage_url": "s3:///no-bucket"}, "no bucket"),
        ({"storage_url": "file://"}, "no directory"),
        (
            {"storage_url": "s3://b/p", "s3_endpoint_url": "http://s3.example.org"},
            "only allowed on loopback",
        ),
        ({"storage_url": "s3://b/p", "s3_endpoint_url": "s3.example.org"}, "invalid S3"),
    ],
)
def test_storage_settings_are_checked(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_blob_store(Settings.model_validate({"environment": "test", **settings}))


@pytest.mark.parametrize(
    "settings",
    [
        {"s3_endpoint_url": "http://127.0.0.1:9000"},
        {"s3_endpoint_url": "http://localhost:9000"},
        {"s3_endpoint_url": "http://[::1]:9000"},
        {"s3_endpoint_url": "http://minio.internal:9000", "s3_allow_http": "true"},
        {"s3_endpoint_url": "https://s3.example.org"},
        {},
    ],
)
def test_s3_endpoints_that_are_allowed(settings: dict[str, str]) -> None:
    values = {"environment": "test", "storage_url": "s3://b/p", **settings}
    store = make_blob_store(Settings.model_validate(values))
    assert isinstance(store, S3BlobStore)


def _supports_direct_io(directory: Path) -> bool:
    """Whether files in ``directory`` can be opened for direct writes (ext4 yes, tmpfs not
    always): what the store decides for itself, found out independently here."""
    flag = getattr(os, "O_DIRECT", 0)
    if not flag:
        return False
    probe = directory / "direct-probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | flag, 0o600)
    except OSError:
        return False
    os.close(fd)
    probe.unlink()
    return True


class _Recorded:
    """Every staged file a store opens, to look at how it wrote."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.files: list[local._StagedFile] = []
        real = local._StagedFile

        def make(*args: object, **kwargs: object) -> local._StagedFile:
            staged = real(*args, **kwargs)  # type: ignore[arg-type]
            self.files.append(staged)
            return staged

        monkeypatch.setattr(local, "_StagedFile", make)


BLOCK = 64 * 1024


@pytest.mark.parametrize("direct_io", [True, False], ids=["direct", "page-cache"])
@pytest.mark.parametrize(
    "size", [1, 4095, 4096, 4097, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 4097, 2 * MiB + 5]
)
async def test_local_writes_direct_or_through_the_page_cache_keep_every_byte(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct_io: bool, size: int
) -> None:
    recorded = _Recorded(monkeypatch)
    store = LocalBlobStore(tmp_path / "blobs", block_size=BLOCK, direct_io=direct_io)
    data = payload(size)
    stored = await store.write(chunked(data), max_bytes=size)

    (staged,) = recorded.files
    assert staged.direct is (direct_io and _supports_direct_io(tmp_path))
    assert (stored.size, stored.sha256) == (size, hashlib.sha256(data).hexdigest())
    # Exactly the bytes: a direct write's padded last block is cut off again.
    assert (store.root / stored.key).read_bytes() == data
    assert files_on_disk(store.root) == [store.root / stored.key]


def _failing_direct_writes(monkeypatch: pytest.MonkeyPatch, *, error: int, after: int) -> list[int]:
    """``os.write`` failing with ``error`` on a descriptor in direct mode once ``after`` direct
    writes have succeeded; returns the list of failures seen."""
    real_write = os.write
    direct_writes: list[int] = []
    failures: list[int] = []

    def write(fd: int, data: bytes | memoryview) -> int:
        if fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_DIRECT:
            if len(direct_writes) >= after:
                failures.append(fd)
                raise OSError(error, os.strerror(error))
            direct_writes.append(fd)
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    return failures


async def test_a_disk_that_refuses_a_direct_write_gets_the_rest_through_the_page_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not _supports_direct_io(tmp_path):
        pytest.skip(f"{tmp_path} does not support O_DIRECT, so no direct write can be refused")
    recorded = _Recorded(monkeypatch)
    failures = _failing_direct_writes(monkeypatch, error=errno.EINVAL, after=2)
    store = LocalBlobStore(tmp_path / "blobs", block_size=BLOCK)
    data = payload(5 * BLOCK + 123)
    stored = await store.write(chunked(data), max_bytes=len(data))
    monkeypatch.undo()

    assert len(failures) == 1  # refused once, then never asked again
    (staged,) = recorded.files
    assert staged.direct  # it started direct
    assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert (store.root / stored.key).read_bytes() == data


@pytest.mark.parametrize("error", [errno.EIO, errno.ENOSPC, errno.EDQUOT])
async def test_a_disk_error_during_a_direct_write_fails_the_write_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: int
) -> None:
    """Any disk error fails the write and leaves nothing; a full disk or quota says so
    (``StorageFull``: the API's 507), anything else stays the error it is."""
    if not _supports_direct_io(tmp_path):
        pytest.skip(f"{tmp_path} does not support O_DIRECT")
    failures = _failing_direct_writes(monkeypatch, error=error, after=1)
    store = LocalBlobStore(tmp_path / "blobs", block_size=BLOCK)
    with pytest.raises(Exception) as caught:
        await store.write(chunked(payload(4 * BLOCK)), max_bytes=4 * BLOCK)
    monkeypatch.undo()
    if error == errno.EIO:
        assert isinstance(caught.value, OSError)
        assert caught.value.errno == errno.EIO
    else:
        assert isinstance(caught.value, StorageFull)
        assert isinstance(caught.value.__cause__, OSError)
        assert caught.value.__cause__.errno == error
    assert failures
    assert files_on_disk(store.root) == []


# A deadlock would leave pool threads that nothing can stop: the thread method ends the process.
@pytest.mark.timeout(30, method="thread")
@pytest.mark.parametrize("direct_io", [True, False], ids=["direct", "page-cache"])
async def test_one_disk_thread_is_enough_for_a_write_and_its_side_work(
    tmp_path: Path, direct_io: bool
) -> None:
    """A write waits for its hashing (direct) and its commit for the last flush (page cache):
    that side work has threads of its own, or with every disk thread waiting for it, it would
    wait in the queue behind them forever."""
    store = LocalBlobStore(
        tmp_path / "blobs",
        block_size=BLOCK,
        flush_every=BLOCK,
        disk_threads=1,
        direct_io=direct_io,
    )
    data = payload(40 * BLOCK + 17)
    stored = await store.write(chunked(data), max_bytes=len(data))
    assert (stored.size, stored.sha256) == (len(data), hashlib.sha256(data).hexdigest())
    assert (store.root / stored.key).read_bytes() == data


@pytest.mark.parametrize("direct_io", [True, False])
async def test_the_direct_io_setting_reaches_the_local_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct_io: bool
) -> None:
    store = make_blob_store(
        Settings(
            environment="test",
            storage_url=f"file://{tmp_path / 'blobs'}",
            storage_direct_io=direct_io,
        )
    )
    assert isinstance(store, LocalBlobStore)
    recorded = _Recorded(monkeypatch)
    await store.write(chunked(payload(3 * BLOCK)), max_bytes=3 * BLOCK)
    (staged,) = recorded.files
    assert staged.direct is (direct_io and _supports_direct_io(tmp_path))
