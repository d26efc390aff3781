"""Intake over HTTP: Idempotency-Key, pagination, ETag/If-Match, sealed bids (acceptance 4),
eligibility (acceptance 3) and one audit event per state change (acceptance 5)."""

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from infra.db import open_session
from models.applications import Application, ApplicationStatus, Receipt
from models.audit import AuditEvent
from models.documents import DocumentStatus
from models.rounds import Round, RoundStatus
from tests.api.intake import (
    Person,
    World,
    assert_audit_chain_ok,
    assert_problem,
    build_world,
    person,
    random_id,
)
from tests.factories import make_document, make_organization

US = timedelta(microseconds=1)
ORG = {"name": "Acme", "registration_number": "1", "country": "DE", "email_domains": []}
PROPOSAL = {
    "kind": "proposal",
    "title": "Proposal",
    "content_types": ["application/pdf"],
    "max_bytes": 1000,
}


@pytest.fixture
def world(app: FastAPI, client: TestClient) -> Iterator[World]:
    world = build_world(app)
    yield world
    assert_audit_chain_ok(app)


def _count(app: FastAPI, action: str) -> int:
    session = open_session(app.state.engine)
    try:
        return len(session.exec(select(AuditEvent).where(AuditEvent.action == action)).all())
    finally:
        session.close()


def _confirm_partner(client: TestClient, world: World) -> None:
    response = client.post(
        f"/api/v1/applications/{world.application.id}/members/{world.partner_org.id}/confirm",
        headers=world.partner.headers,
    )
    assert response.status_code == 200


# --- Idempotency-Key ---------------------------------------------------------------------------


