"""The actor cache across processes on PostgreSQL: a change to a token, a user or a client,
committed by any process, is a ``NOTIFY`` that every process's listener hears (its cache
forgets); while the listening connection is down the cache is bypassed, and trusted again once
it is back (after forgetting what it held)."""

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from identity.accounts import revoke_access_token
from identity.actors import ACTORS_CHANNEL, PROBE, ActorCache
from infra.db import make_engine, open_session
from infra.events import EventSignal, NotifyListener
from models.identity import Role, User
from tests.factories import NOW, make_user

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

WAIT = 10.0
"""How long a step may take before the test gives up (liveness, not a speed assertion)."""


class Gate:
    """An ``ActorCache``'s listener side, recorded: ``deaf`` holds the listener's thread (so it
    does not reconnect) until the test ``release``s it."""

    def __init__(self, cache: ActorCache) -> None:
        self.cache = cache
        self.listening = threading.Event()
        self.down = threading.Event()
        self._release = threading.Event()
        self._release.set()

    def hold(self) -> None:
        self._release.clear()

    def release(self) -> None:
        self._release.set()

    def listening_(self) -> None:
        self.cache.listening()
        self.down.clear()
        self.listening.set()

    def deaf(self) -> None:
        self.listening.clear()
        self.cache.deaf()
        self.down.set()
        assert self._release.wait(WAIT)

    def notified(self, payload: str) -> None:
        self.cache.notified(payload)


class _Subscriber:
    def __init__(self, gate: Gate) -> None:
        self.gate = gate

    def listening(self) -> None:
        self.gate.listening_()

    def deaf(self) -> None:
        self.gate.deaf()

    def notified(self, payload: str) -> None:
        self.gate.notified(payload)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, pool_size=2)
    yield engine
    engine.dispose()


@pytest.fixture
def listened(database_url: str) -> Iterator[tuple[ActorCache, Gate, NotifyListener]]:
    cache = ActorCache(30.0, listened=True)
    gate = Gate(cache)
    listener = NotifyListener(
        database_url, EventSignal(), subscribers={ACTORS_CHANNEL: _Subscriber(gate)}
    )
    listener.start()
    try:
        assert gate.listening.wait(WAIT)
        yield cache, gate, listener
    finally:
        gate.release()
        listener.stop()


def _remember(cache: ActorCache, user_id: uuid.UUID) -> None:
    cache.put(user_id, "jti", ("row",), generation=cache.generation)


def test_the_cache_is_bypassed_while_the_listening_connection_is_down(
    listened: tuple[ActorCache, Gate, NotifyListener], engine: Engine
) -> None:
    cache, gate, listener = listened
    user_id = uuid.uuid4()
    _remember(cache, user_id)
    assert cache.get(user_id, "jti") == (("row",),)

    gate.hold()
    with engine.connect() as connection:
        killed = connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = :name"
            ),
            {"name": listener.application_name},
        ).scalars()
        assert list(killed) == [True]
    assert gate.down.wait(WAIT)
    # Down: nothing is answered from the cache, nor remembered.
    assert not cache.active
    assert cache.get(user_id, "jti") is None
    _remember(cache, user_id)
    assert cache.get(user_id, "jti") is None

    gate.release()
    assert gate.listening.wait(WAIT)
    # Back: trusted again, from an empty cache.
    assert cache.active
    assert cache.get(user_id, "jti") is None
    _remember(cache, user_id)
    assert cache.get(user_id, "jti") == (("row",),)


def test_a_committed_change_is_heard_and_a_rolled_back_one_is_not(
    listened: tuple[ActorCache, Gate, NotifyListener], engine: Engine
) -> None:
    cache, _gate, _listener = listened
    user_id = uuid.uuid4()
    # A change rolled back: no notification (PostgreSQL sends a transaction's at its commit).
    session = open_session(engine, write=True)
    try:
        user = make_user(session, roles=[Role.applicant])
        stored = session.get(User, user.id)
        assert stored is not None
        stored.is_active = False
        session.add(stored)
        session.flush()
        session.rollback()
    finally:
        session.close()
    _remember(cache, user_id)

    # Then a revocation committed in another "process" (a session whose commit this cache
    # does not see in-process: the notification is how another process would know).
    session = open_session(engine, write=True)
    try:
        revoke_access_token(
            session=session, jti="a-jti", expires_at=NOW + timedelta(hours=1), now=NOW
        )
        session.commit()
    finally:
        session.close()
    # Then a probe: heard by the same thread after everything committed before it.
    with engine.begin() as connection:
        connection.execute(sa.select(sa.func.pg_notify(ACTORS_CHANNEL, PROBE)))
    deadline = time.monotonic() + WAIT
    while cache.probes == 0:
        assert time.monotonic() < deadline, "the probe's notification never came"
        time.sleep(0.01)
    # The user's creation and the revocation; not the rolled-back deactivation.
    assert cache.invalidations == 2
    assert cache.get(user_id, "jti") is None


def test_a_probe_forgets_nothing(
    listened: tuple[ActorCache, Gate, NotifyListener], engine: Engine
) -> None:
    cache, _gate, _listener = listened
    user_id = uuid.uuid4()
    _remember(cache, user_id)
    with engine.begin() as connection:
        connection.execute(sa.select(sa.func.pg_notify(ACTORS_CHANNEL, PROBE)))
    deadline = time.monotonic() + WAIT
    while cache.probes == 0:
        assert time.monotonic() < deadline, "the probe's notification never came"
        time.sleep(0.01)
    assert cache.invalidations == 0
    assert cache.get(user_id, "jti") == (("row",),)
