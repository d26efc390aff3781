"""Applications: a lead organization's bid with member organizations, from draft to a submitted,
receipted bid, reopened or withdrawn.

An organization takes part in at most one live (not withdrawn) application per round; the
``application_organization`` partial unique index over confirmed participations holds that under
any concurrency. The lead takes part from the creation of its bid; a member organization is only
listed until an owner of it confirms (or declines): a listing blocks nothing and reveals nothing
of the organization's other bids. Writes lock the application row (and hold the round against
transitions) before they check anything; every change that is the lead organization's passes
``lock_for_lead_change``, and nothing about an application of a closed round changes (409
``round-closed``, whatever closing decided). How a caller sees an application is in
``submissions.application_views``.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models.applications import (
    LEAD_ROLE,
    Application,
    ApplicationCreate,
    ApplicationMemberIn,
    ApplicationOrganization,
    ApplicationStatus,
    ApplicationUpdate,
    Receipt,
)
from models.concurrency import Precondition
from models.documents import Document, DocumentStatus
from models.errors import Conflict, Forbidden, InvalidTransition, NotFound, Unprocessable
from models.events import EventAudience, EventType
from models.identity import Actor, MemberRole, Organization, Role
from models.rounds import RequiredDocument, Round, RoundStatus
from submissions import audit, outbox
from submissions.application_views import current_documents, participations, valid_receipt
from submissions.canonical import rfc3339
from submissions.eligibility import ensure_eligible
from submissions.organizations import ensure_role, membership
from submissions.receipts import application_sha256, receipt_documents
from submissions.rounds import ensure_accepting, lock_round
from submissions.unique import add_unique
from submissions.visibility import (
    ApplicationAccess,
    application_access,
    is_participant,
)

WITHDRAWABLE = frozenset({ApplicationStatus.draft, ApplicationStatus.submitted})
ROUND_OVER = frozenset({RoundStatus.closed, RoundStatus.published})


class RoundClosed(Conflict):
    type = "round-closed"
    title = "Round closed"


class ApplicationNotDraft(Conflict):
    type = "application-not-draft"
    title = "Application not a draft"


def _already_applied(organization_id: uuid.UUID) -> Conflict:
    """Only ever said to a member of that organization: the lead's, creating its bid, or an
    owner confirming its listing. Nobody learns from it where another organization bids."""
    return Conflict(
        f"organization {organization_id} already takes part in a live application in this round",
        type="already-applied",
        extra={"organization_id": str(organization_id)},
    )


def _lock_application(session: Session, application_id: uuid.UUID) -> Application | None:
    return session.exec(
        select(Application)
        .where(Application.id == application_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def _load_for_change(
    session: Session,
    actor: Actor,
    application_id: uuid.UUID,
    now: datetime,
    *,
    lock: bool = True,
    missing: str = "no such application",
) -> tuple[Application, Round]:
    """The application (with ``lock``: locked for update) and its round (held against
    transitions): 404 ``missing`` unless the caller may see the application, 403 unless they
    are a member of one of its organizations (an admin or an assigned reviewer reads it but
    changes nothing)."""
    application = (
        _lock_application(session, application_id)
        if lock
        else session.get(Application, application_id)
    )
    if application is None:
        raise NotFound(missing)
    if not is_participant(session=session, actor=actor, application_id=application.id):
        access = application_access(session=session, actor=actor, application=application, now=now)
        if access is ApplicationAccess.none:
            raise NotFound(missing)
        raise Forbidden("only the applicant changes an application", type="forbidden-role")
    round = (
        lock_round(session, application.round_id, shared=True)
        if lock
        else session.get(Round, application.round_id)
    )
    assert round is not None  # a foreign key
    return application, round


def ensure_lead_member(*, session: Session, actor: Actor, application: Application) -> None:
    """Only members of the lead organization with the applicant role change the application."""
    ensure_role(actor, Role.applicant)
    if (
        membership(
            session=session, user_id=actor.user_id, organization_id=application.lead_organization_id
        )
        is None
    ):
        raise Forbidden(
            "only members of the lead organization change the application",
            type="not-lead-member",
        )


def ensure_round_not_over(round: Round) -> None:
    """409 ``round-closed`` for any action on an application of a closed (or published) round.
    It comes before every check of the application's own status, so that no refusal tells an
    applicant whether closing shortlisted its bid (outcomes are sealed until publish)."""
    if round.status in ROUND_OVER:
        raise RoundClosed(
            "the round is closed: its applications, their documents and members no longer change"
        )


def lock_for_lead_change(
    *,
    session: Session,
    actor: Actor,
    application_id: uuid.UUID,
    now: datetime,
    lock: bool = True,
    missing: str = "no such application",
) -> tuple[Application, Round]:
    """The one gate of every change that is the lead organization's: the application's fields,
    its documents (upload and delete), submit, reopen and withdraw. 404 unless the caller may
    see the application, 403 unless a member of one of its organizations, 403
    ``not-lead-member`` unless a member of the lead organization with the applicant role, 409
    ``round-closed`` once the round has closed. Each action checks its own statuses after it."""
    application, round = _load_for_change(
        session, actor, application_id, now, lock=lock, missing=missing
    )
    ensure_lead_member(session=session, actor=actor, application=application)
    ensure_round_not_over(round)
    return application, round


def lock_editable_application(
    *,
    session: Session,
    actor: Actor,
    application_id: uuid.UUID,
    now: datetime,
    lock: bool = True,
    missing: str = "no such application",
) -> tuple[Application, Round]:
    """The application held for a change of its content (fields, document uploads and
    deletions): ``lock_for_lead_change``, then 409 ``application-not-draft`` unless a draft and
    409 unless its round accepts submissions."""
    application, round = lock_for_lead_change(
        session=session,
        actor=actor,
        application_id=application_id,
        now=now,
        lock=lock,
        missing=missing,
    )
    if application.status != ApplicationStatus.draft:
        raise ApplicationNotDraft(
            f"the application is {application.status}: it changes only in draft",
            extra={"status": str(application.status)},
        )
    ensure_accepting(round, now)
    return application, round


def _ensure_status(application: Application, *allowed: ApplicationStatus, doing: str) -> None:
    if application.status not in allowed:
        raise InvalidTransition(
            f"an application in {application.status} cannot be {doing}",
            extra={"status": str(application.status)},
        )


def _checked_members(
    session: Session, lead_organization_id: uuid.UUID, members: Sequence[ApplicationMemberIn]
) -> None:
    errors: list[dict[str, Any]] = []
    seen: set[uuid.UUID] = set()
    for i, member in enumerate(members):
        loc = ["body", "members", i, "organization_id"]
        if member.organization_id == lead_organization_id:
            errors.append({"loc": loc, "msg": "the lead organization is not also a member"})
        elif member.organization_id in seen:
            errors.append({"loc": loc, "msg": "listed twice"})
        seen.add(member.organization_id)
    known = set(session.exec(select(Organization.id).where(col(Organization.id).in_(seen))).all())
    errors += [
        {"loc": ["body", "members", i, "organization_id"], "msg": "no such organization"}
        for i, m in enumerate(members)
        if m.organization_id not in known and m.organization_id != lead_organization_id
    ]
    if errors:
        raise Unprocessable("the members are not valid", errors=errors)


def _ensure_free(
    session: Session,
    round_id: uuid.UUID,
    organization_id: uuid.UUID,
    *,
    besides: uuid.UUID | None = None,
) -> None:
    """409 ``already-applied`` when the organization already takes part (confirmed) in a live
    application of the round (``besides``: other than that one). A readable pre-check; the
    partial unique index settles races."""
    statement = select(ApplicationOrganization.id).where(
        ApplicationOrganization.round_id == round_id,
        ApplicationOrganization.organization_id == organization_id,
        col(ApplicationOrganization.confirmed_at).is_not(None),
        col(ApplicationOrganization.withdrawn_at).is_(None),
    )
    if besides is not None:
        statement = statement.where(ApplicationOrganization.application_id != besides)
    if session.exec(statement.limit(1)).first() is not None:
        raise _already_applied(organization_id)


def _touch(application: Application, now: datetime) -> None:
    application.version += 1
    application.updated_at = now


def create_application(
    *,
    session: Session,
    actor: Actor,
    round_id: uuid.UUID,
    data: ApplicationCreate,
    now: datetime,
) -> Application:
    """A draft bid led by an organization the caller belongs to. Refused while the round is not
    accepting (409), for an ineligible lead (403 ``not-eligible``), and for an organization
    already in a live application of the round (409 ``already-applied``)."""
    round = lock_round(session, round_id, shared=True)
    if round is None or (round.status == RoundStatus.draft and not actor.is_admin):
        raise NotFound("no such round")
    ensure_role(actor, Role.applicant)
    if (
        membership(
            session=session, user_id=actor.user_id, organization_id=data.lead_organization_id
        )
        is None
    ):
        raise Forbidden(
            "only a member of the lead organization creates its application",
            type="not-organization-member",
        )
    _checked_members(session, data.lead_organization_id, data.members)
    ensure_accepting(round, now)
    ensure_eligible(session=session, round=round, organization_id=data.lead_organization_id)
    # Only the lead takes part from the start; members are listed until they confirm, and a
    # listing never depends on (nor tells) where else they take part.
    _ensure_free(session, round.id, data.lead_organization_id)

    application = Application(
        round_id=round.id,
        lead_organization_id=data.lead_organization_id,
        title=data.title,
        summary=data.summary,
        keywords=data.keywords,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(application)
    session.flush()
    rows = [
        ApplicationOrganization(
            application_id=application.id,
            round_id=round.id,
            organization_id=data.lead_organization_id,
            role=LEAD_ROLE,
            is_lead=True,
            # The lead's member creating the bid is its confirmation.
            confirmed_at=now,
            confirmed_by=actor.user_id,
        ),
        *(
            ApplicationOrganization(
                application_id=application.id,
                round_id=round.id,
                organization_id=m.organization_id,
                role=m.role,
            )
            for m in data.members
        ),
    ]
    add_unique(session, *rows, conflict=_already_applied(data.lead_organization_id))
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="application.created",
        object_type="application",
        object_id=application.id,
        now=now,
        data={
            "round_id": str(round.id),
            "lead_organization_id": str(data.lead_organization_id),
            "members": [
                {"organization_id": str(m.organization_id), "role": m.role} for m in data.members
            ],
        },
    )
    return application


def update_application(
    *,
    session: Session,
    actor: Actor,
    application_id: uuid.UUID,
    data: ApplicationUpdate,
    precondition: Precondition,
    now: datetime,
) -> Application:
    """Change a draft while the round accepts submissions. ``members`` replaces the member list:
    members kept with the same role keep their confirmation."""
    application, round = lock_for_lead_change(
        session=session, actor=actor, application_id=application_id, now=now
    )
    precondition.ensure(application.version)
    _ensure_status(application, ApplicationStatus.draft, doing="changed")
    ensure_accepting(round, now)

    changed: list[str] = []
    for field in ("title", "summary", "keywords"):
        if field in data.model_fields_set and getattr(data, field) != getattr(application, field):
            setattr(application, field, getattr(data, field))
            changed.append(field)
    if data.members is not None and _replace_members(session, application, data.members):
        changed.append("members")
    if not changed:
        return application
    _touch(application, now)
    session.add(application)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="application.updated",
        object_type="application",
        object_id=application.id,
        now=now,
        data={"fields": changed},
    )
    return application


def _replace_members(
    session: Session,
    application: Application,
    members: Sequence[ApplicationMemberIn],
) -> bool:
    _checked_members(session, application.lead_organization_id, members)
    existing = {
        p.organization_id: p
        for p in participations(session=session, application_id=application.id)
        if not p.is_lead
    }
    wanted = {m.organization_id: m for m in members}
    changed = False
    for organization_id, part in existing.items():
        member = wanted.get(organization_id)
        if member is None:
            session.delete(part)
            changed = True
        elif member.role != part.role:
            part.role = member.role
            part.confirmed_at = None
            part.confirmed_by = None
            session.add(part)
            changed = True
    session.flush()
    new = [oid for oid in wanted if oid not in existing]
    if new:
        # Listed, not confirmed: nothing about the organization's other bids is checked here.
        session.add_all(
            ApplicationOrganization(
                application_id=application.id,
                round_id=application.round_id,
                organization_id=oid,
                role=wanted[oid].role,
            )
            for oid in new
        )
        session.flush()
        changed = True
    return changed


def _member_part(
    session: Session,
    actor: Actor,
    application_id: uuid.UUID,
    organization_id: uuid.UUID,
    now: datetime,
    *,
    action: str,
) -> tuple[Application, ApplicationOrganization]:
    """The application (locked) and one organization's part in it, for that organization's
    own answer to its listing: 404 unless the caller may see the application and the
    organization is on it, 403 ``not-owner`` unless an owner of that organization, 409
    ``round-closed`` once the round has closed, 409 unless a draft in a round accepting."""
    application, round = _load_for_change(session, actor, application_id, now)
    part = session.exec(
        select(ApplicationOrganization).where(
            ApplicationOrganization.application_id == application.id,
            ApplicationOrganization.organization_id == organization_id,
        )
    ).first()
    if part is None:
        raise NotFound("the organization takes no part in this application")
    ensure_role(actor, Role.applicant)
    own = membership(session=session, user_id=actor.user_id, organization_id=organization_id)
    if own is None or own.role != MemberRole.owner:
        raise Forbidden(
            f"only an owner of the member organization may {action} its participation",
            type="not-owner",
        )
    ensure_round_not_over(round)
    _ensure_status(application, ApplicationStatus.draft, doing=f"answered ({action})")
    ensure_accepting(round, now)
    return application, part


def confirm_member(
    *,
    session: Session,
    actor: Actor,
    application_id: uuid.UUID,
    organization_id: uuid.UUID,
    now: datetime,
) -> Application:
    """An owner of a listed organization confirms its participation (again: no change). From
    then on it takes part: 409 ``already-applied`` (to that owner only) when it already takes
    part in another live application of the round, decided under any concurrency by the
    partial unique index over confirmed participations."""
    application, part = _member_part(
        session, actor, application_id, organization_id, now, action="confirm"
    )
    if part.confirmed_at is not None:
        return application
    _ensure_free(session, application.round_id, organization_id, besides=application.id)
    part.confirmed_at = now
    part.confirmed_by = actor.user_id
    add_unique(session, part, conflict=_already_applied(organization_id))
    _touch(application, now)
    session.add(application)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="application.member_confirmed",
        object_type="application",
        object_id=application.id,
        now=now,
        data={"organization_id": str(organization_id)},
    )
    return application


def decline_member(
    *,
    session: Session,
    actor: Actor,
    application_id: uuid.UUID,
    organization_id: uuid.UUID,
    now: datetime,
) -> Application:
    """An owner of a member organization takes it off the application, whether it had
    confirmed or was only listed (the lead withdraws instead: 409 ``lead-cannot-decline``).
    Once it is off, the organization is no longer on the application (404 to a second
    decline), and its members no longer see the application through it."""
    application, part = _member_part(
        session, actor, application_id, organization_id, now, action="decline"
    )
    if part.is_lead:
        raise Conflict(
            "the lead organization does not decline its own application; it withdraws it",
            type="lead-cannot-decline",
        )
    was_confirmed = part.confirmed_at is not None
    session.delete(part)
    _touch(application, now)
    session.add(application)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="application.member_declined",
        object_type="application",
        object_id=application.id,
        now=now,
        data={"organization_id": str(organization_id), "was_confirmed": was_confirmed},
    )
    return application


def submission_problems(
    *,
    required_documents: Sequence[RequiredDocument],
    organizations: Sequence[ApplicationOrganization],
    documents: Sequence[Document],
) -> list[dict[str, Any]]:
    """Every missing piece of a submission (pure): required documents absent, not yet scanned or
    infected, any infected document, and members that have not confirmed."""
    errors: list[dict[str, Any]] = []
    by_kind = {d.kind: d for d in documents}
    required = {r.kind for r in required_documents}
    for item in required_documents:
        document = by_kind.get(item.kind)
        loc = ["documents", item.kind]
        if document is None:
            errors.append({"loc": loc, "msg": f"the required document {item.title!r} is missing"})
        elif document.status == DocumentStatus.pending_scan:
            errors.append({"loc": loc, "msg": "still being scanned for malware; try again soon"})
        elif document.status == DocumentStatus.infected:
            errors.append({"loc": loc, "msg": "infected: upload a clean version"})
    errors += [
        {"loc": ["documents", d.kind], "msg": "infected: upload a clean version or delete it"}
        for d in documents
        if d.kind not in required and d.status == DocumentStatus.infected
    ]
    errors += [
        {
            "loc": ["members", str(p.organization_id)],
            "msg": "not yet confirmed by an owner of the organization",
        }
        for p in organizations
        if not p.is_lead and p.confirmed_at is None
    ]
    return errors


def submit_application(
    *, session: Session, actor: Actor, application_id: uuid.UUID, now: datetime
) -> Application:
    """Submit a draft: the round must be open and ``now`` (the server clock) no later than the
    deadline plus grace (409 ``deadline-passed``), the lead still eligible (403), every required
    document present and clean and every member confirmed (422 listing each missing piece).
    Issues a receipt whose ``audit_hash`` is the hash of the submission's audit event."""
    application, round = lock_for_lead_change(
        session=session, actor=actor, application_id=application_id, now=now
    )
    _ensure_status(application, ApplicationStatus.draft, doing="submitted")
    ensure_accepting(round, now)
    ensure_eligible(session=session, round=round, organization_id=application.lead_organization_id)
    organizations = participations(session=session, application_id=application.id)
    documents = current_documents(session=session, application_id=application.id)
    problems = submission_problems(
        required_documents=round.config().required_documents,
        organizations=organizations,
        documents=documents,
    )
    if problems:
        raise Unprocessable(
            f"the application is not complete: {len(problems)} missing piece(s)",
            type="submission-incomplete",
            errors=problems,
        )

    digest = application_sha256(
        application=application, organizations=organizations, documents=documents
    )
    listed = receipt_documents(documents)
    application.status = ApplicationStatus.submitted
    application.submitted_at = now
    _touch(application, now)
    session.add(application)
    receipt_id = uuid.uuid4()
    event = audit.append(
        session=session,
        actor=actor.audit_name,
        action="application.submitted",
        object_type="application",
        object_id=application.id,
        now=now,
        data={
            "receipt_id": str(receipt_id),
            "received_at": rfc3339(now),
            "application_sha256": digest,
            "documents": listed,
        },
    )
    session.add(
        Receipt(
            id=receipt_id,
            application_id=application.id,
            received_at=now,
            application_sha256=digest,
            documents=listed,
            audit_seq=event.seq,
            audit_hash=event.hash,
        )
    )
    session.flush()
    outbox.record(
        session=session,
        type=EventType.application_submitted,
        round_id=application.round_id,
        application_id=application.id,
        audience=EventAudience.application,
        now=now,
        data={
            "title": application.title,
            "status": ApplicationStatus.submitted.value,
            "submitted_by": str(actor.user_id),
            "receipt_id": str(receipt_id),
            "received_at": rfc3339(now),
            "application_sha256": digest,
        },
    )
    return application


