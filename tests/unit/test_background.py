"""infra.background.stop_tasks: a lifespan's background tasks end even when a library call
under them swallows the first cancellation."""

import asyncio

import pytest

from infra.background import stop_tasks


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
