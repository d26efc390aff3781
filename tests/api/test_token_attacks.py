"""Forged, stale and misused tokens: every one is refused with the right status and challenge
(RFC 6750 at the resource server, RFC 6749 at the token endpoint)."""

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc.jwk import ECKey, RSAKey
from sqlmodel import Session

from infra.db import open_session
from infra.settings import Settings
from models.identity import Role, User
from tests.factories import (
    access_claims,
    bearer,
    make_oauth_client,
    make_token,
    make_user,
    pkce_pair,
    sign_jwt,
)

ISSUER = "http://localhost"
ME = "/api/v1/me"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"public_url": ISSUER})


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=ISSUER, follow_redirects=False) as client:
        yield client


@pytest.fixture
def user(app: FastAPI) -> Iterator[User]:
    session = open_session(app.state.engine, write=True)
    yield make_user(session, roles=[Role.admin])
    session.close()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segment(value: dict[str, Any]) -> str:
    return b64(json.dumps(value).encode())


def assert_invalid_token(client: TestClient, token: str, reason: str) -> None:
    response = client.get(ME, headers=bearer(token))
    assert response.status_code == 401, response.text
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="shortlist", error="invalid_token"'), challenge
    assert reason in challenge, challenge
    assert response.headers["content-type"] == "application/problem+json"


def test_a_valid_token_is_accepted(app: FastAPI, client: TestClient, user: User) -> None:
    token = sign_jwt(app, access_claims(app, user))
    assert client.get(ME, headers=bearer(token)).status_code == 200


def test_alg_none(app: FastAPI, client: TestClient, user: User) -> None:
    kid = app.state.keys.snapshot().signing.kid
    header = {"alg": "none", "typ": "at+jwt", "kid": kid}
    token = f"{segment(header)}.{segment(access_claims(app, user))}."
    assert_invalid_token(client, token, "algorithm is not accepted")
    for alg in ("None", "NONE", ""):
        forged = f"{segment({**header, 'alg': alg})}.{segment(access_claims(app, user))}."
        assert_invalid_token(client, forged, "algorithm is not accepted")


def test_hs256_signed_with_the_public_key(app: FastAPI, client: TestClient, user: User) -> None:
    signing = app.state.keys.snapshot().signing
    public_pem = signing.as_pem(private=False)
    public_jwk_json = json.dumps(signing.as_dict(private=False)).encode()
    for secret in (public_pem, public_jwk_json):
        header = segment({"alg": "HS256", "typ": "at+jwt", "kid": signing.kid})
        payload = segment(access_claims(app, user))
        mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
        assert_invalid_token(client, f"{header}.{payload}.{b64(mac)}", "algorithm is not accepted")


def test_tampered_payload(app: FastAPI, client: TestClient, user: User) -> None:
    token = sign_jwt(app, access_claims(app, user, scope="applications:read"))
    header, _, signature = token.split(".")
    widened = segment(access_claims(app, user, scope="rounds:admin audit:read"))
    assert_invalid_token(client, f"{header}.{widened}.{signature}", "not valid")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert_invalid_token(client, f"{header}.{token.split('.')[1]}.{flipped}", "not valid")


def test_expired(app: FastAPI, client: TestClient, user: User) -> None:
    long_ago = app.state.clock() - timedelta(hours=2)
    token = make_token(app, user, now=long_ago, ttl=600)
    assert_invalid_token(client, token, "expired")


def test_expiry_has_only_a_small_leeway(app: FastAPI, client: TestClient, user: User) -> None:
    now = int(app.state.clock().timestamp())
    within = sign_jwt(app, access_claims(app, user, iat=now - 100, nbf=now - 100, exp=now - 5))
    assert client.get(ME, headers=bearer(within)).status_code == 200
    beyond = sign_jwt(app, access_claims(app, user, iat=now - 200, nbf=now - 200, exp=now - 120))
    assert_invalid_token(client, beyond, "expired")


def test_nbf_in_the_future(app: FastAPI, client: TestClient, user: User) -> None:
    later = int(app.state.clock().timestamp()) + 3600
    token = sign_jwt(app, access_claims(app, user, nbf=later, exp=later + 600))
    assert_invalid_token(client, token, "not valid")


def test_missing_exp(app: FastAPI, client: TestClient, user: User) -> None:
    claims = access_claims(app, user)
    del claims["exp"]
    assert_invalid_token(client, sign_jwt(app, claims), "not valid")


def test_wrong_audience(app: FastAPI, client: TestClient, user: User) -> None:
    for aud in ("urn:another:api", ["urn:another:api"], ""):
        assert_invalid_token(client, sign_jwt(app, access_claims(app, user, aud=aud)), "aud")
    claims = access_claims(app, user)
    del claims["aud"]
    assert_invalid_token(client, sign_jwt(app, claims), "aud")


def test_wrong_issuer(app: FastAPI, client: TestClient, user: User) -> None:
    for iss in ("https://evil.example", ISSUER + "/", "http://testserver"):
        token = sign_jwt(app, access_claims(app, user, iss=iss))
        assert_invalid_token(client, token, "issuer is not trusted")


