"""Applications in the domain layer, with an injected clock: creation, one live bid per
organization, confirmation, submission at every deadline edge, receipts, reopen, withdraw,
eligibility and sealed bids."""

import hashlib
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models.applications import (
    Application,
    ApplicationCreate,
    ApplicationMemberIn,
    ApplicationOrganization,
    ApplicationPublic,
    ApplicationSealed,
    ApplicationStatus,
    ApplicationUpdate,
    ApplicationView,
    Receipt,
)
from models.audit import AuditEvent
from models.concurrency import ANY_VERSION
from models.documents import DocumentStatus
from models.errors import DomainError
from models.identity import MemberRole, Organization, Role, User
from models.pagination import PageRequest
from models.reviewers import Assignment, AssignmentStatus
from models.rounds import Program, Round, RoundStatus
from submissions.application_views import (
    current_documents,
    describe_application,
    list_applications,
    participations,
)
from submissions.applications import (
    confirm_member,
    create_application,
    lock_editable_application,
    reopen_application,
    submit_application,
    update_application,
    withdraw_application,
)
from submissions.audit import verify
from submissions.canonical import canonical_json
from submissions.receipts import application_content
from submissions.rounds import start_review
from submissions.visibility import ensure_can_read_content
from tests.factories import (
    NOW,
    actor_of,
    make_admin,
    make_application,
    make_document,
    make_organization,
    make_program,
    make_round,
    make_user,
)

US = timedelta(microseconds=1)
PROPOSAL = {
    "kind": "proposal",
    "title": "Proposal",
    "content_types": ["application/pdf"],
    "max_bytes": 1_000_000,
}


def _refusal(excinfo: pytest.ExceptionInfo[DomainError]) -> tuple[int, str]:
    return excinfo.value.status, excinfo.value.type


def _actions(session: Session, object_id: object) -> list[str]:
    return list(
        session.exec(
            select(AuditEvent.action)
            .where(AuditEvent.object_id == str(object_id))
            .order_by(col(AuditEvent.seq))
        ).all()
    )


def _submit(session: Session, application: Application, user: User, at: object) -> Application:
    submitted = submit_application(
        session=session,
        actor=actor_of(user),
        application_id=application.id,
        now=at,  # type: ignore[arg-type]
    )
    session.commit()
    return submitted


# --- creating ----------------------------------------------------------------------------------


def test_a_member_of_the_lead_creates_a_draft(session: Session) -> None:
    applicant = make_user(session)
    round = make_round(session)
    partner_owner = make_user(session)
    partner = make_organization(session, partner_owner)
    application = make_application(session, round, applicant, members=[partner])
    assert application.status == ApplicationStatus.draft
    parts = participations(session=session, application_id=application.id)
    assert [(p.is_lead, p.confirmed_at is not None) for p in parts] == [
        (True, True),
        (False, False),
    ]
    assert _actions(session, application.id) == ["application.created"]


def test_only_members_of_the_lead_organization_create(session: Session) -> None:
    round = make_round(session)
    owner = make_user(session)
    organization = make_organization(session, owner)
    stranger = make_user(session)
    with pytest.raises(DomainError) as excinfo:
        create_application(
            session=session,
            actor=actor_of(stranger),
            round_id=round.id,
            data=ApplicationCreate(title="Mine", lead_organization_id=organization.id),
            now=NOW,
        )
    assert _refusal(excinfo) == (403, "not-organization-member")


def test_reviewers_do_not_apply(session: Session) -> None:
    round = make_round(session)
    reviewer = make_user(session, roles=[Role.reviewer])
    organization = make_organization(
        session, make_user(session), members=[(reviewer, MemberRole.member)]
    )
    with pytest.raises(DomainError) as excinfo:
        create_application(
            session=session,
            actor=actor_of(reviewer),
            round_id=round.id,
            data=ApplicationCreate(title="Mine", lead_organization_id=organization.id),
            now=NOW,
        )
    assert _refusal(excinfo) == (403, "forbidden-role")


