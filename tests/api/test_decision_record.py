"""``GET /api/v1/rounds/{id}/decision-record``: who gets it when, and what it holds (a compact
JWS by the service's key over the RFC 8785 payload, which ``shortlist verify-record`` accepts),
with the built-in authorization server or with an external OpenID Connect provider only."""

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from joserfc import jws, jwt
from joserfc.jwk import RSAKey

from api.app import create_app
from cli.main import main as shortlist
from identity.decision_records import verify_record_signature
from infra.settings import Settings
from reviewers.decision.record import RECORD_TYPE, check_payload, parse_payload, sha256_hex
from tests.api.test_review_flow import Round, submit_review
from tests.factories import bearer, make_principal, make_token, ok


def record_of(client: TestClient, round_id: str, headers: dict[str, str]) -> Any:
    return client.get(f"/api/v1/rounds/{round_id}/decision-record", headers=headers)


def reviewed(c: Round) -> None:
    """The competition in review with every review submitted (application i: tech 9 - i)."""
    c.start_review()
    c.panel()
    ok(
        c.client.post(
            f"/api/v1/rounds/{c.rid}/assignments/auto", json={"dry_run": False}, headers=c.admin
        )
    )
    for _, headers in c.reviewers:
        for assignment in ok(c.client.get("/api/v1/me/assignments", headers=headers))["items"]:
            i = c.apps.index(assignment["application_id"])
            submit_review(
                c.client,
                assignment,
                headers,
                {
                    "scores": {"tech": 9 - i, "team": 5 + i % 2},
                    "gates": {"independent": "pass"},
                    "comment_to_applicant": f"feedback {i}",
                    "confidential_comment": "secret note",
                },
            )


@pytest.fixture
def competition(app: FastAPI, client: TestClient) -> Round:
    c = Round(app, client)
    reviewed(c)
    return c


def test_who_gets_the_record_and_when(competition: Round, client: TestClient) -> None:
    c = competition
    reviewer = c.reviewers[0][1]
    applicant = c.applicants[0]
    _, nobody = make_principal(c.app, roles=[])

    # Anonymous: 401 with the Bearer challenge, whatever the round.
    anonymous = client.get(f"/api/v1/rounds/{c.rid}/decision-record")
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Bearer")
    # An unknown round: 404 for everyone.
    for headers in (c.admin, applicant, reviewer):
        missing = record_of(client, str(uuid.uuid4()), headers)
        assert missing.status_code == 404, missing.text
    # In review: not closed (admin), not published (everyone else).
    early = record_of(client, c.rid, c.admin)
    assert early.status_code == 409
    assert early.json()["type"] == "round-not-closed"
    for headers in (applicant, reviewer, nobody):
        refused = record_of(client, c.rid, headers)
        assert refused.status_code == 403
        assert refused.json()["type"] == "not-published"

    ok(client.post(f"/api/v1/rounds/{c.rid}/close", headers=c.admin))
    admin = record_of(client, c.rid, c.admin)
    assert admin.status_code == 200, admin.text
    assert admin.headers["content-type"] == "application/jose"
    assert "no-store" in admin.headers["cache-control"]
    # Closed, not published: still the admins' alone (outcomes are sealed until publish).
    for headers in (applicant, reviewer, nobody):
        refused = record_of(client, c.rid, headers)
        assert refused.status_code == 403
        assert refused.json()["type"] == "not-published"

    ok(client.post(f"/api/v1/rounds/{c.rid}/publish", headers=c.admin))
    for headers in (c.admin, applicant, reviewer, nobody):
        published = record_of(client, c.rid, headers)
        assert published.status_code == 200, published.text
        assert published.headers["content-type"] == "application/jose"


