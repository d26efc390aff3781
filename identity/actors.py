"""The actor behind a verified token: a built-in token's user (one indexed read, remembered for a
moment by ``ActorCache``), or an external issuer's person, provisioned on first sight.
"""

import functools
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session

from identity.accounts import provision_external_user
from identity.tokens import AuthError, VerifiedToken
from infra.db import open_session
from infra.metrics import ACTOR_CACHE_BYPASSES, ACTOR_CACHE_INVALIDATIONS, ACTOR_CACHE_PROBES
from models.errors import NotFound
from models.identity import Actor, OAuthClient, RevokedToken, Role, User

_USER = User.__table__.c  # type: ignore[attr-defined]
_REVOKED = RevokedToken.__table__.c  # type: ignore[attr-defined]
_CLIENT = OAuthClient.__table__.c  # type: ignore[attr-defined]
TOKEN_USER = sa.select(
    _USER.roles,
    _USER.is_active,
    sa.exists().where(_REVOKED.jti == sa.bindparam("jti")).label("revoked"),
    sa.exists()
    .where(_CLIENT.client_id == sa.bindparam("client_id"), _CLIENT.revoked_at.is_not(None))
    .label("client_revoked"),
).where(_USER.id == sa.bindparam("user_id"))
"""The built-in token's user, whether the token is revoked and whether its client was deleted
(which ends every token it holds, client credentials' ones included), in one statement."""


ACTORS_CHANNEL = "shortlist_actors"
"""The PostgreSQL ``NOTIFY`` channel of changes to what ``TOKEN_USER`` reads (a token revoked, a
user's roles or state, a client deleted): sent inside the changing transaction, so delivered to
every listening process when, and only if, it commits."""

PROBE = "probe"
"""A notification on ``ACTORS_CHANNEL`` with this payload changes nothing: each process counts
it (``probes``, ``shortlist_actor_cache_probes_total``) without forgetting. Notifications reach
a listener in commit order, so once a process has counted a probe it has heard every change
committed before the probe was sent: how the tests and the revocation benchmark know that a
process has caught up, without a clock."""


class ActorCache:
    """What ``TOKEN_USER`` said about a built-in token (its user's roles and state, and whether
    it is revoked), remembered by this process for ``seconds``, so that a client's requests in
    quick succession read it once. ``seconds = 0`` turns it off.

    A change made through this process (a token revoked, a user's roles or state changed and
    committed in any session) forgets everything at once. A change made by another process:

    - ``listened`` (PostgreSQL): the process's listener (``infra.events.NotifyListener``) calls
      ``notified`` on each ``ACTORS_CHANNEL`` notification, which forgets everything. The cache
      is trusted only while that listener listens: until ``listening`` and after ``deaf`` (its
      connection lost, notifications may be missed) every request reads, as if it were off.
    - not ``listened``: it reaches this process within ``seconds``.

    A read that raced with a change is not remembered (the generation it started in has ended)."""

    def __init__(
        self,
        seconds: float,
        *,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        listened: bool = False,
    ) -> None:
        self.seconds = seconds
        self.size = size
        self.listened = listened
        self._clock = clock
        self._rows: dict[tuple[uuid.UUID, str], tuple[float, Any]] = {}
        self.generation = 0
        self.invalidations = 0
        """Notifications of another process's change taken (``notified``)."""
        self.probes = 0
        """``PROBE`` notifications counted."""
        # A listened cache is bypassed until its listener listens.
        self._trusted = not listened
        # ``forget`` runs in whichever thread commits (or listens); a read on the event loop
        # must not store its row between ``forget``'s two steps.
        self._lock = threading.Lock()
        with _ACTOR_CACHES_LOCK:
            _ACTOR_CACHES.add(self)

    @property
    def active(self) -> bool:
        """Whether a request may be answered from the cache now (on, and trusted)."""
        return bool(self.seconds) and self._trusted

    def get(self, user_id: uuid.UUID, jti: str) -> tuple[Any] | None:
        """``(row,)`` as last read (the row ``None`` when the user does not exist), or ``None``
        when nothing fresh is remembered (always, when off or bypassed)."""
        if not self.seconds or not self._trusted:
            return None
        found = self._rows.get((user_id, jti))
        if found is None:
            return None
        if self._clock() >= found[0]:
            self._rows.pop((user_id, jti), None)
            return None
        return (found[1],)

    def put(self, user_id: uuid.UUID, jti: str, row: Any, *, generation: int) -> None:
        if not self.seconds:
            return
        with self._lock:
            if generation != self.generation or not self._trusted:
                return
            if len(self._rows) >= self.size:
                self._rows.clear()
            self._rows[(user_id, jti)] = (self._clock() + self.seconds, row)

    def forget(self) -> None:
        with self._lock:
            self.generation += 1
            self._rows.clear()

    # The listener's side (``infra.events.ChannelSubscriber``).

    def listening(self) -> None:
        """The listener listens (again): what was read before is forgotten (a change may have
        gone unheard), then the cache is trusted."""
        with self._lock:
            self.generation += 1
            self._rows.clear()
            self._trusted = True

    def deaf(self) -> None:
        """The listener's connection is lost: bypassed (every request reads) until
        ``listening``."""
        with self._lock:
            bypassed = self._trusted and self.listened
            self._trusted = not self.listened
            self.generation += 1
            self._rows.clear()
        if bypassed:
            ACTOR_CACHE_BYPASSES.inc()

    def notified(self, payload: str = "") -> None:
        """Another process (or this one) committed a change to a token, user or client; or,
        with the payload ``PROBE``, asked whether this process has caught up (it counts it)."""
        if payload == PROBE:
            self.probes += 1
            ACTOR_CACHE_PROBES.inc()
            return
        self.invalidations += 1
        ACTOR_CACHE_INVALIDATIONS.inc()
        self.forget()


