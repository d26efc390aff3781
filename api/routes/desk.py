"""The program officer's desk: review progress, the decision report and the results workbook."""

import uuid
from typing import Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from api.deps import NowDep, SessionDep, SettingsDep
from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, RoundsAdmin
from models.desk import RoundProgress
from reviewers.desk import load_desk, viewer_locale
from reviewers.progress import round_progress
from reviewers.report import render_report
from reviewers.results_xlsx import results_xlsx

router = APIRouter(
    route_class=SessionRoute, prefix="/api/v1/rounds", tags=["results"], responses=AUTH_RESPONSES
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NOT_CLOSED: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such round"},
    409: {"description": "The round is not closed yet (round-not-closed)"},
}


@router.get(
    "/{round_id}/progress",
    response_model=RoundProgress,
    responses={
        404: {"description": "No such round"},
        409: {"description": "The round is not in review yet (round-not-in-review)"},
    },
)
def get_round_progress(
    round_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep, now: NowDep
) -> RoundProgress:
    """Review progress: assignments by state, each reviewer's load and overdue reviews (admin)."""
    return round_progress(session=session, actor=actor, round_id=round_id, now=now)


@router.get(
    "/{round_id}/report",
    response_class=HTMLResponse,
    responses={
        200: {"content": {"text/html": {}}, "description": "The decision report, one page"},
        **NOT_CLOSED,
    },
)
def get_round_report(
    round_id: uuid.UUID,
    actor: RoundsAdmin,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    locale: Literal["en", "ko"] | None = Query(
        default=None, description="The report's language (default: the viewer's locale)"
    ),
) -> HTMLResponse:
    """The decision report of a closed round, self-contained and fit to print (admin)."""
    desk = load_desk(session=session, actor=actor, round_id=round_id, now=now)
    language = locale or viewer_locale(
        session=session, actor=actor, default=settings.default_locale
    )
    page = render_report(desk=desk, locale=language, now=now)
    return HTMLResponse(
        page,
        headers={
            "Content-Language": language,
            # Nothing may be fetched or run: the page needs neither.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
            "img-src data:; frame-ancestors 'none'",
        },
    )


@router.get(
    "/{round_id}/results.xlsx",
    response_class=Response,
    responses={
        200: {"content": {XLSX: {}}, "description": "Ranking, Reviews and Conflicts sheets"},
        **NOT_CLOSED,
    },
)
def get_round_results_xlsx(
    round_id: uuid.UUID, actor: RoundsAdmin, session: SessionDep, now: NowDep
) -> Response:
    """The decision as a workbook: ranking, every submitted review, conflicts (admin)."""
    desk = load_desk(session=session, actor=actor, round_id=round_id, now=now)
    return Response(
        content=results_xlsx(desk),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="results-{round_id}.xlsx"'},
    )
