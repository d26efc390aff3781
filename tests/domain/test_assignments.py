"""Assignments in the domain layer, with an injected clock: by hand (conflicts, the panel, capacity,
the application's state), automatic (all or nothing, conflicts and ended pairs never planned,
kept assignments, a dry run that stores nothing), removal, recusal and a reviewer's own list."""

import uuid
from collections import Counter

import pytest
from sqlmodel import Session, select

from models.applications import Application
from models.audit import AuditEvent
from models.errors import Conflict, DomainError, Unprocessable
from models.identity import User
from models.pagination import PageRequest
from models.reviewers import (
    Assignment,
    AssignmentCreate,
    AssignmentStatus,
    DeclaredConflictRow,
    Review,
    ReviewerProfileIn,
)
from models.rounds import Round
from reviewers import assignments
from reviewers.assignments import (
    auto_assign,
    create_assignment,
    delete_assignment,
    list_assignments,
    my_assignments,
    recuse,
)
from reviewers.closing import close_round
from reviewers.conflicts import end_conflicted_assignments
from reviewers.planner import ConflictedExistingAssignment
from reviewers.pool import put_profile
from tests.domain.evaluation import (
    REVIEW_STARTS,
    REVIEWING,
    assign,
    make_reviewer,
    refusal,
    seat,
    submitted_bids,
    to_review,
    write_review,
)
from tests.factories import actor_of, make_admin, make_application, make_round, make_user


def in_review(
    session: Session, bids: int, reviewers: int, *, max_assignments: int = 10
) -> tuple[Round, User, list[Application], list[User]]:
    admin = make_admin(session)
    round_ = make_round(session, admin=admin)
    submitted = submitted_bids(session, round_, bids)
    round_ = to_review(session, round_, admin)
    panel = [make_reviewer(session) for _ in range(reviewers)]
    for reviewer in panel:
        seat(session, round_, admin, reviewer, max_assignments=max_assignments)
    return round_, admin, submitted, panel


def affiliate(session: Session, reviewer: User, bid: Application) -> None:
    """The reviewer declares an affiliation with the bid's lead organization: a conflict."""
    put_profile(
        session=session,
        actor=actor_of(reviewer),
        user_id=reviewer.id,
        data=ReviewerProfileIn(affiliations=[bid.lead_organization_id]),
        now=REVIEW_STARTS,
        conflicts_changed=end_conflicted_assignments,
    )
    session.commit()


def active(session: Session, round_: Round) -> set[tuple[uuid.UUID, uuid.UUID]]:
    return {
        (a.application_id, a.reviewer_id)
        for a in session.exec(
            select(Assignment).where(
                Assignment.round_id == round_.id, Assignment.status == AssignmentStatus.active
            )
        )
    }


def manual(
    session: Session, round_: Round, actor: User, bid_id: uuid.UUID, reviewer_id: uuid.UUID
) -> Assignment:
    return create_assignment(
        session=session,
        actor=actor_of(actor),
        round_id=round_.id,
        data=AssignmentCreate(application_id=bid_id, reviewer_id=reviewer_id),
        now=REVIEW_STARTS,
    )


# --- by hand ------------------------------------------------------------------------------------


def test_an_admin_assigns_a_panel_reviewer_to_a_submitted_bid(session: Session) -> None:
    round_, admin, (bid,), (reviewer,) = in_review(session, 1, 1)
    row = manual(session, round_, admin, bid.id, reviewer.id)
    session.commit()
    assert (row.status, row.source, row.created_at) == (
        AssignmentStatus.active,
        "manual",
        REVIEW_STARTS,
    )
    assert active(session, round_) == {(bid.id, reviewer.id)}
    event = session.exec(select(AuditEvent).where(AuditEvent.object_id == str(row.id))).one()
    assert event.action == "assignment.created"
    assert event.data == {"application_id": str(bid.id), "reviewer_id": str(reviewer.id)}


