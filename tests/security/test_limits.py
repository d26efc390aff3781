"""Limits and edge protections, checked over every route where they apply: rate limits (per
client on writes, per address on the token and login endpoints; in memory, or shared through
Redis), pagination on every list, security headers on every response, CORS only from the
allowlist, docs that can be switched off, and no secret or stack trace in any response or log
line. (Body caps: ``tests/api/test_edge.py`` and the upload tests.)"""

import io
import json
import re
import sys
import uuid
from typing import Any

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from infra.db import open_session
from infra.logging import configure_logging
from infra.settings import Settings
from models.identity import Role
from tests.factories import bearer, make_oauth_client, make_principal, make_token, make_user
from tests.security.conftest import BASE_URL
from tests.security.test_authorization_matrix import app_routes

API = "/api/v1"
PROBLEM = "application/problem+json"
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}
# Every GET under /api/v1 that is not a paginated list answers one bounded thing; a new route
# that returns a list without ?limit/?cursor must be paginated, or be named here with its bound.
NOT_LISTS = {
    f"{API}/me": "one user, with the organizations they belong to",
    f"{API}/organizations/{{organization_id}}": "one organization with its members",
    f"{API}/programs/{{program_id}}": "one program",
    f"{API}/rounds/{{round_id}}": "one round and its configuration",
    f"{API}/applications/{{application_id}}": "one application",
    f"{API}/documents/{{document_id}}": "one document's metadata",
    f"{API}/documents/{{document_id}}/content": "one document's bytes (streamed, capped)",
    f"{API}/assignments/{{assignment_id}}/review": "one review",
    f"{API}/rounds/{{round_id}}/shortlist/preview": "one row per application of one round",
    f"{API}/rounds/{{round_id}}/results": "one row per application of one round",
    f"{API}/rounds/{{round_id}}/results.csv": "one row per application of one round",
    f"{API}/rounds/{{round_id}}/progress": "one round's counts: a row per reviewer and application",
    f"{API}/rounds/{{round_id}}/report": "one round's decision report (one page)",
    f"{API}/rounds/{{round_id}}/results.xlsx": "one row per application and review of one round",
    f"{API}/rounds/{{round_id}}/decision-record": "one round's signed decision record",
    f"{API}/audit/verify": "a summary of the chain",
    f"{API}/webhooks/{{webhook_id}}": "one webhook endpoint",
}


def _client(app: FastAPI) -> TestClient:
    return TestClient(app, base_url=BASE_URL, follow_redirects=False)


def _app(settings: Settings, **changes: Any) -> FastAPI:
    return create_app(settings.model_copy(update=changes))


# --- rate limits --------------------------------------------------------------------------------


def test_token_and_login_endpoints_are_rate_limited_per_address(settings: Settings) -> None:
    app = _app(settings, rate_limit_token_per_minute=3)
    try:
        with _client(app) as client:
            codes = [
                client.post("/oauth/token", data={"grant_type": "client_credentials"}).status_code
                for _ in range(4)
            ]
            assert codes == [401, 401, 401, 429]
            limited = client.post("/oauth/token", data={"grant_type": "client_credentials"})
            assert limited.status_code == 429
            assert int(limited.headers["retry-after"]) >= 1
            assert limited.headers["content-type"] == PROBLEM
            assert limited.json()["type"] == "rate-limited"
            # Password guessing through the login form has a budget of its own.
            logins = [
                client.post("/oauth/authorize", data={"email": "a@example.org", "password": "x"})
                for _ in range(4)
            ]
            assert [r.status_code for r in logins][-1] == 429
            assert int(logins[-1].headers["retry-after"]) >= 1
    finally:
        app.state.engine.dispose()


def test_with_redis_two_processes_share_one_write_budget(
    settings: Settings, redis_url: str
) -> None:
    """Two app instances (as two server processes would be) count one client's writes
    together: the third write, to either, is refused."""
    url = redis_url
    first = _app(settings, redis_url=url, rate_limit_writes_per_minute=2)
    second = _app(settings, redis_url=url, rate_limit_writes_per_minute=2)
    try:
        session = open_session(first.state.engine, write=True)
        try:
            admin = make_user(session, roles=[Role.admin])
        finally:
            session.close()
        headers = bearer(make_token(first, admin, client_id=f"redis-{uuid.uuid4().hex}"))
        codes = []
        with _client(first) as one, _client(second) as two:
            for i, client in enumerate((one, two, one, two)):
                body = {"email": f"r{i}-{uuid.uuid4().hex[:6]}@example.org", "name": "R"}
                response = client.post(f"{API}/users", json=body, headers=headers)
                codes.append(response.status_code)
                if response.status_code == 429:
                    assert int(response.headers["retry-after"]) >= 1
        assert codes == [201, 201, 429, 429]
    finally:
        first.state.engine.dispose()
        second.state.engine.dispose()


# --- pagination ----------------------------------------------------------------------------------


