"""No webhook delivery is lost when the worker is killed (issue 18): a real ``shortlist worker``
process delivers a few hundred events to three real receivers on loopback, is killed with
SIGKILL mid-run, and started again; every delivery arrives, signed (``standardwebhooks``
verifies each), and a delivery that arrives twice (at least once: it was in flight when the
worker died) carries the same ``webhook-id`` and body. The 10,000-event run is
``bench/bench_webhooks.py``."""

import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from standardwebhooks import Webhook

from bench.support import defer_webhook_pass, start_worker
from infra.db import make_engine, open_session
from infra.settings import Settings
from infra.webhooks import url_policy
from models.events import EventAudience, EventType
from models.webhooks import DeliveryStatus, WebhookCreate, WebhookDelivery
from notifications.webhooks import create_webhook
from submissions.outbox import record
from tests.factories import actor_of, make_admin, make_round

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

EVENTS = 200
RECEIVERS = 3
WAIT = 120.0
"""Liveness bound for each stage (the machine is shared), not a speed assertion."""


@dataclass
class Receiver:
    """A loopback HTTP server that keeps every POST (headers, body) and answers 200 after a
    short pause (so the worker is still busy when it is killed)."""

    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        with self.lock:
            return len(self.received)


@pytest.fixture
def receivers() -> Iterator[list[Receiver]]:
    made: list[tuple[Receiver, ThreadingHTTPServer]] = []
    for _ in range(RECEIVERS):
        state = Receiver()

        class Handler(BaseHTTPRequestHandler):
            receiver = state

            def do_POST(self) -> None:
                length = int(self.headers["content-length"])
                body = self.rfile.read(length)
                if len(body) < length:  # the worker died mid-request: nothing was received
                    self.close_connection = True
                    return
                time.sleep(0.005)
                with self.receiver.lock:
                    self.receiver.received.append(
                        ({k.lower(): v for k, v in self.headers.items()}, body)
                    )
                self.send_response(200)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        made.append((state, server))
    yield [state for state, _ in made]
    for _, server in made:
        server.shutdown()
        server.server_close()


def _until(check: Any, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_no_delivery_is_lost_when_the_worker_is_killed(
    database_url: str, receivers: list[Receiver], tmp_path: Path
) -> None:
    settings = Settings(
        environment="test",
        database_url=database_url,
        public_url="http://127.0.0.1:8000",
        webhook_allow_private=True,
    )
    engine = make_engine(database_url, pool_size=1)
    session = open_session(engine, write=True)
    try:
        admin = make_admin(session)
        round_ = make_round(session, admin=admin)
        secrets = []
        for receiver in receivers:
            hook = create_webhook(
                session=session,
                actor=actor_of(admin),
                data=WebhookCreate(url=receiver.url, event_types=[EventType.round_opened]),
                policy=url_policy(settings),
                now=datetime.now(UTC),
            )
            secrets.append(hook.secret)
        session.commit()
        event_ids = {
            str(
                record(
                    session=session,
                    type=EventType.round_opened,
                    round_id=round_.id,
                    audience=EventAudience.round,
                    now=datetime.now(UTC),
                ).id
            )
            for _ in range(EVENTS)
        }
        session.commit()
    finally:
        session.close()
    assert len(event_ids) == EVENTS

    env = {
        **os.environ,
        "SHORTLIST_ENVIRONMENT": "test",
        "SHORTLIST_DATABASE_URL": database_url,
        "SHORTLIST_PUBLIC_URL": "http://127.0.0.1:8000",
        "SHORTLIST_WEBHOOK_ALLOW_PRIVATE": "true",
        "SHORTLIST_WEBHOOK_STALLED_SECONDS": "2",
        "SHORTLIST_LOG_LEVEL": "WARNING",
    }
    log = tmp_path / "worker.log"
    total = len(event_ids) * RECEIVERS
    worker = start_worker(env, log)
    try:
        defer_webhook_pass(database_url)
        _until(
            lambda: sum(r.count() for r in receivers) >= total // 3,
            f"the worker delivered nothing: {log.read_text()}",
        )
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
        at_kill = sum(r.count() for r in receivers)
        assert at_kill < total, "the worker finished before it was killed: nothing was tested"

        worker = start_worker(env, log)
        defer_webhook_pass(database_url)
        _until(
            lambda: all({h["webhook-id"] for h, _ in r.received} >= event_ids for r in receivers),
            f"deliveries were lost: {log.read_text()[-3000:]}",
        )
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(timeout=30)

    for receiver, secret in zip(receivers, secrets, strict=True):
        verifier = Webhook(secret)
        bodies: dict[str, bytes] = {}
        for headers, body in receiver.received:
            verifier.verify(body, headers)  # raises on a bad signature
            first = bodies.setdefault(headers["webhook-id"], body)
            assert first == body  # a repeat is the same message
        assert set(bodies) == event_ids
    session = open_session(engine)
    try:
        statuses = {d.status for d in session.exec(select(WebhookDelivery)).all()}
    finally:
        session.close()
        engine.dispose()
    assert statuses == {DeliveryStatus.delivered.value}
