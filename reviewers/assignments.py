"""Assignments: automatic (optimal, all or nothing), manual, removal, recusal, and a reviewer's
own list."""

import hashlib
import math
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

import numpy as np
import scipy.sparse
from sqlmodel import Session, col, select

from models.applications import Application, ApplicationStatus
from models.errors import Conflict, Forbidden, NotFound, Unprocessable
from models.events import EventType
from models.identity import Actor, Role
from models.pagination import Page, PageRequest
from models.reviewers import (
    Assignment,
    AssignmentCreate,
    AssignmentPublic,
    AssignmentStatus,
    AutoAssignResult,
    AutoAssignStats,
    DeclaredConflictRow,
    MyAssignmentPublic,
    PlannedAssignment,
    PreferenceLevel,
    Review,
    RoundReviewer,
)
from models.rounds import Round, RoundStatus
from reviewers.affinity import round_scores
from reviewers.conflicts import (
    conflicted_assignments,
    end_conflicted_assignments,
    is_conflicted,
    round_conflicts,
)
from reviewers.planner import (
    PlanRefused,
    ReviewerCapacity,
    plan_assignments_from_matrices,
)
from reviewers.pool import active_loads, load_round, panel
from reviewers.preferences import round_preferences, with_preferences
from submissions import audit, outbox
from submissions.application_views import present_applications
from submissions.canonical import canonical_json
from submissions.organizations import ensure_admin
from submissions.pagination import paginate
from submissions.unique import add_unique

ASSIGNABLE_ROUND_STATUSES = (RoundStatus.open, RoundStatus.review)


def public(assignment: Assignment) -> AssignmentPublic:
    return AssignmentPublic.model_validate(assignment, from_attributes=True)


def _require_status(round_: Round, *allowed: RoundStatus, action: str) -> None:
    if round_.status not in allowed:
        names = " or ".join(s.value for s in allowed)
        raise Conflict(
            f"{action} needs the round in {names}; it is {round_.status}",
            type="invalid-round-status",
        )


def _active_assignments(session: Session, round_id: uuid.UUID) -> list[Assignment]:
    return list(
        session.exec(
            select(Assignment).where(
                Assignment.round_id == round_id, Assignment.status == AssignmentStatus.active
            )
        ).all()
    )


def _matrix(
    applications: Sequence[uuid.UUID],
    reviewers: Sequence[uuid.UUID],
    pairs: Iterable[tuple[tuple[uuid.UUID, uuid.UUID], float]],
    *,
    inside: bool = False,
) -> scipy.sparse.csr_array:
    """The planner's applications x reviewers input from ((application, reviewer), value)
    pairs; a pair listed twice counts once (its last value). Pairs naming an application or
    reviewer outside the round are left out, or with ``inside`` refused (a ValueError, as the
    planner refuses a kept assignment outside the round)."""
    rows_of = {a: i for i, a in enumerate(applications)}
    cols_of = {r: j for j, r in enumerate(reviewers)}
    found: dict[tuple[int, int], float] = {}
    for (application_id, reviewer_id), value in pairs:
        row, column = rows_of.get(application_id), cols_of.get(reviewer_id)
        if row is not None and column is not None:
            found[row, column] = value
        elif inside:
            raise ValueError(f"pair {application_id}/{reviewer_id} is outside the round")
    rows = np.fromiter((k[0] for k in found), dtype=np.int64, count=len(found))
    cols = np.fromiter((k[1] for k in found), dtype=np.int64, count=len(found))
    values = np.fromiter(found.values(), dtype=np.float64, count=len(found))
    return scipy.sparse.csr_array((values, (rows, cols)), shape=(len(applications), len(reviewers)))


