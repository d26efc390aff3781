"""Panel reviewers' preferences (bidding): what a reviewer sees to state them, stating them, and
how automatic assignment weighs them.

A reviewer sees only the title, summary and keywords of the round's submitted applications it
is not conflicted with, only while the round is in review (the seal has lifted) and before its
automatic assignment is applied. ``conflict`` is a declared conflict (hard); ``not_willing`` is
avoided wherever the load rules allow; ``eager`` is preferred.
"""

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Final

from sqlmodel import Session, col, select

from models.applications import Application, ApplicationStatus
from models.errors import Conflict, Forbidden, NotFound
from models.identity import Actor, Role
from models.pagination import Page, PageRequest
from models.reviewers import (
    ApplicationForPreference,
    Assignment,
    DeclaredConflictRow,
    PreferenceIn,
    PreferenceLevel,
    PreferencePublic,
    ReviewerPreference,
    RoundReviewer,
)
from models.rounds import Round, RoundStatus
from reviewers.affinity import Pair, ensure_unsealed
from reviewers.conflicts import is_conflicted, round_conflicts
from reviewers.pool import load_round
from submissions import audit
from submissions.pagination import paginate

EAGER_BONUS: Final = 2.0
"""An eager pair's bonus, in units of the round's best absolute score (so it outweighs any
difference of affinity between two pairs)."""


def round_preferences(*, session: Session, round_id: uuid.UUID) -> dict[Pair, PreferenceLevel]:
    """(application_id, reviewer_id) -> preference, for the round."""
    rows = session.exec(
        select(
            ReviewerPreference.application_id,
            ReviewerPreference.reviewer_id,
            ReviewerPreference.preference,
        ).where(ReviewerPreference.round_id == round_id)
    ).all()
    return {(a, r): PreferenceLevel(p) for a, r, p in rows}


def with_preferences(
    affinity: Mapping[Pair, float], preferences: Mapping[Pair, PreferenceLevel], *, demand: int
) -> dict[Pair, float]:
    """The planner's objective: affinity, plus ``EAGER_BONUS`` times the round's scale for an
    eager pair, minus more than any plan's whole affinity and bonuses for a ``not_willing``
    pair, so that a plan with fewer ``not_willing`` pairs always wins (balance still comes
    first: the planner's loads rule is above its objective). ``conflict`` pairs are left to the
    conflicts (a declared conflict is never planned)."""
    objective = dict(affinity)
    if not preferences:
        return objective
    scale = max((abs(v) for v in affinity.values()), default=0.0) or 1.0
    eager = EAGER_BONUS * scale
    penalty = (2 * scale + eager) * max(demand, 1) + scale
    for pair, level in preferences.items():
        if level is PreferenceLevel.eager:
            objective[pair] = objective.get(pair, 0.0) + eager
        elif level is PreferenceLevel.not_willing:
            objective[pair] = objective.get(pair, 0.0) - penalty
    return objective


# --- the reviewer's side -----------------------------------------------------------------------


def _panel_round(session: Session, actor: Actor, round_id: uuid.UUID) -> Round:
    """The round, for one of its panel reviewers (else 404; other roles 403)."""
    if not actor.has_role(Role.reviewer):
        raise Forbidden("only panel reviewers state preferences", type="forbidden-role")
    round_ = load_round(session=session, round_id=round_id)
    member = session.exec(
        select(RoundReviewer.id).where(
            RoundReviewer.round_id == round_id, RoundReviewer.user_id == actor.user_id
        )
    ).first()
    if member is None:
        raise NotFound("no such round")
    return round_


def _ensure_bidding(session: Session, round_: Round, now: datetime) -> None:
    ensure_unsealed(round_, now)
    if round_.status != RoundStatus.review:
        raise Conflict("preferences are taken while the round is in review", type="not-bidding")
    applied = session.exec(
        select(Assignment.id).where(Assignment.round_id == round_.id, Assignment.source == "auto")
    ).first()
    if applied is not None:
        raise Conflict(
            "the round's automatic assignment is applied: preferences are closed",
            type="not-bidding",
        )


