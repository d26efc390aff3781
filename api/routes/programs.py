"""Programs and the rounds they run (admins)."""

import uuid
from typing import Any

from fastapi import APIRouter, Response, status

from api.deps import NowDep, SessionDep
from api.http.answer import commit_answer
from api.http.idempotency import IDEMPOTENCY_RESPONSES, IdempotencyDep
from api.http.pagination import PageDep
from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, RoundsAdmin
from models.concurrency import etag
from models.pagination import Page
from models.rounds import ProgramCreate, ProgramPublic, RoundCreate, RoundPublic
from submissions.rounds import (
    create_program,
    create_round,
    get_program,
    list_programs,
    list_rounds,
    round_public,
)

router = APIRouter(
    route_class=SessionRoute,
    prefix="/api/v1/programs",
    tags=["programs and rounds"],
    responses=AUTH_RESPONSES,
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such program"}}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ProgramPublic,
    responses=IDEMPOTENCY_RESPONSES,
)
def post_program(
    body: ProgramCreate,
    actor: RoundsAdmin,
    session: SessionDep,
    now: NowDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> ProgramPublic:
    """Create a program (admin)."""
    program = create_program(session=session, actor=actor, data=body, now=now)
    return commit_answer(
        session,
        response,
        ProgramPublic.model_validate(program),
        location=f"{router.prefix}/{program.id}",
        idempotency=idempotency,
    )


@router.get("", response_model=Page[ProgramPublic])
def get_programs(actor: RoundsAdmin, session: SessionDep, page: PageDep) -> Page[ProgramPublic]:
    """Every program, oldest first (admin)."""
    return list_programs(session=session, actor=actor, page=page)


@router.get("/{program_id}", response_model=ProgramPublic, responses=NOT_FOUND)
def get_one_program(
    program_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep
) -> ProgramPublic:
    """A program (admin)."""
    return ProgramPublic.model_validate(
        get_program(session=session, actor=actor, program_id=program_id)
    )


@router.post(
    "/{program_id}/rounds",
    status_code=status.HTTP_201_CREATED,
    response_model=RoundPublic,
    responses={**NOT_FOUND, **IDEMPOTENCY_RESPONSES},
)
def post_round(
    program_id: uuid.UUID,
    body: RoundCreate,
    actor: RoundsAdmin,
    session: SessionDep,
    now: NowDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> RoundPublic:
    """Create a round in `draft` with its full configuration (admin)."""
    round = create_round(session=session, actor=actor, program_id=program_id, data=body, now=now)
    return commit_answer(
        session,
        response,
        round_public(round),
        tag=etag(round.version),
        location=f"/api/v1/rounds/{round.id}",
        idempotency=idempotency,
    )


@router.get("/{program_id}/rounds", response_model=Page[RoundPublic], responses=NOT_FOUND)
def get_rounds(
    program_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep, page: PageDep
) -> Page[RoundPublic]:
    """The program's rounds, oldest first (admin)."""
    return list_rounds(session=session, actor=actor, program_id=program_id, page=page)
