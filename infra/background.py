"""Stopping the background tasks of a lifespan (job loops, wake-ups, in-process workers) for sure.

A library call that swallows a cancellation only delays the stop here: seen on PostgreSQL, the
webhook wake-up loop cancelled while a procrastinate query was under way went on looping, and
the app's shutdown waited for it for ever (a test client's exit hung one run in three)."""

import asyncio
from collections.abc import Iterable
from typing import Any

RECANCEL_SECONDS = 0.5


async def stop_tasks(tasks: Iterable["asyncio.Task[Any]"]) -> None:
    """Cancel each task and wait until all have ended, cancelling again every
    ``RECANCEL_SECONDS`` those still running; then raise the first failure other than the
    cancellation, as awaiting each task would have."""
    started = list(tasks)
    pending = set(started)
    for task in pending:
        task.cancel()
    while pending:
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_SECONDS)
        for task in pending:
            task.cancel()
    for task in started:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


async def stop_worker(task: "asyncio.Task[Any]", *, grace: float = 10.0) -> None:
    """Cancel a job library's worker and wait for it: its cancellation starts a graceful
    shutdown that lets the running job finish, which cancelling again at once would cut short
    (the job then left as if its worker had died). After ``grace`` seconds it is cancelled
    again until it ends (``stop_tasks``), so that a swallowed cancellation cannot hold the
    app's shutdown for ever. Other failures are raised."""
    task.cancel()
    await asyncio.wait({task}, timeout=grace)
    await stop_tasks([task])
