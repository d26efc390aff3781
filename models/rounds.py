"""Programs and rounds: a round's rubric, documents checklist, deadlines, shortlist rules and
eligibility, and its lifecycle ``draft -> open -> review -> closed -> published``."""

import uuid
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal, TypeAlias

import sqlalchemy as sa
from pydantic import AwareDatetime, StringConstraints, ValidationInfo, field_validator
from sqlmodel import Field, SQLModel

from models.base import InputModel, json_column, new_id, utc_column

KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""Criterion, gate and document-kind keys: a letter or digit, then letters, digits, ``_.-``."""

Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]

MAX_GRACE_SECONDS = 7 * 24 * 3600


class RoundStatus(StrEnum):
    draft = "draft"
    open = "open"
    review = "review"
    closed = "closed"
    published = "published"


class Aggregate(StrEnum):
    mean = "mean"
    median = "median"


class Calibration(StrEnum):
    none = "none"
    zscore = "zscore"


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


def refuse_null(value: Any, info: ValidationInfo) -> Any:
    if value is None:
        raise ValueError(f"{info.field_name} may not be null; leave it out to keep it")
    return value


# --- programs ----------------------------------------------------------------------------------


class ProgramBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=20000)


class Program(ProgramBase, table=True):
    __tablename__ = "program"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    name: str = Field(max_length=200)
    description: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    created_by: uuid.UUID = Field(foreign_key="user.id")
    created_at: datetime = Field(sa_column=utc_column(index=True))


class ProgramCreate(ProgramBase, InputModel):
    pass


class ProgramPublic(ProgramBase):
    id: uuid.UUID
    created_at: datetime


# --- round configuration -----------------------------------------------------------------------


class Criterion(InputModel):
    """A scored criterion: reviewers give a number in ``[min, max]``; ``threshold`` is the lowest
    aggregate that does not fail the application."""

    key: Key
    title: str = Field(min_length=1, max_length=200)
    weight: float = Field(gt=0)
    min: float
    max: float
    threshold: float | None = None


class Gate(InputModel):
    """A pass/fail criterion."""

    key: Key
    title: str = Field(min_length=1, max_length=200)


class RequiredDocument(InputModel):
    kind: Key
    title: str = Field(min_length=1, max_length=200)
    content_types: list[str] = Field(min_length=1, max_length=20)
    max_bytes: int = Field(gt=0, le=10 * 1024**3)

    @field_validator("content_types")
    @classmethod
    def _media_types(cls, value: list[str]) -> list[str]:
        out: list[str] = []
        for raw in value:
            media = raw.strip().lower()
            kind, slash, sub = media.partition("/")
            if not (kind and slash and sub) or any(c in media for c in " ;,*\t"):
                raise ValueError(f"not a media type such as application/pdf: {raw!r}")
            if media not in out:
                out.append(media)
        return out


class ShortlistRules(InputModel):
    size: int | None = Field(default=None, ge=0, le=1_000_000)
    min_total: float | None = None
    aggregate: Aggregate = Aggregate.mean
    calibration: Calibration = Calibration.none
    tie_break: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="`criterion:<key>` (descending), `submitted_at` (ascending) or `id`",
    )


class Eligibility(InputModel):
    only_shortlisted_from: uuid.UUID | None = None
    exclude_shortlisted_from: list[uuid.UUID] = Field(default_factory=list, max_length=50)


AffinitySetting: TypeAlias = Literal["text", "keywords", "imported"]


class RoundConfig(InputModel):
    """A round's whole configuration: the body of ``POST /programs/{id}/rounds``. Cross-field
    rules (unique keys, ranges, deadline order, references) are checked by
    ``submissions.rounds.validate_round_config``."""

    name: str = Field(min_length=1, max_length=200)
    opens_at: AwareDatetime
    submission_deadline: AwareDatetime
    grace_seconds: int = Field(default=0, ge=0, le=MAX_GRACE_SECONDS)
    review_deadline: AwareDatetime
    criteria: list[Criterion] = Field(default_factory=list, max_length=50)
    gates: list[Gate] = Field(default_factory=list, max_length=50)
    required_documents: list[RequiredDocument] = Field(default_factory=list, max_length=50)
    reviewers_per_application: int = Field(default=1, ge=1, le=100)
    shortlist: ShortlistRules = Field(default_factory=ShortlistRules)
    eligibility: Eligibility = Field(default_factory=Eligibility)
    blind: bool = False
    affinity: AffinitySetting = Field(
        default="text",
        description="What automatic assignment maximizes: `text` (what applicants and reviewers"
        " wrote, TF-IDF), `keywords` (shared keywords) or `imported` (scores put by an admin)",
    )

    _utc = field_validator("opens_at", "submission_deadline", "review_deadline")(_utc)


class RoundCreate(RoundConfig):
    pass


class RoundUpdate(InputModel):
    """A partial round: each top-level field given replaces the stored one (objects and lists
    whole). In ``draft`` anything may change; once open, only later deadlines."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    opens_at: AwareDatetime | None = None
    submission_deadline: AwareDatetime | None = None
    grace_seconds: int | None = Field(default=None, ge=0, le=MAX_GRACE_SECONDS)
    review_deadline: AwareDatetime | None = None
    criteria: list[Criterion] | None = Field(default=None, max_length=50)
    gates: list[Gate] | None = Field(default=None, max_length=50)
    required_documents: list[RequiredDocument] | None = Field(default=None, max_length=50)
    reviewers_per_application: int | None = Field(default=None, ge=1, le=100)
    shortlist: ShortlistRules | None = None
    eligibility: Eligibility | None = None
    blind: bool | None = None
    affinity: AffinitySetting | None = None

    _no_null = field_validator("*", mode="before")(refuse_null)
    _utc = field_validator("opens_at", "submission_deadline", "review_deadline")(_utc)


