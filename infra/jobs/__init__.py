"""Background malware scans of uploaded documents: one small interface, two implementations
chosen by the database URL (as the blob store is by the storage URL).

- SQLite (the embedded default): ``infra.jobs.sqlite.ScanWorker``, a loop inside the one server
  process that scans the ``pending_scan`` rows.
- PostgreSQL: ``infra.jobs.postgres.ProcrastinateScans``, a ``scan_document`` job per upload on
  the procrastinate queue in the same database, run by a worker inside each API process or by
  ``shortlist worker``; each document is scanned by one worker, with retries and backoff.

The shared steps and the interface are in ``infra.jobs.scans``; nothing there imports back up.
"""

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine

from infra.jobs.scans import DocumentScans
from infra.settings import Settings
from submissions.blobs import BlobStore
from submissions.scanning import Scanner


def make_document_scans(
    settings: Settings,
    *,
    engine: Engine,
    store: BlobStore,
    scanner: Scanner,
    clock: Callable[[], datetime],
) -> DocumentScans | None:
    """The scans for this database; ``None`` when there is nothing to wait for (no scanner:
    documents are clean at once)."""
    if not scanner.deferred:
        return None
    if engine.dialect.name == "postgresql":
        # Imported here: the embedded default never loads procrastinate.
        from infra.jobs.postgres import ProcrastinateScans

        return ProcrastinateScans(
            database_url=settings.database_url,
            engine=engine,
            store=store,
            scanner=scanner,
            clock=clock,
            in_process=settings.jobs_in_process,
            concurrency=settings.scan_concurrency,
            keep_hours=settings.scan_jobs_keep_hours,
        )
    from infra.jobs.sqlite import ScanWorker

    return ScanWorker(
        engine=engine,
        store=store,
        scanner=scanner,
        clock=clock,
        interval=settings.scan_interval_seconds,
        concurrency=settings.scan_concurrency,
    )
