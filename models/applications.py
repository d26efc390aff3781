"""Applications: a consortium's bid (a lead organization plus members) in a round, its
participation rows, and the receipt a submission earns."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, field_validator
from sqlmodel import Field, SQLModel

from models.base import InputModel, json_column, new_id, utc_column
from models.rounds import refuse_null


class ApplicationStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"
    withdrawn = "withdrawn"
    # Set by closing a round; applicants see ``submitted`` until the round is published.
    shortlisted = "shortlisted"
    not_selected = "not_selected"


LIVE_STATUSES = frozenset(
    {
        ApplicationStatus.draft,
        ApplicationStatus.submitted,
        ApplicationStatus.shortlisted,
        ApplicationStatus.not_selected,
    }
)
LEAD_ROLE = "lead"


class Application(SQLModel, table=True):
    __tablename__ = "application"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    round_id: uuid.UUID = Field(foreign_key="round.id", index=True)
    lead_organization_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    title: str = Field(max_length=300)
    summary: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    keywords: list[str] = Field(default_factory=list, sa_column=json_column())
    status: ApplicationStatus = Field(
        default=ApplicationStatus.draft, sa_column=sa.Column(sa.String(20), nullable=False)
    )
    version: int = 1
    created_by: uuid.UUID = Field(foreign_key="user.id")
    created_at: datetime = Field(sa_column=utc_column(index=True))
    updated_at: datetime = Field(sa_column=utc_column())
    submitted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    withdrawn_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


READ_STAMP = sa.Column("read_stamp", sa.BigInteger(), nullable=False, server_default="0")
"""Grows whenever anything an application's read (``ONE_APPLICATION``) shows may have changed:
kept by database triggers (migrations ``0012_rcache`` to ``0014_rinsert``: an inserted row starts
at a random stamp), on every write path. In the table, not
in the ORM's mapping (the class's attributes were mapped before it was added): no session
writes or reads it, only the cached read (``api.application_answers``) and the triggers."""
Application.__table__.append_column(READ_STAMP)  # type: ignore[attr-defined]


LIVE_PARTICIPATION = "withdrawn_at IS NULL AND confirmed_at IS NOT NULL"
"""The rows of ``uq_application_organization_live``: confirmed parts of live applications."""


class ApplicationOrganization(SQLModel, table=True):
    """An organization's part in an application (the lead included). The partial unique index
    keeps an organization confirmed in at most one live application per round, under any
    concurrency; an unconfirmed listing is outside it, so it blocks nothing."""

    __tablename__ = "application_organization"
    __table_args__ = (
        sa.UniqueConstraint("application_id", "organization_id"),
        sa.Index(
            "uq_application_organization_live",
            "round_id",
            "organization_id",
            unique=True,
            sqlite_where=sa.text(LIVE_PARTICIPATION),
            postgresql_where=sa.text(LIVE_PARTICIPATION),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    application_id: uuid.UUID = Field(foreign_key="application.id", index=True)
    round_id: uuid.UUID = Field(foreign_key="round.id")
    organization_id: uuid.UUID = Field(foreign_key="organization.id", index=True)
    role: str = Field(max_length=100)
    is_lead: bool = False
    # Set when an owner of the organization confirms (the lead's: when its bid is created).
    confirmed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    confirmed_by: uuid.UUID | None = Field(default=None, foreign_key="user.id")
    # Set when the application is withdrawn: the organization is free to bid again.
    withdrawn_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class Receipt(SQLModel, table=True):
    """Proof of a submission. ``reopen`` and ``withdraw`` void it; at most one is valid."""

    __tablename__ = "receipt"
    __table_args__ = (
        sa.Index(
            "uq_receipt_valid",
            "application_id",
            unique=True,
            sqlite_where=sa.text("voided_at IS NULL"),
            postgresql_where=sa.text("voided_at IS NULL"),
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    application_id: uuid.UUID = Field(foreign_key="application.id", index=True)
    received_at: datetime = Field(sa_column=utc_column())
    application_sha256: str = Field(max_length=64)
    documents: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    audit_seq: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    audit_hash: str = Field(max_length=64)
    voided_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


# --- API schemas -------------------------------------------------------------------------------


def _normalized_keywords(value: list[str]) -> list[str]:
    out: list[str] = []
    for raw in value:
        word = " ".join(raw.split()).lower()
        if not word or len(word) > 60:
            raise ValueError("keywords are 1 to 60 characters")
        if word not in out:
            out.append(word)
    return out


class ApplicationMemberIn(InputModel):
    organization_id: uuid.UUID
    role: str = Field(default="member", min_length=1, max_length=100)


class ApplicationCreate(InputModel):
    title: str = Field(min_length=1, max_length=300)
    summary: str = Field(default="", max_length=20000)
    lead_organization_id: uuid.UUID
    members: list[ApplicationMemberIn] = Field(default_factory=list, max_length=50)
    keywords: list[str] = Field(default_factory=list, max_length=20)

    _keywords = field_validator("keywords")(_normalized_keywords)


class ApplicationUpdate(InputModel):
    """A partial draft: each field given replaces the stored one (``members`` as a whole; members
    kept keep their confirmation)."""

    title: str | None = Field(default=None, min_length=1, max_length=300)
    summary: str | None = Field(default=None, max_length=20000)
    members: list[ApplicationMemberIn] | None = Field(default=None, max_length=50)
    keywords: list[str] | None = Field(default=None, max_length=20)

    _no_null = field_validator("*", mode="before")(refuse_null)
    _keywords = field_validator("keywords")(_normalized_keywords)


class _View(BaseModel):
    """The application read models: plain pydantic, not SQLModel, because they are never tables
    and are built on the busiest read path (issue 8), where SQLModel's instance creation cost
    about 2 us more per object (an application with three organizations: four objects). Same
    fields, same validation, same OpenAPI schema (compared when this changed)."""

    model_config = ConfigDict(from_attributes=True)


class ApplicationOrganizationPublic(_View):
    organization_id: uuid.UUID
    name: str
    role: str
    lead: bool
    confirmed: bool
    confirmed_at: datetime | None


class ReceiptDocument(_View):
    id: uuid.UUID
    kind: str
    sha256: str


class ReceiptPublic(_View):
    receipt_id: uuid.UUID
    received_at: datetime
    application_sha256: str
    documents: list[ReceiptDocument]
    audit_hash: str


class ApplicationSealed(_View):
    """What an admin sees of a bid before the submission deadline plus grace has passed."""

    id: uuid.UUID
    title: str
    status: ApplicationStatus
    organizations: list[ApplicationOrganizationPublic]


class ApplicationPublic(ApplicationSealed):
    round_id: uuid.UUID
    lead_organization_id: uuid.UUID | None
    """``None`` (and ``organizations`` empty) for reviewers of a blind round."""
    summary: str
    keywords: list[str]
    version: int
    created_at: datetime
    updated_at: datetime
    submitted_at: datetime | None
    receipt: ReceiptPublic | None


ApplicationView = ApplicationPublic | ApplicationSealed
