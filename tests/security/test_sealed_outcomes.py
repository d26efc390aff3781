"""Attack: an applicant tries to learn its outcome before the round is published.

Two consortia bid in the same round with the same history (same names, title, document, and
clock); closing shortlists one and eliminates the other; the round is not published. Every call
either applicant can make about its own bid - reads, list filters, every refused action, the
results, a later round's eligibility - must answer the same to both: same status, same headers
(ETag included), same body once ids and hashes are masked. Any difference would be a leak.
"""

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import ok
from tests.security.bids import API, Bids, Org, masked, open_round
from tests.security.scenario import CSV, T0, round_body

STATUSES = ["draft", "submitted", "withdrawn", "shortlisted", "not_selected"]
VOLATILE_HEADERS = {"date", "server", "x-request-id"}


def _answer(response: Any) -> tuple[int, dict[str, str], str]:
    headers = {
        k: masked(v) for k, v in response.headers.items() if k.lower() not in VOLATILE_HEADERS
    }
    return response.status_code, headers, masked(response.text)


def _later_round(bids: Bids, eligibility: dict[str, Any]) -> str:
    body = round_body("Stage 2")
    body["opens_at"] = (bids.clock.now - timedelta(minutes=1)).isoformat()
    body["submission_deadline"] = (bids.clock.now + timedelta(days=3)).isoformat()
    body["review_deadline"] = (bids.clock.now + timedelta(days=5)).isoformat()
    body["eligibility"] = eligibility
    round_id = ok(
        bids.client.post(
            f"{API}/programs/{bids.program_id}/rounds", json=body, headers=bids.admin.headers
        ),
        201,
    )["id"]
    ok(bids.client.post(f"{API}/rounds/{round_id}/open", headers=bids.admin.headers))
    return str(round_id)


def _everything(
    bids: Bids, org: Org, application: str, document: str, later: list[str]
) -> dict[str, tuple[int, dict[str, str], str]]:
    """Every call the applicant's owner can make about its own bid, in a fixed order (the
    refused ones change nothing)."""
    c, h = bids.client, org.owner.headers
    app_path = f"{API}/applications/{application}"
    answers: dict[str, Any] = {}
    answers["get"] = c.get(app_path, headers=h)
    etag = answers["get"].headers["etag"]
    answers["list"] = c.get(f"{API}/applications", headers=h)
    answers["list round"] = c.get(
        f"{API}/applications", params={"round_id": bids.round_id}, headers=h
    )
    for status in STATUSES:
        answers[f"list {status}"] = c.get(
            f"{API}/applications", params={"status": status}, headers=h
        )
    answers["documents"] = c.get(f"{app_path}/documents", headers=h)
    answers["document"] = c.get(f"{API}/documents/{document}", headers=h)
    answers["content"] = c.get(f"{API}/documents/{document}/content", headers=h)
    answers["range"] = c.get(
        f"{API}/documents/{document}/content", headers={**h, "Range": "bytes=0-3"}
    )
    answers["patch"] = c.patch(app_path, json={"title": "Later"}, headers={**h, "If-Match": etag})
    answers["patch stale"] = c.patch(
        app_path, json={"title": "Later"}, headers={**h, "If-Match": '"1"'}
    )
    for action in ("submit", "reopen", "withdraw"):
        answers[action] = c.post(f"{app_path}/{action}", headers=h)
    answers["upload"] = bids.upload(application, org.owner, body=CSV + b"More,1\n")
    answers["delete"] = c.delete(f"{API}/documents/{document}", headers=h)
    answers["confirm"] = bids.confirm(application, org)
    answers["decline"] = bids.decline(application, org)
    answers["results"] = c.get(f"{API}/rounds/{bids.round_id}/results", headers=h)
    answers["results.csv"] = c.get(f"{API}/rounds/{bids.round_id}/results.csv", headers=h)
    answers["decision record"] = c.get(f"{API}/rounds/{bids.round_id}/decision-record", headers=h)
    answers["new bid"] = c.post(
        f"{API}/rounds/{bids.round_id}/applications",
        json={"title": "Again", "lead_organization_id": org.id},
        headers=h,
    )
    for i, round_id in enumerate(later):
        answers[f"later round {i}"] = c.post(
            f"{API}/rounds/{round_id}/applications",
            json={"title": "Next", "lead_organization_id": org.id},
            headers=h,
        )
    answers["me"] = c.get(f"{API}/me", headers=h)
    return {name: _answer(response) for name, response in answers.items()}