def applications_for_preference(
    *, session: Session, actor: Actor, round_id: uuid.UUID, page: PageRequest, now: datetime
) -> Page[ApplicationForPreference]:
    """The round's submitted applications the caller (a panel reviewer) is not conflicted with:
    title, summary and keywords only."""
    round_ = _panel_round(session, actor, round_id)
    _ensure_bidding(session, round_, now)
    conflicted = [
        c.application_id
        for c in round_conflicts(
            session=session, round_id=round_id, statuses=(ApplicationStatus.submitted,)
        )
        if c.reviewer_id == actor.user_id
    ]
    statement = select(Application).where(
        Application.round_id == round_id,
        Application.status == ApplicationStatus.submitted,
        col(Application.id).not_in(conflicted),
    )
    return paginate(
        session,
        statement,
        keys=[Application.id],  # type: ignore[list-item]
        page=page,
        present=lambda rows: [
            ApplicationForPreference(
                id=a.id, title=a.title, summary=a.summary, keywords=list(a.keywords)
            )
            for a in rows
        ],
    )


def public(row: ReviewerPreference) -> PreferencePublic:
    return PreferencePublic.model_validate(row, from_attributes=True)


def put_preference(
    *,
    session: Session,
    actor: Actor,
    round_id: uuid.UUID,
    application_id: uuid.UUID,
    data: PreferenceIn,
    now: datetime,
) -> ReviewerPreference:
    """State (or change) the caller's preference for one application. An application the
    caller is conflicted with, or not submitted to this round, is 404. ``conflict`` also
    records a declared conflict."""
    round_ = _panel_round(session, actor, round_id)
    load_round(session=session, round_id=round_id, lock=True)
    _ensure_bidding(session, round_, now)
    application = session.get(Application, application_id)
    if (
        application is None
        or application.round_id != round_id
        or application.status != ApplicationStatus.submitted
        or is_conflicted(
            session=session,
            round_id=round_id,
            reviewer_id=actor.user_id,
            application_id=application_id,
        )
        is not None
    ):
        raise NotFound("no such application")
    row = session.exec(
        select(ReviewerPreference).where(
            ReviewerPreference.round_id == round_id,
            ReviewerPreference.reviewer_id == actor.user_id,
            ReviewerPreference.application_id == application_id,
        )
    ).first()
    if row is None:
        row = ReviewerPreference(
            round_id=round_id,
            reviewer_id=actor.user_id,
            application_id=application_id,
            preference=data.preference,
            updated_at=now,
        )
    row.preference = data.preference
    row.updated_at = now
    session.add(row)
    if data.preference is PreferenceLevel.conflict:
        session.add(
            DeclaredConflictRow(
                round_id=round_id,
                reviewer_id=actor.user_id,
                application_id=application_id,
                reason="declared by the reviewer in their preferences",
                declared_by=actor.user_id,
                created_at=now,
            )
        )
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="preference.stated",
        object_type="application",
        object_id=application_id,
        now=now,
        data={"round_id": str(round_id), "preference": data.preference.value},
    )
    return row


def list_preferences(
    *, session: Session, actor: Actor, round_id: uuid.UUID, page: PageRequest
) -> Page[PreferencePublic]:
    """The caller's own preferences in the round (a panel reviewer), or all of them (admin)."""
    statement = select(ReviewerPreference).where(ReviewerPreference.round_id == round_id)
    if actor.is_admin:
        load_round(session=session, round_id=round_id)
    else:
        _panel_round(session, actor, round_id)
        statement = statement.where(ReviewerPreference.reviewer_id == actor.user_id)
    return paginate(
        session,
        statement,
        keys=[ReviewerPreference.id],  # type: ignore[list-item]
        page=page,
        present=lambda rows: [public(r) for r in rows],
    )
