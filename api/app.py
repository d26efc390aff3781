"""The application factory: settings in, a wired FastAPI app out."""

import gc
import os
import weakref
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.telemetry import TelemetryConfig
from opentelemetry.trace import TracerProvider

from api.application_answers import ApplicationAnswers
from api.docs import install_docs
from api.errors import install_error_handlers
from api.http.finite_json import FiniteJsonBodies
from api.http.idempotency import install_idempotency
from api.lean import LeanRoutes
from api.middleware import EdgeMiddleware
from api.openapi import api_version, install_openapi, operation_id
from api.routes import (
    affinities,
    applications,
    assignments,
    audit,
    decision_records,
    desk,
    documents,
    events,
    health,
    jwks,
    me,
    oauth,
    oauth_clients,
    organizations,
    programs,
    results,
    reviewers,
    reviews,
    rounds,
    users,
    webhooks,
)
from identity.actors import ACTORS_CHANNEL, ActorCache
from identity.oauth.keys import SIGNING_ALG, BuiltinKeys
from identity.oidc import OidcKeys
from identity.tokens import ASYMMETRIC_ALGS, TokenVerifier, TrustedIssuer
from infra.clock import system_clock
from infra.db import LoopReader, make_engine, ping
from infra.events import NotifyListener, install_event_signal
from infra.jobs import make_document_scans
from infra.jobs.affinity import make_affinity_jobs
from infra.logging import access_log, configure_logging
from infra.metrics import process_exited
from infra.outage import Dependency
from infra.ratelimit import make_rate_limiter
from infra.scanner import make_scanner
from infra.settings import LISTENED_ACTOR_CACHE_SECONDS, Settings, get_settings
from infra.storage import make_blob_store
from infra.telemetry import make_tracer_provider, trace_engine, use_globally
from infra.webhooks import make_webhook_deliveries

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
    reader = LoopReader(
        settings.database_url,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        async_pool_size=settings.db_read_pool_size,
    )
    # While the database is down, requests are answered 503 at once; its probe renews the
    # reader's pool when it is back (see infra/outage.py).
    database = Dependency(
        "database",
        probe=lambda: ping(engine),
        on_down=reader.drop_pool,
        on_up=reader.renew_pool,
    )
    tracer_provider = make_tracer_provider(settings)
    if tracer_provider is not None:
        trace_engine(engine, tracer_provider)
        trace_engine(reader.engine, tracer_provider)
        reader.tracer = tracer_provider.get_tracer("shortlist.db")

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as background:
            background.callback(access_log.flush)
            await reader.open()
            background.push_async_callback(reader.close)
            if _app.state.scans is not None:
                await background.enter_async_context(_app.state.scans.running())
            await background.enter_async_context(_app.state.webhooks.running())
            if postgresql:
                # Feed readers wake on events committed by other processes, and the actor
                # cache forgets what another process changed (and is bypassed while this
                # connection is down): one listening connection per process.
                listener = NotifyListener(
                    settings.database_url,
                    _app.state.event_signal,
                    subscribers={ACTORS_CHANNEL: _app.state.actor_cache},
                )
                _app.state.listener = listener
                listener.start()
                background.push_async_callback(listener.aclose)
            await background.enter_async_context(_app.state.affinities.running())
            yield
        database.close()
        engine.dispose()
        reader.dispose()
        if tracer_provider is not None:
            tracer_provider.shutdown()  # (its last spans are sent)
        process_exited(os.getpid())

    docs = settings.serves_docs
    app = FastAPI(
        title="Shortlist",
        version=api_version(),
        summary="Submission and review portal for staged funding competitions",
        # /docs and /redoc: api/docs.py serves them with local assets (FastAPI's load a CDN's).
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        swagger_ui_init_oauth=swagger_oauth(settings) if docs else None,
        generate_unique_id_function=operation_id,
        lifespan=lifespan,
        telemetry=telemetry_config(settings, tracer_provider),
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.outages = [database]
    app.state.tracer_provider = tracer_provider
    app.state.reader = reader
    # An app dropped without its lifespan (tests, scripts) still closes the reader's connection.
    weakref.finalize(app, reader.dispose)
    app.state.clock = system_clock
    app.state.blob_store = make_blob_store(settings)
    app.state.scanner = make_scanner(settings.scanner_url)
    app.state.scans = make_document_scans(
        settings,
        engine=engine,
        store=app.state.blob_store,
        scanner=app.state.scanner,
        clock=lambda: app.state.clock(),
    )

    app.state.affinities = make_affinity_jobs(
        settings, engine=engine, store=app.state.blob_store, clock=lambda: app.state.clock()
    )
    app.state.keys = BuiltinKeys(
        engine, clock=lambda: app.state.clock(), token_ttl=settings.access_token_ttl
    )
    postgresql = engine.dialect.name == "postgresql"
    cache_seconds = settings.actor_cache_seconds
    if cache_seconds is None:
        cache_seconds = LISTENED_ACTOR_CACHE_SECONDS if postgresql else 0.0
    app.state.actor_cache = ActorCache(cache_seconds, listened=postgresql)
    app.state.application_answers = (
        ApplicationAnswers(settings.application_cache_size)
        if settings.application_cache_size
        else None
    )
    app.state.token_verifier = TokenVerifier(
        trusted_issuers(settings, app.state.keys), now=lambda: app.state.clock().timestamp()
    )
    app.state.rate_limiter = make_rate_limiter(settings.redis_url)
    app.state.event_signal = install_event_signal(engine)
    app.state.webhooks = make_webhook_deliveries(
        settings, engine=engine, signal=app.state.event_signal, clock=lambda: app.state.clock()
    )

    install_error_handlers(app)
    install_idempotency(app)
    install_openapi(app)
    if docs:
        install_docs(app)
    app.include_router(health.router)
    # FastAPI tries the routes one by one, router by router, at a cost per route tried: the
    # reads that reviewers and applicants hammer come first.
    for router in (applications.router, me.router):
        app.include_router(router)
    # The keys sign decision records in every mode, tokens only with the built-in issuer.
    app.include_router(jwks.router)
    if settings.builtin_issuer:
        app.include_router(oauth.router)
    for router in (users.router, oauth_clients.router):
        app.include_router(router)
    # The intake side.
    for router in (organizations.router, programs.router, rounds.router):
        app.include_router(router)
    app.include_router(documents.router)
    # The evaluation side.
    for router in (reviewers.router, assignments.router, reviews.router, results.router):
        app.include_router(router)
    app.include_router(desk.router)
    app.include_router(decision_records.router)
    app.include_router(audit.router)
    app.include_router(events.router)
    app.include_router(webhooks.router)
    app.include_router(affinities.router)

    # Innermost: the hottest reads skip FastAPI's per-request machinery while they succeed.
    app.add_middleware(LeanRoutes)
    # Every JSON body, whatever route it is for: NaN, infinities and overflowing numbers are 422.
    app.add_middleware(FiniteJsonBodies, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
            expose_headers=["ETag", "X-Request-ID", "Location"],
        )
    # Outermost of the app's own: every response has its headers and request id, the 413 that
    # the body cap answers and the 500 for an unexpected exception too.
    app.add_middleware(
        EdgeMiddleware,
        max_bytes=settings.max_body_bytes,
        exempt=UPLOAD_PATHS,
        hsts=settings.public_url.startswith("https://"),
        outages=app.state.outages,
    )
    return app


def telemetry_config(settings: Settings, provider: TracerProvider | None) -> TelemetryConfig | None:
    """FastAPI's native telemetry: request spans through our provider when traces are
    exported; through the global providers with ``SHORTLIST_OTEL``; else off."""
    if provider is not None:
        return {
            "tracer_provider": provider,
            "tracing": True,
            "metrics": False,
            "logs": False,
        }
    if settings.otel:
        return None
    return {"tracing": False, "metrics": False, "logs": False}


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
    if settings.oidc_issuer:
        issuers.append(
            TrustedIssuer(
                issuer=settings.oidc_issuer,
                audience=settings.audience,
                keys=OidcKeys(
                    settings.oidc_issuer,
                    ttl=settings.oidc_jwks_ttl,
                    min_refresh=settings.oidc_jwks_min_refresh,
                    timeout=settings.oidc_http_timeout,
                ),
                algorithms=ASYMMETRIC_ALGS,
                builtin=False,
                roles_claim=settings.oidc_roles_claim,
                role_map=settings.oidc_role_map,
            )
        )
    return issuers


def swagger_oauth(settings: Settings) -> dict[str, object] | None:
    """Swagger UI signs in with the built-in server: authorization code + PKCE, as the public
    client that ``shortlist bootstrap`` registers."""
    if not settings.builtin_issuer:
        return None
    return {"clientId": settings.swagger_client_id, "usePkceWithAuthorizationCodeGrant": True}


def app_from_env() -> FastAPI:
    """Entry for ``uvicorn --factory`` (each worker builds its own app from the environment).

    The objects made at start (modules, models, routes, schemas) live as long as the process:
    frozen out of the garbage collector's reach, they are not traversed again by every full
    collection, which under load cost the read path a third of its CPU time."""
    app = create_app()
    use_globally(app.state.tracer_provider)  # the storage, scanner and job spans join it
    gc.collect()
    gc.freeze()
    return app
