"""The hot read remembers a token's verified signature (``TokenVerifier.recall``) and its user and
revocation (``ActorCache``). With both warm, a token that is revoked, expired, whose client was
deleted, or whose signing key is no longer published is refused at its next request, on the
lean path of ``GET /api/v1/applications/{id}``."""

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from identity.actors import ActorCache
from infra.db import open_session
from models.identity import SigningKey
from tests.factories import IssuedToken, bearer, make_application, make_round


@dataclass
class Warm:
    path: str
    token: str
    client_id: str
    auth: dict[str, str]


@pytest.fixture
def warm(app: FastAPI, client: TestClient, client_token: IssuedToken) -> Warm:
    """An applicant's client_credentials token, read with twice so that both caches hold it."""
    # Remembered for a minute, whatever the database (off by default on SQLite).
    app.state.actor_cache = ActorCache(60.0)
    session = open_session(app.state.engine, write=True)
    try:
        application = make_application(session, make_round(session), client_token.user)
    finally:
        session.close()
    token, client_id, auth = client_token.token, client_token.client_id, client_token.auth
    path = f"/api/v1/applications/{application.id}"
    for _ in range(2):
        assert client.get(path, headers=bearer(token)).status_code == 200
    verified = app.state.token_verifier.recall(token)
    assert verified is not None  # the signature check is remembered
    assert app.state.actor_cache.get(uuid.UUID(verified.subject), verified.jti) is not None
    return Warm(path=path, token=token, client_id=client_id, auth=auth)


def assert_refused(client: TestClient, warm: Warm, reason: str) -> None:
    response = client.get(warm.path, headers=bearer(warm.token))
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="shortlist", error="invalid_token"'), challenge
    assert reason in challenge, challenge
    assert response.headers["content-type"] == "application/problem+json"


def test_a_revoked_token_is_refused_at_once(client: TestClient, warm: Warm) -> None:
    revoked = client.post("/oauth/revoke", data={"token": warm.token, **warm.auth})
    assert revoked.status_code == 200
    assert_refused(client, warm, "revoked")


def test_an_expired_token_is_refused(app: FastAPI, client: TestClient, warm: Warm) -> None:
    now = app.state.clock()
    app.state.clock = lambda: now + timedelta(seconds=app.state.settings.access_token_ttl + 31)
    assert_refused(client, warm, "expired")


def test_a_token_of_a_deleted_client_is_refused(
    app: FastAPI, client: TestClient, warm: Warm
) -> None:
    # The client's owner deletes it (with a token of their own, not the one under test).
    owner = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", **warm.auth}
    ).json()["access_token"]
    deleted = client.delete(f"/api/v1/oauth-clients/{warm.client_id}", headers=bearer(owner))
    assert deleted.status_code == 204, deleted.text
    assert_refused(client, warm, "client has been deleted")


def test_a_token_whose_key_is_withdrawn_is_refused(
    app: FastAPI, client: TestClient, warm: Warm
) -> None:
    # The key that signed it is gone from the key set (withdrawn, as after a compromise); once
    # this process reloads its keys, the remembered signature check no longer counts.
    with app.state.engine.begin() as connection:
        connection.execute(sa.delete(SigningKey.__table__))  # type: ignore[attr-defined]
    app.state.keys.invalidate()
    assert_refused(client, warm, "signing key is unknown")
