"""The JSON access line: structlog's fields and format, written in batches at most
``FLUSH_SECONDS`` late from an event loop, at once outside one, and never lost at shutdown."""

import asyncio
import io
import json
import logging
import socket
import threading
import time
from typing import Any

import httpx
import pytest
import uvicorn

from api.middleware import EdgeMiddleware
from infra.logging import FLUSH_LINES, FLUSH_SECONDS, access_log, configure_logging


@pytest.fixture
def stream(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    buffer = io.StringIO()
    monkeypatch.setattr("sys.stderr", buffer)
    configure_logging(json_logs=True)
    return buffer


def write(n: int) -> None:
    access_log.write(request_id=f"r{n}", method="GET", path=f"/p/{n}", status=200, ms=1.5)


def test_a_line_has_structlogs_fields(stream: io.StringIO) -> None:
    write(1)  # no event loop: written at once
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry.pop("timestamp").endswith("Z")
    assert entry == {
        "method": "GET",
        "path": "/p/1",
        "status": 200,
        "ms": 1.5,
        "event": "request",
        "request_id": "r1",
        "level": "info",
    }


def test_a_line_is_what_json_dumps_makes_of_it(stream: io.StringIO) -> None:
    odd = ['/a "quoted" path\\with\tcontrol\x01 and ünïcode', "/p/1"]
    for path in odd:
        access_log.write(request_id="r-1.x:y", method="PATCH", path=path, status=404, ms=0.1)
    for path, line in zip(odd, stream.getvalue().splitlines(), strict=True):
        entry = json.loads(line)
        assert line == json.dumps(
            {
                "method": "PATCH",
                "path": path,
                "status": 404,
                "ms": 0.1,
                "event": "request",
                "request_id": "r-1.x:y",
                "level": "info",
                "timestamp": entry["timestamp"],
            }
        )


def test_lines_of_a_loop_are_written_together_soon_and_in_order(stream: io.StringIO) -> None:
    async def serve() -> list[str]:
        for n in range(5):
            write(n)
        waiting = stream.getvalue()
        await asyncio.sleep(FLUSH_SECONDS * 3)
        return [waiting, stream.getvalue()]

    waiting, written = asyncio.run(serve())
    assert waiting == ""
    assert [json.loads(line)["request_id"] for line in written.splitlines()] == [
        f"r{n}" for n in range(5)
    ]


def test_many_lines_are_written_without_waiting(stream: io.StringIO) -> None:
    async def serve() -> str:
        for n in range(FLUSH_LINES):
            write(n)
        return stream.getvalue()

    assert len(asyncio.run(serve()).splitlines()) == FLUSH_LINES


def test_waiting_lines_are_written_at_shutdown_and_when_logging_changes(
    stream: io.StringIO,
) -> None:
    async def serve() -> None:
        write(1)

    asyncio.run(serve())  # the loop ends before its flush is due
    assert stream.getvalue() == ""
    access_log.flush()  # what the app's lifespan does at shutdown (and atexit)
    assert len(stream.getvalue().splitlines()) == 1

    asyncio.run(serve())
    configure_logging(json_logs=True)
    assert len(stream.getvalue().splitlines()) == 2


def test_a_flush_lost_with_its_loop_does_not_hold_later_lines(
    stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def first() -> None:
        write(1)

    async def later() -> str:
        write(2)
        await asyncio.sleep(FLUSH_SECONDS * 3)
        return stream.getvalue()

    asyncio.run(first())  # its loop ends: that flush never runs
    # More than a second later, another loop's line finds the flush overdue and schedules one.
    monkeypatch.setattr(access_log, "_due", access_log._due - 5)
    written = asyncio.run(later())
    assert [json.loads(line)["request_id"] for line in written.splitlines()] == ["r1", "r2"]


@pytest.mark.parametrize(
    ("nanoseconds", "expected"),
    [
        (1_764_411_081_701_416_999, "2025-11-29T10:11:21.701416Z"),
        (1_764_411_081_000_000_000, "2025-11-29T10:11:21Z"),  # no fraction, as isoformat
        (1_764_411_081_000_001_000, "2025-11-29T10:11:21.000001Z"),
    ],
)
def test_the_timestamp_is_structlogs_iso_utc(
    stream: io.StringIO, monkeypatch: pytest.MonkeyPatch, nanoseconds: int, expected: str
) -> None:
    from datetime import UTC, datetime

    monkeypatch.setattr("time.time_ns", lambda: nanoseconds)
    write(1)
    stamp = json.loads(stream.getvalue())["timestamp"]
    assert stamp == expected
    moment = datetime.fromtimestamp(nanoseconds // 1000 / 1_000_000, UTC)
    assert stamp == moment.isoformat().replace("+00:00", "Z")  # structlog's own formula
    monkeypatch.setattr("time.time_ns", lambda: nanoseconds + 3_600_000_000_000)
    write(2)  # another second: its own text, not the one remembered
    later = json.loads(stream.getvalue().splitlines()[-1])["timestamp"]
    assert later == expected.replace("T10:", "T11:")


async def _hello(_scope: Any, _receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"hello"})


def _app_factory() -> Any:
    configure_logging(json_logs=True)  # as create_app does, once uvicorn has set up its logging
    return EdgeMiddleware(_hello, max_bytes=1024)


@pytest.mark.parametrize(
    "options",
    [
        # As `shortlist serve` runs it: uvicorn's access log off, its log config left alone.
        {"access_log": False, "log_config": None, "log_level": "info"},
        # As `uvicorn api.app:app_from_env --factory` runs it: uvicorn's default handlers.
        {"log_level": "info"},
    ],
)
def test_a_served_request_has_one_access_line(
    stream: io.StringIO, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    """The edge writes the access line; uvicorn's own stays quiet, however uvicorn was told to
    log (the app's logging set-up once made uvicorn's propagate to our handler: two lines)."""
    monkeypatch.setattr("sys.stderr", stream)  # (pytest's capture replaced it since the fixture)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(_app_factory, factory=True, lifespan="off", **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/a/path"
        assert httpx.get(url, timeout=10).text == "hello"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
    access_log.flush()
    assert not logging.getLogger("uvicorn.access").hasHandlers()
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    access = [e for e in entries if e["event"] == "request" or e.get("logger") == "uvicorn.access"]
    assert [(e["event"], e.get("path")) for e in access] == [("request", "/a/path")]
