"""OAuth clients as a hostile user would try them: a stolen short-lived token must not become a
lasting credential, nobody lists or deletes another person's clients, and a deleted client's or
a deactivated person's tokens are refused at once, on every route, with the actor cache on or
off. People sign in through the authorization code flow (the login page) as a browser would;
the app's clock is the test's.
"""

import html
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from identity.actors import ActorCache
from infra.db import open_session
from models.identity import Role, User
from tests.factories import Clock, bearer, make_oauth_client, make_token, make_user, ok, pkce_pair

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
REDIRECT = "http://localhost:9999/callback"
PASSWORD = "correct horse battery staple"
HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')
API = "/api/v1"


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    clock = Clock(T0)
    app.state.clock = clock
    return clock


@pytest.fixture(params=["actor cache off", "actor cache on"])
def cache(request: pytest.FixtureRequest, app: FastAPI) -> str:
    """Revocation holds at once in this process whether or not the actor cache is on."""
    if request.param == "actor cache on":
        app.state.actor_cache = ActorCache(30.0)
    name: str = request.param
    return name


def person(app: FastAPI, roles: list[Role] | None = None) -> User:
    session = open_session(app.state.engine, write=True)
    try:
        return make_user(session, roles=roles or [Role.applicant], password=PASSWORD)
    finally:
        session.close()


def web_app(app: FastAPI, owner: User) -> str:
    """A public client (authorization code with PKCE) that people sign in through."""
    session = open_session(app.state.engine, write=True)
    try:
        client_id, _ = make_oauth_client(session, owner, public=True, redirect_uris=[REDIRECT])
    finally:
        session.close()
    return client_id


def machine_client(app: FastAPI, owner: User, *, redirect: bool = False) -> tuple[str, str]:
    """A confidential client (client credentials; with a redirect URI, code flow too)."""
    session = open_session(app.state.engine, write=True)
    try:
        client_id, secret = make_oauth_client(
            session, owner, redirect_uris=[REDIRECT] if redirect else None
        )
    finally:
        session.close()
    assert secret is not None
    return client_id, secret


def sign_in(
    client: TestClient, user: User, client_id: str, secret: str | None = None
) -> dict[str, Any]:
    """The authorization code flow, as a browser and the client would run it."""
    verifier, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "state": "xyz",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = client.get("/oauth/authorize", params=query)
    assert page.status_code == 200, page.text
    form = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
    form.update(email=user.email, password=PASSWORD, action="allow")
    signed = client.post("/oauth/authorize", data=form)
    assert signed.status_code == 302, signed.text
    code = parse_qs(urlsplit(signed.headers["location"]).query)["code"][0]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": client_id,
    }
    if secret is not None:
        data["client_secret"] = secret
    tokens: dict[str, Any] = ok(client.post("/oauth/token", data=data))
    return tokens


def client_credentials(client: TestClient, client_id: str, secret: str) -> str:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    token: str = ok(response)["access_token"]
    return token


def refresh(client: TestClient, client_id: str, refresh_token: str) -> Any:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return client.post("/oauth/token", data=data)


def new_client(client: TestClient, token: str, **extra: Any) -> Any:
    body = {"name": "lasting", "scopes": ["applications:read"], **extra}
    return client.post(f"{API}/oauth-clients", json=body, headers=bearer(token))


def own_clients(client: TestClient, token: str, **params: str) -> Any:
    return client.get(f"{API}/oauth-clients", params=params, headers=bearer(token))


def refused(client: TestClient, token: str) -> bool:
    """Whether every route refuses the token as invalid (401), reads and writes alike."""
    headers = bearer(token)
    answers = [
        client.get(f"{API}/me", headers=headers),
        client.get(f"{API}/organizations", headers=headers),
        client.get(f"{API}/oauth-clients", headers=headers),
        client.post(
            f"{API}/organizations",
            json={"name": "X", "registration_number": "1", "country": "KR", "email_domains": []},
            headers=headers,
        ),
    ]
    return all(
        a.status_code == 401 and 'error="invalid_token"' in a.headers["www-authenticate"]
        for a in answers
    )


