"""The event feed: the events a reader may see, in commit order, after a position.

Who reads what was decided when each event was written (``EventAudience``): admins read every
event; members of an application's organizations read its events (``application``) and its
round's (``round``); a reviewer reads the events of their assignments and reviews
(``reviewer``). Scopes narrow it further: application and round events need
``applications:read``, reviewer events ``reviews:read`` (an admin's token ``rounds:admin``
covers both). Events about an application still sealed reach anyone but its own members only as
``seal.sealed_data`` (an admin's webhook included), as the audit log does.
"""

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.applications import Application, ApplicationOrganization
from models.errors import Forbidden, Unprocessable
from models.events import Event, EventAudience, EventPublic, EventType
from models.identity import Actor, OrganizationMember, Scope
from submissions import seal

MAX_LIMIT = 100


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: list[EventPublic]
    last_seq: int
    """The position after the last item (the one asked for when there is none)."""
    last_id: uuid.UUID | None


def parse_types(raw: str | None) -> frozenset[str] | None:
    """``types=a,b`` as a set of known event types; an unknown one is 422."""
    if raw is None or not raw.strip():
        return None
    names = {part.strip() for part in raw.split(",") if part.strip()}
    known = {t.value for t in EventType}
    unknown = sorted(names - known)
    if unknown:
        raise Unprocessable(
            f"unknown event type(s): {', '.join(unknown)}",
            type="unknown-event-type",
            errors=[
                {"loc": ["query", "types"], "msg": f"unknown event type {u!r}"} for u in unknown
            ],
        )
    return frozenset(names)


def position_of(*, session: Session, event_id: uuid.UUID | None) -> int:
    """The seq of the event a reader last saw (0 for the start); an unknown id is 422."""
    if event_id is None:
        return 0
    seq = session.exec(select(Event.seq).where(Event.id == event_id)).first()
    if seq is None:
        raise Unprocessable(
            "no such event to resume after",
            type="unknown-event",
            errors=[{"loc": ["query", "after"], "msg": "no such event"}],
        )
    return seq


def _audiences(actor: Actor) -> tuple[bool, bool]:
    """Whether the actor's token reads (application and round events, reviewer events)."""
    admin = actor.is_admin and Scope.rounds_admin.value in actor.scopes
    return (
        admin or Scope.applications_read.value in actor.scopes,
        admin or Scope.reviews_read.value in actor.scopes,
    )


def readable_by(actor: Actor) -> bool:
    """Whether the actor's token could read any event at all."""
    applications, reviews = _audiences(actor)
    return applications or reviews


def ensure_can_read_feed(actor: Actor) -> None:
    """403 ``insufficient-scope`` for a token that could never read any event."""
    if not readable_by(actor):
        raise Forbidden(
            "reading events needs applications:read, reviews:read or rounds:admin",
            type="insufficient-scope",
        )


def _own_applications(actor: Actor) -> sa.Select[Any]:
    return (
        sa.select(col(ApplicationOrganization.application_id))
        .join(
            OrganizationMember,
            col(OrganizationMember.organization_id) == col(ApplicationOrganization.organization_id),
        )
        .where(col(OrganizationMember.user_id) == actor.user_id)
    )


def visible_to(actor: Actor) -> sa.ColumnElement[bool]:
    """The events ``actor`` may read, as a condition on ``Event``."""
    applications, reviews = _audiences(actor)
    if actor.is_admin and Scope.rounds_admin.value in actor.scopes:
        return sa.true()
    clauses: list[sa.ColumnElement[bool]] = []
    if applications:
        own = _own_applications(actor)
        own_rounds = sa.select(col(Application.round_id)).where(col(Application.id).in_(own))
        clauses.append(
            sa.and_(
                col(Event.audience) == EventAudience.application.value,
                col(Event.application_id).in_(own),
            )
        )
        clauses.append(
            sa.and_(
                col(Event.audience) == EventAudience.round.value,
                col(Event.round_id).in_(own_rounds),
            )
        )
    if reviews:
        clauses.append(
            sa.and_(
                col(Event.audience) == EventAudience.reviewer.value,
                col(Event.reviewer_id) == actor.user_id,
            )
        )
    return sa.or_(*clauses) if clauses else sa.false()


def present(
    *,
    session: Session,
    events: Sequence[Event],
    now: datetime,
    members_of: Collection[uuid.UUID] = (),
) -> list[EventPublic]:
    """Events as a reader sees them: one about a bid still sealed at ``now`` carries only
    ``seal.sealed_data`` unless the reader is a member of it (``members_of``)."""
    named = {e.application_id for e in events if e.application_id is not None}
    sealed = seal.sealed_application_ids(
        session=session, application_ids=named - set(members_of), now=now
    )
    out: list[EventPublic] = []
    for event in events:
        public = EventPublic.model_validate(event, from_attributes=True)
        if event.application_id is not None and event.application_id in sealed:
            public.data = seal.sealed_data(event.application_id)
        out.append(public)
    return out


def read_feed(
    *,
    session: Session,
    actor: Actor,
    after_seq: int,
    types: Collection[str] | None,
    limit: int,
    now: datetime,
) -> FeedPage:
    """Up to ``limit`` events after ``after_seq`` that ``actor`` may read, oldest first."""
    ensure_can_read_feed(actor)
    statement = (
        select(Event)
        .where(col(Event.seq) > after_seq, visible_to(actor))
        .order_by(col(Event.seq))
        .limit(min(max(limit, 1), MAX_LIMIT))
    )
    if types:
        statement = statement.where(col(Event.type).in_(sorted(types)))
    rows = list(session.exec(statement).all())
    if not rows:
        return FeedPage(items=[], last_seq=after_seq, last_id=None)
    named = {e.application_id for e in rows if e.application_id is not None}
    members_of: set[uuid.UUID] = set()
    if named:
        members_of = set(
            session.execute(
                _own_applications(actor).where(
                    col(ApplicationOrganization.application_id).in_(list(named))
                )
            ).scalars()
        )
    items = present(session=session, events=rows, now=now, members_of=members_of)
    return FeedPage(items=items, last_seq=rows[-1].seq, last_id=rows[-1].id)