def auto_assign(
    *, session: Session, actor: Actor, round_id: uuid.UUID, dry_run: bool, now: datetime
) -> AutoAssignResult:
    """Fill every submitted application's gaps up to ``reviewers_per_application`` with the
    optimal plan (see ``reviewers.planner``). Existing assignments are kept, except those
    conflicted now, which end as ``conflicted`` (a dry run only leaves them out); a pair whose
    assignment has ended is never planned again. A dry run stores nothing; otherwise every new
    assignment is stored, or none (422 when infeasible)."""
    ensure_admin(actor)
    round_ = load_round(session=session, round_id=round_id, lock=not dry_run)
    _require_status(round_, RoundStatus.review, action="automatic assignment")
    applications = session.exec(
        select(Application.id).where(
            Application.round_id == round_id, Application.status == ApplicationStatus.submitted
        )
    ).all()
    members = panel(session=session, round_id=round_id)
    scores = round_scores(session=session, round_=round_, now=now)
    preferences = round_preferences(session=session, round_id=round_id)
    conflicts = round_conflicts(
        session=session, round_id=round_id, statuses=(ApplicationStatus.submitted,)
    )
    if dry_run:
        stale = {a.id for a, _ in conflicted_assignments(session=session, round_id=round_id)}
    else:
        ended_now = end_conflicted_assignments(
            session=session, actor=actor, now=now, round_id=round_id
        )
        stale = {a.id for a in ended_now}
    existing = [a for a in _active_assignments(session, round_id) if a.id not in stale]
    ended = session.exec(
        select(Assignment.reviewer_id, Assignment.application_id).where(
            Assignment.round_id == round_id, Assignment.status != AssignmentStatus.active
        )
    ).all()
    objective = with_preferences(
        {pair: value.score for pair, value in scores.scores.items()},
        preferences,
        demand=len(applications) * round_.reviewers_per_application,
    )
    try:
        reviewer_ids = [m.user_id for m in members]
        plan = plan_assignments_from_matrices(
            applications=list(applications),
            reviewers=[
                ReviewerCapacity(reviewer_id=m.user_id, max_assignments=m.max_assignments)
                for m in members
            ],
            per_application=round_.reviewers_per_application,
            affinity=_matrix(applications, reviewer_ids, objective.items()),
            conflicts=_matrix(
                applications,
                reviewer_ids,
                (
                    ((application_id, reviewer_id), 1.0)
                    for reviewer_id, application_id in [
                        *((c.reviewer_id, c.application_id) for c in conflicts),
                        *ended,
                    ]
                ),
            ),
            existing=_matrix(
                applications,
                reviewer_ids,
                (((a.application_id, a.reviewer_id), 1.0) for a in existing),
                inside=True,
            ),
        )
    except PlanRefused as refused:
        # The pure planner says why (422 infeasible, 409 conflicted); the domain's error carries
        # it to the client.
        refusal = Conflict if refused.status == 409 else Unprocessable
        raise refusal(
            refused.message,
            type=refused.type,
            title=refused.title,
            status=refused.status,
            errors=refused.errors,
            extra=refused.extra,
        ) from refused
    planned = []
    for p in plan.assignments:
        scored = scores.scores.get((p.application_id, p.reviewer_id))
        planned.append(
            PlannedAssignment(
                application_id=p.application_id,
                reviewer_id=p.reviewer_id,
                affinity=scored.score if scored is not None else 0.0,
                evidence=list(scored.evidence) if scored is not None else [],
                preference=preferences.get((p.application_id, p.reviewer_id)),
            )
        )
    total_affinity = math.fsum(p.affinity for p in planned)
    stats = AutoAssignStats(
        applications=plan.stats.applications,
        reviewers=plan.stats.reviewers,
        new_assignments=plan.stats.new_assignments,
        kept_assignments=len(existing),
        total_affinity=total_affinity,
        affinity_source=scores.source,
        affinity_computed_at=scores.computed_at,
        preferences_honoured={
            level.value: sum(1 for p in planned if p.preference == level)
            for level in (PreferenceLevel.eager, PreferenceLevel.not_willing)
        },
        min_load=plan.stats.min_load,
        max_load=plan.stats.max_load,
        solve_seconds=round(plan.stats.solve_seconds, 4),
        conflicts=len(conflicts),
    )
    if dry_run or not planned:
        return AutoAssignResult(assignments=planned, stats=stats, applied=not dry_run)
    rows = [
        Assignment(
            round_id=round_id,
            application_id=p.application_id,
            reviewer_id=p.reviewer_id,
            affinity=p.affinity,
            source="auto",
            created_at=now,
        )
        for p in planned
    ]
    add_unique(
        session,
        *rows,
        conflict=Conflict(
            "the assignments changed while planning; plan again", type="assignments-changed"
        ),
    )
    pairs = sorted((str(p.application_id), str(p.reviewer_id)) for p in planned)
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="assignments.auto_applied",
        object_type="round",
        object_id=round_id,
        now=now,
        data={
            "count": len(pairs),
            "pairs_sha256": hashlib.sha256(canonical_json(pairs)).hexdigest(),
            "total_affinity": total_affinity,
            "affinity_source": scores.source.value,
        },
    )
    for row in rows:
        outbox.record_assignment(
            session=session,
            type=EventType.assignment_created,
            assignment=row,
            status=AssignmentStatus.active.value,
            now=now,
        )
    return AutoAssignResult(assignments=planned, stats=stats, applied=True)


