"""Rounds in the domain layer, with an injected clock: configuration rules, every lifecycle
transition and the deadline edges of ``start_review``."""

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import Session, col, select

from models.audit import AuditEvent
from models.concurrency import ANY_VERSION, Precondition, etag
from models.errors import DomainError
from models.identity import Role
from models.rounds import RoundCreate, RoundStatus, RoundUpdate
from submissions.audit import verify
from submissions.rounds import (
    LIFECYCLE,
    RoundTransition,
    create_round,
    open_round,
    start_review,
    transition_round,
    update_round,
)
from tests.factories import (
    NOW,
    actor_of,
    make_admin,
    make_program,
    make_round,
    make_user,
    round_config,
)

US = timedelta(microseconds=1)


def _actions(session: Session, object_id: object) -> list[str]:
    return list(
        session.exec(
            select(AuditEvent.action)
            .where(AuditEvent.object_id == str(object_id))
            .order_by(col(AuditEvent.seq))
        ).all()
    )


def _refusal(excinfo: pytest.ExceptionInfo[DomainError]) -> tuple[int, str]:
    return excinfo.value.status, excinfo.value.type


def test_create_round_stores_the_configuration_and_audits(session: Session) -> None:
    admin = make_admin(session)
    program = make_program(session, admin=admin)
    round = create_round(
        session=session,
        actor=actor_of(admin),
        program_id=program.id,
        data=RoundCreate.model_validate(round_config(grace_seconds=300, blind=True)),
        now=NOW,
    )
    session.commit()
    assert round.status == RoundStatus.draft
    assert round.version == 1
    config = round.config()
    assert [c.key for c in config.criteria] == ["impact", "team"]
    assert config.criteria[1].threshold == 3
    assert config.shortlist.tie_break == ["criterion:impact", "submitted_at", "id"]
    assert config.blind is True
    assert round.submissions_close_at == NOW + timedelta(days=7, seconds=300)
    assert _actions(session, round.id) == ["round.created"]


def test_only_admins_create_rounds(session: Session) -> None:
    program = make_program(session)
    applicant = make_user(session)
    with pytest.raises(DomainError) as excinfo:
        create_round(
            session=session,
            actor=actor_of(applicant),
            program_id=program.id,
            data=RoundCreate.model_validate(round_config()),
            now=NOW,
        )
    assert _refusal(excinfo) == (403, "forbidden-role")


def _round_config_errors(session: Session, **overrides: Any) -> list[dict[str, Any]]:
    admin = make_admin(session)
    program = make_program(session, admin=admin)
    with pytest.raises(DomainError) as excinfo:
        create_round(
            session=session,
            actor=actor_of(admin),
            program_id=program.id,
            data=RoundCreate.model_validate(round_config(**overrides)),
            now=NOW,
        )
    assert excinfo.value.status == 422
    return [dict(e) for e in excinfo.value.errors or []]


def test_eligibility_must_name_rounds_of_the_same_program(session: Session) -> None:
    other_program_round = make_round(session, opened=False)
    errors = _round_config_errors(
        session,
        eligibility={
            "only_shortlisted_from": str(other_program_round.id),
            "exclude_shortlisted_from": ["00000000-0000-4000-8000-000000000000"],
        },
    )
    assert [e["loc"] for e in errors] == [
        ["body", "eligibility", "only_shortlisted_from"],
        ["body", "eligibility", "exclude_shortlisted_from", 0],
    ]


def test_eligibility_within_the_program_is_accepted(session: Session) -> None:
    admin = make_admin(session)
    program = make_program(session, admin=admin)
    first = make_round(session, program=program, admin=admin)
    second = make_round(
        session,
        program=program,
        admin=admin,
        opened=False,
        eligibility={"exclude_shortlisted_from": [str(first.id)]},
    )
    assert second.config().eligibility.exclude_shortlisted_from == [first.id]


# --- transitions -------------------------------------------------------------------------------


def test_open_moves_draft_to_open_once(session: Session) -> None:
    admin = make_admin(session)
    round = make_round(session, admin=admin, opened=False)
    opened = open_round(session=session, actor=actor_of(admin), round_id=round.id, now=NOW)
    session.commit()
    assert opened.status == RoundStatus.open
    assert opened.opened_at == NOW
    assert opened.version == 2
    with pytest.raises(DomainError) as excinfo:
        open_round(session=session, actor=actor_of(admin), round_id=round.id, now=NOW)
    assert _refusal(excinfo) == (409, "invalid-transition")
    session.rollback()
    assert _actions(session, round.id) == ["round.created", "round.opened"]


def test_open_needs_an_admin(session: Session) -> None:
    round = make_round(session, opened=False)
    reviewer = make_user(session, roles=[Role.reviewer])
    with pytest.raises(DomainError) as excinfo:
        open_round(session=session, actor=actor_of(reviewer), round_id=round.id, now=NOW)
    assert _refusal(excinfo) == (403, "forbidden-role")


