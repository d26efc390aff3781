"""What a round's decision shows, one schema per reader: the admin's whole ranking (stored, or
previewed before closing) and an applicant's own rows once the results are published.
Reviewers read no results. Each view lists exactly what its reader may see; nothing is built
by removing fields from a larger one."""

import uuid
from datetime import datetime
from typing import Literal

from sqlmodel import Field, SQLModel

Reason = Literal["shortlisted", "gate_failed", "below_threshold", "below_min_total", "below_cutoff"]


class RankingRowBase(SQLModel):
    """One application's outcome, as every reader of its row sees it."""

    application_id: uuid.UUID
    rank: int | None = Field(description="Null for a row failing a gate, a threshold or min_total")
    total: float | None
    total_exact: str | None = Field(description="The total as the exact decimal the hash covers")
    criteria: dict[str, float] = Field(description="Each criterion's aggregate, by key")
    n_reviews: int
    gates_passed: bool
    shortlisted: bool
    reason: Reason


class RankingRowAdmin(RankingRowBase):
    margin: float | None = Field(
        description=(
            "Shortlisted: the distance to the first ranked row below the cut-off; below it: "
            "the distance to the last shortlisted row; null for unranked rows"
        )
    )
    stable: bool = Field(description="The outcome is the same with any one reviewer left out")


class RankingRowApplicant(RankingRowBase):
    comments_to_applicant: list[str] = Field(
        description="The reviewers' comments to the applicant (no names, nothing confidential)"
    )


class RankingAdminBase(SQLModel):
    """The whole ranking with its hashes, as an admin sees it."""

    closed_at: datetime | None
    inputs_sha256: str
    result_sha256: str
    cutoff_total: float | None = Field(description="The last shortlisted total; null if none")
    n_shortlisted: int
    n_stable: int
    missing_reviews: int
    ranking: list[RankingRowAdmin]


class ResultsAdmin(RankingAdminBase):
    """A closed round's stored decision, whole (admin)."""

    closed_at: datetime


class ShortlistPreview(RankingAdminBase):
    """What closing the round now would decide; stored nowhere, so never closed (admin)."""

    closed_at: None = None


class ResultsApplicant(SQLModel):
    """A published round's rows of the caller's own applications, with feedback (applicant)."""

    closed_at: datetime
    published_at: datetime
    ranking: list[RankingRowApplicant]
