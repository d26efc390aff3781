"""OAuth clients and user deactivation, as their owners and admins use them (the attacks are in
``tests/security/test_oauth_clients.py``)."""

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jws
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from identity.accounts import deactivate_user, ensure_public_client
from identity.actors import external_actor
from identity.tokens import TokenVerifier, TrustedIssuer, VerifiedToken
from infra.db import open_session
from infra.settings import Settings
from models.identity import ALL_SCOPES, OAuthClient, Role, User
from tests.factories import (
    NOW,
    actor_of,
    bearer,
    make_oauth_client,
    make_principal,
    make_token,
    make_user,
    ok,
)

API = "/api/v1/oauth-clients"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_url": "http://localhost"})


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="http://localhost", follow_redirects=False) as client:
        yield client


def claims(token: str) -> dict[str, object]:
    payload: dict[str, object] = json.loads(jws.extract_compact(token.encode()).payload)
    return payload


def test_clients_are_listed_page_by_page_without_secrets(app: FastAPI, client: TestClient) -> None:
    user, headers = make_principal(app, roles=[Role.applicant], signed_in=True)
    made = []
    for name in ("one", "two", "three"):
        body = {"name": name, "scopes": ["applications:read"]}
        made.append(ok(client.post(API, json=body, headers=headers), 201))
        app.state.clock.now += timedelta(seconds=1)  # listed in the order they were made
    first = ok(client.get(API, params={"limit": 2}, headers=headers))
    assert [c["name"] for c in first["items"]] == ["one", "two"]
    assert first["next_cursor"]
    second = ok(client.get(API, params={"cursor": first["next_cursor"]}, headers=headers))
    assert [c["name"] for c in second["items"]] == ["three"]
    assert second["next_cursor"] is None
    item = first["items"][0]
    assert item == {
        "client_id": made[0]["client_id"],
        "name": "one",
        "user_id": str(user.id),
        "scopes": ["applications:read"],
        "redirect_uris": [],
        "grant_types": ["client_credentials"],
        "public": False,
        "created_at": item["created_at"],
    }
    assert all(m["client_secret"] not in json.dumps(first) for m in made)
    for limit in (0, 101):
        assert client.get(API, params={"limit": limit}, headers=headers).status_code == 422


def test_an_admin_lists_another_users_clients(app: FastAPI, client: TestClient) -> None:
    session = open_session(app.state.engine, write=True)
    try:
        owner = make_user(session)
        client_id, _ = make_oauth_client(session, owner)
    finally:
        session.close()
    _, admin = make_principal(app, roles=[Role.admin])
    listed = ok(client.get(API, params={"user_id": str(owner.id)}, headers=admin))["items"]
    assert [c["client_id"] for c in listed] == [client_id]
    assert ok(client.get(API, headers=admin))["items"] == []
    nobody = ok(client.get(API, params={"user_id": str(uuid.uuid4())}, headers=admin))
    assert nobody == {"items": [], "next_cursor": None}


def test_sign_in_tokens_carry_auth_time_and_machine_tokens_do_not(
    app: FastAPI, client: TestClient
) -> None:
    from tests.security.test_oauth_clients import PASSWORD, REDIRECT, sign_in

    session = open_session(app.state.engine, write=True)
    try:
        user = make_user(session, password=PASSWORD)
        public, _ = make_oauth_client(session, user, public=True, redirect_uris=[REDIRECT])
        machine, secret = make_oauth_client(session, user)
    finally:
        session.close()
    signed_in_at = app.state.clock()
    grant = sign_in(client, user, public)
    auth_time = claims(grant["access_token"])["auth_time"]
    assert isinstance(auth_time, int)
    assert abs(auth_time - signed_in_at.timestamp()) < 5
    refreshed = ok(
        client.post(
            "/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": grant["refresh_token"],
                "client_id": public,
            },
        )
    )
    assert claims(refreshed["access_token"])["auth_time"] == auth_time
    assert secret is not None
    machine_token = ok(
        client.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(machine, secret)
        )
    )["access_token"]
    assert "auth_time" not in claims(machine_token)


def test_an_external_issuers_auth_time_is_the_sign_in(engine: Engine, session: Session) -> None:
    """An external provider's token says when the person signed in with ``auth_time``."""
    issuer = TrustedIssuer(
        issuer="https://idp.example",
        audience="urn:shortlist:api",
        keys=TokenVerifier([]),  # type: ignore[arg-type]  # not used: the token is verified
        algorithms=frozenset({"RS256"}),
        builtin=False,
    )
    signed_in = datetime(2026, 11, 29, 8, 55, tzinfo=UTC)

    def verified(**extra: object) -> VerifiedToken:
        claims = {"sub": "person-1", "email": "p@example.org", **extra}
        return VerifiedToken(issuer, "person-1", "idp-app", frozenset(ALL_SCOPES), "", 0, claims)

    fresh = external_actor(
        engine=engine, verified=verified(auth_time=int(signed_in.timestamp())), now=NOW
    )
    assert fresh.auth_time == signed_in
    for odd in ({}, {"auth_time": "yesterday"}, {"auth_time": True}, {"auth_time": 10**20}):
        assert external_actor(engine=engine, verified=verified(**odd), now=NOW).auth_time is None


def test_deactivation_is_audited_and_the_user_shown_inactive(
    app: FastAPI, client: TestClient
) -> None:
    victim, _ = make_principal(app)
    _, admin = make_principal(app, roles=[Role.admin])
    shown = ok(client.post(f"/api/v1/users/{victim.id}/deactivate", headers=admin))
    assert shown["is_active"] is False
    assert shown["email"] == victim.email
    created = ok(
        client.post(
            "/api/v1/users",
            json={"email": "new@example.org", "name": "New"},
            headers=admin,
        ),
        201,
    )
    assert created["is_active"] is True
    token = make_token(app, victim)
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_the_docs_client_moves_to_an_active_admin_when_its_owner_leaves(session: Session) -> None:
    """``shortlist bootstrap`` keeps the API docs' sign-in working: a public client whose owner
    was deactivated (and so issues nothing) is handed to the admin it is given."""
    first, second = make_user(session, roles=[Role.admin]), make_user(session, roles=[Role.admin])
    ensure_public_client(
        session=session,
        client_id="docs",
        name="Docs",
        owner=first,
        redirect_uris=["http://localhost/docs/oauth2-redirect"],
        now=NOW,
    )
    deactivate_user(
        session=session, actor=actor_of(second), user_id=first.id, now=NOW + timedelta(days=1)
    )
    session.commit()
    kept = ensure_public_client(
        session=session,
        client_id="docs",
        name="Docs",
        owner=second,
        redirect_uris=["http://localhost/docs/oauth2-redirect"],
        now=NOW,
    )
    session.commit()
    assert kept.user_id == second.id
    assert kept.revoked_at is None
    rows = session.exec(select(OAuthClient).where(col(OAuthClient.client_id) == "docs")).all()
    assert len(rows) == 1
    assert session.get(User, first.id).is_active is False  # type: ignore[union-attr]