def create_assignment(
    *, session: Session, actor: Actor, round_id: uuid.UUID, data: AssignmentCreate, now: datetime
) -> Assignment:
    """Assign one reviewer by hand (admin). Refuses conflicted pairs (409), reviewers off the
    panel (422) or at capacity (409), and applications not submitted to this round."""
    ensure_admin(actor)
    round_ = load_round(session=session, round_id=round_id, lock=True)
    _require_status(round_, *ASSIGNABLE_ROUND_STATUSES, action="assigning reviewers")
    application = session.get(Application, data.application_id)
    if application is None or application.round_id != round_id:
        raise Unprocessable(
            "no such application in this round",
            errors=[{"loc": ["body", "application_id"], "msg": "not in this round"}],
        )
    if application.status != ApplicationStatus.submitted:
        raise Conflict("only submitted applications are reviewed", type="application-not-submitted")
    member = session.exec(
        select(RoundReviewer).where(
            RoundReviewer.round_id == round_id, RoundReviewer.user_id == data.reviewer_id
        )
    ).first()
    if member is None:
        raise Unprocessable(
            "the reviewer is not on this round's panel",
            errors=[{"loc": ["body", "reviewer_id"], "msg": "not on the round's panel"}],
        )
    conflict = is_conflicted(
        session=session,
        round_id=round_id,
        reviewer_id=data.reviewer_id,
        application_id=data.application_id,
    )
    if conflict is not None:
        raise Conflict(f"conflict of interest: {conflict.reason}", type="conflicted")
    loads = active_loads(session=session, round_ids=[round_id], reviewer_ids=[data.reviewer_id])
    if loads.get((round_id, data.reviewer_id), 0) >= member.max_assignments:
        raise Conflict(
            f"the reviewer is at capacity ({member.max_assignments})", type="reviewer-at-capacity"
        )
    row = Assignment(
        round_id=round_id,
        application_id=data.application_id,
        reviewer_id=data.reviewer_id,
        source="manual",
        created_at=now,
    )
    add_unique(
        session,
        row,
        conflict=Conflict("the reviewer is already assigned to this application", type="assigned"),
    )
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="assignment.created",
        object_type="assignment",
        object_id=row.id,
        now=now,
        data={"application_id": str(row.application_id), "reviewer_id": str(row.reviewer_id)},
    )
    outbox.record_assignment(
        session=session,
        type=EventType.assignment_created,
        assignment=row,
        status=AssignmentStatus.active.value,
        now=now,
    )
    return row


def list_assignments(
    *, session: Session, actor: Actor, round_id: uuid.UUID, page: PageRequest
) -> Page[AssignmentPublic]:
    ensure_admin(actor)
    load_round(session=session, round_id=round_id)
    return paginate(
        session,
        select(Assignment).where(Assignment.round_id == round_id),
        keys=[Assignment.created_at, Assignment.id],  # type: ignore[list-item]
        page=page,
        present=lambda rows: [public(r) for r in rows],
    )


def delete_assignment(
    *, session: Session, actor: Actor, assignment_id: uuid.UUID, now: datetime
) -> None:
    """Remove an assignment and any review written for it (admin; not after closing)."""
    ensure_admin(actor)
    row = session.get(Assignment, assignment_id)
    if row is None:
        raise NotFound("no such assignment")
    round_ = load_round(session=session, round_id=row.round_id, lock=True)
    _require_status(round_, *ASSIGNABLE_ROUND_STATUSES, action="removing an assignment")
    review = session.exec(select(Review).where(Review.assignment_id == row.id)).first()
    if review is not None:
        session.delete(review)
        session.flush()  # first: it refers to the assignment, and no relationship orders the two
    session.delete(row)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="assignment.deleted",
        object_type="assignment",
        object_id=assignment_id,
        now=now,
        data={
            "application_id": str(row.application_id),
            "reviewer_id": str(row.reviewer_id),
            "review_discarded": review is not None,
        },
    )
    if row.status == AssignmentStatus.active:
        # One that had ended (recused, conflicted) told its reviewer so then.
        outbox.record_assignment(
            session=session,
            type=EventType.assignment_ended,
            assignment=row,
            status="deleted",
            now=now,
        )


