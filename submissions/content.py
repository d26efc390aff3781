"""What an uploaded file is, judged by its bytes and never by its name, and how it is named back.

The pure checks (sniffing, type agreement, PDF inspection, file names, ``Content-Disposition``)
take plain values; ``store_checked_upload`` chains them around a ``BlobStore`` write, in the order
that keeps refused files out of storage: sniff the first bytes -> check the type -> stream into
the store (hashed, counted, capped; a PDF scanned for active content on the way) -> inspect a PDF
-> report, deleting the blob if it fails.
"""

import asyncio
import io
import mimetypes
import re
import unicodedata
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, BinaryIO
from urllib.parse import quote

import anyio
import anyio.from_thread
import anyio.to_thread
import magic
from pypdf import PdfReader

from models.errors import DomainError, Unprocessable
from submissions.active_content import ActiveContentScan, NotDecryptable, ScanLimit
from submissions.blobs import BlobStore, StoredBlob

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

SNIFF_BYTES = 64 * 1024  # enough for libmagic to tell PDF, OOXML, images and executables apart
UNDECLARED = "application/octet-stream"
PDF = "application/pdf"


class UnsupportedMediaType(DomainError):
    status = 415
    type = "unsupported-media-type"
    title = "Unsupported media type"


class EmptyFile(Unprocessable):
    type = "empty-file"
    title = "Empty file"


class BrokenFile(Unprocessable):
    type = "broken-file"
    title = "Broken file"


class PdfEncrypted(Unprocessable):
    type = "pdf-encrypted"
    title = "Encrypted PDF"


# -- media types ------------------------------------------------------------------------------

# The extensions each type may carry. Types not listed fall back to Python's built-in table
# (never the host's /etc/mime.types, so every machine decides alike).
_EXTENSIONS: dict[str, frozenset[str]] = {
    PDF: frozenset({".pdf"}),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": frozenset({".docx"}),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": frozenset({".xlsx"}),
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": frozenset(
        {".pptx"}
    ),
    "application/vnd.oasis.opendocument.text": frozenset({".odt"}),
    "application/vnd.oasis.opendocument.spreadsheet": frozenset({".ods"}),
    "application/vnd.oasis.opendocument.presentation": frozenset({".odp"}),
    "application/msword": frozenset({".doc"}),
    "application/vnd.ms-excel": frozenset({".xls"}),
    "application/vnd.ms-powerpoint": frozenset({".ppt"}),
    "application/rtf": frozenset({".rtf"}),
    "text/rtf": frozenset({".rtf"}),
    "text/csv": frozenset({".csv"}),
    "text/plain": frozenset({".txt", ".text"}),
    "text/markdown": frozenset({".md", ".markdown"}),
    "application/json": frozenset({".json"}),
    "application/zip": frozenset({".zip"}),
    "image/png": frozenset({".png"}),
    "image/jpeg": frozenset({".jpg", ".jpeg"}),
    "image/tiff": frozenset({".tif", ".tiff"}),
}
_BUILTIN_TYPES = mimetypes.MimeTypes()

# A sniffed type may stand for a more specific one that libmagic cannot tell from it (a CSV
# file often sniffs as plain text); the extension must then agree with the specific type.
_MAY_BE: dict[str, tuple[str, ...]] = {
    "text/plain": ("text/csv", "text/markdown"),
    "text/csv": ("text/plain",),
}

# Other names clients declare for a type.
_DECLARED_ALIASES: dict[str, str] = {
    "application/x-pdf": PDF,
    "application/acrobat": PDF,
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "application/x-zip-compressed": "application/zip",
    "text/x-csv": "text/csv",
    "application/csv": "text/csv",
    "application/x-csv": "text/csv",
    "text/comma-separated-values": "text/csv",
    "text/x-markdown": "text/markdown",
}
# Browsers on Windows declare a .csv file as an Excel sheet when Excel is installed.
_DECLARED_ALSO: dict[str, frozenset[str]] = {"text/csv": frozenset({"application/vnd.ms-excel"})}


def media_type(value: str | None) -> str | None:
    """``type/subtype`` in lowercase, parameters dropped; ``None`` for nothing or garbage."""
    if not value:
        return None
    essence = value.split(";", 1)[0].strip().lower()
    return essence if re.fullmatch(r"[a-z0-9!#$&^_.+-]+/[a-z0-9!#$&^_.+-]+", essence) else None


