"""A closed round's signed decision record (docs/decision-record.md)."""

import uuid

from fastapi import APIRouter
from fastapi.responses import Response

from api.deps import NowDep, SessionDep, SigningKeysDep
from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, ApplicationsRead
from identity.decision_records import issue_decision_record
from reviewers.decision.record import RECORD_MEDIA_TYPE

router = APIRouter(
    route_class=SessionRoute, prefix="/api/v1/rounds", tags=["results"], responses=AUTH_RESPONSES
)


@router.get(
    "/{round_id}/decision-record",
    response_class=Response,
    responses={
        200: {
            "content": {RECORD_MEDIA_TYPE: {"schema": {"type": "string"}}},
            "description": "A compact JWS (typ shortlist-decision+jwt) over the RFC 8785 "
            "payload; verify it with `shortlist verify-record`",
        },
        403: {"description": "Not published yet (not-published)"},
        404: {"description": "No such round"},
        409: {"description": "Not closed yet (round-not-closed)"},
    },
)
def get_decision_record(
    round_id: uuid.UUID,
    keys: SigningKeysDep,
    actor: ApplicationsRead,
    session: SessionDep,
    now: NowDep,
) -> Response:
    """The signed decision record: admins once closed, anyone (applications:read) once published."""
    token = issue_decision_record(
        session=session,
        actor=actor,
        round_id=round_id,
        now=now,
        signing_key=keys.snapshot().signing,
    )
    return Response(
        content=token,
        media_type=RECORD_MEDIA_TYPE,
        headers={
            "Cache-Control": "private, no-store",
            "Content-Disposition": f'attachment; filename="decision-record-{round_id}.jws"',
        },
    )
