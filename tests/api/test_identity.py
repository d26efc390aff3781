from fastapi import FastAPI
from fastapi.testclient import TestClient

from models.identity import Role
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
    user, headers = make_principal(app, roles=[Role.applicant])
    response = client.post(
        "/api/v1/oauth-clients",
        json={"name": "bid tool", "scopes": ["applications:read", "applications:write"]},
        headers=headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["client_id"].startswith("sl_")
    assert len(body["client_secret"]) >= 40
    assert body["user_id"] == str(user.id)
    assert body["scopes"] == ["applications:read", "applications:write"]


def test_oauth_client_cannot_escalate_scope(app: FastAPI, client: TestClient) -> None:
    _, headers = make_principal(app, roles=[Role.applicant], scopes=["applications:read"])
    response = client.post(
        "/api/v1/oauth-clients",
        json={"name": "x", "scopes": ["rounds:admin"]},
        headers=headers,
    )
    assert response.status_code == 403


def test_oauth_client_for_another_user_needs_admin(app: FastAPI, client: TestClient) -> None:
    other, _ = make_principal(app)
    _, headers = make_principal(app, roles=[Role.applicant])
    body = {"name": "x", "scopes": ["applications:read"], "user_id": str(other.id)}
    assert client.post("/api/v1/oauth-clients", json=body, headers=headers).status_code == 403
    _, admin = make_principal(app, roles=[Role.admin])
    response = client.post("/api/v1/oauth-clients", json=body, headers=admin)
    assert response.status_code == 201
    assert response.json()["user_id"] == str(other.id)


def test_token_of_deleted_user_is_refused(app: FastAPI, client: TestClient) -> None:
    import uuid

    token = make_token(app, uuid.uuid4())
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 401
