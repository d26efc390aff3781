"""Documents through the real routes: uploads streamed into the (local) blob store as versions,
the attack set of issue 5 (each refused with a clear 4xx, leaving no row and no blob), reading
under the sealed-bid rules, downloads with ranges, deletion, quotas, ``Idempotency-Key``, the
background scan (with a scanner double; the real clamd is in tests/integration) and the sweep."""

import errno
import hashlib
import os
import time
import uuid
from collections.abc import AsyncIterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlmodel import col, select

from api.app import create_app
from infra.db import open_session
from infra.jobs.sqlite import ScanWorker
from infra.settings import Settings
from infra.storage.local import LocalBlobStore
from infra.storage.sweep import sweep_storage
from models.audit import AuditEvent
from models.documents import Document, DocumentStatus
from submissions.blobs import BlobStore
from submissions.scanning import CLEAN, ScanResult, ScanVerdict
from tests.api.intake import (
    Person,
    World,
    assert_audit_chain_ok,
    assert_guarded,
    assert_problem,
    build_world,
    random_id,
)
from tests.api.uploads import (
    PDF,
    Field,
    KiB,
    a_pdf,
    blob_files,
    body_of,
    document_rows,
    post_streaming,
    rechunk,
    upload_body,
    windows_executable,
    zip_archive,
)

READ = "applications:read"
WRITE = "applications:write"
PROPOSAL_MAX = 256 * KiB
REQUIRED = [
    {
        "kind": "proposal",
        "title": "Proposal",
        "content_types": [PDF],
        "max_bytes": PROPOSAL_MAX,
    },
    {"kind": "budget", "title": "Budget", "content_types": ["text/csv"], "max_bytes": 64 * KiB},
]
CSV = b"item,amount\nGPUs,1200000\nPeople,800000\n"
VIRUS = b"FAKE-VIRUS-SIGNATURE"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def world(app: FastAPI, client: TestClient) -> Iterator[World]:
    world = build_world(app, required_documents=REQUIRED)
    yield world
    assert_audit_chain_ok(app)


def pass_the_deadline(world: World) -> None:
    world.clock.now = world.round.submissions_close_at + timedelta(seconds=1)


def documents_path(world: World) -> str:
    return f"/api/v1/applications/{world.application.id}/documents"


def upload(
    client: TestClient,
    world: World,
    who: Person,
    data: bytes,
    *,
    kind: str = "proposal",
    filename: str = "proposal.pdf",
    content_type: str = PDF,
    headers: dict[str, str] | None = None,
) -> Response:
    return client.post(
        documents_path(world),
        data={"kind": kind},
        files={"file": (filename, data, content_type)},
        headers={**who.headers, **(headers or {})},
    )


def uploaded(client: TestClient, world: World, data: bytes | None = None, **kw: Any) -> Any:
    response = upload(client, world, kw.pop("who", world.applicant), data or a_pdf(), **kw)
    assert response.status_code == 201, response.text
    return response.json()


def store_root(app: FastAPI) -> Path:
    store = app.state.blob_store
    assert isinstance(store, LocalBlobStore)
    return store.root


def assert_nothing_stored(app: FastAPI, world: World) -> None:
    assert document_rows(app, world.application.id) == []
    assert blob_files(store_root(app)) == []


def audit_actions(app: FastAPI, object_id: str) -> list[tuple[str, str]]:
    session = open_session(app.state.engine)
    try:
        events = session.exec(
            select(AuditEvent)
            .where(AuditEvent.object_id == object_id)
            .order_by(col(AuditEvent.seq))
        ).all()
        return [(e.actor, e.action) for e in events]
    finally:
        session.close()


def confirm_partner(client: TestClient, world: World) -> None:
    path = f"/api/v1/applications/{world.application.id}/members/{world.partner_org.id}/confirm"
    assert client.post(path, headers=world.partner.headers).status_code == 200


# --- upload -----------------------------------------------------------------------------------


def test_upload_is_guarded(client: TestClient, world: World) -> None:
    assert_guarded(
        client,
        world,
        "POST",
        documents_path(world),
        scope=WRITE,
        caller=world.applicant,
        wrong_role=world.admin,  # sees the (sealed) application, may not change it
        foreign_path=f"/api/v1/applications/{random_id()}/documents",
        outsider=world.stranger,
    )
    assert_problem(
        upload(client, world, world.reviewer, a_pdf()), 404
    )  # not assigned: it does not exist for them