def test_open_refuses_a_round_without_criteria(session: Session) -> None:
    admin = make_admin(session)
    round = make_round(
        session,
        admin=admin,
        opened=False,
        criteria=[],
        shortlist={"tie_break": ["submitted_at"]},
    )
    with pytest.raises(DomainError) as excinfo:
        open_round(session=session, actor=actor_of(admin), round_id=round.id, now=NOW)
    assert _refusal(excinfo) == (409, "round-incomplete")


@pytest.mark.parametrize(
    ("offset", "grace", "accepted"),
    [
        (timedelta(0), 0, True),
        (US, 0, False),
        (US, 60, True),
        (timedelta(seconds=60), 60, True),
        (timedelta(seconds=60) + US, 60, False),
    ],
)
def test_open_is_refused_once_the_deadline_with_grace_has_passed(
    session: Session, offset: timedelta, grace: int, accepted: bool
) -> None:
    admin = make_admin(session)
    round = make_round(session, admin=admin, opened=False, grace_seconds=grace)
    at = round.submission_deadline + offset
    if accepted:
        assert open_round(session=session, actor=actor_of(admin), round_id=round.id, now=at)
        return
    with pytest.raises(DomainError) as excinfo:
        open_round(session=session, actor=actor_of(admin), round_id=round.id, now=at)
    assert _refusal(excinfo) == (409, "deadline-passed")


@pytest.mark.parametrize(
    ("offset", "grace", "accepted"),
    [
        (-US, 0, False),
        (timedelta(0), 0, False),
        (US, 0, True),
        (US, 600, False),
        (timedelta(seconds=600), 600, False),
        (timedelta(seconds=600) + US, 600, True),
    ],
    ids=[
        "1us-before-deadline",
        "at-deadline",
        "1us-after-deadline",
        "inside-grace",
        "at-end-of-grace",
        "1us-past-grace",
    ],
)
def test_start_review_waits_for_the_deadline_plus_grace(
    session: Session, offset: timedelta, grace: int, accepted: bool
) -> None:
    admin = make_admin(session)
    round = make_round(session, admin=admin, grace_seconds=grace)
    at = round.submission_deadline + offset
    if not accepted:
        with pytest.raises(DomainError) as excinfo:
            start_review(session=session, actor=actor_of(admin), round_id=round.id, now=at)
        assert _refusal(excinfo) == (409, "deadline-not-passed")
        return
    reviewed = start_review(session=session, actor=actor_of(admin), round_id=round.id, now=at)
    session.commit()
    assert reviewed.status == RoundStatus.review
    assert reviewed.review_started_at == at
    assert _actions(session, round.id)[-1] == "round.review_started"


def test_start_review_from_draft_is_an_invalid_transition(session: Session) -> None:
    admin = make_admin(session)
    round = make_round(session, admin=admin, opened=False)
    with pytest.raises(DomainError) as excinfo:
        start_review(
            session=session,
            actor=actor_of(admin),
            round_id=round.id,
            now=round.submission_deadline + timedelta(days=1),
        )
    assert _refusal(excinfo) == (409, "invalid-transition")


def test_the_lifecycle_table_runs_draft_to_published_and_nothing_else(session: Session) -> None:
    """``close`` and ``publish`` (the closing issue's) are edges of the same table."""
    admin = make_admin(session)
    actor = actor_of(admin)
    round = make_round(session, admin=admin, opened=False)
    order = list(RoundTransition)
    assert [LIFECYCLE[t].target for t in order] == [
        RoundStatus.open,
        RoundStatus.review,
        RoundStatus.closed,
        RoundStatus.published,
    ]
    for position, transition in enumerate(order):
        for wrong in order[position + 1 :]:
            with pytest.raises(DomainError) as excinfo:
                transition_round(
                    session=session, actor=actor, round=round, transition=wrong, now=NOW
                )
            assert _refusal(excinfo) == (409, "invalid-transition")
        transition_round(session=session, actor=actor, round=round, transition=transition, now=NOW)
    session.commit()
    assert round.status == RoundStatus.published
    assert round.published_at == NOW
    assert _actions(session, round.id) == [
        "round.created",
        "round.opened",
        "round.review_started",
        "round.closed",
        "round.published",
    ]
    assert verify(session=session).ok


# --- changing a round --------------------------------------------------------------------------


def test_draft_rounds_change_anything_and_version_up(session: Session) -> None:
    admin = make_admin(session)
    round = make_round(session, admin=admin, opened=False)
    updated = update_round(
        session=session,
        actor=actor_of(admin),
        round_id=round.id,
        data=RoundUpdate.model_validate(
            {
                "name": "Renamed",
                "criteria": [{"key": "x", "title": "X", "weight": 1, "min": 1, "max": 5}],
                "shortlist": {"size": 1},
            }
        ),
        precondition=Precondition(tags=frozenset({etag(1)})),
        now=NOW + timedelta(minutes=1),
    )
    session.commit()
    assert updated.name == "Renamed"
    assert updated.version == 2
    assert updated.updated_at == NOW + timedelta(minutes=1)
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "round.updated")).one()
    assert event.data["fields"] == ["criteria", "name", "shortlist"]
    assert event.data["from"]["name"] == "Round 1"
    assert event.data["to"]["name"] == "Renamed"


