"""Assignments: automatic and manual, removal, recusal, and a reviewer's own list."""

import uuid

from fastapi import APIRouter, Response, status

from api.deps import NowDep, SessionDep
from api.http.pagination import PageDep
from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, ReviewsRead, ReviewsWrite, RoundsAdmin
from models.pagination import Page
from models.reviewers import (
    AssignmentCreate,
    AssignmentPublic,
    AutoAssignRequest,
    AutoAssignResult,
    MyAssignmentPublic,
    RecusalIn,
)
from reviewers.assignments import (
    auto_assign,
    create_assignment,
    delete_assignment,
    list_assignments,
    my_assignments,
    public,
    recuse,
)

router = APIRouter(
    route_class=SessionRoute, prefix="/api/v1", tags=["assignments"], responses=AUTH_RESPONSES
)


@router.post(
    "/rounds/{round_id}/assignments/auto",
    response_model=AutoAssignResult,
    responses={
        404: {"description": "No such round"},
        409: {"description": "The round is not in review"},
        422: {"description": "Infeasible: the constraint and each application left short"},
    },
)
def post_auto_assignments(
    round_id: uuid.UUID,
    body: AutoAssignRequest,
    actor: RoundsAdmin,
    session: SessionDep,
    now: NowDep,
) -> AutoAssignResult:
    """Plan the optimal assignment filling every gap; store it all (or nothing) unless dry run."""
    result = auto_assign(
        session=session, actor=actor, round_id=round_id, dry_run=body.dry_run, now=now
    )
    session.commit()
    return result


@router.get(
    "/rounds/{round_id}/assignments",
    response_model=Page[AssignmentPublic],
    responses={404: {"description": "No such round"}},
)
def get_round_assignments(
    round_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep, page: PageDep
) -> Page[AssignmentPublic]:
    """The round's assignments (admin)."""
    return list_assignments(session=session, actor=actor, round_id=round_id, page=page)


@router.post(
    "/rounds/{round_id}/assignments",
    status_code=status.HTTP_201_CREATED,
    response_model=AssignmentPublic,
    responses={
        404: {"description": "No such round"},
        409: {"description": "Conflicted pair, reviewer at capacity, or already assigned"},
    },
)
def post_round_assignment(
    round_id: uuid.UUID,
    body: AssignmentCreate,
    actor: RoundsAdmin,
    session: SessionDep,
    now: NowDep,
) -> AssignmentPublic:
    """Assign a reviewer by hand; conflicted pairs are refused (admin)."""
    row = create_assignment(session=session, actor=actor, round_id=round_id, data=body, now=now)
    session.commit()
    return public(row)


@router.delete(
    "/assignments/{assignment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={404: {"description": "No such assignment"}, 409: {"description": "Round closed"}},
)
def delete_round_assignment(
    assignment_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep, now: NowDep
) -> Response:
    """Remove an assignment and any review written for it (admin)."""
    delete_assignment(session=session, actor=actor, assignment_id=assignment_id, now=now)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/assignments/{assignment_id}/recuse",
    response_model=AssignmentPublic,
    responses={404: {"description": "No such assignment"}, 409: {"description": "Ended"}},
)
def post_recusal(
    assignment_id: uuid.UUID,
    body: RecusalIn,
    actor: ReviewsWrite,
    session: SessionDep,
    now: NowDep,
) -> AssignmentPublic:
    """Declare a conflict with the assigned application; the assignment ends."""
    row = recuse(
        session=session, actor=actor, assignment_id=assignment_id, reason=body.reason, now=now
    )
    session.commit()
    return public(row)


@router.get("/me/assignments", response_model=Page[MyAssignmentPublic])
def get_my_assignments(
    actor: ReviewsRead,
    session: SessionDep,
    page: PageDep,
    now: NowDep,
    round_id: uuid.UUID | None = None,
) -> Page[MyAssignmentPublic]:
    """The caller's assignments with their applications (reviewers), optionally of one round."""
    return my_assignments(session=session, actor=actor, page=page, now=now, round_id=round_id)
