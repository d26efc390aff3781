"""Webhooks end to end, with a real receiver on loopback: registration and its guards, SSRF
refusals, signatures that the ``standardwebhooks`` library verifies (across a secret rotation),
a receiver that fails and is retried until delivered, manual retry. (The seal on what is
delivered: tests/security/test_webhook_seal_attacks.py.)"""

import ipaddress
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import anyio
import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select
from standardwebhooks import Webhook

from infra.db import open_session
from infra.webhooks import PinnedClients, resolve_host, send
from models.webhooks import WebhookDelivery, WebhookEndpoint, WebhookStatus
from notifications.webhooks import PreparedDelivery, UrlPolicy, new_secret
from tests.api.intake import assert_guarded, assert_problem, build_world, headers_for
from tests.factories import ok
from tests.webhook_receiver import Receiver, app, receiver, settings, submit

__all__ = ["app", "receiver", "settings"]  # (fixtures, used by name)

HOOKS = "/api/v1/webhooks"


def deliveries(app: FastAPI, webhook_id: str) -> list[WebhookDelivery]:
    with open_session(app.state.engine) as session:
        return list(
            session.exec(
                select(WebhookDelivery).where(WebhookDelivery.endpoint_id == uuid.UUID(webhook_id))
            ).all()
        )


def eventually(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("the condition did not come true")
        time.sleep(0.02)


def test_signed_delivery_retried_until_delivered(
    app: FastAPI, client: TestClient, receiver: Receiver
) -> None:
    world = build_world(app)
    receiver.script = [500, 503]
    hook = ok(
        client.post(
            HOOKS,
            json={
                "url": receiver.url,
                "event_types": ["application.submitted"],
                "description": "x",
            },
            headers=world.admin.headers,
        ),
        201,
    )
    assert hook["status"] == "active"
    assert hook["secret"].startswith("whsec_")
    listed = ok(client.get(HOOKS, headers=world.admin.headers))["items"]
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0]

    aid = submit(client, world)
    receiver.wait_for(1)
    eventually(lambda: deliveries(app, hook["id"])[0].attempts == 1)
    # Failed: retried after its backoff, not before.
    [row] = deliveries(app, hook["id"])
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_status_code == 500
    assert row.next_attempt_at is not None
    world.clock.now = row.next_attempt_at + timedelta(seconds=1)
    receiver.wait_for(2)
    eventually(lambda: deliveries(app, hook["id"])[0].attempts == 2)
    world.clock.now += timedelta(seconds=30)
    receiver.wait_for(3)
    eventually(lambda: deliveries(app, hook["id"])[0].status == "delivered")
    assert len(receiver.received) == 3

    log = ok(client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=world.admin.headers))
    [entry] = log["items"]
    assert entry["status"] == "delivered"
    assert entry["attempts"] == 3
    assert entry["last_status_code"] == 200

    for headers, body in receiver.received:
        # Verified by the Standard Webhooks library itself, as a receiver would.
        payload = Webhook(hook["secret"]).verify(body, headers)
        assert payload["type"] == "application.submitted"
        assert headers["webhook-id"] == payload["id"] == entry["event_id"]
        # (The bid is sealed, the payload redacted: tests/security/test_webhook_seal_attacks.py.)
        assert payload["data"]["application_id"] == aid
    # A forged or altered body does not verify.
    headers, body = receiver.received[-1]
    with pytest.raises(Exception, match="signature"):
        Webhook(hook["secret"]).verify(body.replace(b"sealed", b"Sealed"), headers)


def test_rotation_signs_with_both_secrets_and_manual_retry(
    app: FastAPI, client: TestClient, receiver: Receiver
) -> None:
    world = build_world(app)
    hook = ok(
        client.post(
            HOOKS,
            json={"url": receiver.url, "event_types": ["application.submitted"]},
            headers=world.admin.headers,
        ),
        201,
    )
    rotated = ok(client.post(f"{HOOKS}/{hook['id']}/rotate-secret", headers=world.admin.headers))
    assert rotated["secret"] != hook["secret"]
    submit(client, world)
    receiver.wait_for(1)
    headers, body = receiver.received[0]
    assert len(headers["webhook-signature"].split(" ")) == 2
    Webhook(hook["secret"]).verify(body, headers)
    Webhook(rotated["secret"]).verify(body, headers)
    eventually(lambda: deliveries(app, hook["id"])[0].status == "delivered")
    [entry] = ok(client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=world.admin.headers))[
        "items"
    ]
    again = ok(
        client.post(
            f"{HOOKS}/{hook['id']}/deliveries/{entry['id']}/retry", headers=world.admin.headers
        )
    )
    assert again["status"] == "pending"
    receiver.wait_for(2)
    eventually(lambda: deliveries(app, hook["id"])[0].status == "delivered")
    assert receiver.received[1][0]["webhook-id"] == receiver.received[0][0]["webhook-id"]
    # After a day only the new secret signs.
    world.clock.now += timedelta(hours=25)
    eventually(lambda: deliveries(app, hook["id"])[0].status == "delivered")
    ok(
        client.post(
            f"{HOOKS}/{hook['id']}/deliveries/{entry['id']}/retry", headers=world.admin.headers
        )
    )
    receiver.wait_for(3)
    headers, body = receiver.received[2]
    # (Signed a day ahead of this process's clock: compared, not verify()'d, which would find
    # the timestamp too new.)
    at = datetime.fromtimestamp(int(headers["webhook-timestamp"]), UTC)
    assert at == world.clock.now
    signed = Webhook(rotated["secret"]).sign(headers["webhook-id"], at, body)
    assert headers["webhook-signature"] == signed


