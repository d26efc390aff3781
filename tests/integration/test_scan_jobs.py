"""Document scans as procrastinate jobs on PostgreSQL (``infra.jobs.postgres``): deferred by the
upload, run by a worker (here in the test, as ``shortlist worker`` runs it), never twice for one
document, and picked up again by the periodic pass when a document was left without a job."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterable, Callable, Iterator

import anyio.to_thread
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.app import create_app
from infra.clock import system_clock
from infra.jobs.postgres import SCAN_TASK, ProcrastinateScans
from infra.settings import Settings
from submissions.scanning import CLEAN, Scanner, ScanResult, ScanVerdict
from tests.api.intake import World, assert_audit_chain_ok, build_world
from tests.integration.conftest import EICAR
from tests.integration.test_document_routes import post_file

pytestmark = pytest.mark.postgres

ANNEX = {"kind": "annex", "title": "Annex", "content_types": ["text/plain"], "max_bytes": 4096}


class CountingScanner:
    """Finds EICAR; remembers every file it scanned; ``on_scan`` runs inside each scan."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.scanned: list[bytes] = []
        self.on_scan: Callable[[bytes], object] | None = None

    @property
    def deferred(self) -> bool:
        return True

    async def scan(self, chunks: AsyncIterable[bytes]) -> ScanResult:
        data = b"".join([chunk async for chunk in chunks])
        self.scanned.append(data)
        if self.on_scan is not None:
            await anyio.to_thread.run_sync(self.on_scan, data)
        await asyncio.sleep(self.delay)
        if EICAR in data:
            return ScanResult(ScanVerdict.INFECTED, signature="Test.EICAR")
        return CLEAN

    async def ping(self) -> None:
        return None


def worker_for(app: FastAPI, scanner: Scanner) -> ProcrastinateScans:
    """Another process's own queue connection and scanner (``shortlist worker`` makes them so)."""
    return ProcrastinateScans(
        database_url=app.state.settings.database_url,
        engine=app.state.engine,
        store=app.state.blob_store,
        scanner=scanner,
        clock=system_clock,
        in_process=False,
    )


@pytest.fixture
def scanner() -> CountingScanner:
    return CountingScanner()


@pytest.fixture
def jobs_app(settings: Settings, scanner: CountingScanner) -> Iterator[FastAPI]:
    """API processes that only defer the scans (``SHORTLIST_JOBS_IN_PROCESS=false``)."""
    app = create_app(
        settings.model_copy(update={"scanner_url": "clamd://127.0.0.1:9", "jobs_in_process": False})
    )
    assert isinstance(app.state.scans, ProcrastinateScans)
    app.state.scanner = app.state.scans.scanner = scanner
    yield app
    app.state.engine.dispose()


def status_of(app: FastAPI, document_id: object) -> str:
    with app.state.engine.connect() as connection:
        status: str = connection.execute(
            sa.text("SELECT status FROM document WHERE id = :id"),
            {"id": uuid.UUID(str(document_id))},
        ).scalar_one()
    return status


def scan_jobs(app: FastAPI) -> list[tuple[str, str]]:
    """(document id, status) of every scan job in the queue."""
    with app.state.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT args->>'document_id', status::text FROM procrastinate_jobs "
                "WHERE task_name = :task ORDER BY id"
            ),
            {"task": SCAN_TASK},
        ).all()
    return [(row[0], row[1]) for row in rows]


def upload_annex(client: TestClient, world: World, data: bytes) -> str:
    body = post_file(client, world, data, kind="annex", filename="a.txt", content_type="text/plain")
    assert body["status"] == "pending_scan"
    return str(body["id"])


def kill_the_running_worker(app: FastAPI) -> None:
    """Every scan job taken by a worker that then died: no heartbeat for an hour."""
    with app.state.engine.begin() as connection:
        connection.execute(
            sa.text(
                "WITH dead AS (INSERT INTO procrastinate_workers (last_heartbeat) "
                "VALUES (now() - interval '1 hour') RETURNING id) "
                "UPDATE procrastinate_jobs SET status = 'doing', worker_id = (SELECT id FROM dead)"
            )
        )


async def work_until(workers: list[ProcrastinateScans], done: Callable[[], bool]) -> None:
    """Run the workers (each on its own connection pool) until ``done()``, then stop them."""
    async with contextlib.AsyncExitStack() as stack:
        for worker in workers:
            await stack.enter_async_context(worker.app.open_async())
        tasks = [
            asyncio.create_task(w.work(name=f"test-{i}", handle_signals=False))
            for i, w in enumerate(workers)
        ]
        try:
            deadline = time.monotonic() + 30
            while not await anyio.to_thread.run_sync(done):
                assert time.monotonic() < deadline, "timed out"
                for task in tasks:
                    if task.done():
                        task.result()  # a worker that died says why
                await asyncio.sleep(0.05)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