def test_members_must_exist_and_differ_from_the_lead(session: Session) -> None:
    round = make_round(session)
    applicant = make_user(session)
    lead = make_organization(session, applicant)
    other = make_organization(session, make_user(session))
    unknown = uuid.UUID(int=1)
    with pytest.raises(DomainError) as excinfo:
        create_application(
            session=session,
            actor=actor_of(applicant),
            round_id=round.id,
            data=ApplicationCreate(
                title="Mine",
                lead_organization_id=lead.id,
                members=[
                    ApplicationMemberIn(organization_id=lead.id),
                    ApplicationMemberIn(organization_id=other.id),
                    ApplicationMemberIn(organization_id=other.id),
                    ApplicationMemberIn(organization_id=unknown),
                ],
            ),
            now=NOW,
        )
    assert excinfo.value.status == 422
    assert [e["loc"] for e in excinfo.value.errors or []] == [
        ["body", "members", 0, "organization_id"],
        ["body", "members", 2, "organization_id"],
        ["body", "members", 3, "organization_id"],
    ]


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-timedelta(hours=1) - US, "round-not-open"), (timedelta(days=7) + US, "deadline-passed")],
)
def test_applications_are_created_only_while_the_round_accepts(
    session: Session, offset: timedelta, expected: str
) -> None:
    round = make_round(session)
    applicant = make_user(session)
    organization = make_organization(session, applicant)
    with pytest.raises(DomainError) as excinfo:
        create_application(
            session=session,
            actor=actor_of(applicant),
            round_id=round.id,
            data=ApplicationCreate(title="Mine", lead_organization_id=organization.id),
            now=NOW + offset,
        )
    assert _refusal(excinfo) == (409, expected)


def test_a_draft_round_does_not_exist_for_applicants(session: Session) -> None:
    round = make_round(session, opened=False)
    applicant = make_user(session)
    organization = make_organization(session, applicant)
    with pytest.raises(DomainError) as excinfo:
        create_application(
            session=session,
            actor=actor_of(applicant),
            round_id=round.id,
            data=ApplicationCreate(title="Mine", lead_organization_id=organization.id),
            now=NOW,
        )
    assert excinfo.value.status == 404


def test_one_live_application_per_organization_and_round(session: Session) -> None:
    """An organization takes part (confirmed) in at most one live application per round: the
    lead from creation, a member once it confirms. A listing alone blocks nothing."""
    round = make_round(session)
    applicant = make_user(session)
    lead = make_organization(session, applicant)
    partner_owner = make_user(session)
    partner = make_organization(session, partner_owner)
    first = make_application(session, round, applicant, organization=lead, members=[partner])

    with pytest.raises(DomainError) as excinfo:
        make_application(session, round, applicant, organization=lead)
    assert _refusal(excinfo) == (409, "already-applied")
    session.rollback()
    # Listed in ``first`` but not confirmed: the partner is free to lead its own bid...
    own = make_application(session, round, partner_owner, organization=partner)
    session.commit()
    # ...and, taking part there, cannot confirm its listing in ``first``.
    with pytest.raises(DomainError) as excinfo:
        confirm_member(
            session=session,
            actor=actor_of(partner_owner),
            application_id=first.id,
            organization_id=partner.id,
            now=NOW,
        )
    assert _refusal(excinfo) == (409, "already-applied")
    session.rollback()
    withdraw_application(
        session=session, actor=actor_of(partner_owner), application_id=own.id, now=NOW
    )
    session.commit()
    confirm_member(
        session=session,
        actor=actor_of(partner_owner),
        application_id=first.id,
        organization_id=partner.id,
        now=NOW,
    )
    session.commit()
    with pytest.raises(DomainError) as excinfo:
        make_application(session, round, partner_owner, organization=partner)
    assert _refusal(excinfo) == (409, "already-applied")
    session.rollback()

    other_round = make_round(session)
    assert make_application(session, other_round, applicant, organization=lead)

    withdraw_application(
        session=session, actor=actor_of(applicant), application_id=first.id, now=NOW
    )
    session.commit()
    again = make_application(session, round, applicant, organization=lead, members=[partner])
    assert again.id != first.id


