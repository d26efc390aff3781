"""The one token verifier and the dependencies that turn a bearer token into an ``Actor``.

Tokens are RFC 9068 JWTs from the built-in issuer or an external OpenID Connect provider. The
verifier trusts only keys it fetched itself (never ``jku``/``jwk``/``x5u`` headers), an algorithm
allow-list (never ``none``; never HMAC), ``typ: at+jwt``, and checks iss/aud/exp/nbf with a leeway.
"""

import functools
import json
import threading
import time
import uuid
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Protocol

import sqlalchemy as sa
from fastapi import Request, Security
from fastapi.openapi.models import OAuthFlowAuthorizationCode, OAuthFlowClientCredentials
from fastapi.openapi.models import OAuthFlows as OAuthFlowsModel
from fastapi.security import OAuth2, SecurityScopes
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import Key
from joserfc.jwt import JWTClaimsRegistry
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.deps import WRITE_METHODS
from infra.db import LoopReader, open_session
from infra.ratelimit import enforce
from infra.settings import Settings
from models.errors import DomainError, NotFound
from models.identity import Actor, OAuthClient, RevokedToken, Role, Scope, User
from submissions.accounts import provision_external_user
from submissions.prepared import Prepared

LEEWAY_SECONDS = 30
VERIFIED_CACHE_SECONDS = 60.0
"""The longest a verified signature is trusted without checking it again (it is checked again
sooner whenever the issuer's key set is reloaded)."""
VERIFIED_CACHE_SIZE = 10_000
ASYMMETRIC_ALGS = frozenset(
    {
        "RS256",
        "RS384",
        "RS512",
        "PS256",
        "PS384",
        "PS512",
        "ES256",
        "ES384",
        "ES512",
        "EdDSA",
        "Ed25519",
    }
)
FORBIDDEN_HEADERS = ("jku", "jwk", "x5u", "x5c", "crit")
REALM = "shortlist"


class AuthError(DomainError):
    """401 with the RFC 6750 challenge."""

    status = 401
    type = "invalid-token"
    title = "Unauthorized"

    def __init__(self, detail: str, *, error: str | None = "invalid_token") -> None:
        challenge = f'Bearer realm="{REALM}"'
        if error:
            safe = detail.replace('"', "'")
            challenge += f', error="{error}", error_description="{safe}"'
        super().__init__(
            detail,
            type="invalid-token" if error else "unauthorized",
            headers={"WWW-Authenticate": challenge},
        )


class InsufficientScope(DomainError):
    status = 403
    type = "insufficient-scope"
    title = "Forbidden"

    def __init__(self, scope: str) -> None:
        super().__init__(
            f"this action needs the scope {scope}",
            headers={
                "WWW-Authenticate": (
                    f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
                )
            },
        )


class KeyProvider(Protocol):
    def public_key(self, kid: str) -> Key | None:
        """The issuer's key with this kid, refetched (rate-limited) when unknown."""

    def cached_key(self, kid: str) -> Key | None:
        """The key with this kid if the provider's cached key set is fresh, without loading
        anything (``None``: unknown, or the set needs loading)."""


@dataclass(frozen=True)
class TrustedIssuer:
    issuer: str
    audience: str
    keys: KeyProvider
    algorithms: frozenset[str]
    builtin: bool
    roles_claim: str | None = None
    role_map: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class VerifiedToken:
    issuer: TrustedIssuer
    subject: str
    client_id: str
    scopes: frozenset[str]
    jti: str
    expires_at: int
    claims: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class _Verified:
    at: float
    token: VerifiedToken
    kid: str
    key: Key


