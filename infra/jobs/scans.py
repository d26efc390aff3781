"""What the two ways of scanning documents in the background share: the interface the app
holds (``DocumentScans``) and the steps both take (load the pending documents, scan one and
record its verdict). The implementations: ``infra.jobs.sqlite`` and ``infra.jobs.postgres``;
``infra.jobs.make_document_scans`` chooses.
"""

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

import anyio.to_thread
import structlog
from sqlalchemy.engine import Engine

from infra.db import open_session, session_scope
from infra.metrics import SCANS
from infra.telemetry import span
from submissions.blobs import BlobStore
from submissions.documents import PendingScan, pending_scans, record_scan
from submissions.scanning import Scanner, ScanResult, ScanVerdict, scan_blob

log = structlog.get_logger("shortlist.scans")


class DocumentScans(Protocol):
    def running(self) -> AbstractAsyncContextManager[None]:
        """Work in the background while the context lasts (the app's lifespan)."""
        ...

    async def scan_later(self, document_id: uuid.UUID) -> None:
        """An upload waiting for its scan has committed: have it scanned. Never raises: a
        document whose scan could not be arranged now is still found later, being pending."""
        ...


def load_pending(engine: Engine, *, limit: int) -> list[PendingScan]:
    """The oldest documents still waiting for their scan (``pending_scans``), in a read of its
    own (run it in a worker thread)."""
    session = open_session(engine)
    try:
        return pending_scans(session=session, limit=limit)
    finally:
        session.close()


async def scan_and_record(
    *,
    engine: Engine,
    store: BlobStore,
    scanner: Scanner,
    clock: Callable[[], datetime],
    item: PendingScan,
) -> ScanResult:
    """Scan one document and record its verdict (``record_scan``: a verdict recorded twice
    changes nothing). An ``ERROR`` result records nothing: the document stays pending."""
    with span("job.scan_document", document_id=str(item.document_id)) as job:
        result = await _scan(scanner=scanner, store=store, item=item)
        job.set_attribute("scan.verdict", result.verdict.value)
        SCANS.labels(result.verdict.value).inc()
        if result.verdict is ScanVerdict.ERROR:
            log.warning("scans.failed", document_id=str(item.document_id), detail=result.detail)
            return result
        await _record(engine, clock, item, result)
    return result


async def _scan(*, scanner: Scanner, store: BlobStore, item: PendingScan) -> ScanResult:
    with span("scanner.scan", storage_key=item.storage_key):
        try:
            return await scan_blob(scanner=scanner, store=store, key=item.storage_key)
        except Exception as exc:  # the blob could not be read: try again later
            return ScanResult(ScanVerdict.ERROR, detail=f"{type(exc).__name__}: {exc}")


async def _record(
    engine: Engine, clock: Callable[[], datetime], item: PendingScan, result: ScanResult
) -> None:
    def record() -> None:
        with session_scope(engine) as session:
            record_scan(session=session, document_id=item.document_id, result=result, now=clock())

    await anyio.to_thread.run_sync(record)
    if result.verdict is ScanVerdict.INFECTED:
        log.warning("scans.infected", document_id=str(item.document_id), signature=result.signature)