def declared_media_type(value: str | None) -> str | None:
    """The type a client declared for a part; ``application/octet-stream`` declares nothing."""
    essence = media_type(value)
    if essence is None or essence == UNDECLARED:
        return None
    return _DECLARED_ALIASES.get(essence, essence)


def sniff_media_type(head: bytes) -> str:
    """The media type libmagic reads from a file's first bytes."""
    if not head:
        return "application/x-empty"
    return media_type(magic.from_buffer(head[:SNIFF_BYTES], mime=True)) or UNDECLARED


def extensions_for(content_type: str) -> frozenset[str]:
    known = _EXTENSIONS.get(content_type)
    if known is not None:
        return known
    return frozenset(_BUILTIN_TYPES.guess_all_extensions(content_type, strict=False))


def file_extension(filename: str) -> str:
    return PurePosixPath(filename).suffix.lower()


def check_media_type(
    *, sniffed: str, filename: str, declared: str | None, allowed: frozenset[str]
) -> str:
    """The type to store, or ``UnsupportedMediaType`` saying which check failed.

    The content's type must be one the document kind allows, the file name's extension (if it
    has one) must be one of that type's, and a declared part type (if any) must name it too.
    """
    allowed_types = {t for t in (media_type(a) for a in allowed) if t}
    accepted = ", ".join(sorted(allowed_types)) or "nothing"
    candidates = [t for t in (sniffed, *_MAY_BE.get(sniffed, ())) if t in allowed_types]
    if not candidates:
        raise UnsupportedMediaType(
            f"the content is {sniffed}, which this document kind does not accept ({accepted})"
        )
    extension = file_extension(filename)
    if extension:
        candidates = [t for t in candidates if extension in extensions_for(t)]
        if not candidates:
            raise UnsupportedMediaType(
                f"the file name's extension {extension} does not match its content ({sniffed})"
            )
    claimed = declared_media_type(declared)
    if claimed is not None:
        candidates = [
            t
            for t in candidates
            if claimed in (t, sniffed) or claimed in _DECLARED_ALSO.get(t, frozenset())
        ]
        if not candidates:
            raise UnsupportedMediaType(
                f"the part's declared type {claimed} does not match its content ({sniffed})"
            )
    return candidates[0]


# -- file names --------------------------------------------------------------------------------

_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$", re.IGNORECASE)
_UNSAFE_CHARACTERS = re.compile(r'[<>:"/\\|?*]')
# Control, formatting (bidi overrides, zero-width), surrogate, private-use and unassigned.
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
DEFAULT_FILENAME = "document"


