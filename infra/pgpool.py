"""psycopg_pool's asynchronous pool, made to deliver the cancellations it loses on Python 3.11.

A task that waits in ``getconn`` for a connection (every connection in use, or the pool still
growing) waits in ``asyncio.wait_for`` (psycopg_pool's ``ACondition.wait_timeout``, as does
``wait`` for the pool to fill). On Python 3.11, when the task is cancelled just as that wait
ends (a connection handed to it by another task's ``putconn`` or by the pool's growth, within
the same few turns of the event loop), ``wait_for`` returns instead of raising: the cancellation
is swallowed, ``getconn`` returns the connection and the task carries on as if it had never been
cancelled (CPython gh-86296; ``wait_for`` was rewritten on ``asyncio.timeout`` in 3.12, not
backported). psycopg will not work around it (psycopg/psycopg#1413; #1345 is this very race).

Seen here at lifespan exits on PostgreSQL, each time in a wait for a connection of a
procrastinate app's pool: the webhook wake-up loop (its ``defer``) and recovery loop (its
``recover_stalled``) went on looping until ``infra.background.stop_tasks`` cancelled them again
(before that, the app's shutdown hung for ever), and the in-process worker, cancelled in
procrastinate's ``prune_stalled_workers`` as it started, ran on until ``stop_worker``'s grace
was out.

``CancelSafePool`` re-raises such a cancellation where it was swallowed: after ``getconn`` (the
connection goes back to the pool) or ``wait``, if the task's count of cancellation requests
(``Task.cancelling``) grew meanwhile, nothing delivered it. Every asynchronous pool of the
service is one: the reader's (``infra.db.LoopReader``) and each procrastinate app's
(``procrastinate_connector`` in ``infra.jobs.postgres``).
"""

import asyncio
from typing import Any

from psycopg_pool import AsyncConnectionPool


def _cancel_requests() -> int:
    task = asyncio.current_task()
    return task.cancelling() if task is not None else 0


class CancelSafePool(AsyncConnectionPool[Any]):
    """An ``AsyncConnectionPool`` whose ``getconn`` and ``wait`` raise the cancellation that
    ``asyncio.wait_for`` swallowed under them on Python 3.11 (a no-op on later versions).

    ``lent`` counts the connections handed out and not yet returned: a ``PoolTimeout`` while
    all ``max_size`` are lent means the pool is busy (the database answers those), not that the
    database is unreachable (``infra.db.LoopReader``)."""

    lent = 0

    async def getconn(self, timeout: float | None = None) -> Any:
        requests = _cancel_requests()
        connection = await super().getconn(timeout)
        self.lent += 1
        if _cancel_requests() > requests:
            await self.putconn(connection)
            raise asyncio.CancelledError("cancelled while the pool handed over a connection")
        return connection

    async def putconn(self, conn: Any) -> None:
        self.lent -= 1
        await super().putconn(conn)

    async def wait(self, timeout: float = 30.0) -> None:
        requests = _cancel_requests()
        await super().wait(timeout)
        if _cancel_requests() > requests:
            raise asyncio.CancelledError("cancelled while the pool filled")