def test_an_endpoint_failing_for_three_days_is_disabled(
    app: FastAPI, client: TestClient, receiver: Receiver
) -> None:
    world = build_world(app)
    receiver.script = [500] * 1000
    hook = ok(
        client.post(
            HOOKS,
            json={"url": receiver.url, "event_types": ["application.submitted"]},
            headers=world.admin.headers,
        ),
        201,
    )
    submit(client, world)
    receiver.wait_for(1)
    eventually(lambda: deliveries(app, hook["id"])[0].attempts == 1)
    start = world.clock.now
    # Keep failing: the delivery gives up after a day, the endpoint after three.
    for attempt, hours in enumerate((2, 12, 25, 30), start=2):
        world.clock.now = start + timedelta(hours=hours)
        receiver.wait_for(attempt)

        def attempted(n: int = attempt) -> bool:
            return deliveries(app, hook["id"])[0].attempts == n

        eventually(attempted)
    eventually(lambda: deliveries(app, hook["id"])[0].status == "failed")
    with open_session(app.state.engine) as session:
        endpoint = session.get(WebhookEndpoint, uuid.UUID(hook["id"]))
        assert endpoint is not None
        assert endpoint.status == WebhookStatus.active
        assert endpoint.failing_since == start
    [entry] = ok(client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=world.admin.headers))[
        "items"
    ]
    world.clock.now = start + timedelta(days=3, hours=1)
    ok(
        client.post(
            f"{HOOKS}/{hook['id']}/deliveries/{entry['id']}/retry", headers=world.admin.headers
        )
    )
    eventually(lambda: deliveries(app, hook["id"])[0].status == "failed")
    assert ok(client.get(f"{HOOKS}/{hook['id']}", headers=world.admin.headers))["status"] == (
        "disabled"
    )


def test_webhook_routes_are_guarded(app: FastAPI, client: TestClient, receiver: Receiver) -> None:
    world = build_world(app)
    body = {"url": receiver.url, "event_types": ["round.opened"]}
    assert_guarded(
        client,
        world,
        "POST",
        HOOKS,
        scope="rounds:admin",
        caller=world.admin,
        json=body,
        wrong_role=world.applicant,
    )
    hook = ok(client.post(HOOKS, json=body, headers=world.admin.headers), 201)
    path = f"{HOOKS}/{hook['id']}"
    foreign = f"{HOOKS}/{uuid.uuid4()}"
    for method, suffix, json_body in (
        ("GET", "", None),
        ("PATCH", "", {"description": "changed"}),
        ("POST", "/rotate-secret", None),
        ("GET", "/deliveries", None),
    ):
        assert_guarded(
            client,
            world,
            method,
            path + suffix,
            scope="rounds:admin",
            caller=world.admin,
            json=json_body,
            wrong_role=world.applicant,
            foreign_path=foreign + suffix,
        )
    assert_problem(
        client.post(f"{path}/deliveries/{uuid.uuid4()}/retry", headers=world.admin.headers),
        404,
    )
    # Read-only and unknown fields are refused; so are unknown event types.
    for bad in (
        {**body, "secret": "whsec_mine"},
        {**body, "status": "active"},
        {**body, "event_types": ["round.hacked"]},
        {**body, "event_types": []},
    ):
        assert_problem(client.post(HOOKS, json=bad, headers=world.admin.headers), 422)
    assert client.delete(path, headers=world.admin.headers).status_code == 204
    assert_problem(client.get(path, headers=world.admin.headers), 404)


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://0.0.0.0/hook",
        "http://93.184.216.34/hook",  # public, but not https
        "https://nowhere.invalid/hook",
    ],
)
def test_ssrf_targets_are_refused_without_the_development_switch(
    app: FastAPI, client: TestClient, url: str
) -> None:
    app.state.settings = app.state.settings.model_copy(update={"webhook_allow_private": False})
    world = build_world(app)
    response = client.post(
        HOOKS, json={"url": url, "event_types": ["round.opened"]}, headers=world.admin.headers
    )
    assert_problem(response, 422, "webhook-url-refused")
    with open_session(app.state.engine) as session:
        assert session.exec(select(WebhookEndpoint)).first() is None


