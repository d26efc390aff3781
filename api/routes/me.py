"""The caller's own identity."""

from fastapi import APIRouter

from api.auth import AUTH_RESPONSES, AnyActor
from api.deps import ReaderDep
from models.identity import MePublic
from submissions.accounts import describe_me

router = APIRouter(prefix="/api/v1/me", tags=["identity"], responses=AUTH_RESPONSES)


@router.get("", response_model=MePublic)
async def read_me(actor: AnyActor, reader: ReaderDep) -> MePublic:
    """Who the token speaks for: the user, their roles and organizations."""
    return reader.read(lambda connection: describe_me(connection=connection, actor=actor))