def _gets(app: FastAPI) -> dict[str, dict[str, Any]]:
    return {
        path: item["get"]
        for path, item in app.openapi()["paths"].items()
        if path.startswith(API) and "get" in item
    }


def _paginated(operation: dict[str, Any]) -> bool:
    names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    return {"limit", "cursor"} <= names


def test_every_list_is_paginated(app: FastAPI) -> None:
    gets = _gets(app)
    unbounded = [p for p, op in gets.items() if not _paginated(op) and p not in NOT_LISTS]
    assert not unbounded, f"lists without ?limit and ?cursor: {unbounded}"
    assert not NOT_LISTS.keys() - gets.keys(), "NOT_LISTS names routes that are gone"
    schemas = app.openapi()["components"]["schemas"]
    for path, operation in gets.items():
        if not _paginated(operation):
            continue
        limit = next(p for p in operation["parameters"] if p["name"] == "limit")["schema"]
        assert (limit["minimum"], limit["maximum"], limit["default"]) == (1, 100, 50), path
        content = operation["responses"]["200"]["content"]["application/json"]["schema"]
        page = schemas[content["$ref"].rsplit("/", 1)[-1]]
        assert {"items", "next_cursor"} <= set(page["properties"]), path


def test_a_limit_outside_1_to_100_is_422_on_every_list(app: FastAPI, client: TestClient) -> None:
    _, headers = make_principal(app, roles=[Role.admin, Role.reviewer, Role.applicant])
    wrong = []
    for path, operation in _gets(app).items():
        if not _paginated(operation):
            continue
        url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        for limit, refused in (
            ("0", True),
            ("101", True),
            ("-1", True),
            ("x", True),
            ("100", False),
        ):
            response = client.get(url, params={"limit": limit}, headers=headers)
            if (response.status_code == 422) != refused or response.status_code >= 500:
                wrong.append(f"{path}?limit={limit}: {response.status_code}")
    assert not wrong, wrong


# --- security headers, CORS, docs ---------------------------------------------------------------


def _check_headers(response: Any, where: str) -> list[str]:
    wrong = [
        f"{where}: {name} is {response.headers.get(name)!r}"
        for name, value in SECURITY_HEADERS.items()
        if response.headers.get(name) != value
    ]
    if "content-security-policy" not in response.headers:
        wrong.append(f"{where}: no content-security-policy")
    path = where.split(" ")[1]
    if path.startswith(("/api/", "/oauth/token")) and response.headers.get("cache-control") != (
        "no-store"
    ):
        wrong.append(f"{where}: cache-control {response.headers.get('cache-control')!r}")
    return wrong


def test_every_response_has_the_security_headers(app: FastAPI, client: TestClient) -> None:
    """Every route (anonymous, any ids), and the answers of the edge: 404, 405, 413, 429, 500."""
    wrong: list[str] = []
    for method, path in app_routes(app):
        url = re.sub(r"\{[^}]+\}", str(uuid.uuid4()), path)
        response = client.request(method, url)
        wrong += _check_headers(response, f"{method} {path} -> {response.status_code}")
    for method, url in (("GET", f"{API}/nope"), ("DELETE", "/healthz")):
        response = client.request(method, url)
        wrong += _check_headers(response, f"{method} {url} -> {response.status_code}")
    big = client.post(f"{API}/users", content=b"x" * (app.state.settings.max_body_bytes + 1))
    assert big.status_code == 413
    wrong += _check_headers(big, f"POST {API}/users -> 413")
    assert not wrong, "\n".join(wrong)


def test_an_unexpected_error_answers_500_with_the_headers_and_no_trace(settings: Settings) -> None:
    app = create_app(settings)

    @app.get(f"{API}/explode")
    def explode() -> None:
        raise RuntimeError("connection to postgresql://app:hunter2@db failed")

    try:
        with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
            response = client.get(f"{API}/explode")
    finally:
        app.state.engine.dispose()
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert not _check_headers(response, f"GET {API}/explode -> 500")
    for leak in ("Traceback", "hunter2", "RuntimeError", 'File "'):
        assert leak not in response.text


def test_cors_answers_only_the_allowlisted_origins(settings: Settings) -> None:
    allowed, other = "https://portal.example.org", "https://evil.example.net"
    app = _app(settings, cors_origins=[allowed])
    try:
        with _client(app) as client:
            for origin, ok in ((allowed, True), (other, False)):
                preflight = client.options(
                    f"{API}/me",
                    headers={
                        "Origin": origin,
                        "Access-Control-Request-Method": "GET",
                        "Access-Control-Request-Headers": "authorization",
                    },
                )
                simple = client.get("/healthz", headers={"Origin": origin})
                granted = preflight.headers.get("access-control-allow-origin")
                assert (granted == origin) is ok, preflight.headers
                assert (preflight.status_code == 200) is ok
                assert (simple.headers.get("access-control-allow-origin") == origin) is ok
                assert "access-control-allow-credentials" not in preflight.headers
    finally:
        app.state.engine.dispose()
    # No allowlist (the default): no CORS at all.
    app = create_app(settings)
    try:
        with _client(app) as client:
            response = client.get("/healthz", headers={"Origin": allowed})
            assert "access-control-allow-origin" not in response.headers
    finally:
        app.state.engine.dispose()


