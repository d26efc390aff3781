"""The database engine and sessions: one engine per app, one session and one commit per request."""

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from opentelemetry.trace import SpanKind, Tracer
from psycopg_pool import PoolTimeout
from sqlalchemy.engine import Engine
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session

from infra.prepared import Prepared, prepared

T = TypeVar("T")

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


class ReaderPoolExhausted(sa.exc.TimeoutError):
    """Every connection of the reader's asynchronous pool stayed lent (to reads the database is
    answering) for the pool's whole timeout: the server is busy, as when SQLAlchemy's pool
    times out, so the request gets a 503 with ``Retry-After`` (``api.errors``) and the database
    is not marked down. A timeout with connections still to be made (the pool cannot connect)
    stays psycopg_pool's ``PoolTimeout``: an outage (``infra.outage``)."""


class LoopReader:
    """Short reads that run on the event loop itself, without a threadpool hop.

    Handing a request's work to a worker thread and back costs more CPU than an indexed point
    read on SQLite or a loopback PostgreSQL round trip, so the hottest read paths (the token's
    user, one application) run here, synchronously. The rules that make this safe: the work is
    a few statements on primary keys or indexes and finishes before anything awaits, so the
    reader's one kept connection is free whenever the loop's thread asks for it; it is
    autocommit, so it never holds a snapshot or a lock between reads; on SQLite it is
    ``query_only``, so it cannot write."""

    def __init__(
        self,
        url: str,
        *,
        busy_timeout_ms: int = 15000,
        async_pool_size: int = 4,
        pool_timeout: float = 5.0,
    ) -> None:
        parsed = sa.make_url(url)
        common: dict[str, Any] = {
            "isolation_level": "AUTOCOMMIT",
            "pool_size": 1,
            "max_overflow": 4,  # for a second thread reading at the same time (rare)
            "pool_timeout": 5,
            "pool_reset_on_return": None,
        }
        if parsed.get_backend_name() == "sqlite":
            self.engine = sa.create_engine(
                parsed,
                connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
                **common,
            )

            @sa.event.listens_for(self.engine, "connect")
            def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
                cursor = dbapi_connection.cursor()
                cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
                cursor.execute("PRAGMA query_only=ON")
                cursor.close()

        else:
            self.engine = sa.create_engine(parsed, **common)
        self._connection: sa.Connection | None = None
        self.tracer: Tracer | None = None
        """Set when traces are exported: the reads run on the DBAPI cursor (``Prepared``),
        past SQLAlchemy's events that its instrumentation listens to, so they get a span here."""
        self._lock = threading.Lock()
        self._pool: Any = None
        self._pool_loop: asyncio.AbstractEventLoop | None = None
        # A cursor for each connection of the asynchronous pool, by the connection's id.
        self._cursors: dict[int, Any] = {}
        self.async_pool_size = async_pool_size if parsed.get_backend_name() == "postgresql" else 0
        self.pool_timeout = pool_timeout
        """How long a read waits for a connection of the asynchronous pool (all lent, or the
        database down) before it fails."""

    async def open(self) -> None:
        """On PostgreSQL, open a small pool of asynchronous connections for ``fetch`` on the
        running event loop (the app's lifespan does). Until then, and on any other loop (a test
        client without its lifespan), and on SQLite, ``fetch`` reads synchronously."""
        if not self.async_pool_size or self._pool is not None:
            return
        from infra.pgpool import CancelSafePool

        dialect = self.engine.dialect
        _, params = dialect.create_connect_args(self.engine.url)
        pool = CancelSafePool(
            "",
            kwargs={**params, "autocommit": True},
            min_size=1,
            max_size=self.async_pool_size,
            open=False,
            name="shortlist-reader",
            timeout=self.pool_timeout,
        )
        # Connects in the background: the app starts whether or not the database is up yet,
        # as with its other (lazily connecting) engines.
        await pool.open(wait=False)
        self._pool, self._pool_loop = pool, asyncio.get_running_loop()

    async def close(self) -> None:
        pool, self._pool, self._pool_loop = self._pool, None, None
        if pool is not None:
            await pool.close()

    def drop_pool(self) -> None:
        """Close the asynchronous pool, from any thread (the database is down): reads waiting
        for one of its connections fail at once instead of after the pool's timeout, and its
        reconnect backoff, which grows while the database stays down, is not waited out when
        it returns (``renew_pool`` opens a fresh one)."""
        pool, loop = self._pool, self._pool_loop
        if pool is None or loop is None:
            return
        self._pool = None  # (the loop is kept: renew_pool opens the next pool on it)
        asyncio.run_coroutine_threadsafe(pool.close(timeout=0), loop)

    def renew_pool(self, timeout: float = 2.0) -> None:
        """Open a fresh asynchronous pool on the app's loop, from another thread (the database
        is back), if one was dropped."""
        loop = self._pool_loop
        if self._pool is not None or loop is None or loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self.open(), loop).result(timeout)

    async def ping(self, timeout: float = 2.0) -> None:
        """One ``SELECT 1`` through the asynchronous pool (when open on this loop), else on
        the reader's engine."""
        pool = self._pool
        if pool is None or asyncio.get_running_loop() is not self._pool_loop:
            if self.async_pool_size and self._pool_loop is not None:
                raise ConnectionError("the reader pool is closed (the database was down)")
            await asyncio.to_thread(ping, self.engine)
            return
        async with pool.connection(timeout=timeout) as connection:
            await connection.execute("SELECT 1")

    async def fetch(self, statement: sa.Select[Any], **params: Any) -> list[Any]:
        """The rows of ``statement`` (a hot read: a module's constant select, run prepared):
        on PostgreSQL through the asynchronous pool when it is open on this loop (the loop
        serves other requests while the database answers), else as ``read`` does. A dead
        connection is replaced and the read tried once more."""
        hot = prepared(statement)
        pool = self._pool
        if pool is None or asyncio.get_running_loop() is not self._pool_loop:
            return self.read(lambda connection: hot.all(connection, **params))
        if self.tracer is None:
            return await self._fetch(pool, hot, params)
        with self._span():
            return await self._fetch(pool, hot, params)

    async def _fetch(self, pool: Any, hot: Prepared, params: dict[str, Any]) -> list[Any]:
        dialect = self.engine.dialect
        cursors = self._cursors
        for attempt in (1, 2):
            try:
                async with pool.connection() as connection:
                    # One cursor kept with each pooled connection, used by one read at a time
                    # as the connection is: a cursor made per read (and psycopg's count of runs
                    # before it prepares) cost each read ~20 us of CPU (docs/speed.md).
                    cursor = cursors.get(id(connection))
                    if cursor is None or cursor.connection is not connection or cursor.closed:
                        if len(cursors) >= 2 * self.async_pool_size:
                            cursors.clear()  # (those of connections the pool has replaced)
                        cursor = cursors[id(connection)] = connection.cursor()
                    try:
                        return await hot.fetch(cursor, dialect, **params)
                    except sa.exc.DBAPIError as exc:
                        if not exc.connection_invalidated or attempt == 2:
                            raise
            except PoolTimeout as exc:
                if pool.lent >= pool.max_size:
                    raise ReaderPoolExhausted(
                        f"all {pool.max_size} reader connections stayed busy "
                        f"for {self.pool_timeout} s"
                    ) from exc
                raise
        raise AssertionError("unreachable")

    def read(self, work: Callable[[sa.Connection], T]) -> T:
        """``work(connection)`` on the reader's connection, kept open between reads (opening
        and returning one cost more than the read); retried once on a fresh connection when
        the kept one turns out to be dead (a database restart). Should two threads ever read
        at once (event loops in several threads), the second takes a connection of its own."""
        if self.tracer is None:  # (the hot path: not even a null context)
            return self._read(work)
        with self._span():
            return self._read(work)

    def _span(self) -> AbstractContextManager[Any]:
        assert self.tracer is not None
        return self.tracer.start_as_current_span(
            "db.read",
            kind=SpanKind.CLIENT,
            attributes={"db.system": self.engine.dialect.name, "db.operation.name": "SELECT"},
        )

    def _read(self, work: Callable[[sa.Connection], T]) -> T:
        if not self._lock.acquire(blocking=False):
            with self.engine.connect() as connection:
                return work(connection)
        try:
            kept = self._connection
            if kept is None or kept.invalidated or kept.closed:
                kept = self._connection = self.engine.connect()
            try:
                return work(kept)
            except sa.exc.DBAPIError as exc:
                if not exc.connection_invalidated:
                    raise
            kept.close()
            fresh = self._connection = self.engine.connect()
            return work(fresh)
        finally:
            self._lock.release()

    def dispose(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
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