def _void_receipt(session: Session, application_id: uuid.UUID, now: datetime) -> uuid.UUID | None:
    receipt = valid_receipt(session=session, application_id=application_id)
    if receipt is None:
        return None
    receipt.voided_at = now
    session.add(receipt)
    return receipt.id


def reopen_application(
    *, session: Session, actor: Actor, application_id: uuid.UUID, now: datetime
) -> Application:
    """Take a submitted bid back to draft before the deadline plus grace; its receipt is void."""
    application, round = lock_for_lead_change(
        session=session, actor=actor, application_id=application_id, now=now
    )
    _ensure_status(application, ApplicationStatus.submitted, doing="reopened")
    ensure_accepting(round, now)
    voided = _void_receipt(session, application.id, now)
    application.status = ApplicationStatus.draft
    application.submitted_at = None
    _touch(application, now)
    session.add(application)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="application.reopened",
        object_type="application",
        object_id=application.id,
        now=now,
        data={"voided_receipt_id": str(voided) if voided else None},
    )
    outbox.record(
        session=session,
        type=EventType.application_reopened,
        round_id=application.round_id,
        application_id=application.id,
        audience=EventAudience.application,
        now=now,
        data={"title": application.title, "status": ApplicationStatus.draft.value},
    )
    return application


def withdraw_application(
    *, session: Session, actor: Actor, application_id: uuid.UUID, now: datetime
) -> Application:
    """Withdraw a draft or submitted bid (until the round closes): its receipt is void and its
    organizations are free to bid again in the round."""
    application, _round = lock_for_lead_change(
        session=session, actor=actor, application_id=application_id, now=now
    )
    _ensure_status(application, *WITHDRAWABLE, doing="withdrawn")
    previous = application.status
    voided = _void_receipt(session, application.id, now)
    for part in participations(session=session, application_id=application.id):
        part.withdrawn_at = now
        session.add(part)
    application.status = ApplicationStatus.withdrawn
    application.withdrawn_at = now
    _touch(application, now)
    session.add(application)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="application.withdrawn",
        object_type="application",
        object_id=application.id,
        now=now,
        data={
            "from": str(previous),
            "voided_receipt_id": str(voided) if voided else None,
        },
    )
    outbox.record(
        session=session,
        type=EventType.application_withdrawn,
        round_id=application.round_id,
        application_id=application.id,
        audience=EventAudience.application,
        now=now,
        data={"title": application.title, "status": ApplicationStatus.withdrawn.value},
    )
    return application
