"""The append-only, hash-chained audit log."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import json_column, utc_column


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    seq: int = Field(sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=False))
    at: datetime = Field(sa_column=utc_column())
    actor: str = Field(max_length=200)
    action: str = Field(max_length=100, index=True)
    object_type: str = Field(max_length=50)
    object_id: str = Field(max_length=100, index=True)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """One row holding the chain's head; locking it serializes appends across processes."""

    __tablename__ = "audit_head"

    id: int = Field(default=1, primary_key=True)
    seq: int = Field(default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, default=0))
    hash: str = Field(default="0" * 64, max_length=64)


class AuditEventPublic(SQLModel):
    seq: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_id: str
    data: dict[str, Any] = Field(
        description=(
            "What the event recorded. For an event about an application whose bid is still "
            "sealed (its round's submission deadline plus grace has not passed), only "
            '`{"sealed": true, "application_id": "<id>"}`: no document names, sizes or hashes, '
            "no receipt hashes, no summary, until the seal lifts. `hash` is always the stored "
            "event's, computed over its whole data, so the chain verifies."
        )
    )
    hash: str


class AuditVerification(SQLModel):
    ok: bool
    length: int
    head: str
    first_bad_seq: int | None = None
    detail: str | None = None
