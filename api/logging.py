"""Structured logs (JSON outside development) and the access line of every request."""

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

import structlog

log = structlog.get_logger("shortlist")


class _AccessLog:
    """Where access lines go, as ``configure_logging`` last said. In JSON mode a line is written
    straight, with the fields and format structlog would give it (request id, method, path,
    status, ms, event, level, ISO timestamp): through structlog's processor chain it cost a point
    read 10% of its time. In development it goes through structlog's console renderer."""

    def __init__(self) -> None:
        self.enabled = True
        self.json = False
        self.stream: TextIO = sys.stderr

    def write(self, *, request_id: str, method: str, path: str, status: int, ms: float) -> None:
        if not self.enabled:
            return
        if not self.json:
            log.info("request", method=method, path=path, status=status, ms=ms)
            return
        line = json.dumps(
            {
                "method": method,
                "path": path,
                "status": status,
                "ms": ms,
                "event": "request",
                "request_id": request_id,
                "level": "info",
                "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
        )
        self.stream.write(line + "\n")
        self.stream.flush()


access_log = _AccessLog()


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
    threshold = logging.getLevelName(level.upper())
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(threshold),
        # One write (and one flush) per line; print would write the newline separately.
        logger_factory=structlog.WriteLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    access_log.enabled = threshold <= logging.INFO
    access_log.json = json_logs
    access_log.stream = sys.stderr
