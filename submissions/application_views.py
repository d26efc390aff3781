"""Applications as a caller may see them: their current documents, organizations and receipts,
one application (in one statement) or a page of them, each shaped by the visibility rules
(``submissions.visibility``): full, sealed before the deadline, blind for reviewers, or not at all.
The changes to applications are in ``submissions.applications``.
"""

import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Concatenate

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.applications import READ_STAMP as _READ_STAMP
from models.applications import (
    Application,
    ApplicationOrganization,
    ApplicationOrganizationPublic,
    ApplicationPublic,
    ApplicationSealed,
    ApplicationStatus,
    ApplicationView,
    Receipt,
    ReceiptPublic,
)
from models.documents import Document
from models.errors import NotFound
from models.identity import Actor, Organization, OrganizationMember, Role
from models.pagination import Page, PageRequest
from models.reviewers import Assignment, AssignmentStatus
from models.rounds import Round, RoundStatus
from submissions.organizations import organization_ids_of
from submissions.pagination import paginate
from submissions.rounds import is_sealed
from submissions.visibility import (
    RESULT_STATUSES,
    REVIEW_STARTED,
    ApplicationAccess,
    access_rule,
    assigned_application_ids,
    assigned_to,
    user_organization_ids,
    visible_status,
)


def current_documents(*, session: Session, application_id: uuid.UUID) -> list[Document]:
    """The current document of each kind: its highest version that is not deleted."""
    rows = session.exec(
        select(Document)
        .where(Document.application_id == application_id, col(Document.deleted_at).is_(None))
        .order_by(col(Document.kind), col(Document.version).desc())
    ).all()
    current: dict[str, Document] = {}
    for row in rows:
        current.setdefault(row.kind, row)
    return list(current.values())


def participations(*, session: Session, application_id: uuid.UUID) -> list[ApplicationOrganization]:
    return list(
        session.exec(
            select(ApplicationOrganization)
            .where(ApplicationOrganization.application_id == application_id)
            .order_by(col(ApplicationOrganization.is_lead).desc(), col(ApplicationOrganization.id))
        ).all()
    )


def valid_receipt(*, session: Session, application_id: uuid.UUID) -> Receipt | None:
    return session.exec(
        select(Receipt).where(
            Receipt.application_id == application_id, col(Receipt.voided_at).is_(None)
        )
    ).first()


def receipt_public(receipt: Receipt) -> ReceiptPublic:
    return _receipt(
        receipt.id,
        receipt.received_at,
        receipt.application_sha256,
        receipt.documents,
        receipt.audit_hash,
    )


def _receipt(
    receipt_id: uuid.UUID,
    received_at: datetime,
    application_sha256: str,
    documents: Any,
    audit_hash: str,
) -> ReceiptPublic:
    """A receipt as the API shows it, from a ``Receipt`` row or from the columns of one."""
    return ReceiptPublic.model_validate(
        {
            "receipt_id": receipt_id,
            "received_at": received_at,
            "application_sha256": application_sha256,
            "documents": documents,
            "audit_hash": audit_hash,
        }
    )


def _view(
    *,
    actor: Actor,
    application: Any,
    round_status: str,
    sealed: bool,
    blind: bool,
    organizations: list[ApplicationOrganizationPublic],
    receipt: ReceiptPublic | None,
    participant: bool,
    assigned: bool,
) -> ApplicationView | None:
    """One application as the caller may see it, from plain values (``None``: not at all).
    ``application`` is anything with the application's column attributes (a row or a model)."""
    access = access_rule(
        actor=actor,
        participant=participant,
        sealed=sealed,
        round_status=round_status,
        assigned=assigned and actor.has_role(Role.reviewer),
    )
    if access is ApplicationAccess.none:
        return None
    if access is ApplicationAccess.reviewer and blind:
        organizations = []
    status = visible_status(application.status, round_status=round_status, raw=actor.is_admin)
    if access is ApplicationAccess.sealed:
        return ApplicationSealed(
            id=application.id,
            title=application.title,
            status=status,
            organizations=organizations,
        )
    return ApplicationPublic(
        id=application.id,
        title=application.title,
        status=status,
        organizations=organizations,
        round_id=application.round_id,
        lead_organization_id=None
        if blind and access is ApplicationAccess.reviewer
        else application.lead_organization_id,
        summary=application.summary,
        keywords=application.keywords,
        version=application.version,
        created_at=application.created_at,
        updated_at=application.updated_at,
        submitted_at=application.submitted_at,
        receipt=receipt,
    )


def _organization(part: Any, name: str) -> ApplicationOrganizationPublic:
    return ApplicationOrganizationPublic(
        organization_id=part.organization_id,
        name=name,
        role=part.role,
        lead=part.is_lead,
        confirmed=part.confirmed_at is not None,
        confirmed_at=part.confirmed_at,
    )


