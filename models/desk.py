"""The program officer's desk: how a round's review is going (``progress``)."""

import uuid
from datetime import datetime

from sqlmodel import Field, SQLModel


class AssignmentCounts(SQLModel):
    """The round's assignments by where they stand; the five parts add up to ``total``."""

    total: int
    submitted: int = Field(description="Active, with a submitted review")
    in_progress: int = Field(description="Active, with a draft review")
    not_started: int = Field(description="Active, with no review yet")
    recused: int
    conflicted: int


class ReviewerProgress(SQLModel):
    reviewer_id: uuid.UUID
    name: str
    assigned: int = Field(description="Active assignments")
    submitted: int = Field(description="Of those, with a submitted review")
    overdue: int = Field(
        description="Active assignments without a submitted review once the review deadline "
        "has passed (0 before it)"
    )


class ApplicationProgress(SQLModel):
    application_id: uuid.UUID
    title: str
    reviews_needed: int = Field(description="The round's reviewers_per_application")
    reviews_submitted: int = Field(description="Submitted reviews of active assignments")


class RoundProgress(SQLModel):
    """Review progress of a round in review or later (admin)."""

    round_id: uuid.UUID
    review_deadline: datetime
    deadline_passed: bool = Field(description="Whether the review deadline has passed (now)")
    assignments: AssignmentCounts
    reviewers: list[ReviewerProgress]
    applications: list[ApplicationProgress]
