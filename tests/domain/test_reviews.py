"""Reviews in the domain layer, with an injected clock: one draft per assignment written only by
its reviewer, replaced under If-Match, submitted once complete and in range, only while the
round is in review and up to the review deadline; scores that are not finite numbers never get
in."""

import math
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlmodel import Session, col, select

from models.audit import AuditEvent
from models.concurrency import ANY_VERSION, Precondition, etag
from models.errors import DomainError
from models.identity import User
from models.reviewers import Assignment, AssignmentStatus, Review, ReviewIn, ReviewStatus
from models.rounds import Round
from reviewers.assignments import recuse
from reviewers.closing import close_round, gather_inputs
from reviewers.reviews import get_review, put_review, submit_review
from tests.domain.evaluation import (
    REVIEW_DEADLINE,
    REVIEWING,
    assign,
    panel_of,
    refusal,
    submitted_bids,
    to_review,
    write_review,
)
from tests.factories import actor_of, make_admin, make_round, make_user

COMPLETE = {"impact": 7.5, "team": 6}


def assigned(session: Session) -> tuple[Round, User, User, Assignment]:
    """A round in review, its admin, a reviewer and the reviewer's assignment to one bid."""
    admin = make_admin(session)
    round_ = make_round(session, admin=admin)
    (bid,) = submitted_bids(session, round_, 1)
    round_ = to_review(session, round_, admin)
    (reviewer,) = panel_of(session, round_, admin, 1)
    return round_, admin, reviewer, assign(session, round_, admin, bid, reviewer)


def put(
    session: Session,
    reviewer: User,
    assignment: Assignment,
    *,
    scores: dict[str, float] | None = None,
    gates: dict[str, str] | None = None,
    precondition: Precondition | None = None,
    now: datetime = REVIEWING,
) -> tuple[Review, bool]:
    return put_review(
        session=session,
        actor=actor_of(reviewer),
        assignment_id=assignment.id,
        data=ReviewIn.model_validate(
            {"scores": scores if scores is not None else COMPLETE, "gates": gates or {}}
        ),
        precondition=precondition,
        now=now,
    )


def submit(
    session: Session,
    reviewer: User,
    assignment: Assignment,
    *,
    precondition: Precondition | None = None,
    now: datetime = REVIEWING,
) -> Review:
    return submit_review(
        session=session,
        actor=actor_of(reviewer),
        assignment_id=assignment.id,
        precondition=precondition,
        now=now,
    )


def tag(review: Review) -> Precondition:
    return Precondition(tags=frozenset({etag(review.version)}))


def saved(session: Session, assignment: Assignment) -> Review | None:
    return session.exec(select(Review).where(Review.assignment_id == assignment.id)).first()


# --- drafts -------------------------------------------------------------------------------------


def test_the_reviewer_writes_a_draft_and_replaces_it_with_its_etag(session: Session) -> None:
    _, _, reviewer, assignment = assigned(session)
    review, created = put(session, reviewer, assignment, scores={"impact": 7.1})
    session.commit()
    assert created is True
    assert (review.status, review.version, review.scores) == (
        ReviewStatus.draft,
        1,
        {"impact": 7.1},
    )
    assert (review.application_id, review.reviewer_id) == (
        assignment.application_id,
        reviewer.id,
    )
    replaced, created = put(
        session, reviewer, assignment, gates={"legal": "pass"}, precondition=tag(review)
    )
    session.commit()
    assert created is False
    assert replaced.id == review.id
    assert (replaced.version, replaced.scores, replaced.gates) == (
        2,
        COMPLETE,
        {"legal": "pass"},
    )
    actions = session.exec(
        select(AuditEvent.action)
        .where(AuditEvent.object_id == str(review.id))
        .order_by(col(AuditEvent.seq))
    ).all()
    assert actions == ["review.saved", "review.saved"]


def test_replacing_a_draft_needs_the_current_etag(session: Session) -> None:
    _, _, reviewer, assignment = assigned(session)
    review, _ = put(session, reviewer, assignment)
    session.commit()
    with pytest.raises(DomainError) as refused:
        put(session, reviewer, assignment, scores={"impact": 1})
    assert refusal(refused.value) == (428, "precondition-required")
    session.rollback()
    with pytest.raises(DomainError) as refused:
        put(
            session,
            reviewer,
            assignment,
            scores={"impact": 1},
            precondition=Precondition(tags=frozenset({etag(review.version + 1)})),
        )
    assert refusal(refused.value) == (412, "precondition-failed")
    session.rollback()
    unchanged = saved(session, assignment)
    assert unchanged is not None
    assert (unchanged.version, unchanged.scores) == (1, COMPLETE)


