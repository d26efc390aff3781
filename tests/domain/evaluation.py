"""The evaluation side's world for domain tests, made through the services themselves: a round
with submitted bids, put in review, a panel, assignments and reviews. Times come from ``NOW``:
bids are submitted at ``NOW``, review starts at ``REVIEW_STARTS`` and reviews are written at
``REVIEWING`` (the default round's submission deadline is ``NOW`` + 7 days, its review deadline
``NOW`` + 14 days)."""

from datetime import timedelta
from typing import Any

from sqlmodel import Session

from models.applications import Application
from models.concurrency import Precondition, etag
from models.errors import DomainError
from models.identity import Role, User
from models.reviewers import Assignment, AssignmentCreate, Review, ReviewIn, RoundReviewerCreate
from models.rounds import Round
from reviewers.assignments import create_assignment
from reviewers.pool import add_reviewer
from reviewers.reviews import put_review, submit_review
from submissions.applications import submit_application
from submissions.rounds import start_review
from tests.factories import NOW, actor_of, make_application, make_user

REVIEW_STARTS = NOW + timedelta(days=7, seconds=1)
REVIEWING = NOW + timedelta(days=8)
REVIEW_DEADLINE = NOW + timedelta(days=14)


def refusal(error: BaseException) -> tuple[int, str]:
    """A domain refusal as the client sees it: its status and problem type."""
    assert isinstance(error, DomainError), repr(error)
    return error.status, error.type


def make_reviewer(session: Session, *, email: str | None = None) -> User:
    return make_user(session, roles=[Role.reviewer], email=email)


def submitted_bids(
    session: Session, round_: Round, count: int, *, minutes_apart: int = 0
) -> list[Application]:
    """``count`` bids by distinct applicants, submitted ``minutes_apart`` minutes apart from
    ``NOW`` in the order given."""
    bids = []
    for i in range(count):
        applicant = make_user(session)
        bid = make_application(session, round_, applicant, title=f"Bid {i}")
        bids.append(
            submit_application(
                session=session,
                actor=actor_of(applicant),
                application_id=bid.id,
                now=NOW + timedelta(minutes=i * minutes_apart),
            )
        )
        session.commit()
    return bids


def to_review(session: Session, round_: Round, admin: User) -> Round:
    reviewed = start_review(
        session=session, actor=actor_of(admin), round_id=round_.id, now=REVIEW_STARTS
    )
    session.commit()
    return reviewed


def seat(
    session: Session, round_: Round, admin: User, reviewer: User, *, max_assignments: int = 10
) -> None:
    """Put ``reviewer`` on the round's panel."""
    add_reviewer(
        session=session,
        actor=actor_of(admin),
        round_id=round_.id,
        data=RoundReviewerCreate(user_id=reviewer.id, max_assignments=max_assignments),
        now=REVIEW_STARTS,
    )
    session.commit()


def assign(
    session: Session, round_: Round, admin: User, bid: Application, reviewer: User
) -> Assignment:
    assignment = create_assignment(
        session=session,
        actor=actor_of(admin),
        round_id=round_.id,
        data=AssignmentCreate(application_id=bid.id, reviewer_id=reviewer.id),
        now=REVIEW_STARTS,
    )
    session.commit()
    return assignment


def write_review(
    session: Session,
    assignment: Assignment,
    reviewer: User,
    *,
    scores: dict[str, float],
    gates: dict[str, Any] | None = None,
    comment: str = "",
    submit: bool = True,
) -> Review:
    """The reviewer's review of ``assignment`` (gates default to all ``pass``), submitted unless
    ``submit=False``."""
    review, _ = put_review(
        session=session,
        actor=actor_of(reviewer),
        assignment_id=assignment.id,
        data=ReviewIn(
            scores=scores,
            gates=gates if gates is not None else {"legal": "pass"},
            comment_to_applicant=comment,
        ),
        precondition=None,
        now=REVIEWING,
    )
    session.commit()
    if submit:
        review = submit_review(
            session=session,
            actor=actor_of(reviewer),
            assignment_id=assignment.id,
            precondition=Precondition(tags=frozenset({etag(review.version)})),
            now=REVIEWING,
        )
        session.commit()
    return review


def panel_of(session: Session, round_: Round, admin: User, count: int) -> list[User]:
    """``count`` reviewers, each seated on the round's panel."""
    reviewers = [make_reviewer(session) for _ in range(count)]
    for reviewer in reviewers:
        seat(session, round_, admin, reviewer)
    return reviewers
