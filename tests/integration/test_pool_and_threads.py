"""Many concurrent reads against a small connection pool, on a live server (``make stack``'s
deadline storm found it): a synchronous route's session must give its connection back in the
route's own worker thread.

FastAPI runs a synchronous route in a worker thread, then validates its answer in another
worker thread, and only then closes the request's session (the dependency's exit). A session
that kept its connection (an open read transaction) until then waited for a free worker
thread while holding it; meanwhile every worker thread could be a newer request waiting for a
connection of the pool. Neither side moved until the pool's timeout (30 s) failed the waiting
requests with 500: in the storm, 20 connections sat ``idle in transaction`` for 28 s.
"""

import inspect
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from api.app import create_app
from api.http.routing import SessionRoute
from infra.settings import Settings
from tests.api.intake import build_world
from tests.factories import NOW, Clock
from tests.integration.live import Call, race, served

READERS = 80  # more than the worker threads (40) and the pool's connections (1 + 1 overflow)


@pytest.fixture
def small_pool_app(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings.model_copy(update={"db_pool_size": 1}))
    app.state.clock = Clock(NOW)
    app.state.affinities.background = False
    yield app
    app.state.engine.dispose()


@pytest.mark.postgres
def test_concurrent_reads_through_a_small_pool_all_answer(small_pool_app: FastAPI) -> None:
    world = build_world(small_pool_app)
    path = f"/api/v1/rounds/{world.round.id}"

    def read(client: httpx.Client) -> httpx.Response:
        return client.get(path, headers=world.admin.headers)

    calls: list[Call] = [read] * READERS
    with served(small_pool_app) as url:
        responses = race(url, calls, timeout=120)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * READERS, [r.text for r in responses if r.status_code != 200][:3]


def test_every_synchronous_route_closes_its_sessions(app: FastAPI) -> None:
    """A router made without ``route_class=SessionRoute`` would bring the stall back."""
    routes = [context.original_route for context in iter_route_contexts(app.routes)]
    synchronous = [
        route
        for route in routes
        if isinstance(route, APIRoute) and not inspect.iscoroutinefunction(route.endpoint)
    ]
    assert len(synchronous) > 50
    assert [r.path for r in synchronous if not isinstance(r, SessionRoute)] == []
