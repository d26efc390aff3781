"""Liveness, readiness and metrics, without a user's token."""

import hmac
import ipaddress
import shutil
from collections.abc import Awaitable, Callable
from typing import Literal

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import SQLModel

from api.errors import problem
from infra.db import ping
from infra.metrics import CONTENT_TYPE, exposition, read_database_figures
from infra.outage import Dependency
from infra.settings import Settings

router = APIRouter(tags=["health"])
CHECK_TIMEOUT = 5.0  # seconds, for each dependency (they are checked at the same time)


Check = Literal["ok", "unreachable", "full"]


class Health(SQLModel):
    """The process answers."""

    status: Literal["ok"] = "ok"


class Readiness(SQLModel):
    """Every dependency the app was configured with answered (by name: database, redis,
    scanner, storage)."""

    status: Literal["ok"] = "ok"
    checks: dict[str, Check]


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up."""
    return Health()


async def _check(
    name: str, work: Callable[[], Awaitable[Check | None]], out: dict[str, Check]
) -> None:
    try:
        with anyio.fail_after(CHECK_TIMEOUT):
            out[name] = await work() or "ok"
    except Exception:
        out[name] = "unreachable"


@router.get(
    "/readyz",
    responses={503: {"description": "A dependency is unreachable (or the blob store is full)"}},
    response_model=Readiness,
)
async def readyz(request: Request) -> Readiness | JSONResponse:
    """Every configured dependency is reachable: the database (each pool), Redis, the malware
    scanner and the blob store (writable, with room)."""
    state = request.app.state
    settings: Settings = state.settings
    checks: dict[str, Check] = {}
    outages: list[Dependency] = getattr(state, "outages", [])

    async def database() -> None:
        """The engine's pool (the sessions' and the hot reads')."""
        try:
            await anyio.to_thread.run_sync(ping, state.engine)
        except Exception as exc:
            for dependency in outages:
                dependency.failed(exc)  # the edge answers 503 until its probe succeeds
            raise

    async def redis() -> None:
        await anyio.to_thread.run_sync(state.rate_limiter.ping)

    async def scanner() -> None:
        await state.scanner.ping()

    async def storage() -> Check | None:
        store = state.blob_store
        await store.ping()
        root = getattr(store, "root", None)
        if root is not None:
            free = (await anyio.to_thread.run_sync(shutil.disk_usage, root)).free
            if free < settings.storage_min_free_bytes:
                return "full"
        return None

    async with anyio.create_task_group() as group:
        group.start_soon(_check, "database", database, checks)
        if settings.redis_url:
            group.start_soon(_check, "redis", redis, checks)
        if getattr(state.scanner, "deferred", False):
            group.start_soon(_check, "scanner", scanner, checks)
        if getattr(state, "blob_store", None) is not None:
            group.start_soon(_check, "storage", storage, checks)
    checks = dict(sorted(checks.items()))
    if any(v != "ok" for v in checks.values()):
        return problem(
            503,
            "not ready: " + ", ".join(f"{k} {v}" for k, v in checks.items() if v != "ok"),
            type="not-ready",
            extra={"checks": checks},
        )
    return Readiness(checks=checks)


def _loopback(request: Request) -> bool:
    host = request.client.host if request.client else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"},
        401: {"description": "Not on loopback, and no or a wrong metrics token"},
        404: {"description": "Not on loopback, and no metrics token is set"},
    },
)
async def metrics(request: Request) -> Response:
    """The service's metrics in Prometheus' text format: open on loopback, elsewhere with
    `Authorization: Bearer $SHORTLIST_METRICS_TOKEN` (and off while that is unset)."""
    settings: Settings = request.app.state.settings
    if not _loopback(request):
        token = settings.metrics_token
        if token is None:
            return problem(404, "no such resource")
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            given.strip().encode(), token.get_secret_value().encode()
        ):
            return problem(
                401,
                "the metrics token is required",
                type="unauthorized",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
    try:
        figures = await anyio.to_thread.run_sync(read_database_figures, request.app.state.engine)
    except Exception:
        figures = None  # the database is down: its figures are left out, the rest is served
    page = await anyio.to_thread.run_sync(exposition, figures)
    return Response(page, media_type=CONTENT_TYPE)
