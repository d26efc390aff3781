"""Users (admins create and deactivate them)."""

import uuid

from fastapi import APIRouter, status

from api.deps import NowDep, SessionDep
from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, RoundsAdmin
from identity.accounts import create_user, deactivate_user
from models.identity import UserCreate, UserPublic

router = APIRouter(
    route_class=SessionRoute, prefix="/api/v1/users", tags=["identity"], responses=AUTH_RESPONSES
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses={409: {"description": "A user with this email exists"}},
)
def post_user(body: UserCreate, actor: RoundsAdmin, session: SessionDep, now: NowDep) -> UserPublic:
    """Create a user with roles (admin)."""
    user = create_user(session=session, actor=actor, data=body, now=now)
    session.commit()
    return UserPublic.model_validate(user)


@router.post(
    "/{user_id}/deactivate",
    response_model=UserPublic,
    responses={
        404: {"description": "No such user"},
        409: {"description": "`self-deactivation`: an admin cannot deactivate themselves"},
    },
)
def post_user_deactivate(
    user_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep, now: NowDep
) -> UserPublic:
    """Deactivate a user (admin): their tokens and their clients' tokens are refused at once."""
    user = deactivate_user(session=session, actor=actor, user_id=user_id, now=now)
    session.commit()
    return UserPublic.model_validate(user)