def test_a_conflicted_pair_is_refused_and_nothing_is_stored(session: Session) -> None:
    round_, admin, (bid,), (reviewer,) = in_review(session, 1, 1)
    affiliate(session, reviewer, bid)
    with pytest.raises(DomainError) as refused:
        manual(session, round_, admin, bid.id, reviewer.id)
    session.rollback()
    assert refusal(refused.value) == (409, "conflicted")
    assert active(session, round_) == set()


def test_a_declared_conflict_refuses_the_pair_too(session: Session) -> None:
    round_, admin, (bid,), (reviewer,) = in_review(session, 1, 1)
    session.add(
        DeclaredConflictRow(
            round_id=round_.id,
            reviewer_id=reviewer.id,
            application_id=bid.id,
            reason="former employer",
            declared_by=admin.id,
            created_at=REVIEW_STARTS,
        )
    )
    session.commit()
    with pytest.raises(DomainError) as refused:
        manual(session, round_, admin, bid.id, reviewer.id)
    assert refusal(refused.value) == (409, "conflicted")


def test_a_reviewer_at_capacity_takes_no_more(session: Session) -> None:
    round_, admin, bids, (reviewer,) = in_review(session, 2, 1, max_assignments=1)
    manual(session, round_, admin, bids[0].id, reviewer.id)
    session.commit()
    with pytest.raises(DomainError) as refused:
        manual(session, round_, admin, bids[1].id, reviewer.id)
    session.rollback()
    assert refusal(refused.value) == (409, "reviewer-at-capacity")
    assert active(session, round_) == {(bids[0].id, reviewer.id)}


def test_an_ended_assignment_frees_its_place(session: Session) -> None:
    round_, admin, bids, (reviewer,) = in_review(session, 2, 1, max_assignments=1)
    first = manual(session, round_, admin, bids[0].id, reviewer.id)
    session.commit()
    recuse(
        session=session,
        actor=actor_of(reviewer),
        assignment_id=first.id,
        reason="a friend leads it",
        now=REVIEWING,
    )
    session.commit()
    manual(session, round_, admin, bids[1].id, reviewer.id)
    session.commit()
    assert active(session, round_) == {(bids[1].id, reviewer.id)}


def test_the_same_pair_twice_is_refused(session: Session) -> None:
    round_, admin, (bid,), (reviewer,) = in_review(session, 1, 1)
    manual(session, round_, admin, bid.id, reviewer.id)
    session.commit()
    with pytest.raises(DomainError) as refused:
        manual(session, round_, admin, bid.id, reviewer.id)
    assert refusal(refused.value) == (409, "assigned")


def test_only_panel_reviewers_and_submitted_bids_of_the_round(session: Session) -> None:
    round_, admin, (bid,), (reviewer,) = in_review(session, 1, 1)
    stranger = make_reviewer(session)  # a reviewer, but not on this round's panel
    with pytest.raises(DomainError) as refused:
        manual(session, round_, admin, bid.id, stranger.id)
    assert refusal(refused.value) == (422, "validation-error")
    assert refused.value.errors == [
        {"loc": ["body", "reviewer_id"], "msg": "not on the round's panel"}
    ]
    other_round = make_round(session, admin=admin)
    (foreign,) = submitted_bids(session, other_round, 1)
    with pytest.raises(DomainError) as refused:
        manual(session, round_, admin, foreign.id, reviewer.id)
    assert refusal(refused.value) == (422, "validation-error")
    with pytest.raises(DomainError) as refused:
        manual(session, round_, admin, uuid.uuid4(), reviewer.id)
    assert refusal(refused.value) == (422, "validation-error")
    draft_round = make_round(session, admin=admin)
    draft = make_application(session, draft_round, make_user(session))
    seat(session, draft_round, admin, reviewer)
    with pytest.raises(DomainError) as refused:
        manual(session, draft_round, admin, draft.id, reviewer.id)
    assert refusal(refused.value) == (409, "application-not-submitted")
    assert active(session, round_) == set()


