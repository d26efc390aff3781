"""Mail to send: one row per (event or reminder, recipient), its key unique, so a mail is
composed once whatever the retries; the row is the log of its sending."""

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import new_id, utc_column


class MailStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    sent = "sent"
    failed = "failed"


class MailMessage(SQLModel, table=True):
    __tablename__ = "mail_message"
    __table_args__ = (sa.Index("ix_mail_message_due", "status", "next_attempt_at"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    """What the mail is for and to whom: ``<event id>:<user id>[:<application id>]`` or
    ``reminder-<hours>:<round id>:<user id>``."""
    recipient_id: uuid.UUID
    recipient: str = Field(max_length=320)
    locale: str = Field(max_length=10)
    subject: str = Field(max_length=300)
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    html: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    status: str = Field(default=MailStatus.pending.value, max_length=20)
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=500)
    next_attempt_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    created_at: datetime = Field(sa_column=utc_column())
    sent_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
