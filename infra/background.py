"""Stopping the background tasks of a lifespan (job loops, wake-ups, in-process workers) for sure.

A library call that swallows a cancellation would make a loop go on for ever, and the app's
shutdown wait for it: seen on PostgreSQL with the webhook wake-up loop, whose wait for a
connection of psycopg_pool's pool swallowed it (``asyncio.wait_for`` on Python 3.11, see
``infra.pgpool``, which now delivers it). A task that has not ended some time after its
cancellation is cancelled again until it ends, and a warning names it, where its first
cancellation found it (the call that swallowed it) and where it is now, so that a new
swallower shows in the logs instead of as a hang."""

import asyncio
from collections.abc import Iterable
from typing import Any

import structlog

log = structlog.get_logger("shortlist.background")

RECANCEL_SECONDS = 0.5
STOP_MARGIN_SECONDS = 5.0
"""How much longer than a worker's own graceful shutdown ``stop_worker`` waits before cancelling
it again: time for the worker to record the jobs it cut short at the end of its grace."""


def where(task: "asyncio.Task[Any]") -> list[str]:
    """Where ``task`` is suspended, outermost first (``file:line function``): its coroutine and
    every coroutine, generator or asynchronous generator under it, through ``async with`` of
    an ``asynccontextmanager`` too (``Task.get_stack`` gives only the first)."""
    frames: list[str] = []
    awaited: Any = task.get_coro()
    last = None
    while awaited is not None and len(frames) < 100:
        frame = None
        for prefix in ("cr", "gi", "ag"):
            frame = getattr(awaited, f"{prefix}_frame", None)
            if frame is not None:
                awaited = getattr(awaited, f"{prefix}_await", None) or getattr(
                    awaited, f"{prefix}_yieldfrom", None
                )
                break
        if frame is None:
            # The step of an asynchronous generator (an asynccontextmanager's __aenter__ or
            # __aexit__ awaiting it) shows no frame: go on with the generator itself.
            generator = getattr(last.f_locals.get("self"), "gen", None) if last else None
            if getattr(generator, "ag_frame", None) is None:
                break
            awaited, last = generator, None
            continue
        last = frame
        frames.append(f"{frame.f_code.co_filename}:{frame.f_lineno} {frame.f_code.co_name}")
    return frames


async def _stop(tasks: Iterable["asyncio.Task[Any]"], *, first_wait: float) -> None:
    started = list(tasks)
    if not started:
        return
    cancelled_at = {task: where(task) for task in started}
    for task in started:
        task.cancel()
    _, pending = await asyncio.wait(started, timeout=first_wait)
    for task in pending:
        log.warning(
            "background.cancelled_again",
            task=task.get_name(),
            waited_seconds=first_wait,
            cancelled_at=cancelled_at[task],
            running_at=where(task),
        )
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=RECANCEL_SECONDS)
    for task in started:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]


async def stop_tasks(tasks: Iterable["asyncio.Task[Any]"]) -> None:
    """Cancel each task and wait until all have ended, cancelling again every
    ``RECANCEL_SECONDS`` those still running (with a warning, once per task: something under
    it swallowed the cancellation); then raise the first failure other than the cancellation,
    as awaiting each task would have."""
    await _stop(tasks, first_wait=RECANCEL_SECONDS)


async def stop_worker(task: "asyncio.Task[Any]", *, grace: float) -> None:
    """Cancel a job library's worker and wait for it: its cancellation starts a graceful
    shutdown that lets the running job finish for up to ``grace`` seconds (the worker's own
    setting, procrastinate's ``shutdown_graceful_timeout``: pass the same constant), which
    cancelling again sooner would cut short (the job then left as if its worker had died).
    After ``grace`` plus ``STOP_MARGIN_SECONDS`` it is cancelled again until it ends, with a
    warning (as ``stop_tasks``), so that a swallowed cancellation cannot hold the app's shutdown
    for ever. Other failures are raised."""
    await _stop([task], first_wait=grace + STOP_MARGIN_SECONDS)