def test_an_unchanged_value_is_no_change(session: Session) -> None:
    admin = make_admin(session)
    round = make_round(session, admin=admin)
    same = update_round(
        session=session,
        actor=actor_of(admin),
        round_id=round.id,
        data=RoundUpdate(name=round.name, submission_deadline=round.submission_deadline),
        precondition=ANY_VERSION,
        now=NOW,
    )
    assert same.version == round.version
    assert "round.updated" not in _actions(session, round.id)


def test_a_stale_version_is_412(session: Session) -> None:
    admin = make_admin(session)
    round = make_round(session, admin=admin, opened=False)
    with pytest.raises(DomainError) as excinfo:
        update_round(
            session=session,
            actor=actor_of(admin),
            round_id=round.id,
            data=RoundUpdate(name="Stale"),
            precondition=Precondition(tags=frozenset({etag(7)})),
            now=NOW,
        )
    assert excinfo.value.status == 412


def test_a_patch_is_validated_as_a_whole(session: Session) -> None:
    admin = make_admin(session)
    round = make_round(session, admin=admin, opened=False)
    with pytest.raises(DomainError) as excinfo:
        update_round(
            session=session,
            actor=actor_of(admin),
            round_id=round.id,
            data=RoundUpdate(review_deadline=round.submission_deadline - US),
            precondition=ANY_VERSION,
            now=NOW,
        )
    assert excinfo.value.status == 422
    assert excinfo.value.errors == [
        {"loc": ["body", "review_deadline"], "msg": "must not be before submission_deadline"}
    ]


def test_an_open_round_takes_only_later_deadlines(session: Session) -> None:
    admin = make_admin(session)
    round = make_round(session, admin=admin)
    actor = actor_of(admin)

    with pytest.raises(DomainError) as excinfo:
        update_round(
            session=session,
            actor=actor,
            round_id=round.id,
            data=RoundUpdate(name="Too late", grace_seconds=60),
            precondition=ANY_VERSION,
            now=NOW,
        )
    assert _refusal(excinfo) == (409, "round-not-draft")
    assert excinfo.value.errors == [{"loc": ["body", "name"], "msg": "cannot change now"}]

    with pytest.raises(DomainError) as excinfo:
        update_round(
            session=session,
            actor=actor,
            round_id=round.id,
            data=RoundUpdate(submission_deadline=round.submission_deadline - US),
            precondition=ANY_VERSION,
            now=NOW,
        )
    assert _refusal(excinfo) == (422, "deadline-not-later")

    later = round.submission_deadline + timedelta(days=1)
    updated = update_round(
        session=session,
        actor=actor,
        round_id=round.id,
        data=RoundUpdate(submission_deadline=later, grace_seconds=120),
        precondition=ANY_VERSION,
        now=NOW,
    )
    session.commit()
    assert updated.submission_deadline == later
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "round.updated")).one()
    assert event.data["status"] == "open"
    assert event.data["fields"] == ["grace_seconds", "submission_deadline"]
    assert event.data["to"]["submission_deadline"].startswith(later.strftime("%Y-%m-%dT%H:%M:%S"))


def test_in_review_only_the_review_deadline_moves(session: Session) -> None:
    admin = make_admin(session)
    actor = actor_of(admin)
    round = make_round(session, admin=admin)
    after = round.submission_deadline + timedelta(seconds=1)
    start_review(session=session, actor=actor, round_id=round.id, now=after)
    with pytest.raises(DomainError) as excinfo:
        update_round(
            session=session,
            actor=actor,
            round_id=round.id,
            data=RoundUpdate(submission_deadline=round.submission_deadline + timedelta(days=1)),
            precondition=ANY_VERSION,
            now=after,
        )
    assert _refusal(excinfo) == (409, "round-not-draft")
    later = round.review_deadline + timedelta(days=1)
    updated = update_round(
        session=session,
        actor=actor,
        round_id=round.id,
        data=RoundUpdate(review_deadline=later),
        precondition=ANY_VERSION,
        now=after,
    )
    assert updated.review_deadline == later


def test_a_closed_round_is_final(session: Session) -> None:
    admin = make_admin(session)
    actor = actor_of(admin)
    round = make_round(session, admin=admin)
    for transition in (RoundTransition.start_review, RoundTransition.close):
        transition_round(session=session, actor=actor, round=round, transition=transition, now=NOW)
    with pytest.raises(DomainError) as excinfo:
        update_round(
            session=session,
            actor=actor,
            round_id=round.id,
            data=RoundUpdate(review_deadline=round.review_deadline + timedelta(days=1)),
            precondition=ANY_VERSION,
            now=NOW,
        )
    assert _refusal(excinfo) == (409, "round-not-draft")
