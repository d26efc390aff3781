"""Text affinity as procrastinate jobs on PostgreSQL (``infra.jobs.affinity``): deferred when
review starts and by the periodic pass, never computed twice for one round by two workers, and
never before the seal lifts (a job deferred for a sealed round computes nothing)."""

import asyncio
import contextlib
import time
import uuid

import anyio
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from infra.jobs.affinity import (
    COMPUTE_TASK,
    AffinityWork,
    ProcrastinateAffinity,
)
from models.reviewers import AffinityComputation, RoundAffinity
from tests.api.affinity_world import TopicRound

pytestmark = pytest.mark.postgres


def worker_for(app: FastAPI) -> ProcrastinateAffinity:
    """Another process's own queue connection (as ``shortlist worker`` makes it)."""
    work = AffinityWork(
        engine=app.state.engine, store=app.state.blob_store, clock=lambda: app.state.clock()
    )
    return ProcrastinateAffinity(
        database_url=app.state.settings.database_url, work=work, in_process=False
    )


def counts(app: FastAPI) -> tuple[int, int]:
    """(computations stored, affinity rows stored)."""
    with app.state.engine.connect() as connection:
        runs = connection.execute(sa.select(sa.func.count()).select_from(AffinityComputation))
        rows = connection.execute(sa.select(sa.func.count()).select_from(RoundAffinity))
        return int(runs.scalar_one()), int(rows.scalar_one())


def computations_audited(app: FastAPI) -> int:
    with app.state.engine.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT count(*) FROM audit_event WHERE action = 'affinities.computed'")
            ).scalar_one()
        )


def jobs(app: FastAPI) -> list[str]:
    with app.state.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT status::text FROM procrastinate_jobs WHERE task_name = :t ORDER BY id"),
            {"t": COMPUTE_TASK},
        ).all()
    return [row[0] for row in rows]


async def drain(*workers: ProcrastinateAffinity) -> None:
    """Run the workers together until the queue is empty."""
    await asyncio.gather(*(w.work(wait=False, handle_signals=False) for w in workers))


def test_a_sealed_round_is_not_computed_and_two_workers_compute_it_once(
    app: FastAPI, client: TestClient
) -> None:
    world = TopicRound(app, client)
    round_id = uuid.UUID(world.rid)
    first, second = worker_for(app), worker_for(app)

    async def scenario() -> None:
        async with contextlib.AsyncExitStack() as stack:
            for worker in (first, second):
                await stack.enter_async_context(worker.app.open_async())
            # Sealed (before the deadline plus grace): nothing is due, and a job deferred for
            # the round anyway reads nothing and stores nothing.
            assert await first.defer_due() == 0
            assert await first.defer(round_id)
            await drain(first, second)
            assert counts(app) == (0, 0)
            assert jobs(app) == []  # it succeeded (computing nothing) and was deleted

            await anyio.to_thread.run_sync(world.start_review)
            # Both processes defer; the queueing lock keeps one job waiting for the round.
            assert await first.defer_due() == 1
            assert await second.defer_due() == 0
            assert await second.defer(round_id) is False
            await drain(first, second)
            assert counts(app)[0] == 1
            assert counts(app)[1] > 0
            assert computations_audited(app) == 1

            # A job for a round whose scores are fresh computes nothing.
            assert await second.defer(round_id)
            await drain(first, second)
            assert computations_audited(app) == 1
            # The periodic pass finds nothing due.
            assert await first.defer_due() == 0
            assert jobs(app) == []

    anyio.run(scenario)


def test_starting_review_defers_the_job_in_process(app: FastAPI) -> None:
    """An API process with in-process jobs (the default): starting review defers the round's
    job at once, and the process's own worker computes it."""
    affinity = app.state.affinities
    assert isinstance(affinity, ProcrastinateAffinity)
    affinity.background = True
    with TestClient(app) as client:
        world = TopicRound(app, client)
        world.start_review()
        for _ in range(300):  # the worker polls; a generous bound, not a timed assertion
            if counts(app)[0]:
                break
            time.sleep(0.1)
    assert counts(app)[0] == 1
    assert computations_audited(app) == 1
