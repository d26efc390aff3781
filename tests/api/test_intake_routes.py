"""Every intake route: anonymous 401, missing scope 403, wrong role 403, foreign object 404, and
its happy path."""

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from models.identity import Role
from tests.api.intake import (
    World,
    assert_audit_chain_ok,
    assert_guarded,
    build_world,
    person,
    random_id,
)
from tests.factories import round_config

READ = "applications:read"
WRITE = "applications:write"
ADMIN = "rounds:admin"


@pytest.fixture
def world(app: FastAPI, client: TestClient) -> Iterator[World]:
    world = build_world(app)
    yield world
    assert_audit_chain_ok(app)


def _json_config(world: World, **overrides: object) -> dict[str, object]:
    config = round_config(world.clock.now, **overrides)
    for key in ("opens_at", "submission_deadline", "review_deadline"):
        config[key] = config[key].isoformat()
    return config


# --- organizations -----------------------------------------------------------------------------

ORG = {"name": "Acme", "registration_number": "123-45", "country": "kr", "email_domains": []}


def test_post_organization(client: TestClient, world: World) -> None:
    path = "/api/v1/organizations"
    assert_guarded(
        client,
        world,
        "POST",
        path,
        scope=WRITE,
        caller=world.applicant,
        json=ORG,
        wrong_role=world.reviewer,
    )
    body = {**ORG, "email_domains": ["Acme.example.", "acme.example"]}
    response = client.post(path, json=body, headers=world.applicant.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["country"] == "KR"
    assert created["email_domains"] == ["acme.example"]
    assert created["members"] == [
        {
            "organization_id": created["id"],
            "user_id": world.applicant.id,
            "role": "owner",
            "created_at": created["created_at"],
        }
    ]
    assert response.headers["location"] == f"{path}/{created['id']}"


def test_get_organizations(client: TestClient, world: World) -> None:
    path = "/api/v1/organizations"
    assert_guarded(client, world, "GET", path, scope=READ, caller=world.partner)
    mine = client.get(path, headers=world.partner.headers).json()
    assert [o["id"] for o in mine["items"]] == [str(world.partner_org.id)]
    assert mine["next_cursor"] is None
    everything = client.get(path, headers=world.admin.headers).json()
    assert len(everything["items"]) == 3


def test_get_organization(client: TestClient, world: World) -> None:
    path = f"/api/v1/organizations/{world.partner_org.id}"
    assert_guarded(
        client,
        world,
        "GET",
        path,
        scope=READ,
        caller=world.partner_member,
        foreign_path=f"/api/v1/organizations/{random_id()}",
        outsider=world.stranger,
    )
    for viewer in (world.partner_member, world.admin):
        response = client.get(path, headers=viewer.headers)
        assert response.status_code == 200
        assert sorted(m["role"] for m in response.json()["members"]) == ["member", "owner"]


def test_post_member(client: TestClient, world: World) -> None:
    path = f"/api/v1/organizations/{world.partner_org.id}/members"
    newcomer = person(world.app)
    body = {"user_id": newcomer.id, "role": "member"}
    assert_guarded(
        client,
        world,
        "POST",
        path,
        scope=WRITE,
        caller=world.partner,
        json=body,
        wrong_role=world.partner_member,
        foreign_path=f"/api/v1/organizations/{random_id()}/members",
        outsider=world.stranger,
    )
    response = client.post(path, json=body, headers=world.partner.headers)
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "member"
    again = client.post(path, json=body, headers=world.partner.headers)
    assert again.status_code == 409
    assert again.json()["type"] == "already-member"
    unknown = client.post(path, json={"user_id": random_id()}, headers=world.partner.headers)
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"loc": ["body", "user_id"], "msg": "no such user"}]
    assert (
        client.get(f"/api/v1/organizations/{world.partner_org.id}", headers=newcomer.headers)
    ).status_code == 200


# --- programs and rounds -----------------------------------------------------------------------


def test_post_program(client: TestClient, world: World) -> None:
    body = {"name": "Green Hydrogen", "description": "Two stages"}
    assert_guarded(
        client,
        world,
        "POST",
        "/api/v1/programs",
        scope=ADMIN,
        caller=world.admin,
        json=body,
        wrong_role=world.applicant,
    )
    response = client.post("/api/v1/programs", json=body, headers=world.admin.headers)
    assert response.status_code == 201
    assert response.json()["name"] == "Green Hydrogen"


def test_get_programs(client: TestClient, world: World) -> None:
    assert_guarded(
        client,
        world,
        "GET",
        "/api/v1/programs",
        scope=ADMIN,
        caller=world.admin,
        wrong_role=world.reviewer,
    )
    page = client.get("/api/v1/programs", headers=world.admin.headers).json()
    assert [p["id"] for p in page["items"]] == [str(world.program.id)]


