"""The route class of every router (``APIRouter(..., route_class=SessionRoute)``): a
synchronous route gives its request's database connection back in its own worker thread.

FastAPI runs a synchronous route in a worker thread, validates its answer in a second one, and
closes the request's session (``api.deps.get_session``) only after that. A session that kept
its connection until then (a read leaves its transaction open) waited for a free worker thread
while holding it, and under a burst every worker thread could be a newer request waiting for
a connection from the pool: nothing moved until the pool's timeout failed those requests with
500 (``make stack``'s deadline storm; ``tests/integration/test_pool_and_threads.py``). Closed
as the route returns or raises, a session holds a connection only while a thread works with
it. The routes answer with their typed views (``models/``), never with rows still to load, so
nothing reads through the session after it; a session closed this way may still be used again
(it takes a new connection), so nothing breaks if something does.
"""

import functools
import inspect
from collections.abc import Callable
from typing import Any

from fastapi.routing import APIRoute
from sqlmodel import Session


def closing_sessions(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` that closes every session it was given when it returns or raises."""

    @functools.wraps(endpoint)  # FastAPI reads the parameters through ``__wrapped__``
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return endpoint(*args, **kwargs)
        finally:
            for value in (*args, *kwargs.values()):
                if isinstance(value, Session):
                    value.close()

    return run


def _synchronous(endpoint: Callable[..., Any]) -> bool:
    return inspect.isfunction(endpoint) and not (
        inspect.iscoroutinefunction(endpoint)
        or inspect.isgeneratorfunction(endpoint)
        or inspect.isasyncgenfunction(endpoint)
    )


class SessionRoute(APIRoute):
    """An ``APIRoute`` whose synchronous endpoint closes its sessions in its own thread (an
    ``async`` route manages its own: see ``api/routes/documents.py``)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if _synchronous(endpoint):
            endpoint = closing_sessions(endpoint)
        super().__init__(path, endpoint, **kwargs)
