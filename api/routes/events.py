"""The event feed: what happened, in commit order, to what the caller may read; as JSON pages
(long-polled with ``wait``) or as a server-sent event stream (``Accept: text/event-stream``)."""

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.engine import Engine
from starlette.concurrency import run_in_threadpool

from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, AnyActor
from identity.tokens import InsufficientScope
from infra.db import open_session
from infra.events import EventSignal
from models.errors import Unprocessable
from models.events import EventPublic, EventType
from models.identity import Actor
from models.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from notifications.feed import FeedPage, parse_types, position_of, read_feed, readable_by

router = APIRouter(
    route_class=SessionRoute, prefix="/api/v1/events", tags=["events"], responses=AUTH_RESPONSES
)

SSE = "text/event-stream"
POLL_SECONDS = 1.0
"""How often a waiting reader reads again without a wake-up (a lost notification)."""
STREAM_SECONDS = 300.0
"""A stream ends after this long; the client reconnects with ``Last-Event-ID``."""
TYPES = ", ".join(t.value for t in EventType)


def _event_id(raw: str | None, name: str) -> uuid.UUID | None:
    if raw is None or not raw.strip():
        return None
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        raise Unprocessable(
            "not an event id",
            type="validation-error",
            errors=[{"loc": [name], "msg": "an event id (UUID)"}],
        ) from None


class _Reader:
    """Reads pages of the feed for one caller, each in a short session of its own (a waiting
    reader holds no connection)."""

    def __init__(
        self,
        *,
        engine: Engine,
        clock: Callable[[], datetime],
        actor: Actor,
        types: frozenset[str] | None,
        limit: int,
    ) -> None:
        self.engine, self.clock, self.actor, self.types, self.limit = (
            engine,
            clock,
            actor,
            types,
            limit,
        )

    def _position(self, event_id: uuid.UUID | None) -> int:
        session = open_session(self.engine)
        try:
            return position_of(session=session, event_id=event_id)
        finally:
            session.close()

    async def position(self, event_id: uuid.UUID | None) -> int:
        return await run_in_threadpool(self._position, event_id)

    def _read(self, after_seq: int) -> FeedPage:
        session = open_session(self.engine)
        try:
            return read_feed(
                session=session,
                actor=self.actor,
                after_seq=after_seq,
                types=self.types,
                limit=self.limit,
                now=self.clock(),
            )
        finally:
            session.close()

    async def read(self, after_seq: int) -> FeedPage:
        return await run_in_threadpool(self._read, after_seq)


def _sse(event: EventPublic) -> bytes:
    data = json.dumps(event.model_dump(mode="json"), separators=(",", ":"))
    return f"id: {event.id}\nevent: {event.type.value}\ndata: {data}\n\n".encode()


@router.get(
    "",
    response_model=Page[EventPublic],
    responses={
        200: {"content": {SSE: {"schema": {"type": "string"}}}},
        422: {"description": "An unknown event type or event id, or a bad `limit` or `wait`"},
    },
    operation_id="listEvents",
)
async def list_events(
    request: Request,
    actor: AnyActor,
    after: Annotated[
        str | None,
        Query(max_length=100, description="The id of the last event seen: only later ones"),
    ] = None,
    types: Annotated[
        str | None,
        Query(max_length=1000, description=f"Comma-separated event types among: {TYPES}"),
    ] = None,
    wait: Annotated[
        int,
        Query(
            ge=0,
            le=30,
            description=(
                "Seconds to hold the call until an event arrives (JSON); for a stream, how "
                "long it stays open without events before it ends"
            ),
        ),
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(max_length=100, description="The `next_cursor` of the previous page")
    ] = None,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=100, include_in_schema=False)
    ] = None,
) -> Page[EventPublic] | StreamingResponse:
    """Events about what the caller may read, oldest first, after `after` (an event id);
    `next_cursor` is the id to resume after. With `Accept: text/event-stream`, a server-sent
    event stream that resumes after `Last-Event-ID`."""
    if not readable_by(actor):
        raise InsufficientScope("applications:read reviews:read")
    wanted = parse_types(types)
    stream = SSE in (accept or "")
    start = _event_id(last_event_id, "header") if stream and last_event_id else None
    start = start or _event_id(after, "after") or _event_id(cursor, "cursor")
    reader = _Reader(
        engine=request.app.state.engine,
        clock=lambda: request.app.state.clock(),
        actor=actor,
        types=wanted,
        limit=limit,
    )
    signal: EventSignal = request.app.state.event_signal
    after_seq = await reader.position(start)
    if stream:
        return StreamingResponse(
            _stream(request, reader, signal, after_seq, idle=wait),
            media_type=SSE,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
    deadline = time.monotonic() + wait
    while True:
        version = signal.version
        page = await reader.read(after_seq)
        remaining = deadline - time.monotonic()
        if page.items or remaining <= 0:
            break
        await signal.wait(since=version, timeout=min(remaining, POLL_SECONDS))
    last = page.last_id or start
    return Page[EventPublic](items=page.items, next_cursor=str(last) if last else None)


async def _stream(
    request: Request, reader: _Reader, signal: EventSignal, after_seq: int, *, idle: int
) -> AsyncIterator[bytes]:
    yield b"retry: 1000\n\n"
    ends = time.monotonic() + STREAM_SECONDS
    quiet_until = time.monotonic() + idle
    while time.monotonic() < ends:
        version = signal.version
        page = await reader.read(after_seq)
        for event in page.items:
            yield _sse(event)
        after_seq = page.last_seq
        if page.items:
            quiet_until = time.monotonic() + idle
            continue
        remaining = quiet_until - time.monotonic()
        if remaining <= 0 or await request.is_disconnected():
            return
        if not await signal.wait(since=version, timeout=min(remaining, POLL_SECONDS)):
            yield b": keep-alive\n\n"
        await asyncio.sleep(0)