def test_a_target_that_turns_private_is_not_delivered_to(
    app: FastAPI, client: TestClient, receiver: Receiver
) -> None:
    """Registered while allowed, then the switch is off (as a DNS answer that changed would
    be): every attempt checks again and sends nothing."""
    world = build_world(app)
    hook = ok(
        client.post(
            HOOKS,
            json={"url": receiver.url, "event_types": ["application.submitted"]},
            headers=world.admin.headers,
        ),
        201,
    )
    work = getattr(app.state.webhooks, "deliveries", app.state.webhooks)  # PostgreSQL: the job's
    work.policy = UrlPolicy(
        resolve=work.policy.resolve, allow_private=False, allow_http_loopback=True
    )
    submit(client, world)
    eventually(
        lambda: bool(deliveries(app, hook["id"])) and deliveries(app, hook["id"])[0].attempts >= 1
    )
    [row] = deliveries(app, hook["id"])
    assert row.status == "pending"
    assert row.last_status_code is None
    assert row.last_error is not None
    assert "non-public" in row.last_error
    assert receiver.received == []


def test_only_admins_tokens_with_rounds_admin(app: FastAPI, client: TestClient) -> None:
    world = build_world(app)
    narrowed = headers_for(app, world.admin.user, ["applications:read", "reviews:read"])
    assert_problem(client.get(HOOKS, headers=narrowed), 403)
    assert_problem(client.get(HOOKS, headers=world.reviewer.headers), 403)


class _OffLine(httpx.AsyncBaseTransport):
    """The real transport, except that a public IP address is refused as this sandboxed
    machine would (no request leaves it); names are resolved and connected to as usual.
    Records where each request was sent."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.sent: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        try:
            public = not ipaddress.ip_address(request.url.host).is_loopback
        except ValueError:  # a name: the real transport resolves it
            public = False
        if public:
            raise httpx.ConnectError("no route to the internet here", request=request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_dns_rebinding_connects_to_the_checked_address(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check resolves the name to a public address; a moment later the name resolves to
    loopback (where an internal service listens: the receiver). The request goes to the checked
    address, named by its Host header and TLS server name, and never reaches loopback."""
    port = urlsplit(receiver.url).port
    real_getaddrinfo = socket.getaddrinfo

    def rebound(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.example":
            host = "127.0.0.1"
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebound)
    assert resolve_host("rebind.example") == ["127.0.0.1"]  # the connection's answer
    # The check's answer: public.
    checked = UrlPolicy(resolve=lambda _host: ["93.184.216.34"])
    prepared = PreparedDelivery(
        delivery_id=uuid.uuid4(),
        url=f"https://rebind.example:{port}/hook",
        message_id="msg_rebinding",
        body=b"{}",
        secrets=(new_secret(),),
    )
    transport = _OffLine()

    async def attempt() -> tuple[int | None, str | None]:
        async with PinnedClients(timeout=5.0, transport=transport) as clients:
            return await send(clients, prepared, checked, datetime.now(UTC))

    code, error = anyio.run(attempt)
    assert code is None
    assert error is not None
    assert "ConnectError" in error
    [request] = transport.sent
    assert request.url.host == "93.184.216.34"
    assert request.headers["host"] == f"rebind.example:{port}"
    assert request.extensions["sni_hostname"] == "rebind.example"
    assert receiver.received == []


def test_pinned_clients_reach_a_loopback_receiver_by_name(receiver: Receiver) -> None:
    """The same path in development: ``localhost`` checked (private allowed), connected to the
    checked address, and the receiver sees the name in ``Host``."""
    port = urlsplit(receiver.url).port
    allowed = UrlPolicy(resolve=resolve_host, allow_private=True, allow_http_loopback=True)
    prepared = PreparedDelivery(
        delivery_id=uuid.uuid4(),
        url=f"http://localhost:{port}/hook",
        message_id="msg_loopback",
        body=b"{}",
        secrets=(new_secret(),),
    )

    async def attempt() -> tuple[int | None, str | None]:
        async with PinnedClients(timeout=5.0, transport=None) as clients:
            return await send(clients, prepared, allowed, datetime.now(UTC))

    assert anyio.run(attempt) == (200, None)
    [(headers, _body)] = receiver.received
    assert headers["host"] == f"localhost:{port}"
    assert headers["webhook-id"] == "msg_loopback"
