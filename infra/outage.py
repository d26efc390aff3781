"""A dependency's outage as the requests see it: up, or down from the first failure that shows
it until a probe reaches it again.

While the database is down, every request that needs it would fail anyway, after waiting for a
connection: instead the edge answers 503 with ``Retry-After`` at once, and one thread per
process probes the dependency a few times a second, so that the first request after its return
is served (no reconnect backoff to sit out). One log line when it goes, one when it comes back.
"""

import threading
import time
from collections.abc import Callable

import sqlalchemy as sa
import structlog

from infra.metrics import DEPENDENCY_OUTAGES

log = structlog.get_logger("shortlist.outage")

RETRY_AFTER_SECONDS = 1
PROBE_INTERVAL_SECONDS = 0.2
# Sqlstates of a connection that is gone or cannot be made: class 08 (connection exception),
# admin/crash shutdown, and a server that is starting or stopping.
_CONNECTION_SQLSTATES = frozenset({"57P01", "57P02", "57P03"})


def is_connection_failure(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it was raised from) says the database cannot be reached, as
    opposed to a statement that failed (a constraint, a serialization failure, a lock timeout)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa.exc.TimeoutError):
            # A pool timeout, SQLAlchemy's or the reader's (``infra.db.ReaderPoolExhausted``,
            # raised from psycopg_pool's): every connection busy, with a database that answers.
            return False
        if _is_connection_failure(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    original = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    try:
        import psycopg
        import psycopg_pool
    except ImportError:  # pragma: no cover - both are dependencies
        return False
    if isinstance(original, psycopg_pool.PoolTimeout | psycopg_pool.PoolClosed):
        return True
    if isinstance(original, psycopg.OperationalError):
        sqlstate = getattr(original, "sqlstate", None)
        return sqlstate is None or sqlstate.startswith("08") or sqlstate in _CONNECTION_SQLSTATES
    return False


class Dependency:
    """One dependency's state. ``failed`` marks it down (when the failure is an outage) and
    starts the probe; the probe marks it up when ``probe()`` succeeds, after ``on_up()`` (e.g.
    a pool renewed) has run. ``on_down()`` runs once as it goes down (e.g. a pool dropped, so
    that requests waiting on it are released)."""

    def __init__(
        self,
        name: str,
        probe: Callable[[], None],
        *,
        on_down: Callable[[], None] | None = None,
        on_up: Callable[[], None] | None = None,
        interval: float = PROBE_INTERVAL_SECONDS,
        is_outage: Callable[[BaseException], bool] = is_connection_failure,
    ) -> None:
        self.name = name
        self.retry_after = RETRY_AFTER_SECONDS
        self._probe = probe
        self._on_down = on_down
        self._on_up = on_up
        self._interval = interval
        self._is_outage = is_outage
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._down_since: float | None = None
        self.down = False
        """Read on every request without the lock (a stale read costs one request)."""

    def failed(self, exc: BaseException) -> bool:
        """Mark the dependency down if ``exc`` says it is unreachable; whether it is down."""
        if not self._is_outage(exc):
            return False
        with self._lock:
            if self.down:
                return True
            self.down = True
            self._down_since = time.monotonic()
        DEPENDENCY_OUTAGES.labels(self.name).inc()
        log.error("dependency_down", dependency=self.name, error_type=type(exc).__name__)
        if self._on_down is not None:
            try:
                self._on_down()
            except Exception as hook_error:
                log.warning("dependency_down_hook_failed", error_type=type(hook_error).__name__)
        threading.Thread(target=self._watch, name=f"probe-{self.name}", daemon=True).start()
        return True

    def _watch(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._probe()
                if self._on_up is not None:
                    self._on_up()
            except Exception:  # noqa: S112 - still down (one line was logged as it went)
                continue
            with self._lock:
                since, self._down_since, self.down = self._down_since, None, False
            log.info(
                "dependency_up",
                dependency=self.name,
                down_seconds=round(time.monotonic() - (since or time.monotonic()), 3),
            )
            return

    def close(self) -> None:
        """Stop probing (the app is shutting down)."""
        self._stopped.set()
