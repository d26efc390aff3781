"""Structured logs (JSON outside development) and the request-id middleware, which also turns any
unexpected exception into a 500 problem without a trace in the body."""

import logging
import re
import sys
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import PROBLEM_JSON

REQUEST_ID_HEADER = b"x-request-id"
_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

log = structlog.get_logger("shortlist")


def configure_logging(*, json_logs: bool, level: str = "INFO") -> None:
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    if json_logs:
        processors += [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    else:
        processors += [structlog.dev.ConsoleRenderer()]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        # One write (and one flush) per line; print would write the newline separately.
        logger_factory=structlog.WriteLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


_INTERNAL_ERROR = (
    b'{"type":"internal-error","title":"Internal Server Error","status":500,'
    b'"detail":"an unexpected error occurred; quote the request id to the operator"}'
)


class RequestContextMiddleware:
    """Gives every request an id (``X-Request-ID``, echoed when the client sent a safe one), logs
    access lines, and answers unexpected exceptions with a bare 500 problem."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope.get("headers", ()):
            if name == REQUEST_ID_HEADER:
                candidate = value.decode("latin-1")
                if _SAFE_REQUEST_ID.match(candidate):
                    request_id = candidate
                break
        request_id = request_id or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status_holder = {"status": 0, "started": False}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = True
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != REQUEST_ID_HEADER
                ]
                headers.append((REQUEST_ID_HEADER, request_id.encode()))
                message["headers"] = headers
            await send(message)

        with structlog.contextvars.bound_contextvars(request_id=request_id):
            try:
                await self.app(scope, receive, send_with_id)
            except Exception as exc:
                # The type and the place only: messages and tracebacks can carry secrets
                # (a DSN's password, a token) and never go to the log.
                frame = exc.__traceback__
                while frame is not None and frame.tb_next is not None:
                    frame = frame.tb_next
                log.error(
                    "unhandled_exception",
                    method=scope.get("method"),
                    path=scope.get("path"),
                    error_type=type(exc).__name__,
                    where=(
                        f"{frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}"
                        if frame is not None
                        else None
                    ),
                )
                if not status_holder["started"]:
                    await send_with_id(
                        {
                            "type": "http.response.start",
                            "status": 500,
                            "headers": [
                                (b"content-type", PROBLEM_JSON.encode()),
                                (b"content-length", str(len(_INTERNAL_ERROR)).encode()),
                            ],
                        }
                    )
                    await send_with_id({"type": "http.response.body", "body": _INTERNAL_ERROR})
                status_holder["status"] = 500
            finally:
                log.info(
                    "request",
                    method=scope.get("method"),
                    path=scope.get("path"),
                    status=status_holder["status"],
                    ms=round((time.perf_counter() - started) * 1000, 2),
                )
