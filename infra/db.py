"""The database engine and sessions: one engine per app, one session and one commit per request."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anyio
import sqlalchemy as sa
from opentelemetry.trace import SpanKind, Tracer
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

from infra.prepared import prepared

IMMEDIATE = {"sqlite_begin": "BEGIN IMMEDIATE"}
"""Execution options for a session that will write: on SQLite it takes the write lock up front,
so concurrent writers queue on the busy timeout instead of failing on a stale snapshot."""


def _sqlite_path(url: sa.URL) -> Path | None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def make_engine(
    url: str | sa.URL,
    *,
    pool_size: int = 10,
    busy_timeout_ms: int = 15000,
    overflow: int | None = None,
) -> Engine:
    """The engine for ``url``: ``pool_size`` connections kept, as many again (or ``overflow``;
    -1: any number) made for a burst."""
    parsed = sa.make_url(url)
    max_overflow = pool_size if overflow is None else overflow
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_path(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            pool_size=pool_size,
            max_overflow=max_overflow,
        )

        @sa.event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
            # Let SQLAlchemy's "begin" event emit BEGIN, so writers can ask for IMMEDIATE.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @sa.event.listens_for(engine, "begin")
        def _on_begin(conn: sa.Connection) -> None:
            conn.exec_driver_sql(conn.get_execution_options().get("sqlite_begin", "BEGIN"))

        return engine
    return sa.create_engine(
        parsed, pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True
    )


def open_session(engine: Engine, *, write: bool = False) -> Session:
    """A session that connects on first use; with ``write`` its transaction takes the write
    lock as it begins (SQLite ``BEGIN IMMEDIATE``), so writers queue instead of failing."""
    bind = engine.execution_options(**IMMEDIATE) if write else engine
    return Session(bind, expire_on_commit=False, autoflush=True)


class Reader:
    """The hottest reads (the token's user, one application, ``/me``): a module's constant
    select, run prepared (``infra.prepared``) on a connection of the app's engine. On SQLite
    the read runs on the event loop itself: an indexed read in a local file costs less than
    the hop to a worker thread and back, and under WAL it never waits for a writer. Anywhere
    else (a database across a network) it runs in a worker thread on the app's engine, as every
    other database call of a request does. (Measured in docs/speed.md, against an event-loop
    reader with an asynchronous PostgreSQL pool, which was not worth its weight.) A connection
    that turns out dead (a database restart) is replaced and the read tried once more."""

    def __init__(self, engine: Engine, *, busy_timeout_ms: int = 15000) -> None:
        self.on_loop = engine.dialect.name == "sqlite"
        # A read on the loop must never wait for a pooled connection (the loop would stop, and
        # with it whatever would give one back): on SQLite the reads keep a connection of their
        # own, and make another at once should two event loops (threads) read at the same time.
        self.engine = (
            make_engine(engine.url, pool_size=1, overflow=-1, busy_timeout_ms=busy_timeout_ms)
            if self.on_loop
            else engine
        )
        self.owns_engine = self.on_loop
        self.tracer: Tracer | None = None
        """Set when traces are exported: the reads run on the DBAPI cursor (``Prepared``),
        past SQLAlchemy's events that its instrumentation listens to, so they get a span here."""

    async def fetch(self, statement: sa.Select[Any], **params: Any) -> list[Any]:
        """The rows of ``statement`` with ``params`` (a ``Fetch``, as the domain's hot reads
        take)."""
        if self.tracer is None:
            if self.on_loop:
                return self.read(statement, params)
            return await anyio.to_thread.run_sync(self.read, statement, params)
        with self.tracer.start_as_current_span(
            "db.read",
            kind=SpanKind.CLIENT,
            attributes={"db.system": self.engine.dialect.name, "db.operation.name": "SELECT"},
        ):
            if self.on_loop:
                return self.read(statement, params)
            return await anyio.to_thread.run_sync(self.read, statement, params)

    def dispose(self) -> None:
        """Close the reads' own connections (SQLite; elsewhere the app's engine is the app's)."""
        if self.owns_engine:
            self.engine.dispose()

    def read(self, statement: sa.Select[Any], params: dict[str, Any]) -> list[Any]:
        hot = prepared(statement)
        for attempt in (1, 2):
            with self.engine.connect() as connection:
                try:
                    return hot.all(connection, **params)
                except sa.exc.DBAPIError as exc:
                    if not exc.connection_invalidated or attempt == 2:
                        raise
        raise AssertionError("unreachable")


@contextmanager
def session_scope(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """A unit of work in a session of its own (CLI, jobs, the database work of a streaming
    request, which runs outside the request's session): commit on success, roll back on error."""
    session = open_session(engine, write=write)
    try:
        yield session
        session.commit()
    finally:
        # Closing rolls back whatever was not committed, and leaves the objects loaded as they
        # are (an explicit rollback would expire them): an exception may carry one out, as an
        # idempotent replay carries its stored record.
        session.close()


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT 1"))
