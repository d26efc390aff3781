"""The outbox: ``record`` writes an event in the caller's transaction, beside the change it tells
of and its audit event. Readers (the feed, webhooks, mail) live in ``notifications``; this writer
sits here, below every domain package that changes something.

Order: ``seq`` is taken under the lock of the one ``event_head`` row, held until the transaction
ends. A transaction that records an event therefore commits before the next one can take a seq,
so seqs are in commit order and a feed reader resuming after seq N misses nothing. (An id from a
plain sequence would not do: one allocated earlier can commit later, after a reader has moved on.)
Writers take the audit head's lock first (``audit.append`` precedes ``record``), then this one,
always in that order.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from models.events import EVENTS_CHANNEL, EVENTS_WRITTEN, Event, EventAudience, EventHead, EventType
from models.reviewers import Assignment
from submissions.canonical import jsonable


def _next_seq(session: Session) -> int:
    dialect = session.get_bind().dialect.name
    values = {"id": 1, "seq": 0}
    if dialect == "postgresql":
        session.execute(postgresql.insert(EventHead).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(EventHead).values(values).on_conflict_do_nothing())
    head = session.exec(
        select(EventHead)
        .where(EventHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    head.seq += 1
    session.add(head)
    return head.seq


def record(
    *,
    session: Session,
    type: EventType,
    round_id: uuid.UUID,
    audience: EventAudience,
    now: datetime,
    application_id: uuid.UUID | None = None,
    reviewer_id: uuid.UUID | None = None,
    data: Mapping[str, Any] | None = None,
) -> Event:
    """Write one event in the caller's transaction (flushed, not committed).

    ``audience`` decides once who reads it besides admins (``EventAudience``); an event naming
    an application is read under that application's seal whatever its audience."""
    if audience is EventAudience.reviewer and reviewer_id is None:
        raise ValueError("an event for a reviewer names the reviewer")
    if audience is EventAudience.application and application_id is None:
        raise ValueError("an event for an application's members names the application")
    event = Event(
        seq=_next_seq(session),
        type=type.value,
        occurred_at=now,
        round_id=round_id,
        application_id=application_id,
        audience=audience.value,
        reviewer_id=reviewer_id,
        data=jsonable(dict(data or {})),
    )
    session.add(event)
    session.flush()
    if not session.info.get(EVENTS_WRITTEN):
        session.info[EVENTS_WRITTEN] = True
        if session.get_bind().dialect.name == "postgresql":
            # Delivered to every listening process when (and only if) the transaction commits.
            session.execute(sa.select(sa.func.pg_notify(EVENTS_CHANNEL, "")))
    return event


def record_assignment(
    *, session: Session, type: EventType, assignment: Assignment, status: str, now: datetime
) -> Event:
    """``assignment.created`` or ``assignment.ended`` (``status``: active, recused, conflicted
    or deleted), for the reviewer it names."""
    return record(
        session=session,
        type=type,
        round_id=assignment.round_id,
        application_id=assignment.application_id,
        reviewer_id=assignment.reviewer_id,
        audience=EventAudience.reviewer,
        now=now,
        data={
            "assignment_id": str(assignment.id),
            "reviewer_id": str(assignment.reviewer_id),
            "status": status,
        },
    )
