"""Liveness, readiness and metrics, without a user's token."""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import SQLModel

from api.errors import problem
from api.http.routing import SessionRoute
from infra.health import Check, check_readiness, metrics_page
from infra.metrics import CONTENT_TYPE
from infra.settings import Settings

router = APIRouter(route_class=SessionRoute, tags=["health"])


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


@router.get(
    "/readyz",
    responses={503: {"description": "A dependency is unreachable (or the blob store is full)"}},
    response_model=Readiness,
)
async def readyz(request: Request) -> Readiness | JSONResponse:
    """Every configured dependency is reachable: the database (each pool), Redis, the malware
    scanner and the blob store (writable, with room)."""
    state = request.app.state
    checks = await check_readiness(
        engine=state.engine,
        reader=getattr(state, "reader", None),
        outages=getattr(state, "outages", []),
        settings=state.settings,
        rate_limiter=state.rate_limiter,
        scanner=state.scanner,
        blob_store=getattr(state, "blob_store", None),
    )
    if any(v != "ok" for v in checks.values()):
        return problem(
            503,
            "not ready: " + ", ".join(f"{k} {v}" for k, v in checks.items() if v != "ok"),
            type="not-ready",
            extra={"checks": checks},
        )
    return Readiness(checks=checks)


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
    page = await metrics_page(
        engine=request.app.state.engine,
        client_host=request.client.host if request.client else "",
        authorization=request.headers.get("authorization", ""),
        token=settings.metrics_token,
    )
    if page == "off":
        return problem(404, "no such resource")
    if page == "unauthorized":
        return problem(
            401,
            "the metrics token is required",
            type="unauthorized",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    return Response(page, media_type=CONTENT_TYPE)
