"""Crash tests: a real server process (uvicorn over the run's database - an SQLite file, or
PostgreSQL when configured - and a local blob directory) is killed with SIGKILL at random points
of uploads, submits and a close, ``SHORTLIST_CRASH_ITERATIONS`` times (default 20), and
restarted; after every restart every invariant of ``tests.integration.invariants`` must hold
(no document row without its blob, no half-submitted bid, no half-closed round, the audit chain
verifies), and every answer a client did receive must still be true.

Each iteration runs the three workloads at once, each started so that the kill falls at a random
point of it (seeded, ``SHORTLIST_CRASH_SEED``): anywhere from its first byte to a fifth past
its calibrated duration, so some kills come before the commit, some after it and before the
answer, some after the answer.

The servers come from a fork server (``tests.integration.crash_server``) that imports the app
once: each is a new process with its own app, engine and event loop, up in well under a second
instead of the several seconds a cold interpreter needs here.
"""

import os
import random
import select as select_module
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import Session, select

from api.app import create_app
from infra.db import open_session
from infra.settings import Settings
from models.applications import Application, ApplicationStatus
from models.documents import Document
from models.identity import Role, User
from models.rounds import Round, RoundStatus
from tests.conftest import PG_URL, migrated_postgres_database
from tests.factories import (
    bearer,
    make_application,
    make_organization,
    make_round,
    make_token,
    make_user,
)
from tests.integration.conftest import free_port
from tests.integration.invariants import all_violations
from tests.integration.review_rounds import round_in_review

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent.parent
SEED = int(os.environ.get("SHORTLIST_CRASH_SEED", "20261129"))
ITERATIONS = int(os.environ.get("SHORTLIST_CRASH_ITERATIONS", "20"))
UPLOAD_BYTES = 512 * 1024
CLOSE_BIDS = 4
CLOSE_REVIEWED = 2
KiB = 1024


# --- the database, the fork server and the servers it forks --------------------------------------