def audit_events(app: FastAPI, client: TestClient, action: str) -> list[dict[str, Any]]:
    admin = person(app, [Role.admin])
    events = ok(client.get(f"{API}/audit", headers=bearer(make_token(app, admin))))["items"]
    return [e for e in events if e["action"] == action]


# --- a stolen short-lived token must not become a lasting credential ----------------------------


def test_a_stolen_client_credentials_token_cannot_mint_a_lasting_client(
    app: FastAPI, client: TestClient, clock: Clock
) -> None:
    victim = person(app)
    client_id, secret = machine_client(app, victim)
    stolen = client_credentials(client, client_id, secret)
    # The token itself works: it is a valid, short-lived credential of the victim's.
    assert client.get(f"{API}/me", headers=bearer(stolen)).status_code == 200
    attempt = new_client(client, stolen)
    assert attempt.status_code == 403, attempt.text
    assert attempt.json()["type"] == "login-required"
    assert "client_secret" not in attempt.text
    listed = ok(own_clients(client, stolen))["items"]
    assert [c["client_id"] for c in listed] == [client_id]


def test_a_sign_in_older_than_ten_minutes_cannot_mint_a_client(
    app: FastAPI, client: TestClient, clock: Clock
) -> None:
    user = person(app)
    spa = web_app(app, user)
    tokens = sign_in(client, user, spa)
    clock.now = T0 + timedelta(minutes=9, seconds=59)
    made = new_client(client, tokens["access_token"])
    assert made.status_code == 201, made.text
    # The same token, still valid (15 minutes), once the sign-in is more than 10 minutes old.
    clock.now = T0 + timedelta(minutes=10, seconds=1)
    assert client.get(f"{API}/me", headers=bearer(tokens["access_token"])).status_code == 200
    stale = new_client(client, tokens["access_token"])
    assert stale.status_code == 403, stale.text
    assert stale.json()["type"] == "login-required"
    # Refreshing is not signing in: the new token keeps the old sign-in's time.
    refreshed = ok(refresh(client, spa, tokens["refresh_token"]))
    again = new_client(client, refreshed["access_token"])
    assert again.status_code == 403, again.text
    assert again.json()["type"] == "login-required"
    # Signing in again is.
    fresh = sign_in(client, user, spa)
    assert new_client(client, fresh["access_token"]).status_code == 201
    assert len(ok(own_clients(client, fresh["access_token"]))["items"]) == 3


def test_a_token_claiming_a_future_sign_in_is_no_fresh_sign_in(
    app: FastAPI, client: TestClient, clock: Clock
) -> None:
    user = person(app)
    future = make_token(app, user, auth_time=T0 + timedelta(hours=1))
    response = new_client(client, future)
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "login-required"


def test_an_admin_creates_clients_without_a_fresh_sign_in(
    app: FastAPI, client: TestClient, clock: Clock
) -> None:
    admin = person(app, [Role.admin])
    client_id, secret = machine_client(app, admin)
    token = client_credentials(client, client_id, secret)
    assert new_client(client, token).status_code == 201


def test_an_applicant_cannot_create_a_client_for_someone_else(
    app: FastAPI, client: TestClient, clock: Clock
) -> None:
    attacker, victim = person(app), person(app)
    tokens = sign_in(client, attacker, web_app(app, attacker))
    response = new_client(client, tokens["access_token"], user_id=str(victim.id))
    assert response.status_code == 403, response.text
    assert response.json()["type"] == "forbidden-role"
    admin = person(app, [Role.admin])
    victims = own_clients(client, make_token(app, admin), user_id=str(victim.id))
    assert ok(victims)["items"] == []


# --- nobody lists or deletes another person's clients ------------------------------------------