class TokenVerifier:
    """Verifies access tokens. A token whose signature verified is remembered (``recall``), so
    a client's next requests skip parsing and the signature check, for as long as the issuer's
    cached key set still holds the very key that verified it (at most
    ``VERIFIED_CACHE_SECONDS``); the claims (exp, nbf, iss, aud) are checked again on every use."""

    def __init__(self, issuers: list[TrustedIssuer], *, now: Callable[[], float] = time.time):
        self._issuers = {i.issuer: i for i in issuers}
        self._now = now
        self._verified: dict[str, _Verified] = {}
        self._lock = threading.Lock()

    def recall(self, token: str) -> VerifiedToken | None:
        """The token as verified before, with its claims checked against now (401 once
        expired); ``None`` when it must be verified in full (``verify``), which may load keys."""
        found = self._verified.get(token)
        if found is None:
            return None
        fresh = time.monotonic() - found.at <= VERIFIED_CACHE_SECONDS
        if not fresh or found.token.issuer.keys.cached_key(found.kid) is not found.key:
            with self._lock:
                self._verified.pop(token, None)
            return None
        # iss, aud and sub were checked when it was verified and cannot have changed since;
        # only time can make it invalid now.
        now = self._now()
        token_ = found.token
        if token_.expires_at + LEEWAY_SECONDS < now:
            raise AuthError("the token is not valid: The token is expired")
        not_before = token_.claims.get("nbf")
        if isinstance(not_before, int | float) and not_before - LEEWAY_SECONDS > now:
            raise AuthError("the token is not valid: The token is not valid yet")
        return found.token

    def verify(self, token: str) -> VerifiedToken:
        verified, kid, key = self._verify(token)
        with self._lock:
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                # Forget the oldest entry (dicts keep insertion order).
                self._verified.pop(next(iter(self._verified)))
            self._verified[token] = _Verified(time.monotonic(), verified, kid, key)
        return verified

    def _validate_claims(self, trusted: TrustedIssuer, claims: Mapping[str, Any]) -> None:
        try:
            JWTClaimsRegistry(
                now=int(self._now()),
                leeway=LEEWAY_SECONDS,
                iss={"essential": True, "value": trusted.issuer},
                aud={"essential": True, "value": trusted.audience},
                exp={"essential": True},
                sub={"essential": True},
            ).validate(dict(claims))
        except JoseError as exc:
            raise AuthError(f"the token is not valid: {exc.description or exc.error}") from exc

    def _verify(self, token: str) -> tuple[VerifiedToken, str, Key]:
        try:
            compact = jws.extract_compact(token.encode("ascii"))
        except (JoseError, ValueError, UnicodeError) as exc:
            raise AuthError("the token is not a well-formed JWT") from exc
        header = compact.headers()
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in ASYMMETRIC_ALGS:
            raise AuthError("the token's algorithm is not accepted")
        if any(h in header for h in FORBIDDEN_HEADERS):
            raise AuthError("the token carries a key reference header that is not accepted")
        typ = str(header.get("typ", "")).lower()
        if typ not in ("at+jwt", "application/at+jwt"):
            raise AuthError("the token is not an access token (typ must be at+jwt)")
        try:
            unverified_claims = json.loads(compact.payload)
        except ValueError as exc:
            raise AuthError("the token's payload is not JSON") from exc
        iss = unverified_claims.get("iss") if isinstance(unverified_claims, dict) else None
        trusted = self._issuers.get(iss) if isinstance(iss, str) else None
        if trusted is None:
            raise AuthError("the token's issuer is not trusted")
        if alg not in trusted.algorithms:
            raise AuthError("the token's algorithm is not accepted for this issuer")
        kid = header.get("kid")
        key = trusted.keys.public_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise AuthError("the token's signing key is unknown")
        if key.alg and key.alg != alg:
            raise AuthError("the token's algorithm does not match its key")
        try:
            decoded = jwt.decode(token, key, algorithms=[alg])
        except JoseError as exc:
            raise AuthError(f"the token is not valid: {exc.description or exc.error}") from exc
        self._validate_claims(trusted, decoded.claims)
        claims = decoded.claims
        verified = VerifiedToken(
            issuer=trusted,
            subject=str(claims["sub"]),
            client_id=str(claims.get("client_id") or claims.get("azp") or ""),
            scopes=_scopes(claims),
            jti=str(claims.get("jti", "")),
            expires_at=int(claims["exp"]),
            claims=claims,
        )
        return verified, str(kid), key