def test_same_key_and_body_replays_the_first_response(client: TestClient, world: World) -> None:
    headers = {**world.applicant.headers, "Idempotency-Key": "org-1"}
    first = client.post("/api/v1/organizations", json=ORG, headers=headers)
    assert first.status_code == 201
    # Same JSON, other spelling: the same request.
    replay = client.post(
        "/api/v1/organizations",
        content=b'{ "email_domains": [], "country": "DE", "registration_number": "1",'
        b' "name": "Acme" }',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["location"] == first.headers["location"]
    assert replay.headers["idempotent-replayed"] == "true"
    assert _count(world.app, "organization.created") == 4  # three from the world, one here


def test_same_key_other_body_is_422(client: TestClient, world: World) -> None:
    headers = {**world.applicant.headers, "Idempotency-Key": "org-2"}
    assert client.post("/api/v1/organizations", json=ORG, headers=headers).status_code == 201
    other = client.post("/api/v1/organizations", json={**ORG, "name": "Other"}, headers=headers)
    assert_problem(other, 422, "idempotency-key-reused")


def test_keys_are_scoped_to_the_caller_and_the_path(client: TestClient, world: World) -> None:
    key = {"Idempotency-Key": "shared"}
    one = client.post("/api/v1/organizations", json=ORG, headers={**world.applicant.headers, **key})
    two = client.post("/api/v1/organizations", json=ORG, headers={**world.stranger.headers, **key})
    assert one.status_code == two.status_code == 201
    assert one.json()["id"] != two.json()["id"]
    program = client.post(
        "/api/v1/programs",
        json={"name": "P", "description": ""},
        headers={**world.admin.headers, **key},
    )
    assert program.status_code == 201
    assert "idempotent-replayed" not in program.headers


def test_a_malformed_key_is_422(client: TestClient, world: World) -> None:
    response = client.post(
        "/api/v1/organizations",
        json=ORG,
        headers={**world.applicant.headers, "Idempotency-Key": "x" * 256},
    )
    body = assert_problem(response, 422)
    assert body["errors"] == [
        {"loc": ["header", "Idempotency-Key"], "msg": "1 to 255 visible ASCII"}
    ]


def test_a_submit_replays_its_receipt_and_happens_once(client: TestClient, world: World) -> None:
    _confirm_partner(client, world)
    headers = {**world.applicant.headers, "Idempotency-Key": "submit-1"}
    path = f"/api/v1/applications/{world.application.id}/submit"
    first = client.post(path, headers=headers)
    second = client.post(path, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.json()["receipt"] == first.json()["receipt"]
    assert second.headers["etag"] == first.headers["etag"]
    without_key = client.post(path, headers=world.applicant.headers)
    assert_problem(without_key, 409, "invalid-transition")
    assert _count(world.app, "application.submitted") == 1


def test_refusals_are_not_stored_and_keys_expire(client: TestClient, world: World) -> None:
    headers = {**world.applicant.headers, "Idempotency-Key": "submit-2"}
    path = f"/api/v1/applications/{world.application.id}/submit"
    assert client.post(path, headers=headers).status_code == 422  # partner not confirmed
    _confirm_partner(client, world)
    assert client.post(path, headers=headers).status_code == 200

    org_headers = {**world.applicant.headers, "Idempotency-Key": "org-3"}
    first = client.post("/api/v1/organizations", json=ORG, headers=org_headers)
    world.clock.now += timedelta(hours=24)
    still = client.post(
        "/api/v1/organizations",
        json=ORG,
        headers=world.applicant.headers | {"Idempotency-Key": "org-3"},
    )
    assert still.json()["id"] == first.json()["id"]
    world.clock.now += US
    fresh = client.post(
        "/api/v1/organizations",
        json=ORG,
        headers=world.applicant.headers | {"Idempotency-Key": "org-3"},
    )
    assert fresh.status_code == 201
    assert fresh.json()["id"] != first.json()["id"]
    assert "idempotent-replayed" not in fresh.headers


# --- pagination --------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "101", "-1", "many"])
def test_a_limit_outside_1_to_100_is_422(client: TestClient, world: World, limit: str) -> None:
    response = client.get(f"/api/v1/programs?limit={limit}", headers=world.admin.headers)
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["loc"] == ["query", "limit"]


def test_pages_follow_the_cursor_to_the_end(client: TestClient, world: World) -> None:
    for i in range(4):
        world.clock.now += timedelta(seconds=1)
        client.post(
            "/api/v1/programs",
            json={"name": f"P{i}", "description": ""},
            headers=world.admin.headers,
        )
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/programs", params=params, headers=world.admin.headers).json()
        seen += [p["name"] for p in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == ["Program", "P0", "P1", "P2", "P3"]
    everything = client.get("/api/v1/programs", headers=world.admin.headers).json()
    assert len(everything["items"]) == 5
    assert everything["next_cursor"] is None


def test_a_broken_cursor_is_422(client: TestClient, world: World) -> None:
    response = client.get(
        "/api/v1/applications?cursor=bm90LWEtY3Vyc29y", headers=world.admin.headers
    )
    body = assert_problem(response, 422, "invalid-cursor")
    assert body["errors"][0]["loc"] == ["query", "cursor"]


# --- ETag / If-Match ---------------------------------------------------------------------------


def test_patch_needs_a_current_if_match(client: TestClient, world: World) -> None:
    path = f"/api/v1/applications/{world.application.id}"
    etag = client.get(path, headers=world.applicant.headers).headers["etag"]
    missing = client.patch(path, json={"title": "T"}, headers=world.applicant.headers)
    assert_problem(missing, 428, "precondition-required")
    first = client.patch(
        path, json={"title": "T1"}, headers={**world.applicant.headers, "If-Match": etag}
    )
    assert first.status_code == 200
    stale = client.patch(
        path, json={"title": "T2"}, headers={**world.applicant.headers, "If-Match": etag}
    )
    body = assert_problem(stale, 412, "precondition-failed")
    assert body["current_etag"] == first.headers["etag"]
    weak = client.patch(
        path,
        json={"title": "T2"},
        headers={**world.applicant.headers, "If-Match": f"W/{first.headers['etag']}"},
    )
    assert_problem(weak, 412)
    star = client.patch(
        path, json={"title": "T3"}, headers={**world.applicant.headers, "If-Match": "*"}
    )
    assert star.status_code == 200
    assert client.get(path, headers=world.applicant.headers).json()["title"] == "T3"


def test_round_patch_needs_if_match(client: TestClient, world: World) -> None:
    path = f"/api/v1/rounds/{world.round.id}"
    response = client.patch(path, json={"grace_seconds": 60}, headers=world.admin.headers)
    assert_problem(response, 428)
    response = client.patch(
        path, json={"grace_seconds": 60}, headers={**world.admin.headers, "If-Match": '"1"'}
    )
    assert_problem(response, 412)


# --- sealed bids (acceptance 4) ----------------------------------------------------------------


def test_admins_see_only_identity_and_status_before_the_deadline(
    client: TestClient, world: World
) -> None:
    _confirm_partner(client, world)
    path = f"/api/v1/applications/{world.application.id}"
    assert client.post(f"{path}/submit", headers=world.applicant.headers).status_code == 200

    sealed = client.get(path, headers=world.admin.headers)
    assert sealed.status_code == 200
    assert set(sealed.json()) == {"id", "title", "status", "organizations"}
    assert sealed.json()["status"] == "submitted"
    assert {o["name"] for o in sealed.json()["organizations"]} == {"Lead Co", "Partner Lab"}
    assert "etag" not in sealed.headers
    listed = client.get("/api/v1/applications", headers=world.admin.headers).json()["items"]
    assert set(listed[0]) == {"id", "title", "status", "organizations"}
    assert "summary" in client.get(path, headers=world.partner_member.headers).json()

    world.clock.now = world.round.submissions_close_at
    assert set(client.get(path, headers=world.admin.headers).json()) == {
        "id",
        "title",
        "status",
        "organizations",
    }
    world.clock.now = world.round.submissions_close_at + US
    opened = client.get(path, headers=world.admin.headers).json()
    assert opened["summary"] == "What we will do"
    assert opened["receipt"]["receipt_id"]


# --- eligibility (acceptance 3) ----------------------------------------------------------------


def test_re_entry_and_shortlist_only_rounds(client: TestClient, world: World, app: FastAPI) -> None:
    """Round 1 closes (statuses set directly) with the stranger's bid shortlisted and the
    consortium eliminated. Until it is published its outcomes count for nobody (outcomes are
    sealed until publish: a later round's answer must not tell them); then they do."""
    winner_bid = client.post(
        f"/api/v1/rounds/{world.round.id}/applications",
        json={"title": "Winner", "lead_organization_id": str(world.stranger_org.id)},
        headers=world.stranger.headers,
    ).json()
    newcomer = person(app)
    session = open_session(app.state.engine, write=True)
    try:
        for application_id, status in (
            (uuid.UUID(winner_bid["id"]), ApplicationStatus.shortlisted),
            (world.application.id, ApplicationStatus.not_selected),
        ):
            row = session.get(Application, application_id)
            assert row is not None
            row.status = status
            session.add(row)
        first = session.get(Round, world.round.id)
        assert first is not None
        first.status = RoundStatus.closed
        session.add(first)
        newcomer_org = make_organization(session, newcomer.user, now=world.clock.now)
        session.commit()
    finally:
        session.close()

    def new_round(eligibility: dict[str, object]) -> str:
        body = {
            "name": "Next",
            "opens_at": (world.clock.now - timedelta(hours=1)).isoformat(),
            "submission_deadline": (world.clock.now + timedelta(days=3)).isoformat(),
            "review_deadline": (world.clock.now + timedelta(days=5)).isoformat(),
            "criteria": [{"key": "q", "title": "Q", "weight": 1, "min": 0, "max": 5}],
            "eligibility": eligibility,
        }
        created = client.post(
            f"/api/v1/programs/{world.program.id}/rounds", json=body, headers=world.admin.headers
        ).json()
        opened = client.post(f"/api/v1/rounds/{created['id']}/open", headers=world.admin.headers)
        assert opened.status_code == 200
        return str(created["id"])

    def apply(round_id: str, who: Person, organization_id: object) -> int:
        response = client.post(
            f"/api/v1/rounds/{round_id}/applications",
            json={"title": "Again", "lead_organization_id": str(organization_id)},
            headers=who.headers,
        )
        if response.status_code == 403:
            assert response.json()["type"] == "not-eligible"
        return response.status_code

    contenders = [
        (world.applicant, world.lead.id),
        (world.stranger, world.stranger_org.id),
        (newcomer, newcomer_org.id),
    ]
    early_finals = new_round({"only_shortlisted_from": str(world.round.id)})
    assert [apply(early_finals, *c) for c in contenders] == [403, 403, 403]
    early_re_entry = new_round({"exclude_shortlisted_from": [str(world.round.id)]})
    assert [apply(early_re_entry, *c) for c in contenders] == [201, 201, 201]

    session = open_session(app.state.engine, write=True)
    try:
        first = session.get(Round, world.round.id)
        assert first is not None
        first.status = RoundStatus.published
        session.add(first)
        session.commit()
    finally:
        session.close()

    re_entry = new_round({"exclude_shortlisted_from": [str(world.round.id)]})
    assert apply(re_entry, world.applicant, world.lead.id) == 201
    assert apply(re_entry, world.stranger, world.stranger_org.id) == 403
    assert apply(re_entry, newcomer, newcomer_org.id) == 201

    finals = new_round({"only_shortlisted_from": str(world.round.id)})
    assert apply(finals, world.stranger, world.stranger_org.id) == 201
    assert apply(finals, world.applicant, world.lead.id) == 403
    assert apply(finals, newcomer, newcomer_org.id) == 403


# --- one audit event per state change (acceptance 5) -------------------------------------------


def test_every_state_change_writes_exactly_one_audit_event(
    client: TestClient, app: FastAPI
) -> None:
    world = build_world(app, required_documents=[PROPOSAL])
    session = open_session(app.state.engine)
    before = Counter(session.exec(select(AuditEvent.action)).all())
    session.close()
    assert before == Counter(
        {
            "user.created": 6,
            "organization.created": 3,
            "organization.member_added": 1,
            "program.created": 1,
            "round.created": 1,
            "round.opened": 1,
            "application.created": 1,
        }
    )
    app_path = f"/api/v1/applications/{world.application.id}"
    round_path = f"/api/v1/rounds/{world.round.id}"
    confirm = f"{app_path}/members/{world.partner_org.id}/confirm"
    admin, applicant, partner = world.admin, world.applicant, world.partner
    Step = tuple[str, str, object, Person | None, str | None, int, str | None]
    steps: list[Step] = [
        ("POST", "/api/v1/organizations", ORG, applicant, None, 201, "organization.created"),
        ("PATCH", app_path, {"title": "New"}, applicant, '"1"', 200, "application.updated"),
        ("PATCH", app_path, {"title": "New"}, applicant, '"2"', 200, None),
        ("POST", f"{app_path}/submit", None, applicant, None, 422, None),
        ("POST", confirm, None, partner, None, 200, "application.member_confirmed"),
        ("POST", confirm, None, partner, None, 200, None),
        ("POST", f"{app_path}/submit", None, applicant, None, 422, None),
        ("DOCUMENT", "", None, None, None, 0, None),
        ("POST", f"{app_path}/submit", None, applicant, None, 200, "application.submitted"),
        ("POST", f"{app_path}/submit", None, applicant, None, 409, None),
        ("POST", f"{app_path}/reopen", None, applicant, None, 200, "application.reopened"),
        ("POST", f"{app_path}/submit", None, applicant, None, 200, "application.submitted"),
        ("PATCH", round_path, {"grace_seconds": 30}, admin, '"2"', 200, "round.updated"),
        ("POST", f"{round_path}/start-review", None, admin, None, 409, None),
        ("CLOCK", "", None, None, None, 0, None),
        ("POST", f"{round_path}/start-review", None, admin, None, 200, "round.review_started"),
        ("POST", f"{app_path}/withdraw", None, applicant, None, 200, "application.withdrawn"),
    ]
    expected = Counter(before)
    for method, path, body, who, if_match, status, action in steps:
        if method == "DOCUMENT":
            session = open_session(app.state.engine, write=True)
            application = session.get(Application, world.application.id)
            assert application is not None
            make_document(session, application, status=DocumentStatus.clean, now=world.clock.now)
            session.close()
            continue
        if method == "CLOCK":
            world.clock.now = world.round.submission_deadline + timedelta(seconds=30) + US
            continue
        assert who is not None
        headers = {**who.headers, **({"If-Match": if_match} if if_match else {})}
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == status, (path, response.text)
        if action:
            expected[action] += 1
    session = open_session(app.state.engine)
    try:
        after = Counter(session.exec(select(AuditEvent.action)).all())
        receipts = session.exec(select(Receipt).order_by(col(Receipt.received_at))).all()
    finally:
        session.close()
    assert after == expected
    assert [r.voided_at is not None for r in receipts] == [True, True]
    assert_audit_chain_ok(app)


def test_foreign_application_ids_are_404_not_403(client: TestClient, world: World) -> None:
    for path in (
        f"/api/v1/applications/{random_id()}",
        f"/api/v1/applications/{world.application.id}",
    ):
        assert_problem(client.get(path, headers=world.stranger.headers), 404, "not-found")
