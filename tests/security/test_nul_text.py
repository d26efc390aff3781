"""Text with a NUL character is refused as invalid input, wherever it comes in: PostgreSQL text
cannot hold one, and a value that reached the database made it fail (500). Found by the API
fuzzer on PostgreSQL."""

import base64

from fastapi import FastAPI
from fastapi.testclient import TestClient

from models.identity import Role
from tests.factories import make_principal

PROBLEM = "application/problem+json"


def test_text_with_a_nul_character_is_refused_as_invalid(app: FastAPI, client: TestClient) -> None:
    _, headers = make_principal(app, roles=[Role.admin, Role.applicant, Role.reviewer])
    api: list[tuple[str, str, dict[str, str] | None]] = [
        ("POST", "/api/v1/programs", {"name": "a\x00b", "description": "x"}),
        (
            "POST",
            "/api/v1/organizations",
            {"name": "O", "registration_number": "r\x00", "country": "KR"},
        ),
        ("POST", "/api/v1/users", {"email": "nul@example.org", "name": "x\x00"}),
        ("GET", "/api/v1/audit?action=%00", None),
        ("GET", "/api/v1/audit?object_id=a%00b", None),
    ]
    for method, url, body in api:
        response = client.request(method, url, json=body, headers=headers)
        assert response.status_code == 422, (url, response.text)
        assert response.headers["content-type"] == PROBLEM
    oauth = [
        (
            "/oauth/token",
            {"grant_type": "client_credentials", "client_id": "a\x00", "client_secret": "b"},
        ),
        (
            "/oauth/token",
            {"grant_type": "refresh_token", "refresh_token": "t\x00", "client_id": "c"},
        ),
        ("/oauth/revoke", {"token": "t\x00", "client_id": "c"}),
        ("/oauth/introspect", {"token": "t\x00", "client_id": "c"}),
        ("/oauth/authorize", {"client_id": "a\x00", "email": "a@example.org", "password": "p"}),
    ]
    for url, form in oauth:
        response = client.post(url, data=form)
        assert response.status_code == 400, (url, response.text)
    query = "/oauth/authorize?client_id=%00&response_type=code&redirect_uri=http://x"
    assert client.get(query).status_code == 400
    basic = base64.b64encode(b"client\x00:secret").decode()
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert response.status_code == 401, response.text