def test_only_admins_assign_and_not_after_closing(session: Session) -> None:
    round_, admin, (bid,), (reviewer,) = in_review(session, 1, 1)
    for caller in (reviewer, make_user(session)):
        with pytest.raises(DomainError) as refused:
            manual(session, round_, caller, bid.id, reviewer.id)
        assert refusal(refused.value)[0] == 403
    with pytest.raises(DomainError) as refused:
        manual(session, make_round(session, admin=admin, opened=False), admin, bid.id, reviewer.id)
    assert refusal(refused.value) == (409, "invalid-round-status")
    close_round(
        session=session,
        actor=actor_of(admin),
        round_id=round_.id,
        allow_missing_reviews=True,
        now=REVIEWING,
    )
    session.commit()
    with pytest.raises(DomainError) as refused:
        manual(session, round_, admin, bid.id, reviewer.id)
    assert refusal(refused.value) == (409, "invalid-round-status")


# --- automatic ---------------------------------------------------------------------------------


def test_automatic_assignment_fills_every_bid_without_conflicts_or_overload(
    session: Session,
) -> None:
    round_, admin, bids, reviewers = in_review(session, 3, 4, max_assignments=2)
    affiliate(session, reviewers[0], bids[0])
    result = auto_assign(
        session=session, actor=actor_of(admin), round_id=round_.id, dry_run=False, now=REVIEWING
    )
    session.commit()
    assert result.applied is True
    pairs = active(session, round_)
    assert {(p.application_id, p.reviewer_id) for p in result.assignments} == pairs
    assert Counter(a for a, _ in pairs) == {b.id: 2 for b in bids}  # reviewers_per_application
    assert max(Counter(r for _, r in pairs).values()) <= 2
    assert (bids[0].id, reviewers[0].id) not in pairs
    assert result.stats.conflicts == 1
    assert result.stats.new_assignments == 6
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.object_id == str(round_.id),
            AuditEvent.action == "assignments.auto_applied",
        )
    ).one()
    assert event.data["count"] == 6


def test_a_dry_run_plans_the_same_and_stores_nothing(session: Session) -> None:
    round_, admin, _, _ = in_review(session, 2, 3)
    planned = auto_assign(
        session=session, actor=actor_of(admin), round_id=round_.id, dry_run=True, now=REVIEWING
    )
    session.commit()
    assert planned.applied is False
    assert len(planned.assignments) == 4
    assert active(session, round_) == set()
    applied = auto_assign(
        session=session, actor=actor_of(admin), round_id=round_.id, dry_run=False, now=REVIEWING
    )
    session.commit()
    assert {(p.application_id, p.reviewer_id) for p in applied.assignments} == {
        (p.application_id, p.reviewer_id) for p in planned.assignments
    }


def test_automatic_assignment_keeps_existing_ones_and_only_fills_gaps(session: Session) -> None:
    round_, admin, bids, reviewers = in_review(session, 2, 3)
    kept = assign(session, round_, admin, bids[0], reviewers[2])
    result = auto_assign(
        session=session, actor=actor_of(admin), round_id=round_.id, dry_run=False, now=REVIEWING
    )
    session.commit()
    assert result.stats.kept_assignments == 1
    assert len(result.assignments) == 3
    pairs = active(session, round_)
    assert (kept.application_id, kept.reviewer_id) in pairs
    assert Counter(a for a, _ in pairs) == {bids[0].id: 2, bids[1].id: 2}


def test_an_infeasible_plan_stores_nothing(session: Session) -> None:
    round_, admin, _, _ = in_review(session, 2, 1)  # two reviewers per bid, one on the panel
    with pytest.raises(DomainError) as refused:
        auto_assign(
            session=session,
            actor=actor_of(admin),
            round_id=round_.id,
            dry_run=False,
            now=REVIEWING,
        )
    session.rollback()
    assert refusal(refused.value) == (422, "assignment-infeasible")
    assert isinstance(refused.value, Unprocessable)
    assert refused.value.extra == {"constraint": "unconflicted_reviewers"}
    assert active(session, round_) == set()


