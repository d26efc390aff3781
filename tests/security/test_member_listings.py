"""Attacks on consortium listings.

A listed organization takes part only once an owner of it confirms: an unconfirmed listing never
stops it from leading or joining another application of the round, and no answer to the listing
application's members reveals whether it takes part elsewhere (only its own owner learns that,
as a 409 when confirming). An owner of a listed organization may also decline, which takes it off
the application.
"""

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.factories import ok
from tests.security.bids import API, Bids, Org, masked, open_round


def _organizations(bids: Bids, application: str, reader: Org) -> list[tuple[str, bool]]:
    view = ok(bids.get(f"/applications/{application}", reader.owner))
    return [(o["organization_id"], o["confirmed"]) for o in view["organizations"]]


def test_a_listing_never_stops_the_listed_organization(app: FastAPI, client: TestClient) -> None:
    """A hostile lead lists rival organizations to keep them out of the round: they still lead
    their own bids, join others, and are listed by yet others."""
    bids = open_round(app, client)
    hostile, rival, partner, third = (
        bids.organization(n) for n in ("Hostile", "Rival", "Partner", "Third")
    )
    hostile_bid = bids.bid(hostile, members=[rival, partner])["id"]
    # The rival, listed but unconfirmed, leads its own bid with the partner...
    rival_bid = bids.bid(rival, members=[partner])["id"]
    # ...whose owner confirms there, though the hostile bid lists it too.
    ok(bids.confirm(rival_bid, partner))
    # Another lead may still list the rival (who takes part elsewhere): nothing refuses it.
    third_bid = bids.bid(third, members=[rival])["id"]
    assert _organizations(bids, third_bid, third) == [(third.id, True), (rival.id, False)]
    assert _organizations(bids, hostile_bid, hostile) == [
        (hostile.id, True),
        (partner.id, False),
        (rival.id, False),
    ]


def _attempt(bids: Bids, lead: Org, listed: Org) -> list[tuple[int, str]]:
    """Everything the listing application's lead can do and read about its listing of
    ``listed``: create with it, read it, list it, re-list it, try to submit. Masked answers."""
    answers: list[Any] = []
    created = bids.client.post(
        f"{API}/rounds/{bids.round_id}/applications",
        json={
            "title": "Bid",
            "summary": "s",
            "lead_organization_id": lead.id,
            "members": [{"organization_id": listed.id}],
        },
        headers=lead.owner.headers,
    )
    answers.append(created)
    application = created.json()["id"]
    answers.append(bids.client.get(f"{API}/applications/{application}", headers=lead.owner.headers))
    answers.append(
        bids.client.get(
            f"{API}/applications", params={"round_id": bids.round_id}, headers=lead.owner.headers
        )
    )
    # Off and on again through PATCH.
    for members in ([], [{"organization_id": listed.id}]):
        etag = (
            answers[-1].headers.get("etag")
            or bids.client.get(
                f"{API}/applications/{application}", headers=lead.owner.headers
            ).headers["etag"]
        )
        answers.append(
            bids.client.patch(
                f"{API}/applications/{application}",
                json={"members": members},
                headers={**lead.owner.headers, "If-Match": etag},
            )
        )
    ok(bids.upload(application, lead.owner), 201)
    answers.append(bids.submit(application, lead.owner))
    # The lead's members may not answer for the listed organization.
    answers.append(bids.confirm(application, listed, who=lead.owner))
    answers.append(bids.decline(application, listed, who=lead.owner))
    return [(r.status_code, masked(r.text)) for r in answers]


def test_no_answer_to_the_listing_lead_reveals_where_the_listed_organization_bids(
    app: FastAPI, client: TestClient
) -> None:
    bids = open_round(app, client)
    # Same names, so that only what the server knows of each could tell the answers apart.
    busy, idle = bids.organization("Listed"), bids.organization("Listed")
    bids.bid(busy)  # the busy organization leads a bid of its own (confirmed, live)
    lead_a, lead_b = bids.organization("Lead"), bids.organization("Lead")

    listing_busy = _attempt(bids, lead_a, busy)
    listing_idle = _attempt(bids, lead_b, idle)

    assert [status for status, _ in listing_busy] == [201, 200, 200, 200, 200, 422, 403, 403]
    assert listing_busy == listing_idle


def test_only_the_listed_owner_learns_of_its_other_bid_when_confirming(
    app: FastAPI, client: TestClient
) -> None:
    bids = open_round(app, client)
    lead, listed = bids.organization("Lead"), bids.organization("Listed")
    application = bids.bid(lead, members=[listed])["id"]
    own = bids.bid(listed)["id"]

    refused = bids.confirm(application, listed)
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == "already-applied"
    assert listed.id in refused.json()["detail"]
    assert _organizations(bids, application, lead) == [(lead.id, True), (listed.id, False)]

    ok(bids.client.post(f"{API}/applications/{own}/withdraw", headers=listed.owner.headers))
    confirmed = ok(bids.confirm(application, listed))
    assert [o["confirmed"] for o in confirmed["organizations"]] == [True, True]
    # Confirmed, it takes part: it may neither lead nor confirm elsewhere now.
    assert bids.bid(listed, status=409)["type"] == "already-applied"


def test_a_listed_organization_reads_the_bid_and_may_decline_it(
    app: FastAPI, client: TestClient
) -> None:
    bids = open_round(app, client)
    lead, listed = bids.organization("Lead"), bids.organization("Listed")
    application = bids.bid(lead, members=[listed])["id"]
    document = ok(bids.upload(application, lead.owner), 201)
    # To decide, the listed organization's members read the bid and its documents.
    for who in (listed.owner, listed.member):
        assert ok(bids.get(f"/applications/{application}", who))["summary"]
        assert ok(bids.get(f"/documents/{document['id']}", who))["id"] == document["id"]
    # Neither the lead's owner nor the listed organization's plain member answers for it.
    for who in (lead.owner, listed.member):
        response = bids.decline(application, listed, who=who)
        assert response.status_code == 403, response.text
        assert response.json()["type"] == "not-owner"
    # The lead does not decline its own bid.
    refused = bids.decline(application, lead)
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == "lead-cannot-decline"

    before = ok(bids.get(f"/applications/{application}", lead.owner))
    declined = bids.decline(application, listed)
    assert declined.status_code == 204, declined.text
    after = ok(bids.get(f"/applications/{application}", lead.owner))
    assert [o["organization_id"] for o in after["organizations"]] == [lead.id]
    assert after["version"] == before["version"] + 1
    # Off the application: its members no longer read it, a second decline finds nothing.
    for who in (listed.owner, listed.member):
        assert bids.get(f"/applications/{application}", who).status_code == 404
    assert bids.decline(application, listed).status_code == 404
    events = ok(
        bids.get("/audit", bids.admin, action="application.member_declined", object_id=application)
    )["items"]
    assert len(events) == 1
    assert events[0]["actor"] == f"user:{listed.owner.id}"
    # Declined, it is free to confirm a listing elsewhere.
    other = bids.bid(bids.organization("Other"), members=[listed])["id"]
    ok(bids.confirm(other, listed))