class Round(SQLModel, table=True):
    """A round; its configuration is kept as JSON (``config()`` gives it back typed)."""

    __tablename__ = "round"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    program_id: uuid.UUID = Field(foreign_key="program.id", index=True)
    name: str = Field(max_length=200)
    status: RoundStatus = Field(
        default=RoundStatus.draft, sa_column=sa.Column(sa.String(20), nullable=False)
    )
    opens_at: datetime = Field(sa_column=utc_column())
    submission_deadline: datetime = Field(sa_column=utc_column())
    grace_seconds: int = 0
    review_deadline: datetime = Field(sa_column=utc_column())
    reviewers_per_application: int = 1
    blind: bool = False
    affinity: str = Field(default="text", max_length=20)
    criteria: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    gates: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    required_documents: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    shortlist: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    eligibility: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    version: int = 1
    created_by: uuid.UUID = Field(foreign_key="user.id")
    created_at: datetime = Field(sa_column=utc_column(index=True))
    updated_at: datetime = Field(sa_column=utc_column())
    opened_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    review_started_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    closed_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))
    published_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))

    def config(self) -> RoundConfig:
        """The stored configuration, typed (criteria, gates, required documents, shortlist
        rules, eligibility, deadlines): what scoring and shortlisting read."""
        return RoundConfig.model_validate(
            {
                "name": self.name,
                "opens_at": self.opens_at,
                "submission_deadline": self.submission_deadline,
                "grace_seconds": self.grace_seconds,
                "review_deadline": self.review_deadline,
                "criteria": self.criteria,
                "gates": self.gates,
                "required_documents": self.required_documents,
                "reviewers_per_application": self.reviewers_per_application,
                "shortlist": self.shortlist,
                "eligibility": self.eligibility,
                "blind": self.blind,
                "affinity": self.affinity,
            }
        )

    @property
    def submissions_close_at(self) -> datetime:
        """The last instant a submission is accepted: the deadline plus the grace window."""
        return self.submission_deadline + timedelta(seconds=self.grace_seconds)


class RoundPublic(RoundConfig):
    id: uuid.UUID
    program_id: uuid.UUID
    status: RoundStatus
    version: int
    created_at: datetime
    updated_at: datetime
    opened_at: datetime | None
    review_started_at: datetime | None
    closed_at: datetime | None
    published_at: datetime | None