def test_a_conflicted_assignment_the_planner_refuses_is_a_409(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The service ends conflicted assignments before planning, so the planner's own refusal is
    # a backstop; it reaches the client as the domain's 409 with the pair it names.
    round_, admin, (bid,), (reviewer,) = in_review(session, 1, 1)

    def refuse(**_: object) -> None:
        raise ConflictedExistingAssignment([(bid.id, reviewer.id)])

    monkeypatch.setattr(assignments, "plan_assignments_from_matrices", refuse)
    with pytest.raises(DomainError) as refused:
        auto_assign(
            session=session, actor=actor_of(admin), round_id=round_.id, dry_run=True, now=REVIEWING
        )
    assert refusal(refused.value) == (409, "conflicted-assignment")
    assert isinstance(refused.value, Conflict)
    assert refused.value.errors == [
        {
            "loc": ["applications", str(bid.id)],
            "msg": f"reviewer {reviewer.id} is assigned to application {bid.id} but is conflicted",
        }
    ]
    assert refused.value.extra == {}


def test_a_recused_pair_is_never_planned_again(session: Session) -> None:
    round_, admin, (bid,), reviewers = in_review(session, 1, 3)
    row = assign(session, round_, admin, bid, reviewers[0])
    recused = recuse(
        session=session,
        actor=actor_of(reviewers[0]),
        assignment_id=row.id,
        reason="I reviewed their last bid",
        now=REVIEWING,
    )
    session.commit()
    assert (recused.status, recused.ended_at) == (AssignmentStatus.recused, REVIEWING)
    declared = session.exec(
        select(DeclaredConflictRow).where(DeclaredConflictRow.reviewer_id == reviewers[0].id)
    ).one()
    assert (declared.application_id, declared.reason) == (bid.id, "I reviewed their last bid")
    auto_assign(
        session=session, actor=actor_of(admin), round_id=round_.id, dry_run=False, now=REVIEWING
    )
    session.commit()
    assert active(session, round_) == {(bid.id, reviewers[1].id), (bid.id, reviewers[2].id)}


def test_applying_ends_an_assignment_conflicted_since_and_replaces_it(session: Session) -> None:
    round_, admin, (bid,), reviewers = in_review(session, 1, 3)
    stale = assign(session, round_, admin, bid, reviewers[0])
    assign(session, round_, admin, bid, reviewers[1])
    session.add(
        DeclaredConflictRow(
            round_id=round_.id,
            reviewer_id=reviewers[0].id,
            application_id=bid.id,
            reason="written by other means",
            declared_by=admin.id,
            created_at=REVIEWING,
        )
    )
    session.commit()
    dry = auto_assign(
        session=session, actor=actor_of(admin), round_id=round_.id, dry_run=True, now=REVIEWING
    )
    session.commit()
    assert [(p.application_id, p.reviewer_id) for p in dry.assignments] == [
        (bid.id, reviewers[2].id)
    ]
    session.refresh(stale)
    assert stale.status == AssignmentStatus.active  # a dry run ends nothing
    auto_assign(
        session=session, actor=actor_of(admin), round_id=round_.id, dry_run=False, now=REVIEWING
    )
    session.commit()
    session.refresh(stale)
    assert (stale.status, stale.ended_at) == (AssignmentStatus.conflicted, REVIEWING)
    assert active(session, round_) == {(bid.id, reviewers[1].id), (bid.id, reviewers[2].id)}


def test_automatic_assignment_is_for_admins_in_review(session: Session) -> None:
    admin = make_admin(session)
    round_ = make_round(session, admin=admin)
    with pytest.raises(DomainError) as refused:
        auto_assign(
            session=session, actor=actor_of(admin), round_id=round_.id, dry_run=True, now=REVIEWING
        )
    assert refusal(refused.value) == (409, "invalid-round-status")
    with pytest.raises(DomainError) as refused:
        auto_assign(
            session=session,
            actor=actor_of(make_user(session)),
            round_id=round_.id,
            dry_run=True,
            now=REVIEWING,
        )
    assert refusal(refused.value)[0] == 403


# --- removal, recusal, a reviewer's list -------------------------------------------------------


def test_removing_an_assignment_discards_its_review(session: Session) -> None:
    round_, admin, (bid,), (reviewer,) = in_review(session, 1, 1)
    row = assign(session, round_, admin, bid, reviewer)
    write_review(session, row, reviewer, scores={"impact": 5}, submit=False)
    row_id = row.id
    delete_assignment(session=session, actor=actor_of(admin), assignment_id=row_id, now=REVIEWING)
    session.commit()
    assert session.get(Assignment, row_id) is None
    assert session.exec(select(Review).where(Review.assignment_id == row_id)).first() is None
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.object_id == str(row_id), AuditEvent.action == "assignment.deleted"
        )
    ).one()
    assert event.data["review_discarded"] is True
    with pytest.raises(DomainError) as refused:
        delete_assignment(
            session=session, actor=actor_of(admin), assignment_id=row_id, now=REVIEWING
        )
    assert refusal(refused.value)[0] == 404
    again = assign(session, round_, admin, bid, reviewer)
    with pytest.raises(DomainError) as refused:
        delete_assignment(
            session=session, actor=actor_of(reviewer), assignment_id=again.id, now=REVIEWING
        )
    assert refusal(refused.value)[0] == 403


