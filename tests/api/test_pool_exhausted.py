"""Every database connection of the process taken for the pool's whole timeout: an overloaded
server answers 503 with ``Retry-After`` (a client or balancer may retry), not 500, and the
database is not marked down (``make stack``'s storm met 500s here)."""

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from infra.settings import Settings
from tests.api.intake import build_world


def test_a_request_that_finds_no_free_connection_gets_503_with_retry_after(
    app: FastAPI, settings: Settings
) -> None:
    world = build_world(app)
    path = f"/api/v1/rounds/{world.round.id}"
    with TestClient(app) as client:
        assert client.get(path, headers=world.admin.headers).status_code == 200
        engine = sa.create_engine(
            settings.database_url, pool_size=1, max_overflow=0, pool_timeout=0.05
        )
        held = engine.connect()
        served_by = app.state.engine
        app.state.engine = engine
        try:
            busy = client.get(path, headers=world.admin.headers)
        finally:
            app.state.engine = served_by
            held.close()
            engine.dispose()
        assert busy.status_code == 503, busy.text
        assert busy.headers["retry-after"] == "1"
        assert busy.headers["content-type"].startswith("application/problem+json")
        assert busy.json()["type"] == "service-unavailable"
        # Not an outage: the next request is served at once.
        assert client.get(path, headers=world.admin.headers).status_code == 200