@pytest.fixture(scope="module")
def crash_database(
    database_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of the module's own, migrated: the servers outlive any one test's."""
    if PG_URL:
        with migrated_postgres_database(f"shortlist_crash_{uuid.uuid4().hex[:10]}") as url:
            yield url
    else:
        path = tmp_path_factory.mktemp("crash") / "shortlist.db"
        shutil.copyfile(database_template, path)
        yield f"sqlite:///{path}"


@dataclass
class Harness:
    """The test's side: the same settings as the servers, an app for tokens and a session."""

    settings: Settings
    app: FastAPI
    blob_root: Path
    log: Path
    hashed: set[uuid.UUID] = field(default_factory=set)
    """Documents whose blobs were hashed by an earlier check (later ones check their size)."""

    def session(self, write: bool = False) -> Session:
        return open_session(self.app.state.engine, write=write)

    def headers(self, user: User) -> dict[str, str]:
        return bearer(make_token(self.app, user))

    def now(self) -> datetime:
        """The servers' clock: each is a process of its own that judges by its system clock,
        as the harness's app does."""
        now: datetime = self.app.state.clock()
        return now

    def violations(self) -> list[str]:
        session = self.session()
        try:
            return all_violations(session, blob_root=self.blob_root, hashed=self.hashed)
        finally:
            session.close()


@pytest.fixture(scope="module")
def harness(crash_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    work = tmp_path_factory.mktemp("crash-work")
    settings = Settings(
        environment="test",
        database_url=crash_database,
        storage_url=f"file://{work / 'blobs'}",
        public_url="http://127.0.0.1",
        log_json=True,
        log_level="WARNING",
        # The writes of this module are many and from one client: not what is tested here.
        rate_limit_writes_per_minute=0,
    )
    app = create_app(settings)
    try:
        yield Harness(settings, app, work / "blobs", work / "servers.log")
    finally:
        app.state.engine.dispose()


@dataclass
class Server:
    pid: int
    url: str

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while True:  # the fork server ignores SIGCHLD: the kernel reaps the child at once
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"server {self.pid} survived SIGKILL")
            time.sleep(0.005)


class ForkServer:
    def __init__(self, process: subprocess.Popen[str], log: Path) -> None:
        self.process = process
        self.log = log
        self.current: Server | None = None

    def _line(self, timeout: float) -> str:
        assert self.process.stdout is not None
        ready, _, _ = select_module.select([self.process.stdout], [], [], timeout)
        if not ready:
            raise RuntimeError(f"the fork server is silent:\n{self.log.read_text()[-3000:]}")
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the fork server exited:\n{self.log.read_text()[-3000:]}")
        return line.strip()

    def start(self) -> Server:
        assert self.current is None, "one server at a time"
        assert self.process.stdin is not None
        port = free_port()
        self.process.stdin.write(f"serve {port}\n")
        self.process.stdin.flush()
        answer = self._line(30)
        assert answer.startswith("pid "), answer
        server = Server(int(answer.split()[1]), f"http://127.0.0.1:{port}")
        self.current = server
        deadline = time.monotonic() + 60
        with httpx.Client(timeout=5) as client:
            while True:
                try:
                    if client.get(f"{server.url}/readyz").status_code == 200:
                        return server
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{self.log.read_text()[-3000:]}")
                time.sleep(0.02)

    def kill(self) -> None:
        if self.current is not None:
            self.current.kill()
            self.current = None


@pytest.fixture(scope="module")
def fork_server(harness: Harness) -> Iterator[ForkServer]:
    s = harness.settings
    env = {
        **os.environ,
        "SHORTLIST_ENVIRONMENT": s.environment,
        "SHORTLIST_DATABASE_URL": s.database_url,
        "SHORTLIST_STORAGE_URL": s.storage_url,
        "SHORTLIST_PUBLIC_URL": s.public_url,
        "SHORTLIST_LOG_LEVEL": "WARNING",
        "SHORTLIST_LOG_JSON": "true",
        "SHORTLIST_RATE_LIMIT_WRITES_PER_MINUTE": "0",
        "SHORTLIST_CRASH_LOG": str(harness.log),
    }
    env.pop("SHORTLIST_REDIS_URL", None)
    with harness.log.open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.integration.crash_server"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    forks = ForkServer(process, harness.log)
    try:
        assert forks._line(180) == "ready"
        yield forks
    finally:
        forks.kill()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- killing at random moments -------------------------------------------------------------------

Call = Callable[[httpx.Client, str], httpx.Response]


@dataclass
class Workload:
    """One kind of operation under test: the calls of each iteration (``-1``: the calibration
    run), and what must be true of the answers the clients did get."""

    name: str
    calls: Callable[[int], list[Call]]
    check: Callable[[int, list[Any]], list[str]]
    duration: float = 0.0
    answered: Counter[int] = field(default_factory=Counter)
    cut: int = 0
    """Requests that got no answer: the kill came first."""

    def __str__(self) -> str:
        return f"{self.name}: answered {dict(self.answered)}, cut by the kill {self.cut}"


@dataclass
class Fired:
    threads: list[threading.Thread]
    results: list[Any]
    finished: list[float]

    def join(self) -> float:
        """Wait for every call; the moment the last one ended."""
        for thread in self.threads:
            thread.join(60)
            assert not thread.is_alive(), "a request outlived its server"
        return max(self.finished)


def fire(url: str, calls: list[Call], *, at: float) -> Fired:
    """Each call in a thread of its own, from the moment ``at`` (``time.monotonic``)."""
    fired = Fired([], [None] * len(calls), [0.0] * len(calls))

    def run(index: int, call: Call) -> None:
        time.sleep(max(0.0, at - time.monotonic()))
        try:
            with httpx.Client(timeout=30) as client:
                fired.results[index] = call(client, url)
        except httpx.TransportError as exc:
            fired.results[index] = exc
        fired.finished[index] = time.monotonic()

    fired.threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in fired.threads:
        thread.start()
    return fired


def crash_loop(harness: Harness, forks: ForkServer, workloads: list[Workload]) -> None:
    """Calibrate on one uninterrupted run of every workload at once on a fresh server (each
    workload's duration: until its last answer). Then ``ITERATIONS`` times: start a server,
    check every invariant (what the last crash left, after a restart), run every workload at
    once, each started so that the kill lands at a random point of it (from its start to a
    fifth past its calibrated duration), and kill the server. A last restart and check end it."""
    rng = random.Random(SEED)
    session = harness.session(write=True)
    try:
        someone = harness.headers(make_user(session, roles=[Role.applicant]))
    finally:
        session.close()

    def warm_start() -> Server:
        """A server that has answered one authenticated request (keys loaded, routes built),
        like one that has been running for a while."""
        server = forks.start()
        response = httpx.get(f"{server.url}/api/v1/me", headers=someone, timeout=30)
        assert response.status_code == 200, response.text
        return server

    server = warm_start()
    calls = [w.calls(-1) for w in workloads]
    start = time.monotonic()
    for workload, fired in [
        (w, fire(server.url, c, at=start)) for w, c in zip(workloads, calls, strict=True)
    ]:
        workload.duration = fired.join() - start
        ok = [isinstance(r, httpx.Response) and r.status_code < 300 for r in fired.results]
        assert all(ok), fired.results
    forks.kill()
    previous: dict[str, list[Any]] = {w.name: [] for w in workloads}
    for iteration in range(ITERATIONS + 1):
        server = warm_start()
        wrong = harness.violations()
        for workload in workloads:
            wrong += workload.check(iteration - 1, previous[workload.name])
        assert not wrong, f"after the restart that followed kill {iteration} (seed {SEED}): {wrong}"
        if iteration == ITERATIONS:
            forks.kill()
            break
        into = {w.name: rng.uniform(0, w.duration * 1.2) for w in workloads}
        calls = [w.calls(iteration) for w in workloads]
        kill_at = time.monotonic() + max(into.values())
        running = [
            (w, fire(server.url, c, at=kill_at - into[w.name]))
            for w, c in zip(workloads, calls, strict=True)
        ]
        time.sleep(max(0.0, kill_at - time.monotonic()))
        forks.kill()
        for workload, fired in running:
            fired.join()
            for result in fired.results:
                if isinstance(result, httpx.Response):
                    workload.answered[result.status_code] += 1
                else:
                    workload.cut += 1
            previous[workload.name] = fired.results


# --- the workloads -------------------------------------------------------------------------------


def _csv(size: int) -> bytes:
    rows = b"item,amount,comment\n" + b"gpu,1200000,compute for the foundation model\n" * (
        size // 48
    )
    return rows[:size].rsplit(b"\n", 1)[0] + b"\n"


def _multipart(data: bytes, boundary: str) -> Iterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\ndata\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="data.csv"\r\n'
        "Content-Type: text/csv\r\n\r\n"
    ).encode()
    for start in range(0, len(data), 64 * KiB):
        yield data[start : start + 64 * KiB]
    yield f"\r\n--{boundary}--\r\n".encode()