def test_an_upload_is_stored_and_served_back_intact(
    app: FastAPI, client: TestClient, world: World
) -> None:
    data = a_pdf(40 * KiB)
    response = upload(client, world, world.applicant, data, filename="Proposal \u2013 final.pdf")
    assert response.status_code == 201, response.text
    document = response.json()
    assert document == {
        "id": document["id"],
        "application_id": str(world.application.id),
        "kind": "proposal",
        "filename": "Proposal \u2013 final.pdf",
        "content_type": PDF,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "status": "clean",
        "version": 1,
        "current": True,
        "created_at": document["created_at"],
    }
    assert datetime.fromisoformat(document["created_at"]) == world.clock.now
    assert response.headers["location"] == f"/api/v1/documents/{document['id']}"
    [row] = document_rows(app, world.application.id)
    assert row.storage_key.startswith("documents/")
    assert (store_root(app) / row.storage_key).read_bytes() == data
    assert audit_actions(app, document["id"]) == [
        (f"user:{world.applicant.id}", "document.uploaded")
    ]

    content = client.get(
        f"/api/v1/documents/{document['id']}/content", headers=world.partner.headers
    )
    assert content.status_code == 200
    assert content.content == data
    assert content.headers["content-type"] == PDF
    assert content.headers["content-disposition"] == (
        'attachment; filename="Proposal  final.pdf"; '
        "filename*=UTF-8''Proposal%20%E2%80%93%20final.pdf"
    )
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["accept-ranges"] == "bytes"
    assert content.headers["etag"] == f'"{document["sha256"]}"'


def test_a_new_upload_of_a_kind_is_a_new_version(
    app: FastAPI, client: TestClient, world: World
) -> None:
    first = uploaded(client, world, a_pdf(pages=1))
    world.clock.now += timedelta(seconds=1)
    second = uploaded(client, world, a_pdf(pages=2))
    world.clock.now += timedelta(seconds=1)
    budget = uploaded(client, world, CSV, kind="budget", filename="budget.csv", content_type="")
    assert (first["version"], second["version"], budget["version"]) == (1, 2, 1)
    assert budget["content_type"] == "text/csv"

    listed = client.get(documents_path(world), headers=world.partner.headers)
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [(d["id"], d["version"], d["current"]) for d in items] == [
        (budget["id"], 1, True),
        (second["id"], 2, True),
        (first["id"], 1, False),
    ]
    # Earlier versions stay listed and readable.
    old = client.get(f"/api/v1/documents/{first['id']}", headers=world.applicant.headers)
    assert old.json() == {**first, "current": False}
    content = client.get(
        f"/api/v1/documents/{first['id']}/content", headers=world.applicant.headers
    )
    assert content.content == a_pdf(pages=1)

    page = client.get(documents_path(world), params={"limit": 2}, headers=world.applicant.headers)
    assert [d["id"] for d in page.json()["items"]] == [budget["id"], second["id"]]
    rest = client.get(
        documents_path(world),
        params={"limit": 2, "cursor": page.json()["next_cursor"]},
        headers=world.applicant.headers,
    ).json()
    assert ([d["id"] for d in rest["items"]], rest["next_cursor"]) == ([first["id"]], None)
    assert len(blob_files(store_root(app))) == 3


def test_uploads_stop_at_the_deadline_and_after_submission(
    app: FastAPI, client: TestClient, world: World
) -> None:
    confirm_partner(client, world)
    uploaded(client, world)
    uploaded(client, world, CSV, kind="budget", filename="budget.csv", content_type="text/csv")
    submit = client.post(
        f"/api/v1/applications/{world.application.id}/submit", headers=world.applicant.headers
    )
    assert submit.status_code == 200, submit.text
    refused = upload(client, world, world.applicant, a_pdf())
    assert_problem(refused, 409, "application-not-draft")

    client.post(
        f"/api/v1/applications/{world.application.id}/reopen", headers=world.applicant.headers
    )
    pass_the_deadline(world)
    assert_problem(upload(client, world, world.applicant, a_pdf()), 409, "deadline-passed")
    assert len(document_rows(app, world.application.id)) == 2
    assert len(blob_files(store_root(app))) == 2


