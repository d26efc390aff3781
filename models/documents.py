"""Documents uploaded to an application: every upload of a kind is a new version."""

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.base import new_id, utc_column


class DocumentStatus(StrEnum):
    clean = "clean"
    pending_scan = "pending_scan"
    infected = "infected"


class Document(SQLModel, table=True):
    """One stored version of one document kind of an application. The current document of a
    kind is its highest version not deleted
    (``submissions.application_views.current_documents``)."""

    __tablename__ = "document"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "kind", "version"),
        # The scans' queue (oldest pending first, every minute) and the sweep's lookups by key
        # stay index reads however many documents a round's deadline brings.
        sa.Index("ix_document_status_created_at", "status", "created_at"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    application_id: uuid.UUID = Field(foreign_key="application.id", index=True)
    kind: str = Field(max_length=64)
    filename: str = Field(max_length=255)
    content_type: str = Field(max_length=255)
    size: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    sha256: str = Field(max_length=64)
    status: DocumentStatus = Field(
        default=DocumentStatus.clean, sa_column=sa.Column(sa.String(20), nullable=False)
    )
    storage_key: str = Field(max_length=500, index=True)
    version: int = 1
    uploaded_by: uuid.UUID = Field(foreign_key="user.id")
    created_at: datetime = Field(sa_column=utc_column())
    deleted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class DocumentPublic(SQLModel):
    """A stored document version as the people who may read the application see it (who
    uploaded it is left out: it would name an organization in a blind round)."""

    id: uuid.UUID
    application_id: uuid.UUID
    kind: str
    filename: str = Field(description="The uploaded file's name, sanitized")
    content_type: str = Field(description="The type sniffed from the content")
    size: int
    sha256: str
    status: DocumentStatus
    version: int = Field(description="1 for the first upload of a kind, then one more each time")
    current: bool = Field(description="Whether this is the version of its kind that counts")
    created_at: datetime
