"""/readyz names each configured dependency and says which is down: the database (each pool),
Redis, the malware scanner, and the blob store (unwritable, or with less room than
``SHORTLIST_STORAGE_MIN_FREE_BYTES``)."""

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from infra.settings import Settings
from tests.factories import NOW, Clock


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Any]:
    made: list[FastAPI] = []

    def make(**update: Any) -> FastAPI:
        app = create_app(settings.model_copy(update=update))
        app.state.clock = Clock(NOW)
        made.append(app)
        return app

    yield make
    for app in made:
        app.state.engine.dispose()


def ready(app: FastAPI) -> tuple[int, dict[str, Any]]:
    with TestClient(app) as client:
        response = client.get("/readyz")
    body: dict[str, Any] = response.json()
    return response.status_code, body


def test_ready_lists_every_configured_dependency(make_app: Any, redis_url: str) -> None:
    status, body = ready(make_app(redis_url=redis_url))
    assert status == 200, body
    expected = {"database": "ok", "redis": "ok", "storage": "ok"}  # database: each pool
    assert body == {"status": "ok", "checks": expected}


def test_redis_down(make_app: Any) -> None:
    status, body = ready(make_app(redis_url=f"redis://127.0.0.1:{closed_port()}/0"))
    assert status == 503
    assert body["type"] == "not-ready"
    assert body["checks"]["redis"] == "unreachable"
    assert body["checks"]["database"] == "ok"


def test_scanner_down(make_app: Any) -> None:
    status, body = ready(make_app(scanner_url=f"clamd://127.0.0.1:{closed_port()}"))
    assert status == 503
    assert body["checks"]["scanner"] == "unreachable"


def test_storage_unwritable(make_app: Any, tmp_path: Path) -> None:
    blocked = tmp_path / "blobs-gone"
    app = make_app(storage_url=f"file://{blocked}")
    shutil.rmtree(blocked)
    blocked.write_text("a file where the store's directory was")  # (root writes anywhere)
    status, body = ready(app)
    assert status == 503
    assert body["checks"]["storage"] == "unreachable"


def test_storage_full(make_app: Any) -> None:
    status, body = ready(make_app(storage_min_free_bytes=2**62))
    assert status == 503
    assert body["checks"]["storage"] == "full"
    assert "storage full" in body["detail"]


def test_database_unreachable(make_app: Any, tmp_path: Path) -> None:
    gone = tmp_path / "database-gone"
    app = make_app(database_url=f"sqlite:///{gone}/shortlist.db")
    shutil.rmtree(gone, ignore_errors=True)
    gone.write_text("a file where the database's directory was")
    status, body = ready(app)
    assert status == 503
    assert body["checks"]["database"] == "unreachable"
