"""A round in review, ready to close, made through the domain functions with an injected clock
(for the crash and race tests, whose servers run on the real clock)."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session

from models.identity import Organization, User
from models.reviewers import AssignmentCreate, ReviewIn, RoundReviewerCreate
from reviewers.assignments import create_assignment
from reviewers.pool import add_reviewer
from reviewers.reviews import put_review, submit_review
from submissions.applications import submit_application
from submissions.rounds import start_review
from tests.factories import actor_of, make_application, make_program, make_round


@dataclass(frozen=True)
class ReviewRound:
    round_id: uuid.UUID
    bids: list[uuid.UUID]
    assignments: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID]
    """(reviewer id, bid id) -> assignment id."""


def round_in_review(
    session: Session,
    *,
    admin: User,
    bidders: Sequence[tuple[User, Organization]],
    reviewers: Sequence[tuple[User, bool]],
    reviewed: int,
    now: datetime,
) -> ReviewRound:
    """A round whose submission deadline passed an hour before ``now``, in review: one bid per
    bidder, submitted; each reviewer assigned to the first ``reviewed`` bids with a review of
    each, submitted when the reviewer's flag says so and left a draft otherwise."""
    then = now - timedelta(hours=3)
    actor = actor_of(admin)
    round = make_round(
        session,
        program=make_program(session, admin=admin, now=then),
        admin=admin,
        now=then,
        submission_deadline=now - timedelta(hours=1),
        review_deadline=now + timedelta(days=7),
        reviewers_per_application=max(1, len(reviewers)),
    )
    bids = []
    for user, organization in bidders:
        bid = make_application(session, round, user, organization=organization, now=then)
        submit_application(session=session, actor=actor_of(user), application_id=bid.id, now=then)
        bids.append(bid.id)
    start_review(session=session, actor=actor, round_id=round.id, now=now - timedelta(minutes=30))
    assignments = {}
    for reviewer, submits in reviewers:
        add_reviewer(
            session=session,
            actor=actor,
            round_id=round.id,
            data=RoundReviewerCreate(user_id=reviewer.id, max_assignments=len(bids)),
            now=now,
        )
        for score, bid_id in enumerate(bids[:reviewed]):
            assignment = create_assignment(
                session=session,
                actor=actor,
                round_id=round.id,
                data=AssignmentCreate(application_id=bid_id, reviewer_id=reviewer.id),
                now=now,
            )
            assignments[reviewer.id, bid_id] = assignment.id
            put_review(
                session=session,
                actor=actor_of(reviewer),
                assignment_id=assignment.id,
                data=ReviewIn(scores={"impact": score % 10, "team": 5}, gates={"legal": "pass"}),
                precondition=None,
                now=now,
            )
            if submits:
                submit_review(
                    session=session,
                    actor=actor_of(reviewer),
                    assignment_id=assignment.id,
                    precondition=None,
                    now=now,
                )
    session.commit()
    return ReviewRound(round.id, bids, assignments)
