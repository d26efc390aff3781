"""Round panels, reviewer profiles and conflicts of interest."""

import uuid
from typing import Any

from fastapi import APIRouter, status

from api.deps import NowDep, SessionDep
from api.http.pagination import PageDep
from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, RoundsAdmin
from models.pagination import Page
from models.reviewers import (
    ConflictCreate,
    ConflictPublic,
    DeclaredConflictPublic,
    ReviewerProfileIn,
    ReviewerProfilePublic,
    RoundReviewerCreate,
    RoundReviewerPublic,
)
from reviewers.conflicts import declare_conflict, end_conflicted_assignments, list_conflicts
from reviewers.pool import add_reviewer, list_reviewers, profile_public, put_profile

router = APIRouter(
    route_class=SessionRoute, prefix="/api/v1", tags=["reviewers"], responses=AUTH_RESPONSES
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such round"}}


@router.post(
    "/rounds/{round_id}/reviewers",
    status_code=status.HTTP_201_CREATED,
    response_model=RoundReviewerPublic,
    responses={**NOT_FOUND, 409: {"description": "Already on the panel"}},
)
def post_round_reviewer(
    round_id: uuid.UUID,
    body: RoundReviewerCreate,
    actor: RoundsAdmin,
    session: SessionDep,
    now: NowDep,
) -> RoundReviewerPublic:
    """Put a reviewer on the round's panel with a maximum load and expertise (admin)."""
    created = add_reviewer(session=session, actor=actor, round_id=round_id, data=body, now=now)
    session.commit()
    return created


@router.get(
    "/rounds/{round_id}/reviewers", response_model=Page[RoundReviewerPublic], responses=NOT_FOUND
)
def get_round_reviewers(
    round_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep, page: PageDep
) -> Page[RoundReviewerPublic]:
    """The round's panel with each reviewer's current load (admin)."""
    return list_reviewers(session=session, actor=actor, round_id=round_id, page=page)


@router.put(
    "/reviewers/{user_id}/profile",
    response_model=ReviewerProfilePublic,
    responses={404: {"description": "No such reviewer"}},
)
def put_reviewer_profile(
    user_id: uuid.UUID,
    body: ReviewerProfileIn,
    actor: RoundsAdmin,
    session: SessionDep,
    now: NowDep,
) -> ReviewerProfilePublic:
    """Replace a reviewer's affiliations, email domains and expertise (the reviewer or an admin)."""
    profile = put_profile(
        session=session,
        actor=actor,
        user_id=user_id,
        data=body,
        now=now,
        conflicts_changed=end_conflicted_assignments,
    )
    session.commit()
    return profile_public(profile)


@router.get(
    "/rounds/{round_id}/conflicts", response_model=Page[ConflictPublic], responses=NOT_FOUND
)
def get_round_conflicts(
    round_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep, page: PageDep
) -> Page[ConflictPublic]:
    """Detected and declared conflicts, one per reviewer and application, with reasons (admin)."""
    return list_conflicts(session=session, actor=actor, round_id=round_id, page=page)


@router.post(
    "/rounds/{round_id}/conflicts",
    status_code=status.HTTP_201_CREATED,
    response_model=DeclaredConflictPublic,
    responses=NOT_FOUND,
)
def post_round_conflict(
    round_id: uuid.UUID,
    body: ConflictCreate,
    actor: RoundsAdmin,
    session: SessionDep,
    now: NowDep,
) -> DeclaredConflictPublic:
    """Declare a reviewer conflicted with an organization or an application (admin)."""
    created = declare_conflict(session=session, actor=actor, round_id=round_id, data=body, now=now)
    session.commit()
    return created
