"""Text affinity in the background: once a round's seal lifts (it is in review, past the
deadline plus grace), its applications' documents are read from the blob store and their text
compared with the panel's profiles (``reviewers.affinity.store_text_affinity``).

A job of the job library, as document scans and webhook deliveries are (``infra.jobs``):

- PostgreSQL: ``ProcrastinateAffinity``. A ``shortlist.compute_affinity(round_id)`` job per
  round, with a lock (never two computing one round at once, across every process) and a
  queueing lock (never two waiting for one round). It computes only when the round is still
  due (its stored scores missing or stale), so a job that waited behind another for the same
  round computes nothing. ``shortlist.schedule_affinity``, periodic (every minute, deferred once
  per tick whatever the number of workers), defers a job for each round that is due: review
  started, or the panel, a profile or the documents changed. Starting review defers one at
  once (``notify``). Jobs run in the API processes' workers (``SHORTLIST_JOBS_IN_PROCESS``) or
  in ``shortlist worker``.
- SQLite (the embedded default): ``AffinityWork.running``, a loop inside the server process
  (the rounds are the queue) that looks on ``notify`` and every ``interval`` seconds.

Either way a round is computed only once its seal has lifted: ``text_inputs`` refuses
(``Conflict``, nothing read) before that, whoever asks.
"""

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import anyio
import anyio.to_thread
import structlog
from sqlalchemy.engine import Engine

from infra.background import stop_tasks, stop_worker
from infra.db import open_session, session_scope
from infra.settings import Settings
from models.errors import Conflict
from models.reviewers import AffinityComputation
from reviewers.affinity import (
    TextInputs,
    rounds_needing_text_affinity,
    store_text_affinity,
    text_inputs,
)
from reviewers.document_text import MAX_DOCUMENT_BYTES, document_text
from reviewers.pool import load_round
from submissions.blobs import BlobStore

log = structlog.get_logger("shortlist.affinity")

AFFINITY_QUEUE = "affinity"
COMPUTE_TASK = "shortlist.compute_affinity"
SCHEDULE_TASK = "shortlist.schedule_affinity"
RESTART_DELAY_SECONDS = 5.0
WORKER_GRACE_SECONDS = 10.0
"""How long a stopping worker lets its computation finish (one cut short is deferred again
later): its ``shutdown_graceful_timeout``, and the grace ``stop_worker`` gives it."""