def test_the_record_is_signed_by_the_service_and_holds_the_stored_decision(
    competition: Round, client: TestClient, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = competition
    ok(client.post(f"/api/v1/rounds/{c.rid}/close", headers=c.admin))
    results = ok(client.get(f"/api/v1/rounds/{c.rid}/results", headers=c.admin))
    token = record_of(client, c.rid, c.admin).text

    header = jws.extract_compact(token.encode()).headers()
    assert header["typ"] == RECORD_TYPE
    jwks = ok(client.get("/oauth/jwks"))
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    verified = verify_record_signature(token, jwks=jwks)
    payload = parse_payload(verified.payload)

    assert check_payload(payload) is None
    assert payload["round_id"] == c.rid
    assert payload["inputs_sha256"] == results["inputs_sha256"]
    assert payload["result_sha256"] == results["result_sha256"] == sha256_hex(payload["result"])
    assert payload["rules"] == payload["inputs"]["rules"]
    ranking = [(r["application_id"], r["rank"], r["reason"]) for r in results["ranking"]]
    assert [(r["application_id"], r["rank"], r["reason"]) for r in payload["result"]["rows"]] == (
        ranking
    )
    # Four reviewers took part: pseudonyms 1..4, the same in a record issued later.
    reviewers = {r["reviewer_id"] for r in payload["inputs"]["reviews"]}
    assert reviewers == {str(uuid.UUID(int=n)) for n in range(1, 4 + 1)}
    # The audit head is the close's event, which carries both hashes.
    head = payload["audit_head"]
    closing = ok(client.get(f"/api/v1/audit?after_seq={head['seq'] - 1}&limit=1", headers=c.admin))[
        "items"
    ][0]
    assert closing["action"] == "round.closed"
    assert closing["object_id"] == c.rid
    assert head == {"seq": closing["seq"], "hash": closing["hash"]}
    assert closing["data"]["inputs_sha256"] == payload["inputs_sha256"]
    assert closing["data"]["result_sha256"] == payload["result_sha256"]

    c.clock.now = c.clock.now.replace(year=c.clock.now.year + 1)
    later = parse_payload(
        verify_record_signature(record_of(client, c.rid, c.admin).text, jwks=jwks).payload
    )
    assert later["issued_at"] != payload["issued_at"]
    assert {k: v for k, v in later.items() if k != "issued_at"} == {
        k: v for k, v in payload.items() if k != "issued_at"
    }

    # shortlist verify-record accepts the served record with the served JWKS.
    record = tmp_path / "record.jws"
    record.write_text(token)
    jwks_file = tmp_path / "jwks.json"
    jwks_file.write_text(json.dumps(jwks))
    assert shortlist(["verify-record", str(record), "--jwks", str(jwks_file)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["ok"], summary["round_id"], summary["shortlisted"]) == (True, c.rid, 3)


class Provider:
    """An OpenID Connect provider reduced to what a resource server reads of it: its discovery
    document and its JWKS, served on loopback; it signs its access tokens itself."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "idp-1", "alg": "RS256"})
        documents: dict[str, Any] = {}

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps(documents.get(self.path)).encode()
                self.send_response(200 if self.path in documents else 404)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        documents["/.well-known/openid-configuration"] = {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/jwks",
        }
        documents["/jwks"] = {"keys": [self.key.as_dict(private=False)]}
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(self, *, now: int, scope: str) -> str:
        claims = {
            "iss": self.issuer,
            "sub": "auditor",
            "aud": "urn:shortlist:api",
            "iat": now,
            "exp": now + 600,
            "jti": uuid.uuid4().hex,
            "client_id": "auditor-app",
            "scope": scope,
        }
        return jwt.encode({"alg": "RS256", "typ": "at+jwt", "kid": "idp-1"}, claims, self.key)


@pytest.fixture
def provider() -> Iterator[Provider]:
    idp = Provider()
    yield idp
    idp.server.shutdown()
    idp.server.server_close()


def test_without_the_builtin_issuer_the_record_keys_are_still_served(
    competition: Round,
    client: TestClient,
    settings: Settings,
    provider: Provider,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    c = competition
    ok(client.post(f"/api/v1/rounds/{c.rid}/close", headers=c.admin))
    ok(client.post(f"/api/v1/rounds/{c.rid}/publish", headers=c.admin))
    # The same database served with external tokens only: the authorization server is off,
    # but the keys that sign the records are published where the record says (its kid).
    # Made outside capsys's capture, as the app fixture's is: create_app points the log at the
    # sys.stderr of the moment, and capsys's is closed after this test (later tests' log lines
    # would meet a closed file).
    with capsys.disabled():
        external = create_app(
            settings.model_copy(update={"builtin_issuer": False, "oidc_issuer": provider.issuer})
        )
    external.state.clock = c.app.state.clock
    try:
        with TestClient(external) as served:
            assert served.get("/.well-known/oauth-authorization-server").status_code == 404
            assert served.post("/oauth/token").status_code == 404
            jwks = ok(served.get("/oauth/jwks"))
            now = int(external.state.clock().timestamp())
            token = provider.token(now=now, scope="applications:read")
            record = served.get(f"/api/v1/rounds/{c.rid}/decision-record", headers=bearer(token))
            assert record.status_code == 200, record.text
            # The service's own key signs records, never tokens this mode accepts.
            own = make_token(c.app, c.admin_user)
            refused = served.get("/api/v1/me", headers=bearer(own))
            assert refused.status_code == 401
    finally:
        external.state.engine.dispose()
    header = jws.extract_compact(record.text.encode()).headers()
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert provider.key.kid not in {k["kid"] for k in jwks["keys"]}
    verify_record_signature(record.text, jwks=jwks)
    (tmp_path / "record.jws").write_text(record.text)
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    checked = shortlist(
        ["verify-record", str(tmp_path / "record.jws"), "--jwks", str(tmp_path / "jwks.json")]
    )
    assert checked == 0, capsys.readouterr()
