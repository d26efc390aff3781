"""Conflicts of a round: load the facts, detect with the pure core, record declarations, and end
the assignments that a conflict arising later makes conflicted."""

import uuid
from collections import defaultdict
from collections.abc import Collection
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.applications import Application, ApplicationOrganization, ApplicationStatus
from models.errors import Unprocessable
from models.events import EventType
from models.identity import Actor, Organization, OrganizationMember, User
from models.pagination import Page, PageRequest
from models.reviewers import (
    Assignment,
    AssignmentStatus,
    ConflictCreate,
    ConflictPublic,
    DeclaredConflictPublic,
    DeclaredConflictRow,
    ReviewerProfile,
    RoundReviewer,
)
from models.rounds import RoundStatus
from reviewers.conflict_detection import (
    ApplicationFacts,
    Conflict,
    DeclaredConflict,
    OrganizationFacts,
    ReviewerFacts,
    detect_conflicts,
)
from reviewers.pool import load_round
from submissions import audit, outbox
from submissions.organizations import ensure_admin
from submissions.rounds import lock_round

LIVE_FOR_REVIEW = (
    ApplicationStatus.draft,
    ApplicationStatus.submitted,
    ApplicationStatus.shortlisted,
    ApplicationStatus.not_selected,
)


def _application_facts(session: Session, *where: Any) -> list[ApplicationFacts]:
    """Each application matching ``where`` with its organizations (not withdrawn; lead and
    members, confirmed or not), their *verified* email domains, and its creator."""
    rows = session.execute(
        sa.select(
            col(ApplicationOrganization.application_id),
            col(Application.created_by),
            col(Organization.id),
            col(Organization.verified_email_domains),
        )
        .join(Organization, col(Organization.id) == ApplicationOrganization.organization_id)
        .join(Application, col(Application.id) == ApplicationOrganization.application_id)
        .where(col(ApplicationOrganization.withdrawn_at).is_(None), *where)
    ).all()
    organizations: dict[uuid.UUID, list[OrganizationFacts]] = defaultdict(list)
    creators: dict[uuid.UUID, uuid.UUID] = {}
    for application_id, created_by, organization_id, domains in rows:
        creators[application_id] = created_by
        organizations[application_id].append(
            OrganizationFacts(organization_id=organization_id, email_domains=frozenset(domains))
        )
    return [
        ApplicationFacts(application_id=a, organizations=tuple(orgs), created_by=creators[a])
        for a, orgs in sorted(organizations.items())
    ]


def round_application_facts(
    *, session: Session, round_id: uuid.UUID, statuses: tuple[ApplicationStatus, ...]
) -> list[ApplicationFacts]:
    return _application_facts(
        session, Application.round_id == round_id, col(Application.status).in_(statuses)
    )


def _reviewer_facts(session: Session, user_ids: Any) -> list[ReviewerFacts]:
    """The facts of the users whose ids ``user_ids`` (a subquery, or a list) gives: account
    email, profile, and every organization membership."""
    memberships: dict[uuid.UUID, set[tuple[uuid.UUID, str]]] = defaultdict(set)
    for user_id, organization_id, role in session.execute(
        sa.select(
            col(OrganizationMember.user_id),
            col(OrganizationMember.organization_id),
            col(OrganizationMember.role),
        ).where(col(OrganizationMember.user_id).in_(user_ids))
    ):
        memberships[user_id].add((organization_id, str(role)))
    rows = session.execute(
        sa.select(
            col(User.id),
            col(User.email),
            col(ReviewerProfile.affiliations),
            col(ReviewerProfile.email_domains),
        )
        .join(ReviewerProfile, col(ReviewerProfile.user_id) == User.id, isouter=True)
        .where(col(User.id).in_(user_ids))
    ).all()
    return [
        ReviewerFacts(
            user_id=user_id,
            email=email,
            affiliations=frozenset(uuid.UUID(a) for a in affiliations or []),
            email_domains=frozenset(domains or []),
            memberships=frozenset(memberships.get(user_id, ())),
        )
        for user_id, email, affiliations, domains in sorted(rows, key=lambda r: r[0].int)
    ]


def round_reviewer_facts(*, session: Session, round_id: uuid.UUID) -> list[ReviewerFacts]:
    return _reviewer_facts(
        session,
        sa.select(col(RoundReviewer.user_id)).where(col(RoundReviewer.round_id) == round_id),
    )


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
    found = detect_conflicts(
        reviewers=_reviewer_facts(session, [reviewer_id]),
        applications=_application_facts(
            session,
            Application.id == application_id,
            Application.round_id == round_id,
            col(Application.status).in_(LIVE_FOR_REVIEW),
        ),
        declared=declared_conflicts(session=session, round_id=round_id),
    )
    return found[0] if found else None


# --- assignments a conflict ends -----------------------------------------------------------------

_IDS_PER_QUERY = 5_000
"""Ids per ``IN`` list (SQLite takes up to 32,766 parameters)."""


