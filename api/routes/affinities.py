"""Affinities (how well reviewers fit applications) and panel reviewers' preferences."""

import uuid
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import NowDep, SessionDep
from api.http.pagination import PageDep
from api.http.routing import SessionRoute
from api.openapi import inlined_schema
from api.security import AUTH_RESPONSES, ReviewsRead, ReviewsWrite, RoundsAdmin
from models.errors import DomainError, Unprocessable
from models.pagination import Page
from models.reviewers import (
    AffinityImport,
    AffinityImportResult,
    AffinityPublic,
    ApplicationForPreference,
    PreferenceIn,
    PreferencePublic,
)
from reviewers.affinity import (
    import_affinities,
    list_affinities,
    parse_affinity_csv,
)
from reviewers.preferences import (
    applications_for_preference,
    list_preferences,
    public,
    put_preference,
)

router = APIRouter(
    route_class=SessionRoute, prefix="/api/v1", tags=["affinities"], responses=AUTH_RESPONSES
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such round"}}


IMPORT_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "application/json": {"schema": inlined_schema(AffinityImport)},
        "text/csv": {
            "schema": {"type": "string", "description": "header application_id,reviewer_id,score"}
        },
    },
}


@router.get(
    "/rounds/{round_id}/affinities",
    response_model=Page[AffinityPublic],
    responses={**NOT_FOUND, 409: {"description": "The round's bids are still sealed"}},
)
def get_round_affinities(
    round_id: uuid.UUID,
    actor: RoundsAdmin,
    session: SessionDep,
    page: PageDep,
    now: NowDep,
    application_id: uuid.UUID | None = Query(default=None),
    reviewer_id: uuid.UUID | None = Query(default=None),
) -> Page[AffinityPublic]:
    """Scored pairs by the round's affinity source, best first per application, with the
    evidence that matched (admin)."""
    return list_affinities(
        session=session,
        actor=actor,
        round_id=round_id,
        page=page,
        now=now,
        application_id=application_id,
        reviewer_id=reviewer_id,
    )


@router.put(
    "/rounds/{round_id}/affinities",
    response_model=AffinityImportResult,
    responses={
        **NOT_FOUND,
        409: {"description": "The round is closed"},
        415: {"description": "Neither JSON nor CSV"},
    },
    openapi_extra={"requestBody": IMPORT_BODY},
)
async def put_round_affinities(
    round_id: uuid.UUID, request: Request, actor: RoundsAdmin, session: SessionDep, now: NowDep
) -> AffinityImportResult:
    """Replace the round's imported scores, as JSON ``{"items": [...]}`` or as CSV (admin)."""
    # The edge caps the body (SHORTLIST_MAX_BODY_BYTES, 413) before it gets here.
    body = await request.body()
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "text/csv":
        data = parse_affinity_csv(body)
    elif kind in ("application/json", ""):
        try:
            data = AffinityImport.model_validate_json(body)
        except ValidationError as exc:
            raise Unprocessable(
                "the body is not a valid import",
                errors=[
                    {"loc": ["body", *e["loc"]], "msg": e["msg"]}
                    for e in exc.errors(include_url=False)[:100]
                ],
            ) from exc
    else:
        raise DomainError(
            "send application/json or text/csv",
            type="unsupported-media-type",
            title="Unsupported media type",
            status=415,
        )

    def store() -> AffinityImportResult:
        result = import_affinities(
            session=session, actor=actor, round_id=round_id, data=data, now=now
        )
        session.commit()
        return result

    return await run_in_threadpool(store)


@router.get(
    "/rounds/{round_id}/applications-for-preference",
    response_model=Page[ApplicationForPreference],
    responses={**NOT_FOUND, 409: {"description": "Not taking preferences now"}},
)
def get_applications_for_preference(
    round_id: uuid.UUID, actor: ReviewsRead, session: SessionDep, page: PageDep, now: NowDep
) -> Page[ApplicationForPreference]:
    """Titles and summaries of the round's applications, conflicted ones left out (a panel
    reviewer, while the round takes preferences)."""
    return applications_for_preference(
        session=session, actor=actor, round_id=round_id, page=page, now=now
    )


@router.put(
    "/rounds/{round_id}/preferences/{application_id}",
    response_model=PreferencePublic,
    responses={
        404: {"description": "No such round or application"},
        409: {"description": "Not taking preferences now"},
    },
)
def put_round_preference(
    round_id: uuid.UUID,
    application_id: uuid.UUID,
    body: PreferenceIn,
    actor: ReviewsWrite,
    session: SessionDep,
    now: NowDep,
) -> PreferencePublic:
    """State a preference for one application: eager, willing, not_willing or conflict."""
    row = put_preference(
        session=session,
        actor=actor,
        round_id=round_id,
        application_id=application_id,
        data=body,
        now=now,
    )
    session.commit()
    return public(row)


@router.get(
    "/rounds/{round_id}/preferences", response_model=Page[PreferencePublic], responses=NOT_FOUND
)
def get_round_preferences(
    round_id: uuid.UUID, actor: ReviewsRead, session: SessionDep, page: PageDep
) -> Page[PreferencePublic]:
    """The caller's preferences in the round (a panel reviewer), or all of them (admin)."""
    return list_preferences(session=session, actor=actor, round_id=round_id, page=page)