def test_an_applicant_cannot_list_or_delete_another_users_client(
    app: FastAPI, client: TestClient, clock: Clock
) -> None:
    attacker, victim = person(app), person(app)
    victim_client, victim_secret = machine_client(app, victim)
    attacker_token = sign_in(client, attacker, web_app(app, attacker))["access_token"]
    listed = ok(own_clients(client, attacker_token))["items"]
    assert victim_client not in {c["client_id"] for c in listed}
    snooped = own_clients(client, attacker_token, user_id=str(victim.id))
    assert snooped.status_code == 403, snooped.text
    deleted = client.delete(f"{API}/oauth-clients/{victim_client}", headers=bearer(attacker_token))
    assert deleted.status_code == 404, deleted.text
    # The same answer as for a client that does not exist at all.
    missing = client.delete(
        f"{API}/oauth-clients/sl_no_such_client", headers=bearer(attacker_token)
    )
    assert (missing.status_code, missing.json()["detail"]) == (404, deleted.json()["detail"])
    # The victim's client still works, and the victim still sees it, without its secret.
    assert client_credentials(client, victim_client, victim_secret)
    mine = ok(own_clients(client, make_token(app, victim)))["items"]
    assert [c["client_id"] for c in mine] == [victim_client]
    assert "secret" not in str(mine)


# --- a deleted client's tokens ----------------------------------------------------------------


def test_a_deleted_clients_tokens_are_refused_at_once(
    app: FastAPI, client: TestClient, clock: Clock, cache: str
) -> None:
    owner = person(app)
    client_id, secret = machine_client(app, owner, redirect=True)
    machine_token = client_credentials(client, client_id, secret)
    grant = sign_in(client, owner, client_id, secret)
    other = sign_in(client, owner, web_app(app, owner))
    for token in (machine_token, grant["access_token"], other["access_token"]):
        assert client.get(f"{API}/me", headers=bearer(token)).status_code == 200  # (cached)
    # The owner deletes it, with a token of another client.
    deleted = client.delete(
        f"{API}/oauth-clients/{client_id}", headers=bearer(other["access_token"])
    )
    assert deleted.status_code == 204, deleted.text
    assert refused(client, machine_token), cache
    assert refused(client, grant["access_token"]), cache
    # Its refresh token is dead, and the client can neither get tokens nor look at its old ones.
    assert refresh(client, client_id, grant["refresh_token"]).status_code in (400, 401)
    after = client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": grant["refresh_token"]},
        auth=(client_id, secret),
    )
    assert after.status_code == 401, after.text
    assert after.json()["error"] == "invalid_client"
    token = client.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert token.status_code == 401, token.text
    for value in (machine_token, grant["access_token"], grant["refresh_token"]):
        looked = client.post("/oauth/introspect", data={"token": value}, auth=(client_id, secret))
        assert looked.status_code == 401, looked.text
        assert looked.json()["error"] == "invalid_client"
    # It is gone from the list; deleting it again is 404; the owner's other tokens still work.
    listed = ok(own_clients(client, other["access_token"]))["items"]
    assert client_id not in {c["client_id"] for c in listed}
    again = client.delete(f"{API}/oauth-clients/{client_id}", headers=bearer(other["access_token"]))
    assert again.status_code == 404
    assert client.get(f"{API}/me", headers=bearer(other["access_token"])).status_code == 200
    events = audit_events(app, client, "oauth_client.deleted")
    assert [e["object_id"] for e in events] == [client_id]
    assert secret not in str(events)


def test_an_admin_deletes_anyones_client(
    app: FastAPI, client: TestClient, clock: Clock, cache: str
) -> None:
    owner, admin = person(app), person(app, [Role.admin])
    client_id, secret = machine_client(app, owner)
    machine_token = client_credentials(client, client_id, secret)
    assert client.get(f"{API}/me", headers=bearer(machine_token)).status_code == 200  # (cached)
    admin_token = make_token(app, admin)
    listed = ok(own_clients(client, admin_token, user_id=str(owner.id)))["items"]
    assert [c["client_id"] for c in listed] == [client_id]
    deleted = client.delete(f"{API}/oauth-clients/{client_id}", headers=bearer(admin_token))
    assert deleted.status_code == 204, deleted.text
    # A client credentials token is recorded nowhere: its client's deletion is what refuses it.
    assert refused(client, machine_token), cache


# --- a deactivated person's tokens ------------------------------------------------------------