def test_submit_needs_every_required_document_and_lists_them_in_the_receipt(
    client: TestClient, world: World
) -> None:
    confirm_partner(client, world)
    submit_path = f"/api/v1/applications/{world.application.id}/submit"
    missing = assert_problem(
        client.post(submit_path, headers=world.applicant.headers), 422, "submission-incomplete"
    )
    assert [e["loc"] for e in missing["errors"]] == [
        ["documents", "proposal"],
        ["documents", "budget"],
    ]
    uploaded(client, world, a_pdf(pages=1))
    proposal = uploaded(client, world, a_pdf(pages=2))
    budget = uploaded(client, world, CSV, kind="budget", filename="b.csv", content_type="text/csv")
    submitted = client.post(submit_path, headers=world.applicant.headers)
    assert submitted.status_code == 200, submitted.text
    listed = {d["kind"]: d for d in submitted.json()["receipt"]["documents"]}
    assert listed == {
        "budget": {"id": budget["id"], "kind": "budget", "sha256": budget["sha256"]},
        "proposal": {"id": proposal["id"], "kind": "proposal", "sha256": proposal["sha256"]},
    }


# --- the attack set (issue 5, acceptance 1) ---------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "content_type", "status", "problem"),
    [
        ("budget.pdf", windows_executable(), PDF, 415, "unsupported-media-type"),
        ("proposal.pdf", zip_archive(), PDF, 415, "unsupported-media-type"),
        ("proposal.pdf", a_pdf(pages=3)[:-300], PDF, 422, "broken-file"),
        ("proposal.pdf", b"", PDF, 422, "empty-file"),
        ("proposal.pdf", a_pdf(javascript=True), PDF, 415, "active-content"),
        ("proposal.docx", a_pdf(), "", 415, "unsupported-media-type"),
        ("proposal.pdf", a_pdf(), "image/png", 415, "unsupported-media-type"),
        ("proposal.pdf", a_pdf(PROPOSAL_MAX + 1), PDF, 413, "content-too-large"),
    ],
    ids=[
        "executable",
        "zip",
        "truncated-pdf",
        "empty",
        "javascript",
        "extension",
        "declared-type",
        "over-max-bytes-with-content-length",
    ],
)
def test_hostile_uploads_are_refused_and_leave_nothing(
    app: FastAPI,
    client: TestClient,
    world: World,
    filename: str,
    data: bytes,
    content_type: str,
    status: int,
    problem: str,
) -> None:
    response = upload(
        client, world, world.applicant, data, filename=filename, content_type=content_type
    )
    assert_problem(response, status, problem)
    assert_nothing_stored(app, world)


@pytest.mark.parametrize(
    ("fields", "status", "problem"),
    [
        ([Field("kind", b"poster"), Field("file", a_pdf(), "a.pdf")], 422, "unknown-document-kind"),
        ([Field("file", a_pdf(), "a.pdf")], 422, "validation-error"),
        ([Field("kind", b"proposal")], 422, "validation-error"),
        (
            [Field("kind", b"proposal"), Field("file", a_pdf(), "a.pdf"), Field("x", b"1")],
            422,
            "validation-error",
        ),
    ],
    ids=["unknown-kind", "no-kind", "no-file", "part-after-the-file"],
)
def test_malformed_forms_are_refused_and_leave_nothing(
    app: FastAPI,
    client: TestClient,
    world: World,
    fields: list[Field],
    status: int,
    problem: str,
) -> None:
    content_type, body = body_of(*fields)
    response = client.post(
        documents_path(world),
        content=body,
        headers={**world.applicant.headers, "content-type": content_type},
    )
    assert_problem(response, status, problem)
    assert_nothing_stored(app, world)


def test_a_body_that_is_not_multipart_is_415(client: TestClient, world: World) -> None:
    response = client.post(
        documents_path(world), json={"kind": "proposal"}, headers=world.applicant.headers
    )
    assert_problem(response, 415, "multipart-required")


def test_a_path_in_the_file_name_is_dropped(app: FastAPI, client: TestClient, world: World) -> None:
    data = a_pdf()
    document = uploaded(client, world, data, filename="../../etc/passwd.pdf")
    assert document["filename"] == "passwd.pdf"
    [row] = document_rows(app, world.application.id)
    assert "passwd" not in row.storage_key
    assert ".." not in row.storage_key
    root = store_root(app)
    assert blob_files(root) == [root / row.storage_key]
    assert not (root.parent / "etc").exists()
    content = client.get(
        f"/api/v1/documents/{document['id']}/content", headers=world.applicant.headers
    )
    assert content.content == data
    assert content.headers["content-disposition"] == (
        "attachment; filename=\"passwd.pdf\"; filename*=UTF-8''passwd.pdf"
    )


