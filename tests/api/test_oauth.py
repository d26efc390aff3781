"""The built-in authorization server, driven over HTTP like a client and a browser would."""

import base64
import html
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx2 import Response
from joserfc import jws
from sqlmodel import Session, col, select

from identity.accounts import set_password
from infra.db import open_session
from infra.settings import Settings
from models.identity import ALL_SCOPES, RefreshToken, Role, User
from tests.factories import NOW, bearer, make_oauth_client, make_user, pkce_pair

ISSUER = "http://localhost"
REDIRECT = "http://localhost:9999/callback"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # authlib serves OAuth only over https or on a loopback host, judged by the public URL.
    return settings.model_copy(update={"public_url": ISSUER})


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as client:
        yield client


@pytest.fixture
def db(app: FastAPI) -> Iterator[Session]:
    session = open_session(app.state.engine, write=False)
    yield session
    session.close()


def person(db: Session, *, roles: list[Role] | None = None) -> User:
    user = make_user(db, roles=roles or [Role.reviewer])
    set_password(session=db, email=user.email, password=PASSWORD, now=NOW)
    db.commit()
    return user


def basic(client_id: str, secret: str | None) -> dict[str, str]:
    raw = f"{client_id}:{secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def token_request(client: TestClient, data: dict[str, str], **kwargs: Any) -> Response:
    return client.post("/oauth/token", data=data, **kwargs)


def claims_of(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    compact = jws.extract_compact(token.encode())
    import json

    return dict(compact.headers()), json.loads(compact.payload)


HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def hidden_fields(page: str) -> dict[str, str]:
    return {name: html.unescape(value) for name, value in HIDDEN.findall(page)}


def authorize(
    client: TestClient,
    client_id: str,
    challenge: str | None,
    *,
    redirect_uri: str = REDIRECT,
    scope: str | None = None,
    state: str = "state-123",
    method: str | None = "S256",
) -> Response:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri}
    params["state"] = state
    if scope is not None:
        params["scope"] = scope
    if challenge is not None:
        params["code_challenge"] = challenge
    if method is not None:
        params["code_challenge_method"] = method
    return client.get("/oauth/authorize?" + urlencode(params))


def log_in(
    client: TestClient, page: Response, email: str, password: str = PASSWORD, **extra: str
) -> Response:
    form = {**hidden_fields(page.text), "email": email, "password": password, **extra}
    return client.post("/oauth/authorize", data=form)


def redirect_params(response: Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def get_code(client: TestClient, client_id: str, user: User, challenge: str, **kwargs: Any) -> str:
    page = authorize(client, client_id, challenge, **kwargs)
    assert page.status_code == 200, page.text
    return redirect_params(log_in(client, page, user.email))["code"]


def redeem(client: TestClient, client_id: str, code: str, verifier: str, **extra: str) -> Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": client_id,
        **extra,
    }
    return token_request(client, data)


def refresh(client: TestClient, client_id: str, refresh_token: str) -> Response:
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client_id}
    return token_request(client, data)


# --- discovery ---------------------------------------------------------------------------------


