"""The prepared hot reads give exactly what SQLAlchemy's own execution gives (same values, same
types, on SQLite and on PostgreSQL), and the reader survives a dead connection."""

import asyncio

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlmodel import Session

from identity.accounts import _ME as _ME_SELECT
from infra.db import Reader
from infra.prepared import prepared
from models.identity import Role
from submissions.application_views import ONE_APPLICATION as _ONE_APPLICATION_SELECT
from tests.factories import make_application, make_organization, make_round, make_user

# The hot reads are declared as plain selects; the reader runs each as its ``prepared(...)``.
ONE_APPLICATION = prepared(_ONE_APPLICATION_SELECT)
_ME = prepared(_ME_SELECT)


def test_prepared_rows_equal_sqlalchemy_rows(session: Session) -> None:
    owner = make_user(session, roles=[Role.applicant])
    partners = [make_organization(session, owner, name=f"Partner {i}") for i in range(3)]
    application = make_application(session, make_round(session), owner, members=partners)
    connection = session.connection()
    params = {"application_id": application.id, "user_id": owner.id}
    expected = connection.execute(ONE_APPLICATION.statement, params).all()
    got = ONE_APPLICATION.all(connection, **params)
    assert len(got) == len(expected) == 4
    for mine, theirs in zip(got, expected, strict=True):
        assert mine._asdict() == theirs._asdict()
        assert [type(v) for v in mine] == [type(v) for v in theirs]
    me = _ME.all(connection, user_id=owner.id)
    assert [r._asdict() for r in me] == [
        r._asdict() for r in connection.execute(_ME.statement, {"user_id": owner.id}).all()
    ]
    assert ONE_APPLICATION.all(connection, application_id=owner.id, user_id=owner.id) == []


def test_reader_runs_a_failing_statement_as_an_error_not_a_dead_connection(
    app: FastAPI, session: Session
) -> None:
    owner = make_user(session, roles=[Role.applicant])
    session.commit()
    reader: Reader = app.state.reader
    missing = sa.select(sa.table("no_such_table", sa.column("x")))
    with pytest.raises(sa.exc.DBAPIError) as failed:
        asyncio.run(reader.fetch(missing))
    assert not failed.value.connection_invalidated
    assert asyncio.run(reader.fetch(_ME_SELECT, user_id=owner.id))[0].email == owner.email


def test_a_read_on_the_loop_never_waits_for_the_apps_pool(app: FastAPI, session: Session) -> None:
    """On SQLite the hot reads run on the event loop: with every connection of the app's
    engine taken (a burst of requests in worker threads), they still answer at once, from
    connections of their own, instead of stopping the loop until one is given back."""
    reader: Reader = app.state.reader
    if not reader.on_loop:
        pytest.skip("only SQLite reads on the loop; elsewhere the read waits in a worker thread")
    owner = make_user(session, roles=[Role.applicant])
    session.commit()
    engine = app.state.engine
    taken = [engine.connect() for _ in range(2 * app.state.settings.db_pool_size)]
    try:
        rows = asyncio.run(reader.fetch(_ME_SELECT, user_id=owner.id))
        assert rows[0].email == owner.email
    finally:
        for connection in taken:
            connection.close()


def test_sqlite_conversions_are_interned_and_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """A text seen before gives the very value converted the first time (UUIDs and timestamps
    are immutable); what does not convert is never remembered; the table stays bounded."""
    import uuid

    from sqlalchemy.dialects import sqlite

    from infra import prepared
    from models.base import UTCDateTime

    dialect = sqlite.dialect()
    as_uuid = prepared._result_processor(sa.Column("u", sa.Uuid()), dialect)
    as_utc = prepared._result_processor(sa.Column("t", UTCDateTime()), dialect)
    assert as_uuid is not None
    assert as_utc is not None
    text = uuid.uuid4().hex
    first = as_uuid(text)
    assert as_uuid(text) is first
    assert first == uuid.UUID(text)
    stamp = "2026-11-29 10:11:41.701416"
    assert as_utc(stamp) is as_utc(stamp)
    for _ in range(2):
        with pytest.raises(ValueError):
            as_uuid("g" * 32)
    assert "g" * 32 not in prepared._UUIDS.values

    monkeypatch.setattr(prepared, "INTERNED_MAX", 8)
    texts = [uuid.uuid4().hex for _ in range(50)]
    assert [as_uuid(t) for t in texts] == [uuid.UUID(t) for t in texts]
    assert len(prepared._UUIDS.values) <= 8
    assert [as_uuid(t) for t in texts] == [uuid.UUID(t) for t in texts]


def test_sqlite_fast_conversions_agree_with_sqlalchemys() -> None:
    from sqlalchemy.dialects import sqlite

    from infra.prepared import _result_processor
    from models.base import UTCDateTime

    dialect = sqlite.dialect()
    as_uuid = _result_processor(sa.Column("u", sa.Uuid()), dialect)
    as_utc = _result_processor(sa.Column("t", UTCDateTime()), dialect)
    slow_uuid = sa.Uuid()._cached_result_processor(dialect, None)
    slow_utc = UTCDateTime()._cached_result_processor(dialect, None)
    assert as_uuid is not None
    assert as_utc is not None
    assert slow_uuid is not None
    assert slow_utc is not None
    for text in ["0" * 32, "f" * 32, "2F1C7A9E00004000800000000000abcd", "0x" + "1" * 30, None]:
        assert as_uuid(text) == slow_uuid(text)
        assert type(as_uuid(text)) is type(slow_uuid(text))
    for bad in ["g" * 32, "1_" * 16]:
        with pytest.raises(ValueError):
            slow_uuid(bad)
        with pytest.raises(ValueError):
            as_uuid(bad)
    for stamp in [
        "2026-11-29 10:11:41.701416",
        "2026-11-29 10:11:41",
        "2026-11-29 00:00:00.000000",
        "2026-11-29 10:11:41.701416+02:00",
        None,
    ]:
        assert as_utc(stamp) == slow_utc(stamp)
        fast, slow = as_utc(stamp), slow_utc(stamp)
        assert getattr(fast, "tzinfo", None) == getattr(slow, "tzinfo", None)


@pytest.mark.postgres
def test_reads_equal_sqlalchemys_and_survive_a_terminated_backend(
    app: FastAPI, session: Session
) -> None:
    owner = make_user(session, roles=[Role.applicant])
    partners = [make_organization(session, owner, name=f"Partner {i}") for i in range(2)]
    application = make_application(session, make_round(session), owner, members=partners)
    session.commit()
    params = {"application_id": application.id, "user_id": owner.id}
    reader: Reader = app.state.reader
    with app.state.engine.connect() as connection:
        expected = connection.execute(_ONE_APPLICATION_SELECT, params).all()
        pid = connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
    got = asyncio.run(reader.fetch(_ONE_APPLICATION_SELECT, **params))
    assert [row._asdict() for row in got] == [row._asdict() for row in expected]
    assert [[type(v) for v in row] for row in got] == [[type(v) for v in row] for row in expected]
    # The pooled connection dies (as in a database restart): the next read still answers.
    # (The session is on an engine of its own, not the app's.)
    terminated = session.execute(sa.text(f"SELECT pg_terminate_backend({int(pid)})"))
    assert terminated.scalar()
    again = asyncio.run(reader.fetch(_ONE_APPLICATION_SELECT, **params))
    assert [row._asdict() for row in again] == [row._asdict() for row in expected]
