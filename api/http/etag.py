"""Entity tags and ``If-Match`` for versioned resources (a ``version`` column).

Responses carry ``ETag: "<version>"``. ``PATCH``/``PUT`` routes take ``IfMatchDep``: without the
header 428; the domain function checks it on the locked row (``Precondition.ensure``), so of two
writers holding the same tag one wins and the other gets 412.
"""

import re
from typing import Annotated, Any

from fastapi import Depends, Header, Response

from models.applications import ApplicationView
from models.concurrency import Precondition, etag
from models.errors import PreconditionRequired
from submissions.visibility import view_etag

_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')


def parse_if_match(value: str) -> Precondition:
    """``*`` or a list of entity tags. Weak tags never match (``If-Match`` compares strongly); a
    bare token is read as a quoted tag, for lenient clients."""
    value = value.strip()
    if value == "*":
        return Precondition(any=True)
    tags: set[str] = set()
    position = 0
    while position < len(value):
        match = _TAG.match(value, position)
        if match is None:
            token = value[position:].split(",", 1)[0].strip()
            if token and '"' not in token:
                tags.add(f'"{token}"')
            position = value.find(",", position)
            if position < 0:
                break
            position += 1
            continue
        if not match.group(1):
            tags.add(f'"{match.group(2)}"')
        position = match.end()
    return Precondition(tags=frozenset(tags))


async def if_match(
    value: Annotated[
        str | None,
        Header(alias="If-Match", description="The ETag of the version this change is based on"),
    ] = None,
) -> Precondition:
    if value is None:
        raise PreconditionRequired(
            "this resource is versioned: send If-Match with the ETag you last read"
        )
    return parse_if_match(value)


IfMatchDep = Annotated[Precondition, Depends(if_match)]

ETAG_RESPONSES: dict[int | str, dict[str, Any]] = {
    412: {"description": "If-Match does not name the current version"},
    428: {"description": "If-Match is required"},
}


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def set_application_etag(response: Response, view: ApplicationView) -> None:
    """An application's tag is a function of exactly what the caller sees (``view_etag``)."""
    tag = view_etag(view)
    if tag is not None:
        response.headers["ETag"] = tag