def test_metadata_documents(client: TestClient) -> None:
    first = client.get("/.well-known/oauth-authorization-server")
    second = client.get("/.well-known/openid-configuration")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    metadata = first.json()
    AuthorizationServerMetadata(metadata).validate()
    assert metadata["issuer"] == ISSUER
    assert metadata["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert "password" not in metadata["grant_types_supported"]
    assert "implicit" not in metadata["grant_types_supported"]
    assert set(metadata["token_endpoint_auth_methods_supported"]) >= {
        "client_secret_basic",
        "client_secret_post",
    }
    assert metadata["scopes_supported"] == list(ALL_SCOPES)


def test_jwks_publishes_public_keys_only(client: TestClient) -> None:
    keys = client.get("/oauth/jwks").json()["keys"]
    assert keys
    for key in keys:
        assert key["kty"] == "RSA"
        assert key["kid"]
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(key)


# --- client_credentials ------------------------------------------------------------------------


def test_client_credentials_basic_issues_rfc9068_token(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    user = make_user(db, roles=[Role.applicant])
    client_id, secret = make_oauth_client(db, user, scopes=["applications:read", "audit:read"])
    response = token_request(
        client, {"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "applications:read audit:read"
    assert "refresh_token" not in body
    assert 0 < body["expires_in"] <= 3600
    header, claims = claims_of(body["access_token"])
    assert header["typ"] == "at+jwt"
    kids = {k["kid"] for k in client.get("/oauth/jwks").json()["keys"]}
    assert header["kid"] in kids
    assert set(claims) >= {"iss", "sub", "aud", "exp", "iat", "jti", "client_id", "scope"}
    assert claims["iss"] == ISSUER
    assert claims["aud"] == "urn:shortlist:api"
    assert claims["sub"] == str(user.id)
    assert claims["client_id"] == client_id
    assert claims["exp"] - claims["iat"] <= 3600
    me = client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == str(user.id)


def test_client_credentials_post_and_scope_subset(client: TestClient, db: Session) -> None:
    user = make_user(db)
    client_id, secret = make_oauth_client(db, user, scopes=["applications:read", "reviews:read"])
    assert secret is not None
    data = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": secret,
        "scope": "reviews:read",
    }
    response = token_request(client, data)
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "reviews:read"
    too_much = token_request(client, {**data, "scope": "reviews:read rounds:admin"})
    assert too_much.status_code == 400
    assert too_much.json()["error"] == "invalid_scope"
    unknown = token_request(client, {**data, "scope": "everything"})
    assert unknown.json()["error"] == "invalid_scope"


def test_client_authentication_failures(client: TestClient, db: Session) -> None:
    user = make_user(db)
    client_id, secret = make_oauth_client(db, user)
    wrong = token_request(
        client, {"grant_type": "client_credentials"}, headers=basic(client_id, "wrong")
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"].startswith("Basic ")
    assert wrong.headers["content-type"] == "application/json"
    unknown = token_request(
        client, {"grant_type": "client_credentials"}, headers=basic("nobody", "x")
    )
    assert unknown.status_code == 401
    anonymous = token_request(client, {"grant_type": "client_credentials"})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "invalid_client"
    # Two ways of authenticating at once is one too many.
    both = token_request(
        client,
        {"grant_type": "client_credentials", "client_id": client_id, "client_secret": "x"},
        headers=basic(client_id, secret),
    )
    assert both.status_code in (400, 401)


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"grant_type": "password", "username": "a", "password": "b"}, "unsupported_grant_type"),
        ({"grant_type": "implicit"}, "unsupported_grant_type"),
        ({"scope": "audit:read"}, "unsupported_grant_type"),
    ],
)
def test_token_endpoint_refuses_other_grants(
    client: TestClient, data: dict[str, str], error: str
) -> None:
    response = token_request(client, data)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


