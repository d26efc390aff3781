"""Liveness and readiness, without auth."""

from typing import Any

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.errors import problem
from infra.db import ping

router = APIRouter(tags=["health"])
STORAGE_PING_TIMEOUT = 5.0  # seconds


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"description": "A dependency is unreachable"}},
    response_model=None,
)
async def readyz(request: Request) -> dict[str, Any] | JSONResponse:
    """The database and the blob storage are reachable."""
    checks: dict[str, str] = {}
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
    return {"status": "ok", "checks": checks}