def test_get_program(client: TestClient, world: World) -> None:
    path = f"/api/v1/programs/{world.program.id}"
    assert_guarded(
        client,
        world,
        "GET",
        path,
        scope=ADMIN,
        caller=world.admin,
        wrong_role=world.applicant,
        foreign_path=f"/api/v1/programs/{random_id()}",
    )
    assert client.get(path, headers=world.admin.headers).json()["id"] == str(world.program.id)


def test_post_round(client: TestClient, world: World) -> None:
    path = f"/api/v1/programs/{world.program.id}/rounds"
    body = _json_config(world, name="Stage 2", blind=True)
    assert_guarded(
        client,
        world,
        "POST",
        path,
        scope=ADMIN,
        caller=world.admin,
        json=body,
        wrong_role=world.applicant,
        foreign_path=f"/api/v1/programs/{random_id()}/rounds",
    )
    response = client.post(path, json=body, headers=world.admin.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "draft"
    assert created["blind"] is True
    assert created["criteria"][0] == {
        "key": "impact",
        "title": "Impact",
        "weight": 2.0,
        "min": 0.0,
        "max": 10.0,
        "threshold": None,
    }
    assert created["shortlist"]["aggregate"] == "mean"
    assert created["eligibility"] == {"only_shortlisted_from": None, "exclude_shortlisted_from": []}
    assert response.headers["etag"] == '"1"'
    assert response.headers["location"] == f"/api/v1/rounds/{created['id']}"


def test_post_round_reports_every_rule_broken(client: TestClient, world: World) -> None:
    body = _json_config(
        world,
        criteria=[
            {"key": "a", "title": "A", "weight": 1, "min": 5, "max": 1},
            {"key": "a", "title": "A", "weight": 1, "min": 0, "max": 5, "threshold": 9},
        ],
        shortlist={"tie_break": ["criterion:zzz"]},
        eligibility={"only_shortlisted_from": random_id()},
    )
    response = client.post(
        f"/api/v1/programs/{world.program.id}/rounds", json=body, headers=world.admin.headers
    )
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["errors"]] == [
        ["body", "criteria", 0, "max"],
        ["body", "criteria", 1, "key"],
        ["body", "criteria", 1, "threshold"],
        ["body", "shortlist", "tie_break", 0],
        ["body", "eligibility", "only_shortlisted_from"],
    ]
    bad_weight = _json_config(
        world, criteria=[{"key": "a", "title": "A", "weight": 0, "min": 0, "max": 1}]
    )
    response = client.post(
        f"/api/v1/programs/{world.program.id}/rounds", json=bad_weight, headers=world.admin.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "criteria", 0, "weight"]
    read_only = {**_json_config(world), "status": "open"}
    response = client.post(
        f"/api/v1/programs/{world.program.id}/rounds", json=read_only, headers=world.admin.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"loc": ["body", "status"], "msg": "unknown or read-only field"}
    ]


def test_get_rounds(client: TestClient, world: World) -> None:
    path = f"/api/v1/programs/{world.program.id}/rounds"
    assert_guarded(
        client,
        world,
        "GET",
        path,
        scope=ADMIN,
        caller=world.admin,
        wrong_role=world.applicant,
        foreign_path=f"/api/v1/programs/{random_id()}/rounds",
    )
    page = client.get(path, headers=world.admin.headers).json()
    assert [r["id"] for r in page["items"]] == [str(world.round.id)]


