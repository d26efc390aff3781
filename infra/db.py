"""The database engine and sessions: one engine per app, one session and one commit per request."""

import threading
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


def make_engine(url: str, *, pool_size: int = 10, busy_timeout_ms: int = 15000) -> Engine:
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_path(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
            pool_size=pool_size,
            max_overflow=pool_size,
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
    return sa.create_engine(parsed, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def open_session(engine: Engine, *, write: bool = False) -> Session:
    """A session that connects on first use; with ``write`` its transaction takes the write
    lock as it begins (SQLite ``BEGIN IMMEDIATE``), so writers queue instead of failing."""
    bind = engine.execution_options(**IMMEDIATE) if write else engine
    return Session(bind, expire_on_commit=False, autoflush=True)


class Reader:
    """The hottest reads (the token's user, one application, ``/me``): a module's constant
    select, run prepared (``infra.prepared``).

    On SQLite the read runs on the event loop itself, on a connection the reader keeps: an
    indexed read in a local file costs less than the hop to a worker thread and back, or than
    taking a connection from a pool and giving it back (docs/speed.md). That is safe because
    the work is one statement on primary keys or indexes that finishes before anything awaits,
    so the kept connection is free whenever the loop's thread asks for it; it is autocommit
    (no snapshot or lock held between reads; under WAL a reader never waits for a writer) and
    ``query_only``. Anywhere else (a database across a network) the read runs in a worker
    thread, on autocommit connections of its own (docs/speed.md). A connection
    that turns out dead (a database restart) is replaced and the read tried once more."""

    def __init__(self, engine: Engine, *, busy_timeout_ms: int = 15000) -> None:
        self.on_loop = engine.dialect.name == "sqlite"
        # Elsewhere: autocommit connections of the reads' own, not pinged before each read and
        # not rolled back after it (three round trips of the app's pool saved per read); a dead
        # one fails its read, which is tried once more on a fresh connection.
        self.engine = sa.create_engine(
            engine.url,
            isolation_level="AUTOCOMMIT",
            pool_size=4,
            max_overflow=4,
            pool_reset_on_return=None,
        )
        self._kept: sa.Connection | None = None
        self._lock = threading.Lock()
        if self.on_loop:
            self.engine.dispose()
            self.engine = sa.create_engine(
                engine.url,
                connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
                isolation_level="AUTOCOMMIT",
                pool_size=1,
                max_overflow=4,  # for a second event loop (thread) reading at the same time
                pool_timeout=5,
                pool_reset_on_return=None,
            )

            @sa.event.listens_for(self.engine, "connect")
            def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
                cursor.execute("PRAGMA query_only=ON")
                cursor.close()

        self.tracer: Tracer | None = None
        """Set when traces are exported: the reads run on the DBAPI cursor (``Prepared``),
        past SQLAlchemy's events that its instrumentation listens to, so they get a span here."""

    async def fetch(self, statement: sa.Select[Any], **params: Any) -> list[Any]:
        """The rows of ``statement`` with ``params`` (a ``Fetch``, as the domain's hot reads
        take)."""
        if self.tracer is None:
            if self.on_loop:
                return self._read_kept(statement, params)
            return await anyio.to_thread.run_sync(self._read_pooled, statement, params)
        with self.tracer.start_as_current_span(
            "db.read",
            kind=SpanKind.CLIENT,
            attributes={"db.system": self.engine.dialect.name, "db.operation.name": "SELECT"},
        ):
            if self.on_loop:
                return self._read_kept(statement, params)
            return await anyio.to_thread.run_sync(self._read_pooled, statement, params)

    def _read_pooled(self, statement: sa.Select[Any], params: dict[str, Any]) -> list[Any]:
        hot = prepared(statement)
        for attempt in (1, 2):
            with self.engine.connect() as connection:
                try:
                    return hot.all(connection, **params)
                except sa.exc.DBAPIError as exc:
                    if not exc.connection_invalidated or attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def _read_kept(self, statement: sa.Select[Any], params: dict[str, Any]) -> list[Any]:
        """On the kept connection; should two event loops (threads) read at once, the second
        takes a connection of its own."""
        hot = prepared(statement)
        if not self._lock.acquire(blocking=False):
            with self.engine.connect() as connection:
                return hot.all(connection, **params)
        try:
            kept = self._kept
            if kept is None or kept.invalidated or kept.closed:
                kept = self._kept = self.engine.connect()
            try:
                return hot.all(kept, **params)
            except sa.exc.DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
            kept.close()
            fresh = self._kept = self.engine.connect()
            return hot.all(fresh, **params)
        finally:
            self._lock.release()

    def dispose(self) -> None:
        """Close the reader's own connections."""
        with self._lock:
            if self._kept is not None:
                self._kept.close()
                self._kept = None
        self.engine.dispose()


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