@pytest.mark.integration
def test_an_eicar_upload_ends_infected_through_a_procrastinate_job(
    settings: Settings, clamd_address: tuple[str, int]
) -> None:
    host, port = clamd_address
    app = create_app(
        settings.model_copy(
            update={"scanner_url": f"clamd://{host}:{port}", "jobs_in_process": False}
        )
    )
    scans = app.state.scans
    assert isinstance(scans, ProcrastinateScans)
    world = build_world(app, required_documents=[ANNEX])
    try:
        with TestClient(app) as client:
            infected = upload_annex(client, world, EICAR)
            clean = upload_annex(client, world, b"Our annex.\n")
            # Deferred, not scanned: no worker runs in the API process.
            assert scan_jobs(app) == [(infected, "todo"), (clean, "todo")]
            # Until the queue is empty too: the periodic pass that a starting worker runs at
            # once may defer a second scan of a document whose first is running (the lock makes
            # it wait, then it finds the document scanned and does nothing).
            asyncio.run(
                work_until(
                    [worker_for(app, scans.scanner)],
                    lambda: (
                        status_of(app, infected) == "infected"
                        and status_of(app, clean) == "clean"
                        and scan_jobs(app) == []
                    ),
                )
            )
            content = client.get(
                f"/api/v1/documents/{infected}/content", headers=world.applicant.headers
            )
            assert content.status_code == 409
            assert content.json()["type"].endswith("document-infected")
        assert scan_jobs(app) == []  # succeeded, and deleted as they succeed
        assert_audit_chain_ok(app)
    finally:
        app.state.engine.dispose()


def test_a_document_deferred_twice_is_scanned_once(
    jobs_app: FastAPI, scanner: CountingScanner
) -> None:
    app = jobs_app
    world = build_world(app, required_documents=[ANNEX])
    with TestClient(app) as client:
        document_id = upload_annex(client, world, b"once\n")
        other_process = worker_for(app, scanner)

        async def defer_again() -> bool:
            async with other_process.app.open_async():
                return await other_process.defer_scan(uuid.UUID(document_id))

        assert asyncio.run(defer_again()) is False  # the queueing lock: one is waiting already
        assert scan_jobs(app) == [(document_id, "todo")]
        asyncio.run(work_until([worker_for(app, scanner)], lambda: scan_jobs(app) == []))
    assert status_of(app, document_id) == "clean"
    assert scanner.scanned == [b"once\n"]


