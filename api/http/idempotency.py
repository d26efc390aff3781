"""``Idempotency-Key`` for creating (and action) POSTs.

The same key with the same request replays the first successful response, status and ``ETag``/
``Location`` included (plus ``Idempotent-Replayed: true``); the same key with a different request
is 422; while the first request is still running, 409. Keys are private to the caller (user and
client), the method and the path, and are kept ``IDEMPOTENCY_TTL`` (24 hours).

The stored response is written in the same transaction as the effect, so a key is never recorded
without its effect nor an effect without its key. On PostgreSQL a transaction-scoped advisory lock
on the key (taken with ``pg_try_advisory_xact_lock``, so a second request does not wait for the
first) marks the key in flight; on SQLite every write request already holds the database's write
lock, so requests with one key simply run one after the other. Only successful responses are
stored: a refused request may be retried with the same key.

Use: declare ``idempotency: IdempotencyDep`` after the route's actor, and end the route with
``commit_answer(session, response, body, idempotency=idempotency)`` (``api/http/answer.py``),
which keeps the body with its headers right before the commit.
"""

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Header, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlmodel import Session, col, select

from api.deps import NowDep, SessionDep
from models.errors import Conflict, Unprocessable
from models.idempotency import IdempotencyRecord
from models.identity import Actor
from submissions.canonical import canonical_json

IDEMPOTENCY_TTL = timedelta(hours=24)
REPLAYED_HEADER = "Idempotent-Replayed"
STORED_HEADERS = frozenset({"etag", "location"})
PURGE_BATCH = 100
_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

IDEMPOTENCY_RESPONSES: dict[int | str, dict[str, Any]] = {
    409: {"description": "A request with this Idempotency-Key is still running (or a conflict)"},
    422: {"description": "This Idempotency-Key was used with a different request (or invalid)"},
}


class IdempotentReplay(Exception):
    """Raised before the route runs when the key already has a stored response."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key)
        self.record = record


@dataclass(frozen=True, slots=True)
class KeyScope:
    actor: Actor
    method: str
    path: str
    key: str

    @property
    def sha256(self) -> str:
        parts = (str(self.actor.user_id), self.actor.client_id, self.method, self.path, self.key)
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


@dataclass
class Idempotency:
    """The idempotency context of one request (inert without an ``Idempotency-Key``)."""

    session: Session
    response: Response
    status_code: int
    now: datetime
    scope: KeyScope | None = None
    fingerprint: str = ""

    def save(self, body: Any) -> None:
        """Record the response the route is about to return, in the request's transaction."""
        if self.scope is None:
            return
        _purge_expired(self.session, self.now)
        self.session.add(
            IdempotencyRecord(
                scope_sha256=self.scope.sha256,
                user_id=self.scope.actor.user_id,
                client_id=self.scope.actor.client_id,
                method=self.scope.method,
                path=self.scope.path,
                key=self.scope.key,
                request_sha256=self.fingerprint,
                status_code=self.response.status_code or self.status_code,
                response_body=jsonable_encoder(body),
                response_headers={
                    name: value
                    for name, value in self.response.headers.items()
                    if name.lower() in STORED_HEADERS
                },
                created_at=self.now,
                expires_at=self.now + IDEMPOTENCY_TTL,
            )
        )
        self.session.flush()


async def request_fingerprint(request: Request) -> str:
    """What makes two requests "the same": the query and the canonical JSON body. Streamed
    (non-JSON) bodies are never buffered here; their media type and length stand in for them."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media and media != "application/json" and not media.endswith("+json"):
        basis = f"stream\n{media}\n{request.headers.get('content-length', '')}".encode()
    else:
        body = await request.body()
        try:
            basis = canonical_json(json.loads(body)) if body.strip() else b""
        except ValueError:
            basis = body
    return hashlib.sha256(request.url.query.encode() + b"\n" + basis).hexdigest()


def _advisory_key(scope_sha256: str) -> int:
    return int.from_bytes(bytes.fromhex(scope_sha256[:16]), "big", signed=True)


def _claim(session: Session, scope_sha256: str) -> bool:
    """Mark the key in flight until the transaction ends; ``False`` when another request has."""
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: this request already holds the only write lock.
    claimed = session.execute(
        sa.text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": _advisory_key(scope_sha256)}
    ).scalar_one()
    return bool(claimed)


def _stored(
    session: Session, scope_sha256: str, now: datetime, *, forget_expired: bool = False
) -> IdempotencyRecord | None:
    """The live record of a key; an expired one is deleted when the caller holds the key."""
    record = session.exec(
        select(IdempotencyRecord).where(IdempotencyRecord.scope_sha256 == scope_sha256)
    ).first()
    if record is None or record.expires_at >= now:
        return record
    if forget_expired:
        session.delete(record)
        session.flush()
    return None


def _purge_expired(session: Session, now: datetime) -> None:
    """Forget a batch of expired keys (skipping rows another transaction is purging)."""
    expired = (
        select(IdempotencyRecord.id)
        .where(IdempotencyRecord.expires_at < now)
        .limit(PURGE_BATCH)
        .with_for_update(skip_locked=True)
    )
    session.execute(sa.delete(IdempotencyRecord).where(col(IdempotencyRecord.id).in_(expired)))


def _replay_or_refuse(record: IdempotencyRecord, fingerprint: str) -> IdempotentReplay:
    if record.request_sha256 != fingerprint:
        raise Unprocessable(
            "this Idempotency-Key was already used with a different request; use a new key",
            type="idempotency-key-reused",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": "used with another request"}],
        )
    return IdempotentReplay(record)


def idempotency(
    request: Request,
    response: Response,
    session: SessionDep,
    now: NowDep,
    fingerprint: Annotated[str, Depends(request_fingerprint)],
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="A unique key (1 to 255 visible ASCII characters) that makes a retry safe",
        ),
    ] = None,
) -> Idempotency:
    route = request.scope.get("route")
    context = Idempotency(
        session=session,
        response=response,
        status_code=getattr(route, "status_code", None) or 200,
        now=now,
    )
    if key is None:
        return context
    if not _KEY.match(key):
        raise Unprocessable(
            "Idempotency-Key must be 1 to 255 visible ASCII characters",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": "1 to 255 visible ASCII"}],
        )
    actor = getattr(request.state, "actor", None)
    if not isinstance(actor, Actor):
        raise RuntimeError("a route declares its actor before IdempotencyDep")
    scope = KeyScope(actor=actor, method=request.method, path=request.url.path, key=key)
    digest = scope.sha256
    if not _claim(session, digest):
        record = _stored(session, digest, now)
        if record is not None:
            raise _replay_or_refuse(record, fingerprint)
        raise Conflict(
            "a request with this Idempotency-Key is still being processed; retry shortly",
            type="idempotency-key-in-flight",
            headers={"Retry-After": "1"},
        )
    record = _stored(session, digest, now, forget_expired=True)
    if record is not None:
        raise _replay_or_refuse(record, fingerprint)
    context.scope = scope
    context.fingerprint = fingerprint
    return context


IdempotencyDep = Annotated[Idempotency, Depends(idempotency)]


async def _replay(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, IdempotentReplay)
    record = exc.record
    headers = {**record.response_headers, REPLAYED_HEADER: "true"}
    if record.response_body is None:
        return Response(status_code=record.status_code, headers=headers)
    return JSONResponse(record.response_body, status_code=record.status_code, headers=headers)


def install_idempotency(app: FastAPI) -> None:
    app.add_exception_handler(IdempotentReplay, _replay)