def test_docs_can_be_switched_off(settings: Settings) -> None:
    app = _app(settings, docs_enabled=False)
    try:
        with _client(app) as client:
            for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
                response = client.get(path)
                assert response.status_code == 404, path
                assert response.headers["content-type"] == PROBLEM
            assert client.get("/healthz").status_code == 200
    finally:
        app.state.engine.dispose()


# --- no secret in any log line ------------------------------------------------------------------


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """Every log line the app writes, at every level, as in production (JSON). Loggers are
    cached on first use, so the modules' loggers are replaced by fresh ones for the test."""
    buffer = io.StringIO()
    monkeypatch.setattr(sys, "stderr", buffer)
    configure_logging(json_logs=True, level="DEBUG")
    for name, module in list(sys.modules.items()):
        if (
            not name.startswith(("api", "identity", "infra", "submissions", "reviewers"))
            or module is None
        ):
            continue
        for attribute, value in list(vars(module).items()):
            if type(value).__name__ == "BoundLoggerLazyProxy":
                monkeypatch.setattr(module, attribute, structlog.get_logger(name))
    return buffer


def test_no_secret_reaches_a_log_line_or_an_answer(app: FastAPI, log_lines: io.StringIO) -> None:
    password = f"pw-{uuid.uuid4().hex}"
    wrong_secret = f"guess-{uuid.uuid4().hex}"
    session = open_session(app.state.engine, write=True)
    try:
        user = make_user(session, roles=[Role.admin, Role.applicant])
        client_id, secret = make_oauth_client(session, user)
    finally:
        session.close()
    assert secret is not None

    @app.post(f"{API}/explode")
    def explode(body: dict[str, str]) -> None:
        # A message may carry a secret (a driver's error with a DSN, a value): never logged.
        raise RuntimeError(f"an unexpected failure with {password}")

    secrets = {"client secret": secret, "wrong secret": wrong_secret, "password": password}
    answers = []
    with TestClient(app, base_url=BASE_URL, raise_server_exceptions=False) as client:
        token = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
        )
        assert token.status_code == 200, token.text
        access = token.json()["access_token"]
        secrets["access token"] = access
        answers.append(token)
        answers.append(
            client.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": wrong_secret,
                },
            )
        )
        answers.append(
            client.post("/oauth/introspect", data={"token": access}, auth=(client_id, secret))
        )
        created = client.post(
            f"{API}/oauth-clients",
            json={"name": "ci", "scopes": ["applications:read"]},
            headers=bearer(access),
        )
        assert created.status_code == 201, created.text
        secrets["new client secret"] = created.json()["client_secret"]
        answers.append(
            client.post(
                "/oauth/authorize",
                data={"client_id": client_id, "email": user.email, "password": password},
            )
        )
        answers.append(client.get(f"{API}/me", headers=bearer(access)))
        answers.append(client.get(f"{API}/me", headers=bearer(access + "x")))
        failed = client.post(f"{API}/explode", json={"password": password}, headers=bearer(access))
        assert failed.status_code == 500
        answers.append(failed)
    logged = log_lines.getvalue()
    assert '"event": "request"' in logged, logged[:2000]
    assert "unhandled_exception" in logged, logged[:2000]
    leaks = [name for name, value in secrets.items() if value in logged]
    assert not leaks, f"in the logs: {leaks}"
    signature = access.rsplit(".", 1)[-1]
    assert signature not in logged
    assert "Traceback" not in logged
    for answer in answers:
        assert "Traceback" not in answer.text
        for name, value in secrets.items():
            if name != "access token" or answer is not token:
                assert value not in answer.text, (name, answer.request.url)


def test_log_lines_made_while_serving_carry_the_request_id(
    app: FastAPI, log_lines: io.StringIO
) -> None:
    @app.get(f"{API}/explode-quietly")
    def explode() -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        failed = client.get(f"{API}/explode-quietly", headers={"X-Request-ID": "trace-123"})
    assert failed.status_code == 500
    assert failed.headers["x-request-id"] == "trace-123"
    structlog.get_logger("tests").info("outside_any_request")
    lines = [json.loads(line) for line in log_lines.getvalue().splitlines()]
    (error,) = [line for line in lines if line["event"] == "unhandled_exception"]
    assert next(iter(error)) == "request_id"  # first, as structlog's merge_contextvars puts it
    assert error["request_id"] == "trace-123"
    (outside,) = [line for line in lines if line["event"] == "outside_any_request"]
    assert "request_id" not in outside
