"""The JSON access line: structlog's fields and format, written in batches at most
``FLUSH_SECONDS`` late from an event loop, at once outside one, and never lost at shutdown."""

import asyncio
import io
import json

import pytest

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