@pytest.mark.anyio
async def test_over_max_bytes_without_content_length_is_413_as_the_bytes_arrive(
    app: FastAPI, world: World
) -> None:
    content_type, body = upload_body(a_pdf(4 * PROPOSAL_MAX))
    answer = await post_streaming(
        app,
        documents_path(world),
        rechunk(body, 16 * KiB),
        content_type=content_type,
        headers=world.applicant.headers,
    )
    assert (answer.status, answer.body["type"]) == (413, "content-too-large")
    assert answer.received <= PROPOSAL_MAX + 64 * KiB  # the rest was never read
    assert_nothing_stored(app, world)


@pytest.mark.anyio
@pytest.mark.parametrize("with_length", [True, False])
async def test_the_cap_is_exact(app: FastAPI, world: World, with_length: bool) -> None:
    for size, status in ((PROPOSAL_MAX, 201), (PROPOSAL_MAX + 1, 413)):
        content_type, body = upload_body(a_pdf(size))
        answer = await post_streaming(
            app,
            documents_path(world),
            rechunk(body, 8 * KiB),
            content_type=content_type,
            headers=world.applicant.headers,
            content_length=len(body) if with_length else None,
        )
        assert answer.status == status, answer.body
    assert [r.size for r in document_rows(app, world.application.id)] == [PROPOSAL_MAX]
    assert len(blob_files(store_root(app))) == 1


@pytest.mark.anyio
async def test_a_thousand_tiny_parts_are_refused_fast(app: FastAPI, world: World) -> None:
    content_type, body = body_of(
        Field("kind", b"proposal"), *(Field(f"f{i}", b"x") for i in range(1000))
    )
    answer = await post_streaming(
        app,
        documents_path(world),
        rechunk(body, 4 * KiB),
        content_type=content_type,
        headers=world.applicant.headers,
    )
    assert (answer.status, answer.body["type"]) in {
        (400, "too-many-parts"),
        (422, "validation-error"),
    }
    # Refused early, told by the bytes read, not by a clock: most of the body is never read.
    assert answer.received < len(body) // 4
    assert_nothing_stored(app, world)


@pytest.mark.anyio
async def test_a_client_that_disconnects_mid_file_leaves_nothing(
    app: FastAPI, world: World
) -> None:
    content_type, body = upload_body(a_pdf(PROPOSAL_MAX - KiB))
    answer = await post_streaming(
        app,
        documents_path(world),
        rechunk(body, 8 * KiB),
        content_type=content_type,
        headers=world.applicant.headers,
        disconnect_after=len(body) // 2,
    )
    assert (answer.status, answer.body["type"]) == (400, "client-disconnected")
    assert_nothing_stored(app, world)


@pytest.mark.anyio
@pytest.mark.parametrize("direct_io", [True, False], ids=["direct", "page-cache"])
@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EDQUOT], ids=["disk-full", "quota"])
async def test_a_full_disk_is_507_with_retry_after_and_leaves_nothing(
    app: FastAPI, world: World, monkeypatch: pytest.MonkeyPatch, error: int, direct_io: bool
) -> None:
    """The disk is full when the upload's bytes are written (whichever way the store writes:
    directly or through the page cache): the client learns that nothing was stored and that it
    may try again later."""
    app.state.blob_store = LocalBlobStore(store_root(app), direct_io=direct_io)
    real_write, real_writev = os.write, os.writev
    refused: list[int] = []

    def full(fd: int) -> None:
        if "_staging" in os.readlink(f"/proc/self/fd/{fd}"):
            refused.append(fd)
            raise OSError(error, os.strerror(error))

    def write(fd: int, data: Any) -> int:
        full(fd)
        return real_write(fd, data)

    def writev(fd: int, buffers: Any) -> int:
        full(fd)
        return real_writev(fd, buffers)

    monkeypatch.setattr(os, "write", write)
    monkeypatch.setattr(os, "writev", writev)
    content_type, body = upload_body(a_pdf(PROPOSAL_MAX - KiB))
    answer = await post_streaming(
        app,
        documents_path(world),
        rechunk(body, 64 * KiB),
        content_type=content_type,
        headers=world.applicant.headers,
    )
    monkeypatch.undo()

    assert refused  # the disk was asked, and said it is full
    assert (answer.status, answer.body.get("type")) == (507, "insufficient-storage"), answer.body
    assert answer.headers["retry-after"] == "60"
    assert answer.headers["content-type"] == "application/problem+json"
    assert_nothing_stored(app, world)


@pytest.fixture
def impatient_app(settings: Settings) -> Iterator[FastAPI]:
    """An app whose SQLite writers give up on the write lock after a fifth of a second."""
    app = create_app(settings.model_copy(update={"sqlite_busy_timeout_ms": 200}))
    yield app
    app.state.engine.dispose()


