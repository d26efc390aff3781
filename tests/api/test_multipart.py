"""The streaming multipart reader behind a tiny upload app wired the way the document route will
be: read ``kind``, pick the rule, stream ``file`` through the content checks into the blob store.

``TestClient`` hands an app the whole body at once, so the streaming cases (no Content-Length,
a client that goes away) call the ASGI app directly with a body that arrives chunk by chunk.
"""

import hashlib
import io
import json
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient
from pypdf import PdfWriter
from starlette.types import Message

from api.errors import PROBLEM_JSON, install_error_handlers
from api.http.blobs import blob_response
from api.http.multipart import MultipartLimits, MultipartReader, read_upload_form
from infra.storage.local import LocalBlobStore
from models.errors import Unprocessable
from submissions.content import CheckedUpload, ContentRule, store_checked_upload

KiB = 1024
MAX_BYTES = 256 * KiB
RULES = {"proposal": ContentRule(content_types=frozenset({"application/pdf"}), max_bytes=MAX_BYTES)}
LIMITS = MultipartLimits(max_parts=16, max_field_bytes=1 * KiB, max_header_bytes=2 * KiB)


def make_upload_app(store: LocalBlobStore) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    rows: dict[str, CheckedUpload] = {}  # what the documents table will hold

    @app.post("/upload", status_code=201)
    async def upload(request: Request) -> dict[str, Any]:
        reader = MultipartReader.from_request(request, limits=LIMITS)
        form = await read_upload_form(reader, fields={"kind"}, file="file")
        rule = RULES.get(form.fields["kind"])
        if rule is None:
            raise Unprocessable("unknown document kind", type="unknown-kind")
        form.check_declared_size(rule.max_bytes)
        checked = await store_checked_upload(
            chunks=form.file_chunks(),
            filename=form.file.filename,
            declared_type=form.file.content_type,
            rule=rule,
            store=store,
        )
        document_id = uuid.uuid4().hex
        rows[document_id] = checked
        return {
            "id": document_id,
            "key": checked.blob.key,
            "size": checked.blob.size,
            "sha256": checked.blob.sha256,
            "filename": checked.filename,
            "content_type": checked.content_type,
        }

    @app.get("/download/{document_id}", response_model=None)
    async def download(document_id: str, request: Request) -> StreamingResponse:
        row = rows[document_id]
        return await blob_response(
            store=store,
            key=row.blob.key,
            size=row.blob.size,
            content_type=row.content_type,
            filename=row.filename,
            sha256=row.blob.sha256,
            range_header=request.headers.get("range"),
            if_range=request.headers.get("if-range"),
        )

    return app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def upload_app(store: LocalBlobStore) -> FastAPI:
    return make_upload_app(store)


def stored_files(store: LocalBlobStore) -> list[Path]:
    return sorted(p for p in store.root.rglob("*") if p.is_file())


def a_pdf(size: int | None = None) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    if size is None:
        return data
    cut = data.rindex(b"\nxref") + 1
    startxref = data.rindex(b"startxref")

    def padded(fill: int) -> bytes:
        padding = b"%" + b"p" * fill + b"\n"  # a comment line: the file stays valid
        offset = int(data[startxref:].split()[1]) + len(padding)
        return data[:cut] + padding + data[cut:startxref] + b"startxref\n%d\n%%%%EOF\n" % offset

    fill = size - len(data)
    while len(padded(fill)) != size:
        fill += size - len(padded(fill))
    return padded(fill)


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
    boundary = uuid.uuid4().hex
    return f"multipart/form-data; boundary={boundary}", b"".join(encode(fields, boundary))


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
    chunks: Iterable[bytes],
    *,
    content_type: str,
    content_length: int | None = None,
    disconnect_after: int | None = None,
) -> Answer:
    """POST /upload straight into the ASGI app, one chunk per ``receive()``; the client goes
    away after ``disconnect_after`` body bytes if that is set."""
    pending = iter(chunks)
    upcoming = next(pending, None)
    received = 0
    done = anyio.Event()
    sent: list[Message] = []

    async def receive() -> Message:
        nonlocal upcoming, received
        if disconnect_after is not None and received >= disconnect_after:
            return {"type": "http.disconnect"}
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

    headers = [(b"content-type", content_type.encode())]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/upload",
        "raw_path": b"/upload",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
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


