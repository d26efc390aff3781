"""Applications: read, change a draft, confirm or decline a listing, submit for a receipt, reopen,
withdraw."""

import uuid
from datetime import datetime
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Query, Request, Response, status
from sqlmodel import Session

from api.application_answers import ApplicationAnswers, Remembered, serialize
from api.deps import NowDep, SessionDep
from api.http.answer import commit_answer
from api.http.etag import ETAG_RESPONSES, IfMatchDep, set_application_etag
from api.http.idempotency import IDEMPOTENCY_RESPONSES, Idempotency, IdempotencyDep
from api.http.pagination import PageDep
from api.http.routing import SessionRoute
from api.lean import lean
from api.security import AUTH_RESPONSES, ApplicationsRead, ApplicationsWrite
from infra.db import LoopReader
from models.applications import (
    Application,
    ApplicationStatus,
    ApplicationUpdate,
    ApplicationView,
)
from models.errors import NotFound
from models.identity import Actor
from models.pagination import Page
from submissions.application_views import (
    APPLICATION_READ_STAMP,
    list_applications,
    load_application,
    present_application,
    read_application_stamped,
)
from submissions.applications import (
    confirm_member,
    decline_member,
    reopen_application,
    submit_application,
    update_application,
    withdraw_application,
)
from submissions.visibility import view_etag

router = APIRouter(
    route_class=SessionRoute,
    prefix="/api/v1/applications",
    tags=["applications"],
    responses=AUTH_RESPONSES,
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such application, or not visible to the caller"}
}
ACTION: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    **IDEMPOTENCY_RESPONSES,
    403: {
        "description": "The caller's role or organization may not do this (`not-lead-member`: "
        "only the lead organization's members change an application)"
    },
    409: {
        "description": "Wrong status, round not open, deadline passed, or `round-closed` "
        "(any action on an application of a closed round)"
    },
}


def _commit_and_present(
    *,
    session: Session,
    actor: Actor,
    application: Application,
    now: datetime,
    response: Response,
    idempotency: Idempotency | None = None,
) -> ApplicationView:
    out = present_application(session=session, actor=actor, application=application, now=now)
    return commit_answer(session, response, out, tag=view_etag(out), idempotency=idempotency)


@router.get("", response_model=Page[ApplicationView])
def get_applications(
    actor: ApplicationsRead,
    session: SessionDep,
    now: NowDep,
    page: PageDep,
    round_id: Annotated[uuid.UUID | None, Query()] = None,
    status: Annotated[ApplicationStatus | None, Query()] = None,
) -> Page[ApplicationView]:
    """Applications the caller may see: their organizations' (applicants) or all (admins)."""
    return list_applications(
        session=session, actor=actor, page=page, now=now, round_id=round_id, status=status
    )


@router.get("/{application_id}", response_model=ApplicationView, responses=NOT_FOUND)
@lean
async def get_application(
    application_id: uuid.UUID, actor: ApplicationsRead, request: Request, response: Response
) -> ApplicationView | Response:
    """An application; before the deadline an admin sees only id, title, status, organizations."""
    # The busiest read of the review period: the reader and the clock straight from the app's
    # state rather than as dependencies, each of which costs every request its resolution.
    state = request.app.state
    now = state.clock()
    reader: LoopReader = state.reader
    answers: ApplicationAnswers | None = state.application_answers
    if answers is None:  # (SHORTLIST_APPLICATION_CACHE_SIZE=0)
        out = await load_application(
            reader.fetch, actor=actor, application_id=application_id, now=now
        )
        set_application_etag(response, out)
        return out
    # The answer this process gave the same caller, if the application's read stamp says that
    # nothing it shows has changed since (api/application_answers.py): one point read.
    key = (application_id, actor.user_id, actor.roles)
    remembered = answers.get(key, now)
    if remembered is not None:
        stamps = await reader.fetch(APPLICATION_READ_STAMP, application_id=application_id)
        if stamps and stamps[0].read_stamp == remembered.read_stamp:
            answers.hits += 1
            return remembered.answer()
    try:
        read = await read_application_stamped(
            reader.fetch, actor=actor, application_id=application_id, now=now
        )
    except NotFound:
        answers.forget(key)
        raise
    tag = view_etag(read.view)
    remembered = Remembered(
        read.read_stamp,
        read.close_at,
        now <= read.close_at,
        serialize(read.view),
        None if tag is None else tag.encode(),
    )
    answers.put(key, remembered)
    return remembered.answer()


