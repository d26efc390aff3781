"""A round: its configuration, its lifecycle transitions, and the applications it receives."""

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response, status

from api.deps import NowDep, SessionDep
from api.http.answer import commit_answer
from api.http.etag import ETAG_RESPONSES, IfMatchDep, set_etag
from api.http.idempotency import IDEMPOTENCY_RESPONSES, IdempotencyDep
from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, ApplicationsWrite, RoundsAdmin
from models.applications import ApplicationCreate, ApplicationView
from models.concurrency import etag
from models.rounds import RoundPublic, RoundUpdate
from submissions.application_views import present_application
from submissions.applications import create_application
from submissions.rounds import get_round, open_round, round_public, start_review, update_round
from submissions.visibility import view_etag

router = APIRouter(
    route_class=SessionRoute,
    prefix="/api/v1/rounds",
    tags=["programs and rounds"],
    responses=AUTH_RESPONSES,
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such round"}}
TRANSITION: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    **IDEMPOTENCY_RESPONSES,
    409: {"description": "Wrong status or time"},
}


@router.get("/{round_id}", response_model=RoundPublic, responses=NOT_FOUND)
def get_one_round(
    round_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep, response: Response
) -> RoundPublic:
    """A round with its whole configuration (admin)."""
    round = get_round(session=session, actor=actor, round_id=round_id)
    set_etag(response, round.version)
    return round_public(round)


@router.patch(
    "/{round_id}",
    response_model=RoundPublic,
    responses={**NOT_FOUND, **ETAG_RESPONSES, 409: {"description": "Not changeable now"}},
)
def patch_round(
    round_id: uuid.UUID,
    body: RoundUpdate,
    actor: RoundsAdmin,
    session: SessionDep,
    now: NowDep,
    precondition: IfMatchDep,
    response: Response,
) -> RoundPublic:
    """Change a round: anything in `draft`; once open, only later deadlines (admin)."""
    round = update_round(
        session=session,
        actor=actor,
        round_id=round_id,
        data=body,
        precondition=precondition,
        now=now,
    )
    return commit_answer(session, response, round_public(round), tag=etag(round.version))


@router.post("/{round_id}/open", response_model=RoundPublic, responses=TRANSITION)
def post_open(
    round_id: uuid.UUID,
    actor: RoundsAdmin,
    session: SessionDep,
    now: NowDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> RoundPublic:
    """`draft -> open`: the round accepts applications from `opens_at` (admin)."""
    round = open_round(session=session, actor=actor, round_id=round_id, now=now)
    return commit_answer(
        session, response, round_public(round), tag=etag(round.version), idempotency=idempotency
    )


@router.post("/{round_id}/start-review", response_model=RoundPublic, responses=TRANSITION)
def post_start_review(
    round_id: uuid.UUID,
    actor: RoundsAdmin,
    session: SessionDep,
    now: NowDep,
    idempotency: IdempotencyDep,
    response: Response,
    request: Request,
) -> RoundPublic:
    """`open -> review`, once the submission deadline plus grace has passed (admin)."""
    round = start_review(session=session, actor=actor, round_id=round_id, now=now)
    out = commit_answer(
        session, response, round_public(round), tag=etag(round.version), idempotency=idempotency
    )
    request.app.state.affinities.notify()  # the seal has lifted: text affinity may start
    return out


@router.post(
    "/{round_id}/applications",
    status_code=status.HTTP_201_CREATED,
    response_model=ApplicationView,
    tags=["applications"],
    responses={
        **NOT_FOUND,
        **IDEMPOTENCY_RESPONSES,
        403: {"description": "Not a member of the lead organization, or not eligible"},
        409: {"description": "Round not open, or an organization already applied"},
    },
)
def post_application(
    round_id: uuid.UUID,
    body: ApplicationCreate,
    actor: ApplicationsWrite,
    session: SessionDep,
    now: NowDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> ApplicationView:
    """Start a draft application led by one of the caller's organizations."""
    application = create_application(
        session=session, actor=actor, round_id=round_id, data=body, now=now
    )
    out = present_application(session=session, actor=actor, application=application, now=now)
    return commit_answer(
        session,
        response,
        out,
        tag=view_etag(out),
        location=f"/api/v1/applications/{application.id}",
        idempotency=idempotency,
    )
