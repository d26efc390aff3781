"""Attacks on preferences and affinities, as a hostile reviewer would try them: read sealed bids
through the preference list, read bids it is conflicted with, or learn scores."""

import json

from fastapi import FastAPI
from fastapi.testclient import TestClient

from models.identity import Role
from tests.api.affinity_world import MARINE, QUANTUM, TopicRound
from tests.api.intake import assert_problem
from tests.factories import make_principal, ok


def test_a_panel_reviewer_cannot_read_sealed_bids_through_preferences(
    app: FastAPI, client: TestClient
) -> None:
    world = TopicRound(app, client)
    ok(
        client.post(
            f"/api/v1/rounds/{world.rid}/reviewers",
            json={"user_id": str(world.outsider_user.id), "max_assignments": 2, "expertise": []},
            headers=world.admin,
        ),
        201,
    )
    # Before the deadline: no list, no statement, nothing of the bids in the answers.
    for path in (
        f"/api/v1/rounds/{world.rid}/applications-for-preference",
        f"/api/v1/rounds/{world.rid}/applications-for-preference?limit=100",
    ):
        response = client.get(path, headers=world.marine)
        assert_problem(response, 409, "round-sealed")
        assert "Proposal" not in response.text
        assert world.apps[0] not in response.text
    response = client.put(
        f"/api/v1/rounds/{world.rid}/preferences/{world.apps[0]}",
        json={"preference": "eager"},
        headers=world.marine,
    )
    assert_problem(response, 409, "round-sealed")
    # Past the deadline, before review starts: still sealed for preferences.
    world.clock.now = world.clock.now.replace(hour=12)
    assert_problem(
        client.get(f"/api/v1/rounds/{world.rid}/applications-for-preference", headers=world.marine),
        409,
    )
    assert ok(client.get(f"/api/v1/rounds/{world.rid}/preferences", headers=world.marine)) == {
        "items": [],
        "next_cursor": None,
    }


def test_a_conflicted_reviewer_sees_nothing_of_the_bid(app: FastAPI, client: TestClient) -> None:
    world = TopicRound(app, client)
    # Declared by the admin: the reviewer is conflicted with bid 0's lead organization.
    view = ok(client.get(f"/api/v1/applications/{world.apps[0]}", headers=world.admin))
    lead = view["organizations"][0]["organization_id"]
    ok(
        client.post(
            f"/api/v1/rounds/{world.rid}/conflicts",
            json={
                "reviewer_id": str(world.marine_user.id),
                "organization_id": lead,
                "reason": "former employer",
            },
            headers=world.admin,
        ),
        201,
    )
    world.start_review()
    listed = client.get(
        f"/api/v1/rounds/{world.rid}/applications-for-preference?limit=100", headers=world.marine
    )
    items = ok(listed)["items"]
    assert world.apps[0] not in {a["id"] for a in items}
    assert world.apps[0] not in listed.text
    # Guessing the id gives nothing away: 404, the same as an id that does not exist.
    response = client.put(
        f"/api/v1/rounds/{world.rid}/preferences/{world.apps[0]}",
        json={"preference": "not_willing"},
        headers=world.marine,
    )
    assert_problem(response, 404)
    assert "Proposal" not in response.text


def test_the_preference_list_shows_only_titles_summaries_and_keywords(
    app: FastAPI, client: TestClient
) -> None:
    world = TopicRound(app, client)
    world.start_review()
    response = client.get(
        f"/api/v1/rounds/{world.rid}/applications-for-preference", headers=world.quantum
    )
    body = ok(response)
    for item in body["items"]:
        assert set(item) == {"id", "title", "summary", "keywords"}
    # Not the documents' text, not the organizations.
    assert MARINE[:40] not in response.text
    assert QUANTUM[:40] not in response.text
    assert "Org " not in json.dumps(body)


def test_reviewers_and_applicants_read_no_scores(app: FastAPI, client: TestClient) -> None:
    world = TopicRound(app, client)
    world.start_review()
    world.compute()
    _, stranger = make_principal(app, roles=[Role.applicant])
    path = f"/api/v1/rounds/{world.rid}/affinities"
    for headers in (world.marine, world.quantum, world.applicant(0), stranger):
        assert_problem(client.get(path, headers=headers), 403)
        assert_problem(client.get(f"{path}?application_id={world.apps[0]}", headers=headers), 403)
    # A reviewer stating preferences is not told others' preferences.
    ok(
        client.put(
            f"/api/v1/rounds/{world.rid}/preferences/{world.apps[2]}",
            json={"preference": "eager"},
            headers=world.quantum,
        )
    )
    mine = ok(client.get(f"/api/v1/rounds/{world.rid}/preferences", headers=world.marine))
    assert mine["items"] == []
