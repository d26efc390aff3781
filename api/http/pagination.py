"""The one pagination dependency: ``?limit=`` 1..100 (default 50; anything else is 422) and an
opaque ``?cursor=`` from the previous page's ``next_cursor``. Domain list functions take the
``PageRequest`` and answer ``Page`` (``submissions.pagination.paginate``)."""

from typing import Annotated

from fastapi import Depends, Query

from models.pagination import DEFAULT_LIMIT, MAX_LIMIT, PageRequest


async def page_request(
    limit: Annotated[
        int, Query(ge=1, le=MAX_LIMIT, description="Items per page (1 to 100)")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None,
        Query(max_length=1000, description="The `next_cursor` of the previous page"),
    ] = None,
) -> PageRequest:
    return PageRequest(limit=limit, cursor=cursor or None)


PageDep = Annotated[PageRequest, Depends(page_request)]