def _active_in(round_id: uuid.UUID, scope: Any | None) -> Any:
    """The round's active assignments, within ``scope`` (a condition on ``Assignment``)."""
    where = [
        col(Assignment.round_id) == round_id,
        col(Assignment.status) == AssignmentStatus.active,
    ]
    return sa.and_(*where, *([scope] if scope is not None else []))


def conflicted_assignments(
    *, session: Session, round_id: uuid.UUID, scope: Any | None = None
) -> list[tuple[Assignment, Conflict]]:
    """The round's active assignments (within ``scope``, a condition on ``Assignment``; all when
    None) whose reviewer is conflicted with the application now, each with its conflict.
    Detection runs on the facts of those assignments' reviewers and applications only."""
    active = _active_in(round_id, scope)
    conflicts = detect_conflicts(
        reviewers=_reviewer_facts(session, sa.select(col(Assignment.reviewer_id)).where(active)),
        applications=_application_facts(
            session,
            col(Application.id).in_(sa.select(col(Assignment.application_id)).where(active)),
        ),
        declared=declared_conflicts(session=session, round_id=round_id),
    )
    by_pair = {(c.reviewer_id, c.application_id): c for c in conflicts}
    reviewers = sorted({c.reviewer_id for c in conflicts})
    found: list[tuple[Assignment, Conflict]] = []
    for start in range(0, len(reviewers), _IDS_PER_QUERY):
        chunk = reviewers[start : start + _IDS_PER_QUERY]
        for assignment in session.exec(
            select(Assignment)
            .where(active, col(Assignment.reviewer_id).in_(chunk))
            .order_by(col(Assignment.created_at), col(Assignment.id))
        ):
            conflict = by_pair.get((assignment.reviewer_id, assignment.application_id))
            if conflict is not None:
                found.append((assignment, conflict))
    return found


def end_conflicted_assignments(
    *,
    session: Session,
    actor: Actor,
    now: datetime,
    reviewer_ids: Collection[uuid.UUID] = (),
    organization_ids: Collection[uuid.UUID] = (),
    round_id: uuid.UUID | None = None,
) -> list[Assignment]:
    """End with status ``conflicted`` every active assignment, in a round still open or in
    review, whose reviewer is now conflicted with its application; each writes an
    ``assignment.conflicted`` audit event naming the conflict. Its review, if any, stays but
    never counts (closing reads active assignments only).

    Which assignments are looked at: those of ``reviewer_ids``, those of the applications in
    which one of ``organization_ids`` takes part, or, given ``round_id`` alone, all of that
    round's. Each round concerned is share-locked first, so that a close either waits for this
    change or has happened before it (and then nothing of that round changes)."""
    scopes: list[Any] = []
    if reviewer_ids:
        scopes.append(col(Assignment.reviewer_id).in_(list(reviewer_ids)))
    if organization_ids:
        scopes.append(
            col(Assignment.application_id).in_(
                sa.select(col(ApplicationOrganization.application_id)).where(
                    col(ApplicationOrganization.organization_id).in_(list(organization_ids)),
                    col(ApplicationOrganization.withdrawn_at).is_(None),
                )
            )
        )
    if not scopes and round_id is None:
        return []
    scope = sa.or_(*scopes) if scopes else None
    rounds = sa.select(col(Assignment.round_id)).where(
        col(Assignment.status) == AssignmentStatus.active
    )
    if scope is not None:
        rounds = rounds.where(scope)
    if round_id is not None:
        rounds = rounds.where(col(Assignment.round_id) == round_id)
    ended: list[Assignment] = []
    for rid in sorted(set(session.execute(rounds.distinct()).scalars()), key=lambda r: r.int):
        round_ = lock_round(session, rid, shared=True)
        if round_ is None or round_.status not in (RoundStatus.open, RoundStatus.review):
            continue
        for assignment, conflict in conflicted_assignments(
            session=session, round_id=rid, scope=scope
        ):
            assignment.status = AssignmentStatus.conflicted
            assignment.ended_at = now
            session.add(assignment)
            session.flush()
            audit.append(
                session=session,
                actor=actor.audit_name,
                action="assignment.conflicted",
                object_type="assignment",
                object_id=assignment.id,
                now=now,
                data={
                    "round_id": str(rid),
                    "application_id": str(assignment.application_id),
                    "reviewer_id": str(assignment.reviewer_id),
                    "organization_id": (
                        str(conflict.organization_id) if conflict.organization_id else None
                    ),
                    "reason": conflict.reason,
                    "source": conflict.source.value,
                },
            )
            outbox.record_assignment(
                session=session,
                type=EventType.assignment_ended,
                assignment=assignment,
                status=AssignmentStatus.conflicted.value,
                now=now,
            )
            ended.append(assignment)
    return ended


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
    """Record a declared conflict on an organization or an application (admin); the reviewer's
    active assignments it covers end as ``conflicted``."""
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
    end_conflicted_assignments(
        session=session, actor=actor, now=now, reviewer_ids=[data.reviewer_id], round_id=round_id
    )
    return DeclaredConflictPublic.model_validate(row, from_attributes=True)
