"""Attack: read a published round's decision record with a token whose scopes do not cover
results - a reviewer's app holding only ``reviews:*``, an audit client, an admin's round-keeping
client. The record carries the results, so it asks for the scope the results ask for
(``applications:read``, shared/API.md "Scope per route"): without it, 403 ``insufficient_scope``
for the record as for the results, whatever the caller's role; with that scope alone, the
record."""

from fastapi import FastAPI
from fastapi.testclient import TestClient

from models.identity import ALL_SCOPES, Role, Scope
from tests.api.test_decision_record import reviewed
from tests.api.test_review_flow import Round
from tests.factories import make_principal, ok

ROLES = {
    "admin": [Role.admin],
    "applicant": [Role.applicant],
    "reviewer": [Role.reviewer],
    "none": [],
}


def test_a_published_record_needs_the_results_scope(app: FastAPI, client: TestClient) -> None:
    c = Round(app, client)
    reviewed(c)
    ok(client.post(f"/api/v1/rounds/{c.rid}/close", headers=c.admin))
    ok(client.post(f"/api/v1/rounds/{c.rid}/publish", headers=c.admin))
    without = [s for s in ALL_SCOPES if s != Scope.applications_read]
    for role, roles in ROLES.items():
        _, headers = make_principal(app, roles=roles, scopes=without)
        for path in ("decision-record", "results"):
            refused = client.get(f"/api/v1/rounds/{c.rid}/{path}", headers=headers)
            assert refused.status_code == 403, (role, path, refused.text)
            challenge = refused.headers["www-authenticate"]
            assert 'error="insufficient_scope"' in challenge, (role, path, challenge)
            assert "applications:read" in challenge, (role, path, challenge)
        _, reader = make_principal(app, roles=roles, scopes=[Scope.applications_read])
        record = client.get(f"/api/v1/rounds/{c.rid}/decision-record", headers=reader)
        assert record.status_code == 200, (role, record.text)
        assert record.headers["content-type"] == "application/jose"
