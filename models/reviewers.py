"""The evaluation side's data: round panels, reviewer profiles, declared conflicts,
assignments, reviews and the stored result of a closed round."""

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import field_validator
from sqlmodel import Field, SQLModel

from models.applications import ApplicationView
from models.base import InputModel, json_column, json_text_column, new_id, utc_column


def _normalized_words(value: list[str]) -> list[str]:
    out: list[str] = []
    for raw in value:
        word = " ".join(raw.split()).lower()
        if not word or len(word) > 60:
            raise ValueError("keywords are 1 to 60 characters")
        if word not in out:
            out.append(word)
    return out


def _normalized_domains(value: list[str]) -> list[str]:
    out: list[str] = []
    for raw in value:
        domain = raw.strip().lower().rstrip(".")
        labels = domain.split(".")
        if len(labels) < 2 or not all(
            label and len(label) <= 63 and label.replace("-", "").isalnum() for label in labels
        ):
            raise ValueError(f"not a domain name: {raw!r}")
        if domain not in out:
            out.append(domain)
    return out


# --- panels and profiles -----------------------------------------------------------------------


class RoundReviewer(SQLModel, table=True):
    """A reviewer on a round's panel."""

    __tablename__ = "round_reviewer"
    __table_args__ = (sa.UniqueConstraint("round_id", "user_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    round_id: uuid.UUID = Field(foreign_key="round.id", index=True)
    user_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    max_assignments: int
    expertise: list[str] = Field(default_factory=list, sa_column=json_column())
    created_at: datetime = Field(sa_column=utc_column())


class RoundReviewerCreate(InputModel):
    user_id: uuid.UUID
    max_assignments: int = Field(ge=0, le=10_000)
    expertise: list[str] = Field(default_factory=list, max_length=50)

    _expertise = field_validator("expertise")(_normalized_words)


class RoundReviewerPublic(SQLModel):
    id: uuid.UUID
    round_id: uuid.UUID
    user_id: uuid.UUID
    name: str
    email: str
    max_assignments: int
    expertise: list[str]
    load: int
    created_at: datetime


class ReviewerProfile(SQLModel, table=True):
    """What conflict detection and matching know of a reviewer across rounds."""

    __tablename__ = "reviewer_profile"

    user_id: uuid.UUID = Field(foreign_key="user.id", primary_key=True)
    affiliations: list[str] = Field(default_factory=list, sa_column=json_column())
    email_domains: list[str] = Field(default_factory=list, sa_column=json_column())
    expertise: list[str] = Field(default_factory=list, sa_column=json_column())
    statement: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    publications: list[dict[str, Any]] = Field(default_factory=list, sa_column=json_column())
    version: int = 1
    updated_at: datetime = Field(sa_column=utc_column())


MAX_STATEMENT_CHARS = 20_000
MAX_PUBLICATIONS = 200


class Publication(InputModel):
    """One of a reviewer's publications, as text affinity reads it."""

    title: str = Field(min_length=1, max_length=1000)
    abstract: str = Field(default="", max_length=20_000)
    year: int | None = Field(default=None, ge=1000, le=9999)


class ReviewerProfileIn(InputModel):
    affiliations: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    email_domains: list[str] = Field(default_factory=list, max_length=50)
    expertise: list[str] = Field(default_factory=list, max_length=50)
    statement: str = Field(default="", max_length=MAX_STATEMENT_CHARS)
    publications: list[Publication] = Field(default_factory=list, max_length=MAX_PUBLICATIONS)

    _domains = field_validator("email_domains")(_normalized_domains)
    _expertise = field_validator("expertise")(_normalized_words)


class ReviewerProfilePublic(SQLModel):
    user_id: uuid.UUID
    affiliations: list[uuid.UUID]
    email_domains: list[str]
    expertise: list[str]
    statement: str
    publications: list[Publication]
    version: int
    updated_at: datetime


# --- affinity ----------------------------------------------------------------------------------


class AffinitySource(StrEnum):
    text = "text"
    keywords = "keywords"
    imported = "imported"


class RoundAffinity(SQLModel, table=True):
    """One scored (application, reviewer) pair of a round, by source. Stored sparsely: text
    affinity keeps each application's best reviewers; a missing pair scores 0."""

    __tablename__ = "round_affinity"
    __table_args__ = (
        sa.UniqueConstraint("round_id", "source", "application_id", "reviewer_id"),
        sa.UniqueConstraint("round_id", "source", "application_id", "rank"),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    round_id: uuid.UUID = Field(foreign_key="round.id")
    application_id: uuid.UUID = Field(foreign_key="application.id")
    reviewer_id: uuid.UUID = Field(foreign_key="user.id")
    source: AffinitySource = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    score: float
    rank: int
    """1 for the application's best reviewer by this source, then 2, ... (ties by reviewer id)."""
    evidence: list[str] = Field(default_factory=list, sa_column=json_column())


class AffinityComputation(SQLModel, table=True):
    """When a round's text affinity was last computed (after the seal lifted) and of what."""

    __tablename__ = "affinity_computation"

    round_id: uuid.UUID = Field(foreign_key="round.id", primary_key=True)
    computed_at: datetime = Field(sa_column=utc_column())
    applications: int
    reviewers: int
    documents: int
    pairs: int
    inputs_sha256: str = Field(max_length=64)
    """Of what the text was computed from (panel, profiles, applications, documents): a
    different fingerprint now means the stored scores are stale."""


class AffinityPublic(SQLModel):
    application_id: uuid.UUID
    reviewer_id: uuid.UUID
    score: float
    source: AffinitySource
    evidence: list[str]


class ImportedAffinity(InputModel):
    application_id: uuid.UUID
    reviewer_id: uuid.UUID
    score: float = Field(ge=-1e9, le=1e9)


class AffinityImport(InputModel):
    items: list[ImportedAffinity] = Field(max_length=1_000_000)


class AffinityImportResult(SQLModel):
    round_id: uuid.UUID
    imported: int


# --- preferences -------------------------------------------------------------------------------


class PreferenceLevel(StrEnum):
    eager = "eager"
    willing = "willing"
    not_willing = "not_willing"
    conflict = "conflict"


class ReviewerPreference(SQLModel, table=True):
    """A panel reviewer's stated preference for one application of a round."""

    __tablename__ = "reviewer_preference"
    __table_args__ = (sa.UniqueConstraint("round_id", "reviewer_id", "application_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    round_id: uuid.UUID = Field(foreign_key="round.id", index=True)
    reviewer_id: uuid.UUID = Field(foreign_key="user.id")
    application_id: uuid.UUID = Field(foreign_key="application.id")
    preference: PreferenceLevel = Field(sa_column=sa.Column(sa.String(20), nullable=False))
    updated_at: datetime = Field(sa_column=utc_column())


class PreferenceIn(InputModel):
    preference: PreferenceLevel


class PreferencePublic(SQLModel):
    round_id: uuid.UUID
    reviewer_id: uuid.UUID
    application_id: uuid.UUID
    preference: PreferenceLevel
    updated_at: datetime


class ApplicationForPreference(SQLModel):
    """What a panel reviewer sees of an application to state a preference: no more."""

    id: uuid.UUID
    title: str
    summary: str
    keywords: list[str]


# --- conflicts ---------------------------------------------------------------------------------


class DeclaredConflictRow(SQLModel, table=True):
    """A conflict declared by an admin or by the reviewer (a recusal records one)."""

    __tablename__ = "declared_conflict"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    round_id: uuid.UUID = Field(foreign_key="round.id", index=True)
    reviewer_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    organization_id: uuid.UUID | None = Field(default=None, foreign_key="organization.id")
    application_id: uuid.UUID | None = Field(default=None, foreign_key="application.id")
    reason: str = Field(max_length=1000)
    declared_by: uuid.UUID = Field(foreign_key="user.id")
    created_at: datetime = Field(sa_column=utc_column())


class ConflictCreate(InputModel):
    reviewer_id: uuid.UUID
    organization_id: uuid.UUID | None = None
    application_id: uuid.UUID | None = None
    reason: str = Field(min_length=1, max_length=1000)


class DeclaredConflictPublic(SQLModel):
    id: uuid.UUID
    round_id: uuid.UUID
    reviewer_id: uuid.UUID
    organization_id: uuid.UUID | None
    application_id: uuid.UUID | None
    reason: str
    source: Literal["declared"] = "declared"
    created_at: datetime


class ConflictPublic(SQLModel):
    reviewer_id: uuid.UUID
    application_id: uuid.UUID
    organization_id: uuid.UUID | None
    reason: str
    source: Literal["detected", "declared"]


# --- assignments -------------------------------------------------------------------------------


class AssignmentStatus(StrEnum):
    active = "active"
    recused = "recused"
    conflicted = "conflicted"
    """Ended because a conflict arose after it was made (a membership added later, a domain
    verified, a profile changed, a declaration, or found at close); its review never counts."""


class Assignment(SQLModel, table=True):
    """A reviewer assigned to an application. Removing one deletes it (audited); a recusal keeps
    it, ended, beside the conflict it declared; a conflict arising later keeps it, ended as
    ``conflicted``."""

    __tablename__ = "assignment"
    __table_args__ = (sa.UniqueConstraint("application_id", "reviewer_id"),)

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    round_id: uuid.UUID = Field(foreign_key="round.id", index=True)
    application_id: uuid.UUID = Field(foreign_key="application.id", index=True)
    reviewer_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    affinity: float = 0.0
    status: AssignmentStatus = Field(
        default=AssignmentStatus.active, sa_column=sa.Column(sa.String(20), nullable=False)
    )
    source: str = Field(default="manual", max_length=20)
    created_at: datetime = Field(sa_column=utc_column())
    ended_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class AssignmentCreate(InputModel):
    application_id: uuid.UUID
    reviewer_id: uuid.UUID


class AutoAssignRequest(InputModel):
    dry_run: bool = True


class AssignmentPublic(SQLModel):
    id: uuid.UUID
    round_id: uuid.UUID
    application_id: uuid.UUID
    reviewer_id: uuid.UUID
    affinity: float
    status: AssignmentStatus


class MyAssignmentPublic(AssignmentPublic):
    """A reviewer's assignment with its application, once the round is in review (before
    that, or once the assignment has ended, ``application`` is null)."""

    application: ApplicationView | None


class PlannedAssignment(SQLModel):
    application_id: uuid.UUID
    reviewer_id: uuid.UUID
    affinity: float
    """The pair's score from the round's affinity source (0 when not scored)."""
    evidence: list[str] = Field(default_factory=list)
    """The terms that matched (text affinity) or the shared keywords."""
    preference: PreferenceLevel | None = None


class AutoAssignStats(SQLModel):
    """What the planner worked with and what its plan comes to."""

    applications: int
    reviewers: int
    new_assignments: int
    kept_assignments: int
    total_affinity: float
    affinity_source: AffinitySource = Field(description="Where the plan's affinities came from")
    affinity_computed_at: datetime | None = Field(
        description="When text affinity was last computed (null: not yet, or not text)"
    )
    preferences_honoured: dict[str, int] = Field(
        description="How many planned pairs carry each stated preference (eager, not_willing)"
    )
    min_load: int
    max_load: int
    solve_seconds: float
    conflicts: int


class AutoAssignResult(SQLModel):
    assignments: list[PlannedAssignment]
    stats: AutoAssignStats
    applied: bool


class RecusalIn(InputModel):
    reason: str = Field(min_length=1, max_length=1000)


# --- reviews -----------------------------------------------------------------------------------


class ReviewStatus(StrEnum):
    draft = "draft"
    submitted = "submitted"


class Review(SQLModel, table=True):
    """One review per assignment: a draft until submitted."""

    __tablename__ = "review"

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    assignment_id: uuid.UUID = Field(foreign_key="assignment.id", unique=True)
    round_id: uuid.UUID = Field(foreign_key="round.id", index=True)
    application_id: uuid.UUID = Field(foreign_key="application.id", index=True)
    reviewer_id: uuid.UUID = Field(foreign_key="user.id", index=True)
    scores: dict[str, Any] = Field(default_factory=dict, sa_column=json_column())
    gates: dict[str, str] = Field(default_factory=dict, sa_column=json_column())
    comment_to_applicant: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    confidential_comment: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False))
    status: ReviewStatus = Field(
        default=ReviewStatus.draft, sa_column=sa.Column(sa.String(20), nullable=False)
    )
    version: int = 1
    created_at: datetime = Field(sa_column=utc_column())
    updated_at: datetime = Field(sa_column=utc_column())
    submitted_at: datetime | None = Field(default=None, sa_column=utc_column(nullable=True))


class ReviewIn(InputModel):
    """A review draft; numbers are kept exactly as sent (as decimal strings)."""

    scores: dict[str, float] = Field(default_factory=dict, max_length=100)
    gates: dict[str, Literal["pass", "fail"]] = Field(default_factory=dict, max_length=100)
    comment_to_applicant: str = Field(default="", max_length=50_000)
    confidential_comment: str = Field(default="", max_length=50_000)


class ReviewPublic(SQLModel):
    id: uuid.UUID
    assignment_id: uuid.UUID
    application_id: uuid.UUID
    scores: dict[str, float]
    gates: dict[str, str]
    comment_to_applicant: str
    confidential_comment: str
    status: ReviewStatus
    version: int
    updated_at: datetime
    submitted_at: datetime | None


# --- results -----------------------------------------------------------------------------------


class RoundResult(SQLModel, table=True):
    """The stored outcome of closing a round, with hashes of its canonical inputs and result so
    anyone can recompute and compare (``shortlist verify-result``)."""

    __tablename__ = "round_result"

    round_id: uuid.UUID = Field(foreign_key="round.id", primary_key=True)
    closed_at: datetime = Field(sa_column=utc_column())
    closed_by: uuid.UUID = Field(foreign_key="user.id")
    inputs: dict[str, Any] = Field(sa_column=json_text_column())
    inputs_sha256: str = Field(max_length=64)
    result: dict[str, Any] = Field(sa_column=json_text_column())
    result_sha256: str = Field(max_length=64)