@pytest.mark.anyio
async def test_a_slow_upload_holds_no_database_lock(impatient_app: FastAPI) -> None:
    app = impatient_app
    world = build_world(app, required_documents=REQUIRED)
    content_type, body = upload_body(a_pdf(128 * KiB))
    stalled, resume = anyio.Event(), anyio.Event()
    answers: dict[str, Any] = {}

    async def slow() -> None:
        answers["slow"] = await post_streaming(
            app,
            documents_path(world),
            rechunk(body, 4 * KiB),
            content_type=content_type,
            headers=world.applicant.headers,
            paused=resume,
            stalled=stalled,
            pause_after=64 * KiB,
        )

    async with anyio.create_task_group() as group:
        group.start_soon(slow)
        await stalled.wait()  # the upload is mid-file, its token checked long ago
        budget_type, budget = body_of(
            Field("kind", b"budget"), Field("file", CSV, "budget.csv", "text/csv")
        )
        other = await post_streaming(
            app,
            documents_path(world),
            [budget],
            content_type=budget_type,
            headers=world.applicant.headers,
        )
        assert other.status == 201, other.body
        resume.set()
    assert answers["slow"].status == 201, answers["slow"].body
    assert {r.kind for r in document_rows(app, world.application.id)} == {"proposal", "budget"}


@pytest.mark.anyio
async def test_concurrent_uploads_of_a_kind_get_distinct_versions(
    app: FastAPI, world: World
) -> None:
    answers: list[Any] = []

    async def one(pages: int) -> None:
        content_type, body = upload_body(a_pdf(pages=pages))
        answers.append(
            await post_streaming(
                app,
                documents_path(world),
                rechunk(body, 1024),
                content_type=content_type,
                headers=world.applicant.headers,
            )
        )

    async with anyio.create_task_group() as group:
        for pages in range(1, 5):
            group.start_soon(one, pages)
    assert sorted(a.status for a in answers) == [201] * 4
    assert sorted(a.body["version"] for a in answers) == [1, 2, 3, 4]
    assert len(blob_files(store_root(app))) == 4


# --- quotas and Idempotency-Key ---------------------------------------------------------------


