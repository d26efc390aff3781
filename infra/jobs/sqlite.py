"""The background malware scan of uploaded documents on SQLite (the embedded default), run
inside the server process (``infra.jobs``; on PostgreSQL scans are procrastinate jobs instead).

With a scanner configured, uploads are recorded ``pending_scan``; this worker scans them from
the blob store and records ``clean`` or ``infected`` (``submissions.documents.record_scan``).
It wakes when an upload commits (``notify``), and every ``interval`` seconds anyway, so that it
also finds the documents a crashed process left pending, those another process was notified of
but did not finish, and those whose scan failed (scanner down: they stay ``pending_scan``, are
not served and block submission, and are tried again on the next pass).

It needs no queue of its own: the ``pending_scan`` rows are the queue. Should two processes share
the database (one server with ``--workers 2``), both may scan the same document; the first verdict
recorded wins and the second changes nothing.
"""

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime

import anyio
import anyio.to_thread
import structlog
from sqlalchemy.engine import Engine

from infra.background import stop_tasks
from infra.jobs.scans import load_pending, scan_and_record
from submissions.blobs import BlobStore
from submissions.documents import PendingScan
from submissions.scanning import Scanner, ScanVerdict

log = structlog.get_logger("shortlist.scans")


class ScanWorker:
    def __init__(
        self,
        *,
        engine: Engine,
        store: BlobStore,
        scanner: Scanner,
        clock: Callable[[], datetime],
        interval: float = 60.0,
        concurrency: int = 2,
        batch_size: int = 100,
    ) -> None:
        self.engine = engine
        self.store = store
        self.scanner = scanner
        self.clock = clock
        self.interval = interval
        self.concurrency = concurrency
        self.batch_size = batch_size
        self._wake: asyncio.Event | None = None  # made on the event loop that runs the worker

    async def scan_later(self, document_id: uuid.UUID) -> None:  # noqa: ARG002 - scans all
        self.notify()

    def notify(self) -> None:
        """An upload waiting for its scan has committed: look now rather than at the next tick."""
        if self._wake is not None:
            self._wake.set()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Scan in the background while the context lasts (the app's lifespan)."""
        self._wake = asyncio.Event()
        task = asyncio.create_task(self.run(self._wake), name="document-scans")
        try:
            yield
        finally:
            await stop_tasks([task])
            self._wake = None

    async def run(self, wake: asyncio.Event) -> None:
        """Scan what is pending, then wait for ``wake`` or the interval; forever."""
        while True:
            wake.clear()
            try:
                full = await self.scan_pending()
            except Exception:
                log.exception("scans.pass_failed")
                full = False
            if full:
                continue  # a full batch: there may be more waiting
            # (asyncio.timeout: wait_for may swallow a cancellation on Python 3.11, see
            # infra.events.EventSignal.wait)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval):
                    await wake.wait()

    async def scan_pending(self) -> bool:
        """One pass over the oldest pending documents (up to ``batch_size``), ``concurrency`` at
        a time. True when the batch was full and every scan gave a verdict."""
        pending = await anyio.to_thread.run_sync(
            lambda: load_pending(self.engine, limit=self.batch_size)
        )
        limiter = anyio.CapacityLimiter(self.concurrency)
        verdicts: list[bool] = []

        async def scan(item: PendingScan) -> None:
            async with limiter:
                verdicts.append(await self.scan_one(item))

        async with anyio.create_task_group() as group:
            for item in pending:
                group.start_soon(scan, item)
        return len(pending) == self.batch_size and all(verdicts)

    async def scan_one(self, item: PendingScan) -> bool:
        """Scan one document and record the verdict; False when the scan failed."""
        result = await scan_and_record(
            engine=self.engine, store=self.store, scanner=self.scanner, clock=self.clock, item=item
        )
        return result.verdict is not ScanVerdict.ERROR