def test_token_endpoint_wants_a_form_without_repeats(client: TestClient, db: Session) -> None:
    client_id, secret = make_oauth_client(db, make_user(db))
    as_json = client.post(
        "/oauth/token", json={"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"
    repeated = client.post(
        "/oauth/token",
        content="grant_type=client_credentials&scope=audit:read&scope=rounds:admin",
        headers={**basic(client_id, secret), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert repeated.status_code == 400
    assert repeated.json()["error"] == "invalid_request"
    assert client.get("/oauth/token").status_code == 405


def test_revoked_client_gets_no_token(client: TestClient, db: Session) -> None:
    from models.identity import OAuthClient

    client_id, secret = make_oauth_client(db, make_user(db))
    row = db.exec(select(OAuthClient).where(OAuthClient.client_id == client_id)).one()
    row.revoked_at = NOW
    db.add(row)
    db.commit()
    response = token_request(
        client, {"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    )
    assert response.status_code == 401


# --- authorization code + PKCE (acceptance 3) --------------------------------------------------


def test_authorization_code_pkce_end_to_end(app: FastAPI, client: TestClient, db: Session) -> None:
    """authorize, log in, code, token, refresh, revoke: a scripted public client."""
    user = person(db, roles=[Role.reviewer])
    client_id, _ = make_oauth_client(
        db, user, public=True, redirect_uris=[REDIRECT], scopes=["reviews:read", "reviews:write"]
    )
    verifier, challenge = pkce_pair()

    page = authorize(client, client_id, challenge, scope="reviews:read")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "shortlist-csrf" in page.headers["set-cookie"]
    assert hidden_fields(page.text)["code_challenge"] == challenge

    landed = redirect_params(log_in(client, page, user.email))
    assert landed["state"] == "state-123"
    assert landed["iss"] == ISSUER
    code = landed["code"]

    tokens = redeem(client, client_id, code, verifier)
    assert tokens.status_code == 200, tokens.text
    assert tokens.headers["cache-control"] == "no-store"
    body = tokens.json()
    assert body["scope"] == "reviews:read"
    _, claims = claims_of(body["access_token"])
    assert claims["sub"] == str(user.id)
    assert claims["client_id"] == client_id
    me = client.get("/api/v1/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json()["email"] == user.email

    renewed = refresh(client, client_id, body["refresh_token"])
    assert renewed.status_code == 200, renewed.text
    second = renewed.json()
    assert second["refresh_token"] != body["refresh_token"]
    assert second["scope"] == "reviews:read"
    assert client.get("/api/v1/me", headers=bearer(second["access_token"])).status_code == 200

    revoked = client.post(
        "/oauth/revoke", data={"token": second["refresh_token"], "client_id": client_id}
    )
    assert revoked.status_code == 200
    assert revoked.json() == {}
    again = refresh(client, client_id, second["refresh_token"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    # Revoking a refresh token ends the access tokens of its grant too (RFC 7009 section 2.1).
    gone = client.get("/api/v1/me", headers=bearer(second["access_token"]))
    assert gone.status_code == 401
    assert 'error="invalid_token"' in gone.headers["www-authenticate"]


def test_confidential_client_code_flow_with_post_auth(client: TestClient, db: Session) -> None:
    user = person(db)
    client_id, secret = make_oauth_client(db, user, redirect_uris=[REDIRECT])
    assert secret is not None
    verifier, challenge = pkce_pair()
    code = get_code(client, client_id, user, challenge)
    # A confidential client must authenticate: its id alone is not enough.
    assert redeem(client, client_id, code, verifier).status_code == 401
    response = redeem(client, client_id, code, verifier, client_secret=secret)
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == " ".join(sorted(ALL_SCOPES))


def test_pkce_is_required_and_s256_only(client: TestClient, db: Session) -> None:
    user = person(db)
    client_id, _ = make_oauth_client(db, user, public=True, redirect_uris=[REDIRECT])
    verifier, challenge = pkce_pair()
    for response in (
        authorize(client, client_id, None, method=None),
        authorize(client, client_id, challenge, method=None),
        authorize(client, client_id, verifier, method="plain"),
    ):
        params = redirect_params(response)
        assert params["error"] == "invalid_request"
        assert params["state"] == "state-123"
        assert params["iss"] == ISSUER
    code = get_code(client, client_id, user, challenge)
    assert redeem(client, client_id, code, pkce_pair()[0]).json()["error"] == "invalid_grant"
    missing = token_request(
        client,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": client_id,
        },
    )
    assert missing.status_code == 400
    # A failed verifier does not burn the code for its rightful holder.
    assert redeem(client, client_id, code, verifier).status_code == 200


def test_redirect_uri_must_match_exactly(client: TestClient, db: Session) -> None:
    user = person(db)
    client_id, _ = make_oauth_client(db, user, public=True, redirect_uris=[REDIRECT])
    _, challenge = pkce_pair()
    for uri in (
        REDIRECT + "/more",
        REDIRECT + "?x=1",
        "http://localhost:9999/callbacks",
        "https://evil.example/callback",
        "//evil.example/callback",
    ):
        response = authorize(client, client_id, challenge, redirect_uri=uri)
        assert response.status_code == 400, uri
        assert "location" not in response.headers
        assert response.headers["content-type"].startswith("text/html")
    missing = client.get(
        "/oauth/authorize?"
        + urlencode({"response_type": "code", "client_id": client_id, "code_challenge": challenge})
    )
    assert missing.status_code == 400
    unknown = authorize(client, "no-such-client", challenge)
    assert unknown.status_code == 400
    assert "location" not in unknown.headers


def test_code_redeemed_with_another_redirect_or_client_is_refused(
    client: TestClient, db: Session
) -> None:
    user = person(db)
    client_id, _ = make_oauth_client(db, user, public=True, redirect_uris=[REDIRECT])
    other_id, _ = make_oauth_client(db, user, public=True, redirect_uris=[REDIRECT])
    verifier, challenge = pkce_pair()
    code = get_code(client, client_id, user, challenge)
    assert redeem(client, other_id, code, verifier).json()["error"] == "invalid_grant"
    wrong = redeem(client, client_id, code, verifier, redirect_uri="http://localhost:9999/other")
    assert wrong.json()["error"] == "invalid_grant"
    assert redeem(client, client_id, code, verifier).status_code == 200


def test_replayed_code_revokes_what_it_issued(client: TestClient, db: Session) -> None:
    user = person(db)
    client_id, _ = make_oauth_client(db, user, public=True, redirect_uris=[REDIRECT])
    verifier, challenge = pkce_pair()
    code = get_code(client, client_id, user, challenge)
    first = redeem(client, client_id, code, verifier).json()
    replay = redeem(client, client_id, code, verifier)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert refresh(client, client_id, first["refresh_token"]).json()["error"] == "invalid_grant"
    assert client.get("/api/v1/me", headers=bearer(first["access_token"])).status_code == 401


def test_scope_requested_at_authorize_must_be_the_clients(client: TestClient, db: Session) -> None:
    user = person(db)
    client_id, _ = make_oauth_client(
        db, user, public=True, redirect_uris=[REDIRECT], scopes=["reviews:read"]
    )
    _, challenge = pkce_pair()
    params = redirect_params(authorize(client, client_id, challenge, scope="rounds:admin"))
    assert params["error"] == "invalid_scope"
    assert "code" not in params


def test_login_page_escapes_and_needs_csrf(client: TestClient, db: Session) -> None:
    user = person(db)
    client_id, _ = make_oauth_client(
        db, user, public=True, redirect_uris=[REDIRECT], name='<script>alert("x")</script>'
    )
    _, challenge = pkce_pair()
    evil_state = '"><script>alert(1)</script>'
    page = authorize(client, client_id, challenge, state=evil_state)
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert "&lt;script&gt;" in page.text
    assert hidden_fields(page.text)["state"] == evil_state

    form = {**hidden_fields(page.text), "email": user.email, "password": PASSWORD}
    forged = client.post("/oauth/authorize", data={**form, "csrf_token": "forged.value"})
    assert forged.status_code == 400
    assert "location" not in forged.headers
    client.cookies.clear()
    no_cookie = client.post("/oauth/authorize", data=form)
    assert no_cookie.status_code == 400
    assert "location" not in no_cookie.headers


def test_wrong_password_and_deny(client: TestClient, db: Session) -> None:
    user = person(db)
    client_id, _ = make_oauth_client(db, user, public=True, redirect_uris=[REDIRECT])
    _, challenge = pkce_pair()
    page = authorize(client, client_id, challenge)
    wrong = log_in(client, page, user.email, "not the password")
    assert wrong.status_code == 400
    assert "Wrong email or password" in wrong.text
    assert "location" not in wrong.headers
    unknown = log_in(client, wrong, "nobody@example.org")
    assert unknown.status_code == 400
    assert "Wrong email or password" in unknown.text
    denied = redirect_params(log_in(client, unknown, user.email, action="deny"))
    assert denied["error"] == "access_denied"
    assert "code" not in denied


def test_deactivated_user_cannot_log_in_or_refresh(client: TestClient, db: Session) -> None:
    user = person(db)
    client_id, _ = make_oauth_client(db, user, public=True, redirect_uris=[REDIRECT])
    verifier, challenge = pkce_pair()
    tokens = redeem(client, client_id, get_code(client, client_id, user, challenge), verifier)
    user.is_active = False
    db.add(user)
    db.commit()
    assert refresh(client, client_id, tokens.json()["refresh_token"]).status_code == 400
    page = authorize(client, client_id, challenge)
    assert log_in(client, page, user.email).status_code == 400


# --- refresh-token rotation --------------------------------------------------------------------


def _code_flow_tokens(client: TestClient, db: Session) -> tuple[str, dict[str, Any]]:
    user = person(db)
    client_id, _ = make_oauth_client(db, user, public=True, redirect_uris=[REDIRECT])
    verifier, challenge = pkce_pair()
    response = redeem(client, client_id, get_code(client, client_id, user, challenge), verifier)
    assert response.status_code == 200
    return client_id, response.json()


def test_refresh_reuse_revokes_the_family(client: TestClient, db: Session) -> None:
    client_id, first = _code_flow_tokens(client, db)
    second = refresh(client, client_id, first["refresh_token"]).json()
    third = refresh(client, client_id, second["refresh_token"]).json()
    # An attacker (or a confused client) replays the first, spent, refresh token.
    reuse = refresh(client, client_id, first["refresh_token"])
    assert reuse.status_code == 400
    assert reuse.json()["error"] == "invalid_grant"
    # The whole family is gone: the newest refresh token and the access tokens issued with it.
    assert refresh(client, client_id, third["refresh_token"]).json()["error"] == "invalid_grant"
    for token in (second["access_token"], third["access_token"]):
        assert client.get("/api/v1/me", headers=bearer(token)).status_code == 401


def test_refresh_cannot_widen_scope_or_switch_client(client: TestClient, db: Session) -> None:
    client_id, tokens = _code_flow_tokens(client, db)
    narrower = token_request(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": client_id,
            "scope": "reviews:read",
        },
    )
    assert narrower.status_code == 200
    assert narrower.json()["scope"] == "reviews:read"
    wider = token_request(
        client,
        {
            "grant_type": "refresh_token",
            "refresh_token": narrower.json()["refresh_token"],
            "client_id": client_id,
            "scope": "reviews:read audit:read",
        },
    )
    assert wider.json()["error"] == "invalid_scope"
    other_id, _ = make_oauth_client(db, make_user(db), public=True, redirect_uris=[REDIRECT])
    stolen = refresh(client, other_id, narrower.json()["refresh_token"])
    assert stolen.json()["error"] == "invalid_grant"
    # Neither refusal spent the token for its rightful client.
    assert refresh(client, client_id, narrower.json()["refresh_token"]).status_code == 200


def test_racing_refreshes_issue_once_and_revoke_the_family(
    app: FastAPI, client: TestClient, db: Session
) -> None:
    client_id, tokens = _code_flow_tokens(client, db)
    results: list[int] = []
    barrier = threading.Barrier(4)

    def use() -> None:
        barrier.wait()
        results.append(refresh(client, client_id, tokens["refresh_token"]).status_code)

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [200, 400, 400, 400]
    rows = db.exec(select(RefreshToken).where(col(RefreshToken.client_id) == client_id)).all()
    db.expire_all()
    assert len(rows) == 2
    assert all(row.revoked_at is not None for row in rows)


# --- revocation and introspection --------------------------------------------------------------


def test_client_revokes_its_own_access_token(client: TestClient, db: Session) -> None:
    user = make_user(db)
    client_id, secret = make_oauth_client(db, user)
    other_id, other_secret = make_oauth_client(db, user)
    token = token_request(
        client, {"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    ).json()["access_token"]
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200

    foreign = client.post(
        "/oauth/revoke", data={"token": token}, headers=basic(other_id, other_secret)
    )
    assert foreign.status_code == 400
    assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200

    done = client.post("/oauth/revoke", data={"token": token}, headers=basic(client_id, secret))
    assert done.status_code == 200
    assert done.headers["cache-control"] == "no-store"
    refused = client.get("/api/v1/me", headers=bearer(token))
    assert refused.status_code == 401
    assert "revoked" in refused.headers["www-authenticate"]
    unknown = client.post(
        "/oauth/revoke", data={"token": "nonsense"}, headers=basic(client_id, secret)
    )
    assert unknown.status_code == 200
    anonymous = client.post("/oauth/revoke", data={"token": token})
    assert anonymous.status_code == 401


def test_introspection_answers_only_for_own_tokens(client: TestClient, db: Session) -> None:
    user = make_user(db)
    client_id, secret = make_oauth_client(db, user, scopes=["applications:read"])
    other_id, other_secret = make_oauth_client(db, user)
    token = token_request(
        client, {"grant_type": "client_credentials"}, headers=basic(client_id, secret)
    ).json()["access_token"]

    own = client.post("/oauth/introspect", data={"token": token}, headers=basic(client_id, secret))
    assert own.status_code == 200
    assert own.headers["cache-control"] == "no-store"
    body = own.json()
    assert body["active"] is True
    assert body["client_id"] == client_id
    assert body["scope"] == "applications:read"
    assert body["sub"] == str(user.id)
    assert body["iss"] == ISSUER
    assert body["token_type"] == "Bearer"

    foreign = client.post(
        "/oauth/introspect", data={"token": token}, headers=basic(other_id, other_secret)
    )
    assert foreign.json() == {"active": False}
    junk = client.post(
        "/oauth/introspect", data={"token": "junk"}, headers=basic(client_id, secret)
    )
    assert junk.json() == {"active": False}
    client.post("/oauth/revoke", data={"token": token}, headers=basic(client_id, secret))
    revoked = client.post(
        "/oauth/introspect", data={"token": token}, headers=basic(client_id, secret)
    )
    assert revoked.json() == {"active": False}
    assert client.post("/oauth/introspect", data={"token": token}).status_code == 401


def test_introspecting_refresh_tokens(client: TestClient, db: Session) -> None:
    user = person(db)
    client_id, secret = make_oauth_client(db, user, redirect_uris=[REDIRECT])
    assert secret is not None
    verifier, challenge = pkce_pair()
    code = get_code(client, client_id, user, challenge)
    tokens = redeem(client, client_id, code, verifier, client_secret=secret).json()
    auth = basic(client_id, secret)
    live = client.post("/oauth/introspect", data={"token": tokens["refresh_token"]}, headers=auth)
    assert live.json()["active"] is True
    assert live.json()["sub"] == str(user.id)
    refresh_data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert token_request(client, refresh_data, headers=auth).status_code == 200
    spent = client.post("/oauth/introspect", data={"token": tokens["refresh_token"]}, headers=auth)
    assert spent.json() == {"active": False}
