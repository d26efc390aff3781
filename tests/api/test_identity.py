import io
import json

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from identity.accounts import verify_password
from infra.settings import Settings
from models.audit import AuditEvent
from models.identity import OAuthClient, Role, User
from tests.factories import bearer, make_principal, make_token

PROBLEM = "application/problem+json"


def test_me_requires_a_token(client: TestClient) -> None:
    response = client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="shortlist"'
    assert response.headers["content-type"] == PROBLEM


def test_me_rejects_garbage_token(client: TestClient) -> None:
    response = client.get("/api/v1/me", headers=bearer("not-a-jwt"))
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_me_returns_the_caller(app: FastAPI, client: TestClient) -> None:
    user, headers = make_principal(app, roles=[Role.reviewer], scopes=[])
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": str(user.id),
        "email": user.email,
        "name": user.name,
        "roles": ["reviewer"],
        "organizations": [],
    }


def test_create_user_anonymous_401(client: TestClient) -> None:
    response = client.post("/api/v1/users", json={"email": "a@b.org", "name": "A"})
    assert response.status_code == 401


def test_create_user_needs_scope(app: FastAPI, client: TestClient) -> None:
    _, headers = make_principal(app, roles=[Role.admin], scopes=["applications:read"])
    response = client.post("/api/v1/users", json={"email": "a@b.org", "name": "A"}, headers=headers)
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer realm="shortlist", error="insufficient_scope", scope="rounds:admin"'
    )


def test_create_user_needs_admin_role(app: FastAPI, client: TestClient) -> None:
    _, headers = make_principal(app, roles=[Role.applicant])
    response = client.post("/api/v1/users", json={"email": "a@b.org", "name": "A"}, headers=headers)
    assert response.status_code == 403
    assert response.json()["type"] == "forbidden-role"


def test_admin_creates_user(app: FastAPI, client: TestClient) -> None:
    _, headers = make_principal(app, roles=[Role.admin])
    body = {"email": "Rev@Example.org", "name": "Rev", "roles": ["reviewer"]}
    response = client.post("/api/v1/users", json=body, headers=headers)
    assert response.status_code == 201
    created = response.json()
    assert created["email"] == "rev@example.org"
    assert created["roles"] == ["reviewer"]
    again = client.post("/api/v1/users", json=body, headers=headers)
    assert again.status_code == 409
    assert again.json()["type"] == "user-exists"


def test_create_user_refuses_unknown_fields(app: FastAPI, client: TestClient) -> None:
    _, headers = make_principal(app, roles=[Role.admin])
    response = client.post(
        "/api/v1/users",
        json={"email": "x@example.org", "name": "X", "is_active": False},
        headers=headers,
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "is_active"]


