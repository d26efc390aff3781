"""In production the API's map stays private: ``/docs``, ``/redoc`` and ``/openapi.json`` are off
unless ``SHORTLIST_DOCS_ENABLED=true``; in development and test they stay on. A visitor (with or
without a token) asks for them."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from infra.settings import Settings
from models.identity import Role
from tests.factories import make_principal

DOCS = ("/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json")
SECRET = "a-production-secret-of-enough-length-0123456789"


@contextmanager
def serving(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    try:
        with TestClient(app, base_url="http://localhost") as client:
            yield client
    finally:
        app.state.engine.dispose()


def from_environment(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, **variables: str
) -> Settings:
    """Settings as a server builds them: from SHORTLIST_* variables only."""
    monkeypatch.setenv("SHORTLIST_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("SHORTLIST_STORAGE_URL", settings.storage_url)
    monkeypatch.setenv("SHORTLIST_SECRET_KEY", SECRET)
    monkeypatch.delenv("SHORTLIST_DOCS_ENABLED", raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(f"SHORTLIST_{name.upper()}", value)
    return Settings()


def test_production_serves_no_docs_or_schema_to_anyone(
    monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    production = from_environment(monkeypatch, settings, environment="production")
    with serving(production) as client:
        _, admin = make_principal(client.app, roles=[Role.admin])  # type: ignore[arg-type]
        for path in DOCS:
            for headers in ({}, admin):
                response = client.get(path, headers=headers)
                assert response.status_code == 404, (path, response.text)
                assert "swagger" not in response.text.lower()
                assert "openapi" not in response.text.lower()
        # The API itself still answers.
        assert client.get("/healthz").status_code == 200
        assert client.get("/api/v1/me", headers=admin).status_code == 200


@pytest.mark.parametrize("enabled", ["true", "1"])
def test_production_serves_docs_when_enabled(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, enabled: str
) -> None:
    production = from_environment(
        monkeypatch, settings, environment="production", docs_enabled=enabled
    )
    with serving(production) as client:
        for path in DOCS:
            assert client.get(path).status_code == 200, path


@pytest.mark.parametrize("environment", ["development", "test"])
def test_docs_stay_on_outside_production(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, environment: str
) -> None:
    with serving(from_environment(monkeypatch, settings, environment=environment)) as client:
        for path in DOCS:
            assert client.get(path).status_code == 200, path
        assert client.get("/openapi.json").json()["paths"]
    off = from_environment(monkeypatch, settings, environment=environment, docs_enabled="false")
    with serving(off) as client:
        for path in DOCS:
            assert client.get(path).status_code == 404, path