_ACTOR_CACHES: "weakref.WeakSet[ActorCache]" = weakref.WeakSet()
_ACTOR_CACHES_LOCK = threading.Lock()


@sa.event.listens_for(OrmSession, "after_flush")
def _note_actor_changes(session: OrmSession, _context: Any) -> None:
    if session.info.get("shortlist.actors_changed"):
        return
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, RevokedToken | User | OAuthClient):
            session.info["shortlist.actors_changed"] = True
            connection = session.connection()
            if connection.dialect.name == "postgresql":
                # Every process's cache forgets when (and only if) this transaction commits.
                connection.execute(sa.select(sa.func.pg_notify(ACTORS_CHANNEL, "")))
            return


@sa.event.listens_for(OrmSession, "after_commit")
def _forget_changed_actors(session: OrmSession) -> None:
    if session.info.pop("shortlist.actors_changed", False):
        with _ACTOR_CACHES_LOCK:
            caches = list(_ACTOR_CACHES)
        for cache in caches:
            cache.forget()


@sa.event.listens_for(OrmSession, "after_rollback")
def _drop_actor_changes(session: OrmSession) -> None:
    session.info.pop("shortlist.actors_changed", None)


def builtin_actor(*, rows: list[Any], user_id: uuid.UUID, verified: VerifiedToken) -> Actor:
    """The person behind a built-in token (its subject is a user id), from ``TOKEN_USER``'s
    rows: 401 when the token is revoked or the user is gone or deactivated."""
    row = rows[0] if rows else None
    if row is not None and verified.jti and row.revoked:
        raise AuthError("the token has been revoked")
    if row is not None and verified.client_id and row.client_revoked:
        raise AuthError("the token's client has been deleted")
    if row is None or not row.is_active:
        raise AuthError("the token's user no longer exists")
    return Actor(
        user_id=user_id,
        roles=frozenset(row.roles),
        scopes=verified.scopes,
        client_id=verified.client_id,
        token_id=verified.jti,
        auth_time=_auth_time(verified.claims),
    )


def _auth_time(claims: Mapping[str, Any]) -> datetime | None:
    """The token's ``auth_time`` claim (the person's sign-in), when it has a usable one."""
    value = claims.get("auth_time")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def subject_user(verified: VerifiedToken) -> uuid.UUID:
    """The user a built-in token's subject names (401 when it names none)."""
    user_id = _user_id(verified.subject)
    if user_id is None:
        raise AuthError("the token's subject is not a user")
    return user_id


@functools.lru_cache(maxsize=4096)
def _user_id(subject: str) -> uuid.UUID | None:
    """A verified token's subject as a user id (parsed once per subject, not per request)."""
    try:
        return uuid.UUID(subject)
    except ValueError:
        return None


def external_actor(*, engine: Engine, verified: VerifiedToken, now: datetime) -> Actor:
    """The person behind an external issuer's token, looked up by (issuer, subject) and
    provisioned or updated from its claims (in a transaction of its own)."""
    session = open_session(engine)
    try:
        if verified.jti and session.get(RevokedToken, verified.jti) is not None:
            raise AuthError("the token has been revoked")
        user = _external_user(session=session, verified=verified, now=now)
        return Actor(
            user_id=user.id,
            roles=frozenset(user.roles),
            scopes=verified.scopes,
            client_id=verified.client_id,
            token_id=verified.jti,
            auth_time=_auth_time(verified.claims),
        )
    finally:
        session.close()


def _external_user(*, session: Session, verified: VerifiedToken, now: datetime) -> User:
    for attempt in (1, 2):
        try:
            user, changed = provision_external_user(
                session=session,
                issuer=verified.issuer.issuer,
                subject=verified.subject,
                roles=_mapped_roles(verified),
                email=_claim_str(verified.claims, "email"),
                name=_claim_str(verified.claims, "name"),
                now=now,
            )
            if changed:
                # First sight or changed roles: kept even when the request changes nothing.
                session.commit()
            return user
        except NotFound as exc:
            raise AuthError("the token's user is deactivated") from exc
        except IntegrityError:
            # Another request provisioned the same person first: use theirs.
            session.rollback()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _claim_str(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    return value if isinstance(value, str) and value else None


def _mapped_roles(verified: VerifiedToken) -> list[Role] | None:
    """Roles from the issuer's configured claim, through its value-to-role map; ``None`` when
    the token carries no such claim (the stored roles then stand)."""
    claim = verified.issuer.roles_claim
    if not claim or claim not in verified.claims:
        return None
    raw = verified.claims[claim]
    values = [raw] if isinstance(raw, str) else [str(v) for v in raw or []]
    mapping = verified.issuer.role_map
    roles: set[Role] = set()
    for value in values:
        target = mapping.get(value, value if not mapping else None)
        if target is not None and target in Role.__members__:
            roles.add(Role(target))
    return sorted(roles)
