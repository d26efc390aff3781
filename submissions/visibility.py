"""Who may read an application, and how much of it: the sealed-bid rules.

Until the submission deadline plus grace has passed, only the applicant's own members (the
members of any organization taking part) read a bid's content and documents. An admin sees only
``{id, title, status, organizations}`` and is refused its documents (403 ``sealed``); afterwards
admins read everything. Reviewers read the applications actively assigned to them once the round
is in review (without the organizations in a blind round). Anyone else is told the application
does not exist (404).

Applicants see ``submitted`` for ``shortlisted``/``not_selected`` until the round is published.
"""

import uuid
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from models.applications import (
    Application,
    ApplicationOrganization,
    ApplicationPublic,
    ApplicationStatus,
    ApplicationView,
)
from models.concurrency import etag
from models.errors import Forbidden, NotFound
from models.identity import Actor, OrganizationMember, Role
from models.reviewers import Assignment, AssignmentStatus
from models.rounds import Round, RoundStatus
from submissions.rounds import is_sealed

RESULT_STATUSES = frozenset({ApplicationStatus.shortlisted, ApplicationStatus.not_selected})
REVIEW_STARTED = frozenset({RoundStatus.review, RoundStatus.closed, RoundStatus.published})


class ApplicationAccess(StrEnum):
    none = "none"
    """The caller may not learn that the application exists (404)."""
    sealed = "sealed"
    """An admin before the deadline: identity and status only; documents 403 ``sealed``."""
    full = "full"
    reviewer = "reviewer"
    """An assigned reviewer once review has started: content, without organizations if blind."""


def participant_organization_ids(*, session: Session, application_id: uuid.UUID) -> set[uuid.UUID]:
    return set(
        session.exec(
            select(ApplicationOrganization.organization_id).where(
                ApplicationOrganization.application_id == application_id
            )
        ).all()
    )


def user_organization_ids(*, session: Session, user_id: uuid.UUID) -> set[uuid.UUID]:
    return set(
        session.exec(
            select(OrganizationMember.organization_id).where(OrganizationMember.user_id == user_id)
        ).all()
    )


def is_participant(*, session: Session, actor: Actor, application_id: uuid.UUID) -> bool:
    """Whether the caller is a member of an organization taking part in the application."""
    found = session.exec(
        select(ApplicationOrganization.id)
        .join(
            OrganizationMember,
            col(OrganizationMember.organization_id) == ApplicationOrganization.organization_id,
        )
        .where(
            ApplicationOrganization.application_id == application_id,
            OrganizationMember.user_id == actor.user_id,
        )
        .limit(1)
    ).first()
    return found is not None


def assigned_to(actor: Actor) -> SelectOfScalar[uuid.UUID]:
    """The applications actively assigned to the caller as a reviewer, as a subquery."""
    return select(Assignment.application_id).where(
        Assignment.reviewer_id == actor.user_id, Assignment.status == AssignmentStatus.active
    )


def assigned_application_ids(
    *, session: Session, actor: Actor, application_ids: Iterable[uuid.UUID]
) -> set[uuid.UUID]:
    """Which of ``application_ids`` are actively assigned to the caller as a reviewer."""
    if not actor.has_role(Role.reviewer):
        return set()
    statement = assigned_to(actor).where(col(Assignment.application_id).in_(list(application_ids)))
    return set(session.exec(statement).all())


def access_for(
    *, actor: Actor, participant: bool, round: Round, now: datetime, assigned: bool = False
) -> ApplicationAccess:
    """The access rule itself (pure)."""
    return access_rule(
        actor=actor,
        participant=participant,
        sealed=is_sealed(round, now),
        round_status=round.status,
        assigned=assigned,
    )


def access_rule(
    *,
    actor: Actor,
    participant: bool,
    sealed: bool,
    round_status: RoundStatus | str,
    assigned: bool,
) -> ApplicationAccess:
    """``access_for`` on plain values: whether the round's bids are still sealed, and its status."""
    if participant:
        return ApplicationAccess.full
    if actor.is_admin:
        return ApplicationAccess.sealed if sealed else ApplicationAccess.full
    if assigned and round_status in REVIEW_STARTED:
        return ApplicationAccess.reviewer
    return ApplicationAccess.none


def application_access(
    *, session: Session, actor: Actor, application: Application, now: datetime
) -> ApplicationAccess:
    round = session.get(Round, application.round_id)
    assert round is not None  # a foreign key
    participant = is_participant(session=session, actor=actor, application_id=application.id)
    assigned = application.id in assigned_application_ids(
        session=session, actor=actor, application_ids=[application.id]
    )
    return access_for(actor=actor, participant=participant, round=round, now=now, assigned=assigned)


def ensure_can_read_content(
    *, session: Session, actor: Actor, application_id: uuid.UUID, now: datetime
) -> Application:
    """The application whose content or documents the caller wants to read: 404 when it is not
    visible to them, 403 ``sealed`` when only its sealed view is (an admin before the deadline)."""
    application = session.get(Application, application_id)
    if application is None:
        raise NotFound("no such application")
    access = application_access(session=session, actor=actor, application=application, now=now)
    if access is ApplicationAccess.none:
        raise NotFound("no such application")
    if access is ApplicationAccess.sealed:
        raise Forbidden(
            "the bid is sealed until the submission deadline plus grace has passed", type="sealed"
        )
    return application


def visible_status(
    status: ApplicationStatus | str, *, round_status: RoundStatus | str, raw: bool
) -> ApplicationStatus:
    """The status a viewer sees: results show to applicants only once the round is published."""
    status = ApplicationStatus(status)
    if raw or round_status == RoundStatus.published or status not in RESULT_STATUSES:
        return status
    return ApplicationStatus.submitted


def view_etag(view: ApplicationView) -> str | None:
    """The entity tag of an application as one caller sees it (``None`` for the sealed view,
    which is not a version of anything the caller may change): its ``version``, and the outcome
    when the caller sees one. An applicant sees ``submitted`` and the same tag before publish
    whatever closing decided (closing gives every bid of the round a new version alike);
    publishing changes what they see but not the version, so the outcome is in the tag."""
    if not isinstance(view, ApplicationPublic):
        return None
    if view.status in RESULT_STATUSES:
        return f'"{view.version}-{view.status.value}"'
    return etag(view.version)
