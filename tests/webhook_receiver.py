"""A webhook receiver on loopback and an app that may deliver to it, for the webhook tests
(tests/integration/test_webhooks.py, tests/security/test_webhook_seal_attacks.py)."""

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from infra.settings import Settings
from tests.factories import Clock, ok


@dataclass
class Receiver:
    """An HTTP server on loopback that answers each POST with the next scripted status."""

    script: list[int] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} requests arrived, not {count}")
            time.sleep(0.02)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            state.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            code = state.script.pop(0) if state.script else 200
            self.send_response(code)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Development on one machine: the portal is loopback and private targets are allowed.
    return settings.model_copy(
        update={
            "public_url": "http://127.0.0.1:8000",
            "webhook_allow_private": True,
            "webhook_interval_seconds": 0.1,
        }
    )


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings)
    # Receivers check webhook-timestamp against their own clock: the server clock starts at
    # this process's (whatever libfaketime makes it) and moves only when the test moves it.
    app.state.clock = Clock(datetime.now(UTC).replace(microsecond=0))
    yield app
    app.state.engine.dispose()


def submit(client: TestClient, world: Any) -> str:
    aid = str(world.application.id)
    ok(
        client.post(
            f"/api/v1/applications/{aid}/members/{world.partner_org.id}/confirm",
            headers=world.partner.headers,
        )
    )
    ok(client.post(f"/api/v1/applications/{aid}/submit", headers=world.applicant.headers))
    return aid
