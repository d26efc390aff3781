"""Intake under real concurrency (acceptance 2): parallel HTTP requests against a live uvicorn
server on PostgreSQL, each thread with its own connection."""

import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlmodel import col, select

from infra.db import open_session
from models.applications import Application, ApplicationStatus, Receipt
from models.audit import AuditEvent
from tests.api.intake import World, assert_audit_chain_ok, build_world, headers_for, person
from tests.factories import make_application, make_organization, make_round
from tests.integration import live as served_app
from tests.integration.live import Call, served

pytestmark = pytest.mark.postgres

LEAD = 4.0  # seconds from the start of the deadline race to the deadline plus grace
STEP = 0.6  # seconds between its submissions (generous: CI machines are shared and slow)


@pytest.fixture
def live(app: FastAPI) -> Iterator[str]:
    with served(app) as url:
        yield url
    assert_audit_chain_ok(app)


def request(method: str, path: str, **kwargs: Any) -> Call:
    def call(client: httpx.Client) -> httpx.Response:
        return client.request(method, path, **kwargs)

    return call


def race(base_url: str, calls: list[Call]) -> list[httpx.Response]:
    return served_app.race(base_url, calls, timeout=30)


def _confirm_partner(base_url: str, world: World) -> None:
    response = httpx.post(
        f"{base_url}/api/v1/applications/{world.application.id}/members/"
        f"{world.partner_org.id}/confirm",
        headers=world.partner.headers,
    )
    assert response.status_code == 200, response.text


def _scalars(app: FastAPI, statement: Any) -> list[Any]:
    session = open_session(app.state.engine)
    try:
        return list(session.exec(statement).all())
    finally:
        session.close()


def test_twenty_submits_with_one_key_have_one_effect(app: FastAPI, live: str) -> None:
    world = build_world(app)
    _confirm_partner(live, world)
    headers = {**world.applicant.headers, "Idempotency-Key": f"submit-{uuid.uuid4()}"}
    path = f"/api/v1/applications/{world.application.id}/submit"
    responses = race(live, [request("POST", path, headers=headers)] * 20)

    statuses = sorted(r.status_code for r in responses)
    assert set(statuses) <= {200, 409}, [r.text for r in responses]
    accepted = [r for r in responses if r.status_code == 200]
    assert accepted
    assert len({r.json()["receipt"]["receipt_id"] for r in accepted}) == 1
    for refused in (r for r in responses if r.status_code == 409):
        assert refused.json()["type"] == "idempotency-key-in-flight"

    replay = httpx.post(f"{live}{path}", headers=headers)
    assert replay.status_code == 200
    assert replay.json()["receipt"] == accepted[0].json()["receipt"]
    assert len(_scalars(app, select(Receipt))) == 1
    submitted = select(AuditEvent).where(AuditEvent.action == "application.submitted")
    assert len(_scalars(app, submitted)) == 1


def test_two_patches_with_one_if_match_give_one_200_and_one_412(app: FastAPI, live: str) -> None:
    world = build_world(app)
    path = f"/api/v1/applications/{world.application.id}"
    headers = {**world.applicant.headers, "If-Match": '"1"'}
    for attempt in range(3):
        headers["If-Match"] = f'"{1 + attempt}"'
        responses = race(
            live,
            [
                request("PATCH", path, json={"title": title}, headers=dict(headers))
                for title in (f"A{attempt}", f"B{attempt}")
            ],
        )
        assert sorted(r.status_code for r in responses) == [200, 412], [r.text for r in responses]
    updated = select(AuditEvent).where(AuditEvent.action == "application.updated")
    assert len(_scalars(app, updated)) == 3


def test_two_applications_for_one_organization_give_one_201_and_one_409(
    app: FastAPI, live: str
) -> None:
    world = build_world(app)
    path = f"/api/v1/rounds/{world.round.id}/applications"
    for attempt in range(3):
        owner = person(app)
        session = open_session(app.state.engine, write=True)
        try:
            organization = make_organization(session, owner.user, now=world.clock.now)
        finally:
            session.close()
        headers = owner.headers
        body = {"lead_organization_id": str(organization.id)}
        responses = race(
            live,
            [
                request("POST", path, json={**body, "title": title}, headers=headers)
                for title in (f"First {attempt}", f"Second {attempt}")
            ],
        )
        assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]
        refused = next(r for r in responses if r.status_code == 409)
        assert refused.json()["type"] == "already-applied"
        live_bids = select(Application).where(Application.lead_organization_id == organization.id)
        assert len(_scalars(app, live_bids)) == 1


def test_submissions_racing_the_deadline_are_whole_or_refused(app: FastAPI, live: str) -> None:
    """The server clock runs in real time, shifted so that the deadline falls inside the race:
    each submission is either accepted with received_at <= deadline + grace, or refused with
    nothing written."""
    world = build_world(app)
    applicants = [person(app) for _ in range(12)]
    session = open_session(app.state.engine, write=True)
    try:
        round = make_round(session, now=world.clock.now, grace_seconds=1)
        bids = [make_application(session, round, a.user, now=world.clock.now) for a in applicants]
    finally:
        session.close()
    close_at = round.submissions_close_at

    def flow_from_now() -> float:
        """Let the server clock run so it reaches close_at LEAD seconds from now."""
        world.clock.run_from(close_at - timedelta(seconds=LEAD))
        return time.monotonic()

    flow_from_now()
    tokens = [headers_for(app, a.user) for a in applicants]  # valid at the shifted clock
    start = flow_from_now()  # minting took time: restart the countdown after it

    def submit_at(delay: float, bid: Application, headers: dict[str, str]) -> Call:
        def call(client: httpx.Client) -> httpx.Response:
            time.sleep(max(0.0, start + delay - time.monotonic()))
            return client.post(f"/api/v1/applications/{bid.id}/submit", headers=headers)

        return call

    delays = [i * STEP for i in range(len(bids))]  # across close_at, at LEAD
    responses = race(
        live, [submit_at(d, b, t) for d, b, t in zip(delays, bids, tokens, strict=True)]
    )

    by_id = {b.id: r for b, r in zip(bids, responses, strict=True)}
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 409}, [r.text for r in responses]
    assert 200 in statuses, [r.text for r in responses]
    assert 409 in statuses, statuses
    rows = {
        a.id: a for a in _scalars(app, select(Application).where(col(Application.id).in_(by_id)))
    }
    receipts = {r.application_id: r for r in _scalars(app, select(Receipt))}
    events = _scalars(app, select(AuditEvent).where(AuditEvent.action == "application.submitted"))
    submitted_ids = {e.object_id for e in events}
    for bid_id, response in by_id.items():
        if response.status_code == 200:
            received = datetime.fromisoformat(response.json()["receipt"]["received_at"])
            assert received <= close_at
            assert rows[bid_id].status == ApplicationStatus.submitted
            assert receipts[bid_id].received_at == received
            assert str(bid_id) in submitted_ids
        else:
            assert response.json()["type"] == "deadline-passed"
            assert rows[bid_id].status == ApplicationStatus.draft
            assert bid_id not in receipts
            assert str(bid_id) not in submitted_ids
    assert len(events) == statuses.count(200)