def test_only_the_assigned_reviewer_recuses_and_only_once(session: Session) -> None:
    round_, admin, (bid,), reviewers = in_review(session, 1, 2)
    row = assign(session, round_, admin, bid, reviewers[0])

    def recusing(user: User) -> None:
        recuse(
            session=session,
            actor=actor_of(user),
            assignment_id=row.id,
            reason="conflict",
            now=REVIEWING,
        )

    with pytest.raises(DomainError) as refused:
        recusing(reviewers[1])
    assert refusal(refused.value)[0] == 404
    with pytest.raises(DomainError) as refused:
        recusing(admin)
    assert refusal(refused.value) == (403, "not-assigned-reviewer")
    recusing(reviewers[0])
    session.commit()
    with pytest.raises(DomainError) as refused:
        recusing(reviewers[0])
    assert refusal(refused.value) == (409, "assignment-ended")


def test_a_reviewer_lists_their_own_assignments_and_ended_ones_show_no_bid(
    session: Session,
) -> None:
    round_, admin, bids, reviewers = in_review(session, 2, 2)
    mine = assign(session, round_, admin, bids[0], reviewers[0])
    ended = assign(session, round_, admin, bids[1], reviewers[0])
    assign(session, round_, admin, bids[1], reviewers[1])
    recuse(
        session=session,
        actor=actor_of(reviewers[0]),
        assignment_id=ended.id,
        reason="conflict",
        now=REVIEWING,
    )
    session.commit()
    page = my_assignments(
        session=session, actor=actor_of(reviewers[0]), page=PageRequest(), now=REVIEWING
    )
    views = {item.id: item for item in page.items}
    assert set(views) == {mine.id, ended.id}
    shown = views[mine.id].application
    assert shown is not None
    assert shown.id == bids[0].id
    assert views[ended.id].application is None
    with pytest.raises(DomainError) as refused:
        my_assignments(
            session=session, actor=actor_of(make_user(session)), page=PageRequest(), now=REVIEWING
        )
    assert refusal(refused.value)[0] == 403


def test_the_round_list_is_the_admins(session: Session) -> None:
    round_, admin, bids, reviewers = in_review(session, 1, 1)
    row = assign(session, round_, admin, bids[0], reviewers[0])
    page = list_assignments(
        session=session, actor=actor_of(admin), round_id=round_.id, page=PageRequest()
    )
    assert [a.id for a in page.items] == [row.id]
    with pytest.raises(DomainError) as refused:
        list_assignments(
            session=session, actor=actor_of(reviewers[0]), round_id=round_.id, page=PageRequest()
        )
    assert refusal(refused.value)[0] == 403