def uploads(harness: Harness) -> Workload:
    """Three uploads an iteration: two versions of one application's document, one of
    another's. A row must never outlive the kill without its blob."""
    now = harness.now()
    session = harness.session(write=True)
    try:
        applicant = make_user(session, roles=[Role.applicant])
        document = {
            "kind": "data",
            "title": "Data",
            "content_types": ["text/csv"],
            "max_bytes": 4 * UPLOAD_BYTES,
        }
        round = make_round(session, now=now, required_documents=[document])
        bids = [make_application(session, round, applicant, now=now) for _ in range(2)]
    finally:
        session.close()
    data = _csv(UPLOAD_BYTES)

    def upload(bid: Application) -> Call:
        def call(client: httpx.Client, url: str) -> httpx.Response:
            boundary = uuid.uuid4().hex
            return client.post(
                f"{url}/api/v1/applications/{bid.id}/documents",
                content=_multipart(data, boundary),
                headers={
                    **harness.headers(applicant),
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                },
            )

        return call

    def check(iteration: int, results: list[Any]) -> list[str]:
        answered = [r for r in results if isinstance(r, httpx.Response)]
        assert all(r.status_code == 201 for r in answered), [r.text for r in answered]
        stored = {str(d.id) for d in _rows(harness, select(Document))}
        return [
            f"acknowledged upload {r.json()['id']} is gone"
            for r in answered
            if r.json()["id"] not in stored
        ]

    return Workload("uploads", lambda i: [upload(bids[0]), upload(bids[0]), upload(bids[1])], check)


