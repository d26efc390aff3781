"""Affinity from what applicants and reviewers wrote (computed once the seal lifts), imported
scores, and the admin's reading of both (API.md: "Affinity")."""

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from infra.db import open_session
from infra.jobs.affinity import AffinityWork, ProcrastinateAffinity
from models.errors import Conflict
from models.reviewers import AffinityComputation, RoundAffinity
from reviewers.affinity import rounds_needing_text_affinity
from tests.api.affinity_world import TopicRound
from tests.api.intake import assert_problem
from tests.factories import ok


def stored_rows(app: FastAPI) -> int:
    session = open_session(app.state.engine)
    try:
        rows = session.execute(sa.select(sa.func.count()).select_from(RoundAffinity)).scalar_one()
        runs = session.execute(
            sa.select(sa.func.count()).select_from(AffinityComputation)
        ).scalar_one()
        return int(rows) + int(runs)
    finally:
        session.close()


def test_text_affinity_routes_each_bid_to_a_reviewer_of_its_topic(
    app: FastAPI, client: TestClient
) -> None:
    world = TopicRound(app, client)
    world.start_review()
    computation = world.compute()
    assert computation.documents == 4
    assert computation.applications == 4
    assert computation.reviewers == 2

    plan = world.dry_run()
    assert plan["stats"]["affinity_source"] == "text"
    assert plan["stats"]["affinity_computed_at"] is not None
    assert len(plan["assignments"]) == 4
    for item in plan["assignments"]:
        assert world.reviewer_topic(item["reviewer_id"]) == world.topic_of(item["application_id"])
        assert item["affinity"] > 0
        assert item["evidence"], item

    # The evidence names words found only in the bids' PDFs and the reviewers' own texts.
    listing = ok(
        client.get(
            f"/api/v1/rounds/{world.rid}/affinities",
            params={"application_id": world.apps[0]},
            headers=world.admin,
        )
    )
    best = listing["items"][0]
    assert best["reviewer_id"] == str(world.marine_user.id)
    assert best["source"] == "text"
    assert {"coral", "reef", "seagrass", "bleaching"} & set(best["evidence"])
    scores = [item["score"] for item in listing["items"]]
    assert scores == sorted(scores, reverse=True)


def test_keyword_overlap_cannot_tell_the_topics_apart(app: FastAPI, client: TestClient) -> None:
    world = TopicRound(app, client, affinity="keywords")
    world.start_review()
    plan = world.dry_run()
    assert plan["stats"]["affinity_source"] == "keywords"
    assert all(item["affinity"] == 0 for item in plan["assignments"])
    listing = ok(client.get(f"/api/v1/rounds/{world.rid}/affinities", headers=world.admin))
    assert listing["items"] == []


def test_no_affinity_is_computed_from_sealed_bids(app: FastAPI, client: TestClient) -> None:
    world = TopicRound(app, client)
    # Before the deadline plus grace: the job refuses, reads nothing and stores nothing.
    with pytest.raises(Conflict) as refused:
        world.compute()
    assert refused.value.type == "round-sealed"
    assert anyio_due(app) == []
    assert stored_rows(app) == 0
    assert_problem(
        client.get(f"/api/v1/rounds/{world.rid}/affinities", headers=world.admin),
        409,
        "round-sealed",
    )
    # Past the deadline plus grace but still open (review not started): still sealed for this.
    world.clock.now = world.clock.now.replace(hour=12)
    with pytest.raises(Conflict):
        world.compute()
    assert stored_rows(app) == 0
    world.start_review()
    assert anyio_due(app) == [uuid.UUID(world.rid)]
    world.compute()
    assert stored_rows(app) > 0
    assert anyio_due(app) == []


def anyio_due(app: FastAPI) -> list[uuid.UUID]:
    """The rounds the background job would compute now."""
    worker: AffinityWork | ProcrastinateAffinity = app.state.affinities
    session = open_session(worker.engine)
    try:
        return rounds_needing_text_affinity(session=session, now=worker.clock())
    finally:
        session.close()


def test_stale_scores_are_not_used(app: FastAPI, client: TestClient) -> None:
    """A reviewer joining after the computation makes it stale: the plan falls back to the
    fields and profiles (no documents) until the job runs again."""
    world = TopicRound(app, client)
    world.start_review()
    world.compute()
    ok(
        client.post(
            f"/api/v1/rounds/{world.rid}/reviewers",
            json={"user_id": str(world.outsider_user.id), "max_assignments": 2, "expertise": []},
            headers=world.admin,
        ),
        201,
    )
    plan = world.dry_run()
    assert plan["stats"]["affinity_computed_at"] is None
    assert anyio_due(app) == [uuid.UUID(world.rid)]
    world.compute()
    assert world.dry_run()["stats"]["affinity_computed_at"] is not None


