"""Document scans on PostgreSQL: procrastinate jobs in the same database (``infra.jobs``).

- ``scan_document(document_id)``: scans one document and records its verdict. Deferred by the
  upload route once its transaction has committed, with a queueing lock per document (never two
  waiting jobs for one document) and a lock per document (never two running at once: the second
  finds the document scanned and scans nothing). A scanner error raises ``ScanFailed``: the
  document stays ``pending_scan`` and procrastinate retries the job with exponential backoff.
- ``requeue_pending_scans``, periodic (every minute, deferred once per tick whatever the number
  of workers): ends the scan jobs of workers that died (their lock would hold the document
  forever), then defers a scan for every document still pending: a crash between the commit
  and the deferral, a job that gave up, a worker that died. Nothing is lost.
- ``prune_scan_jobs``, periodic (hourly): deletes the scan jobs that ended (succeeded, failed,
  cancelled, aborted) more than ``keep_hours`` ago. Failed jobs are the record of what gave up;
  without pruning, a scanner down for a day would leave a failed job per pending document per
  retry cycle (about 150 each) in the table for ever.

Workers: by default each API process runs one in its lifespan (``SHORTLIST_JOBS_IN_PROCESS``);
``shortlist worker`` runs a dedicated one, for API processes started with it off.
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import anyio.to_thread
import procrastinate
import sqlalchemy as sa
import structlog
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.jobs import Status
from sqlalchemy.engine import Engine

from infra.background import stop_worker
from infra.db import open_session
from infra.jobs.scans import load_pending, scan_and_record
from infra.pgpool import CancelSafePool
from submissions.blobs import BlobStore
from submissions.documents import PendingScan, pending_scan
from submissions.scanning import Scanner, ScanVerdict

log = structlog.get_logger("shortlist.scans")

SCAN_QUEUE = "scans"
SCAN_TASK = "shortlist.scan_document"
REQUEUE_TASK = "shortlist.requeue_pending_scans"
PRUNE_TASK = "shortlist.prune_scan_jobs"
SCAN_RETRY = procrastinate.RetryStrategy(max_attempts=8, exponential_wait=2)
"""Waits 2, 4, 8 ... 256 s between attempts (about 8.5 minutes in all); a job that gives up
leaves its document pending, and the next periodic pass defers a new one."""
REQUEUE_BATCH = 1000
RESTART_DELAY_SECONDS = 5.0
WORKER_GRACE_SECONDS = 10.0
"""How long a stopping worker lets its scans finish (one cut short is deferred again later):
its ``shutdown_graceful_timeout``, and the grace ``stop_worker`` gives it."""


class ScanFailed(Exception):
    """The scanner gave no verdict (down, or the blob unreadable): the job is retried."""


def procrastinate_conninfo(database_url: str) -> str:
    """The libpq connection string for a SQLAlchemy PostgreSQL URL."""
    url = sa.make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def procrastinate_connector(database_url: str, *, max_size: int) -> procrastinate.PsycopgConnector:
    """A procrastinate app's connection to the database of ``database_url``: a pool of one to
    ``max_size`` connections that never swallows a cancellation (``infra.pgpool``)."""
    return procrastinate.PsycopgConnector(
        conninfo=procrastinate_conninfo(database_url),
        min_size=1,
        max_size=max_size,
        pool_factory=CancelSafePool,
    )


class ProcrastinateScans:
    def __init__(
        self,
        *,
        database_url: str,
        engine: Engine,
        store: BlobStore,
        scanner: Scanner,
        clock: Callable[[], datetime],
        in_process: bool = True,
        concurrency: int = 2,
        keep_hours: int = 168,
    ) -> None:
        self.engine = engine
        self.store = store
        self.scanner = scanner
        self.clock = clock
        self.in_process = in_process
        self.concurrency = concurrency
        self.keep_hours = keep_hours
        self.app = procrastinate.App(
            # The worker's listener, its fetches and heartbeat, one per running job.
            connector=procrastinate_connector(database_url, max_size=concurrency + 3)
        )
        self.scan_document = self.app.task(name=SCAN_TASK, queue=SCAN_QUEUE, retry=SCAN_RETRY)(
            self._scan_document
        )
        requeue = self.app.task(name=REQUEUE_TASK, queue=SCAN_QUEUE)(self._requeue_pending_scans)
        self.requeue_pending_scans = self.app.periodic(cron="* * * * *")(requeue)
        prune = self.app.task(name=PRUNE_TASK, queue=SCAN_QUEUE)(self._prune_scan_jobs)
        self.prune_scan_jobs = self.app.periodic(cron="17 * * * *")(prune)

    # -- the two interface methods (infra.jobs.scans.DocumentScans) -------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Open the queue's connection pool (uploads defer through it) and, unless jobs run
        elsewhere, run a worker beside the API while the context lasts."""
        async with self.app.open_async():
            if not self.in_process:
                yield
                return
            task = asyncio.create_task(self._keep_working(), name="procrastinate-worker")
            try:
                yield
            finally:
                await stop_worker(task, grace=WORKER_GRACE_SECONDS)

    async def scan_later(self, document_id: uuid.UUID) -> None:
        try:
            await self.defer_scan(document_id)
        except Exception:  # the periodic pass defers it instead
            log.exception("scans.defer_failed", document_id=str(document_id))

    # -- jobs ---------------------------------------------------------------------------------

    async def defer_scan(self, document_id: uuid.UUID) -> bool:
        """Defer a scan of the document; False when one is waiting already."""
        key = f"scan-document:{document_id}"
        try:
            await self.scan_document.configure(lock=key, queueing_lock=key).defer_async(
                document_id=str(document_id)
            )
        except AlreadyEnqueued:
            return False
        return True

    async def _scan_document(self, document_id: str) -> None:
        item = await anyio.to_thread.run_sync(self._pending_one, uuid.UUID(document_id))
        if item is None:
            return  # scanned already (by an earlier job), or deleted
        result = await scan_and_record(
            engine=self.engine, store=self.store, scanner=self.scanner, clock=self.clock, item=item
        )
        if result.verdict is ScanVerdict.ERROR:
            raise ScanFailed(result.detail or "no verdict")

    async def _requeue_pending_scans(self, timestamp: int) -> None:  # noqa: ARG002 - the tick
        manager = self.app.job_manager
        for job in await manager.get_stalled_jobs(queue=SCAN_QUEUE):
            # Its worker died: free the document's lock; the pass below defers a new scan.
            if job.id is not None and job.task_name == SCAN_TASK:
                with contextlib.suppress(Exception):  # finished meanwhile
                    await manager.finish_job(job, status=Status.FAILED, delete_job=False)
        pending = await anyio.to_thread.run_sync(
            lambda: load_pending(self.engine, limit=REQUEUE_BATCH)
        )
        # Not beside a scan job of the same document that is waiting or running: the queueing
        # lock only keeps out a second waiting one, and a running job that fails is retried by
        # putting it back to waiting, which a job deferred meanwhile makes a unique violation
        # (the retry is lost and the job stays 'doing' for ever, holding the document's lock).
        busy = await self._busy_scan_keys([item.document_id for item in pending])
        deferred = 0
        for item in pending:
            if f"scan-document:{item.document_id}" in busy:
                continue
            deferred += await self.defer_scan(item.document_id)
        if deferred:
            log.info("scans.requeued", pending=len(pending), deferred=deferred)

    async def _busy_scan_keys(self, document_ids: list[uuid.UUID]) -> set[str]:
        """The queueing locks of these documents' scan jobs that are waiting or running."""
        if not document_ids:
            return set()
        rows = await self.app.connector.execute_query_all_async(
            "SELECT queueing_lock FROM procrastinate_jobs "
            "WHERE queueing_lock = ANY(%(keys)s) AND status IN ('todo', 'doing')",
            keys=[f"scan-document:{d}" for d in document_ids],
        )
        return {row["queueing_lock"] for row in rows}

    async def _prune_scan_jobs(self, timestamp: int) -> None:  # noqa: ARG002 - the tick
        await self.app.job_manager.delete_old_jobs(
            nb_hours=self.keep_hours,
            queue=SCAN_QUEUE,
            include_failed=True,
            include_cancelled=True,
            include_aborted=True,
        )

    def _pending_one(self, document_id: uuid.UUID) -> PendingScan | None:
        session = open_session(self.engine)
        try:
            return pending_scan(session=session, document_id=document_id)
        finally:
            session.close()

    # -- workers ------------------------------------------------------------------------------

    async def work(
        self, *, name: str = "shortlist-worker", wait: bool = True, handle_signals: bool = True
    ) -> None:
        """Run a worker on the open app until stopped (SIGINT or SIGTERM with
        ``handle_signals``, or cancelled) or, without ``wait``, until the queue is empty."""
        await self.app.run_worker_async(
            queues=[SCAN_QUEUE],
            name=name,
            concurrency=self.concurrency,
            wait=wait,
            delete_jobs="successful",  # failed jobs stay, as the record of what gave up
            shutdown_graceful_timeout=WORKER_GRACE_SECONDS,
            install_signal_handlers=handle_signals,
        )

    async def _keep_working(self) -> None:
        """The in-process worker; procrastinate stops a worker whose listener or heartbeat
        fails (the database restarted, say): start it again."""
        while True:
            try:
                await self.work(name="api-in-process", handle_signals=False)
            except Exception:
                log.exception("scans.worker_failed")
            await asyncio.sleep(RESTART_DELAY_SECONDS)