def submits(harness: Harness, per_iteration: int = 2) -> Workload:
    """Two submits an iteration, of two drafts of an open round."""
    now = harness.now()
    session = harness.session(write=True)
    try:
        round = make_round(session, now=now)
        applicants = [
            make_user(session, roles=[Role.applicant])
            for _ in range((ITERATIONS + 1) * per_iteration)
        ]
        bids = [make_application(session, round, a, now=now) for a in applicants]
    finally:
        session.close()

    def first(iteration: int) -> int:
        return (iteration + 1) * per_iteration

    def submit(index: int) -> Call:
        def call(client: httpx.Client, url: str) -> httpx.Response:
            return client.post(
                f"{url}/api/v1/applications/{bids[index].id}/submit",
                headers=harness.headers(applicants[index]),
            )

        return call

    def calls(iteration: int) -> list[Call]:
        return [submit(i) for i in range(first(iteration), first(iteration) + per_iteration)]

    def check(iteration: int, results: list[Any]) -> list[str]:
        wrong = []
        for offset, result in enumerate(results):
            if isinstance(result, httpx.Response):
                assert result.status_code == 200, result.text
                bid = bids[first(iteration) + offset]
                row = _rows(harness, select(Application).where(Application.id == bid.id))[0]
                if row.status != ApplicationStatus.submitted:
                    wrong.append(f"acknowledged submit of {bid.id}: {row.status}")
        return wrong

    return Workload("submits", calls, check)


def closes(harness: Harness) -> Workload:
    """One close an iteration, of a round in review made for it: ``CLOSE_BIDS`` bids, the
    first ``CLOSE_REVIEWED`` of them reviewed (so some are shortlisted, the rest not)."""
    session = harness.session(write=True)
    try:
        admin = make_user(session, roles=[Role.admin])
        reviewer = make_user(session, roles=[Role.reviewer])
        bidders = []
        for _ in range(CLOSE_BIDS):
            user = make_user(session, roles=[Role.applicant])
            bidders.append((user, make_organization(session, user)))
    finally:
        session.close()
    rounds: dict[int, uuid.UUID] = {}

    def calls(iteration: int) -> list[Call]:
        session = harness.session(write=True)
        try:
            made = round_in_review(
                session,
                admin=admin,
                bidders=bidders,
                reviewers=[(reviewer, True)],
                reviewed=CLOSE_REVIEWED,
                now=harness.now(),
            )
        finally:
            session.close()
        round_id = rounds[iteration] = made.round_id

        def close(client: httpx.Client, url: str) -> httpx.Response:
            return client.post(
                f"{url}/api/v1/rounds/{round_id}/close",
                json={"allow_missing_reviews": False},
                headers=harness.headers(admin),
            )

        return [close]

    def check(iteration: int, results: list[Any]) -> list[str]:
        if not results or not isinstance(results[0], httpx.Response):
            return []
        assert results[0].status_code == 200, results[0].text
        round = _rows(harness, select(Round).where(Round.id == rounds[iteration]))[0]
        return [] if round.status == RoundStatus.closed else [f"acknowledged close of {round.id}"]

    return Workload("closes", calls, check)


def _rows(harness: Harness, statement: Any) -> list[Any]:
    session = harness.session()
    try:
        return list(session.exec(statement).all())
    finally:
        session.close()


def test_kills_at_random_points_leave_nothing_half_done(
    harness: Harness, fork_server: ForkServer
) -> None:
    workloads = [uploads(harness), submits(harness), closes(harness)]
    crash_loop(harness, fork_server, workloads)
    print("\n" + "\n".join(str(w) for w in workloads))
    for workload in workloads:
        assert workload.cut, f"no kill interrupted any of {workload}"