def present_applications(
    *, session: Session, actor: Actor, applications: Sequence[Application], now: datetime
) -> list[ApplicationView]:
    """Each application as the caller may see it (full, or sealed for admins before the
    deadline), in a fixed number of queries. Applications the caller may not see are left out."""
    if not applications:
        return []
    ids = [a.id for a in applications]
    rounds = {
        r.id: r
        for r in session.exec(
            select(Round).where(col(Round.id).in_({a.round_id for a in applications}))
        ).all()
    }
    parts: dict[uuid.UUID, list[tuple[ApplicationOrganization, Organization]]] = defaultdict(list)
    for part, organization in session.exec(
        select(ApplicationOrganization, Organization)
        .join(Organization, col(Organization.id) == ApplicationOrganization.organization_id)
        .where(col(ApplicationOrganization.application_id).in_(ids))
        .order_by(col(ApplicationOrganization.is_lead).desc(), col(Organization.name))
    ).all():
        parts[part.application_id].append((part, organization))
    receipts = {
        r.application_id: r
        for r in session.exec(
            select(Receipt).where(
                col(Receipt.application_id).in_(ids), col(Receipt.voided_at).is_(None)
            )
        ).all()
    }
    mine = user_organization_ids(session=session, user_id=actor.user_id)
    assigned = assigned_application_ids(session=session, actor=actor, application_ids=ids)
    views: list[ApplicationView] = []
    for application in applications:
        round = rounds[application.round_id]
        members = parts[application.id]
        receipt = receipts.get(application.id)
        view = _view(
            actor=actor,
            application=application,
            round_status=round.status,
            sealed=is_sealed(round, now),
            blind=round.blind,
            organizations=[_organization(p, o.name) for p, o in members],
            receipt=receipt_public(receipt) if receipt is not None else None,
            participant=any(p.organization_id in mine for p, _ in members),
            assigned=application.id in assigned,
        )
        if view is not None:
            views.append(view)
    return views


def present_application(
    *, session: Session, actor: Actor, application: Application, now: datetime
) -> ApplicationView:
    views = present_applications(session=session, actor=actor, applications=[application], now=now)
    if not views:
        raise NotFound("no such application")
    return views[0]


_A = Application.__table__.c  # type: ignore[attr-defined]
_R = Round.__table__.c  # type: ignore[attr-defined]
_P = ApplicationOrganization.__table__.c  # type: ignore[attr-defined]
_O = Organization.__table__.c  # type: ignore[attr-defined]
_M = OrganizationMember.__table__.c  # type: ignore[attr-defined]
_S = Assignment.__table__.c  # type: ignore[attr-defined]
_RC = Receipt.__table__.c  # type: ignore[attr-defined]
ONE_APPLICATION = (
    sa.select(
        _A.id,
        _A.title,
        _A.status,
        _A.round_id,
        _A.lead_organization_id,
        _A.summary,
        _A.keywords,
        _A.version,
        _A.created_at,
        _A.updated_at,
        _A.submitted_at,
        _R.status.label("round_status"),
        _R.submission_deadline,
        _R.grace_seconds,
        _R.blind,
        _P.organization_id,
        _P.role,
        _P.is_lead,
        _P.confirmed_at,
        _O.name.label("organization_name"),
        sa.exists()
        .where(_M.organization_id == _P.organization_id, _M.user_id == sa.bindparam("user_id"))
        .label("mine"),
        sa.exists()
        .where(
            _S.application_id == _A.id,
            _S.reviewer_id == sa.bindparam("user_id"),
            _S.status == AssignmentStatus.active.value,
        )
        .label("assigned"),
        _RC.id.label("receipt_id"),
        _RC.received_at,
        _RC.application_sha256,
        _RC.documents.label("receipt_documents"),
        _RC.audit_hash,
        _A.read_stamp,
    )
    .select_from(Application.__table__)  # type: ignore[attr-defined]
    .join(Round.__table__, _R.id == _A.round_id)  # type: ignore[attr-defined]
    .join(ApplicationOrganization.__table__, _P.application_id == _A.id)  # type: ignore[attr-defined]
    .join(Organization.__table__, _O.id == _P.organization_id)  # type: ignore[attr-defined]
    .outerjoin(
        Receipt.__table__,  # type: ignore[attr-defined]
        sa.and_(_RC.application_id == _A.id, _RC.voided_at.is_(None)),
    )
    .where(_A.id == sa.bindparam("application_id"))
    .order_by(_P.is_lead.desc(), _O.name)
)
"""One application with its round, organizations (each flagged when the caller is a member)
and valid receipt, and whether it is assigned to the caller: one row per organization. Each row
also has the application's ``read_stamp``, read in the same statement (the same snapshot)."""

APPLICATION_READ_STAMP = sa.select(_READ_STAMP).where(_A.id == sa.bindparam("application_id"))
"""The one point read that tells whether an application as a caller saw it may have changed
since: its ``read_stamp`` (no row: it is gone)."""


def read_application(
    *, connection: sa.Connection, actor: Actor, application_id: uuid.UUID, now: datetime
) -> ApplicationView:
    """One application as the caller may see it, in one statement; 404 when they may not see
    it at all. (``present_applications`` decides the same for a page of them.)"""
    rows = connection.execute(
        ONE_APPLICATION, {"application_id": application_id, "user_id": actor.user_id}
    ).all()
    return _application_view(rows, actor=actor, now=now)


