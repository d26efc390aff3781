"""Two real server processes (uvicorn) sharing one database are one authorization server:
each validates the other's tokens (shared signing keys), sees the other's revocations, and an
off-the-shelf OAuth client (authlib's) completes client_credentials and the authorization code
+ PKCE flow across them.

The servers run with their default actor cache: on SQLite off (a revocation through one process
holds in the other at once, by construction); on PostgreSQL on, each process hearing the
other's changes by ``NOTIFY``. There "at once" means: once the other process has heard the
revocation's notification, which the test knows without a clock by a probe sent after the
revocation committed (``identity.actors.PROBE``: notifications are heard in commit order). How
soon that is (the 100 ms at p99 of issue 18) is measured by ``bench/bench_revocation.py``."""

import html
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from authlib.integrations.httpx_client import OAuth2Client
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from identity.accounts import set_password
from identity.actors import ACTORS_CHANNEL, PROBE
from infra.db import make_engine, open_session
from models.identity import Role
from tests.conftest import PG_URL, _truncate_all
from tests.factories import NOW, bearer, make_oauth_client, make_user
from tests.integration.conftest import free_port, stop, wait_for_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "two processes, one issuer"


@dataclass(frozen=True)
class Servers:
    a: str
    b: str
    issuer: str


@pytest.fixture(scope="module")
def shared_database(database_template: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One database for the module's two servers (started once: they take a while to boot)."""
    if PG_URL:
        _truncate_all(database_template)
        return database_template
    path = tmp_path_factory.mktemp("two-processes") / "shortlist.db"
    shutil.copyfile(database_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="module")
def servers(shared_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    database_url = shared_database
    tmp_path = tmp_path_factory.mktemp("servers")
    ports = [free_port(), free_port()]
    # One service behind two processes: one public URL, hence one issuer.
    issuer = f"http://127.0.0.1:{ports[0]}"
    env = {
        **os.environ,
        "SHORTLIST_ENVIRONMENT": "test",
        "SHORTLIST_DATABASE_URL": database_url,
        "SHORTLIST_STORAGE_URL": f"file://{tmp_path / 'blobs'}",
        "SHORTLIST_PUBLIC_URL": issuer,
        "SHORTLIST_LOG_LEVEL": "WARNING",
        # The revocation test issues a few hundred tokens to one client.
        "SHORTLIST_RATE_LIMIT_TOKEN_PER_MINUTE": "0",
    }
    processes, logs = [], []
    for port in ports:
        log = tmp_path / f"server-{port}.log"
        with log.open("wb") as out:
            command = [sys.executable, "-m", "uvicorn", "api.app:app_from_env", "--factory"]
            command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
            processes.append(
                subprocess.Popen(
                    command,
                    cwd=ROOT,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                )
            )
        logs.append(log)
    try:
        for process, port, log in zip(processes, ports, logs, strict=True):
            # Importing the app takes 30 s of wall time on this shared 2-core machine under
            # load, and the two start together.
            wait_for_port(process, port, log, timeout=180)
        yield Servers(f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}", issuer)
    finally:
        for process in processes:
            stop(process)


@pytest.fixture
def engine(shared_database: str) -> Iterator[Engine]:
    engine = make_engine(shared_database, pool_size=1)
    yield engine
    engine.dispose()


def test_each_process_validates_the_others_tokens(servers: Servers, engine: Engine) -> None:
    session = open_session(engine, write=True)
    try:
        user = make_user(session, roles=[Role.applicant])
        client_id, secret = make_oauth_client(session, user, scopes=["applications:read"])
    finally:
        session.close()

    tokens = {}
    for name, base in (("a", servers.a), ("b", servers.b)):
        with OAuth2Client(client_id, secret, token_endpoint_auth_method="client_secret_post") as c:
            tokens[name] = c.fetch_token(f"{base}/oauth/token", grant_type="client_credentials")
        assert tokens[name]["scope"] == "applications:read"

    with httpx.Client(timeout=10) as http:
        for token, other in ((tokens["a"], servers.b), (tokens["b"], servers.a)):
            me = http.get(f"{other}/api/v1/me", headers=bearer(token["access_token"]))
            assert me.status_code == 200, me.text
            assert me.json()["id"] == str(user.id)
        jwks = [http.get(f"{base}/oauth/jwks").json() for base in (servers.a, servers.b)]
        assert jwks[0] == jwks[1]

        # A revocation through one process holds in the other (once heard there).
        revoked = http.post(
            f"{servers.a}/oauth/revoke",
            data={"token": tokens["a"]["access_token"]},
            auth=(client_id, secret or ""),
        )
        assert revoked.status_code == 200
        caught_up(servers.b, engine)
        refused = http.get(f"{servers.b}/api/v1/me", headers=bearer(tokens["a"]["access_token"]))
        assert refused.status_code == 401
        assert "revoked" in refused.headers["www-authenticate"]


TRIES = 200
CAUGHT_UP_WITHIN = 10.0
"""How long a process may take to hear a probe before the test gives up (liveness only)."""


def metric(base: str, name: str) -> float:
    """A counter of the process at ``base`` (its /metrics, open on loopback)."""
    response = httpx.get(f"{base}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            if sample.name == name:
                return float(sample.value)
    raise AssertionError(f"no {name} in /metrics")


PROBES = "shortlist_actor_cache_probes_total"
BYPASSES = "shortlist_actor_cache_bypasses_total"


def caught_up(base: str, engine: Engine, *, heard: float | None = None) -> float:
    """Once this returns, the process at ``base`` has heard every change committed before the
    call (PostgreSQL: a probe sent now was counted there; SQLite: nothing to hear, no cache).
    ``heard``: the probes it counted so far, when known (saves a scrape); returns the new
    count."""
    if engine.dialect.name != "postgresql":
        return 0.0
    before = metric(base, PROBES) if heard is None else heard
    with engine.begin() as connection:
        connection.execute(sa.select(sa.func.pg_notify(ACTORS_CHANNEL, PROBE)))
    deadline = time.monotonic() + CAUGHT_UP_WITHIN
    while (now := metric(base, PROBES)) <= before:
        assert time.monotonic() < deadline, f"{base} did not hear a probe"
        time.sleep(0.002)
    return now


def test_a_token_revoked_through_one_process_is_refused_by_the_other(
    servers: Servers, engine: Engine
) -> None:
    """Issue 18's two-process acceptance, without a clock: 200 times, a token that process B
    has just accepted (and, with the cache on, remembers) is revoked through process A; once B
    has heard the revocation, B refuses it (and keeps refusing it). How
    many requests B accepted between A's commit and B hearing it is the benchmark's business
    (bench/bench_revocation.py); B's cache must not have been bypassed meanwhile (a lost
    listener would make the test pass by reading every time)."""
    session = open_session(engine, write=True)
    try:
        user = make_user(session, roles=[Role.applicant])
        client_id, secret = make_oauth_client(session, user, scopes=["applications:read"])
    finally:
        session.close()
    assert secret is not None
    credentials = {"grant_type": "client_credentials"}
    auth = (client_id, secret)
    postgresql = engine.dialect.name == "postgresql"
    with httpx.Client(timeout=10) as http:
        # B listens (it heard a probe), and keeps listening (no bypass) to the end.
        heard = caught_up(servers.b, engine)
        bypasses = metric(servers.b, BYPASSES)
        for _ in range(TRIES):
            issued = http.post(f"{servers.a}/oauth/token", data=credentials, auth=auth)
            assert issued.status_code == 200, issued.text
            token = bearer(issued.json()["access_token"])
            assert http.get(f"{servers.b}/api/v1/me", headers=token).status_code == 200
            revoked = http.post(
                f"{servers.a}/oauth/revoke",
                data={"token": issued.json()["access_token"]},
                auth=auth,
            )
            assert revoked.status_code == 200
            # A's commit is behind us: B may still answer from its cache until it hears it.
            early = http.get(f"{servers.b}/api/v1/me", headers=token)
            assert early.status_code in ((200, 401) if postgresql else (401,)), early.text
            heard = caught_up(servers.b, engine, heard=heard)
            for _ in range(2):
                refused = http.get(f"{servers.b}/api/v1/me", headers=token)
                assert refused.status_code == 401, refused.text
                assert "revoked" in refused.headers["www-authenticate"]
        assert metric(servers.b, BYPASSES) == bypasses


def test_pkce_flow_across_processes_with_an_off_the_shelf_client(
    servers: Servers, engine: Engine
) -> None:
    redirect = "http://127.0.0.1:1/callback"
    session = open_session(engine, write=True)
    try:
        user = make_user(session, roles=[Role.reviewer])
        set_password(session=session, email=user.email, password=PASSWORD, now=NOW)
        session.commit()
        client_id, _ = make_oauth_client(
            session, user, public=True, redirect_uris=[redirect], scopes=["reviews:read"]
        )
    finally:
        session.close()

    oauth = OAuth2Client(
        client_id,
        redirect_uri=redirect,
        scope="reviews:read",
        token_endpoint_auth_method="none",
        code_challenge_method="S256",
    )
    verifier = "v" * 20 + "-verifier-" + "x" * 30
    url, state = oauth.create_authorization_url(
        f"{servers.a}/oauth/authorize", code_verifier=verifier
    )
    with httpx.Client(timeout=10, follow_redirects=False) as browser:
        page = browser.get(url)
        assert page.status_code == 200, page.text
        form = {
            name: html.unescape(value)
            for name, value in re.findall(
                r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text
            )
        }
        # The form goes to the other process (cookies are per host, not per port).
        landed = browser.post(
            f"{servers.b}/oauth/authorize",
            data={**form, "email": user.email, "password": PASSWORD},
        )
    assert landed.status_code == 302, landed.text
    location = landed.headers["location"]
    token = oauth.fetch_token(
        f"{servers.a}/oauth/token",
        authorization_response=location,
        code_verifier=verifier,
        state=state,
    )
    assert token["scope"] == "reviews:read"
    refreshed = oauth.refresh_token(
        f"{servers.b}/oauth/token", refresh_token=token["refresh_token"]
    )
    assert refreshed["refresh_token"] != token["refresh_token"]
    with httpx.Client(timeout=10) as http:
        me = http.get(f"{servers.a}/api/v1/me", headers=bearer(refreshed["access_token"]))
        assert me.status_code == 200
        assert me.json()["email"] == user.email
        # The spent refresh token, replayed on the other process, revokes the family there too.
        replay = http.post(
            f"{servers.a}/oauth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": token["refresh_token"],
                "client_id": client_id,
            },
        )
        assert replay.status_code == 400
        gone = http.get(f"{servers.b}/api/v1/me", headers=bearer(refreshed["access_token"]))
        assert gone.status_code == 401
    oauth.close()