def test_id_token_is_not_an_access_token(app: FastAPI, client: TestClient, user: User) -> None:
    for typ in ("JWT", "jwt", None):
        header = {"typ": typ} if typ else {"typ": ""}
        token = sign_jwt(app, access_claims(app, user, nonce="n", azp="x"), header=header)
        assert_invalid_token(client, token, "typ must be at+jwt")


def test_jku_and_jwk_headers_pointing_at_an_attackers_key(
    app: FastAPI, client: TestClient, user: User
) -> None:
    attacker = RSAKey.generate_key(2048, parameters={"kid": "attacker"})
    claims = access_claims(app, user)
    jku = sign_jwt(app, claims, header={"jku": "https://evil.example/jwks.json"}, key=attacker)
    assert_invalid_token(client, jku, "key reference header")
    small = ECKey.generate_key("P-256").as_dict(private=False)
    embedded = sign_jwt(app, claims, header={"jwk": small}, key=attacker)
    assert_invalid_token(client, embedded, "key reference header")
    # Even with our own kid and key, a key-reference header is refused outright.
    x5u = sign_jwt(app, claims, header={"x5u": "https://evil.example/cert.pem"})
    assert_invalid_token(client, x5u, "key reference header")


def test_unknown_kid(app: FastAPI, client: TestClient, user: User) -> None:
    stranger = RSAKey.generate_key(2048, parameters={"kid": "unknown-kid"})
    token = sign_jwt(app, access_claims(app, user), key=stranger)
    assert_invalid_token(client, token, "signing key is unknown")
    # Our kid, a stranger's signature.
    signing_kid = app.state.keys.snapshot().signing.kid
    forged = sign_jwt(app, access_claims(app, user), header={"kid": signing_kid}, key=stranger)
    assert_invalid_token(client, forged, "not valid")


def test_garbage_and_wrong_scheme(client: TestClient) -> None:
    assert_invalid_token(client, "a.b.c", "not a well-formed JWT")
    assert_invalid_token(client, "x" * 50, "not a well-formed JWT")
    basic = client.get(ME, headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert basic.status_code == 401
    assert 'error="invalid_request"' in basic.headers["www-authenticate"]


def test_valid_token_lacking_the_scope(app: FastAPI, client: TestClient, user: User) -> None:
    token = make_token(app, user, scopes=["applications:read"])
    response = client.post(
        "/api/v1/users", json={"email": "x@example.org", "name": "X"}, headers=bearer(token)
    )
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer realm="shortlist", error="insufficient_scope", scope="rounds:admin"'
    )


def test_revoked_access_token(app: FastAPI, client: TestClient, user: User) -> None:
    session = open_session(app.state.engine, write=True)
    try:
        client_id, secret = make_oauth_client(session, user)
    finally:
        session.close()
    assert secret is not None
    auth = {"client_id": client_id, "client_secret": secret}
    token = client.post("/oauth/token", data={"grant_type": "client_credentials", **auth}).json()[
        "access_token"
    ]
    assert client.get(ME, headers=bearer(token)).status_code == 200
    assert client.post("/oauth/revoke", data={"token": token, **auth}).status_code == 200
    assert_invalid_token(client, token, "revoked")


def _refresh_pair(app: FastAPI, client: TestClient, session: Session) -> tuple[str, str]:
    """A public client and a refresh token for it, through the real code + PKCE flow."""
    from identity.accounts import set_password
    from tests.api.test_oauth import REDIRECT, hidden_fields
    from tests.factories import NOW

    person = make_user(session, roles=[Role.reviewer])
    set_password(session=session, email=person.email, password="a long enough password", now=NOW)
    session.commit()
    client_id, _ = make_oauth_client(session, person, public=True, redirect_uris=[REDIRECT])
    verifier, challenge = pkce_pair()
    page = client.get(
        "/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": REDIRECT,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    form = {**hidden_fields(page.text), "email": person.email, "password": "a long enough password"}
    location = client.post("/oauth/authorize", data=form).headers["location"]
    code = location.split("code=")[1].split("&")[0]
    tokens = client.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": client_id,
        },
    ).json()
    return client_id, tokens["refresh_token"]


def _assert_invalid_grant(response: Any) -> None:
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"


def test_reused_refresh_token(app: FastAPI, client: TestClient) -> None:
    session = open_session(app.state.engine, write=False)
    try:
        client_id, refresh_token = _refresh_pair(app, client, session)
    finally:
        session.close()
    data = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh_token}
    rotated = client.post("/oauth/token", data=data)
    assert rotated.status_code == 200
    _assert_invalid_grant(client.post("/oauth/token", data=data))
    newest = {**data, "refresh_token": rotated.json()["refresh_token"]}
    _assert_invalid_grant(client.post("/oauth/token", data=newest))


def test_revoked_refresh_token(app: FastAPI, client: TestClient) -> None:
    session = open_session(app.state.engine, write=False)
    try:
        client_id, refresh_token = _refresh_pair(app, client, session)
    finally:
        session.close()
    revoke = client.post("/oauth/revoke", data={"token": refresh_token, "client_id": client_id})
    assert revoke.status_code == 200
    data = {"grant_type": "refresh_token", "client_id": client_id, "refresh_token": refresh_token}
    _assert_invalid_grant(client.post("/oauth/token", data=data))
