"""Conflicts of a round: load the facts, detect with the pure core, record declarations."""

import uuid
from collections import defaultdict
from datetime import datetime

from sqlmodel import Session, col, select

from models.applications import Application, ApplicationOrganization, ApplicationStatus
from models.errors import Unprocessable
from models.identity import Actor, Organization, User
from models.pagination import Page, PageRequest
from models.reviewers import (
    ConflictCreate,
    ConflictPublic,
    DeclaredConflictPublic,
    DeclaredConflictRow,
    ReviewerProfile,
    RoundReviewer,
)
from reviewers.conflicts import (
    ApplicationFacts,
    Conflict,
    DeclaredConflict,
    OrganizationFacts,
    ReviewerFacts,
    detect_conflicts,
)
from reviewers.pool import load_round
from submissions import audit
from submissions.organizations import ensure_admin

LIVE_FOR_REVIEW = (
    ApplicationStatus.draft,
    ApplicationStatus.submitted,
    ApplicationStatus.shortlisted,
    ApplicationStatus.not_selected,
)


def round_application_facts(
    *, session: Session, round_id: uuid.UUID, statuses: tuple[ApplicationStatus, ...]
) -> list[ApplicationFacts]:
    rows = session.exec(
        select(ApplicationOrganization.application_id, Organization.id, Organization.email_domains)
        .join(Organization, col(Organization.id) == ApplicationOrganization.organization_id)
        .join(Application, col(Application.id) == ApplicationOrganization.application_id)
        .where(
            Application.round_id == round_id,
            col(Application.status).in_(statuses),
            col(ApplicationOrganization.withdrawn_at).is_(None),
        )
    ).all()
    organizations: dict[uuid.UUID, list[OrganizationFacts]] = defaultdict(list)
    for application_id, organization_id, domains in rows:
        organizations[application_id].append(
            OrganizationFacts(organization_id=organization_id, email_domains=frozenset(domains))
        )
    return [
        ApplicationFacts(application_id=a, organizations=tuple(orgs))
        for a, orgs in sorted(organizations.items())
    ]


def round_reviewer_facts(*, session: Session, round_id: uuid.UUID) -> list[ReviewerFacts]:
    rows = session.exec(
        select(User, ReviewerProfile)
        .join(RoundReviewer, col(RoundReviewer.user_id) == User.id)
        .join(ReviewerProfile, col(ReviewerProfile.user_id) == User.id, isouter=True)
        .where(RoundReviewer.round_id == round_id)
    ).all()
    return [
        ReviewerFacts(
            user_id=user.id,
            email=user.email,
            affiliations=frozenset(uuid.UUID(a) for a in (profile.affiliations if profile else [])),
            email_domains=frozenset(profile.email_domains if profile else []),
        )
        for user, profile in rows
    ]


def declared_conflicts(*, session: Session, round_id: uuid.UUID) -> list[DeclaredConflict]:
    return [
        DeclaredConflict(
            reviewer_id=row.reviewer_id,
            application_id=row.application_id,
            organization_id=row.organization_id,
            reason=row.reason,
        )
        for row in session.exec(
            select(DeclaredConflictRow).where(DeclaredConflictRow.round_id == round_id)
        )
    ]


def round_conflicts(
    *,
    session: Session,
    round_id: uuid.UUID,
    statuses: tuple[ApplicationStatus, ...] = LIVE_FOR_REVIEW,
) -> list[Conflict]:
    """Every conflicted (reviewer, application) pair of the round's panel and applications."""
    return detect_conflicts(
        reviewers=round_reviewer_facts(session=session, round_id=round_id),
        applications=round_application_facts(session=session, round_id=round_id, statuses=statuses),
        declared=declared_conflicts(session=session, round_id=round_id),
    )


