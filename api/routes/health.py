"""Liveness and readiness, without auth."""

from typing import Literal

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlmodel import SQLModel

from api.errors import problem
from infra.db import ping

router = APIRouter(tags=["health"])
STORAGE_PING_TIMEOUT = 5.0  # seconds

Check = Literal["ok", "unreachable"]


class Health(SQLModel):
    """The process answers."""

    status: Literal["ok"] = "ok"


class Readiness(SQLModel):
    """Every dependency the app was configured with answered (by name: database, storage)."""

    status: Literal["ok"] = "ok"
    checks: dict[str, Check]


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """The process is up."""
    return Health()


@router.get(
    "/readyz",
    responses={503: {"description": "A dependency is unreachable"}},
    response_model=Readiness,
)
async def readyz(request: Request) -> Readiness | JSONResponse:
    """The database and the blob storage are reachable."""
    checks: dict[str, Check] = {}
    try:
        await anyio.to_thread.run_sync(ping, request.app.state.engine)
        checks["database"] = "ok"
    except Exception:
        checks["database"] = "unreachable"
    store = getattr(request.app.state, "blob_store", None)
    if store is not None:
        try:
            with anyio.fail_after(STORAGE_PING_TIMEOUT):
                await store.ping()
            checks["storage"] = "ok"
        except Exception:
            checks["storage"] = "unreachable"
    if any(v != "ok" for v in checks.values()):
        return problem(
            503,
            "not ready: " + ", ".join(k for k, v in checks.items() if v != "ok"),
            type="not-ready",
            extra={"checks": checks},
        )
    return Readiness(checks=checks)