# -- over HTTP (TestClient) ---------------------------------------------------------------------


def test_an_upload_is_streamed_into_the_store(upload_app: FastAPI, store: LocalBlobStore) -> None:
    data = a_pdf()
    with TestClient(upload_app) as client:
        response = client.post(
            "/upload",
            data={"kind": "proposal"},
            files={"file": ("../../etc/passwd.pdf", data, "application/pdf")},
        )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["filename"] == "passwd.pdf"
    assert body["content_type"] == "application/pdf"
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert stored_files(store) == [store.root / body["key"]]
    assert (store.root / body["key"]).read_bytes() == data


def test_over_max_bytes_with_content_length_is_413(
    upload_app: FastAPI, store: LocalBlobStore
) -> None:
    with TestClient(upload_app) as client:
        response = client.post(
            "/upload",
            data={"kind": "proposal"},
            files={"file": ("big.pdf", a_pdf(MAX_BYTES + 1), "application/pdf")},
        )
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == "content-too-large"
    assert stored_files(store) == []


def test_a_windows_executable_named_pdf_is_415(upload_app: FastAPI, store: LocalBlobStore) -> None:
    executable = b"MZ" + b"\x00" * 58 + b"\x80\x00\x00\x00" + b"\x00" * 64 + b"PE\x00\x00\x4c\x01"
    with TestClient(upload_app) as client:
        response = client.post(
            "/upload",
            data={"kind": "proposal"},
            files={"file": ("budget.pdf", executable + b"\x00" * 2048, "application/pdf")},
        )
    assert response.status_code == 415
    assert response.json()["type"] == "unsupported-media-type"
    assert stored_files(store) == []


def test_a_missing_file_part_is_422(upload_app: FastAPI, store: LocalBlobStore) -> None:
    content_type, body = body_of(Field("kind", b"proposal"))
    with TestClient(upload_app) as client:
        response = client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == 422
    assert response.json()["errors"] == [{"loc": ["body", "file"], "msg": "field required"}]
    assert stored_files(store) == []


@pytest.mark.parametrize(
    ("fields", "status", "problem"),
    [
        # the kind must come first: its rule decides the cap and the types before a byte is stored
        ([Field("file", b"%PDF-", "a.pdf"), Field("kind", b"proposal")], 422, "validation-error"),
        ([Field("kind", b"proposal"), Field("kind", b"proposal")], 422, "validation-error"),
        ([Field("kind", b"proposal"), Field("note", b"hi")], 422, "validation-error"),
        ([Field("kind", b"proposal", filename="kind.txt")], 422, "validation-error"),
        ([Field("kind", b"x" * 2 * KiB)], 413, "field-too-large"),
        ([Field("kind", b"\xff\xfe")], 422, "validation-error"),
        ([Field("kind", b"poster"), Field("file", a_pdf(), "a.pdf")], 422, "unknown-kind"),
    ],
)
def test_malformed_forms_are_refused(
    upload_app: FastAPI, store: LocalBlobStore, fields: list[Field], status: int, problem: str
) -> None:
    content_type, body = body_of(*fields)
    with TestClient(upload_app) as client:
        response = client.post("/upload", content=body, headers={"content-type": content_type})
    assert response.status_code == status, response.text
    assert response.json()["type"] == problem
    assert stored_files(store) == []


def test_a_body_that_is_not_multipart_is_415(upload_app: FastAPI) -> None:
    with TestClient(upload_app) as client:
        response = client.post("/upload", json={"kind": "proposal"})
        no_boundary = client.post(
            "/upload", content=b"x", headers={"content-type": "multipart/form-data"}
        )
    assert response.status_code == 415
    assert response.json()["type"] == "multipart-required"
    assert no_boundary.status_code == 415


def test_oversized_part_headers_are_refused(upload_app: FastAPI) -> None:
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=kind\r\n"
        f"X-Padding: {'p' * 4 * KiB}\r\n\r\nproposal\r\n--{boundary}--\r\n"
    ).encode()
    with TestClient(upload_app) as client:
        response = client.post(
            "/upload",
            content=body,
            headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        )
    assert response.status_code == 400
    assert response.json()["type"] == "malformed-multipart"


# -- streaming (straight into the ASGI app) -----------------------------------------------------


