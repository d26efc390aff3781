"""Test fixtures: each test gets its own database, made by the migrations.

SQLite (default): the schema is migrated once into a template file and copied for each test.
PostgreSQL (``SHORTLIST_TEST_DATABASE_URL``): a fresh database per run (and per xdist worker),
migrated once and emptied before each test.

Time: the ``app`` fixture's server clock is ``Clock(NOW)`` (tests/factories.py), never the wall
clock; a test whose tokens or data another process judges by its system clock says so by
setting ``app.state.clock = system_clock``. ``make test-faketime`` runs the suite with the
system clock years ahead and years back to prove it.
"""

import os
import shutil
import time
import uuid
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from api.app import create_app
from identity.oauth.keys import ensure_signing_key
from infra.db import make_engine, open_session, session_scope
from infra.migrate import upgrade
from infra.settings import Settings
from tests.examples import PROFILE as HYPOTHESIS_PROFILE
from tests.examples import register_profiles
from tests.factories import NOW, Clock, IssuedToken, issue_client_credentials_token

PG_URL = os.environ.get("SHORTLIST_TEST_DATABASE_URL")
IN_CI = os.environ.get("CI") == "true"
# The faked offset when the system clock is shifted by libfaketime (make test-faketime).
FAKETIME = os.environ.get("FAKETIME") if "libfaketime" in os.environ.get("LD_PRELOAD", "") else None
# Hypothesis: thorough in CI's main pass, a quarter of the examples elsewhere (tests/examples.py).
register_profiles()


def pytest_report_header(config: pytest.Config) -> str:
    database = "postgresql" if PG_URL else "sqlite"
    clock = f"shifted by libfaketime ({FAKETIME})" if FAKETIME else "not shifted"
    return (
        f"shortlist database: {database}; CI={IN_CI}; system clock: {clock}; "
        f"hypothesis profile: {HYPOTHESIS_PROFILE}"
    )


def pytest_configure(config: pytest.Config) -> None:
    if FAKETIME is None:
        return
    # Without these, libfaketime 0.9.10 breaks Python's timed waits: every sleep fails, and
    # each wait for the GIL returns at once (the suite runs many times slower). See Makefile.
    setup = {
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "FAKETIME_FORCE_MONOTONIC_FIX": "0",
    }
    wrong = [f"{name}={value}" for name, value in setup.items() if os.environ.get(name) != value]
    if time.sleep.__module__ != "sitecustomize":
        wrong.append("PYTHONPATH=tests/faketime")
    if wrong:
        raise pytest.UsageError(
            f"under libfaketime the suite needs {' '.join(wrong)}: run it with make test-faketime"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Not skips: PostgreSQL-only tests belong to the PostgreSQL pass of the suite, and tests that
    # need this process's clock to be the real one to the passes whose clock is not shifted.
    def elsewhere(item: pytest.Item) -> bool:
        if not PG_URL and item.get_closest_marker("postgres"):
            return True
        return FAKETIME is not None and item.get_closest_marker("real_clock") is not None

    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        (drop if elsewhere(item) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every test must run: {report.longrepr}"
    return report


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture
def redis_url() -> str:
    """Database 15 of the Redis on 127.0.0.1:6379 (the tests' own keys are unique)."""
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip("Redis is not running on 127.0.0.1:6379")
    return url


@contextmanager
def migrated_postgres_database(name: str) -> Iterator[str]:
    """A new database on the server of ``SHORTLIST_TEST_DATABASE_URL``, migrated and given the
    run's signing key; dropped afterwards."""
    assert PG_URL, "needs SHORTLIST_TEST_DATABASE_URL"
    admin_url = sa.make_url(PG_URL)
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        _seed_signing_key(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if PG_URL:
        with migrated_postgres_database(
            f"shortlist_test_{uuid.uuid4().hex[:8]}_{_worker()}"
        ) as url:
            yield url
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        upgrade(f"sqlite:///{path}")
        _seed_signing_key(f"sqlite:///{path}")
        yield str(path)


def _seed_signing_key(url: str) -> None:
    """One RSA key for the whole run: generating one per test would dominate the suite's time.
    Tests that rotate keys make their own."""
    engine = make_engine(url, pool_size=1)
    try:
        with session_scope(engine) as session:
            ensure_signing_key(session=session, now=NOW)
    finally:
        engine.dispose()


def _truncate_all(url: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            tables = [
                r[0]
                for r in conn.exec_driver_sql(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename NOT IN ('alembic_version', 'signing_key')"
                )
            ]
            if tables:
                quoted = ", ".join(f'"{t}"' for t in tables)
                conn.exec_driver_sql(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    finally:
        engine.dispose()


@pytest.fixture
def database_url(database_template: str, tmp_path: Path) -> str:
    if PG_URL:
        _truncate_all(database_template)
        return database_template
    target = tmp_path / "shortlist.db"
    shutil.copyfile(database_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        storage_url=f"file://{tmp_path / 'blobs'}",
        public_url="http://testserver",
        log_json=True,
        log_level="WARNING",
        # Every request reads its token's user: on PostgreSQL the default cache would start
        # answering once the listener connects, at a moment no test controls. The tests of the
        # cache turn it on (tests/api/test_actor_cache.py, tests/integration/).
        actor_cache_seconds=0.0,
    )


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.database_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A domain-test session (no HTTP); the test commits when it wants to."""
    session = open_session(engine, write=True)
    yield session
    session.close()


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    """The app, its server clock standing at ``NOW`` (``app.state.clock``, a ``Clock``)."""
    app = create_app(settings)
    app.state.clock = Clock(NOW)
    # Text affinity is computed by the tests that test it (app.state.affinities.compute), not
    # by background work racing every other test's requests.
    app.state.affinities.background = False
    yield app
    app.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def client_token(app: FastAPI, client: TestClient) -> IssuedToken:
    """An applicant, a confidential OAuth client of theirs and a client_credentials access token
    the token endpoint issued to it (the OAuth endpoints need a loopback or https issuer)."""
    return issue_client_credentials_token(app, client)