def _scopes(claims: Mapping[str, Any]) -> frozenset[str]:
    scope = claims.get("scope")
    if isinstance(scope, str):
        return frozenset(scope.split())
    scp = claims.get("scp")
    if isinstance(scp, list):
        return frozenset(str(s) for s in scp)
    return frozenset()


# --- FastAPI dependencies ----------------------------------------------------------------------

SCOPE_DESCRIPTIONS = {
    Scope.applications_read.value: "Read organizations, applications, documents and results",
    Scope.applications_write.value: "Change organizations, applications and documents",
    Scope.reviews_read.value: "Read one's reviews and recusals",
    Scope.reviews_write.value: "Write reviews and recusals",
    Scope.rounds_admin.value: "Administer users, programs, rounds, panels and assignments",
    Scope.audit_read.value: "Read and verify the audit log",
}

_AUTH = b"authorization"

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid access token (see WWW-Authenticate)"},
    403: {"description": "Insufficient scope, or the caller's role may not do this"},
}


def _bearer(request: Request) -> str:
    # As Starlette's ``request.headers.get``: the first one (ASGI header names are lower case),
    # without building the headers object.
    raw: list[tuple[bytes, bytes]] = request.scope["headers"]
    header = next((value.decode("latin-1") for name, value in raw if name == _AUTH), None)
    if not header:
        raise AuthError("an access token is required", error=None)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("use the Bearer authorization scheme", error="invalid_request")
    return token.strip()


_USER = User.__table__.c  # type: ignore[attr-defined]
_REVOKED = RevokedToken.__table__.c  # type: ignore[attr-defined]
_CLIENT = OAuthClient.__table__.c  # type: ignore[attr-defined]
_TOKEN_USER = Prepared(
    sa.select(
        _USER.roles,
        _USER.is_active,
        sa.exists().where(_REVOKED.jti == sa.bindparam("jti")).label("revoked"),
        sa.exists()
        .where(_CLIENT.client_id == sa.bindparam("client_id"), _CLIENT.revoked_at.is_not(None))
        .label("client_revoked"),
    ).where(_USER.id == sa.bindparam("user_id"))
)
"""The built-in token's user, whether the token is revoked and whether its client was deleted
(which ends every token it holds, client credentials' ones included), in one statement."""


