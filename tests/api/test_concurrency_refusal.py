"""A write the database refuses because of a concurrent transaction (a deadlock, a
serialization failure, a lock not granted within ``lock_timeout``; SQLite's write lock still
held after its busy timeout) is rolled back whole: the caller gets 503 with ``Retry-After`` (a
retry may pass), not 500, and nothing of the request is made. Any other operational error is
left as it was (an outage stays the edge's 503; tests/api/test_outage.py)."""

import sqlite3

import psycopg
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.errors import is_concurrency_refusal
from infra.settings import Settings
from tests.api.intake import build_world


def wrapped(original: BaseException) -> sa.exc.OperationalError:
    return sa.exc.OperationalError("UPDATE ...", {}, original)


@pytest.mark.parametrize(
    ("original", "refusal"),
    [
        (psycopg.errors.DeadlockDetected("deadlock detected"), True),
        (psycopg.errors.SerializationFailure("could not serialize access"), True),
        (psycopg.errors.LockNotAvailable("canceling statement due to lock timeout"), True),
        (sqlite3.OperationalError("database is locked"), True),
        (psycopg.OperationalError("connection refused"), False),  # an outage: the edge's
        (psycopg.errors.AdminShutdown("terminating connection"), False),
        (sqlite3.OperationalError("no such table: application"), False),
    ],
)
def test_which_errors_are_concurrency_refusals(original: BaseException, refusal: bool) -> None:
    assert is_concurrency_refusal(wrapped(original)) is refusal


@pytest.mark.postgres
def test_a_write_refused_for_a_concurrent_lock_is_503_and_changes_nothing(
    app: FastAPI, settings: Settings
) -> None:
    world = build_world(app)
    path = f"/api/v1/applications/{world.application.id}"
    # The API's connections give up waiting for a row lock after 100 ms.
    impatient = sa.create_engine(
        settings.database_url, connect_args={"options": "-c lock_timeout=100"}
    )
    with TestClient(app) as client:
        first = client.get(path, headers=world.applicant.headers)
        assert first.status_code == 200
        etag, title = first.headers["etag"], first.json()["title"]
        holder = sa.create_engine(settings.database_url)
        served_by = app.state.engine
        try:
            with holder.connect() as connection:
                # Another transaction holds the application's row lock.
                connection.execute(
                    sa.text("SELECT id FROM application WHERE id = :id FOR UPDATE"),
                    {"id": world.application.id},
                )
                app.state.engine = impatient
                refused = client.patch(
                    path,
                    json={"title": "Changed while locked"},
                    headers={**world.applicant.headers, "If-Match": etag},
                )
                connection.rollback()
        finally:
            app.state.engine = served_by
            impatient.dispose()
            holder.dispose()
        assert refused.status_code == 503, refused.text
        assert refused.headers["retry-after"] == "1"
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"] == "service-unavailable"
        # Nothing was made: same title, same entity tag; the same request then passes.
        again = client.get(path, headers=world.applicant.headers)
        assert again.json()["title"] == title
        assert again.headers["etag"] == etag
        retried = client.patch(
            path,
            json={"title": "Changed while locked"},
            headers={**world.applicant.headers, "If-Match": etag},
        )
        assert retried.status_code == 200, retried.text
        assert retried.json()["title"] == "Changed while locked"
