"""PostgreSQL stopped under traffic, then started again: while it is down every request is
answered 503 with ``Retry-After`` at once (not 500 after hanging on a connection), ``/readyz``
says so, and within a second of its return requests are served again (no reconnect backoff
to sit out); the server logs one line as it goes and one as it comes back.

The PostgreSQL is the test's own (a temporary cluster on a free port), never the shared one.
The outage lasts ``OUTAGE_SECONDS``: 3 s here, 30 s in CI's main pass."""

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import FAKETIME, IN_CI, PG_URL
from tests.integration.conftest import free_port, stop, wait_for_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent.parent
PG_BIN = Path(os.environ.get("SHORTLIST_PG_BIN", "/usr/lib/postgresql/15/bin"))
OUTAGE_SECONDS = 30.0 if IN_CI and not FAKETIME and not PG_URL else 3.0
WITHIN = 1.0  # seconds: a 503 while down, a 200 after the return


@dataclass
class Cluster:
    data: Path
    port: int
    as_user: list[str]

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        command = [*self.as_user, str(PG_BIN / "pg_ctl"), "-D", str(self.data), *args]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.data}"
        self.pg_ctl("-o", options, "-l", str(self.data / "server.log"), "-w", "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"PostgreSQL's server binaries are not in {PG_BIN} (SHORTLIST_PG_BIN)")
    # initdb refuses to run as root: the cluster then belongs to the postgres user, in a
    # directory it can reach (not under pytest's private temporary directory).
    as_user: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="shortlist-outage-"))
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            pytest.skip("running as root without runuser: cannot run initdb as postgres")
        as_user = [runuser, "-u", "postgres", "--"]
        shutil.chown(base, "postgres")
    data = base / "data"
    init = [*as_user, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres"]
    subprocess.run([*init, "-A", "trust", "-E", "UTF8"], check=True, capture_output=True)
    found = Cluster(data, free_port(), as_user)
    found.start()
    try:
        yield found
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):  # (already stopped)
            found.stop()
        shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class Answer:
    path: str
    started: float
    ended: float
    status: int
    retry_after: str | None


def test_a_stopped_database_is_a_quick_503_and_its_return_a_quick_200(
    cluster: Cluster, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "SHORTLIST_ENVIRONMENT": "test",
        "SHORTLIST_DATABASE_URL": cluster.url,
        "SHORTLIST_STORAGE_URL": f"file://{tmp_path / 'blobs'}",
        "SHORTLIST_LOG_JSON": "true",
        "SHORTLIST_LOG_LEVEL": "INFO",
        "SHORTLIST_RATE_LIMIT_WRITES_PER_MINUTE": "0",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    cli = [sys.executable, "-m", "cli.main"]
    migrated = subprocess.run(
        [*cli, "migrate"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    # alembic's lines come out through the same JSON renderer as the service's.
    alembic_lines = [json.loads(line) for line in migrated.stderr.splitlines()]
    assert {line["logger"] for line in alembic_lines} == {"alembic.runtime.migration"}
    admin = json.loads(
        subprocess.run(
            [*cli, "create-admin", "outage@example.org"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
        ).stdout
    )
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [*cli, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env={**env, "SHORTLIST_PUBLIC_URL": base},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_for_port(server, port, log, timeout=180)
        token = httpx.post(
            f"{base}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(admin["client_id"], admin["client_secret"]),
            timeout=10,
        )
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        paths = [
            "/api/v1/me",  # the caller read on the event loop (the reader's connection)
            f"/api/v1/applications/{'0' * 8}-0000-4000-8000-{'0' * 12}",  # the async pool
            "/api/v1/organizations",  # a session of the engine's pool
        ]
        answers: list[Answer] = []
        readiness: list[Answer] = []
        done = threading.Event()

        def traffic(path: str, into: list[Answer], pause: float) -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
                while not done.is_set():
                    started = time.monotonic()
                    response = client.get(path)
                    into.append(
                        Answer(
                            path,
                            started,
                            time.monotonic(),
                            response.status_code,
                            response.headers.get("retry-after"),
                        )
                    )
                    time.sleep(pause)

        threads = [threading.Thread(target=traffic, args=(p, answers, 0.02)) for p in paths]
        threads.append(threading.Thread(target=traffic, args=("/readyz", readiness, 0.1)))
        for thread in threads:
            thread.start()
        try:
            deadline = time.monotonic() + 30
            while {a.path for a in answers if a.status in (200, 404)} != set(paths):
                assert time.monotonic() < deadline, answers[:10]
                time.sleep(0.05)
            time.sleep(0.5)
            stopping = time.monotonic()
            cluster.stop()
            down = time.monotonic()
            time.sleep(OUTAGE_SECONDS)
            # The database may answer before pg_ctl's start returns (it polls for readiness):
            # "down" ends when the start begins, "back" is measured from when it returned.
            starting = time.monotonic()
            cluster.start()
            up = time.monotonic()
            time.sleep(3.0)
        finally:
            done.set()
            for thread in threads:
                thread.join(timeout=60)
    finally:
        stop(server)

    served = {200, 404}  # (the application does not exist: a read that reached the database)
    before = [a for a in answers if a.ended < stopping]
    timeline = [
        (a.path[:20], a.status, round(a.started - stopping, 2), round(a.ended - stopping, 2))
        for a in sorted(answers, key=lambda a: a.started)
    ]
    assert before, timeline[:40]
    assert all(a.status in served for a in before), timeline[:40]
    # From the moment it stops: never a 500, never a wait on a dead database.
    during = [a for a in answers if a.ended >= stopping and a.started < up]
    assert all(a.status in served | {503} for a in during), {a.status for a in during}
    slow = [a for a in during if a.ended - a.started > WITHIN]
    assert not slow, slow
    # Once it is down: 503 with Retry-After, for every kind of read, within a second.
    down_answers = [a for a in answers if a.started >= down + WITHIN and a.ended < starting]
    assert {a.path for a in down_answers} == set(paths)
    assert all(a.status == 503 and a.retry_after for a in down_answers), [
        a for a in down_answers if a.status != 503 or not a.retry_after
    ]
    # Back within a second of its return, every path.
    for path in paths:
        first = min(
            (a for a in answers if a.path == path and a.started >= up and a.status in served),
            key=lambda a: a.started,
        )
        assert first.ended - up <= WITHIN, (path, first.ended - up)
        late = [a for a in answers if a.path == path and a.started >= up + WITHIN]
        assert late
        assert all(a.status in served for a in late), late
    # /readyz was truthful throughout.
    assert all(a.status == 200 for a in readiness if a.ended < stopping)
    assert all(a.status == 503 for a in readiness if a.started >= down and a.ended < starting)
    assert all(a.status == 200 for a in readiness if a.started >= up + WITHIN)
    # One line as it went, one as it came back, and no error line per request.
    # Every line is JSON, uvicorn's too (and each made while serving a request carries its id).
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert any(line.get("logger") == "uvicorn.error" for line in lines)
    events = [line.get("event") for line in lines]
    assert events.count("dependency_down") == 1, [e for e in events if e != "request"]
    assert events.count("dependency_up") == 1
    assert "unhandled_exception" not in events
