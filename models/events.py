"""The outbox: events written in the same transaction as the change they tell of, read by the
event feed, webhook deliveries and mail."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import json_column, new_id, utc_column


class EventType(StrEnum):
    round_opened = "round.opened"
    round_review_started = "round.review_started"
    round_closed = "round.closed"
    round_published = "round.published"
    application_submitted = "application.submitted"
    application_reopened = "application.reopened"
    application_withdrawn = "application.withdrawn"
    document_scanned = "document.scanned"
    assignment_created = "assignment.created"
    assignment_ended = "assignment.ended"
    review_submitted = "review.submitted"


class EventAudience(StrEnum):
    """Who reads an event besides admins, decided once when it is written.

    - ``round``: the applicants whose organizations bid in the round;
    - ``application``: the members of the application's organizations;
    - ``reviewer``: the reviewer it names (``reviewer_id``).
    """

    round = "round"
    application = "application"
    reviewer = "reviewer"


class Event(SQLModel, table=True):
    __tablename__ = "event"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    seq: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False, unique=True))
    """The feed's order: allocated under the lock of ``event_head``, so in commit order."""
    type: str = Field(max_length=50, index=True)
    occurred_at: datetime = Field(sa_column=utc_column())
    round_id: uuid.UUID = Field(index=True)
    application_id: uuid.UUID | None = Field(default=None, index=True)
    audience: str = Field(max_length=20)
    reviewer_id: uuid.UUID | None = Field(default=None, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())


class EventHead(SQLModel, table=True):
    """One row holding the last ``seq``; locking it orders events by commit across processes."""

    __tablename__ = "event_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, default=0))


class EventPublic(SQLModel):
    id: uuid.UUID
    type: EventType
    occurred_at: datetime
    round_id: uuid.UUID
    application_id: uuid.UUID | None
    data: dict[str, Any] = Field(
        description=(
            "What happened. For an event about an application whose bid is still sealed, to "
            'anyone but its own members only `{"sealed": true, "application_id": "<id>"}`.'
        )
    )


EVENTS_WRITTEN = "shortlist.events_written"
"""The key a session's ``info`` holds while its transaction has written events (who commits it
wakes the feed's readers)."""
EVENTS_CHANNEL = "shortlist_events"
"""The PostgreSQL channel ``NOTIFY``ed by every transaction that writes events."""