def assignment_for_reviewer(
    *, session: Session, actor: Actor, assignment_id: uuid.UUID, lock: bool = False
) -> Assignment:
    """The caller's own assignment; anyone else's is 404 (admins may read any)."""
    statement = select(Assignment).where(Assignment.id == assignment_id)
    if lock:
        statement = statement.with_for_update()
    row = session.exec(statement).first()
    if row is None or (row.reviewer_id != actor.user_id and not actor.is_admin):
        raise NotFound("no such assignment")
    return row


def own_assignment(
    *, session: Session, actor: Actor, assignment_id: uuid.UUID, doing: str
) -> Assignment:
    """The caller's own assignment, for what only its reviewer does (``doing``): anyone else's
    is 404, as in ``assignment_for_reviewer``, and an admin's reach stops at 403."""
    row = assignment_for_reviewer(session=session, actor=actor, assignment_id=assignment_id)
    if row.reviewer_id != actor.user_id:
        raise Forbidden(f"only the assigned reviewer {doing}", type="not-assigned-reviewer")
    return row


def recuse(
    *, session: Session, actor: Actor, assignment_id: uuid.UUID, reason: str, now: datetime
) -> Assignment:
    """The assigned reviewer declares a conflict: the assignment ends and the conflict is kept,
    so no plan assigns the pair again."""
    row = own_assignment(session=session, actor=actor, assignment_id=assignment_id, doing="recuses")
    round_ = load_round(session=session, round_id=row.round_id, lock=True)
    _require_status(round_, *ASSIGNABLE_ROUND_STATUSES, action="recusal")
    if row.status != AssignmentStatus.active:
        raise Conflict("the assignment has ended already", type="assignment-ended")
    row.status = AssignmentStatus.recused
    row.ended_at = now
    session.add(row)
    session.add(
        DeclaredConflictRow(
            round_id=row.round_id,
            reviewer_id=row.reviewer_id,
            application_id=row.application_id,
            reason=reason,
            declared_by=actor.user_id,
            created_at=now,
        )
    )
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="assignment.recused",
        object_type="assignment",
        object_id=row.id,
        now=now,
        data={"application_id": str(row.application_id), "reason": reason},
    )
    outbox.record_assignment(
        session=session,
        type=EventType.assignment_ended,
        assignment=row,
        status=AssignmentStatus.recused.value,
        now=now,
    )
    return row


def my_assignments(
    *,
    session: Session,
    actor: Actor,
    page: PageRequest,
    now: datetime,
    round_id: uuid.UUID | None = None,
) -> Page[MyAssignmentPublic]:
    """The caller's assignments with their applications as the reviewer may see them (content
    once review has started; no organizations in a blind round)."""
    if not actor.has_role(Role.reviewer):
        raise Forbidden("only reviewers have assignments", type="forbidden-role")

    def present(rows: list[Assignment]) -> list[MyAssignmentPublic]:
        applications = session.exec(
            select(Application).where(col(Application.id).in_([r.application_id for r in rows]))
        ).all()
        views = {
            view.id: view
            for view in present_applications(
                session=session, actor=actor, applications=list(applications), now=now
            )
        }
        return [
            MyAssignmentPublic(
                **public(row).model_dump(),
                application=views.get(row.application_id)
                if row.status == AssignmentStatus.active
                else None,
            )
            for row in rows
        ]

    statement = select(Assignment).where(Assignment.reviewer_id == actor.user_id)
    if round_id is not None:
        statement = statement.where(Assignment.round_id == round_id)
    return paginate(
        session,
        statement,
        keys=[Assignment.created_at, Assignment.id],  # type: ignore[list-item]
        page=page,
        present=present,
    )
