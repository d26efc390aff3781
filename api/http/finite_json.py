"""Non-finite numbers are refused in every JSON body, at the edge, before any route sees it.

Python's ``json`` reads the literals ``NaN``, ``Infinity`` and ``-Infinity`` (which JSON does not
have), and a number too large for a double (``1e999``) becomes an infinity. Such a value would
reach any field, typed or not (``dict[str, Any]``, nested lists), so it is refused here for
every request body FastAPI would read as JSON: 422, with the place of each such number in
``errors[].loc`` as a validation error would name it (``["body", "scores", "tech"]``). Input
models refuse them too (``InputModel``: ``allow_inf_nan=False``), for callers other than HTTP.

Only bodies whose text could hold such a number are parsed (``_SUSPECT``); the rest, and every
request without a JSON body, pass untouched.
"""

import json
import math
import re
import sys
from collections import deque
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import validation_problem

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
NOT_FINITE = "Input should be a finite number"
MAX_ERRORS = 20
_SUSPECT = re.compile(rb"NaN|Infinity|[0-9][eE]|[0-9]{309}")
"""What a JSON text holding a non-finite number must contain: one of the literals, an exponent,
or an integer part too long for a double (309 digits and more). Anything else parses finite."""
_LARGEST = int(sys.float_info.max)
"""Integers beyond this overflow a double (as a float they would be ``inf``)."""


def is_json(content_type: bytes | None) -> bool:
    """Whether FastAPI reads a body of this media type as JSON (``application/json`` or
    ``application/*+json``; a body without a content type is not read as JSON)."""
    if not content_type:
        return False
    media = content_type.split(b";", 1)[0].strip().lower()
    main, _, sub = media.partition(b"/")
    return main == b"application" and (sub == b"json" or sub.endswith(b"+json"))


def non_finite_numbers(body: bytes) -> list[dict[str, Any]]:
    """The validation errors (``loc``, ``msg``) of every non-finite number in a JSON text; none
    when there are none, or when the text is not JSON at all (FastAPI reports that)."""
    if not _SUSPECT.search(body):
        return []
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return []
    errors: list[dict[str, Any]] = []
    # Iteratively: a deeply nested document must not exhaust the stack here.
    pending: list[tuple[Any, tuple[str | int, ...]]] = [(document, ("body",))]
    while pending and len(errors) < MAX_ERRORS:
        value, loc = pending.pop()
        if isinstance(value, dict):
            pending.extend((item, (*loc, key)) for key, item in reversed(value.items()))
        elif isinstance(value, list):
            pending.extend((item, (*loc, i)) for i, item in reversed(list(enumerate(value))))
        elif (isinstance(value, float) and not math.isfinite(value)) or (
            type(value) is int and abs(value) > _LARGEST
        ):
            errors.append({"loc": list(loc), "msg": NOT_FINITE})
    return errors


class FiniteJsonBodies:
    """ASGI middleware: a JSON request body holding a non-finite number is answered 422 here;
    any other request goes on unchanged (a JSON body is read first, then handed on as read).
    Bodies over ``max_bytes`` (which only upload paths may send) are handed on unread."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), None)
        if not is_json(content_type):
            await self.app(scope, receive, send)
            return
        read: deque[Message] = deque()
        size = 0
        complete = False
        while True:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if not message.get("more_body", False):
                complete = True
                break
            if size > self.max_bytes:
                break
        if complete:
            body = b"".join(m.get("body", b"") for m in read)
            errors = non_finite_numbers(body)
            if errors:
                await validation_problem(errors)(scope, receive, send)
                return
            read = deque([{"type": "http.request", "body": body, "more_body": False}])

        async def replay() -> Message:
            return read.popleft() if read else await receive()

        await self.app(scope, replay, send)
