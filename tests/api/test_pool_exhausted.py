"""Every database connection of the process taken for the pool's whole timeout: an overloaded
server answers 503 with ``Retry-After`` (a client or balancer may retry), not 500, and the
database is not marked down (``make stack``'s storm met 500s here)."""

import time

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from infra.db import LoopReader
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


@pytest.mark.postgres
def test_a_read_that_finds_every_reader_connection_busy_gets_503_and_no_outage(
    app: FastAPI, settings: Settings
) -> None:
    """The reader's asynchronous pool (PostgreSQL) answers the same: its timeout with every
    connection lent is a busy 503 for that request, not an outage (which answered everyone 503
    until the probe came back). A timeout with no connection to be had still is one."""
    world = build_world(app)
    path = "/api/v1/me"
    (database,) = app.state.outages
    with TestClient(app) as client:
        assert client.get(path, headers=world.admin.headers).status_code == 200
        portal = client.portal
        assert portal is not None
        served_by = app.state.reader
        reader = LoopReader(settings.database_url, async_pool_size=1, pool_timeout=0.05)
        portal.call(reader.open)
        pool = reader._pool
        held = portal.call(pool.getconn, 10)  # its one connection, busy
        app.state.reader = reader
        try:
            busy = client.get(path, headers=world.admin.headers)
            assert not database.down
        finally:
            app.state.reader = served_by
            portal.call(pool.putconn, held)
            portal.call(reader.close)
            reader.dispose()
        assert busy.status_code == 503, busy.text
        assert busy.headers["retry-after"] == "1"
        assert busy.headers["content-type"].startswith("application/problem+json")
        assert busy.json()["type"] == "service-unavailable"
        assert client.get(path, headers=world.admin.headers).status_code == 200
        # A reader that cannot connect at all times out too: that is an outage.
        unreachable = sa.make_url(settings.database_url).set(host="127.0.0.1", port=1)
        reader = LoopReader(
            unreachable.render_as_string(hide_password=False),
            async_pool_size=1,
            pool_timeout=0.05,
        )
        portal.call(reader.open)
        app.state.reader = reader
        try:
            down = client.get(path, headers=world.admin.headers)
            assert database.down
        finally:
            app.state.reader = served_by
            portal.call(reader.close)
            reader.dispose()
        assert down.status_code == 503, down.text
        for _ in range(200):  # its probe finds the database back (and renews the reader's pool)
            if not database.down:
                break
            time.sleep(0.05)
        assert client.get(path, headers=world.admin.headers).status_code == 200