@pytest.fixture
def quota_app(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(
        settings.model_copy(update={"document_quota_bytes": 20 * KiB, "document_quota_count": 3})
    )
    yield app
    app.state.engine.dispose()


def test_the_application_quota_on_bytes_and_count(quota_app: FastAPI) -> None:
    app = quota_app
    with TestClient(app) as client:
        world = build_world(app, required_documents=REQUIRED)
        uploaded(client, world, a_pdf(12 * KiB))
        over = upload(client, world, world.applicant, a_pdf(12 * KiB))
        body = assert_problem(over, 413, "storage-quota-exceeded")
        assert "8192 more bytes" in body["detail"]
        uploaded(client, world, a_pdf(6 * KiB))
        uploaded(client, world, CSV, kind="budget", filename="b.csv", content_type="text/csv")
        assert_problem(upload(client, world, world.applicant, CSV), 409, "document-limit-reached")
        # Deleting makes room again.
        first = document_rows(app, world.application.id)[1]
        assert (
            client.delete(
                f"/api/v1/documents/{first.id}", headers=world.applicant.headers
            ).status_code
            == 204
        )
        uploaded(client, world, a_pdf(8 * KiB))
        assert len(blob_files(store_root(app))) == 3
        assert_audit_chain_ok(app)


def test_idempotency_key_replays_the_upload(app: FastAPI, client: TestClient, world: World) -> None:
    data = a_pdf()
    key = {"Idempotency-Key": f"upload-{uuid.uuid4().hex}"}
    first = upload(client, world, world.applicant, data, headers=key)
    again = upload(client, world, world.applicant, data, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["location"] == first.headers["location"]
    other = upload(client, world, world.applicant, a_pdf(pages=2), headers=key)
    assert_problem(other, 422, "idempotency-key-reused")
    assert len(document_rows(app, world.application.id)) == 1
    assert len(blob_files(store_root(app))) == 1


# --- reading ----------------------------------------------------------------------------------


def test_list_is_guarded_and_sealed_for_admins_until_the_deadline(
    client: TestClient, world: World
) -> None:
    document = uploaded(client, world)
    path = documents_path(world)
    assert_guarded(
        client,
        world,
        "GET",
        path,
        scope=READ,
        caller=world.applicant,
        foreign_path=f"/api/v1/applications/{random_id()}/documents",
        outsider=world.stranger,
    )
    assert_problem(client.get(path, headers=world.admin.headers), 403, "sealed")
    assert_problem(client.get(path, headers=world.reviewer.headers), 404)
    pass_the_deadline(world)
    opened = client.get(path, headers=world.admin.headers)
    assert [d["id"] for d in opened.json()["items"]] == [document["id"]]


def test_metadata_is_guarded_and_sealed(client: TestClient, world: World) -> None:
    document = uploaded(client, world)
    path = f"/api/v1/documents/{document['id']}"
    assert_guarded(
        client,
        world,
        "GET",
        path,
        scope=READ,
        caller=world.partner_member,
        foreign_path=f"/api/v1/documents/{random_id()}",
        outsider=world.stranger,
    )
    assert client.get(path, headers=world.partner_member.headers).json() == document
    assert_problem(client.get(path, headers=world.admin.headers), 403, "sealed")
    pass_the_deadline(world)
    assert client.get(path, headers=world.admin.headers).json() == document


def test_content_is_guarded_and_sealed(client: TestClient, world: World) -> None:
    data = a_pdf(20 * KiB)
    document = uploaded(client, world, data)
    path = f"/api/v1/documents/{document['id']}/content"
    assert_guarded(
        client,
        world,
        "GET",
        path,
        scope=READ,
        caller=world.applicant,
        foreign_path=f"/api/v1/documents/{random_id()}/content",
        outsider=world.stranger,
    )
    assert_problem(client.get(path, headers=world.admin.headers), 403, "sealed")
    pass_the_deadline(world)
    assert client.get(path, headers=world.admin.headers).content == data


def test_content_serves_single_byte_ranges(client: TestClient, world: World) -> None:
    data = a_pdf(20 * KiB)
    document = uploaded(client, world, data)
    path = f"/api/v1/documents/{document['id']}/content"
    headers = world.applicant.headers
    part = client.get(path, headers={**headers, "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.content == data[100:200]
    assert part.headers["content-range"] == f"bytes 100-199/{len(data)}"
    assert part.headers["accept-ranges"] == "bytes"
    tail = client.get(path, headers={**headers, "Range": "bytes=-10"})
    assert (tail.status_code, tail.content) == (206, data[-10:])
    outside = client.get(path, headers={**headers, "Range": f"bytes={len(data)}-"})
    assert_problem(outside, 416, "range-not-satisfiable")
    assert outside.headers["content-range"] == f"bytes */{len(data)}"
    stale = client.get(path, headers={**headers, "Range": "bytes=0-9", "If-Range": '"other"'})
    assert (stale.status_code, stale.content) == (200, data)


# --- deleting ---------------------------------------------------------------------------------


def test_delete_is_guarded(client: TestClient, world: World) -> None:
    document = uploaded(client, world)
    assert_guarded(
        client,
        world,
        "DELETE",
        f"/api/v1/documents/{document['id']}",
        scope=WRITE,
        caller=world.applicant,
        wrong_role=world.admin,
        foreign_path=f"/api/v1/documents/{random_id()}",
        outsider=world.stranger,
    )


def test_deleting_the_current_version_brings_back_the_previous_one(
    app: FastAPI, client: TestClient, world: World
) -> None:
    first = uploaded(client, world, a_pdf(pages=1))
    second = uploaded(client, world, a_pdf(pages=2))
    rows = {str(r.id): r for r in document_rows(app, world.application.id)}
    root = store_root(app)

    deleted = client.delete(f"/api/v1/documents/{second['id']}", headers=world.applicant.headers)
    assert deleted.status_code == 204
    assert not (root / rows[second["id"]].storage_key).exists()
    assert (root / rows[first["id"]].storage_key).exists()
    for path in (f"/api/v1/documents/{second['id']}", f"/api/v1/documents/{second['id']}/content"):
        assert_problem(client.get(path, headers=world.applicant.headers), 404)
    assert_problem(
        client.delete(f"/api/v1/documents/{second['id']}", headers=world.applicant.headers), 404
    )
    items = client.get(documents_path(world), headers=world.applicant.headers).json()["items"]
    assert [(d["id"], d["current"]) for d in items] == [(first["id"], True)]
    assert audit_actions(app, second["id"]) == [
        (f"user:{world.applicant.id}", "document.uploaded"),
        (f"user:{world.applicant.id}", "document.deleted"),
    ]
    # Version numbers are never reused.
    assert uploaded(client, world)["version"] == 3


def test_documents_are_deleted_only_in_a_draft(client: TestClient, world: World) -> None:
    confirm_partner(client, world)
    proposal = uploaded(client, world)
    uploaded(client, world, CSV, kind="budget", filename="b.csv", content_type="text/csv")
    submit = client.post(
        f"/api/v1/applications/{world.application.id}/submit", headers=world.applicant.headers
    )
    assert submit.status_code == 200
    refused = client.delete(f"/api/v1/documents/{proposal['id']}", headers=world.applicant.headers)
    assert_problem(refused, 409, "application-not-draft")
    current = client.get(f"/api/v1/documents/{proposal['id']}", headers=world.applicant.headers)
    assert current.json()["current"] is True


# --- scanning (a scanner double; the real clamd is in tests/integration) ----------------------


class FakeScanner:
    """Finds ``VIRUS`` in a stream; ``failing`` makes every scan an error (scanner down)."""

    def __init__(self) -> None:
        self.failing = False
        self.scanned = 0

    @property
    def deferred(self) -> bool:
        return True

    async def scan(self, chunks: AsyncIterable[bytes]) -> ScanResult:
        data = b"".join([chunk async for chunk in chunks])
        self.scanned += 1
        if self.failing:
            return ScanResult(ScanVerdict.ERROR, detail="scanner down")
        if VIRUS in data:
            return ScanResult(ScanVerdict.INFECTED, signature="Fake.Virus")
        return CLEAN

    async def ping(self) -> None:
        return None


@pytest.fixture
def scanner() -> FakeScanner:
    return FakeScanner()


@pytest.fixture
def scanning_app(settings: Settings, scanner: FakeScanner) -> Iterator[FastAPI]:
    app = create_app(settings)
    app.state.scanner = scanner
    app.state.scans = ScanWorker(
        engine=app.state.engine,
        store=app.state.blob_store,
        scanner=scanner,
        clock=lambda: app.state.clock(),
        interval=3600,  # only uploads (and the start) wake it in these tests
    )
    yield app
    app.state.engine.dispose()


def wait_for_status(client: TestClient, document_id: str, who: Person, status: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        got = client.get(f"/api/v1/documents/{document_id}", headers=who.headers).json()["status"]
        if got == status:
            return
        assert time.monotonic() < deadline, f"still {got}"
        time.sleep(0.02)


def test_with_a_scanner_uploads_wait_for_their_scan(
    scanning_app: FastAPI, scanner: FakeScanner
) -> None:
    app = scanning_app
    world = build_world(app, required_documents=REQUIRED)
    scanner.failing = True  # the first scans fail: the documents stay pending
    with TestClient(app) as client:
        confirm_partner(client, world)
        proposal = uploaded(client, world)
        budget = uploaded(
            client, world, CSV, kind="budget", filename="b.csv", content_type="text/csv"
        )
        assert proposal["status"] == budget["status"] == "pending_scan"
        content = client.get(
            f"/api/v1/documents/{proposal['id']}/content", headers=world.applicant.headers
        )
        assert_problem(content, 409, "document-pending-scan")
        assert content.headers["retry-after"] == "30"
        submit_path = f"/api/v1/applications/{world.application.id}/submit"
        pending = assert_problem(
            client.post(submit_path, headers=world.applicant.headers), 422, "submission-incomplete"
        )
        assert {e["msg"] for e in pending["errors"]} == {
            "still being scanned for malware; try again soon"
        }

        scanner.failing = False
        app.state.scans.notify()  # as the next pass would
        wait_for_status(client, proposal["id"], world.applicant, "clean")
        wait_for_status(client, budget["id"], world.applicant, "clean")
        assert (
            client.get(
                f"/api/v1/documents/{proposal['id']}/content", headers=world.applicant.headers
            ).content
            == a_pdf()
        )
        assert client.post(submit_path, headers=world.applicant.headers).status_code == 200
    assert audit_actions(app, proposal["id"]) == [
        (f"user:{world.applicant.id}", "document.uploaded"),
        ("system:scanner", "document.scanned"),
    ]
    assert_audit_chain_ok(app)


def test_an_infected_document_is_never_served_and_blocks_submission(
    scanning_app: FastAPI,
) -> None:
    app = scanning_app
    world = build_world(app, required_documents=REQUIRED)
    with TestClient(app) as client:
        confirm_partner(client, world)
        infected = uploaded(client, world, a_pdf(comment=VIRUS))
        budget = uploaded(
            client, world, CSV, kind="budget", filename="b.csv", content_type="text/csv"
        )
        wait_for_status(client, infected["id"], world.applicant, "infected")
        wait_for_status(client, budget["id"], world.applicant, "clean")
        for who in (world.applicant, world.partner):
            content = client.get(f"/api/v1/documents/{infected['id']}/content", headers=who.headers)
            assert_problem(content, 409, "document-infected")
        submit_path = f"/api/v1/applications/{world.application.id}/submit"
        refused = assert_problem(
            client.post(submit_path, headers=world.applicant.headers), 422, "submission-incomplete"
        )
        assert refused["errors"] == [
            {"loc": ["documents", "proposal"], "msg": "infected: upload a clean version"}
        ]
        clean = uploaded(client, world, a_pdf())
        wait_for_status(client, clean["id"], world.applicant, "clean")
        assert client.post(submit_path, headers=world.applicant.headers).status_code == 200
    assert_audit_chain_ok(app)


def test_documents_left_pending_by_a_crash_are_scanned_at_start(
    scanning_app: FastAPI, scanner: FakeScanner
) -> None:
    app = scanning_app
    world = build_world(app, required_documents=REQUIRED)
    store: BlobStore = app.state.blob_store

    async def chunks() -> AsyncIterable[bytes]:
        yield a_pdf()

    async def write() -> str:
        return (await store.write(chunks(), max_bytes=PROPOSAL_MAX, prefix="documents")).key

    key = anyio.run(write)
    session = open_session(app.state.engine, write=True)
    try:
        row = Document(
            application_id=world.application.id,
            kind="proposal",
            filename="p.pdf",
            content_type=PDF,
            size=len(a_pdf()),
            sha256=hashlib.sha256(a_pdf()).hexdigest(),
            status=DocumentStatus.pending_scan,
            storage_key=key,
            uploaded_by=world.applicant.user.id,
            created_at=world.clock.now,
        )
        session.add(row)
        session.commit()
        document_id = str(row.id)
    finally:
        session.close()
    with TestClient(app) as client:  # the process starts: its first pass finds the document
        wait_for_status(client, document_id, world.applicant, "clean")
    assert scanner.scanned == 1


# --- the sweep --------------------------------------------------------------------------------


def test_the_sweep_removes_blobs_no_document_refers_to(
    app: FastAPI, client: TestClient, world: World, settings: Settings
) -> None:
    kept = uploaded(client, world)
    gone = uploaded(client, world)
    root = store_root(app)
    rows = {str(r.id): r for r in document_rows(app, world.application.id)}
    # What a crash leaves: a blob whose row never committed, a half-written staging file, and
    # the blob of a deleted document whose removal failed.
    orphan = root / "documents" / "ab" / ("ab" + "0" * 30)
    orphan.parent.mkdir(parents=True, exist_ok=True)  # a real blob may share the shard
    orphan.write_bytes(b"orphan")
    staged = root / "_staging" / ("cd" + "0" * 30)
    staged.parent.mkdir(parents=True, exist_ok=True)
    staged.write_bytes(b"half")
    deleted_key = rows[gone["id"]].storage_key
    deleted_bytes = (root / deleted_key).read_bytes()
    assert (
        client.delete(
            f"/api/v1/documents/{gone['id']}", headers=world.applicant.headers
        ).status_code
        == 204
    )
    (root / deleted_key).write_bytes(deleted_bytes)

    assert sweep_storage(settings, grace=timedelta(hours=1)) == []  # all young: spared
    expected = sorted([deleted_key, "documents/ab/ab" + "0" * 30, "_staging/cd" + "0" * 30])
    assert sorted(sweep_storage(settings, grace=timedelta(0), dry_run=True)) == expected
    assert len(blob_files(root)) == 4
    assert sorted(sweep_storage(settings, grace=timedelta(0))) == expected
    assert blob_files(root) == [root / rows[kept["id"]].storage_key]


def test_the_sweep_ages_blobs_by_the_stores_clock(
    app: FastAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The blobs' times are the store's (the file system's, the S3 server's): a host whose
    clock is far ahead of it must not take a blob just written, maybe an upload whose row is
    about to commit, for an old orphan."""
    orphan = store_root(app) / "documents" / "ab" / ("ab" + "0" * 30)
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"just written")
    monkeypatch.setattr("infra.clock.system_clock", lambda: datetime(2100, 1, 1, tzinfo=UTC))
    assert sweep_storage(settings, grace=timedelta(hours=1)) == []
    assert orphan.read_bytes() == b"just written"
    assert sweep_storage(settings, grace=timedelta(0)) == ["documents/ab/ab" + "0" * 30]
