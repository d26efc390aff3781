"""Reviews of an assignment: a draft, then submitted."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Response

from api.deps import NowDep, SessionDep
from api.http.answer import commit_answer
from api.http.etag import ETAG_RESPONSES, parse_if_match, set_etag
from api.http.routing import SessionRoute
from api.security import AUTH_RESPONSES, ReviewsRead, ReviewsWrite
from models.concurrency import Precondition, etag
from models.reviewers import ReviewIn, ReviewPublic
from reviewers.reviews import get_review, public, put_review, submit_review

router = APIRouter(
    route_class=SessionRoute,
    prefix="/api/v1/assignments",
    tags=["reviews"],
    responses=AUTH_RESPONSES,
)

OptionalIfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="The review's ETag (required to replace a draft)"),
]
RESPONSES: dict[int | str, dict[str, str]] = {
    404: {"description": "No such assignment"},
    409: {"description": "Round not in review, deadline passed, or review submitted"},
    **ETAG_RESPONSES,
}


def _precondition(value: str | None) -> Precondition | None:
    return parse_if_match(value) if value is not None else None


@router.put(
    "/{assignment_id}/review",
    response_model=ReviewPublic,
    responses={**RESPONSES, 201: {"description": "Review created", "model": ReviewPublic}},
)
def put_assignment_review(
    assignment_id: uuid.UUID,
    body: ReviewIn,
    actor: ReviewsWrite,
    session: SessionDep,
    now: NowDep,
    response: Response,
    if_match: OptionalIfMatch = None,
) -> ReviewPublic:
    """Write the review draft (the assigned reviewer); replacing one needs If-Match."""
    review, created = put_review(
        session=session,
        actor=actor,
        assignment_id=assignment_id,
        data=body,
        precondition=_precondition(if_match),
        now=now,
    )
    response.status_code = 201 if created else 200
    return commit_answer(session, response, public(review), tag=etag(review.version))


@router.get(
    "/{assignment_id}/review",
    response_model=ReviewPublic,
    responses={404: {"description": "No such assignment or review"}},
)
def get_assignment_review(
    assignment_id: uuid.UUID, actor: ReviewsRead, session: SessionDep, response: Response
) -> ReviewPublic:
    """The review of an assignment (its reviewer, or an admin)."""
    review = get_review(session=session, actor=actor, assignment_id=assignment_id)
    set_etag(response, review.version)
    return public(review)


@router.post(
    "/{assignment_id}/review/submit",
    response_model=ReviewPublic,
    responses={**RESPONSES, 422: {"description": "Incomplete or out of range (each listed)"}},
)
def post_review_submit(
    assignment_id: uuid.UUID,
    actor: ReviewsWrite,
    session: SessionDep,
    now: NowDep,
    response: Response,
    if_match: OptionalIfMatch = None,
) -> ReviewPublic:
    """Submit the review: every criterion scored in range and every gate decided."""
    review = submit_review(
        session=session,
        actor=actor,
        assignment_id=assignment_id,
        precondition=_precondition(if_match),
        now=now,
    )
    return commit_answer(session, response, public(review), tag=etag(review.version))
