"""The caller's own identity."""

from fastapi import APIRouter, Request

from api.http.routing import SessionRoute
from api.lean import lean
from api.security import AUTH_RESPONSES, AnyActor
from identity.accounts import load_me
from infra.db import LoopReader
from models.identity import MePublic

router = APIRouter(
    route_class=SessionRoute, prefix="/api/v1/me", tags=["identity"], responses=AUTH_RESPONSES
)


@router.get("", response_model=MePublic)
@lean
async def read_me(actor: AnyActor, request: Request) -> MePublic:
    """Who the token speaks for: the user, their roles and organizations."""
    # What API clients call first and often: served by the lean path, with the reader from the
    # app's state rather than as a dependency (see get_application).
    reader: LoopReader = request.app.state.reader
    return await load_me(reader.fetch, actor=actor)