def sanitize_filename(raw: str | None, *, max_length: int = 200) -> str:
    """A display name safe to store and to send back: the last path component of what the client
    sent, without control or formatting characters (such as a right-to-left override that hides a
    ``.exe``), without characters Windows refuses, not hidden, and at most ``max_length``
    characters with its extension kept."""
    name = unicodedata.normalize("NFC", raw or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(
        " " if ch.isspace() else ch
        for ch in name
        if ch.isspace() or unicodedata.category(ch) not in _DROPPED_CATEGORIES
    )
    name = _UNSAFE_CHARACTERS.sub("_", name)
    name = re.sub(r" {2,}", " ", name).strip(" .")
    if not name:
        return DEFAULT_FILENAME
    if _WINDOWS_RESERVED.match(name):
        name = f"_{name}"
    if len(name) > max_length:
        path = PurePosixPath(name)
        suffix = path.suffix if len(path.suffix) <= 16 else ""
        name = path.stem[: max_length - len(suffix)].rstrip(" .") + suffix
    return name


_ATTR_CHAR = "!#$&+-.^_`|~"  # RFC 8187 attr-char beyond ALPHA / DIGIT


def _ascii(text: str) -> str:
    """Printable ASCII for a quoted-string: accents dropped; anything else, ``"``, ``\\`` and
    ``%`` become ``_``."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r'[^\x20-\x7e]|["\\%]', "_", text)


def content_disposition(filename: str, *, disposition: str = "attachment") -> str:
    """An RFC 6266 ``Content-Disposition`` value: a quoted ASCII fallback for old clients and the
    exact name as RFC 8187 ``filename*``."""
    safe = sanitize_filename(filename)
    path = PurePosixPath(safe)
    stem = _ascii(path.stem).strip(" ._") or "download"
    fallback = stem + _ascii(path.suffix)
    encoded = quote(safe, safe=_ATTR_CHAR)
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


# -- PDF ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PdfReport:
    """A PDF that passed: no active content anywhere in it."""

    pages: int
    encrypted: bool


class _ReadLimit(Exception):
    """A parser asked for more bytes at once than a PDF check may hold."""


_EOF_WINDOW = 1024  # readers accept %%EOF within the last KiB


def inspect_pdf(
    stream: BinaryIO, *, allow_encrypted: bool = False, scan: ActiveContentScan | None = None
) -> PdfReport:
    """Parse a PDF strictly and look for what makes one dangerous or unreadable.

    Raises ``BrokenFile`` for anything pypdf cannot parse in strict mode (a truncated file among
    them) and for a file too large or complex to check; ``PdfEncrypted`` for an encrypted file
    unless ``allow_encrypted``, and always for one that needs a password (it cannot be checked);
    ``ActiveContent`` (415) for active content anywhere in the file (``submissions.active_content``
    says what and where). Active content is never allowed. ``scan``: one already fed the file's
    bytes as they were stored (else the file is read for it).
    """
    size = stream.seek(0, io.SEEK_END)
    stream.seek(max(size - _EOF_WINDOW, 0))
    if b"%%EOF" not in stream.read(_EOF_WINDOW):
        raise BrokenFile("the PDF is truncated: it has no end-of-file marker")
    stream.seek(0)
    try:
        reader = PdfReader(stream, strict=True)
        encrypted = reader.is_encrypted
        readable = not encrypted or bool(reader.decrypt(""))
        pages = len(reader.pages) if readable else None
        if pages == 0:
            raise BrokenFile("the PDF has no pages")
        if encrypted and not allow_encrypted:
            raise PdfEncrypted("encrypted PDFs are not accepted for this document kind")
        if pages is None:
            raise PdfEncrypted(_UNCHECKABLE)
        (scan or ActiveContentScan()).finish(stream, size=size, reader=reader)
    except DomainError:
        raise
    except NotDecryptable as exc:
        raise PdfEncrypted(_UNCHECKABLE) from exc
    except Exception as exc:  # whatever a malformed file makes the parser raise
        raise BrokenFile(f"the PDF cannot be read: {_describe(exc)}") from exc
    return PdfReport(pages=pages, encrypted=encrypted)


_UNCHECKABLE = "the PDF is password-protected, so it cannot be checked for active content"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, _ReadLimit):
        return "its structure is too large to check"
    if isinstance(exc, ScanLimit):
        return f"it is too large or complex to check for active content ({exc})"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


class _BlobReader(io.RawIOBase):
    """A seekable, read-only file over a stored blob, for pypdf running in a worker thread.

    Each read fetches one byte range from the store on the event loop; a single read larger than
    ``max_read`` is refused, so a parser can never pull a whole large file into memory.
    """

    def __init__(self, store: BlobStore, key: str, size: int, *, max_read: int) -> None:
        super().__init__()
        self._store, self._key, self._size, self._max_read = store, key, size, max_read
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError("negative seek position")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: "WriteableBuffer") -> int:
        view = memoryview(buffer).cast("B")
        count = min(len(view), self._size - self._position)
        if count <= 0:
            return 0
        if count > self._max_read:
            raise _ReadLimit(count)
        data = anyio.from_thread.run(self._fetch, self._position, self._position + count)
        view[: len(data)] = data
        self._position += len(data)
        return len(data)

    def readall(self) -> bytes:
        if self._size - self._position > self._max_read:
            raise _ReadLimit(self._size - self._position)
        return super().readall() or b""

    async def _fetch(self, start: int, end: int) -> bytes:
        chunks = await self._store.read(self._key, start=start, end=end)
        return b"".join([chunk async for chunk in chunks])


async def inspect_pdf_blob(
    *,
    store: BlobStore,
    key: str,
    size: int,
    allow_encrypted: bool = False,
    scan: ActiveContentScan | None = None,
    max_read: int = 16 * 1024 * 1024,
) -> PdfReport:
    """``inspect_pdf`` on a stored blob, reading it by ranges (never whole) in a worker thread."""

    def run() -> PdfReport:
        raw = _BlobReader(store, key, size, max_read=max_read)
        with io.BufferedReader(raw, buffer_size=64 * 1024) as stream:
            return inspect_pdf(stream, allow_encrypted=allow_encrypted, scan=scan)

    return await anyio.to_thread.run_sync(run)


# -- the upload pipeline -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ContentRule:
    """What a document kind accepts (from the round's ``required_documents``)."""

    content_types: frozenset[str]
    max_bytes: int
    allow_encrypted_pdf: bool = False


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    """A durable blob that passed every content check: what the document row records."""

    blob: StoredBlob
    filename: str
    content_type: str
    pdf: PdfReport | None


async def _read_head(chunks: AsyncIterator[bytes], size: int) -> bytes:
    head: list[bytes] = []
    total = 0
    while total < size:
        chunk = await anext(chunks, None)
        if chunk is None:
            break
        head.append(chunk)
        total += len(chunk)
    return b"".join(head)


async def _prepend(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for chunk in rest:
        yield chunk


_SCAN_BATCH = 1024 * 1024  # bytes handed to the active-content scan at once


async def _scanned(chunks: AsyncIterator[bytes], scan: ActiveContentScan) -> AsyncIterator[bytes]:
    """``chunks`` as they come, fed meanwhile to ``scan`` in a worker thread, one batch while
    the next arrives: a PDF is scanned as it is written, never read back for it. Active content
    found on the way stops the upload (the store deletes what it wrote). Bytes that the scan
    only counts (inside a stream's data it skips) are fed here at once, not through a thread."""
    batch: list[bytes] = []
    size = 0
    # asyncio's own future: the batch is scanned while the upload goes on, and awaited before
    # the next one is handed over (so one thread at a time works on ``scan``).
    running: asyncio.Future[None] | None = None
    try:
        async for chunk in chunks:
            yield chunk
            batch.append(chunk)
            size += len(chunk)
            if running is not None and (running.done() or size >= _SCAN_BATCH):
                await running  # raises what the scan found
                running = None
            if running is None and scan.passes_over(size):
                _feed(scan, batch)  # only counted: no worker thread needed
            elif size >= _SCAN_BATCH:
                running = asyncio.ensure_future(asyncio.to_thread(_feed, scan, batch))
            else:
                continue
            batch, size = [], 0
        if running is not None:
            await running
            running = None
        if batch:
            await asyncio.to_thread(_feed, scan, batch)
    finally:
        if running is not None:  # the upload failed first: nobody waits for this batch
            running.add_done_callback(_consumed)


def _feed(scan: ActiveContentScan, batch: list[bytes]) -> None:
    for chunk in batch:
        scan.feed(chunk)


def _consumed(future: "asyncio.Future[None]") -> None:
    if not future.cancelled():
        future.exception()


async def store_checked_upload(
    *,
    chunks: AsyncIterable[bytes],
    filename: str | None,
    declared_type: str | None,
    rule: ContentRule,
    store: BlobStore,
    prefix: str = "documents",
) -> CheckedUpload:
    """Check and store one uploaded file; nothing stays in ``store`` unless every check passes.

    Refusals: ``UnsupportedMediaType`` (415, before any byte is stored), ``EmptyFile`` (422),
    ``ContentTooLarge`` (413, as soon as ``rule.max_bytes`` is passed), ``BrokenFile``,
    ``PdfEncrypted`` (422), ``ActiveContent`` (415, found as the file streams in, or once it is
    stored, which is then deleted). The caller writes its row only after this returns.
    """
    name = sanitize_filename(filename)
    stream = aiter(chunks)
    head = await _read_head(stream, SNIFF_BYTES)
    if not head:
        raise EmptyFile("the file is empty")
    content_type = check_media_type(
        sniffed=sniff_media_type(head),
        filename=name,
        declared=declared_type,
        allowed=rule.content_types,
    )
    source = _prepend(head, stream)
    scan = ActiveContentScan() if content_type == PDF else None
    try:
        blob = await store.write(
            source if scan is None else _scanned(source, scan),
            max_bytes=rule.max_bytes,
            prefix=prefix,
        )
    except ScanLimit as exc:
        raise BrokenFile(f"the PDF cannot be read: {_describe(exc)}") from exc
    try:
        pdf = None
        if content_type == PDF:
            pdf = await inspect_pdf_blob(
                store=store,
                key=blob.key,
                size=blob.size,
                allow_encrypted=rule.allow_encrypted_pdf,
                scan=scan,
            )
    except BaseException:
        with anyio.CancelScope(shield=True):
            await store.delete(blob.key)
        raise
    return CheckedUpload(blob=blob, filename=name, content_type=content_type, pdf=pdf)