def test_get_round(client: TestClient, world: World) -> None:
    path = f"/api/v1/rounds/{world.round.id}"
    assert_guarded(
        client,
        world,
        "GET",
        path,
        scope=ADMIN,
        caller=world.admin,
        wrong_role=world.applicant,
        foreign_path=f"/api/v1/rounds/{random_id()}",
    )
    response = client.get(path, headers=world.admin.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "open"
    assert response.headers["etag"] == '"2"'


def test_patch_round(client: TestClient, world: World) -> None:
    path = f"/api/v1/rounds/{world.round.id}"
    later = (world.round.review_deadline + timedelta(days=1)).isoformat()
    body = {"review_deadline": later}
    assert_guarded(
        client,
        world,
        "PATCH",
        path,
        scope=ADMIN,
        caller=world.admin,
        json=body,
        headers={"If-Match": '"2"'},
        wrong_role=world.applicant,
        foreign_path=f"/api/v1/rounds/{random_id()}",
    )
    response = client.patch(path, json=body, headers={**world.admin.headers, "If-Match": '"2"'})
    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"3"'
    assert response.json()["review_deadline"].startswith(later[:19])
    renamed = client.patch(
        path, json={"name": "New name"}, headers={**world.admin.headers, "If-Match": '"3"'}
    )
    assert renamed.status_code == 409
    assert renamed.json()["type"] == "round-not-draft"


def test_post_open(client: TestClient, world: World, app: FastAPI) -> None:
    created = client.post(
        f"/api/v1/programs/{world.program.id}/rounds",
        json=_json_config(world, name="Later"),
        headers=world.admin.headers,
    ).json()
    path = f"/api/v1/rounds/{created['id']}/open"
    assert_guarded(
        client,
        world,
        "POST",
        path,
        scope=ADMIN,
        caller=world.admin,
        wrong_role=world.applicant,
        foreign_path=f"/api/v1/rounds/{random_id()}/open",
    )
    response = client.post(path, headers=world.admin.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "open"
    assert response.json()["opened_at"] is not None
    again = client.post(path, headers=world.admin.headers)
    assert again.status_code == 409
    assert again.json()["type"] == "invalid-transition"


def test_post_start_review(client: TestClient, world: World) -> None:
    path = f"/api/v1/rounds/{world.round.id}/start-review"
    assert_guarded(
        client,
        world,
        "POST",
        path,
        scope=ADMIN,
        caller=world.admin,
        wrong_role=world.reviewer,
        foreign_path=f"/api/v1/rounds/{random_id()}/start-review",
    )
    early = client.post(path, headers=world.admin.headers)
    assert early.status_code == 409
    assert early.json()["type"] == "deadline-not-passed"
    world.clock.now = world.round.submissions_close_at + timedelta(microseconds=1)
    response = client.post(path, headers=world.admin.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "review"


# --- applications ------------------------------------------------------------------------------


def test_post_application(client: TestClient, world: World) -> None:
    path = f"/api/v1/rounds/{world.round.id}/applications"
    body = {
        "title": "Cheap electrolysers",
        "summary": "We will build them",
        "lead_organization_id": str(world.stranger_org.id),
        "members": [],
        "keywords": ["Hydrogen"],
    }
    assert_guarded(
        client,
        world,
        "POST",
        path,
        scope=WRITE,
        caller=world.stranger,
        json=body,
        wrong_role=world.applicant,
        foreign_path=f"/api/v1/rounds/{random_id()}/applications",
    )
    response = client.post(path, json=body, headers=world.stranger.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "draft"
    assert created["keywords"] == ["hydrogen"]
    assert created["organizations"] == [
        {
            "organization_id": str(world.stranger_org.id),
            "name": "Else Inc",
            "role": "lead",
            "lead": True,
            "confirmed": True,
            "confirmed_at": created["organizations"][0]["confirmed_at"],
        }
    ]
    assert response.headers["etag"] == '"1"'
    again = client.post(path, json=body, headers=world.stranger.headers)
    assert again.status_code == 409
    assert again.json()["type"] == "already-applied"


def test_get_applications(client: TestClient, world: World) -> None:
    path = "/api/v1/applications"
    assert_guarded(client, world, "GET", path, scope=READ, caller=world.partner_member)
    for viewer in (world.applicant, world.partner_member, world.admin):
        page = client.get(path, headers=viewer.headers).json()
        assert [a["id"] for a in page["items"]] == [str(world.application.id)]
    for viewer in (world.stranger, world.reviewer):
        assert client.get(path, headers=viewer.headers).json()["items"] == []
    filtered = client.get(
        path,
        params={"round_id": str(world.round.id), "status": "submitted"},
        headers=world.applicant.headers,
    )
    assert filtered.json()["items"] == []
    assert client.get(path, params={"status": "lost"}, headers=world.admin.headers).status_code == (
        422
    )


def test_get_application(client: TestClient, world: World) -> None:
    path = f"/api/v1/applications/{world.application.id}"
    assert_guarded(
        client,
        world,
        "GET",
        path,
        scope=READ,
        caller=world.applicant,
        foreign_path=f"/api/v1/applications/{random_id()}",
        outsider=world.stranger,
    )
    assert client.get(path, headers=world.reviewer.headers).status_code == 404
    response = client.get(path, headers=world.partner_member.headers)
    assert response.status_code == 200
    assert response.json()["summary"] == "What we will do"
    assert response.headers["etag"] == '"1"'


def test_patch_application(client: TestClient, world: World) -> None:
    path = f"/api/v1/applications/{world.application.id}"
    body = {"title": "Sharper title"}
    assert_guarded(
        client,
        world,
        "PATCH",
        path,
        scope=WRITE,
        caller=world.applicant,
        json=body,
        headers={"If-Match": '"1"'},
        wrong_role=world.partner,
        foreign_path=f"/api/v1/applications/{random_id()}",
        outsider=world.stranger,
    )
    response = client.patch(path, json=body, headers={**world.applicant.headers, "If-Match": '"1"'})
    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Sharper title"
    assert response.headers["etag"] == '"2"'
    read_only = client.patch(
        path, json={"status": "submitted"}, headers={**world.applicant.headers, "If-Match": "*"}
    )
    assert read_only.status_code == 422
    assert read_only.json()["errors"][0]["loc"] == ["body", "status"]


def test_post_confirm(client: TestClient, world: World) -> None:
    path = f"/api/v1/applications/{world.application.id}/members/{world.partner_org.id}/confirm"
    assert_guarded(
        client,
        world,
        "POST",
        path,
        scope=WRITE,
        caller=world.partner,
        wrong_role=world.partner_member,
        outsider=world.stranger,
        foreign_path=f"/api/v1/applications/{world.application.id}/members/{random_id()}/confirm",
    )
    response = client.post(path, headers=world.partner.headers)
    assert response.status_code == 200, response.text
    partner = next(o for o in response.json()["organizations"] if not o["lead"])
    assert partner["confirmed"] is True


def _confirm(client: TestClient, world: World) -> None:
    path = f"/api/v1/applications/{world.application.id}/members/{world.partner_org.id}/confirm"
    assert client.post(path, headers=world.partner.headers).status_code == 200


def test_post_submit(client: TestClient, world: World) -> None:
    path = f"/api/v1/applications/{world.application.id}/submit"
    assert_guarded(
        client,
        world,
        "POST",
        path,
        scope=WRITE,
        caller=world.applicant,
        wrong_role=world.partner,
        foreign_path=f"/api/v1/applications/{random_id()}/submit",
        outsider=world.stranger,
    )
    incomplete = client.post(path, headers=world.applicant.headers)
    assert incomplete.status_code == 422
    assert incomplete.json()["type"] == "submission-incomplete"
    assert incomplete.json()["errors"] == [
        {
            "loc": ["members", str(world.partner_org.id)],
            "msg": "not yet confirmed by an owner of the organization",
        }
    ]
    _confirm(client, world)
    response = client.post(path, headers=world.applicant.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "submitted"
    receipt = body["receipt"]
    assert set(receipt) == {
        "receipt_id",
        "received_at",
        "application_sha256",
        "documents",
        "audit_hash",
    }
    assert len(receipt["application_sha256"]) == len(receipt["audit_hash"]) == 64
    assert receipt["received_at"].startswith(world.clock.now.strftime("%Y-%m-%dT%H:%M:%S"))


def test_post_reopen(client: TestClient, world: World) -> None:
    _confirm(client, world)
    submit = client.post(
        f"/api/v1/applications/{world.application.id}/submit", headers=world.applicant.headers
    )
    assert submit.status_code == 200
    path = f"/api/v1/applications/{world.application.id}/reopen"
    assert_guarded(
        client,
        world,
        "POST",
        path,
        scope=WRITE,
        caller=world.applicant,
        wrong_role=world.partner,
        foreign_path=f"/api/v1/applications/{random_id()}/reopen",
        outsider=world.stranger,
    )
    response = client.post(path, headers=world.applicant.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "draft"
    assert response.json()["receipt"] is None


def test_post_withdraw(client: TestClient, world: World) -> None:
    path = f"/api/v1/applications/{world.application.id}/withdraw"
    assert_guarded(
        client,
        world,
        "POST",
        path,
        scope=WRITE,
        caller=world.applicant,
        wrong_role=world.partner,
        foreign_path=f"/api/v1/applications/{random_id()}/withdraw",
        outsider=world.stranger,
    )
    admin = client.post(path, headers=world.admin.headers)
    assert admin.status_code == 403
    response = client.post(path, headers=world.applicant.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"


def test_submit_after_the_deadline_is_409(client: TestClient, world: World) -> None:
    _confirm(client, world)
    world.clock.now = world.round.submissions_close_at + timedelta(microseconds=1)
    response = client.post(
        f"/api/v1/applications/{world.application.id}/submit", headers=world.applicant.headers
    )
    assert response.status_code == 409
    assert response.json()["type"] == "deadline-passed"


def test_reviewer_role_cannot_create_organizations(app: FastAPI, client: TestClient) -> None:
    reviewer = person(app, roles=[Role.reviewer])
    response = client.post("/api/v1/organizations", json=ORG, headers=reviewer.headers)
    assert response.status_code == 403
    assert response.json()["type"] == "forbidden-role"
