"""Two real server processes (uvicorn) sharing one database are one authorization server:
each validates the other's tokens (shared signing keys), sees the other's revocations, and an
off-the-shelf OAuth client (authlib's) completes client_credentials and the authorization code
+ PKCE flow across them."""

import html
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from sqlalchemy.engine import Engine

from identity.accounts import set_password
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
            wait_for_port(process, port, log, timeout=180)  # a cold interpreter, under load
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

        # A revocation through one process holds in the other.
        revoked = http.post(
            f"{servers.a}/oauth/revoke",
            data={"token": tokens["a"]["access_token"]},
            auth=(client_id, secret or ""),
        )
        assert revoked.status_code == 200
        refused = http.get(f"{servers.b}/api/v1/me", headers=bearer(tokens["a"]["access_token"]))
        assert refused.status_code == 401
        assert "revoked" in refused.headers["www-authenticate"]


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
