"""The OAuth endpoints against hostile forms: every answer is an OAuth error (RFC 6749 section
5.2, RFC 7009, RFC 7662) or the login page's error page, never a 500.

authlib refuses to build an error whose description holds a character outside RFC 6749's set
(``%x20-21 / %x23-5B / %x5D-7E``) with a ``ValueError``, and several of its descriptions quote
what the client sent; an attacker sends exactly such characters, in every field, in parameter
names, and in HTTP Basic credentials.
"""

import base64
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from infra.db import open_session
from models.identity import Role
from tests.factories import make_oauth_client, make_token, make_user, pkce_pair

REDIRECT = "http://localhost:9999/callback"
FORM = b"application/x-www-form-urlencoded"
NASTY = ["é", "\x01", "\x7f", '"', "\\", "\u2028", "\n", "\t", "💥", "<b>", "%00", "a b"]
OAUTH_ERRORS = {
    "invalid_request",
    "invalid_client",
    "invalid_grant",
    "unauthorized_client",
    "unsupported_grant_type",
    "invalid_scope",
    "unsupported_token_type",
    "unsupported_response_type",
    "access_denied",
}
DESCRIPTION = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
"""RFC 6749 section 5.2: what an ``error_description`` may hold."""


@pytest.fixture
def world(app: FastAPI) -> dict[str, str]:
    # Hundreds of requests from one address: the per-address limit would answer 429 first.
    app.state.settings = app.state.settings.model_copy(update={"rate_limit_token_per_minute": 0})
    session = open_session(app.state.engine, write=True)
    try:
        user = make_user(session, roles=[Role.applicant])
        confidential, secret = make_oauth_client(session, user, redirect_uris=[REDIRECT])
        public, _ = make_oauth_client(session, user, public=True, redirect_uris=[REDIRECT])
    finally:
        session.close()
    assert secret is not None
    _, challenge = pkce_pair()
    return {
        "confidential": confidential,
        "secret": secret,
        "public": public,
        "challenge": challenge,
        "access_token": make_token(app, user, client_id=confidential),
    }


def token_forms(w: dict[str, str]) -> Iterator[dict[str, str]]:
    auth = {"client_id": w["confidential"], "client_secret": w["secret"]}
    yield {"grant_type": "client_credentials", "scope": "applications:read", **auth}
    yield {
        "grant_type": "authorization_code",
        "code": "some-code",
        "redirect_uri": REDIRECT,
        "code_verifier": "v" * 43,
        "client_id": w["public"],
    }
    yield {"grant_type": "refresh_token", "refresh_token": "some-token", **auth}


def endpoint_forms(w: dict[str, str]) -> Iterator[dict[str, str]]:
    auth = {"client_id": w["confidential"], "client_secret": w["secret"]}
    yield {"token": w["access_token"], "token_type_hint": "access_token", **auth}
    yield {"token": "some-refresh-token", "token_type_hint": "refresh_token", **auth}


def authorize_params(w: dict[str, str]) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": w["public"],
        "redirect_uri": REDIRECT,
        "scope": "applications:read",
        "state": "s-1",
        "code_challenge": w["challenge"],
        "code_challenge_method": "S256",
    }


def variants(form: dict[str, str]) -> Iterator[dict[str, str]]:
    """The form with each field replaced by, or ending in, each nasty value."""
    for field in form:
        for value in NASTY:
            yield {**form, field: value}
            yield {**form, field: form[field] + value}


def assert_oauth_json(response: Any, what: str) -> None:
    assert response.status_code < 500, (what, response.text)
    assert response.headers["content-type"].startswith("application/json"), (what, response.text)
    body = response.json()
    if response.status_code >= 400:
        assert body["error"] in OAUTH_ERRORS, (what, body)
        assert DESCRIPTION.fullmatch(body.get("error_description", "")), (what, body)
        assert set(body) <= {"error", "error_description", "error_uri", "state"}, (what, body)