@pytest.mark.anyio
async def test_over_max_bytes_without_content_length_is_413_as_the_bytes_arrive(
    upload_app: FastAPI, store: LocalBlobStore
) -> None:
    content_type, body = body_of(
        Field("kind", b"proposal"), Field("file", a_pdf(4 * MAX_BYTES), "big.pdf")
    )
    answer = await post_streaming(upload_app, rechunk(body, 16 * KiB), content_type=content_type)
    assert answer.status == 413
    assert answer.body["type"] == "content-too-large"
    # Refused once the cap was passed: the rest of the megabyte was never read.
    assert answer.received <= MAX_BYTES + 64 * KiB
    assert stored_files(store) == []


@pytest.mark.anyio
async def test_over_max_bytes_with_content_length_is_refused_before_the_file_is_read(
    upload_app: FastAPI, store: LocalBlobStore
) -> None:
    content_type, body = body_of(
        Field("kind", b"proposal"), Field("file", a_pdf(4 * MAX_BYTES), "big.pdf")
    )
    answer = await post_streaming(
        upload_app, rechunk(body, 16 * KiB), content_type=content_type, content_length=len(body)
    )
    assert answer.status == 413
    assert answer.received <= 32 * KiB
    assert stored_files(store) == []


@pytest.mark.anyio
@pytest.mark.parametrize(("size", "status"), [(MAX_BYTES, 201), (MAX_BYTES + 1, 413)])
async def test_the_cap_is_exact_with_and_without_content_length(
    upload_app: FastAPI, store: LocalBlobStore, size: int, status: int
) -> None:
    data = a_pdf(size)
    assert len(data) == size
    content_type, body = body_of(Field("kind", b"proposal"), Field("file", data, "a.pdf"))
    for length in (len(body), None):
        answer = await post_streaming(
            upload_app, rechunk(body, 8 * KiB), content_type=content_type, content_length=length
        )
        assert answer.status == status, answer.body
    assert len(stored_files(store)) == (2 if status == 201 else 0)


@pytest.mark.anyio
async def test_a_thousand_tiny_parts_are_refused_fast(
    upload_app: FastAPI, store: LocalBlobStore
) -> None:
    content_type, body = body_of(*(Field(f"f{i}", b"x") for i in range(1000)))
    answer = await post_streaming(upload_app, rechunk(body, 4 * KiB), content_type=content_type)
    assert answer.status == 400
    assert answer.body["type"] == "too-many-parts"
    # Refused early, told by the bytes read, not by a clock: most of the body is never read.
    assert answer.received < len(body) // 10
    assert stored_files(store) == []


@pytest.mark.anyio
async def test_a_thousand_tiny_parts_after_the_file_are_refused_and_nothing_is_kept(
    upload_app: FastAPI, store: LocalBlobStore
) -> None:
    fields = [Field("kind", b"proposal"), Field("file", a_pdf(), "a.pdf")]
    fields += [Field(f"f{i}", b"x") for i in range(1000)]
    content_type, body = body_of(*fields)
    answer = await post_streaming(upload_app, rechunk(body, 4 * KiB), content_type=content_type)
    # Whichever the reader meets first: the seventeenth part, or the first one after the file.
    assert (answer.status, answer.body["type"]) in {
        (400, "too-many-parts"),
        (422, "validation-error"),
    }
    assert stored_files(store) == []


@pytest.mark.anyio
async def test_a_client_that_disconnects_mid_file_leaves_nothing(
    upload_app: FastAPI, store: LocalBlobStore
) -> None:
    content_type, body = body_of(
        Field("kind", b"proposal"), Field("file", a_pdf(MAX_BYTES - KiB), "a.pdf")
    )
    answer = await post_streaming(
        upload_app,
        rechunk(body, 8 * KiB),
        content_type=content_type,
        disconnect_after=len(body) // 2,
    )
    assert answer.status == 400
    assert answer.body["type"] == "client-disconnected"
    assert answer.received < len(body)
    assert stored_files(store) == []


@pytest.mark.anyio
async def test_a_body_cut_before_the_closing_boundary_leaves_nothing(
    upload_app: FastAPI, store: LocalBlobStore
) -> None:
    content_type, body = body_of(Field("kind", b"proposal"), Field("file", a_pdf(), "a.pdf"))
    truncated = body[: body.rindex(b"\r\n--")]
    answer = await post_streaming(upload_app, rechunk(truncated, 1000), content_type=content_type)
    assert answer.status == 400
    assert answer.body["type"] == "malformed-multipart"
    assert stored_files(store) == []


