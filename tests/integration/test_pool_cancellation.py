"""A task cancelled as psycopg_pool hands it a connection is cancelled (``infra.pgpool``).

On Python 3.11 the plain ``AsyncConnectionPool.getconn`` swallows a cancellation that lands
within a few turns of the event loop after another task's ``putconn`` handed the waiting task
its connection (``asyncio.wait_for``, CPython gh-86296; psycopg/psycopg#1413): the webhook
wake-up loop went on after its cancellation at shutdown that way. The event loop runs the
hand-over the same way every time, so the cancellation is sent after 0, 1, 2 ... turns of the
loop and one of them lands in that window (found: 0 to 2 turns, psycopg_pool 3.3.3)."""

import asyncio
import sys
from typing import Any, Literal

import pytest
from psycopg_pool import AsyncConnectionPool

from infra.jobs.postgres import procrastinate_conninfo
from infra.pgpool import CancelSafePool

pytestmark = pytest.mark.postgres

Outcome = Literal["cancelled", "had its connection first", "swallowed"]


async def cancel_as_a_connection_is_handed_over(
    pool: AsyncConnectionPool[Any], turns: int
) -> Outcome:
    """A task waits for the pool's only connection; its holder gives it back, and the waiting
    task is cancelled ``turns`` turns of the event loop later."""
    holder = await pool.getconn()
    cancel_requests_when_connected: list[int] = []

    async def wait_for_a_connection() -> None:
        connection = await pool.getconn(timeout=10)
        task = asyncio.current_task()
        assert task is not None
        cancel_requests_when_connected.append(task.cancelling())
        await pool.putconn(connection)

    waiting = asyncio.create_task(wait_for_a_connection())
    for _ in range(100):
        await asyncio.sleep(0)
        if pool.get_stats().get("requests_waiting"):
            break
    assert pool.get_stats().get("requests_waiting") == 1
    await pool.putconn(holder)
    for _ in range(turns):
        await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    if waiting.cancelled() and not cancel_requests_when_connected:
        return "cancelled"
    if cancel_requests_when_connected == [0]:
        return "had its connection first"
    return "swallowed"


@pytest.mark.parametrize(
    "pool_class",
    [
        CancelSafePool,
        pytest.param(
            AsyncConnectionPool,
            marks=pytest.mark.xfail(
                sys.version_info < (3, 12),
                reason="asyncio.wait_for swallows it on 3.11 (psycopg/psycopg#1413)",
                strict=True,
            ),
        ),
    ],
)
def test_a_cancellation_as_a_connection_is_handed_over_is_delivered(
    database_url: str, pool_class: type[AsyncConnectionPool[Any]]
) -> None:
    async def main() -> tuple[list[Outcome], int]:
        pool = pool_class(procrastinate_conninfo(database_url), min_size=1, max_size=1, open=False)
        await pool.open(wait=True)
        try:
            outcomes = [await cancel_as_a_connection_is_handed_over(pool, n) for n in range(6)]
            async with pool.connection(timeout=5) as connection:
                row = await (await connection.execute("SELECT 1")).fetchone()
            assert row == (1,)
            return outcomes, pool.get_stats()["pool_available"]
        finally:
            await pool.close()

    outcomes, available = asyncio.run(main())
    assert "swallowed" not in outcomes, outcomes
    assert outcomes[0] == "cancelled"  # the race was met, not stepped around
    assert available == 1  # the cancelled waiter's connection went back to the pool
