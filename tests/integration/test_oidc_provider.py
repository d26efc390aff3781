"""Shortlist trusting a real OpenID Connect provider: the npm package ``oidc-provider`` (pinned in
tests/oidc/package-lock.json, installed by ``.ci/setup``), run by tests/oidc/provider.mjs on a
free loopback port. It issues RFC 9068 JWT access tokens for ``urn:shortlist:api`` through the
client_credentials grant, with a ``roles`` claim, and signs with a new key on every start.
"""

import select
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session
from sqlmodel import select as sql_select

from infra.clock import system_clock
from infra.settings import Settings
from models.identity import User
from tests.factories import bearer
from tests.integration.conftest import free_port, stop

pytestmark = pytest.mark.integration

OIDC_DIR = Path(__file__).resolve().parent.parent / "oidc"
SCRIPT = OIDC_DIR / "provider.mjs"
ALL = "applications:read applications:write reviews:read reviews:write rounds:admin audit:read"
ROLE_MAP = {"shortlist-admins": "admin", "shortlist-reviewers": "reviewer"}


def _missing() -> str | None:
    if shutil.which("node") is None:
        return "node is not installed (bash .ci/setup installs it)"
    if not (OIDC_DIR / "node_modules" / "oidc-provider" / "package.json").is_file():
        return "oidc-provider is not installed: npm ci --prefix tests/oidc (bash .ci/setup does)"
    return None


class OidcProvider:
    """One ``node provider.mjs`` process at a time, always on the same port (so the issuer
    stays the same across restarts, as a real provider's would)."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.kid = ""
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            process = subprocess.Popen(
                ["node", str(SCRIPT), str(self.port)],
                cwd=OIDC_DIR,
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
            )
        self._process = process
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], 30)
        line = process.stdout.readline().decode() if ready else ""
        if not line.startswith("READY "):
            stop(process)
            raise RuntimeError(f"oidc-provider did not start:\n{self.log.read_text()}")
        _, issuer, self.kid = line.split()
        assert issuer == self.issuer

    def stop(self) -> None:
        if self._process is not None:
            stop(self._process)
            assert self._process.stdout is not None
            self._process.stdout.close()
            self._process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def token(self, client_id: str, scope: str = ALL) -> str:
        response = httpx.post(
            f"{self.issuer}/token",
            auth=(client_id, f"{client_id}-secret"),
            data={"grant_type": "client_credentials", "scope": scope},
            timeout=10,
        )
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    reason = _missing()
    if reason:
        pytest.skip(reason)
    op = OidcProvider(tmp_path_factory.mktemp("oidc") / "provider.log")
    op.start()
    try:
        yield op
    finally:
        op.stop()


@pytest.fixture
def settings(settings: Settings, provider: OidcProvider) -> Settings:
    return settings.model_copy(
        update={
            "oidc_issuer": provider.issuer,
            "oidc_roles_claim": "roles",
            "oidc_role_map": ROLE_MAP,
            # Refetch at once on an unknown kid (production waits oidc_jwks_min_refresh).
            "oidc_jwks_min_refresh": 0.0,
        }
    )


@pytest.fixture
def app(app: FastAPI) -> FastAPI:
    # The provider is another process: it stamps its tokens by its system clock, and the app
    # must judge them by the same one.
    app.state.clock = system_clock
    return app


def _me(client: TestClient, token: str) -> dict[str, object]:
    response = client.get("/api/v1/me", headers=bearer(token))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_provider_tokens_are_rfc9068(provider: OidcProvider) -> None:
    from joserfc import jws

    token = provider.token("reviewer-bot")
    header = jws.extract_compact(token.encode()).headers()
    assert header["typ"] == "at+jwt"
    assert header["kid"] == provider.kid


def test_accepts_tokens_and_maps_roles(
    app: FastAPI, client: TestClient, provider: OidcProvider
) -> None:
    admin = _me(client, provider.token("admin-bot"))
    assert admin["roles"] == ["admin"]
    reviewer = _me(client, provider.token("reviewer-bot"))
    assert reviewer["roles"] == ["reviewer"]  # "unmapped-group" maps to nothing
    # Provisioned once per (issuer, subject), and found again on the next token.
    assert _me(client, provider.token("reviewer-bot"))["id"] == reviewer["id"]
    with Session(app.state.engine) as session:
        user = session.exec(sql_select(User).where(User.subject == "reviewer-bot")).one()
    assert user.issuer == provider.issuer
    assert str(user.id) == reviewer["id"]


def test_reviewer_token_is_refused_on_an_admin_route(
    client: TestClient, provider: OidcProvider
) -> None:
    body = {"email": "new.person@example.org", "name": "New Person", "roles": ["reviewer"]}
    reviewer = client.post(
        "/api/v1/users", json=body, headers=bearer(provider.token("reviewer-bot"))
    )
    assert reviewer.status_code == 403
    assert reviewer.json()["type"] == "forbidden-role"
    admin = client.post("/api/v1/users", json=body, headers=bearer(provider.token("admin-bot")))
    assert admin.status_code == 201, admin.text


def test_provider_scopes_are_enforced(client: TestClient, provider: OidcProvider) -> None:
    token = provider.token("admin-bot", scope="applications:read")
    response = client.post(
        "/api/v1/users", json={"email": "a@example.org", "name": "A"}, headers=bearer(token)
    )
    assert response.status_code == 403
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


def test_keeps_working_after_the_provider_restarts_with_a_new_key(
    client: TestClient, provider: OidcProvider
) -> None:
    before = provider.token("admin-bot")
    assert _me(client, before)["roles"] == ["admin"]
    old_kid = provider.kid

    provider.restart()
    assert provider.kid != old_kid
    after = provider.token("admin-bot")
    # An unknown kid makes Shortlist refetch the provider's JWKS.
    assert _me(client, after)["roles"] == ["admin"]
    # The provider no longer publishes the old key, so it no longer vouches for its tokens.
    refused = client.get("/api/v1/me", headers=bearer(before))
    assert refused.status_code == 401
    assert "signing key is unknown" in refused.headers["www-authenticate"]
