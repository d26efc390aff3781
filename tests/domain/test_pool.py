"""The reviewer pool in the domain layer, with an injected clock: a round's panel (who may sit
on it, once each, its load) and reviewer profiles (who edits one, and how a new affiliation ends
the assignments it conflicts)."""

import uuid

import pytest
from sqlmodel import Session, col, select

from models.audit import AuditEvent
from models.errors import DomainError
from models.identity import Role, User
from models.pagination import PageRequest
from models.reviewers import (
    AssignmentStatus,
    ReviewerProfile,
    ReviewerProfileIn,
    RoundReviewerCreate,
    RoundReviewerPublic,
)
from models.rounds import Round
from reviewers.assignments import recuse
from reviewers.conflicts import end_conflicted_assignments
from reviewers.pool import add_reviewer, list_reviewers, load_round, panel, put_profile
from tests.domain.evaluation import (
    REVIEW_STARTS,
    REVIEWING,
    assign,
    make_reviewer,
    refusal,
    submitted_bids,
    to_review,
)
from tests.factories import actor_of, make_admin, make_organization, make_round, make_user


def seat(
    session: Session, round_: Round, actor: User, user_id: uuid.UUID, max_assignments: int = 3
) -> RoundReviewerPublic:
    return add_reviewer(
        session=session,
        actor=actor_of(actor),
        round_id=round_.id,
        data=RoundReviewerCreate(
            user_id=user_id, max_assignments=max_assignments, expertise=["grids"]
        ),
        now=REVIEW_STARTS,
    )


def profile(
    session: Session, actor: User, reviewer: User, data: ReviewerProfileIn
) -> ReviewerProfile:
    return put_profile(
        session=session,
        actor=actor_of(actor),
        user_id=reviewer.id,
        data=data,
        now=REVIEWING,
        conflicts_changed=end_conflicted_assignments,
    )


# --- the panel ----------------------------------------------------------------------------------


def test_an_admin_seats_a_reviewer_once(session: Session) -> None:
    admin = make_admin(session)
    round_ = make_round(session, admin=admin)
    reviewer = make_reviewer(session, email="ada@panel.example")
    seated = seat(session, round_, admin, reviewer.id, max_assignments=4)
    session.commit()
    assert (seated.user_id, seated.email, seated.max_assignments, seated.load) == (
        reviewer.id,
        "ada@panel.example",
        4,
        0,
    )
    assert seated.expertise == ["grids"]
    assert [m.user_id for m in panel(session=session, round_id=round_.id)] == [reviewer.id]
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.object_id == str(round_.id), AuditEvent.action == "round.reviewer_added"
        )
    ).one()
    assert event.data == {"user_id": str(reviewer.id), "max_assignments": 4}
    with pytest.raises(DomainError) as refused:
        seat(session, round_, admin, reviewer.id)
    assert refusal(refused.value) == (409, "reviewer-exists")


def test_only_active_users_with_the_reviewer_role_sit_on_a_panel(session: Session) -> None:
    admin = make_admin(session)
    round_ = make_round(session, admin=admin)
    applicant = make_user(session, roles=[Role.applicant])
    with pytest.raises(DomainError) as refused:
        seat(session, round_, admin, applicant.id)
    assert refusal(refused.value) == (422, "not-a-reviewer")
    with pytest.raises(DomainError) as refused:
        seat(session, round_, admin, uuid.uuid4())
    assert refusal(refused.value) == (422, "validation-error")
    inactive = make_reviewer(session)
    inactive.is_active = False
    session.add(inactive)
    session.commit()
    with pytest.raises(DomainError) as refused:
        seat(session, round_, admin, inactive.id)
    assert refusal(refused.value) == (422, "validation-error")
    assert panel(session=session, round_id=round_.id) == []


def test_only_admins_seat_reviewers_on_rounds_that_exist(session: Session) -> None:
    admin = make_admin(session)
    round_ = make_round(session, admin=admin)
    reviewer = make_reviewer(session)
    for caller in (reviewer, make_user(session)):
        with pytest.raises(DomainError) as refused:
            seat(session, round_, caller, reviewer.id)
        assert refusal(refused.value)[0] == 403
    with pytest.raises(DomainError) as refused:
        add_reviewer(
            session=session,
            actor=actor_of(admin),
            round_id=uuid.uuid4(),
            data=RoundReviewerCreate(user_id=reviewer.id, max_assignments=1),
            now=REVIEW_STARTS,
        )
    assert refusal(refused.value)[0] == 404
    with pytest.raises(DomainError) as refused:
        load_round(session=session, round_id=uuid.uuid4())
    assert refusal(refused.value)[0] == 404


