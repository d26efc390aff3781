"""One place that renders every error as RFC 9457 problem details (``application/problem+json``)."""

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

import sqlalchemy as sa
import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from infra.metrics import TOKEN_FAILURES, token_failure_reason
from models.errors import DomainError

PROBLEM_JSON = "application/problem+json"

_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    411: "length-required",
    412: "precondition-failed",
    413: "content-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    428: "precondition-required",
    429: "too-many-requests",
    500: "internal-error",
    503: "service-unavailable",
}


def status_slug(status: int) -> str:
    return _SLUGS.get(status, HTTPStatus(status).phrase.lower().replace(" ", "-"))


def problem(
    status: int,
    detail: str,
    *,
    type: str | None = None,
    title: str | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": type or status_slug(status),
        "title": title or HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = list(errors)
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON
    )


def _loc(loc: Sequence[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for err in exc.errors():
        loc = list(err.get("loc", ()))
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "extra_forbidden":
            msg = "unknown or read-only field"
        elif err.get("type") == "json_invalid":
            msg = f"malformed JSON: {err.get('ctx', {}).get('error', 'could not parse')}"
        out.append({"loc": _loc(loc), "msg": msg})
    return out


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    if exc.status == 401 and exc.type in ("invalid-token", "unauthorized"):
        TOKEN_FAILURES.labels(token_failure_reason(exc.detail)).inc()
    return problem(
        exc.status,
        exc.detail,
        type=exc.type,
        title=exc.title,
        errors=exc.errors,
        headers=exc.headers,
        extra=exc.extra,
    )


def validation_problem(errors: Sequence[Mapping[str, Any]]) -> JSONResponse:
    """422 ``validation-error`` listing ``errors`` (``loc``, ``msg``), the first few in detail."""
    detail = (
        "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors[:5])
        or "the request is not valid"
    )
    return problem(422, detail, type="validation-error", errors=errors)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return validation_problem(validation_errors(exc))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    if exc.status_code == 400 and detail == "There was an error parsing the body":
        # A body that is not decodable at all is as malformed as broken JSON: one answer, 422.
        return problem(
            422,
            "the request body could not be parsed",
            type="validation-error",
            errors=[{"loc": ["body"], "msg": "malformed body: not valid UTF-8 JSON"}],
        )
    if exc.status_code == 404 and detail == "Not Found":
        detail = "no such resource"
    elif exc.status_code == 405:
        detail = "this method is not allowed on this resource"
        # Starlette names only the first matching route's methods; list every route's.
        return problem(405, detail, headers={"Allow": ", ".join(_allowed_methods(request))})
    return problem(exc.status_code, detail, headers=exc.headers)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "\0"})
        if match is Match.PARTIAL:
            methods |= set(getattr(route, "methods", None) or ())
    return sorted(methods)


# How long a client is asked to wait when every database connection of its process is taken.
BUSY_RETRY_AFTER_SECONDS = 1
db_log = structlog.get_logger("shortlist.db")


async def _pool_exhausted(request: Request, exc: Exception) -> JSONResponse:
    """Every connection of the process's pool (the sessions', or the reader's asynchronous one:
    ``infra.db.ReaderPoolExhausted``) stayed taken for the pool's whole timeout: the server is
    overloaded, not broken, so 503 with ``Retry-After`` (a load balancer or client may try
    again, here or elsewhere), not 500. The database is not marked down: it answers."""
    assert isinstance(exc, sa.exc.TimeoutError)
    db_log.warning("db.pool_exhausted", method=request.method, path=request.url.path)
    return problem(
        503,
        "every database connection of this server is busy; retry shortly",
        type="service-unavailable",
        headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
    )


# A statement the database refused because of a concurrent transaction, not because of the
# request: deadlock detected, serialization failure, lock not available (a lock_timeout). The
# transaction was rolled back whole, so nothing of the request was made; trying again may pass.
_CONCURRENCY_SQLSTATES = frozenset({"40P01", "40001", "55P03"})


def is_concurrency_refusal(exc: BaseException) -> bool:
    original = getattr(exc, "orig", None)
    if getattr(original, "sqlstate", None) in _CONCURRENCY_SQLSTATES:
        return True
    # SQLite: the write lock still held by another writer after the busy timeout.
    return type(original).__name__ == "OperationalError" and "database is locked" in str(original)


async def _concurrency_refusal(request: Request, exc: Exception) -> JSONResponse:
    """503 with ``Retry-After`` for ``is_concurrency_refusal``; any other operational error
    goes on as raised (an outage is the edge's to answer, anything else a 500)."""
    if not is_concurrency_refusal(exc):
        raise exc
    original = getattr(exc, "orig", None)
    db_log.warning(
        "db.concurrent_refusal",
        method=request.method,
        path=request.url.path,
        sqlstate=getattr(original, "sqlstate", None),
    )
    return problem(
        503,
        "the change met a concurrent one and was not made; retry shortly",
        type="service-unavailable",
        headers={"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)},
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _domain_error)
    app.add_exception_handler(sa.exc.TimeoutError, _pool_exhausted)
    app.add_exception_handler(sa.exc.OperationalError, _concurrency_refusal)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
