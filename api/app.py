"""The application factory: settings in, a wired FastAPI app out."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from sqlmodel import Session

from api.auth import TokenVerifier, TrustedIssuer
from api.db import make_engine
from api.deps import system_clock
from api.errors import install_error_handlers
from api.logging import RequestContextMiddleware, configure_logging
from api.middleware import BodyLimitMiddleware, SecurityHeadersMiddleware
from api.oauth.keys import SIGNING_ALG, BuiltinKeys
from api.openapi import install_openapi
from api.ratelimit import make_rate_limiter
from api.routes import health, me, oauth_clients, users
from api.settings import Settings, get_settings
from api.storage import make_blob_store
from models.identity import RevokedToken

API_PREFIX = "/api/v1"
UPLOAD_PATHS = r"^/api/v1/applications/[^/]+/documents$"
"""Document uploads stream under their own per-kind caps instead of the general body cap."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(json_logs=settings.json_logs, level=settings.log_level)
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        engine.dispose()

    docs = settings.docs_enabled
    app = FastAPI(
        title="Shortlist",
        version="1.0.0",
        summary="Submission and review portal for staged funding competitions",
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.clock = system_clock
    app.state.blob_store = make_blob_store(settings.storage_url)

    app.state.keys = BuiltinKeys(
        engine, clock=lambda: app.state.clock(), token_ttl=settings.access_token_ttl
    )
    app.state.token_verifier = TokenVerifier(trusted_issuers(settings, app.state.keys))
    app.state.is_revoked = is_revoked
    app.state.rate_limiter = make_rate_limiter(settings.redis_url)

    install_error_handlers(app)
    install_openapi(app)
    app.include_router(health.router)
    for router in (me.router, users.router, oauth_clients.router):
        app.include_router(router)

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
            expose_headers=["ETag", "X-Request-ID", "Location"],
        )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, exempt=UPLOAD_PATHS)
    app.add_middleware(SecurityHeadersMiddleware, hsts=settings.public_url.startswith("https://"))
    app.add_middleware(RequestContextMiddleware)
    return app


def trusted_issuers(settings: Settings, keys: BuiltinKeys) -> list[TrustedIssuer]:
    issuers = []
    if settings.builtin_issuer:
        issuers.append(
            TrustedIssuer(
                issuer=settings.issuer,
                audience=settings.audience,
                keys=keys,
                algorithms=frozenset({SIGNING_ALG}),
                builtin=True,
            )
        )
    return issuers


def is_revoked(session: Session, jti: str) -> bool:
    return session.get(RevokedToken, jti) is not None


def app_from_env() -> FastAPI:
    """Entry for ``uvicorn --factory`` (each worker builds its own app from the environment)."""
    return create_app()