def test_the_panel_list_counts_active_assignments_only(session: Session) -> None:
    admin = make_admin(session)
    round_ = make_round(session, admin=admin)
    bids = submitted_bids(session, round_, 2)
    round_ = to_review(session, round_, admin)
    busy, idle = make_reviewer(session), make_reviewer(session)
    seat(session, round_, admin, busy.id)
    seat(session, round_, admin, idle.id)
    session.commit()
    assign(session, round_, admin, bids[0], busy)
    ended = assign(session, round_, admin, bids[1], busy)
    recuse(
        session=session,
        actor=actor_of(busy),
        assignment_id=ended.id,
        reason="conflict",
        now=REVIEWING,
    )
    session.commit()
    page = list_reviewers(
        session=session, actor=actor_of(admin), round_id=round_.id, page=PageRequest()
    )
    assert {m.user_id: m.load for m in page.items} == {busy.id: 1, idle.id: 0}
    with pytest.raises(DomainError) as refused:
        list_reviewers(
            session=session, actor=actor_of(busy), round_id=round_.id, page=PageRequest()
        )
    assert refusal(refused.value)[0] == 403


# --- profiles -----------------------------------------------------------------------------------


def test_a_reviewer_writes_their_own_profile_and_each_write_is_a_version(
    session: Session,
) -> None:
    reviewer = make_reviewer(session)
    owner = make_user(session)
    organization = make_organization(session, owner)
    first = profile(
        session,
        reviewer,
        reviewer,
        ReviewerProfileIn(
            affiliations=[organization.id, organization.id],
            email_domains=["lab.example"],
            expertise=["storage"],
        ),
    )
    session.commit()
    assert (first.version, first.affiliations, first.email_domains, first.expertise) == (
        1,
        [str(organization.id)],
        ["lab.example"],
        ["storage"],
    )
    second = profile(session, reviewer, reviewer, ReviewerProfileIn(expertise=["grids"]))
    session.commit()
    assert (second.version, second.affiliations, second.updated_at) == (2, [], REVIEWING)
    actions = session.exec(
        select(AuditEvent.data)
        .where(
            AuditEvent.object_id == str(reviewer.id),
            AuditEvent.action == "reviewer.profile_updated",
        )
        .order_by(col(AuditEvent.seq))
    ).all()
    assert [a["expertise"] for a in actions] == [["storage"], ["grids"]]


def test_an_admin_writes_any_reviewers_profile_and_others_none(session: Session) -> None:
    admin = make_admin(session)
    reviewer, other = make_reviewer(session), make_reviewer(session)
    written = profile(session, admin, reviewer, ReviewerProfileIn(expertise=["solar"]))
    assert written.user_id == reviewer.id
    session.commit()
    with pytest.raises(DomainError) as refused:
        profile(session, other, reviewer, ReviewerProfileIn())
    assert refusal(refused.value)[0] == 404  # another reviewer's profile is not theirs to see
    with pytest.raises(DomainError) as refused:
        profile(session, make_user(session), reviewer, ReviewerProfileIn())
    assert refusal(refused.value) == (403, "forbidden-role")
    applicant = make_user(session)
    with pytest.raises(DomainError) as refused:
        profile(session, admin, applicant, ReviewerProfileIn())
    assert refusal(refused.value)[0] == 404  # not a reviewer
    stored = session.get(ReviewerProfile, reviewer.id)
    assert stored is not None
    assert (stored.version, stored.expertise) == (1, ["solar"])


def test_unknown_affiliations_are_refused_and_nothing_is_written(session: Session) -> None:
    reviewer = make_reviewer(session)
    missing = uuid.uuid4()
    with pytest.raises(DomainError) as refused:
        profile(session, reviewer, reviewer, ReviewerProfileIn(affiliations=[missing]))
    session.rollback()
    assert refusal(refused.value) == (422, "validation-error")
    assert refused.value.errors == [
        {"loc": ["body", "affiliations"], "msg": f"no such organization: {missing}"}
    ]
    assert session.get(ReviewerProfile, reviewer.id) is None


def test_a_new_affiliation_ends_the_assignments_it_conflicts(session: Session) -> None:
    admin = make_admin(session)
    round_ = make_round(session, admin=admin)
    bids = submitted_bids(session, round_, 2)
    round_ = to_review(session, round_, admin)
    reviewer = make_reviewer(session)
    seat(session, round_, admin, reviewer.id)
    session.commit()
    conflicted = assign(session, round_, admin, bids[0], reviewer)
    untouched = assign(session, round_, admin, bids[1], reviewer)
    profile(
        session, reviewer, reviewer, ReviewerProfileIn(affiliations=[bids[0].lead_organization_id])
    )
    session.commit()
    session.refresh(conflicted)
    session.refresh(untouched)
    assert (conflicted.status, conflicted.ended_at) == (AssignmentStatus.conflicted, REVIEWING)
    assert untouched.status == AssignmentStatus.active
    event = session.exec(
        select(AuditEvent).where(
            AuditEvent.object_id == str(conflicted.id),
            AuditEvent.action == "assignment.conflicted",
        )
    ).one()
    assert event.data["organization_id"] == str(bids[0].lead_organization_id)
