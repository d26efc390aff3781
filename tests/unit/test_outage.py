"""What counts as the database being down (not a failed statement), and a dependency's way
from up to down and back: one log line each way, a probe until it answers."""

import threading

import psycopg
import psycopg_pool
import pytest
import sqlalchemy as sa
from psycopg import errors

from infra.db import ReaderPoolExhausted
from infra.metrics import token_failure_reason
from infra.outage import Dependency, is_connection_failure
from tests.factories import RecordedLog


def wrapped(exc: Exception, *, invalidated: bool = False) -> sa.exc.StatementError:
    return sa.exc.OperationalError.instance(
        "SELECT 1", {}, exc, psycopg.Error, connection_invalidated=invalidated
    )


@pytest.mark.parametrize(
    "exc",
    [
        psycopg.OperationalError("connection refused"),
        wrapped(psycopg.OperationalError("server closed the connection unexpectedly")),
        wrapped(errors.AdminShutdown("terminating connection due to administrator command")),
        wrapped(errors.CannotConnectNow("the database system is shutting down")),
        wrapped(errors.ProgrammingError("whatever"), invalidated=True),
        psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec"),
        psycopg_pool.PoolClosed("the pool 'shortlist-reader' is closed"),
    ],
)
def test_outages(exc: Exception) -> None:
    assert is_connection_failure(exc)


def test_an_outage_raised_from_within_another_error() -> None:
    outer = RuntimeError("while reading the user")
    outer.__cause__ = psycopg.OperationalError("connection refused")
    assert is_connection_failure(outer)


@pytest.mark.parametrize(
    "exc",
    [
        wrapped(errors.SerializationFailure("could not serialize access")),
        wrapped(errors.LockNotAvailable("could not obtain lock")),
        wrapped(errors.QueryCanceled("canceling statement due to statement timeout")),
        sa.exc.IntegrityError.instance("INSERT", {}, errors.UniqueViolation("dup"), psycopg.Error),
        sa.exc.OperationalError.instance(
            "SELECT 1", {}, Exception("database is locked"), Exception
        ),
        ValueError("not a database error"),
    ],
)
def test_failed_statements_are_not_outages(exc: Exception) -> None:
    assert not is_connection_failure(exc)


def test_a_busy_pool_is_not_an_outage() -> None:
    """Every connection busy (SQLAlchemy's pool timeout, or the reader's, raised from
    psycopg_pool's ``PoolTimeout``): the database answers, so it is not marked down."""
    assert not is_connection_failure(sa.exc.TimeoutError("QueuePool limit reached"))
    busy = ReaderPoolExhausted("all 1 reader connections stayed busy")
    busy.__cause__ = psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec")
    assert not is_connection_failure(busy)


def test_down_then_up_once_each(monkeypatch: pytest.MonkeyPatch) -> None:
    logs = RecordedLog()
    monkeypatch.setattr("infra.outage.log", logs)
    reachable = threading.Event()
    came_back = threading.Event()
    calls: list[str] = []

    def probe() -> None:
        if not reachable.is_set():
            raise ConnectionRefusedError

    def on_up() -> None:
        calls.append("up")
        came_back.set()

    dependency = Dependency(
        "database", probe, on_down=lambda: calls.append("down"), on_up=on_up, interval=0.01
    )
    assert not dependency.failed(ValueError("a failed statement"))
    assert not dependency.down
    for _ in range(5):
        assert dependency.failed(psycopg.OperationalError("connection refused"))
    assert dependency.down
    reachable.set()
    assert came_back.wait(10)
    for _ in range(1000):  # (the line is written just after the state changes)
        if "dependency_up" in logs.events:
            break
        threading.Event().wait(0.01)
    dependency.close()
    assert not dependency.down
    assert calls == ["down", "up"]
    assert logs.events == ["dependency_down", "dependency_up"]


@pytest.mark.parametrize(
    ("detail", "reason"),
    [
        ("an access token is required", "missing"),
        ("use the Bearer authorization scheme", "scheme"),
        ("the token is not valid: The token is expired", "expired"),
        ("the token has been revoked", "revoked"),
        ("the token is not a well-formed JWT", "malformed"),
        ("the token's issuer is not trusted", "untrusted_issuer"),
        ("the token's signing key is unknown", "unknown_key"),
        ("the token's user is deactivated", "user_deactivated"),
        ("the token is not valid: bad_signature", "bad_signature"),
        ("something new", "invalid"),
    ],
)
def test_token_failure_reasons(detail: str, reason: str) -> None:
    assert token_failure_reason(detail) == reason
