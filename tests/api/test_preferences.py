"""Panel reviewers' preferences (API.md: "Preferences"): what they see, what they state, and how
automatic assignment weighs it."""

import uuid

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.affinity_world import TopicRound
from tests.api.intake import assert_problem
from tests.factories import ok


def prefer(world: TopicRound, headers: dict[str, str], app_id: str, level: str) -> None:
    ok(
        world.client.put(
            f"/api/v1/rounds/{world.rid}/preferences/{app_id}",
            json={"preference": level},
            headers=headers,
        )
    )


def plan_of(world: TopicRound) -> dict[str, str]:
    return {a["application_id"]: a["reviewer_id"] for a in world.dry_run()["assignments"]}


def test_not_willing_is_avoided_when_loads_allow(app: FastAPI, client: TestClient) -> None:
    world = TopicRound(app, client)
    world.start_review()
    world.compute()
    marine, quantum = str(world.marine_user.id), str(world.quantum_user.id)
    assert plan_of(world)[world.apps[0]] == marine  # by topic, without preferences
    prefer(world, world.marine, world.apps[0], "not_willing")
    plan = plan_of(world)
    assert plan[world.apps[0]] == quantum
    # Loads stay balanced (two each): the marine reviewer takes a quantum bid instead.
    assert sorted(plan.values()) == sorted([marine, marine, quantum, quantum])
    dry = world.dry_run()
    assert dry["stats"]["preferences_honoured"]["not_willing"] == 0


def test_not_willing_yields_to_the_load_rules(app: FastAPI, client: TestClient) -> None:
    """Both reviewers unwilling for everything: each bid still gets its reviewer."""
    world = TopicRound(app, client)
    world.start_review()
    for headers in (world.marine, world.quantum):
        for app_id in world.apps:
            prefer(world, headers, app_id, "not_willing")
    assert len(plan_of(world)) == 4


def test_eager_is_preferred(app: FastAPI, client: TestClient) -> None:
    world = TopicRound(app, client, affinity="keywords")  # every affinity 0: only bids decide
    world.start_review()
    marine, quantum = str(world.marine_user.id), str(world.quantum_user.id)
    prefer(world, world.marine, world.apps[2], "eager")
    prefer(world, world.marine, world.apps[3], "eager")
    prefer(world, world.quantum, world.apps[0], "eager")
    plan = plan_of(world)
    assert plan[world.apps[2]] == marine
    assert plan[world.apps[3]] == marine
    assert plan[world.apps[0]] == quantum
    dry = world.dry_run()
    assert dry["stats"]["preferences_honoured"]["eager"] == 3
    assert {a["preference"] for a in dry["assignments"]} == {"eager", None}


def test_a_conflict_preference_is_a_declared_conflict(app: FastAPI, client: TestClient) -> None:
    world = TopicRound(app, client)
    world.start_review()
    marine = str(world.marine_user.id)
    prefer(world, world.marine, world.apps[0], "conflict")
    conflicts = ok(client.get(f"/api/v1/rounds/{world.rid}/conflicts", headers=world.admin))
    assert [(c["reviewer_id"], c["application_id"], c["source"]) for c in conflicts["items"]] == [
        (marine, world.apps[0], "declared")
    ]
    assert plan_of(world)[world.apps[0]] != marine
    # The bid is gone from the reviewer's list, and stating anything more about it is 404.
    listed = ok(
        client.get(f"/api/v1/rounds/{world.rid}/applications-for-preference", headers=world.marine)
    )
    assert world.apps[0] not in {a["id"] for a in listed["items"]}
    assert_problem(
        client.put(
            f"/api/v1/rounds/{world.rid}/preferences/{world.apps[0]}",
            json={"preference": "eager"},
            headers=world.marine,
        ),
        404,
    )


def test_preference_listing_and_reading(app: FastAPI, client: TestClient) -> None:
    world = TopicRound(app, client)
    world.start_review()
    listed = ok(
        client.get(f"/api/v1/rounds/{world.rid}/applications-for-preference", headers=world.marine)
    )
    assert {a["id"] for a in listed["items"]} == set(world.apps)
    assert set(listed["items"][0]) == {"id", "title", "summary", "keywords"}
    prefer(world, world.marine, world.apps[1], "eager")
    prefer(world, world.marine, world.apps[1], "willing")  # changed, not added
    prefer(world, world.quantum, world.apps[2], "eager")
    path = f"/api/v1/rounds/{world.rid}/preferences"
    mine = ok(client.get(path, headers=world.marine))["items"]
    assert [(p["application_id"], p["preference"]) for p in mine] == [(world.apps[1], "willing")]
    everyone = ok(client.get(path, headers=world.admin))["items"]
    assert len(everyone) == 2


def test_preference_routes_are_guarded(app: FastAPI, client: TestClient) -> None:
    world = TopicRound(app, client)
    world.start_review()
    listing = f"/api/v1/rounds/{world.rid}/applications-for-preference"
    put = f"/api/v1/rounds/{world.rid}/preferences/{world.apps[0]}"
    mine = f"/api/v1/rounds/{world.rid}/preferences"
    body = {"preference": "eager"}
    for path in (listing, mine):
        assert_problem(client.get(path), 401)
    assert_problem(client.put(put, json=body), 401)
    # Wrong role: an applicant states no preferences and sees no list.
    assert_problem(client.get(listing, headers=world.applicant(0)), 403)
    assert_problem(client.put(put, json=body, headers=world.applicant(0)), 403)
    assert_problem(client.get(mine, headers=world.applicant(0)), 403)
    # A reviewer off this round's panel: the round does not exist for them.
    assert_problem(client.get(listing, headers=world.outsider), 404)
    assert_problem(client.put(put, json=body, headers=world.outsider), 404)
    assert_problem(client.get(mine, headers=world.outsider), 404)
    # Foreign objects.
    other = f"/api/v1/rounds/{uuid.uuid4()}"
    assert_problem(client.get(f"{other}/applications-for-preference", headers=world.marine), 404)
    assert_problem(
        client.put(f"{other}/preferences/{world.apps[0]}", json=body, headers=world.marine), 404
    )
    assert_problem(
        client.put(
            f"/api/v1/rounds/{world.rid}/preferences/{uuid.uuid4()}",
            json=body,
            headers=world.marine,
        ),
        404,
    )
    # Bad input changes nothing.
    assert_problem(client.put(put, json={"preference": "keen"}, headers=world.marine), 422)
    assert_problem(
        client.put(put, json={"preference": "eager", "score": 1}, headers=world.marine), 422
    )
    assert ok(client.get(mine, headers=world.marine))["items"] == []


def test_preferences_close_when_the_assignment_is_applied(app: FastAPI, client: TestClient) -> None:
    world = TopicRound(app, client)
    world.start_review()
    ok(
        client.post(
            f"/api/v1/rounds/{world.rid}/assignments/auto",
            json={"dry_run": False},
            headers=world.admin,
        )
    )
    assert_problem(
        client.get(f"/api/v1/rounds/{world.rid}/applications-for-preference", headers=world.marine),
        409,
        "not-bidding",
    )
    assert_problem(
        client.put(
            f"/api/v1/rounds/{world.rid}/preferences/{world.apps[0]}",
            json={"preference": "eager"},
            headers=world.marine,
        ),
        409,
        "not-bidding",
    )
