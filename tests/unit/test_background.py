"""infra.background.stop_tasks: a lifespan's background tasks end even when a library call
under them swallows the first cancellation, and the swallowing shows in a warning."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest

from infra.background import stop_tasks, stop_worker, where
from tests.factories import RecordedLog


def test_a_task_that_swallows_a_cancellation_is_still_stopped() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                if swallowed == 0:  # as a library call that catches it and carries on
                    swallowed += 1
                    task = asyncio.current_task()
                    assert task is not None
                    task.uncancel()
                    continue
                raise

    async def main() -> asyncio.Task[None]:
        task = asyncio.create_task(stubborn())
        await asyncio.sleep(0)
        await stop_tasks([task])
        return task

    task = asyncio.run(asyncio.wait_for(main(), 30))
    assert task.cancelled()
    assert swallowed == 1


def test_a_failure_other_than_the_cancellation_is_raised() -> None:
    async def failing() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            raise RuntimeError("cleanup failed") from None

    async def quiet() -> None:
        await asyncio.sleep(60)

    async def main() -> None:
        tasks = [asyncio.create_task(quiet()), asyncio.create_task(failing())]
        await asyncio.sleep(0)
        await stop_tasks(tasks)

    with pytest.raises(RuntimeError, match="cleanup failed"):
        asyncio.run(main())


def swallowing(times: int) -> tuple[Callable[[], Coroutine[Any, Any, None]], list[int]]:
    """A coroutine function that swallows its first ``times`` cancellations, as a library call
    that catches one and carries on; and the count of those swallowed."""
    swallowed = [0]

    async def library_call() -> None:
        while True:
            try:
                await asyncio.sleep(60)
            except asyncio.CancelledError:
                if swallowed[0] < times:
                    swallowed[0] += 1
                    continue
                raise

    async def loop() -> None:
        await library_call()

    return loop, swallowed


def test_a_second_cancellation_is_logged_once_with_where_the_first_landed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorded = RecordedLog()
    monkeypatch.setattr("infra.background.log", recorded)
    loop, swallowed = swallowing(times=2)

    async def main() -> asyncio.Task[None]:
        task = asyncio.create_task(loop(), name="stubborn-loop")
        quiet = asyncio.create_task(asyncio.sleep(60), name="quiet")
        await asyncio.sleep(0)
        await stop_tasks([task, quiet])
        return task

    task = asyncio.run(asyncio.wait_for(main(), 30))
    assert task.cancelled()
    assert swallowed == [2]
    assert recorded.events == ["background.cancelled_again"]
    (line,) = recorded.lines
    assert line["level"] == "warning"
    assert line["task"] == "stubborn-loop"
    assert [frame.rsplit(" ", 1)[1] for frame in line["cancelled_at"]] == [
        "loop",
        "library_call",
        "sleep",
    ]


def test_a_task_that_ends_at_its_cancellation_is_not_logged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorded = RecordedLog()
    monkeypatch.setattr("infra.background.log", recorded)
    loop, _ = swallowing(times=0)

    async def main() -> asyncio.Task[None]:
        task = asyncio.create_task(loop())
        await asyncio.sleep(0)
        await stop_tasks([task])
        return task

    assert asyncio.run(main()).cancelled()
    assert recorded.lines == []


def test_a_worker_that_swallows_its_cancellation_is_cancelled_again_after_its_grace(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recorded = RecordedLog()
    monkeypatch.setattr("infra.background.log", recorded)
    monkeypatch.setattr("infra.background.STOP_MARGIN_SECONDS", 0.0)
    loop, swallowed = swallowing(times=1)

    async def main() -> asyncio.Task[None]:
        task = asyncio.create_task(loop(), name="worker")
        await asyncio.sleep(0)
        await stop_worker(task, grace=0.05)
        return task

    task = asyncio.run(asyncio.wait_for(main(), 30))
    assert task.cancelled()
    assert swallowed == [1]
    assert recorded.events == ["background.cancelled_again"]
    assert recorded.lines[0]["task"] == "worker"


def test_where_follows_awaits_through_an_async_context_manager() -> None:
    @contextlib.asynccontextmanager
    async def opened() -> AsyncIterator[None]:
        await asyncio.sleep(60)
        yield

    async def query() -> None:
        async with opened():
            pass

    async def main() -> list[str]:
        task = asyncio.create_task(query())
        await asyncio.sleep(0)
        frames = where(task)
        await stop_tasks([task])
        return frames

    frames = asyncio.run(main())
    assert [frame.rsplit(" ", 1)[1] for frame in frames] == [
        "query",
        "__aenter__",
        "opened",
        "sleep",
    ]