class AffinityWork:
    """The work itself (``compute``, ``compute_due``) and, on SQLite, the loop that repeats it.

    ``background``: whether ``running`` computes anything (tests turn it off and call
    ``compute`` themselves).
    """

    def __init__(
        self,
        *,
        engine: Engine,
        store: BlobStore,
        clock: Callable[[], datetime],
        interval: float = 60.0,
    ) -> None:
        self.engine = engine
        self.store = store
        self.clock = clock
        self.interval = interval
        self.background = True
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def notify(self) -> None:
        """A round may have become due (review started): look now. Callable from any thread."""
        if self._wake is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Compute in the background while the context lasts (the app's lifespan)."""
        if not self.background:
            yield
            return
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        task = asyncio.create_task(self.run(self._wake), name="text-affinity")
        try:
            yield
        finally:
            await stop_tasks([task])
            self._wake = self._loop = None

    async def run(self, wake: asyncio.Event) -> None:
        while True:
            wake.clear()
            try:
                await self.compute_due()
            except Exception:
                log.exception("affinity.pass_failed")
            # (asyncio.timeout: wait_for may swallow a cancellation on Python 3.11, see
            # infra.events.EventSignal.wait)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await wake.wait()

    async def due(self) -> list[uuid.UUID]:
        """The rounds whose text affinity is missing or stale (review started, seal lifted)."""

        def read() -> list[uuid.UUID]:
            session = open_session(self.engine)
            try:
                return rounds_needing_text_affinity(session=session, now=self.clock())
            finally:
                session.close()

        return await anyio.to_thread.run_sync(read)

    async def compute_due(self) -> list[uuid.UUID]:
        """One pass: compute every round that is due; the rounds computed."""
        rounds = await self.due()
        for round_id in rounds:
            await self.compute(round_id)
        return rounds

    async def compute_if_due(self, round_id: uuid.UUID) -> AffinityComputation | None:
        """Compute the round unless its stored scores are fresh (another job computed them) or
        it is not due (not in review, or sealed); None when nothing was computed."""
        if round_id not in await self.due():
            return None
        try:
            return await self.compute(round_id)
        except Conflict as refused:  # sealed again (a deadline moved): nothing read or stored
            log.info("affinity.refused", round_id=str(round_id), reason=refused.type)
            return None

    async def compute(self, round_id: uuid.UUID) -> AffinityComputation:
        """Compute and store one round's text affinity. Refused (``Conflict``, nothing read,
        nothing stored) while the round's bids are sealed."""

        def inputs() -> TextInputs:
            session = open_session(self.engine)
            try:
                round_ = load_round(session=session, round_id=round_id)
                return text_inputs(session=session, round_=round_, now=self.clock())
            finally:
                session.close()

        loaded = await anyio.to_thread.run_sync(inputs)
        texts: dict[uuid.UUID, list[str]] = {}
        for application_id, document in loaded.documents:
            if document.size > MAX_DOCUMENT_BYTES:
                continue
            try:
                data = b"".join(
                    [chunk async for chunk in await self.store.read(document.storage_key)]
                )
            except Exception as exc:  # a missing blob costs its text, not the round's affinity
                log.warning(
                    "affinity.document_unreadable", document_id=str(document.id), error=str(exc)
                )
                continue
            text = await anyio.to_thread.run_sync(document_text, data, document.content_type)
            if text:
                texts.setdefault(application_id, []).append(text)

        def store() -> AffinityComputation:
            with session_scope(self.engine) as session:
                return store_text_affinity(
                    session=session,
                    inputs=loaded,
                    document_texts=texts,
                    now=self.clock(),
                    workers=os.cpu_count() or 1,  # large rounds use every core
                )

        computation = await anyio.to_thread.run_sync(store)
        log.info("affinity.computed", round_id=str(round_id), pairs=computation.pairs)
        return computation


class ProcrastinateAffinity:
    """Text affinity on PostgreSQL: procrastinate jobs in the same database (module docstring).

    ``compute``, ``compute_due``, ``engine`` and ``clock`` are the work's, for callers that
    compute at once (tests, scripts); ``background`` as ``AffinityWork``'s.
    """

    def __init__(self, *, database_url: str, work: AffinityWork, in_process: bool = True) -> None:
        import procrastinate

        from infra.jobs.postgres import procrastinate_connector

        self.work_ = work
        self.in_process = in_process
        self.app = procrastinate.App(connector=procrastinate_connector(database_url, max_size=4))
        self.compute_round = self.app.task(name=COMPUTE_TASK, queue=AFFINITY_QUEUE)(
            self._compute_round
        )
        schedule = self.app.task(name=SCHEDULE_TASK, queue=AFFINITY_QUEUE)(self._schedule)
        self.schedule = self.app.periodic(cron="* * * * *")(schedule)
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def engine(self) -> Engine:
        return self.work_.engine

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.work_.clock

    @property
    def background(self) -> bool:
        return self.work_.background

    @background.setter
    def background(self, value: bool) -> None:
        self.work_.background = value

    async def compute(self, round_id: uuid.UUID) -> AffinityComputation:
        return await self.work_.compute(round_id)

    async def compute_due(self) -> list[uuid.UUID]:
        return await self.work_.compute_due()

    # -- jobs ---------------------------------------------------------------------------------

    async def defer(self, round_id: uuid.UUID) -> bool:
        """Defer the round's computation; False when one is waiting already."""
        from procrastinate.exceptions import AlreadyEnqueued

        key = f"text-affinity:{round_id}"
        try:
            job = self.compute_round.configure(lock=key, queueing_lock=key)
            await job.defer_async(round_id=str(round_id))
        except AlreadyEnqueued:
            return False
        return True

    async def defer_due(self) -> int:
        """Defer a computation for each round that is due; how many were deferred."""
        deferred = 0
        for round_id in await self.work_.due():
            deferred += await self.defer(round_id)
        return deferred

    async def _compute_round(self, round_id: str) -> None:
        await self.work_.compute_if_due(uuid.UUID(round_id))

    async def _schedule(self, timestamp: int) -> None:  # noqa: ARG002 - the tick
        deferred = await self.defer_due()
        if deferred:
            log.info("affinity.deferred", rounds=deferred)

    # -- workers ------------------------------------------------------------------------------

    def notify(self) -> None:
        """A round may have become due (review started): defer now. Callable from any thread."""
        if self._wake is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _on_notify(self, wake: asyncio.Event) -> None:
        while True:
            await wake.wait()
            wake.clear()
            try:
                await self.defer_due()
            except Exception:  # the periodic pass defers it instead
                log.exception("affinity.defer_failed")

    async def work(self, *, wait: bool = True, handle_signals: bool = True) -> None:
        """Run a worker on the open app until stopped or, without ``wait``, the queue is empty."""
        await self.app.run_worker_async(
            queues=[AFFINITY_QUEUE],
            name="shortlist-affinity",
            concurrency=1,
            wait=wait,
            delete_jobs="successful",
            shutdown_graceful_timeout=WORKER_GRACE_SECONDS,
            install_signal_handlers=handle_signals,
        )

    async def _keep_working(self) -> None:
        while True:
            try:
                await self.work(handle_signals=False)
            except Exception:
                log.exception("affinity.worker_failed")
            await asyncio.sleep(RESTART_DELAY_SECONDS)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Open the queue (starting review defers through it) and, with in-process jobs, run a
        worker beside the API while the context lasts."""
        if not self.background:
            yield
            return
        async with self.app.open_async():
            self._wake = asyncio.Event()
            self._loop = asyncio.get_running_loop()
            notify = asyncio.create_task(self._on_notify(self._wake), name="affinity-notify")
            worker = None
            if self.in_process:
                worker = asyncio.create_task(self._keep_working(), name="affinity-worker")
            try:
                yield
            finally:
                await stop_tasks([notify])
                if worker is not None:
                    await stop_worker(worker, grace=WORKER_GRACE_SECONDS)
                self._wake = self._loop = None


def make_affinity_jobs(
    settings: Settings,
    *,
    engine: Engine,
    store: BlobStore,
    clock: Callable[[], datetime],
) -> AffinityWork | ProcrastinateAffinity:
    """Text affinity's background work for this database: procrastinate jobs on PostgreSQL,
    the in-process loop on SQLite."""
    work = AffinityWork(
        engine=engine, store=store, clock=clock, interval=settings.affinity_interval_seconds
    )
    if engine.dialect.name == "postgresql":
        return ProcrastinateAffinity(
            database_url=settings.database_url, work=work, in_process=settings.jobs_in_process
        )
    return work