def assert_authorize_answer(response: Any, what: str) -> None:
    """The login page (200), the error page (400, when the client cannot be told), or a
    redirect to the registered URI with an OAuth error."""
    assert response.status_code in (200, 302, 400), (what, response.status_code, response.text)
    if response.status_code == 302:
        location = urlsplit(response.headers["location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT, what
        query = {k: v[0] for k, v in parse_qs(location.query).items()}
        assert query["error"] in OAUTH_ERRORS, (what, query)
        assert DESCRIPTION.fullmatch(query.get("error_description", "")), (what, query)
    else:
        assert response.headers["content-type"].startswith("text/html"), what


def test_token_endpoint_answers_oauth_errors_to_any_characters(
    client: TestClient, world: dict[str, str]
) -> None:
    for form in token_forms(world):
        for variant in variants(form):
            response = client.post("/oauth/token", data=variant)
            assert_oauth_json(response, f"token {variant!r}")


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect"])
def test_revocation_and_introspection_answer_oauth_errors_to_any_characters(
    client: TestClient, world: dict[str, str], path: str
) -> None:
    for form in endpoint_forms(world):
        for variant in variants(form):
            response = client.post(path, data=variant)
            assert_oauth_json(response, f"{path} {variant!r}")


def test_authorization_endpoint_answers_to_any_characters(
    client: TestClient, world: dict[str, str]
) -> None:
    for variant in variants(authorize_params(world)):
        assert_authorize_answer(client.get("/oauth/authorize", params=variant), f"GET {variant!r}")
        form = {**variant, "csrf_token": "x", "email": "a@example.org", "password": "pw"}
        assert_authorize_answer(client.post("/oauth/authorize", data=form), f"POST {variant!r}")
    login = {"csrf_token": "x", "email": "a@example.org", "password": "pw", "action": "allow"}
    for variant in variants(login):
        form = {**authorize_params(world), **variant}
        assert_authorize_answer(client.post("/oauth/authorize", data=form), f"POST {variant!r}")


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_repeated_parameters_with_any_name_are_invalid_requests(
    client: TestClient, world: dict[str, str], path: str
) -> None:
    for name in ["é", '"', "\\", "\x01", "%FF", "grant_type"]:
        body = f"{name}=1&{name}=2".encode()
        response = client.post(
            path, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert_oauth_json(response, f"{path} {body!r}")
        assert response.status_code in (400, 401), response.text


@pytest.mark.parametrize("path", ["/oauth/token", "/oauth/revoke", "/oauth/introspect"])
def test_malformed_basic_credentials_are_invalid_client(
    client: TestClient, world: dict[str, str], path: str
) -> None:
    for raw in (
        b"\xff\xfe:secret",
        b"\xc3\x28:secret",
        "é\x01:secret".encode(),
        f'{world["confidential"]}":{world["secret"]}'.encode(),
    ):
        header = b"Basic " + base64.b64encode(raw)
        response = client.post(
            path,
            content=f"grant_type=client_credentials&token={world['access_token']}".encode(),
            headers={b"content-type": FORM, b"authorization": header},
        )
        assert_oauth_json(response, f"{path} {raw!r}")
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"
        assert response.headers["www-authenticate"].startswith("Basic")
    for header in (b"Basic \xc3\xa9\xc3\xa9", b"Basic !!", b"Basic " + base64.b64encode(b"x")):
        response = client.post(
            path,
            content=b"grant_type=client_credentials&token=x",
            headers={b"content-type": FORM, b"authorization": header},
        )
        assert_oauth_json(response, f"{path} {header!r}")
        assert response.status_code == 401, response.text


@pytest.mark.parametrize("path", ["/oauth/revoke", "/oauth/introspect"])
def test_unsupported_token_type_is_400(
    client: TestClient, world: dict[str, str], path: str
) -> None:
    for hint in ("id_token", "bearer", "é", "ACCESS_TOKEN"):
        response = client.post(
            path,
            data={"token": world["access_token"], "token_type_hint": hint},
            auth=(world["confidential"], world["secret"]),
        )
        assert_oauth_json(response, f"{path} {hint!r}")
        assert response.status_code == 400, response.text
        if hint != "é":  # characters outside the parameter syntax are an invalid request
            assert response.json()["error"] == "unsupported_token_type", response.text
    # The token was not revoked by any of those.
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {world['access_token']}"})
    assert me.status_code == 200, me.text


def test_an_unknown_response_type_or_redirect_with_quotes_is_an_oauth_error(
    client: TestClient, world: dict[str, str]
) -> None:
    params = authorize_params(world)
    # A registered redirect URI: the client is told (RFC 6749 section 4.1.2.1), by redirect.
    unsupported = client.get("/oauth/authorize", params={**params, "response_type": 'to"ken'})
    assert_authorize_answer(unsupported, "response_type")
    assert unsupported.status_code == 302, unsupported.text
    assert "error=unsupported_response_type" in unsupported.headers["location"]
    assert "state=s-1" in unsupported.headers["location"]
    # An unregistered one: never redirected to; the error page says why.
    unknown = client.get("/oauth/authorize", params={**params, "redirect_uri": REDIRECT + '"x'})
    assert_authorize_answer(unknown, "redirect_uri")
    assert unknown.status_code == 400
    assert "invalid_request" in unknown.text
