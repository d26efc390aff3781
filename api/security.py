"""The FastAPI side of authentication: the OAuth 2 security scheme every ``/api/v1`` route
declares, the dependency that turns a bearer token into an ``Actor`` (``identity`` verifies the
token and finds the actor), and the ``Annotated`` aliases routes use to require a scope.
"""

from typing import Annotated, Any

from fastapi import Request, Security
from fastapi.openapi.models import OAuthFlowAuthorizationCode, OAuthFlowClientCredentials
from fastapi.openapi.models import OAuthFlows as OAuthFlowsModel
from fastapi.security import OAuth2, SecurityScopes
from starlette.concurrency import run_in_threadpool

from api.deps import WRITE_METHODS
from identity.actors import TOKEN_USER, ActorCache, builtin_actor, external_actor, subject_user
from identity.tokens import AuthError, InsufficientScope, TokenVerifier, VerifiedToken
from infra.db import Reader
from infra.ratelimit import enforce
from infra.settings import Settings
from models.identity import Actor, Scope

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
    check, and a built-in token's user and revocation are one indexed read (``Reader``: on the
    loop on SQLite, in a worker thread elsewhere), remembered for a moment (``ActorCache``).
    What may wait on something slower also takes a worker thread: a first sight of a token
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
        user_id = subject_user(known)
        cache: ActorCache = state.actor_cache
        remembered = cache.get(user_id, known.jti)
        if remembered is not None:
            rows = [remembered[0]] if remembered[0] is not None else []
        else:
            reader: Reader = state.reader
            generation = cache.generation
            rows = await reader.fetch(
                TOKEN_USER, user_id=user_id, jti=known.jti, client_id=known.client_id
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
