"""Structured logs (JSON outside development) and the access line of every request.

Every line carries the request's id and, while a span is recorded (``SHORTLIST_OTLP_ENDPOINT``),
its trace and span ids. The lines of libraries that log through the standard library (uvicorn,
procrastinate, alembic, psycopg's pool) go through the same renderer, so a process writes one
format only."""

import asyncio
import atexit
import logging
import sys
import threading
import time
from collections.abc import MutableMapping
from contextvars import ContextVar
from datetime import UTC, datetime
from json.encoder import encode_basestring_ascii
from typing import Any, TextIO

import structlog

from infra.telemetry import current_trace_ids

log = structlog.get_logger("shortlist")
LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "procrastinate", "alembic")
SILENCED_LOGGERS = ("uvicorn.access",)
"""Loggers kept quiet: the edge middleware writes the one access line of each request
(``access_log``), so uvicorn's own would be a second line for every request."""


FLUSH_SECONDS = 0.05
"""How long a JSON access line may wait to be written with the lines after it."""
FLUSH_LINES = 256


class _AccessLog:
    """Where access lines go, as ``configure_logging`` last said. In JSON mode a line is written
    straight, with the fields and format structlog would give it (request id, method, path,
    status, ms, event, level, ISO timestamp): through structlog's processor chain it cost a point
    read 10% of its time. Under load the lines of one event loop's tick are written together, at
    most ``FLUSH_SECONDS`` later (a write per line cost a served read ~8% of its throughput); at
    the app's shutdown and at exit, whatever waits is written. In development a line goes
    through structlog's console renderer, at once."""

    def __init__(self) -> None:
        self.enabled = True
        self.json = False
        self.stream: TextIO = sys.stderr
        self._pending: list[str] = []
        self._scheduled = False
        self._due = 0.0
        self._lock = threading.Lock()
        self._second: tuple[int, str] = (-1, "")

    def write(self, *, request_id: str, method: str, path: str, status: int, ms: float) -> None:
        if not self.enabled:
            return
        if not self.json:
            log.info("request", method=method, path=path, status=status, ms=ms)
            return
        # What json.dumps makes of the dict {method, path, status, ms, event, request_id, level,
        # timestamp} (a test compares), without building the dict: the strings that may need
        # escaping through json.dumps, the int, the float and the timestamp as they print.
        # (json.dumps of a str is encode_basestring_ascii's answer: called straight, it skips
        # the encoder's set-up.)
        quote = encode_basestring_ascii
        ids = current_trace_ids()
        traced = f', "trace_id": "{ids[0]}", "span_id": "{ids[1]}"' if ids else ""
        line = (
            f'{{"method": {quote(method)}, "path": {quote(path)}, "status": {int(status)}, '
            f'"ms": {float(ms)!r}, "event": "request", "request_id": {quote(request_id)}'
            f'{traced}, "level": "info", "timestamp": "{self._timestamp()}"}}'
        )
        now = time.monotonic()
        with self._lock:
            self._pending.append(line + "\n")
            if len(self._pending) < FLUSH_LINES:
                if self._scheduled and now < self._due + 1.0:
                    return  # (a flush due more than a second ago was lost with its loop)
                try:
                    loop = asyncio.get_running_loop()
                except RuntimeError:
                    loop = None
                if loop is not None:
                    self._scheduled, self._due = True, now + FLUSH_SECONDS
                    loop.call_later(FLUSH_SECONDS, self.flush)
                    return
        self.flush()

    def _timestamp(self) -> str:
        """Now in UTC as structlog's ``TimeStamper(fmt="iso", utc=True)`` writes it (ISO 8601,
        microseconds unless zero, ``Z``); the part up to the second is formatted once a second."""
        second, fraction = divmod(time.time_ns() // 1000, 1_000_000)
        cached = self._second  # (second, its text), replaced whole: safe across threads
        if cached[0] != second:
            cached = self._second = (
                second,
                datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"),
            )
        return f"{cached[1]}.{fraction:06d}Z" if fraction else f"{cached[1]}Z"

    def flush(self) -> None:
        """Write the lines that wait."""
        with self._lock:
            lines, self._pending, self._scheduled = self._pending, [], False
        if lines:
            self.stream.write("".join(lines))
            self.stream.flush()


access_log = _AccessLog()
atexit.register(access_log.flush)


REQUEST_ID: ContextVar[str | None] = ContextVar("shortlist_request_id", default=None)
"""The id of the request being served (set by the edge middleware): every log line made while
serving it carries it. (One context variable of its own: structlog's ``bind_contextvars`` and
``reset_contextvars`` cost every request about a microsecond more.)"""


def _add_request_id(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    request_id = REQUEST_ID.get()
    if request_id is None:
        return event
    return {"request_id": request_id, **event}  # first, as merge_contextvars puts its own


def _add_trace_id(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> Any:
    ids = current_trace_ids()
    if ids is not None:
        event["trace_id"], event["span_id"] = ids
    return event


class _LibraryHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The root logger's handler that ``configure_logging`` installs (and replaces)."""


def _route_library_logs(renderer: Any, threshold: int) -> None:
    """The standard library's records, through structlog's renderer, on stderr."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.stdlib.add_logger_name,
            _add_request_id,
            _add_trace_id,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = _LibraryHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _LibraryHandler)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(threshold)
    for name in LIBRARY_LOGGERS:
        # Their own handlers (uvicorn's default config) would print plain text beside ours.
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True
    for name in SILENCED_LOGGERS:
        # No handler and no propagation: uvicorn sees none (``hasHandlers``) and does not even
        # format its line, whatever its ``access_log`` flag (which ``shortlist serve`` sets off,
        # but which propagating to our root handler above would turn back on).
        silenced = logging.getLogger(name)
        silenced.handlers.clear()
        silenced.propagate = False


def configure_logging(*, json_logs: bool, level: str = "INFO") -> None:
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        _add_request_id,
        _add_trace_id,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any
    if json_logs:
        renderer = structlog.processors.JSONRenderer()
        processors += [structlog.processors.format_exc_info, renderer]
    else:
        renderer = structlog.dev.ConsoleRenderer()
        processors += [renderer]
    threshold = logging.getLevelName(level.upper())
    _route_library_logs(renderer, threshold)
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        # One write (and one flush) per line; print would write the newline separately.
        logger_factory=structlog.WriteLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    access_log.flush()
    access_log.enabled = threshold <= logging.INFO
    access_log.json = json_logs
    access_log.stream = sys.stderr
