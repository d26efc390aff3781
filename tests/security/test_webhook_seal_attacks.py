"""A webhook delivery carries nothing of a sealed bid beyond its id (moved from
tests/integration/test_webhooks.py, unchanged in what it asserts), to a real receiver on
loopback (tests/webhook_receiver.py), verified as the receiver would verify it."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from tests.api.intake import build_world
from tests.factories import ok
from tests.webhook_receiver import Receiver, app, receiver, settings, submit

__all__ = ["app", "receiver", "settings"]  # (fixtures, used by name)


def test_a_sealed_bid_is_delivered_as_its_id_only(
    app: FastAPI, client: TestClient, receiver: Receiver
) -> None:
    world = build_world(app)
    hook = ok(
        client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "event_types": ["application.submitted"]},
            headers=world.admin.headers,
        ),
        201,
    )
    aid = submit(client, world)
    receiver.wait_for(1)
    for headers, body in receiver.received:
        payload = Webhook(hook["secret"]).verify(body, headers)
        assert payload["type"] == "application.submitted"
        # The bid is sealed: the admin's endpoint gets nothing of it beyond its id.
        assert payload["data"] == {"sealed": True, "application_id": aid}
        assert b"application_sha256" not in body
        assert b"receipt" not in body
