"""The reviewer pool: round panels and reviewer profiles."""

import uuid
from collections.abc import Collection
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.errors import Conflict, Forbidden, NotFound, Unprocessable
from models.identity import Actor, Organization, Role, User
from models.pagination import Page, PageRequest
from models.reviewers import (
    Assignment,
    AssignmentStatus,
    Publication,
    ReviewerProfile,
    ReviewerProfileIn,
    ReviewerProfilePublic,
    RoundReviewer,
    RoundReviewerCreate,
    RoundReviewerPublic,
)
from models.rounds import Round
from submissions import audit
from submissions.organizations import ConflictsChanged, ensure_admin
from submissions.pagination import paginate
from submissions.rounds import lock_round
from submissions.unique import add_unique


def load_round(*, session: Session, round_id: uuid.UUID, lock: bool = False) -> Round:
    """The round (404 when unknown); ``lock`` holds it until the transaction ends."""
    found = lock_round(session, round_id) if lock else session.get(Round, round_id)
    if found is None:
        raise NotFound("no such round")
    return found


def add_reviewer(
    *, session: Session, actor: Actor, round_id: uuid.UUID, data: RoundReviewerCreate, now: datetime
) -> RoundReviewerPublic:
    """Put a user with the reviewer role on a round's panel (admin)."""
    ensure_admin(actor)
    load_round(session=session, round_id=round_id)
    user = session.get(User, data.user_id)
    if user is None or not user.is_active:
        raise Unprocessable(
            "no such user", errors=[{"loc": ["body", "user_id"], "msg": "no such user"}]
        )
    if Role.reviewer.value not in user.roles:
        raise Unprocessable(
            "the user does not have the reviewer role",
            type="not-a-reviewer",
            errors=[{"loc": ["body", "user_id"], "msg": "needs the reviewer role"}],
        )
    row = RoundReviewer(
        round_id=round_id,
        user_id=user.id,
        max_assignments=data.max_assignments,
        expertise=data.expertise,
        created_at=now,
    )
    add_unique(
        session,
        row,
        conflict=Conflict("the user is already on this round's panel", type="reviewer-exists"),
    )
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="round.reviewer_added",
        object_type="round",
        object_id=round_id,
        now=now,
        data={"user_id": str(user.id), "max_assignments": data.max_assignments},
    )
    return _present(session, [row])[0]


def active_loads(
    *, session: Session, round_ids: Collection[uuid.UUID], reviewer_ids: Collection[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """A reviewer's load in a round: its active assignments there, by (round id, reviewer id);
    pairs without any are absent."""
    return {
        (round_id, reviewer_id): int(count)
        for round_id, reviewer_id, count in session.execute(
            sa.select(col(Assignment.round_id), col(Assignment.reviewer_id), sa.func.count())
            .where(
                col(Assignment.round_id).in_(list(round_ids)),
                col(Assignment.reviewer_id).in_(list(reviewer_ids)),
                col(Assignment.status) == AssignmentStatus.active,
            )
            .group_by(col(Assignment.round_id), col(Assignment.reviewer_id))
        ).all()
    }


def _present(session: Session, rows: list[RoundReviewer]) -> list[RoundReviewerPublic]:
    if not rows:
        return []
    users = {
        u.id: u
        for u in session.exec(select(User).where(col(User.id).in_([r.user_id for r in rows])))
    }
    loads = active_loads(
        session=session,
        round_ids={r.round_id for r in rows},
        reviewer_ids={r.user_id for r in rows},
    )
    return [
        RoundReviewerPublic(
            id=r.id,
            round_id=r.round_id,
            user_id=r.user_id,
            name=users[r.user_id].name,
            email=users[r.user_id].email,
            max_assignments=r.max_assignments,
            expertise=r.expertise,
            load=loads.get((r.round_id, r.user_id), 0),
            created_at=r.created_at,
        )
        for r in rows
    ]


def list_reviewers(
    *, session: Session, actor: Actor, round_id: uuid.UUID, page: PageRequest
) -> Page[RoundReviewerPublic]:
    ensure_admin(actor)
    load_round(session=session, round_id=round_id)
    statement = select(RoundReviewer).where(RoundReviewer.round_id == round_id)
    return paginate(
        session,
        statement,
        keys=[RoundReviewer.created_at, RoundReviewer.id],  # type: ignore[list-item]
        page=page,
        present=lambda rows: _present(session, rows),
    )


def panel(*, session: Session, round_id: uuid.UUID) -> list[RoundReviewer]:
    return list(
        session.exec(
            select(RoundReviewer)
            .where(RoundReviewer.round_id == round_id)
            .order_by(col(RoundReviewer.user_id))
        ).all()
    )


def profile_public(profile: ReviewerProfile) -> ReviewerProfilePublic:
    return ReviewerProfilePublic(
        user_id=profile.user_id,
        affiliations=[uuid.UUID(a) for a in profile.affiliations],
        email_domains=profile.email_domains,
        expertise=profile.expertise,
        statement=profile.statement,
        publications=[Publication.model_validate(p) for p in profile.publications],
        version=profile.version,
        updated_at=profile.updated_at,
    )


def put_profile(
    *,
    session: Session,
    actor: Actor,
    user_id: uuid.UUID,
    data: ReviewerProfileIn,
    now: datetime,
    conflicts_changed: ConflictsChanged,
) -> ReviewerProfile:
    """Replace a reviewer's profile (the reviewer themself, or an admin); then
    ``conflicts_changed`` ends the reviewer's assignments that new affiliations or domains
    conflict (passed in: ``reviewers.conflicts`` builds on this module)."""
    if actor.user_id != user_id and not actor.is_admin:
        if not actor.has_role(Role.reviewer):
            raise Forbidden("only the reviewer or an admin edits a profile", type="forbidden-role")
        raise NotFound("no such reviewer")
    user = session.get(User, user_id)
    if user is None or Role.reviewer.value not in user.roles:
        raise NotFound("no such reviewer")
    known = set(
        session.exec(
            select(Organization.id).where(col(Organization.id).in_(data.affiliations))
        ).all()
    )
    missing = [str(a) for a in data.affiliations if a not in known]
    if missing:
        raise Unprocessable(
            "unknown organizations in affiliations",
            errors=[
                {"loc": ["body", "affiliations"], "msg": f"no such organization: {m}"}
                for m in missing
            ],
        )
    profile = session.get(ReviewerProfile, user_id, with_for_update=True)
    if profile is None:
        profile = ReviewerProfile(user_id=user_id, updated_at=now, version=0)
    profile.affiliations = sorted({str(a) for a in data.affiliations})
    profile.email_domains = data.email_domains
    profile.expertise = data.expertise
    profile.statement = data.statement
    profile.publications = [p.model_dump(mode="json") for p in data.publications]
    profile.version += 1
    profile.updated_at = now
    session.add(profile)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="reviewer.profile_updated",
        object_type="user",
        object_id=user_id,
        now=now,
        data={
            "affiliations": profile.affiliations,
            "email_domains": profile.email_domains,
            "expertise": profile.expertise,
            "statement_chars": len(profile.statement),
            "publications": len(profile.publications),
        },
    )
    conflicts_changed(
        session=session, actor=actor, now=now, reviewer_ids=[user_id], organization_ids=[]
    )
    return profile