def test_the_database_refuses_a_second_live_participation(session: Session) -> None:
    """The partial unique index, not only the pre-check, keeps one live confirmed participation
    per organization and round; an unconfirmed listing is outside it."""
    round = make_round(session)
    applicant = make_user(session)
    lead = make_organization(session, applicant)
    make_application(session, round, applicant, organization=lead)

    def sneaked(confirmed_at: datetime | None) -> ApplicationOrganization:
        second = Application(
            round_id=round.id,
            lead_organization_id=lead.id,
            title="Sneaked in",
            created_by=applicant.id,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(second)
        session.flush()
        return ApplicationOrganization(
            application_id=second.id,
            round_id=round.id,
            organization_id=lead.id,
            role="member",
            confirmed_at=confirmed_at,
        )

    session.add(sneaked(None))
    session.flush()  # listed only: allowed
    session.add(sneaked(NOW))
    with pytest.raises(IntegrityError):
        session.flush()


# --- changing and confirming -------------------------------------------------------------------


def test_patch_changes_a_draft_and_keeps_kept_confirmations(session: Session) -> None:
    round = make_round(session)
    applicant = make_user(session)
    a_owner, b_owner = make_user(session), make_user(session)
    a, b = make_organization(session, a_owner), make_organization(session, b_owner)
    c = make_organization(session, make_user(session))
    application = make_application(session, round, applicant, members=[a, b])
    confirm_member(
        session=session,
        actor=actor_of(a_owner),
        application_id=application.id,
        organization_id=a.id,
        now=NOW,
    )
    session.commit()
    version = application.version
    updated = update_application(
        session=session,
        actor=actor_of(applicant),
        application_id=application.id,
        data=ApplicationUpdate(
            title="Better",
            keywords=["Solar ", "solar", "grid"],
            members=[
                ApplicationMemberIn(organization_id=a.id),
                ApplicationMemberIn(organization_id=c.id),
            ],
        ),
        precondition=ANY_VERSION,
        now=NOW,
    )
    session.commit()
    assert updated.title == "Better"
    assert updated.keywords == ["solar", "grid"]
    assert updated.version == version + 1
    members = {
        p.organization_id: p.confirmed_at
        for p in participations(session=session, application_id=application.id)
        if not p.is_lead
    }
    assert members == {a.id: NOW, c.id: None}
    assert _actions(session, application.id)[-1] == "application.updated"


def test_only_the_lead_changes_and_only_owners_confirm(session: Session) -> None:
    round = make_round(session)
    applicant = make_user(session)
    partner_owner, partner_member = make_user(session), make_user(session)
    partner = make_organization(
        session, partner_owner, members=[(partner_member, MemberRole.member)]
    )
    application = make_application(session, round, applicant, members=[partner])
    with pytest.raises(DomainError) as excinfo:
        update_application(
            session=session,
            actor=actor_of(partner_owner),
            application_id=application.id,
            data=ApplicationUpdate(title="Hijack"),
            precondition=ANY_VERSION,
            now=NOW,
        )
    assert _refusal(excinfo) == (403, "not-lead-member")
    with pytest.raises(DomainError) as excinfo:
        confirm_member(
            session=session,
            actor=actor_of(partner_member),
            application_id=application.id,
            organization_id=partner.id,
            now=NOW,
        )
    assert _refusal(excinfo) == (403, "not-owner")
    stranger = make_user(session)
    with pytest.raises(DomainError) as excinfo:
        confirm_member(
            session=session,
            actor=actor_of(stranger),
            application_id=application.id,
            organization_id=partner.id,
            now=NOW,
        )
    assert excinfo.value.status == 404
    confirmed = confirm_member(
        session=session,
        actor=actor_of(partner_owner),
        application_id=application.id,
        organization_id=partner.id,
        now=NOW,
    )
    again = confirm_member(
        session=session,
        actor=actor_of(partner_owner),
        application_id=application.id,
        organization_id=partner.id,
        now=NOW,
    )
    session.commit()
    assert again.version == confirmed.version
    assert _actions(session, application.id) == [
        "application.created",
        "application.member_confirmed",
    ]


# --- submitting --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "grace", "accepted"),
    [
        (-US, 0, True),
        (timedelta(0), 0, True),
        (US, 0, False),
        (US, 300, True),
        (timedelta(seconds=300), 300, True),
        (timedelta(seconds=300) + US, 300, False),
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
def test_submit_at_the_deadline_edges(
    session: Session, offset: timedelta, grace: int, accepted: bool
) -> None:
    round = make_round(session, grace_seconds=grace)
    applicant = make_user(session)
    application = make_application(session, round, applicant)
    at = round.submission_deadline + offset
    if not accepted:
        with pytest.raises(DomainError) as excinfo:
            _submit(session, application, applicant, at)
        assert _refusal(excinfo) == (409, "deadline-passed")
        session.rollback()
        assert session.exec(select(Receipt)).first() is None
        assert _actions(session, application.id) == ["application.created"]
        return
    submitted = _submit(session, application, applicant, at)
    assert submitted.status == ApplicationStatus.submitted
    assert submitted.submitted_at == at
    receipt = session.exec(select(Receipt)).one()
    assert receipt.received_at == at <= round.submissions_close_at


def test_the_receipt_proves_content_documents_and_audit_event(session: Session) -> None:
    round = make_round(session, required_documents=[PROPOSAL])
    applicant = make_user(session)
    application = make_application(session, round, applicant)
    make_document(session, application, version=1)
    current = make_document(session, application, version=2)
    annex = make_document(session, application, kind="annex")
    submitted = _submit(session, application, applicant, NOW)
    view = describe_application(
        session=session, actor=actor_of(applicant), application_id=submitted.id, now=NOW
    )
    assert isinstance(view, ApplicationPublic)
    receipt = view.receipt
    assert receipt is not None
    assert receipt.received_at == NOW
    assert [(d.id, d.kind, d.sha256) for d in receipt.documents] == [
        (annex.id, "annex", annex.sha256),
        (current.id, "proposal", current.sha256),
    ]
    content = application_content(
        application=submitted,
        organizations=participations(session=session, application_id=submitted.id),
        documents=current_documents(session=session, application_id=submitted.id),
    )
    assert receipt.application_sha256 == hashlib.sha256(canonical_json(content)).hexdigest()
    event = session.exec(
        select(AuditEvent).where(AuditEvent.action == "application.submitted")
    ).one()
    assert receipt.audit_hash == event.hash
    assert event.data["receipt_id"] == str(receipt.receipt_id)
    assert event.data["application_sha256"] == receipt.application_sha256
    assert verify(session=session).ok


def test_submit_lists_every_missing_piece(session: Session) -> None:
    budget = {**PROPOSAL, "kind": "budget", "title": "Budget"}
    round = make_round(session, required_documents=[PROPOSAL, budget])
    applicant = make_user(session)
    partner = make_organization(session, make_user(session))
    application = make_application(session, round, applicant, members=[partner])
    make_document(session, application, kind="proposal", status=DocumentStatus.pending_scan)
    with pytest.raises(DomainError) as excinfo:
        _submit(session, application, applicant, NOW)
    assert _refusal(excinfo) == (422, "submission-incomplete")
    assert [e["loc"] for e in excinfo.value.errors or []] == [
        ["documents", "proposal"],
        ["documents", "budget"],
        ["members", str(partner.id)],
    ]


def test_a_deleted_document_does_not_count(session: Session) -> None:
    round = make_round(session, required_documents=[PROPOSAL])
    applicant = make_user(session)
    application = make_application(session, round, applicant)
    document = make_document(session, application)
    document.deleted_at = NOW
    session.add(document)
    session.commit()
    with pytest.raises(DomainError) as excinfo:
        _submit(session, application, applicant, NOW)
    assert excinfo.value.errors == [
        {"loc": ["documents", "proposal"], "msg": "the required document 'Proposal' is missing"}
    ]


def test_submitting_twice_is_an_invalid_transition(session: Session) -> None:
    round = make_round(session)
    applicant = make_user(session)
    application = make_application(session, round, applicant)
    _submit(session, application, applicant, NOW)
    with pytest.raises(DomainError) as excinfo:
        _submit(session, application, applicant, NOW)
    assert _refusal(excinfo) == (409, "invalid-transition")


def test_reopen_voids_the_receipt_until_the_deadline(session: Session) -> None:
    round = make_round(session, grace_seconds=60)
    applicant = make_user(session)
    application = make_application(session, round, applicant)
    _submit(session, application, applicant, NOW)
    reopened = reopen_application(
        session=session,
        actor=actor_of(applicant),
        application_id=application.id,
        now=round.submissions_close_at,
    )
    session.commit()
    assert reopened.status == ApplicationStatus.draft
    assert reopened.submitted_at is None
    receipt = session.exec(select(Receipt)).one()
    assert receipt.voided_at == round.submissions_close_at
    view = describe_application(
        session=session, actor=actor_of(applicant), application_id=application.id, now=NOW
    )
    assert isinstance(view, ApplicationPublic)
    assert view.receipt is None

    resubmitted = _submit(session, application, applicant, NOW + timedelta(seconds=1))
    assert resubmitted.status == ApplicationStatus.submitted
    with pytest.raises(DomainError) as excinfo:
        reopen_application(
            session=session,
            actor=actor_of(applicant),
            application_id=application.id,
            now=round.submissions_close_at + US,
        )
    assert _refusal(excinfo) == (409, "deadline-passed")
    session.rollback()
    assert _actions(session, application.id) == [
        "application.created",
        "application.submitted",
        "application.reopened",
        "application.submitted",
    ]


def test_withdraw_voids_the_receipt_and_is_final(session: Session) -> None:
    round = make_round(session)
    applicant = make_user(session)
    application = make_application(session, round, applicant)
    _submit(session, application, applicant, NOW)
    withdrawn = withdraw_application(
        session=session, actor=actor_of(applicant), application_id=application.id, now=NOW
    )
    session.commit()
    assert withdrawn.status == ApplicationStatus.withdrawn
    assert session.exec(select(Receipt)).one().voided_at == NOW
    with pytest.raises(DomainError) as excinfo:
        withdraw_application(
            session=session, actor=actor_of(applicant), application_id=application.id, now=NOW
        )
    assert _refusal(excinfo) == (409, "invalid-transition")


def test_admins_see_but_do_not_change_applications(session: Session) -> None:
    round = make_round(session)
    applicant = make_user(session)
    application = make_application(session, round, applicant)
    admin = make_admin(session)
    with pytest.raises(DomainError) as excinfo:
        _submit(session, application, admin, NOW)
    assert _refusal(excinfo) == (403, "forbidden-role")


# --- eligibility (acceptance 3) ----------------------------------------------------------------


def _closed_first_round(
    session: Session, admin: User, status: RoundStatus = RoundStatus.published
) -> tuple[Round, dict[str, User], dict[str, Organization]]:
    """Round 1 of a program, closed (by default also published: only then do its outcomes
    count), with one shortlisted and one eliminated consortium (the closing issue will set
    these statuses; here the test does)."""
    program = make_program(session, admin=admin)
    first = make_round(session, program=program, admin=admin)
    people = {name: make_user(session) for name in ("winner", "loser", "newcomer")}
    organizations = {name: make_organization(session, user) for name, user in people.items()}
    for name, outcome in (
        ("winner", ApplicationStatus.shortlisted),
        ("loser", ApplicationStatus.not_selected),
    ):
        application = make_application(
            session, first, people[name], organization=organizations[name]
        )
        application.status = outcome
        session.add(application)
    first.status = status
    session.add(first)
    session.commit()
    return first, people, organizations


def test_eligibility_by_earlier_shortlists(session: Session) -> None:
    admin = make_admin(session)
    first, people, organizations = _closed_first_round(session, admin)
    program_row = session.get(Program, first.program_id)
    assert program_row is not None
    re_entry = make_round(
        session,
        program=program_row,
        admin=admin,
        eligibility={"exclude_shortlisted_from": [str(first.id)]},
    )
    finals = make_round(
        session,
        program=program_row,
        admin=admin,
        eligibility={"only_shortlisted_from": str(first.id)},
    )

    def attempt(round: Round, name: str) -> None:
        make_application(session, round, people[name], organization=organizations[name])

    attempt(re_entry, "loser")
    attempt(re_entry, "newcomer")
    with pytest.raises(DomainError) as excinfo:
        attempt(re_entry, "winner")
    assert _refusal(excinfo) == (403, "not-eligible")
    session.rollback()

    attempt(finals, "winner")
    for name in ("loser", "newcomer"):
        with pytest.raises(DomainError) as excinfo:
            attempt(finals, name)
        assert _refusal(excinfo) == (403, "not-eligible")
        session.rollback()


def test_eligibility_is_checked_again_on_submit(session: Session) -> None:
    """A lead admitted while round 1 was still open is refused at submit once round 1 is
    published with it shortlisted."""
    admin = make_admin(session)
    program = make_program(session, admin=admin)
    first = make_round(session, program=program, admin=admin)
    applicant = make_user(session)
    lead = make_organization(session, applicant)
    first_bid = make_application(session, first, applicant, organization=lead)
    second = make_round(
        session,
        program=program,
        admin=admin,
        eligibility={"exclude_shortlisted_from": [str(first.id)]},
    )
    second_bid = make_application(session, second, applicant, organization=lead)
    first_bid.status = ApplicationStatus.shortlisted
    first.status = RoundStatus.published
    session.add_all([first_bid, first])
    session.commit()
    with pytest.raises(DomainError) as excinfo:
        _submit(session, second_bid, applicant, NOW)
    assert _refusal(excinfo) == (403, "not-eligible")


# --- sealed bids (acceptance 4) ----------------------------------------------------------------


def test_sealed_until_the_deadline_for_admins(session: Session) -> None:
    admin_user = make_admin(session)
    round = make_round(session, admin=admin_user, grace_seconds=10)
    applicant = make_user(session)
    application = make_application(session, round, applicant)
    _submit(session, application, applicant, NOW)
    admin = actor_of(admin_user)

    before = round.submissions_close_at
    sealed = describe_application(
        session=session, actor=admin, application_id=application.id, now=before
    )
    assert type(sealed) is ApplicationSealed
    assert set(sealed.model_dump()) == {"id", "title", "status", "organizations"}
    with pytest.raises(DomainError) as excinfo:
        ensure_can_read_content(
            session=session, actor=admin, application_id=application.id, now=before
        )
    assert _refusal(excinfo) == (403, "sealed")

    after = before + US
    assert isinstance(
        describe_application(
            session=session, actor=admin, application_id=application.id, now=after
        ),
        ApplicationPublic,
    )
    assert ensure_can_read_content(
        session=session, actor=admin, application_id=application.id, now=after
    )
    owner = actor_of(applicant)
    assert ensure_can_read_content(
        session=session, actor=owner, application_id=application.id, now=before
    )
    stranger = actor_of(make_user(session, roles=[Role.reviewer]))
    with pytest.raises(DomainError) as excinfo:
        ensure_can_read_content(
            session=session, actor=stranger, application_id=application.id, now=after
        )
    assert excinfo.value.status == 404


def test_applicants_see_submitted_until_the_round_is_published(session: Session) -> None:
    admin = make_admin(session)
    round = make_round(session, admin=admin)
    applicant = make_user(session)
    application = make_application(session, round, applicant)
    _submit(session, application, applicant, NOW)
    start_review(
        session=session,
        actor=actor_of(admin),
        round_id=round.id,
        now=round.submissions_close_at + US,
    )
    application.status = ApplicationStatus.shortlisted
    round.status = RoundStatus.closed
    session.add_all([application, round])
    session.commit()

    def seen_by(user: User) -> str:
        view = describe_application(
            session=session, actor=actor_of(user), application_id=application.id, now=NOW
        )
        return str(view.status)

    assert seen_by(applicant) == "submitted"
    assert seen_by(admin) == "shortlisted"
    round.status = RoundStatus.published
    session.add(round)
    session.commit()
    assert seen_by(applicant) == "shortlisted"


# --- every applicant action at the deadline edge ------------------------------------------------


@pytest.mark.parametrize("action", ["create", "patch", "confirm", "submit", "reopen", "edit"])
@pytest.mark.parametrize(("offset", "accepted"), [(timedelta(0), True), (US, False)])
def test_applicant_actions_end_with_the_deadline_plus_grace(
    session: Session, action: str, offset: timedelta, accepted: bool
) -> None:
    round = make_round(session, grace_seconds=5)
    applicant = make_user(session)
    partner_owner = make_user(session)
    partner = make_organization(session, partner_owner)
    application = make_application(session, round, applicant, members=[partner])
    if action == "reopen":
        confirm_member(
            session=session,
            actor=actor_of(partner_owner),
            application_id=application.id,
            organization_id=partner.id,
            now=NOW,
        )
        _submit(session, application, applicant, NOW)
    at = round.submissions_close_at + offset
    newcomer = make_user(session)
    newcomer_org = make_organization(session, newcomer)

    def run() -> object:
        if action == "create":
            return create_application(
                session=session,
                actor=actor_of(newcomer),
                round_id=round.id,
                data=ApplicationCreate(title="Late", lead_organization_id=newcomer_org.id),
                now=at,
            )
        if action == "patch":
            return update_application(
                session=session,
                actor=actor_of(applicant),
                application_id=application.id,
                data=ApplicationUpdate(title="Late"),
                precondition=ANY_VERSION,
                now=at,
            )
        if action == "confirm":
            return confirm_member(
                session=session,
                actor=actor_of(partner_owner),
                application_id=application.id,
                organization_id=partner.id,
                now=at,
            )
        if action == "submit":
            confirm_member(
                session=session,
                actor=actor_of(partner_owner),
                application_id=application.id,
                organization_id=partner.id,
                now=NOW,
            )
            return submit_application(
                session=session, actor=actor_of(applicant), application_id=application.id, now=at
            )
        if action == "reopen":
            return reopen_application(
                session=session, actor=actor_of(applicant), application_id=application.id, now=at
            )
        return lock_editable_application(
            session=session, actor=actor_of(applicant), application_id=application.id, now=at
        )

    if accepted:
        assert run()
        return
    with pytest.raises(DomainError) as excinfo:
        run()
    assert _refusal(excinfo) == (409, "deadline-passed")


@pytest.mark.parametrize("blind", [False, True])
def test_assigned_reviewers_read_once_review_has_started(session: Session, blind: bool) -> None:
    admin = make_admin(session)
    round = make_round(session, admin=admin, blind=blind)
    applicant = make_user(session)
    application = make_application(session, round, applicant)
    _submit(session, application, applicant, NOW)
    reviewer = make_user(session, roles=[Role.reviewer])
    assignment = Assignment(
        round_id=round.id,
        application_id=application.id,
        reviewer_id=reviewer.id,
        created_at=NOW,
    )
    session.add(assignment)
    session.commit()
    actor = actor_of(reviewer)
    after = round.submissions_close_at + US

    def visible() -> list[ApplicationView]:
        page = list_applications(session=session, actor=actor, page=PageRequest(), now=after)
        return page.items

    assert visible() == []
    with pytest.raises(DomainError):
        ensure_can_read_content(
            session=session, actor=actor, application_id=application.id, now=after
        )
    start_review(session=session, actor=actor_of(admin), round_id=round.id, now=after)
    session.commit()
    [view] = visible()
    assert isinstance(view, ApplicationPublic)
    assert view.summary == "What we will do"
    assert (view.organizations == []) is blind
    assert (view.lead_organization_id is None) is blind
    assert ensure_can_read_content(
        session=session, actor=actor, application_id=application.id, now=after
    )
    assignment.status = AssignmentStatus.recused
    session.add(assignment)
    session.commit()
    assert visible() == []