def test_entries_out_of_range_or_unknown_are_refused_each_located(session: Session) -> None:
    _, _, reviewer, assignment = assigned(session)
    with pytest.raises(DomainError) as refused:
        put(
            session,
            reviewer,
            assignment,
            scores={"impact": 10.5, "team": -1, "charm": 5},
            gates={"ethics": "pass"},
        )
    session.rollback()
    assert refusal(refused.value) == (422, "validation-error")
    assert [e["loc"] for e in refused.value.errors or []] == [
        ["body", "scores", "charm"],
        ["body", "scores", "impact"],
        ["body", "scores", "team"],
        ["body", "gates", "ethics"],
    ]
    assert saved(session, assignment) is None


def test_the_range_edges_are_scores(session: Session) -> None:
    _, _, reviewer, assignment = assigned(session)
    review, _ = put(session, reviewer, assignment, scores={"impact": 0, "team": 10})
    assert review.scores == {"impact": 0, "team": 10}


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_score_that_is_not_a_finite_number_is_refused(session: Session, value: float) -> None:
    _, _, reviewer, assignment = assigned(session)
    with pytest.raises(ValidationError, match="finite number"):
        ReviewIn.model_validate({"scores": {"impact": value}})
    # A caller that builds the input without validating it is refused by the service itself.
    with pytest.raises(DomainError) as refused:
        put_review(
            session=session,
            actor=actor_of(reviewer),
            assignment_id=assignment.id,
            data=ReviewIn.model_construct(
                scores={"impact": value, "team": 5},
                gates={},
                comment_to_applicant="",
                confidential_comment="",
            ),
            precondition=None,
            now=REVIEWING,
        )
    session.rollback()
    assert refusal(refused.value) == (422, "validation-error")
    assert refused.value.errors == [
        {"loc": ["body", "scores", "impact"], "msg": "must be a finite number"}
    ]
    assert saved(session, assignment) is None


def test_scores_are_kept_as_the_decimals_written(session: Session) -> None:
    round_, admin, reviewer, assignment = assigned(session)
    write_review(session, assignment, reviewer, scores={"impact": 7.1, "team": 0.3})
    inputs = gather_inputs(session=session, round_=round_)
    assert [r["scores"] for r in inputs["reviews"]] == [{"impact": "7.1", "team": "0.3"}]
    assert Decimal(inputs["reviews"][0]["scores"]["impact"]) == Decimal("7.1")
    assert admin.id != reviewer.id


# --- who writes ---------------------------------------------------------------------------------


def test_only_the_assigned_reviewer_writes_the_review(session: Session) -> None:
    round_, admin, reviewer, assignment = assigned(session)
    (other,) = panel_of(session, round_, admin, 1)
    with pytest.raises(DomainError) as refused:
        put(session, other, assignment)
    assert refusal(refused.value)[0] == 404  # another reviewer's assignment does not exist
    with pytest.raises(DomainError) as refused:
        put(session, admin, assignment)
    assert refusal(refused.value) == (403, "not-assigned-reviewer")
    with pytest.raises(DomainError) as refused:
        put(session, make_user(session), assignment)
    assert refusal(refused.value)[0] == 404
    with pytest.raises(DomainError) as refused:
        put_review(
            session=session,
            actor=actor_of(reviewer),
            assignment_id=uuid.uuid4(),
            data=ReviewIn(),
            precondition=None,
            now=REVIEWING,
        )
    assert refusal(refused.value)[0] == 404
    assert saved(session, assignment) is None


def test_the_reviewer_and_admins_read_a_review_and_nobody_else(session: Session) -> None:
    round_, admin, reviewer, assignment = assigned(session)
    with pytest.raises(DomainError) as refused:
        get_review(session=session, actor=actor_of(reviewer), assignment_id=assignment.id)
    assert refusal(refused.value)[0] == 404  # nothing written yet
    review = write_review(session, assignment, reviewer, scores=COMPLETE, submit=False)
    for reader in (reviewer, admin):
        found = get_review(session=session, actor=actor_of(reader), assignment_id=assignment.id)
        assert found.id == review.id
    (other,) = panel_of(session, round_, admin, 1)
    with pytest.raises(DomainError) as refused:
        get_review(session=session, actor=actor_of(other), assignment_id=assignment.id)
    assert refusal(refused.value)[0] == 404


