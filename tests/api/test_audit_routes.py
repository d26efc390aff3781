import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from models.identity import Role
from tests.factories import make_principal


def test_audit_needs_token_scope_and_admin(app: FastAPI, client: TestClient) -> None:
    assert client.get("/api/v1/audit").status_code == 401
    _, no_scope = make_principal(app, roles=[Role.admin], scopes=["rounds:admin"])
    assert client.get("/api/v1/audit", headers=no_scope).status_code == 403
    _, applicant = make_principal(app, roles=[Role.applicant], scopes=["audit:read"])
    response = client.get("/api/v1/audit/verify", headers=applicant)
    assert response.status_code == 403
    assert response.json()["type"] == "forbidden-role"


def test_audit_lists_and_verifies_then_detects_tampering(app: FastAPI, client: TestClient) -> None:
    _, admin = make_principal(app, roles=[Role.admin])
    for i in range(3):
        created = client.post(
            "/api/v1/users", json={"email": f"u{i}@example.org", "name": "U"}, headers=admin
        )
        assert created.status_code == 201
    page = client.get("/api/v1/audit", params={"limit": 2}, headers=admin).json()
    assert [e["seq"] for e in page["items"]] == [1, 2]
    rest = client.get("/api/v1/audit", params={"cursor": page["next_cursor"]}, headers=admin).json()
    assert [e["seq"] for e in rest["items"]] == [3, 4]
    assert rest["next_cursor"] is None
    created_only = client.get(
        "/api/v1/audit", params={"action": "user.created"}, headers=admin
    ).json()["items"]
    assert len(created_only) == 4
    verified = client.get("/api/v1/audit/verify", headers=admin).json()
    assert verified == {
        "ok": True,
        "length": 4,
        "head": rest["items"][-1]["hash"],
        "first_bad_seq": None,
        "detail": None,
    }
    with app.state.engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_event SET actor = 'someone else' WHERE seq = 2"))
    broken = client.get("/api/v1/audit/verify", headers=admin).json()
    assert broken["ok"] is False
    assert broken["first_bad_seq"] == 2
