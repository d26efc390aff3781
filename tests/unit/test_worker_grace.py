"""Each in-process job worker (webhooks, text affinity, scans) is stopped with a wait longer than
its own graceful shutdown: ``stop_worker`` must not cancel it again while procrastinate still
lets the running job finish (the webhook worker allowed 15 s and was cut at 10 s). One constant
per worker feeds both; a fake procrastinate app records what the worker was given, without a
database."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, cast

import pytest
import sqlalchemy as sa

import infra.background
from infra import webhooks
from infra.jobs import affinity, postgres
from infra.webhooks import ProcrastinateWebhooks, WebhookDeliveries
from notifications.webhooks import TIMEOUT_SECONDS, UrlPolicy

URL = "postgresql+psycopg://nobody@127.0.0.1:1/none"  # never connected to


class FakeApp:
    """What ``running`` and ``work`` use of a procrastinate app."""

    def __init__(self) -> None:
        self.graceful: list[float] = []

    @contextlib.asynccontextmanager
    async def open_async(self) -> AsyncIterator[None]:
        yield

    async def run_worker_async(self, **options: Any) -> None:
        self.graceful.append(options["shutdown_graceful_timeout"])
        await asyncio.Event().wait()  # until cancelled


def _clock() -> datetime:
    return datetime.now(UTC)


async def _idle() -> None:
    await asyncio.Event().wait()


def _webhooks() -> tuple[Any, ModuleType, str]:
    deliveries = WebhookDeliveries(
        engine=sa.create_engine("sqlite://"),
        policy=UrlPolicy(resolve=lambda _h: []),
        clock=_clock,
    )
    jobs = ProcrastinateWebhooks(database_url=URL, deliveries=deliveries)
    jobs._wake = _idle  # type: ignore[method-assign]  # no database to defer into
    return jobs, webhooks, "webhook-worker"


def _affinity() -> tuple[Any, ModuleType, str]:
    work = affinity.AffinityWork(
        engine=sa.create_engine("sqlite://"), store=cast(Any, None), clock=_clock
    )
    return affinity.ProcrastinateAffinity(database_url=URL, work=work), affinity, "affinity-worker"


def _scans() -> tuple[Any, ModuleType, str]:
    jobs = postgres.ProcrastinateScans(
        database_url=URL,
        engine=sa.create_engine("sqlite://"),
        store=cast(Any, None),
        scanner=cast(Any, None),
        clock=_clock,
    )
    return jobs, postgres, "procrastinate-worker"


@pytest.mark.parametrize(
    "make", [_webhooks, _affinity, _scans], ids=["webhooks", "affinity", "scans"]
)
def test_a_worker_is_stopped_after_more_than_its_own_graceful_shutdown(
    make: Callable[[], tuple[Any, ModuleType, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    jobs, module, worker_name = make()
    app = FakeApp()
    jobs.app = app
    first_waits: dict[str, float] = {}
    stop = infra.background._stop

    async def recording(tasks: Any, *, first_wait: float) -> None:
        tasks = list(tasks)
        for task in tasks:
            first_waits[task.get_name()] = first_wait
        await stop(tasks, first_wait=first_wait)

    monkeypatch.setattr(infra.background, "_stop", recording)

    async def main() -> None:
        async with jobs.running():
            while not app.graceful:
                await asyncio.sleep(0)

    asyncio.run(asyncio.wait_for(main(), 30))
    (graceful,) = app.graceful
    assert graceful == module.WORKER_GRACE_SECONDS
    assert first_waits[worker_name] > graceful


def test_the_webhook_worker_waits_out_a_request_timeout() -> None:
    """A delivery pass in flight at shutdown may be waiting on a receiver for the request
    timeout: the worker's grace covers it."""
    assert webhooks.WORKER_GRACE_SECONDS > TIMEOUT_SECONDS
