"""Closing, publishing and the results of a round."""

import uuid

from fastapi import APIRouter, Body
from fastapi.responses import Response

from api.deps import NowDep, SessionDep
from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, ApplicationsRead, RoundsAdmin
from models.base import InputModel
from models.results import ResultsAdmin, ResultsApplicant, ShortlistPreview
from models.rounds import RoundPublic
from reviewers.closing import close_round, preview, publish_round, results, results_csv
from submissions.rounds import round_public

router = APIRouter(
    route_class=SessionRoute, prefix="/api/v1/rounds", tags=["results"], responses=AUTH_RESPONSES
)


class CloseRequest(InputModel):
    allow_missing_reviews: bool = False


@router.post(
    "/{round_id}/close",
    response_model=RoundPublic,
    responses={
        404: {"description": "No such round"},
        409: {"description": "Not in review (invalid-transition), or reviews missing"},
    },
)
def post_close(
    round_id: uuid.UUID,
    actor: RoundsAdmin,
    session: SessionDep,
    now: NowDep,
    body: CloseRequest | None = Body(default=None),
) -> RoundPublic:
    """Close the round: rank, shortlist and set every outcome in one transaction (admin)."""
    closed = close_round(
        session=session,
        actor=actor,
        round_id=round_id,
        allow_missing_reviews=bool(body and body.allow_missing_reviews),
        now=now,
    )
    session.commit()
    return round_public(closed)


@router.post(
    "/{round_id}/publish",
    response_model=RoundPublic,
    responses={404: {"description": "No such round"}, 409: {"description": "Not closed"}},
)
def post_publish(
    round_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep, now: NowDep
) -> RoundPublic:
    """Release the results to applicants (admin)."""
    published = publish_round(session=session, actor=actor, round_id=round_id, now=now)
    session.commit()
    return round_public(published)


@router.get(
    "/{round_id}/shortlist/preview",
    response_model=ShortlistPreview,
    responses={404: {"description": "No such round"}, 409: {"description": "Not in review"}},
)
def get_preview(round_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep) -> ShortlistPreview:
    """What closing now would decide; nothing is stored (admin)."""
    return preview(session=session, actor=actor, round_id=round_id)


@router.get(
    "/{round_id}/results",
    response_model=ResultsAdmin | ResultsApplicant,
    responses={
        403: {"description": "Not published yet (not-published), or reviewers"},
        404: {"description": "No such round"},
        409: {"description": "Not closed yet"},
    },
)
def get_results(
    round_id: uuid.UUID, actor: ApplicationsRead, session: SessionDep
) -> ResultsAdmin | ResultsApplicant:
    """Admins: the whole ranking. Applicants, once published: their own rows and feedback."""
    return results(session=session, actor=actor, round_id=round_id)


@router.get(
    "/{round_id}/results.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The ranking as CSV"},
        404: {"description": "No such round"},
        409: {"description": "Not closed yet"},
    },
)
def get_results_csv(round_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep) -> Response:
    """The ranking with exact decimals, one column per criterion (admin)."""
    text = results_csv(session=session, actor=actor, round_id=round_id)
    return Response(
        content=text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="results-{round_id}.csv"'},
    )
