"""Attack: an admin (or anyone but the applicant's members) reads a sealed bid through the side
channels before the submission deadline plus grace: the audit log, and the errors of every route
about the bid. Nothing beyond ``{id, title, status, organizations}`` may show - no document names,
sizes or hashes, no receipt hashes, no summary - while the audit chain still verifies. Once the
seal lifts, the audit log shows the whole stored events, with the same hashes.
"""

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from models.identity import Role
from tests.factories import ok
from tests.security.bids import API, Bids, Person, open_round
from tests.security.scenario import T0

FILENAME = "sovereign-plan-zq81.csv"
SUMMARY = "Our unpublished method: zq81 tokens on 4096 accelerators"
SIZE = 31337


def _document(marker: bytes) -> bytes:
    head = b"item,amount\nGPUs,1200000\n" + marker + b",1\n"
    return head + b"x," * ((SIZE - len(head)) // 2) + b"\n"[: (SIZE - len(head)) % 2]


def _audit(bids: Bids, **params: Any) -> list[dict[str, Any]]:
    """The whole audit log as the admin reads it, page by page."""
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = ok(
            bids.get("/audit", bids.admin, limit=3, **({"cursor": cursor} if cursor else params))
        )
        events += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return events


def _verified(bids: Bids) -> dict[str, Any]:
    verification: dict[str, Any] = ok(bids.get("/audit/verify", bids.admin))
    assert verification["ok"] is True, verification
    return verification


def test_the_audit_log_and_errors_carry_nothing_of_a_sealed_bid(
    app: FastAPI, client: TestClient
) -> None:
    bids = open_round(app, client)
    lead = bids.organization("Lead Co")
    created = ok(
        client.post(
            f"{API}/rounds/{bids.round_id}/applications",
            json={"title": "Bid", "summary": SUMMARY, "lead_organization_id": lead.id},
            headers=lead.owner.headers,
        ),
        201,
    )
    application = created["id"]
    first, second = (
        ok(
            client.post(
                f"{API}/applications/{application}/documents",
                data={"kind": "budget"},
                files={"file": (FILENAME, _document(marker), "text/csv")},
                headers=lead.owner.headers,
            ),
            201,
        )
        for marker in (b"first", b"second")
    )
    assert first["size"] == SIZE
    deleted = client.delete(f"{API}/documents/{first['id']}", headers=lead.owner.headers)
    assert deleted.status_code == 204, deleted.text
    patched = client.patch(
        f"{API}/applications/{application}",
        json={"keywords": ["zq81"]},
        headers={**lead.owner.headers, "If-Match": '"1"'},
    )
    assert patched.status_code == 200, patched.text
    receipt = ok(bids.submit(application, lead.owner))["receipt"]
    reviewer = bids.person(roles=[Role.reviewer], email="r@review.example.net")
    ok(
        client.post(
            f"{API}/rounds/{bids.round_id}/reviewers",
            json={"user_id": reviewer.id, "max_assignments": 2, "expertise": []},
            headers=bids.admin.headers,
        ),
        201,
    )
    ok(
        client.post(
            f"{API}/rounds/{bids.round_id}/conflicts",
            json={"reviewer_id": reviewer.id, "application_id": application, "reason": "zq81"},
            headers=bids.admin.headers,
        ),
        201,
    )
    secrets = [
        FILENAME,
        "zq81",
        SUMMARY,
        f"'size': {SIZE}",
        first["sha256"],
        second["sha256"],
        receipt["application_sha256"],
        receipt["receipt_id"],
    ]

    # --- sealed: at the deadline plus grace, the last moment of the seal
    bids.clock.now = T0 + timedelta(hours=1, seconds=60)
    events = _audit(bids)
    text = str(events)
    assert not [s for s in secrets if s in text], [s for s in secrets if s in text]
    about = [
        e
        for e in events
        if e["object_id"] in (application, first["id"], second["id"])
        or e["action"] == "conflict.declared"
    ]
    assert {e["action"] for e in about} == {
        "application.created",
        "document.uploaded",
        "document.deleted",
        "application.updated",
        "application.submitted",
        "conflict.declared",
    }
    for event in about:
        assert event["data"] == {"sealed": True, "application_id": application}, event
    # The receipt's audit hash is the chain's hash of the submission event, nothing else.
    [submitted] = [e for e in about if e["action"] == "application.submitted"]
    assert submitted["hash"] == receipt["audit_hash"]
    assert text.count(receipt["audit_hash"]) == 1
    head = _verified(bids)
    # Resuming with ?after_seq= reads the same redacted events.
    resumed = _audit(bids, after_seq=about[0]["seq"] - 1)
    assert resumed[0] == about[0]
    assert resumed == events[events.index(about[0]) :]

    # Errors and sealed answers of every route about the bid, to everyone but its members.
    stranger = bids.organization("Stranger Inc").owner
    for who in (bids.admin, stranger, reviewer):
        for response in _pokes(bids, who, application, second["id"]):
            assert response.status_code in (200, 403, 404, 409), response.text
            leaked = [s for s in secrets if s in response.text]
            assert not leaked, (response.request.url, response.text)

    # --- the seal lifts: the whole stored events, the same hashes, the chain still whole
    bids.clock.now = T0 + timedelta(hours=1, seconds=61)
    lifted = _audit(bids)[: len(events)]  # (the strangers made since add events of their own)
    assert [(e["seq"], e["hash"]) for e in lifted] == [(e["seq"], e["hash"]) for e in events]
    text = str(lifted)
    # (No event ever recorded the summary itself.)
    assert [s for s in secrets if s not in text] == [SUMMARY]
    [uploaded, *_] = [e for e in lifted if e["action"] == "document.uploaded"]
    assert uploaded["data"]["filename"] == FILENAME
    assert uploaded["data"]["size"] == SIZE
    assert _verified(bids)["length"] > head["length"]


def _pokes(bids: Bids, who: Person, application: str, document: str) -> list[Any]:
    c, h = bids.client, who.headers
    path = f"{API}/applications/{application}"
    return [
        c.get(path, headers=h),
        c.get(f"{API}/applications", params={"round_id": bids.round_id}, headers=h),
        c.get(f"{path}/documents", headers=h),
        c.get(f"{API}/documents/{document}", headers=h),
        c.get(f"{API}/documents/{document}/content", headers=h),
        c.patch(path, json={"title": "x"}, headers={**h, "If-Match": "*"}),
        c.post(f"{path}/withdraw", headers=h),
        c.post(f"{path}/reopen", headers=h),
        c.delete(f"{API}/documents/{document}", headers=h),
        c.post(
            f"{path}/documents",
            data={"kind": "budget"},
            files={"file": ("x.csv", b"a,b\n", "text/csv")},
            headers=h,
        ),
    ]