@pytest.mark.anyio
async def test_a_part_after_the_file_leaves_nothing(
    upload_app: FastAPI, store: LocalBlobStore
) -> None:
    content_type, body = body_of(
        Field("kind", b"proposal"), Field("file", a_pdf(), "a.pdf"), Field("extra", b"1")
    )
    answer = await post_streaming(upload_app, rechunk(body, 1000), content_type=content_type)
    assert answer.status == 422
    assert answer.body["errors"] == [{"loc": ["body", "extra"], "msg": "unexpected form part"}]
    assert stored_files(store) == []


@pytest.mark.anyio
@pytest.mark.parametrize("chunk", [1, 7, 4096, 1_000_000])
async def test_any_chunking_gives_the_same_bytes(
    upload_app: FastAPI, store: LocalBlobStore, chunk: int
) -> None:
    data = a_pdf(40 * KiB) if chunk > 1 else a_pdf()
    content_type, body = body_of(
        Field("kind", b"proposal"), Field("file", data, "a.pdf", "application/octet-stream")
    )
    answer = await post_streaming(upload_app, rechunk(body, chunk), content_type=content_type)
    assert answer.status == 201, answer.body
    assert answer.body["sha256"] == hashlib.sha256(data).hexdigest()
    assert (store.root / answer.body["key"]).read_bytes() == data


# -- downloads ----------------------------------------------------------------------------------


@pytest.fixture
def uploaded(upload_app: FastAPI) -> Iterator[tuple[TestClient, dict[str, Any], bytes]]:
    data = a_pdf(10 * KiB)
    with TestClient(upload_app) as client:
        response = client.post(
            "/upload",
            data={"kind": "proposal"},
            files={"file": ("../../etc/passwd.pdf", data, "application/pdf")},
        )
        assert response.status_code == 201, response.text
        yield client, response.json(), data


def test_a_download_is_an_attachment_under_a_safe_name(
    uploaded: tuple[TestClient, dict[str, Any], bytes],
) -> None:
    client, document, data = uploaded
    response = client.get(f"/download/{document['id']}")
    assert response.status_code == 200
    assert response.content == data
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-length"] == str(len(data))
    assert response.headers["content-disposition"] == (
        "attachment; filename=\"passwd.pdf\"; filename*=UTF-8''passwd.pdf"
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["etag"] == f'"{hashlib.sha256(data).hexdigest()}"'


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [("bytes=10-19", 10, 20), ("bytes=-5", None, None), ("bytes=10000-", 10000, None)],
)
def test_a_single_byte_range_is_206(
    uploaded: tuple[TestClient, dict[str, Any], bytes],
    header: str,
    start: int | None,
    end: int | None,
) -> None:
    client, document, data = uploaded
    response = client.get(f"/download/{document['id']}", headers={"Range": header})
    assert response.status_code == 206
    expected = data[-5:] if start is None else data[start:end]
    assert response.content == expected
    first = len(data) - 5 if start is None else start
    last = first + len(expected) - 1
    assert response.headers["content-range"] == f"bytes {first}-{last}/{len(data)}"
    assert response.headers["content-length"] == str(len(expected))


def test_a_range_outside_the_file_is_416(
    uploaded: tuple[TestClient, dict[str, Any], bytes],
) -> None:
    client, document, data = uploaded
    response = client.get(f"/download/{document['id']}", headers={"Range": f"bytes={len(data)}-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(data)}"
    assert response.json()["type"] == "range-not-satisfiable"


def test_multiple_ranges_and_a_stale_if_range_get_the_whole_file(
    uploaded: tuple[TestClient, dict[str, Any], bytes],
) -> None:
    client, document, data = uploaded
    url = f"/download/{document['id']}"
    assert client.get(url, headers={"Range": "bytes=0-1,5-6"}).content == data
    stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"not-the-etag"'})
    assert (stale.status_code, stale.content) == (200, data)
    etag = f'"{document["sha256"]}"'
    fresh = client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert (fresh.status_code, fresh.content) == (206, data[:10])
