"""What the database and server benchmarks share: throw-away databases (SQLite or PostgreSQL),
real ``uvicorn`` servers in subprocesses on a loopback port, ``shortlist worker`` processes (also
started by tests/integration/test_webhook_worker_kill.py), the ``wrk`` load generator, seed data
made through the domain functions, and access tokens minted against the same database.

Everything here targets 127.0.0.1 only and cleans up after itself (databases dropped, servers
stopped, temporary directories removed).
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "SHORTLIST_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
"""A PostgreSQL server's maintenance database; each benchmark makes (and drops) its own."""

DATABASES = ("sqlite", "postgresql")


def load_average() -> float:
    """The one-minute load average: how busy the shared machine was beside a figure."""
    return round(os.getloadavg()[0], 2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# --- databases ---------------------------------------------------------------------------------


def postgres_available() -> bool:
    engine = sa.create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
        return True
    except sa.exc.OperationalError:
        return False
    finally:
        engine.dispose()


@contextmanager
def temporary_database(kind: str, directory: Path) -> Iterator[str]:
    """A migrated, empty database: a file in ``directory`` (SQLite) or a new database on the
    PostgreSQL server of ``SHORTLIST_BENCH_PG_URL``, dropped afterwards."""
    from infra.migrate import upgrade

    if kind == "sqlite":
        url = f"sqlite:///{directory / f'bench-{uuid.uuid4().hex[:8]}.db'}"
        upgrade(url)
        yield url
        return
    admin_url = sa.make_url(PG_ADMIN_URL)
    name = f"shortlist_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


# --- servers -----------------------------------------------------------------------------------


def server_env(database_url: str, storage_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a served Shortlist: production mode (JSON logs at INFO, as deployed;
    the logs go to /dev/null), a throw-away secret key, the given database and blob directory."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("SHORTLIST_") or key.startswith("SHORTLIST_BENCH_")
    }
    env.update(
        {
            "SHORTLIST_ENVIRONMENT": "production",
            "SHORTLIST_SECRET_KEY": uuid.uuid4().hex,
            "SHORTLIST_DATABASE_URL": database_url,
            "SHORTLIST_STORAGE_URL": f"file://{storage_dir}",
            "SHORTLIST_PUBLIC_URL": PUBLIC_URL,
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


PUBLIC_URL = "http://127.0.0.1:8000"
"""The issuer the benchmark servers and the tokens minted for them agree on."""


class Server:
    """``uvicorn FACTORY --factory`` with the flags ``shortlist serve`` uses (no access log,
    proxy headers), in its own process group so that its workers stop with it."""

    def __init__(
        self, factory: str, *, workers: int, env: dict[str, str], log: Path | None = None
    ) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            factory,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(workers),
            "--proxy-headers",
            "--no-access-log",
            "--log-level",
            "warning",
        ]
        self._log = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdout=self._log,
            stderr=self._log,
            start_new_session=True,
        )

    def wait_ready(self, path: str, *, timeout: float = 60.0) -> None:
        """Until ``path`` answers (each worker imports the app; the first answer is enough)."""
        import httpx

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server {self.process.args!r} exited at start")
            try:
                httpx.get(self.base_url + path, timeout=2.0)
                return
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("the benchmark server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if not isinstance(self._log, int):
            self._log.close()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


# --- the background worker --------------------------------------------------------------------


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``shortlist worker`` in its own process group (so that a SIGKILL of the group takes it
    whole), its output appended to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "cli.main", "worker"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def defer_webhook_pass(database_url: str) -> None:
    """What an API process does on each event: defer a webhook delivery pass."""
    import asyncio

    from infra.db import make_engine
    from infra.webhooks import ProcrastinateWebhooks, WebhookDeliveries
    from notifications.webhooks import UrlPolicy

    engine = make_engine(database_url, pool_size=1)
    jobs = ProcrastinateWebhooks(
        database_url=database_url,
        deliveries=WebhookDeliveries(
            engine=engine, policy=UrlPolicy(resolve=lambda _h: []), clock=lambda: datetime.now(UTC)
        ),
    )

    async def defer() -> None:
        async with jobs.app.open_async():
            await jobs.defer()

    try:
        asyncio.run(defer())
    finally:
        engine.dispose()


# --- wrk ---------------------------------------------------------------------------------------

WRK_HELP = (
    "this benchmark drives load with wrk, which is not installed: "
    "`apt-get install -y wrk` (Debian), then run `make bench` again"
)
_WRK_SCRIPT = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%.0f,"duration_us":%.0f,"p50_us":%.0f,"p90_us":%.0f,"p99_us":%.0f,' ..
    '"max_us":%.0f,"connect":%.0f,"read":%.0f,"write":%.0f,"status":%.0f,"timeout":%.0f}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def require_wrk() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit(WRK_HELP)
    return found


@dataclass(frozen=True, slots=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: int  # socket errors, timeouts and non-2xx/3xx answers

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def run_wrk(
    url: str,
    *,
    connections: int,
    seconds: float,
    headers: Sequence[str] = (),
    threads: int = 1,
) -> LoadResult:
    """``wrk`` against ``url`` (loopback only) for ``seconds``; its own Lua ``done`` hook
    reports the exact percentiles as JSON."""
    if not url.startswith(("http://127.0.0.1:", "http://localhost:")):
        raise ValueError("benchmarks target loopback only")
    wrk = require_wrk()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT)
    try:
        command = [
            wrk,
            f"-t{threads}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            script.name,
        ]
        for header in headers:
            command += ["-H", header]
        out = subprocess.run(
            [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
    finally:
        os.unlink(script.name)
    match = re.search(r"^WRKJSON (\{.*\})$", out, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    data: dict[str, float] = json.loads(match.group(1))
    return LoadResult(
        requests=int(data["requests"]),
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p90_ms=data["p90_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        max_ms=data["max_us"] / 1000,
        errors=int(
            data["connect"] + data["read"] + data["write"] + data["status"] + data["timeout"]
        ),
    )


# --- seed data and tokens ----------------------------------------------------------------------


def actor_of(user: Any) -> Any:
    from models.identity import ALL_SCOPES, Actor

    return Actor(
        user_id=user.id,
        roles=frozenset(user.roles),
        scopes=frozenset(ALL_SCOPES),
        client_id="bench",
    )


def make_user(session: Session, *, role: str, now: datetime) -> Any:
    from identity.accounts import create_user
    from models.identity import Role, UserCreate

    return create_user(
        session=session,
        actor=None,
        data=UserCreate(
            email=f"{role}-{uuid.uuid4().hex[:12]}@bench.example.org",
            name=f"Bench {role}",
            roles=[Role(role)],
        ),
        now=now,
    )


def make_organization(session: Session, owner: Any, *, name: str, now: datetime) -> Any:
    from models.organizations import OrganizationCreate
    from submissions.organizations import create_organization

    return create_organization(
        session=session,
        actor=actor_of(owner),
        data=OrganizationCreate(
            name=name, registration_number=uuid.uuid4().hex[:10], country="KR", email_domains=[]
        ),
        now=now,
    )


def make_open_round(
    session: Session,
    admin: Any,
    *,
    now: datetime,
    submission_deadline: datetime | None = None,
    required_documents: list[dict[str, Any]] | None = None,
    criteria: list[dict[str, Any]] | None = None,
    gates: list[dict[str, Any]] | None = None,
    shortlist: dict[str, Any] | None = None,
) -> Any:
    from models.rounds import ProgramCreate, RoundCreate
    from submissions.rounds import create_program, create_round, open_round

    actor = actor_of(admin)
    program = create_program(
        session=session,
        actor=actor,
        data=ProgramCreate(name="Bench program", description="benchmark"),
        now=now,
    )
    deadline = submission_deadline or now + timedelta(days=7)
    round_ = create_round(
        session=session,
        actor=actor,
        program_id=program.id,
        data=RoundCreate.model_validate(
            {
                "name": "Bench round",
                "opens_at": now - timedelta(hours=1),
                "submission_deadline": deadline,
                "grace_seconds": 0,
                "review_deadline": deadline + timedelta(days=7),
                "criteria": criteria
                or [{"key": "impact", "title": "Impact", "weight": 1, "min": 0, "max": 10}],
                "gates": gates or [],
                "required_documents": required_documents or [],
                "reviewers_per_application": 1,
                "shortlist": shortlist or {"size": 1},
            }
        ),
        now=now,
    )
    return open_round(session=session, actor=actor, round_id=round_.id, now=now)


def make_application(
    session: Session,
    round_: Any,
    applicant: Any,
    lead: Any,
    *,
    members: Sequence[Any] = (),
    now: datetime,
) -> Any:
    from models.applications import ApplicationCreate, ApplicationMemberIn
    from submissions.applications import create_application

    return create_application(
        session=session,
        actor=actor_of(applicant),
        round_id=round_.id,
        data=ApplicationCreate(
            title=f"Bid of {lead.name}",
            summary="A sovereign foundation model, trained and served at home.",
            lead_organization_id=lead.id,
            members=[ApplicationMemberIn(organization_id=m.id) for m in members],
            keywords=["language models", "compute"],
        ),
        now=now,
    )


def mint_tokens(database_url: str, user_ids: Sequence[uuid.UUID], *, ttl: int = 3600) -> list[str]:
    """Access tokens for ``user_ids`` (each from its own client, ``bench-N``) signed with the
    database's key, as the built-in issuer of a server on that database would sign them
    (creating the key on first use)."""
    from identity.oauth.keys import BuiltinKeys
    from identity.oauth.tokens import issue_access_token
    from infra.db import make_engine
    from models.identity import ALL_SCOPES

    engine = make_engine(database_url, pool_size=1)
    try:
        keys = BuiltinKeys(engine, clock=lambda: datetime.now(UTC), token_ttl=ttl)
        return [
            issue_access_token(
                keys=keys,
                issuer=PUBLIC_URL,
                audience="urn:shortlist:api",
                user_id=user_id,
                client_id=f"bench-{n}",
                scopes=ALL_SCOPES,
                now=datetime.now(UTC),
                ttl=ttl,
            ).access_token
            for n, user_id in enumerate(user_ids)
        ]
    finally:
        engine.dispose()


def mint_token(database_url: str, user_id: uuid.UUID, *, ttl: int = 3600) -> str:
    return mint_tokens(database_url, [user_id], ttl=ttl)[0]


def print_figure(figure: dict[str, Any]) -> None:
    verdict = {True: "meets", False: "MISSES", None: ""}[figure.get("ok")]
    print(
        f"  {figure['name']:<58} {figure['value']:>10.2f} {figure.get('unit', ''):<6}"
        f" baseline {figure.get('baseline', float('nan')):>10.2f}"
        f"  ratio {figure.get('ratio', float('nan')):>6.3f}  {verdict}",
        flush=True,
    )
