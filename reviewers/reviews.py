"""Reviews: one per assignment, a draft (PUT) until submitted; only the assigned reviewer
writes it, only while the round is in review and before the review deadline."""

import uuid
from datetime import datetime
from decimal import Decimal

from sqlmodel import Session, select

from models.concurrency import Precondition
from models.errors import Conflict, NotFound, PreconditionRequired, Unprocessable
from models.events import EventAudience, EventType
from models.identity import Actor
from models.reviewers import (
    Assignment,
    AssignmentStatus,
    Review,
    ReviewIn,
    ReviewPublic,
    ReviewStatus,
)
from models.rounds import Criterion, Round, RoundStatus
from reviewers.assignments import assignment_for_reviewer, own_assignment
from submissions import audit, outbox
from submissions.rounds import lock_round


def exact(value: float | int | str | Decimal) -> Decimal:
    """A score as the decimal the client wrote (``7.1`` is 7.1, not its binary neighbour)."""
    return (
        value
        if isinstance(value, Decimal)
        else Decimal(repr(value) if isinstance(value, float) else str(value))
    )


def public(review: Review) -> ReviewPublic:
    return ReviewPublic.model_validate(review, from_attributes=True)


def _writable_round(session: Session, assignment: Assignment, now: datetime) -> Round:
    """The assignment's round, share-locked so a close cannot pass a review being written; then
    the assignment, locked and re-read. Round first, then assignment: the order in which a close
    (or a new conflict) ends assignments too, so that the two never wait for each other."""
    round_ = lock_round(session, assignment.round_id, shared=True)
    assert round_ is not None  # a foreign key
    session.refresh(assignment, with_for_update=True)
    if round_.status != RoundStatus.review:
        raise Conflict(
            f"reviews are written while the round is in review; it is {round_.status}",
            type="round-not-in-review",
        )
    if now > round_.review_deadline:
        raise Conflict("the review deadline has passed", type="review-deadline-passed")
    if assignment.status != AssignmentStatus.active:
        raise Conflict(f"the assignment has ended ({assignment.status})", type="assignment-ended")
    return round_


def _problems(
    round_: Round, scores: dict[str, float], gates: dict[str, str], *, complete: bool
) -> list[dict[str, object]]:
    criteria = {c.key: c for c in (Criterion.model_validate(c) for c in round_.criteria)}
    gate_keys = {g["key"] for g in round_.gates}
    problems: list[dict[str, object]] = []
    for key, value in sorted(scores.items()):
        criterion = criteria.get(key)
        if criterion is None:
            problems.append({"loc": ["body", "scores", key], "msg": "no such criterion"})
        elif not exact(value).is_finite():  # a NaN compares with nothing: refuse it first
            problems.append({"loc": ["body", "scores", key], "msg": "must be a finite number"})
        elif not exact(criterion.min) <= exact(value) <= exact(criterion.max):
            problems.append(
                {
                    "loc": ["body", "scores", key],
                    "msg": f"must be between {criterion.min:g} and {criterion.max:g}",
                }
            )
    for key in sorted(gates):
        if key not in gate_keys:
            problems.append({"loc": ["body", "gates", key], "msg": "no such gate"})
    if complete:
        for key in sorted(set(criteria) - set(scores)):
            problems.append({"loc": ["body", "scores", key], "msg": "a score is required"})
        for key in sorted(gate_keys - set(gates)):
            problems.append({"loc": ["body", "gates", key], "msg": "a pass or fail is required"})
    return problems


def put_review(
    *,
    session: Session,
    actor: Actor,
    assignment_id: uuid.UUID,
    data: ReviewIn,
    precondition: Precondition | None,
    now: datetime,
) -> tuple[Review, bool]:
    """Create or replace the review draft; returns (review, created). Replacing needs If-Match."""
    assignment = own_assignment(
        session=session, actor=actor, assignment_id=assignment_id, doing="writes this review"
    )
    round_ = _writable_round(session, assignment, now)
    review = session.exec(
        select(Review).where(Review.assignment_id == assignment.id).with_for_update()
    ).first()
    if review is not None:
        if precondition is None:
            raise PreconditionRequired("send If-Match with the review's ETag to replace it")
        precondition.ensure(review.version)
        if review.status == ReviewStatus.submitted:
            raise Conflict("the review has been submitted", type="review-submitted")
    problems = _problems(round_, data.scores, dict(data.gates), complete=False)
    if problems:
        raise Unprocessable("the review has invalid entries", errors=problems)
    created = review is None
    if review is None:
        review = Review(
            assignment_id=assignment.id,
            round_id=assignment.round_id,
            application_id=assignment.application_id,
            reviewer_id=assignment.reviewer_id,
            created_at=now,
            updated_at=now,
            version=0,
        )
    review.scores = {k: float(v) for k, v in data.scores.items()}
    review.gates = dict(data.gates)
    review.comment_to_applicant = data.comment_to_applicant
    review.confidential_comment = data.confidential_comment
    review.version += 1
    review.updated_at = now
    session.add(review)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="review.saved",
        object_type="review",
        object_id=review.id,
        now=now,
        data={"assignment_id": str(assignment.id), "version": review.version},
    )
    return review, created


def get_review(*, session: Session, actor: Actor, assignment_id: uuid.UUID) -> Review:
    """The review of an assignment: its reviewer's, or any for an admin."""
    assignment = assignment_for_reviewer(session=session, actor=actor, assignment_id=assignment_id)
    review = session.exec(select(Review).where(Review.assignment_id == assignment.id)).first()
    if review is None:
        raise NotFound("no review has been written for this assignment")
    return review


def submit_review(
    *,
    session: Session,
    actor: Actor,
    assignment_id: uuid.UUID,
    precondition: Precondition | None,
    now: datetime,
) -> Review:
    """Submit the draft: every criterion scored in range and every gate decided, else 422
    listing each problem."""
    assignment = own_assignment(
        session=session, actor=actor, assignment_id=assignment_id, doing="writes this review"
    )
    round_ = _writable_round(session, assignment, now)
    review = session.exec(
        select(Review).where(Review.assignment_id == assignment.id).with_for_update()
    ).first()
    if review is None:
        raise Unprocessable(
            "write the review (PUT) before submitting it",
            type="review-missing",
            errors=[{"loc": ["body"], "msg": "no review draft"}],
        )
    if precondition is not None:
        precondition.ensure(review.version)
    if review.status == ReviewStatus.submitted:
        raise Conflict("the review has been submitted already", type="review-submitted")
    problems = _problems(round_, review.scores, review.gates, complete=True)
    if problems:
        raise Unprocessable("the review is not complete", type="review-incomplete", errors=problems)
    review.status = ReviewStatus.submitted
    review.submitted_at = now
    review.version += 1
    review.updated_at = now
    session.add(review)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="review.submitted",
        object_type="review",
        object_id=review.id,
        now=now,
        data={"assignment_id": str(assignment.id), "application_id": str(review.application_id)},
    )
    outbox.record(
        session=session,
        type=EventType.review_submitted,
        round_id=assignment.round_id,
        application_id=assignment.application_id,
        reviewer_id=assignment.reviewer_id,
        audience=EventAudience.reviewer,
        now=now,
        data={
            "assignment_id": str(assignment.id),
            "review_id": str(review.id),
            "reviewer_id": str(assignment.reviewer_id),
        },
    )
    return review