class ActorCache:
    """What ``_TOKEN_USER`` said about a built-in token (its user's roles and state, and whether
    it is revoked), remembered by this process for ``seconds``, so that a client's requests in
    quick succession read it once.

    A change made through this process (a token revoked, a user's roles or state changed and
    committed in any session) forgets everything at once; one made by another process reaches
    this one within ``seconds``. A read that raced with such a change is not remembered (the
    generation it started in has ended). ``seconds = 0`` turns it off."""

    def __init__(
        self, seconds: float, *, size: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self.size = size
        self._clock = clock
        self._rows: dict[tuple[uuid.UUID, str], tuple[float, Any]] = {}
        self.generation = 0
        # ``forget`` runs in whichever thread commits; a read on the event loop must not store
        # its row between ``forget``'s two steps.
        self._lock = threading.Lock()
        with _ACTOR_CACHES_LOCK:
            _ACTOR_CACHES.add(self)

    def get(self, user_id: uuid.UUID, jti: str) -> tuple[Any] | None:
        """``(row,)`` as last read (the row ``None`` when the user does not exist), or ``None``
        when nothing fresh is remembered (always, when off)."""
        if not self.seconds:
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
            if generation != self.generation:
                return
            if len(self._rows) >= self.size:
                self._rows.clear()
            self._rows[(user_id, jti)] = (self._clock() + self.seconds, row)

    def forget(self) -> None:
        with self._lock:
            self.generation += 1
            self._rows.clear()


_ACTOR_CACHES: "weakref.WeakSet[ActorCache]" = weakref.WeakSet()
_ACTOR_CACHES_LOCK = threading.Lock()


@sa.event.listens_for(OrmSession, "after_flush")
def _note_actor_changes(session: OrmSession, _context: Any) -> None:
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, RevokedToken | User | OAuthClient):
            session.info["shortlist.actors_changed"] = True
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
    """The person behind a built-in token (its subject is a user id), from ``_TOKEN_USER``'s
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


def _subject_user(verified: VerifiedToken) -> uuid.UUID:
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


class ActorScheme(OAuth2):
    """The OAuth 2 security scheme of every ``/api/v1`` route, and the dependency that
    resolves the caller: being the scheme itself, it declares the route's security and scopes
    in the OpenAPI document without a sub-dependency of its own (each one costs every request
    its share of FastAPI's dependency resolution)."""

    async def __call__(  # type: ignore[override]
        self, request: Request, security_scopes: SecurityScopes
    ) -> Actor:
        return await resolve_actor(request, security_scopes)


async def resolve_actor(request: Request, security_scopes: SecurityScopes) -> Actor:
    """Authenticate the bearer token, then require every scope the route declares.

    Runs on the event loop: a token seen in the last minute is recalled without a signature
    check, and a built-in token's user and revocation are one indexed read (``LoopReader``),
    remembered for a moment (``ActorCache``).
    Only what may wait on something slower takes a worker thread: a first sight of a token
    (the key set may need loading), an external issuer's user (provisioning writes), and the
    write rate limit (which may be Redis)."""
    state = request.app.state
    verifier: TokenVerifier = state.token_verifier
    token = _bearer(request)
    verified = verifier.recall(token)
    if verified is None:
        verified = await run_in_threadpool(verifier.verify, token)
    known: VerifiedToken = verified
    if known.issuer.builtin:
        user_id = _subject_user(known)
        cache: ActorCache = state.actor_cache
        remembered = cache.get(user_id, known.jti)
        if remembered is not None:
            rows = [remembered[0]] if remembered[0] is not None else []
        else:
            reader: LoopReader = state.reader
            generation = cache.generation
            rows = await reader.fetch(
                _TOKEN_USER, user_id=user_id, jti=known.jti, client_id=known.client_id
            )
            cache.put(user_id, known.jti, rows[0] if rows else None, generation=generation)
        actor = builtin_actor(rows=rows, user_id=user_id, verified=known)
    else:
        actor = await run_in_threadpool(
            lambda: external_actor(engine=state.engine, verified=known, now=state.clock())
        )
    for scope in security_scopes.scopes:
        if scope not in actor.scopes:
            raise InsufficientScope(scope)
    if request.method in WRITE_METHODS:
        settings: Settings = state.settings
        await run_in_threadpool(
            lambda: enforce(
                state.rate_limiter,
                f"write:{actor.client_id or actor.user_id}",
                limit=settings.rate_limit_writes_per_minute,
            )
        )
    # For whatever runs later in the request and needs the caller (idempotency keys).
    request.state.actor = actor
    return actor


current_actor = ActorScheme(
    flows=OAuthFlowsModel(
        authorizationCode=OAuthFlowAuthorizationCode(
            authorizationUrl="/oauth/authorize",
            tokenUrl="/oauth/token",
            refreshUrl="/oauth/token",
            scopes=SCOPE_DESCRIPTIONS,
        ),
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/oauth/token", scopes=SCOPE_DESCRIPTIONS
        ),
    ),
    scheme_name="shortlist",
    auto_error=False,
)


AnyActor = Annotated[Actor, Security(current_actor)]
"""Any valid token (``/me``, one's own OAuth clients)."""
ApplicationsRead = Annotated[Actor, Security(current_actor, scopes=[Scope.applications_read])]
ApplicationsWrite = Annotated[Actor, Security(current_actor, scopes=[Scope.applications_write])]
ReviewsRead = Annotated[Actor, Security(current_actor, scopes=[Scope.reviews_read])]
ReviewsWrite = Annotated[Actor, Security(current_actor, scopes=[Scope.reviews_write])]
RoundsAdmin = Annotated[Actor, Security(current_actor, scopes=[Scope.rounds_admin])]
AuditRead = Annotated[Actor, Security(current_actor, scopes=[Scope.audit_read])]