@router.patch(
    "/{application_id}",
    response_model=ApplicationView,
    responses={**ACTION, **ETAG_RESPONSES},
)
def patch_application(
    application_id: uuid.UUID,
    body: ApplicationUpdate,
    actor: ApplicationsWrite,
    session: SessionDep,
    now: NowDep,
    precondition: IfMatchDep,
    response: Response,
) -> ApplicationView:
    """Change a draft while the round is open (lead organization's members; If-Match)."""
    application = update_application(
        session=session,
        actor=actor,
        application_id=application_id,
        data=body,
        precondition=precondition,
        now=now,
    )
    return _commit_and_present(
        session=session, actor=actor, application=application, now=now, response=response
    )


@router.post(
    "/{application_id}/members/{organization_id}/confirm",
    response_model=ApplicationView,
    responses=ACTION,
)
def post_confirm(
    application_id: uuid.UUID,
    organization_id: uuid.UUID,
    actor: ApplicationsWrite,
    session: SessionDep,
    now: NowDep,
    idempotency: IdempotencyDep,
    response: Response,
) -> ApplicationView:
    """Confirm a member organization's participation (an owner of that organization)."""
    application = confirm_member(
        session=session,
        actor=actor,
        application_id=application_id,
        organization_id=organization_id,
        now=now,
    )
    return _commit_and_present(
        session=session,
        actor=actor,
        application=application,
        now=now,
        response=response,
        idempotency=idempotency,
    )


@router.post(
    "/{application_id}/members/{organization_id}/decline",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={
        **NOT_FOUND,
        403: {"description": "Not an owner of that member organization"},
        409: {
            "description": "Not a draft, round not accepting, `round-closed`, or "
            "`lead-cannot-decline`"
        },
    },
)
def post_decline(
    application_id: uuid.UUID,
    organization_id: uuid.UUID,
    actor: ApplicationsWrite,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """Take a member organization off the application (an owner of that organization)."""
    decline_member(
        session=session,
        actor=actor,
        application_id=application_id,
        organization_id=organization_id,
        now=now,
    )
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class _StatusChange(Protocol):
    def __call__(
        self, *, session: Session, actor: Actor, application_id: uuid.UUID, now: datetime
    ) -> Application: ...


def _status_route(
    action: str,
    change: _StatusChange,
    summary: str,
    responses: dict[int | str, dict[str, Any]] = ACTION,
) -> None:
    """``POST /{application_id}/{action}``: one change of the application's status, answered
    with the application as the caller sees it (submit, reopen and withdraw are alike)."""

    def post_status_change(
        application_id: uuid.UUID,
        actor: ApplicationsWrite,
        session: SessionDep,
        now: NowDep,
        idempotency: IdempotencyDep,
        response: Response,
    ) -> ApplicationView:
        application = change(session=session, actor=actor, application_id=application_id, now=now)
        return _commit_and_present(
            session=session,
            actor=actor,
            application=application,
            now=now,
            response=response,
            idempotency=idempotency,
        )

    router.post(
        f"/{{application_id}}/{action}",
        response_model=ApplicationView,
        responses=responses,
        name=f"post_{action}",
        description=summary,
    )(post_status_change)


_status_route(
    "submit",
    submit_application,
    "Submit before the deadline plus grace; the answer carries the receipt.",
    {**ACTION, 422: {"description": "Missing pieces, each listed in `errors`"}},
)
_status_route(
    "reopen",
    reopen_application,
    "Back to draft before the deadline plus grace; the receipt is void.",
)
_status_route(
    "withdraw",
    withdraw_application,
    "Withdraw the application; its organizations may bid again in the round.",
)