def test_an_imported_csv_round_assigns_by_the_imported_scores(
    app: FastAPI, client: TestClient
) -> None:
    world = TopicRound(app, client, affinity="imported")
    world.start_review()
    marine, quantum = str(world.marine_user.id), str(world.quantum_user.id)
    # The imported scores cross the topics: the plan must follow them, not the texts.
    wanted = {world.apps[0]: quantum, world.apps[1]: quantum}
    wanted |= {world.apps[2]: marine, world.apps[3]: marine}
    lines = ["application_id,reviewer_id,score"]
    for app_id, reviewer in wanted.items():
        lines.append(f"{app_id},{reviewer},0.9")
        other = marine if reviewer == quantum else quantum
        lines.append(f"{app_id},{other},0.1")
    response = client.put(
        f"/api/v1/rounds/{world.rid}/affinities",
        content="\n".join(lines).encode(),
        headers={**world.admin, "Content-Type": "text/csv"},
    )
    assert ok(response)["imported"] == 8
    plan = world.dry_run()
    assert plan["stats"]["affinity_source"] == "imported"
    assert {a["application_id"]: a["reviewer_id"] for a in plan["assignments"]} == wanted
    assert all(a["affinity"] == 0.9 for a in plan["assignments"])
    listing = ok(client.get(f"/api/v1/rounds/{world.rid}/affinities", headers=world.admin))
    assert len(listing["items"]) == 8
    assert {i["source"] for i in listing["items"]} == {"imported"}

    # JSON replaces the earlier import.
    response = client.put(
        f"/api/v1/rounds/{world.rid}/affinities",
        json={"items": [{"application_id": world.apps[0], "reviewer_id": marine, "score": 5}]},
        headers=world.admin,
    )
    assert ok(response)["imported"] == 1
    listing = ok(client.get(f"/api/v1/rounds/{world.rid}/affinities", headers=world.admin))
    assert [(i["application_id"], i["score"]) for i in listing["items"]] == [(world.apps[0], 5.0)]


@pytest.mark.parametrize(
    "body",
    [
        "application_id,reviewer,score\n",
        "application_id,reviewer_id,score\nnot-a-uuid,x,1\n",
        "application_id,reviewer_id,score\n{app},{rev},NaN\n",
        "application_id,reviewer_id,score\n{app},{foreign},1\n",
        "application_id,reviewer_id,score\n{app},{rev},1\n{app},{rev},2\n",
    ],
)
def test_a_bad_import_is_422_and_changes_nothing(
    app: FastAPI, client: TestClient, body: str
) -> None:
    world = TopicRound(app, client, affinity="imported")
    world.start_review()
    content = body.format(
        app=world.apps[0], rev=world.marine_user.id, foreign=world.outsider_user.id
    )
    response = client.put(
        f"/api/v1/rounds/{world.rid}/affinities",
        content=content.encode(),
        headers={**world.admin, "Content-Type": "text/csv"},
    )
    assert_problem(response, 422)
    assert stored_rows(app) == 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "streamed"])
def test_an_import_over_the_body_cap_is_413_and_changes_nothing(
    app: FastAPI, client: TestClient, chunked: bool
) -> None:
    """The one cap on an import is the edge's (SHORTLIST_MAX_BODY_BYTES): a valid CSV one byte
    over it is refused whole, declared or streamed, and nothing of it is stored."""
    world = TopicRound(app, client, affinity="imported")
    world.start_review()
    limit = app.state.settings.max_body_bytes
    row = f"{world.apps[0]},{world.marine_user.id},0.5\n"
    content = ("application_id,reviewer_id,score\n" + row).encode()
    content += b"\n" * (limit + 1 - len(content))  # blank lines: a valid CSV, one byte too long
    assert len(content) == limit + 1

    def streamed() -> Iterator[bytes]:
        for start in range(0, len(content), 64 * 1024):
            yield content[start : start + 64 * 1024]

    response = client.put(
        f"/api/v1/rounds/{world.rid}/affinities",
        content=streamed() if chunked else content,
        headers={**world.admin, "Content-Type": "text/csv"},
    )
    assert_problem(response, 413)
    assert stored_rows(app) == 0
    # One byte less is taken.
    response = client.put(
        f"/api/v1/rounds/{world.rid}/affinities",
        content=content[:-1],
        headers={**world.admin, "Content-Type": "text/csv"},
    )
    assert ok(response)["imported"] == 1


def test_affinity_routes_are_guarded(app: FastAPI, client: TestClient) -> None:
    world = TopicRound(app, client, affinity="imported")
    world.start_review()
    path = f"/api/v1/rounds/{world.rid}/affinities"
    body = {
        "items": [
            {"application_id": world.apps[0], "reviewer_id": str(world.marine_user.id), "score": 1}
        ]
    }
    assert_problem(client.get(path), 401)
    assert_problem(client.put(path, json=body), 401)
    # Reviewers and applicants read no scores and import none.
    for headers in (world.marine, world.applicant(0)):
        assert_problem(client.get(path, headers=headers), 403)
        assert_problem(client.put(path, json=body, headers=headers), 403)
    foreign = f"/api/v1/rounds/{uuid.uuid4()}/affinities"
    assert_problem(client.get(foreign, headers=world.admin), 404)
    assert_problem(client.put(foreign, json=body, headers=world.admin), 404)
    assert_problem(
        client.put(path, content=b"x", headers={**world.admin, "Content-Type": "text/plain"}),
        415,
    )
    assert stored_rows(app) == 0