def is_conflicted(
    *, session: Session, round_id: uuid.UUID, reviewer_id: uuid.UUID, application_id: uuid.UUID
) -> Conflict | None:
    """The conflict between one reviewer and one application, if any."""
    reviewers = [
        r
        for r in round_reviewer_facts(session=session, round_id=round_id)
        if r.user_id == reviewer_id
    ]
    if not reviewers:
        user = session.get(User, reviewer_id)
        if user is None:
            return None
        reviewers = [
            ReviewerFacts(
                user_id=user.id,
                email=user.email,
                affiliations=frozenset(),
                email_domains=frozenset(),
            )
        ]
    applications = [
        a
        for a in round_application_facts(
            session=session, round_id=round_id, statuses=LIVE_FOR_REVIEW
        )
        if a.application_id == application_id
    ]
    found = detect_conflicts(
        reviewers=reviewers,
        applications=applications,
        declared=declared_conflicts(session=session, round_id=round_id),
    )
    return found[0] if found else None


def _public(conflict: Conflict) -> ConflictPublic:
    return ConflictPublic(
        reviewer_id=conflict.reviewer_id,
        application_id=conflict.application_id,
        organization_id=conflict.organization_id,
        reason=conflict.reason,
        source="declared" if conflict.source.value == "declared" else "detected",
    )


def list_conflicts(
    *, session: Session, actor: Actor, round_id: uuid.UUID, page: PageRequest
) -> Page[ConflictPublic]:
    """The round's detected and declared conflicts, one per reviewer and application (admin).
    Paged over the computed list, ordered by reviewer then application."""
    ensure_admin(actor)
    load_round(session=session, round_id=round_id)
    conflicts = round_conflicts(session=session, round_id=round_id)
    start = 0
    if page.cursor:
        try:
            reviewer, application = (uuid.UUID(p) for p in page.cursor.split(".", 1))
        except ValueError as exc:
            raise Unprocessable(
                "the cursor is not valid; start again without one",
                type="invalid-cursor",
                errors=[{"loc": ["query", "cursor"], "msg": "malformed"}],
            ) from exc
        start = next(
            (
                i
                for i, c in enumerate(conflicts)
                if (c.reviewer_id, c.application_id) > (reviewer, application)
            ),
            len(conflicts),
        )
    chunk = conflicts[start : start + page.limit]
    more = start + page.limit < len(conflicts)
    cursor = f"{chunk[-1].reviewer_id}.{chunk[-1].application_id}" if chunk and more else None
    return Page[ConflictPublic](items=[_public(c) for c in chunk], next_cursor=cursor)


def declare_conflict(
    *,
    session: Session,
    actor: Actor,
    round_id: uuid.UUID,
    data: ConflictCreate,
    now: datetime,
) -> DeclaredConflictPublic:
    """Record a declared conflict on an organization or an application (admin)."""
    ensure_admin(actor)
    load_round(session=session, round_id=round_id)
    if (data.organization_id is None) == (data.application_id is None):
        raise Unprocessable(
            "name exactly one of organization_id and application_id",
            errors=[{"loc": ["body"], "msg": "exactly one of organization_id, application_id"}],
        )
    on_panel = session.exec(
        select(RoundReviewer).where(
            RoundReviewer.round_id == round_id, RoundReviewer.user_id == data.reviewer_id
        )
    ).first()
    if on_panel is None:
        raise Unprocessable(
            "the reviewer is not on this round's panel",
            errors=[{"loc": ["body", "reviewer_id"], "msg": "not on the round's panel"}],
        )
    if data.application_id is not None:
        application = session.get(Application, data.application_id)
        if application is None or application.round_id != round_id:
            raise Unprocessable(
                "no such application in this round",
                errors=[{"loc": ["body", "application_id"], "msg": "not in this round"}],
            )
    if data.organization_id is not None and session.get(Organization, data.organization_id) is None:
        raise Unprocessable(
            "no such organization",
            errors=[{"loc": ["body", "organization_id"], "msg": "no such organization"}],
        )
    row = DeclaredConflictRow(
        round_id=round_id,
        reviewer_id=data.reviewer_id,
        organization_id=data.organization_id,
        application_id=data.application_id,
        reason=data.reason,
        declared_by=actor.user_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="conflict.declared",
        object_type="round",
        object_id=round_id,
        now=now,
        data={
            "reviewer_id": str(data.reviewer_id),
            "organization_id": str(data.organization_id) if data.organization_id else None,
            "application_id": str(data.application_id) if data.application_id else None,
            "reason": data.reason,
        },
    )
    return DeclaredConflictPublic.model_validate(row, from_attributes=True)
