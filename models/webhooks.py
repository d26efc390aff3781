"""Webhook endpoints and their deliveries (Standard Webhooks)."""

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from pydantic import Field as PydanticField
from sqlmodel import Field, SQLModel

from models.base import InputModel, json_column, new_id, utc_column
from models.events import EventType


class WebhookStatus(StrEnum):
    active = "active"
    disabled = "disabled"


class DeliveryStatus(StrEnum):
    pending = "pending"
    delivered = "delivered"
    failed = "failed"


class WebhookEndpoint(SQLModel, table=True):
    __tablename__ = "webhook_endpoint"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    url: str = Field(max_length=2000)
    event_types: list[str] = Field(default_factory=list, sa_column=json_column())
    description: str = Field(default="", max_length=1000)
    status: str = Field(default=WebhookStatus.active.value, max_length=20)
    secret: str = Field(max_length=200)
    """The signing key: kept as it is, since signing needs it (the database is trusted with it
    as with the token signing keys)."""
    previous_secret: str | None = Field(default=None, max_length=200)
    previous_secret_until: datetime | None = Field(
        default=None, sa_column=utc_column(nullable=True)
    )
    after_seq: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    """Events after this seq are delivered (those written once the endpoint existed)."""
    failing_since: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_by: uuid.UUID
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class WebhookDelivery(SQLModel, table=True):
    __tablename__ = "webhook_delivery"
    __table_args__ = (
        sa.UniqueConstraint("endpoint_id", "event_id"),
        sa.Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    endpoint_id: uuid.UUID = Field(foreign_key="webhook_endpoint.id", index=True)
    event_id: uuid.UUID = Field(foreign_key="event.id")
    event_seq: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    status: str = Field(default=DeliveryStatus.pending.value, max_length=20)
    attempts: int = 0
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
    delivered_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class EventCursor(SQLModel, table=True):
    """How far a reader of the outbox has come (``webhooks``, ``mail``): the last seq it took
    (its row is locked while it takes more)."""

    __tablename__ = "event_cursor"

    name: str = Field(primary_key=True, max_length=50)
    seq: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, default=0))


class WebhookCreate(InputModel):
    url: str = PydanticField(min_length=1, max_length=2000)
    event_types: list[EventType] = PydanticField(min_length=1, max_length=20)
    description: str = PydanticField(default="", max_length=1000)


class WebhookUpdate(InputModel):
    url: str | None = PydanticField(default=None, min_length=1, max_length=2000)
    event_types: list[EventType] | None = PydanticField(default=None, min_length=1, max_length=20)
    description: str | None = PydanticField(default=None, max_length=1000)
    status: WebhookStatus | None = None
    """``active`` turns a disabled endpoint back on; ``disabled`` pauses it."""


class WebhookPublic(SQLModel):
    id: uuid.UUID
    url: str
    event_types: list[EventType]
    description: str
    status: WebhookStatus
    created_at: datetime


class WebhookWithSecret(WebhookPublic):
    secret: str = PydanticField(description="`whsec_...`: shown once")


class DeliveryPublic(SQLModel):
    id: uuid.UUID
    event_id: uuid.UUID
    attempts: int
    status: DeliveryStatus
    last_status_code: int | None
    next_attempt_at: datetime | None