def test_a_deactivated_users_tokens_and_their_clients_tokens_are_refused(
    app: FastAPI, client: TestClient, clock: Clock, cache: str
) -> None:
    leaver, colleague = person(app), person(app)
    admin = person(app, [Role.admin])
    # The leaver's own credentials: a machine client, and a sign-in through a portal app.
    machine_id, machine_secret = machine_client(app, leaver)
    machine_token = client_credentials(client, machine_id, machine_secret)
    portal = web_app(app, admin)
    leaver_grant = sign_in(client, leaver, portal)
    # A web app the leaver owns, that a colleague signed in through.
    leavers_app = web_app(app, leaver)
    colleague_grant = sign_in(client, colleague, leavers_app)
    colleague_own = sign_in(client, colleague, portal)
    tokens = [machine_token, leaver_grant["access_token"], colleague_grant["access_token"]]
    for token in [*tokens, colleague_own["access_token"]]:
        assert client.get(f"{API}/me", headers=bearer(token)).status_code == 200  # (cached)

    response = client.post(
        f"{API}/users/{leaver.id}/deactivate", headers=bearer(make_token(app, admin))
    )
    user = ok(response)
    assert user["id"] == str(leaver.id)
    assert user["is_active"] is False
    for token in tokens:
        assert refused(client, token), (cache, token[:20])
    assert refresh(client, portal, leaver_grant["refresh_token"]).status_code == 400
    assert refresh(client, leavers_app, colleague_grant["refresh_token"]).status_code in (400, 401)
    issued = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(machine_id, machine_secret),
    )
    assert issued.status_code == 401, issued.text
    # Nobody signs in through the leaver's app any more (it is not a client now).
    _, challenge = pkce_pair()
    through = client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": leavers_app,
            "redirect_uri": REDIRECT,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    assert through.status_code == 400, through.text
    assert "invalid_client" in through.text
    # The colleague's own sign-in is untouched.
    assert client.get(f"{API}/me", headers=bearer(colleague_own["access_token"])).status_code == 200
    assert ok(refresh(client, portal, colleague_own["refresh_token"]))["access_token"]
    # Deactivating again changes nothing; one audit event says what happened, without secrets.
    again = client.post(
        f"{API}/users/{leaver.id}/deactivate", headers=bearer(make_token(app, admin))
    )
    assert ok(again)["is_active"] is False
    events = audit_events(app, client, "user.deactivated")
    assert [e["object_id"] for e in events] == [str(leaver.id)]
    assert machine_secret not in str(events)


def test_a_deactivated_user_cannot_sign_in_again(
    app: FastAPI, client: TestClient, clock: Clock
) -> None:
    leaver, admin = person(app), person(app, [Role.admin])
    portal = web_app(app, admin)
    assert sign_in(client, leaver, portal)["access_token"]
    ok(client.post(f"{API}/users/{leaver.id}/deactivate", headers=bearer(make_token(app, admin))))
    _, challenge = pkce_pair()
    query = {
        "response_type": "code",
        "client_id": portal,
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = client.get("/oauth/authorize", params=query)
    form = {name: html.unescape(value) for name, value in HIDDEN.findall(page.text)}
    form.update(email=leaver.email, password=PASSWORD, action="allow")
    login = client.post("/oauth/authorize", data=form)
    assert login.status_code == 400, login.text
    assert "Wrong email or password" in login.text


def test_only_admins_deactivate_and_not_themselves(
    app: FastAPI, client: TestClient, clock: Clock
) -> None:
    applicant, victim, admin = person(app), person(app), person(app, [Role.admin])
    fresh = sign_in(client, applicant, web_app(app, admin))["access_token"]
    refused_ = client.post(f"{API}/users/{victim.id}/deactivate", headers=bearer(fresh))
    assert refused_.status_code == 403, refused_.text
    assert client.get(f"{API}/me", headers=bearer(make_token(app, victim))).status_code == 200
    admin_token = make_token(app, admin)
    itself = client.post(f"{API}/users/{admin.id}/deactivate", headers=bearer(admin_token))
    assert itself.status_code == 409, itself.text
    assert itself.json()["type"] == "self-deactivation"
    unknown = client.post(f"{API}/users/{uuid.uuid4()}/deactivate", headers=bearer(admin_token))
    assert unknown.status_code == 404
