"""Stored blobs over HTTP: the blob store of the app, and a document as a download."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import StreamingResponse

from submissions.blobs import BlobStore, parse_byte_range
from submissions.content import content_disposition


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
