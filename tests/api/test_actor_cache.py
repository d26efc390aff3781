"""``SHORTLIST_ACTOR_CACHE_SECONDS``: a process may remember a built-in token's user and
revocation for a moment. Off by default on SQLite (every request reads them, so a revocation
holds everywhere at once); on by default on PostgreSQL, where each process hears the others'
changes (``NOTIFY``, tests/integration/test_actor_invalidation.py) and bypasses the cache while
it cannot. When on without a listener, a change made through this process holds at once, and
one made elsewhere (another process, plain SQL) within the window."""

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from identity.actors import ActorCache
from infra.db import open_session
from infra.settings import LISTENED_ACTOR_CACHE_SECONDS, Settings
from models.identity import Role, User
from tests.api.test_query_counts import counting
from tests.factories import NOW, IssuedToken, bearer

ME = "/api/v1/me"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The OAuth endpoints accept plain http only on a loopback issuer.
    return settings.model_copy(update={"public_url": "http://localhost"})


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    clock = Clock()
    app.state.actor_cache = ActorCache(1.0, clock=clock)
    return clock


def _me_statements(client: TestClient, token: str) -> int:
    app: FastAPI = client.app  # type: ignore[assignment]
    with counting(app) as statements:
        assert client.get(ME, headers=bearer(token)).status_code == 200
    return len(statements)


def _revoke_behind_the_apps_back(app: FastAPI, token: str) -> None:
    """What another process's revocation looks like to this one: a row, and no event here."""
    verified = app.state.token_verifier.recall(token)
    assert verified is not None
    with app.state.engine.begin() as connection:
        connection.execute(
            sa.text("INSERT INTO revoked_token (jti, expires_at) VALUES (:jti, :expires_at)"),
            {"jti": verified.jti, "expires_at": (NOW + timedelta(days=3650)).replace(tzinfo=None)},
        )


def _refused(client: TestClient, token: str) -> bool:
    response = client.get(ME, headers=bearer(token))
    if response.status_code == 401:
        assert "revoked" in response.headers["www-authenticate"]
        return True
    assert response.status_code == 200, response.text
    return False


def test_the_default_is_off_on_sqlite_and_listened_on_postgresql(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"actor_cache_seconds": None}))
    try:
        cache: ActorCache = app.state.actor_cache
        if app.state.engine.dialect.name == "postgresql":
            assert cache.seconds == LISTENED_ACTOR_CACHE_SECONDS
            assert cache.listened
            # Until its listener listens (the app's lifespan), every request reads.
            assert not cache.active
            cache.put(uuid.uuid4(), "jti", ("row",), generation=cache.generation)
            assert cache._rows == {}
        else:
            assert cache.seconds == 0
            assert not cache.active
    finally:
        app.state.engine.dispose()
        app.state.reader.dispose()


def test_off_every_request_reads_and_revocation_holds_at_once(
    app: FastAPI, client: TestClient, client_token: IssuedToken
) -> None:
    assert app.state.actor_cache.seconds == 0
    access = client_token.token
    assert client.get(ME, headers=bearer(access)).status_code == 200
    first = _me_statements(client, access)
    assert _me_statements(client, access) == first
    _revoke_behind_the_apps_back(app, access)
    assert _refused(client, access)


def test_a_remembered_token_saves_its_statement_until_the_window_ends(
    client: TestClient, clock: Clock, client_token: IssuedToken
) -> None:
    access = client_token.token
    first = _me_statements(client, access)
    assert _me_statements(client, access) == first - 1
    clock.now += 1.0
    assert _me_statements(client, access) == first


def test_a_revocation_elsewhere_holds_once_the_window_ends(
    app: FastAPI, client: TestClient, clock: Clock, client_token: IssuedToken
) -> None:
    access = client_token.token
    assert not _refused(client, access)
    _revoke_behind_the_apps_back(app, access)
    clock.now += 0.5
    assert not _refused(client, access)  # still remembered: the documented window
    clock.now += 0.5
    assert _refused(client, access)


