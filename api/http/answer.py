"""The tail of every change route: what it answers, the headers that describe it, the answer kept
for its ``Idempotency-Key``, then the request's one commit, always in that order (a replay
repeats the stored headers, so they are set before the answer is kept)."""

from typing import TypeVar

from fastapi import Response
from sqlmodel import Session

from api.http.idempotency import Idempotency

T = TypeVar("T")


def commit_answer(
    session: Session,
    response: Response,
    answer: T,
    *,
    tag: str | None = None,
    location: str | None = None,
    idempotency: Idempotency | None = None,
) -> T:
    """Set ``ETag`` to ``tag`` and ``Location`` (when given), keep ``answer`` for the request's
    ``Idempotency-Key`` in the change's own transaction, commit, and return ``answer``."""
    if tag is not None:
        response.headers["ETag"] = tag
    if location is not None:
        response.headers["Location"] = location
    if idempotency is not None:
        idempotency.save(answer)
    session.commit()
    return answer
