"""Attacks on the event feed's seals and visibility (moved from tests/api/test_events.py,
unchanged in what they assert): a sealed bid reaches others only as its id, whatever way they
read the feed; applicants' feeds do not reveal the outcome or the reviewers; reviewers read
only their own assignments."""

import json
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.intake import build_world
from tests.api.test_events import FEED, competition, feed, run_round, types_of
from tests.api.test_review_flow import Round
from tests.factories import ok

__all__ = ["competition"]  # (the fixture, used by name)


def test_sealed_bids_reach_others_only_as_their_id(app: FastAPI, client: TestClient) -> None:
    world = build_world(app)
    aid = str(world.application.id)
    ok(
        client.post(
            f"/api/v1/applications/{aid}/members/{world.partner_org.id}/confirm",
            headers=world.partner.headers,
        )
    )
    ok(client.post(f"/api/v1/applications/{aid}/submit", headers=world.applicant.headers))
    [own] = feed(client, world.applicant.headers, types="application.submitted")
    assert own["data"]["application_sha256"]
    assert own["data"]["receipt_id"]
    [admins] = feed(client, world.admin.headers, types="application.submitted")
    assert admins["data"] == {"sealed": True, "application_id": aid}
    # Hostile readers: an SSE stream, a types filter, resuming from the event itself.
    stream = client.get(FEED, headers={**world.admin.headers, "Accept": "text/event-stream"})
    assert own["data"]["application_sha256"] not in stream.text
    assert own["data"]["receipt_id"] not in stream.text
    assert "A bid" not in json.dumps(admins)
    for stranger in (world.stranger, world.reviewer):
        assert feed(client, stranger.headers) == []
        assert feed(client, stranger.headers, types="application.submitted") == []
        response = client.get(FEED, params={"after": own["id"]}, headers=stranger.headers)
        assert ok(response)["items"] == []
    # Once the deadline (plus grace) has passed, admins read the whole event.
    world.clock.now = world.round.submission_deadline + timedelta(seconds=1)
    [later] = feed(client, world.admin.headers, types="application.submitted")
    assert later["data"] == own["data"]


def test_applicants_feed_does_not_depend_on_the_outcome(
    competition: Round, client: TestClient
) -> None:
    c = competition
    run_round(c, client)
    # Application 0 is shortlisted, application 4 is not: their feeds match but for the ids.
    first = feed(client, c.applicants[0])
    last = feed(client, c.applicants[4])

    def shape(items: list[dict[str, Any]], aid: str) -> list[Any]:
        return [
            (i["type"], json.dumps(i["data"], sort_keys=True).replace(aid, "APP"))
            for i in items
            if i["type"] != "application.submitted"
        ]

    assert shape(first, c.apps[0]) == shape(last, c.apps[4])
    assert types_of(first) == [
        "round.opened",
        "application.submitted",
        "round.review_started",
        "round.closed",
    ]
    # Applicants never read assignments or reviews (reviewer identity).
    assert not {"assignment.created", "review.submitted"} & set(types_of(first))
    text = json.dumps(first)
    assert all(uid not in text for uid, _ in c.reviewers)


def test_reviewers_read_only_their_own_assignments(competition: Round, client: TestClient) -> None:
    c = competition
    run_round(c, client)
    for user_id, headers in c.reviewers:
        mine = feed(client, headers)
        assert mine, "every reviewer was assigned"
        assert set(types_of(mine)) <= {"assignment.created", "review.submitted"}
        assert {i["data"]["reviewer_id"] for i in mine} == {user_id}
