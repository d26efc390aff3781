"""How a round's review is going, for the program officer: the assignments by where they stand,
each reviewer's load and what is overdue, each application's reviews against what it needs."""

import uuid
from collections import Counter
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.applications import Application, ApplicationStatus
from models.desk import ApplicationProgress, AssignmentCounts, ReviewerProgress, RoundProgress
from models.errors import Conflict
from models.identity import Actor, User
from models.reviewers import Assignment, AssignmentStatus, Review, RoundReviewer
from models.rounds import RoundStatus
from reviewers.pool import load_round
from submissions.organizations import ensure_admin

REVIEWED_STATUSES = (RoundStatus.review, RoundStatus.closed, RoundStatus.published)
IN_PLAY = (
    ApplicationStatus.submitted,
    ApplicationStatus.shortlisted,
    ApplicationStatus.not_selected,
)


def round_progress(
    *, session: Session, actor: Actor, round_id: uuid.UUID, now: datetime
) -> RoundProgress:
    """The round's review progress (admin; round in review or later, else 409
    ``round-not-in-review``). ``overdue`` counts a reviewer's active assignments without a
    submitted review once ``review_deadline`` has passed by the server's clock (``now``)."""
    ensure_admin(actor)
    round_ = load_round(session=session, round_id=round_id)
    if round_.status not in REVIEWED_STATUSES:
        raise Conflict(
            "progress needs the round in review or later; "
            f"it is {RoundStatus(round_.status).value}",
            type="round-not-in-review",
        )
    rows = session.exec(
        select(Assignment.application_id, Assignment.reviewer_id, Assignment.status, Review.status)
        .outerjoin(Review, col(Review.assignment_id) == Assignment.id)
        .where(Assignment.round_id == round_id)
    ).all()
    counts: Counter[str] = Counter()
    assigned: Counter[uuid.UUID] = Counter()
    submitted_by: Counter[uuid.UUID] = Counter()
    submitted_for: Counter[uuid.UUID] = Counter()
    for application_id, reviewer_id, status, review_status in rows:
        if status == AssignmentStatus.active:
            assigned[reviewer_id] += 1
            if review_status == "submitted":
                counts["submitted"] += 1
                submitted_by[reviewer_id] += 1
                submitted_for[application_id] += 1
            elif review_status is None:
                counts["not_started"] += 1
            else:
                counts["in_progress"] += 1
        else:
            counts[AssignmentStatus(status).value] += 1
    passed = now > round_.review_deadline
    panel = set(
        session.exec(select(RoundReviewer.user_id).where(RoundReviewer.round_id == round_id))
    )
    reviewer_ids = panel | {reviewer_id for _, reviewer_id, _, _ in rows}
    names = (
        dict(session.exec(select(User.id, User.name).where(col(User.id).in_(reviewer_ids))).all())
        if reviewer_ids
        else {}
    )
    reviewers = sorted(
        (
            ReviewerProgress(
                reviewer_id=reviewer_id,
                name=names.get(reviewer_id, ""),
                assigned=assigned[reviewer_id],
                submitted=submitted_by[reviewer_id],
                overdue=assigned[reviewer_id] - submitted_by[reviewer_id] if passed else 0,
            )
            for reviewer_id in reviewer_ids
        ),
        key=lambda r: (r.name, r.reviewer_id.int),
    )
    applications = [
        ApplicationProgress(
            application_id=application_id,
            title=title,
            reviews_needed=round_.reviewers_per_application,
            reviews_submitted=submitted_for[application_id],
        )
        for application_id, title in session.exec(
            select(Application.id, Application.title)
            .where(
                Application.round_id == round_id,
                col(Application.status).in_([s.value for s in IN_PLAY]),
            )
            .order_by(sa.func.lower(Application.title), col(Application.id))
        )
    ]
    return RoundProgress(
        round_id=round_id,
        review_deadline=round_.review_deadline,
        deadline_passed=passed,
        assignments=AssignmentCounts(
            total=len(rows),
            submitted=counts["submitted"],
            in_progress=counts["in_progress"],
            not_started=counts["not_started"],
            recused=counts["recused"],
            conflicted=counts["conflicted"],
        ),
        reviewers=reviewers,
        applications=applications,
    )