def test_oauth_client_shown_once_and_scoped(app: FastAPI, client: TestClient) -> None:
    # A person creates clients with a token from a fresh sign-in (see tests/security).
    user, headers = make_principal(app, roles=[Role.applicant], signed_in=True)
    response = client.post(
        "/api/v1/oauth-clients",
        json={"name": "bid tool", "scopes": ["applications:read", "applications:write"]},
        headers=headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["client_id"].startswith("sl_")
    assert len(body["client_secret"]) >= 40
    # A fixed prefix (secret scanners know it; a command line never takes it for an option).
    assert body["client_secret"].startswith("slsec_")
    assert body["user_id"] == str(user.id)
    assert body["scopes"] == ["applications:read", "applications:write"]


def test_oauth_client_cannot_escalate_scope(app: FastAPI, client: TestClient) -> None:
    _, headers = make_principal(
        app, roles=[Role.applicant], scopes=["applications:read"], signed_in=True
    )
    response = client.post(
        "/api/v1/oauth-clients",
        json={"name": "x", "scopes": ["rounds:admin"]},
        headers=headers,
    )
    assert response.status_code == 403
    assert response.json()["type"] == "scope-escalation"


def test_oauth_client_for_another_user_needs_admin(app: FastAPI, client: TestClient) -> None:
    other, _ = make_principal(app)
    _, headers = make_principal(app, roles=[Role.applicant], signed_in=True)
    body = {"name": "x", "scopes": ["applications:read"], "user_id": str(other.id)}
    refused = client.post("/api/v1/oauth-clients", json=body, headers=headers)
    assert refused.status_code == 403
    assert refused.json()["type"] == "forbidden-role"
    _, admin = make_principal(app, roles=[Role.admin])
    response = client.post("/api/v1/oauth-clients", json=body, headers=admin)
    assert response.status_code == 201
    assert response.json()["user_id"] == str(other.id)


def test_token_of_deleted_user_is_refused(app: FastAPI, client: TestClient) -> None:
    import uuid

    token = make_token(app, uuid.uuid4())
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401


# --- every identity route: anonymous 401; scope-free routes work with any valid token ----------


def test_oauth_clients_anonymous_401(client: TestClient) -> None:
    response = client.post("/api/v1/oauth-clients", json={"name": "x", "scopes": ["audit:read"]})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="shortlist"'


def test_scope_free_routes_take_any_valid_token(app: FastAPI, client: TestClient) -> None:
    _, headers = make_principal(
        app, roles=[Role.applicant], scopes=["reviews:read"], signed_in=True
    )
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    body = {"name": "reader", "scopes": ["reviews:read"]}
    assert client.post("/api/v1/oauth-clients", json=body, headers=headers).status_code == 201


def test_oauth_client_redirect_uris_are_checked(app: FastAPI, client: TestClient) -> None:
    _, headers = make_principal(app, roles=[Role.applicant], signed_in=True)
    for uri in (
        "http://app.example/callback",
        "https://app.example/callback#fragment",
        "/relative",
        "https://*.example/callback",
        "javascript:alert(1)",
    ):
        body = {"name": "x", "scopes": ["applications:read"], "redirect_uris": [uri]}
        response = client.post("/api/v1/oauth-clients", json=body, headers=headers)
        assert response.status_code == 422, uri
    ok = {
        "name": "web app",
        "scopes": ["applications:read"],
        "redirect_uris": ["https://app.example/callback", "http://127.0.0.1:8765/cb"],
    }
    response = client.post("/api/v1/oauth-clients", json=ok, headers=headers)
    assert response.status_code == 201
    assert response.json()["redirect_uris"] == ok["redirect_uris"]


# --- passwords and the Swagger UI client (CLI) -------------------------------------------------


def test_set_password_cli(
    app: FastAPI,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cli import main as cli

    user, _ = make_principal(app, roles=[Role.reviewer])
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr("sys.stdin", io.StringIO("a sufficiently long password\n"))
    assert cli.main(["set-password", user.email]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "user_id": str(user.id),
        "email": user.email,
        "password_set": True,
    }
    with Session(app.state.engine) as session:
        stored = session.get(User, user.id)
        assert stored is not None
        assert verify_password(stored.password_hash, "a sufficiently long password")
        assert "a sufficiently long password" not in str(stored.password_hash)
        user_id = stored.id
        audited = session.exec(
            select(AuditEvent).where(AuditEvent.action == "user.password_set")
        ).all()
    assert [e.object_id for e in audited] == [str(user_id)]
    assert "password" not in json.dumps([e.data for e in audited])

    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert cli.main(["set-password", user.email]) == 1
    monkeypatch.setattr("sys.stdin", io.StringIO("a sufficiently long password\n"))
    assert cli.main(["set-password", "nobody@example.org"]) == 1


def test_bootstrap_registers_the_swagger_ui_client(
    app: FastAPI, settings: Settings, monkeypatch: pytest.MonkeyPatch, client: TestClient
) -> None:
    from cli import main as cli

    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    assert cli.main(["bootstrap", "--email", "admin@example.org"]) == 0
    assert cli.main(["bootstrap"]) == 0  # idempotent
    with Session(app.state.engine) as session:
        swagger = session.exec(
            select(OAuthClient).where(OAuthClient.client_id == settings.swagger_client_id)
        ).one()
    assert swagger.secret_hash is None
    assert swagger.redirect_uris == [f"{settings.issuer}/docs/oauth2-redirect"]
    assert swagger.grant_types == ["authorization_code", "refresh_token"]

    docs = client.get("/docs")
    assert docs.status_code == 200
    assert settings.swagger_client_id in docs.text
    assert '"usePkceWithAuthorizationCodeGrant": true' in docs.text
    assert client.get("/docs/oauth2-redirect").status_code == 200
    security = client.get("/openapi.json").json()["components"]["securitySchemes"]["shortlist"]
    assert security["flows"]["authorizationCode"]["authorizationUrl"] == "/oauth/authorize"
