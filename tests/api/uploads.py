"""Support for the document tests: files good and hostile, multipart bodies built by hand, a
request streamed into the ASGI app chunk by chunk (``TestClient`` hands over whole bodies), and
what is stored (rows and blobs)."""

import io
import json
import struct
import uuid
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI
from pypdf import PdfWriter
from pypdf.actions import JavaScript
from sqlmodel import col, select
from starlette.types import Message

from infra.db import open_session
from models.documents import Document

KiB = 1024
PDF = "application/pdf"


def a_pdf(
    size: int | None = None, *, javascript: bool = False, pages: int = 1, comment: bytes = b""
) -> bytes:
    """A valid PDF, padded to exactly ``size`` bytes with a comment line when given; ``comment``
    is carried in a comment line too (a virus scanner sees it, a PDF reader does not)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if javascript:
        writer.add_open_action(JavaScript("app.alert('x');"))
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    if size is None and not comment:
        return data
    # Lines between the last object and the cross-reference table keep the file valid.
    cut = data.rindex(b"\nxref") + 1
    startxref = data.rindex(b"startxref")
    extra = b"%" + comment + b"\n" if comment else b""

    def padded(fill: int) -> bytes:
        lines = extra + (b"%" + b"p" * fill + b"\n" if fill >= 0 else b"")
        offset = int(data[startxref:].split()[1]) + len(lines)
        return data[:cut] + lines + data[cut:startxref] + b"startxref\n%d\n%%%%EOF\n" % offset

    if size is None:
        return padded(-1)
    fill = size - len(data)
    while len(padded(fill)) != size:
        fill += size - len(padded(fill))
    return padded(fill)


def windows_executable() -> bytes:
    dos = bytearray(b"MZ" + b"\x00" * 126)
    dos[0x3C:0x40] = struct.pack("<I", 0x80)
    return bytes(dos) + b"PE\x00\x00" + struct.pack("<HH", 0x14C, 3) + b"\x00" * 4096


def zip_archive() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("inner.pdf", a_pdf())
    return out.getvalue()


@dataclass(frozen=True)
class Field:
    name: str
    value: bytes
    filename: str | None = None
    content_type: str | None = None


def encode(fields: Iterable[Field], boundary: str) -> Iterator[bytes]:
    for field in fields:
        disposition = f'form-data; name="{field.name}"'
        if field.filename is not None:
            disposition += f'; filename="{field.filename}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if field.content_type:
            head += f"Content-Type: {field.content_type}\r\n"
        yield (head + "\r\n").encode()
        yield field.value
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode()


def body_of(*fields: Field) -> tuple[str, bytes]:
    """A multipart body and its Content-Type."""
    boundary = uuid.uuid4().hex
    return f"multipart/form-data; boundary={boundary}", b"".join(encode(fields, boundary))


def upload_body(
    data: bytes, *, kind: str = "proposal", filename: str = "a.pdf"
) -> tuple[str, bytes]:
    return body_of(Field("kind", kind.encode()), Field("file", data, filename, PDF))


def rechunk(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    received: int  # body bytes the app pulled before it answered


async def post_streaming(
    app: FastAPI,
    path: str,
    chunks: Iterable[bytes],
    *,
    content_type: str,
    headers: dict[str, str],
    content_length: int | None = None,
    disconnect_after: int | None = None,
    paused: anyio.Event | None = None,
    stalled: anyio.Event | None = None,
    pause_after: int | None = None,
) -> Answer:
    """POST ``path`` straight into the ASGI app, one chunk per ``receive()``. The client goes
    away after ``disconnect_after`` body bytes if that is set; with ``pause_after``, the body
    stops there (setting ``stalled``) until ``paused`` is set."""
    pending = iter(chunks)
    upcoming = next(pending, None)
    received = 0
    done = anyio.Event()
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal upcoming, received
        if disconnect_after is not None and received >= disconnect_after:
            return {"type": "http.disconnect"}
        if paused is not None and pause_after is not None and received >= pause_after:
            if stalled is not None:
                stalled.set()
            await paused.wait()
        if upcoming is None:
            await done.wait()  # like a server: the next event is the client hanging up
            return {"type": "http.disconnect"}
        chunk, upcoming = upcoming, next(pending, None)
        received += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": upcoming is not None}

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    raw_headers = [(b"content-type", content_type.encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if content_length is not None:
        raw_headers.append((b"content-length", str(content_length).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "app": app,
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return Answer(
        status=start["status"],
        headers={k.decode(): v.decode() for k, v in start["headers"]},
        body=json.loads(body),
        received=received,
    )


def blob_files(root: Path) -> list[Path]:
    """The files a local blob store holds (staging included)."""
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def document_rows(app: FastAPI, application_id: uuid.UUID | str) -> list[Document]:
    """Every document row of an application, deleted ones included, oldest version first."""
    session = open_session(app.state.engine)
    try:
        return list(
            session.exec(
                select(Document)
                .where(Document.application_id == uuid.UUID(str(application_id)))
                .order_by(col(Document.kind), col(Document.version))
            ).all()
        )
    finally:
        session.close()
