import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.errors import PROBLEM_JSON


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["x-request-id"]


def test_readyz_checks_database_and_storage(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"] == {"database": "ok", "storage": "ok"}


def test_readyz_reports_an_unreachable_database(app: FastAPI, client: TestClient) -> None:
    import sqlalchemy as sa

    app.state.engine = sa.create_engine("sqlite:////nonexistent-dir/x.db")
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["checks"]["database"] == "unreachable"


def test_docs_and_openapi_are_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json()
    assert spec["info"]["title"] == "Shortlist"


def test_unknown_route_is_problem_404(client: TestClient) -> None:
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == "not-found"
    assert body["status"] == 404
    assert body["title"]
    assert body["detail"]


def test_wrong_method_is_problem_405(client: TestClient) -> None:
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == "method-not-allowed"


def test_request_id_is_echoed_when_safe(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    response = client.get("/healthz", headers={"X-Request-ID": "bad id\twith junk"})
    assert response.headers["x-request-id"] != "bad id\twith junk"
    uuid.UUID(response.headers["x-request-id"])


def _boom_app(app: FastAPI) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internal detail /etc/shadow")

    @app.post("/echo")
    def echo(body: dict[str, int]) -> dict[str, int]:
        return body


def test_exception_is_problem_500_without_trace(app: FastAPI) -> None:
    _boom_app(app)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["x-request-id"]
    text = response.text
    assert "Traceback" not in text
    assert "secret internal detail" not in text
    assert "RuntimeError" not in text
    assert response.json()["type"] == "internal-error"


def test_malformed_json_is_problem_422(app: FastAPI) -> None:
    _boom_app(app)
    with TestClient(app) as client:
        response = client.post(
            "/echo", content=b'{"a": 1,', headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["type"] == "validation-error"
    assert body["errors"]
    assert {"loc", "msg"} <= set(body["errors"][0])