# --- submitting ---------------------------------------------------------------------------------


def test_submitting_needs_every_score_and_gate(session: Session) -> None:
    _, _, reviewer, assignment = assigned(session)
    with pytest.raises(DomainError) as refused:
        submit(session, reviewer, assignment)
    assert refusal(refused.value) == (422, "review-missing")
    session.rollback()
    put(session, reviewer, assignment, scores={"impact": 5})
    session.commit()
    with pytest.raises(DomainError) as refused:
        submit(session, reviewer, assignment)
    session.rollback()
    assert refusal(refused.value) == (422, "review-incomplete")
    assert [e["loc"] for e in refused.value.errors or []] == [
        ["body", "scores", "team"],
        ["body", "gates", "legal"],
    ]
    review = saved(session, assignment)
    assert review is not None
    assert review.status == ReviewStatus.draft


def test_a_submitted_review_is_final(session: Session) -> None:
    _, _, reviewer, assignment = assigned(session)
    review, _ = put(session, reviewer, assignment, gates={"legal": "fail"})
    session.commit()
    draft_tag = tag(review)
    submitted = submit(session, reviewer, assignment, precondition=draft_tag)
    session.commit()
    assert (submitted.status, submitted.submitted_at, submitted.version) == (
        ReviewStatus.submitted,
        REVIEWING,
        2,
    )
    with pytest.raises(DomainError) as refused:
        put(session, reviewer, assignment, precondition=ANY_VERSION)
    assert refusal(refused.value) == (409, "review-submitted")
    session.rollback()
    with pytest.raises(DomainError) as refused:
        submit(session, reviewer, assignment)
    assert refusal(refused.value) == (409, "review-submitted")
    session.rollback()
    with pytest.raises(DomainError) as refused:
        submit(session, reviewer, assignment, precondition=draft_tag)  # stale now
    assert refusal(refused.value) == (412, "precondition-failed")


# --- when ---------------------------------------------------------------------------------------


def test_reviews_are_written_up_to_the_review_deadline_and_not_after(session: Session) -> None:
    _, _, reviewer, assignment = assigned(session)
    review, _ = put(session, reviewer, assignment, gates={"legal": "pass"}, now=REVIEW_DEADLINE)
    session.commit()
    late = REVIEW_DEADLINE + timedelta(microseconds=1)
    with pytest.raises(DomainError) as refused:
        submit(session, reviewer, assignment, now=late)
    assert refusal(refused.value) == (409, "review-deadline-passed")
    session.rollback()
    with pytest.raises(DomainError) as refused:
        put(session, reviewer, assignment, precondition=tag(review), now=late)
    assert refusal(refused.value) == (409, "review-deadline-passed")
    session.rollback()
    submitted = submit(session, reviewer, assignment, now=REVIEW_DEADLINE)
    assert submitted.status == ReviewStatus.submitted


def test_no_review_is_written_once_the_round_is_closed(session: Session) -> None:
    round_, admin, reviewer, assignment = assigned(session)
    close_round(
        session=session,
        actor=actor_of(admin),
        round_id=round_.id,
        allow_missing_reviews=True,
        now=REVIEWING,
    )
    session.commit()
    with pytest.raises(DomainError) as refused:
        put(session, reviewer, assignment)
    assert refusal(refused.value) == (409, "round-not-in-review")


def test_no_review_is_written_before_review_starts(session: Session) -> None:
    admin = make_admin(session)
    round_ = make_round(session, admin=admin)
    (bid,) = submitted_bids(session, round_, 1)
    (reviewer,) = panel_of(session, round_, admin, 1)
    assignment = assign(session, round_, admin, bid, reviewer)  # assigning is allowed while open
    with pytest.raises(DomainError) as refused:
        put(session, reviewer, assignment)
    assert refusal(refused.value) == (409, "round-not-in-review")


def test_an_ended_assignment_takes_no_review(session: Session) -> None:
    _, _, reviewer, assignment = assigned(session)
    review, _ = put(session, reviewer, assignment)
    session.commit()
    recuse(
        session=session,
        actor=actor_of(reviewer),
        assignment_id=assignment.id,
        reason="I advised them",
        now=REVIEWING,
    )
    session.commit()
    session.refresh(assignment)
    assert assignment.status == AssignmentStatus.recused
    with pytest.raises(DomainError) as refused:
        submit(session, reviewer, assignment, precondition=tag(review))
    assert refusal(refused.value) == (409, "assignment-ended")
