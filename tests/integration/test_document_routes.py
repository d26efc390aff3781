"""The document routes against real components: the same upload/download/version/delete flow on
the local store and on S3 (``rclone serve s3``); the EICAR file through a real clamd; and a real
server process whose upload is cut off mid-stream, by the client going away and by the server
being killed, after which ``shortlist storage sweep`` leaves nothing behind."""

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from infra.clock import system_clock
from infra.settings import Settings
from infra.storage.sweep import sweep_storage
from submissions.blobs import BlobStore
from tests.api.intake import World, assert_audit_chain_ok, assert_problem, build_world
from tests.api.uploads import PDF, a_pdf, blob_files, document_rows, upload_body
from tests.integration.conftest import EICAR, S3Server, free_port, stop, wait_for_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent.parent
MiB = 1024 * 1024
PROPOSAL = {"kind": "proposal", "title": "Proposal", "content_types": [PDF], "max_bytes": 16 * MiB}


@dataclass
class Backend:
    app: FastAPI
    files: Path  # where the bytes end up on disk (rclone keeps them in a directory too)


# S3 requests are signed with this process's clock, and rclone (a Go program, which libfaketime
# cannot shift) refuses those more than 15 minutes from its own, as S3 does.
@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.real_clock)])
def backend(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> Iterator[Backend]:
    if request.param == "local":
        app = create_app(settings)
        files = tmp_path / "blobs"
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        prefix = f"run-{uuid.uuid4().hex[:12]}"
        app = create_app(
            settings.model_copy(
                update={
                    "storage_url": f"s3://{server.bucket}/{prefix}",
                    "s3_endpoint_url": server.endpoint,
                    "s3_access_key_id": server.access_key_id,
                    "s3_secret_access_key": SecretStr(server.secret_access_key),
                }
            )
        )
        files = server.root / server.bucket / prefix
    yield Backend(app, files)
    app.state.engine.dispose()


def stored_keys(store: BlobStore) -> list[str]:
    async def listing() -> list[str]:
        return sorted([info.key async for info in store.list_keys()])

    return asyncio.run(listing())


def eventually(check: Callable[[], bool], timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def post_file(
    client: TestClient,
    world: World,
    data: bytes,
    *,
    kind: str = "proposal",
    filename: str = "proposal.pdf",
    content_type: str = PDF,
) -> dict[str, object]:
    response = client.post(
        f"/api/v1/applications/{world.application.id}/documents",
        data={"kind": kind},
        files={"file": (filename, data, content_type)},
        headers=world.applicant.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


# -- the same flow on each store (issue 5, acceptance 2) ----------------------------------------


def test_upload_download_version_delete(backend: Backend) -> None:
    app, store = backend.app, backend.app.state.blob_store
    world = build_world(app, required_documents=[PROPOSAL])
    large = a_pdf(6 * MiB + 12345)  # several blocks, and two parts of an S3 multipart upload
    small = a_pdf(pages=2)
    with TestClient(app) as client:
        first = post_file(client, world, large, filename="../../etc/passwd.pdf")
        world.clock.now = world.clock.now.replace(microsecond=1)
        second = post_file(client, world, small)
        assert (first["version"], second["version"]) == (1, 2)
        assert first["filename"] == "passwd.pdf"
        rows = {str(r.id): r for r in document_rows(app, world.application.id)}
        assert stored_keys(store) == sorted(r.storage_key for r in rows.values())

        listed = client.get(
            f"/api/v1/applications/{world.application.id}/documents",
            headers=world.partner.headers,
        ).json()["items"]
        assert [(d["id"], d["current"]) for d in listed] == [
            (second["id"], True),
            (first["id"], False),
        ]
        content = client.get(
            f"/api/v1/documents/{first['id']}/content", headers=world.applicant.headers
        )
        assert content.status_code == 200
        assert content.content == large
        assert content.headers["content-disposition"] == (
            "attachment; filename=\"passwd.pdf\"; filename*=UTF-8''passwd.pdf"
        )
        start = 5 * MiB - 10  # across the first part's end
        part = client.get(
            f"/api/v1/documents/{first['id']}/content",
            headers={**world.applicant.headers, "Range": f"bytes={start}-{start + 19}"},
        )
        assert (part.status_code, part.content) == (206, large[start : start + 20])

        truncated = client.post(
            f"/api/v1/applications/{world.application.id}/documents",
            data={"kind": "proposal"},
            files={"file": ("cut.pdf", large[: 3 * MiB], PDF)},
            headers=world.applicant.headers,
        )
        assert_problem(truncated, 422, "broken-file")

        deleted = client.delete(
            f"/api/v1/documents/{second['id']}", headers=world.applicant.headers
        )
        assert deleted.status_code == 204
        assert stored_keys(store) == [rows[str(first["id"])].storage_key]
        current = client.get(f"/api/v1/documents/{first['id']}", headers=world.applicant.headers)
        assert current.json()["current"] is True
    # rclone removes the parts of an aborted multipart upload a moment after the abort.
    eventually(lambda: len(blob_files(backend.files)) == 1)
    assert len(document_rows(app, world.application.id)) == 2  # the deleted one is kept, marked
    assert_audit_chain_ok(app)


# -- the EICAR file through a real clamd ---------------------------------------------------------


def test_the_eicar_file_is_infected_never_served_and_blocks_submission(
    settings: Settings, clamd_address: tuple[str, int]
) -> None:
    host, port = clamd_address
    app = create_app(settings.model_copy(update={"scanner_url": f"clamd://{host}:{port}"}))
    annex = {"kind": "annex", "title": "Annex", "content_types": ["text/plain"], "max_bytes": 4096}
    world = build_world(app, required_documents=[annex])
    submit_path = f"/api/v1/applications/{world.application.id}/submit"

    def status_of(client: TestClient, document_id: object) -> str:
        response = client.get(f"/api/v1/documents/{document_id}", headers=world.applicant.headers)
        status: str = response.json()["status"]
        return status

    try:
        with TestClient(app) as client:
            confirm = f"/api/v1/applications/{world.application.id}/members/{world.partner_org.id}"
            assert client.post(f"{confirm}/confirm", headers=world.partner.headers).is_success
            infected = post_file(
                client, world, EICAR, kind="annex", filename="eicar.txt", content_type="text/plain"
            )
            assert infected["status"] == "pending_scan"
            eventually(lambda: status_of(client, infected["id"]) == "infected")
            content = client.get(
                f"/api/v1/documents/{infected['id']}/content", headers=world.applicant.headers
            )
            assert_problem(content, 409, "document-infected")
            refused = assert_problem(
                client.post(submit_path, headers=world.applicant.headers),
                422,
                "submission-incomplete",
            )
            assert refused["errors"] == [
                {"loc": ["documents", "annex"], "msg": "infected: upload a clean version"}
            ]

            clean = post_file(
                client, world, b"Our annex.\n", kind="annex", filename="annex.txt", content_type=""
            )
            eventually(lambda: status_of(client, clean["id"]) == "clean")
            served = client.get(
                f"/api/v1/documents/{clean['id']}/content", headers=world.applicant.headers
            )
            assert served.content == b"Our annex.\n"
            assert client.post(submit_path, headers=world.applicant.headers).status_code == 200
        assert_audit_chain_ok(app)
    finally:
        app.state.engine.dispose()


# -- a real server, cut off mid-upload (issue 5, acceptance 3) -----------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    env: dict[str, str]


@pytest.fixture
def server(app: FastAPI, settings: Settings, tmp_path: Path) -> Iterator[Server]:
    """``shortlist serve`` as deployed (uvicorn, the app from the environment) on the test's
    database and blob directory; its issuer is the test app's, so test tokens are valid. It
    judges them by its system clock: so does the test app from now on."""
    app.state.clock = system_clock
    port = free_port()
    env = {
        **os.environ,
        "SHORTLIST_ENVIRONMENT": "test",
        "SHORTLIST_DATABASE_URL": settings.database_url,
        "SHORTLIST_STORAGE_URL": settings.storage_url,
        "SHORTLIST_PUBLIC_URL": settings.public_url,
        "SHORTLIST_LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        command = [sys.executable, "-m", "uvicorn", "api.app:app_from_env", "--factory"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(process, port, log, timeout=180)  # a cold interpreter, under load
        yield Server(process, port, env)
    finally:
        if process.poll() is None:
            stop(process)


def start_upload(server: Server, world: World, size: int) -> socket.socket:
    """Send the head and half the body of an upload, and leave it there."""
    content_type, body = upload_body(a_pdf(size))
    head = (
        f"POST /api/v1/applications/{world.application.id}/documents HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Authorization: {world.applicant.headers['Authorization']}\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    connection.sendall(head + body[: len(body) // 2])
    return connection


def sweep(server: Server) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "storage", "sweep", "--grace", "0"],
        cwd=ROOT,
        env=server.env,
        capture_output=True,
        timeout=60,
        check=True,
    )
    out: dict[str, object] = json.loads(done.stdout)
    return out


def test_a_client_gone_mid_upload_leaves_no_row_and_no_blob(
    app: FastAPI, server: Server, tmp_path: Path
) -> None:
    world = build_world(app, required_documents=[PROPOSAL])
    staging = tmp_path / "blobs" / "_staging"
    connection = start_upload(server, world, 8 * MiB)
    eventually(lambda: any(f.stat().st_size > 0 for f in blob_files(staging)))
    connection.close()  # the client goes away, its upload half sent
    eventually(lambda: blob_files(tmp_path / "blobs") == [])
    assert document_rows(app, world.application.id) == []
    assert sweep_storage(app.state.settings, grace=timedelta(0)) == []


def test_a_server_killed_mid_upload_leaves_no_row_and_the_sweep_removes_its_bytes(
    app: FastAPI, server: Server, tmp_path: Path
) -> None:
    world = build_world(app, required_documents=[PROPOSAL])
    staging = tmp_path / "blobs" / "_staging"
    connection = start_upload(server, world, 8 * MiB)
    eventually(lambda: any(f.stat().st_size > 0 for f in blob_files(staging)))
    server.process.kill()  # no cleanup of any kind: what a crash leaves
    server.process.wait()
    connection.close()
    [leftover] = blob_files(tmp_path / "blobs")
    assert document_rows(app, world.application.id) == []
    swept = sweep(server)
    assert swept["orphans"] == [leftover.relative_to(tmp_path / "blobs").as_posix()]
    assert blob_files(tmp_path / "blobs") == []
