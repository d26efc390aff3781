"""Attack: read who reviewed what, or what was said in confidence, from the decision record.

Once a round is published its record goes to anyone with a token (applicants of the other bids,
reviewers, users with no role), so it may hold only what the published decision needs to be
recomputed: application ids, their submission times, the rules, each review's scores and gate
verdicts under a reviewer pseudonym, the result and the hashes (docs/decision-record.md, "What a
record holds"). Every id in it must be the round's, an application's or a pseudonym; no name,
email, organization, title, summary, keyword or comment of any kind may appear."""

import base64
import json
import re
import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.test_decision_record import reviewed
from tests.api.test_review_flow import Round
from tests.factories import make_principal, ok

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def test_a_published_record_names_nobody_and_repeats_no_comment(
    app: FastAPI, client: TestClient
) -> None:
    c = Round(app, client)
    reviewed(c)
    ok(client.post(f"/api/v1/rounds/{c.rid}/close", headers=c.admin))
    ok(client.post(f"/api/v1/rounds/{c.rid}/publish", headers=c.admin))
    _, stranger = make_principal(app, roles=[])
    token = client.get(f"/api/v1/rounds/{c.rid}/decision-record", headers=stranger)
    assert token.status_code == 200, token.text
    body = token.text.split(".")[1]
    text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
    payload = json.loads(text)

    # Every id is the round's, a bid's or a reviewer pseudonym (UUID 1..n).
    pseudonyms = {str(uuid.UUID(int=n)) for n in range(1, len(c.reviewers) + 1)}
    assert set(UUID.findall(text)) <= {c.rid, *c.apps, *pseudonyms}
    assert {r["reviewer_id"] for r in payload["inputs"]["reviews"]} == pseudonyms

    users = [*c.reviewer_users, *c.applicant_users, c.admin_user]
    forbidden = [
        *(str(u.id) for u in users),
        *(u.id.hex for u in users),
        *(u.email for u in users),
        *(u.email.split("@")[1] for u in users),
        *c.orgs,
        "Consortium",
        "Model 0",
        "A national foundation model",
        "korean",
        "feedback",
        "secret note",
        "Technology",
        "Independent development",
        "Test User",
    ]
    leaked = [word for word in forbidden if word.lower() in text.lower()]
    assert leaked == []