def test_nothing_an_applicant_receives_depends_on_its_outcome_before_publish(
    app: FastAPI, client: TestClient
) -> None:
    bids = open_round(app, client)
    winner, loser = bids.organization("Consortium"), bids.organization("Consortium")
    bid_of: dict[str, str] = {}
    document_of: dict[str, str] = {}
    for org in (winner, loser):
        bid_of[org.id] = bids.bid(org)["id"]
        document_of[org.id] = ok(bids.upload(bid_of[org.id], org.owner), 201)["id"]
        ok(bids.submit(bid_of[org.id], org.owner))
    bids.close_with_outcomes(shortlisted=bid_of[winner.id], eliminated=bid_of[loser.id])
    # The admin sees the outcomes; the applicants must not be able to tell.
    admin_view = {
        org.id: ok(bids.get(f"/applications/{bid_of[org.id]}", bids.admin))["status"]
        for org in (winner, loser)
    }
    assert admin_view == {winner.id: "shortlisted", loser.id: "not_selected"}
    later = [
        _later_round(bids, {"only_shortlisted_from": bids.round_id}),
        _later_round(bids, {"exclude_shortlisted_from": [bids.round_id]}),
    ]

    seen = {
        org.id: _everything(bids, org, bid_of[org.id], document_of[org.id], later)
        for org in (winner, loser)
    }

    differences = [
        f"{name}: {seen[winner.id][name]} != {seen[loser.id][name]}"
        for name in seen[winner.id]
        if seen[winner.id][name] != seen[loser.id][name]
    ]
    assert not differences, "\n".join(differences)
    answers = seen[winner.id]
    assert answers["get"][0] == 200
    assert '"status":"submitted"' in answers["get"][2]
    for action in ("patch", "patch stale", "submit", "reopen", "withdraw", "upload", "delete"):
        assert answers[action][0] == 409, action
        assert '"type":"round-closed"' in answers[action][2], action
    for action in ("confirm", "decline"):
        assert '"type":"round-closed"' in answers[action][2], action
    assert '"<id>"' in answers["list submitted"][2]
    assert '"items":[]' in answers["list shortlisted"][2]
    assert '"items":[]' in answers["list not_selected"][2]


def test_publishing_changes_what_an_applicant_sees_and_so_its_etag(
    app: FastAPI, client: TestClient
) -> None:
    """The ETag is a function of what the caller sees: the same for both outcomes before
    publish, and a new one once publishing shows the outcome (the version does not change)."""
    bids = open_round(app, client)
    winner, loser = bids.organization("Consortium"), bids.organization("Consortium")
    bid_of = {}
    for org in (winner, loser):
        bid_of[org.id] = bids.bid(org)["id"]
        ok(bids.upload(bid_of[org.id], org.owner), 201)
        ok(bids.submit(bid_of[org.id], org.owner))
    bids.close_with_outcomes(shortlisted=bid_of[winner.id], eliminated=bid_of[loser.id])

    def seen(org: Org) -> tuple[str, str, int]:
        response = bids.get(f"/applications/{bid_of[org.id]}", org.owner)
        body = ok(response)
        return response.headers["etag"], body["status"], body["version"]

    before = {org.id: seen(org) for org in (winner, loser)}
    assert before[winner.id] == before[loser.id]
    ok(bids.client.post(f"{API}/rounds/{bids.round_id}/publish", headers=bids.admin.headers))
    after = {org.id: seen(org) for org in (winner, loser)}
    for org, outcome in ((winner, "shortlisted"), (loser, "not_selected")):
        etag, status, version = after[org.id]
        assert (status, version) == (outcome, before[org.id][2])
        assert etag != before[org.id][0]
    # Published, any action is still refused alike: the round is over.
    for org in (winner, loser):
        refused = bids.client.post(
            f"{API}/applications/{bid_of[org.id]}/withdraw", headers=org.owner.headers
        )
        assert refused.status_code == 409
        assert refused.json()["type"] == "round-closed"
    assert bids.clock.now > T0