def test_a_revocation_through_this_process_holds_at_once(
    client: TestClient, clock: Clock, client_token: IssuedToken
) -> None:
    access, auth = client_token.token, client_token.auth
    assert not _refused(client, access)
    assert client.post("/oauth/revoke", data={"token": access, **auth}).status_code == 200
    assert _refused(client, access)


def test_a_user_changed_through_this_process_is_read_again_at_once(
    app: FastAPI, client: TestClient, clock: Clock, client_token: IssuedToken
) -> None:
    user, access = client_token.user, client_token.token
    assert client.get(ME, headers=bearer(access)).json()["roles"] == [Role.applicant.value]
    _deactivate(app, user, keep=True)
    response = client.get(ME, headers=bearer(access))
    assert response.status_code == 401
    assert "no longer exists" in response.headers["www-authenticate"]


def test_a_rolled_back_change_forgets_nothing(
    app: FastAPI, client: TestClient, clock: Clock, client_token: IssuedToken
) -> None:
    user, access = client_token.user, client_token.token
    cold = _me_statements(client, access)
    generation = app.state.actor_cache.generation
    _deactivate(app, user, keep=False)
    assert app.state.actor_cache.generation == generation
    assert _me_statements(client, access) == cold - 1  # still remembered


def _deactivate(app: FastAPI, user: User, *, keep: bool) -> None:
    """Deactivate ``user`` in a session of this process: committed (``keep``), or flushed,
    rolled back, and the session's next (empty) transaction committed."""
    session = open_session(app.state.engine, write=True)
    try:
        stored = session.get(User, user.id)
        assert stored is not None
        stored.is_active = False
        session.add(stored)
        session.flush()
        if not keep:
            session.rollback()
        session.commit()
    finally:
        session.close()


def test_a_read_that_raced_with_a_change_is_not_remembered() -> None:
    clock = Clock()
    cache = ActorCache(1.0, clock=clock)
    user_id = uuid.uuid4()
    started = cache.generation
    cache.forget()  # a change committed while the read was on its way
    cache.put(user_id, "jti", ("row",), generation=started)
    assert cache.get(user_id, "jti") is None
    cache.put(user_id, "jti", ("row",), generation=cache.generation)
    assert cache.get(user_id, "jti") == (("row",),)


def test_the_cache_is_bounded_and_remembers_absent_users() -> None:
    clock = Clock()
    cache = ActorCache(1.0, size=2, clock=clock)
    ids = [uuid.uuid4() for _ in range(3)]
    for user_id in ids:
        cache.put(user_id, "", None, generation=cache.generation)
    assert len(cache._rows) <= 2
    assert cache.get(ids[-1], "") == (None,)  # "no such user" is remembered as such
    clock.now += 1.0
    assert cache.get(ids[-1], "") is None


def test_a_listened_cache_is_trusted_only_while_it_listens() -> None:
    clock = Clock()
    cache = ActorCache(1.0, clock=clock, listened=True)
    user_id = uuid.uuid4()
    cache.put(user_id, "jti", ("row",), generation=cache.generation)
    assert cache.get(user_id, "jti") is None  # not listening yet: bypassed
    started = cache.generation
    cache.listening()
    # A read that began before the listener listened may hold what a change unheard replaced.
    cache.put(user_id, "jti", ("row",), generation=started)
    assert cache.get(user_id, "jti") is None
    cache.put(user_id, "jti", ("row",), generation=cache.generation)
    assert cache.get(user_id, "jti") == (("row",),)
    cache.notified()
    assert cache.get(user_id, "jti") is None
    assert cache.invalidations == 1
    cache.put(user_id, "jti", ("row",), generation=cache.generation)
    cache.deaf()
    assert not cache.active
    assert cache.get(user_id, "jti") is None
    cache.put(user_id, "jti", ("row",), generation=cache.generation)
    assert cache.get(user_id, "jti") is None
    cache.listening()
    assert cache.active
    assert cache.get(user_id, "jti") is None  # what was read while deaf is not kept