Fetch = Callable[Concatenate[sa.Select[Any], ...], Awaitable[list[Any]]]
"""Runs a select with its parameters and gives its rows, asynchronously: what the hot reads
take (the API's reader, which runs them prepared in a worker thread), so that the domain
declares its reads as plain selects and stays free of the reader's classes."""


async def load_application(
    fetch: Fetch, *, actor: Actor, application_id: uuid.UUID, now: datetime
) -> ApplicationView:
    """``read_application`` through an asynchronous ``fetch`` (the API's reader, which runs it
    prepared)."""
    rows = await fetch(ONE_APPLICATION, application_id=application_id, user_id=actor.user_id)
    return _application_view(rows, actor=actor, now=now)


@dataclass(frozen=True, slots=True)
class ApplicationRead:
    """An application as a caller sees it, with what tells when that answer may be given again:
    the application's ``read_stamp`` when it was read, and when its round closes (before then
    the answer may be sealed; the same answer holds only on the same side of ``close_at``)."""

    view: ApplicationView
    read_stamp: int
    close_at: datetime


async def read_application_stamped(
    fetch: Fetch, *, actor: Actor, application_id: uuid.UUID, now: datetime
) -> ApplicationRead:
    """``load_application`` with the read stamp and the closing time of the same rows."""
    rows = await fetch(ONE_APPLICATION, application_id=application_id, user_id=actor.user_id)
    view = _application_view(rows, actor=actor, now=now)
    first = rows[0]
    return ApplicationRead(view, first.read_stamp, _close_at(first))


def _close_at(row: Any) -> datetime:
    close_at: datetime = row.submission_deadline + timedelta(seconds=row.grace_seconds)
    return close_at


def _application_view(rows: Sequence[Any], *, actor: Actor, now: datetime) -> ApplicationView:
    """The application in ``ONE_APPLICATION``'s rows as the caller may see it; 404 when they
    may not see it at all."""
    if not rows:
        raise NotFound("no such application")
    first = rows[0]
    receipt = None
    if first.receipt_id is not None:
        receipt = _receipt(
            first.receipt_id,
            first.received_at,
            first.application_sha256,
            first.receipt_documents,
            first.audit_hash,
        )
    close_at = _close_at(first)
    view = _view(
        actor=actor,
        application=first,
        round_status=first.round_status,
        sealed=now <= close_at,
        blind=first.blind,
        organizations=[_organization(row, row.organization_name) for row in rows],
        receipt=receipt,
        participant=any(row.mine for row in rows),
        assigned=first.assigned,
    )
    if view is None:
        raise NotFound("no such application")
    return view


def describe_application(
    *, session: Session, actor: Actor, application_id: uuid.UUID, now: datetime
) -> ApplicationView:
    """``read_application`` in a session's transaction (what it has pending is flushed first)."""
    session.flush()
    return read_application(
        connection=session.connection(), actor=actor, application_id=application_id, now=now
    )


def _status_filter(status: ApplicationStatus, *, raw: bool) -> Any:
    published = select(Round.id).where(Round.status == RoundStatus.published)
    if raw:
        return col(Application.status) == status
    if status == ApplicationStatus.submitted:
        return sa.or_(
            col(Application.status) == ApplicationStatus.submitted,
            sa.and_(
                col(Application.status).in_(RESULT_STATUSES),
                col(Application.round_id).not_in(published),
            ),
        )
    if status in RESULT_STATUSES:
        return sa.and_(col(Application.status) == status, col(Application.round_id).in_(published))
    return col(Application.status) == status


def list_applications(
    *,
    session: Session,
    actor: Actor,
    page: PageRequest,
    now: datetime,
    round_id: uuid.UUID | None = None,
    status: ApplicationStatus | None = None,
) -> Page[ApplicationView]:
    """Applicants: their organizations' applications; admins: all (sealed before the deadline);
    reviewers: those actively assigned to them once review has started. ``status`` filters on
    the status the caller sees."""
    statement = select(Application)
    if not actor.is_admin:
        own = col(Application.id).in_(
            select(ApplicationOrganization.application_id).where(
                col(ApplicationOrganization.organization_id).in_(organization_ids_of(actor.user_id))
            )
        )
        review_started = col(Application.round_id).in_(
            select(Round.id).where(col(Round.status).in_(REVIEW_STARTED))
        )
        assigned = sa.and_(
            col(Application.id).in_(assigned_to(actor)),
            review_started,
        )
        statement = statement.where(sa.or_(own, assigned) if actor.has_role(Role.reviewer) else own)
    if round_id is not None:
        statement = statement.where(Application.round_id == round_id)
    if status is not None:
        statement = statement.where(_status_filter(status, raw=actor.is_admin))
    return paginate(
        session,
        statement,
        keys=[Application.created_at, Application.id],  # type: ignore[list-item]
        page=page,
        present=lambda rows: present_applications(
            session=session, actor=actor, applications=rows, now=now
        ),
    )