def test_a_pending_document_without_a_job_is_picked_up_by_the_periodic_pass(
    jobs_app: FastAPI, scanner: CountingScanner, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = jobs_app

    async def crashed_before_deferring(_document_id: uuid.UUID) -> None:
        return None

    monkeypatch.setattr(app.state.scans, "scan_later", crashed_before_deferring)
    world = build_world(app, required_documents=[ANNEX])
    with TestClient(app) as client:
        document_id = upload_annex(client, world, b"left behind\n")
    assert scan_jobs(app) == []
    # A starting worker defers the periodic pass of the current minute at once.
    asyncio.run(
        work_until([worker_for(app, scanner)], lambda: status_of(app, document_id) == "clean")
    )
    assert scanner.scanned == [b"left behind\n"]


def test_two_workers_never_scan_one_document_twice(settings: Settings) -> None:
    scanner = CountingScanner(delay=0.3)
    app = create_app(
        settings.model_copy(update={"scanner_url": "clamd://127.0.0.1:9", "jobs_in_process": False})
    )
    app.state.scanner = app.state.scans.scanner = scanner
    world = build_world(app, required_documents=[ANNEX])
    try:
        with TestClient(app) as client:
            ids = [upload_annex(client, world, b"file %d\n" % n) for n in range(6)]
        first, second = worker_for(app, scanner), worker_for(app, scanner)
        redeferred: list[bool] = []

        def defer_again_while_scanning(data: bytes) -> None:
            # A second job for the document being scanned: the queueing lock lets it in (the
            # first is running, not waiting); the lock keeps it from running beside the first,
            # and after it, it finds the document scanned.
            document_id = ids[int(data.split()[1])]

            uploader = worker_for(app, scanner)  # as an upload in a third process would

            async def defer() -> bool:
                async with uploader.app.open_async():
                    return await uploader.defer_scan(uuid.UUID(document_id))

            redeferred.append(asyncio.run(defer()))

        scanner.on_scan = defer_again_while_scanning
        asyncio.run(
            work_until(
                [first, second],
                lambda: all(status_of(app, d) == "clean" for d in ids) and scan_jobs(app) == [],
            )
        )
        # Every document had a second job waiting while the first scanned it: the one deferred
        # here, or (False: already waiting) the starting worker's periodic pass's.
        assert len(redeferred) == 6
        assert sorted(scanner.scanned) == sorted(b"file %d\n" % n for n in range(6))
        assert_audit_chain_ok(app)
    finally:
        app.state.engine.dispose()


def test_a_failed_scan_leaves_the_document_pending_and_the_job_retries(
    jobs_app: FastAPI, scanner: CountingScanner
) -> None:
    app = jobs_app
    failures = [ScanResult(ScanVerdict.ERROR, detail="scanner down")]
    scan = scanner.scan

    async def down_once(chunks: AsyncIterable[bytes]) -> ScanResult:
        result = await scan(chunks)
        return failures.pop() if failures else result

    scanner.scan = down_once  # type: ignore[method-assign]
    world = build_world(app, required_documents=[ANNEX])
    with TestClient(app) as client:
        document_id = upload_annex(client, world, b"retried\n")
    seen: list[tuple[str, list[tuple[str, int]]]] = []

    def clean_after_a_retry() -> bool:
        with app.state.engine.connect() as connection:
            jobs = connection.execute(
                sa.text(
                    "SELECT status::text, attempts FROM procrastinate_jobs WHERE task_name = :task"
                ),
                {"task": SCAN_TASK},
            ).all()
        seen.append((status_of(app, document_id), [(row[0], row[1]) for row in jobs]))
        return seen[-1][0] == "clean"

    asyncio.run(work_until([worker_for(app, scanner)], clean_after_a_retry))
    assert scanner.scanned == [b"retried\n", b"retried\n"]
    # Between the two attempts: still pending, its job waiting for its second attempt.
    assert ("pending_scan", [("todo", 1)]) in seen


def test_a_scan_whose_worker_died_is_given_up_and_scanned_again(
    jobs_app: FastAPI, scanner: CountingScanner
) -> None:
    app = jobs_app
    world = build_world(app, required_documents=[ANNEX])
    with TestClient(app) as client:
        document_id = upload_annex(client, world, b"orphaned\n")
    # Its worker took the job and died: no heartbeat for an hour. Its lock would hold the
    # document forever, and the queueing lock lets a new job in beside it, to wait for it.
    kill_the_running_worker(app)
    asyncio.run(
        work_until([worker_for(app, scanner)], lambda: status_of(app, document_id) == "clean")
    )
    assert scanner.scanned == [b"orphaned\n"]
    assert scan_jobs(app) == [(document_id, "failed")]  # the dead worker's, given up


def test_ended_scan_jobs_are_deleted_once_kept_long_enough(
    jobs_app: FastAPI, scanner: CountingScanner
) -> None:
    app = jobs_app
    world = build_world(app, required_documents=[ANNEX])
    with TestClient(app) as client:
        document_id = upload_annex(client, world, b"kept a while\n")
    # The job's worker died while it ran: the periodic pass gives that job up (failed) and
    # defers a new one, waiting (todo).
    kill_the_running_worker(app)
    worker = worker_for(app, scanner)
    assert worker.keep_hours == 168

    async def pass_and_prune(keep_hours: int) -> list[tuple[str, str]]:
        worker.keep_hours = keep_hours
        async with worker.app.open_async():
            await worker._requeue_pending_scans(0)
            await worker._prune_scan_jobs(0)
        return scan_jobs(app)

    # Ended just now: kept.
    assert asyncio.run(pass_and_prune(1)) == [(document_id, "failed"), (document_id, "todo")]
    with app.state.engine.begin() as connection:
        connection.execute(sa.text("UPDATE procrastinate_events SET at = at - interval '2 hours'"))
    # Ended two hours ago, kept for one: deleted; the waiting job stays.
    assert asyncio.run(pass_and_prune(1)) == [(document_id, "todo")]


def test_the_periodic_pass_defers_nothing_beside_a_running_scan(
    jobs_app: FastAPI, scanner: CountingScanner
) -> None:
    """A document whose scan job is running (alive, heartbeat fresh) gets no second job from the
    periodic pass: when the running one fails, procrastinate retries it by putting it back to
    waiting, which a waiting twin turns into a unique violation; the retry is lost and the job
    stays 'doing' for ever, holding the document's lock (seen in CI)."""
    app = jobs_app
    world = build_world(app, required_documents=[ANNEX])
    with TestClient(app) as client:
        document_id = upload_annex(client, world, b"in flight\n")
    with app.state.engine.begin() as connection:  # taken by a live worker
        connection.execute(
            sa.text(
                "WITH alive AS (INSERT INTO procrastinate_workers (last_heartbeat) "
                "VALUES (now()) RETURNING id) "
                "UPDATE procrastinate_jobs SET status = 'doing', worker_id = (SELECT id FROM alive)"
            )
        )
    worker = worker_for(app, scanner)

    async def one_pass() -> None:
        async with worker.app.open_async():
            await worker._requeue_pending_scans(0)

    asyncio.run(one_pass())
    with app.state.engine.connect() as connection:
        jobs = (
            connection.execute(
                sa.text("SELECT status::text FROM procrastinate_jobs WHERE queueing_lock = :key"),
                {"key": f"scan-document:{document_id}"},
            )
            .scalars()
            .all()
        )
    assert jobs == ["doing"]
