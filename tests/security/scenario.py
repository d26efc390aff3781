"""One shared world for the security tests, built through the public API (people come from the
factories): a round in review with three organizations, two submitted consortium bids with a
document each, a panel of three reviewers (one conflicted with the main bid by email domain),
assignments and a submitted review.

The principals are the eight the authorization matrix speaks of; tokens are minted on demand at
the app's (fixed) clock, with every scope, so that only roles and ownership can refuse them.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from infra.db import open_session
from models.events import Event
from models.identity import Role, User
from models.webhooks import WebhookDelivery, WebhookEndpoint
from tests.factories import Clock, bearer, make_oauth_client, make_token, make_user, ok

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
CSV = b"item,amount\nGPUs,1200000\nPeople,800000\n"
REQUIRED_DOCUMENTS = [
    {"kind": "budget", "title": "Budget", "content_types": ["text/csv"], "max_bytes": 64 * 1024}
]


class Principal(StrEnum):
    anonymous = "anonymous"
    applicant = "applicant"
    """An owner of the lead organization of the main bid."""
    other_applicant = "other_applicant"
    """An owner of an organization that takes no part in the main bid (it leads the spare bid)."""
    member_owner = "member_owner"
    """An owner of a member organization of the main bid."""
    assigned_reviewer = "assigned_reviewer"
    unassigned_reviewer = "unassigned_reviewer"
    conflicted_reviewer = "conflicted_reviewer"
    """Conflicted with the main bid: their email domain is the lead organization's."""
    admin = "admin"


@dataclass
class Scenario:
    app: FastAPI
    client: TestClient
    clock: Clock
    users: dict[Principal, User]
    spare_user: User
    spare_reviewer: User
    program_id: str = ""
    round_id: str = ""
    lead_org: str = ""
    member_org: str = ""
    other_org: str = ""
    application: str = ""
    """The main bid: led by the applicant's organization with the member owner's as member."""
    spare_application: str = ""
    """Led by the other applicant's organization; reviewed by the assigned reviewer too."""
    document: str = ""
    assignment: str = ""
    """The assigned reviewer's assignment to the main bid, with a submitted review."""
    recusable_assignment: str = ""
    """The assigned reviewer's assignment to the spare bid."""
    removable_assignment: str = ""
    """The unassigned reviewer's assignment to the spare bid (not to the main one)."""
    made_webhook: tuple[str, str] | None = None
    """A webhook endpoint and one of its deliveries, once a row asks for them."""

    def headers(self, principal: Principal) -> dict[str, str]:
        """A token as a person gets it from signing in just now (authorization code flow)."""
        if principal is Principal.anonymous:
            return {}
        now = self.clock()
        return bearer(make_token(self.app, self.users[principal], now=now, auth_time=now))

    def user_id(self, principal: Principal) -> str:
        return str(self.users[principal].id)

    @property
    def fresh_client(self) -> str:
        """A new OAuth client of the applicant, each time (for rows that delete one)."""
        session = open_session(self.app.state.engine, write=True)
        try:
            client_id, _ = make_oauth_client(session, self.users[Principal.applicant])
        finally:
            session.close()
        return client_id

    @property
    def fresh_user(self) -> str:
        """A new applicant, each time (for rows that deactivate one)."""
        session = open_session(self.app.state.engine, write=True)
        try:
            return str(make_user(session, roles=[Role.applicant]).id)
        finally:
            session.close()

    @property
    def webhook(self) -> str:
        return self._webhook()[0]

    @property
    def webhook_delivery(self) -> str:
        return self._webhook()[1]

    def _webhook(self) -> tuple[str, str]:
        """A disabled webhook endpoint (nothing is sent to it) with one delivered event."""
        if self.made_webhook is not None:
            return self.made_webhook
        session = open_session(self.app.state.engine, write=True)
        try:
            now = self.clock()
            event = session.exec(select(Event).order_by(col(Event.seq))).first()
            assert event is not None, "the scenario's round was opened"
            endpoint = WebhookEndpoint(
                url="https://93.184.216.34/hook",
                event_types=["round.opened"],
                status="disabled",
                secret="whsec_" + "A" * 44,
                after_seq=0,
                created_by=self.users[Principal.admin].id,
                created_at=now,
                updated_at=now,
            )
            session.add(endpoint)
            session.flush()
            delivery = WebhookDelivery(
                endpoint_id=endpoint.id,
                event_id=event.id,
                event_seq=event.seq,
                status="delivered",
                attempts=1,
                last_status_code=204,
                created_at=now,
                delivered_at=now,
            )
            session.add(delivery)
            session.commit()
            made = (str(endpoint.id), str(delivery.id))
        finally:
            session.close()
        self.made_webhook = made
        return made


def _users(app: FastAPI) -> tuple[dict[Principal, User], User, User]:
    roles = {
        # The lead organization's owner: their address verifies its claim to lead.example.com.
        Principal.applicant: ([Role.applicant], "owner@lead.example.com"),
        Principal.other_applicant: ([Role.applicant], None),
        Principal.member_owner: ([Role.applicant], None),
        Principal.assigned_reviewer: ([Role.reviewer], "assigned@uni-a.example.edu"),
        Principal.unassigned_reviewer: ([Role.reviewer], "unassigned@uni-u.example.edu"),
        Principal.conflicted_reviewer: ([Role.reviewer], "conflicted@lead.example.com"),
        Principal.admin: ([Role.admin], None),
    }
    session = open_session(app.state.engine, write=True)
    try:
        users = {p: make_user(session, roles=r, email=e) for p, (r, e) in roles.items()}
        spare_user = make_user(session, roles=[Role.applicant])
        spare_reviewer = make_user(session, roles=[Role.reviewer])
    finally:
        session.close()
    return users, spare_user, spare_reviewer


def round_body(name: str = "Stage 1") -> dict[str, Any]:
    return {
        "name": name,
        "opens_at": (T0 - timedelta(hours=1)).isoformat(),
        "submission_deadline": (T0 + timedelta(hours=1)).isoformat(),
        "grace_seconds": 60,
        "review_deadline": (T0 + timedelta(days=10)).isoformat(),
        "criteria": [
            {"key": "tech", "title": "Technology", "weight": 2, "min": 0, "max": 10},
            {"key": "team", "title": "Team", "weight": 1, "min": 0, "max": 10},
        ],
        "gates": [{"key": "independent", "title": "Independent development"}],
        "required_documents": REQUIRED_DOCUMENTS,
        "reviewers_per_application": 1,
        "shortlist": {"size": 1, "tie_break": ["criterion:tech", "submitted_at"]},
    }


def review_body() -> dict[str, Any]:
    return {
        "scores": {"tech": 7, "team": 6},
        "gates": {"independent": "pass"},
        "comment_to_applicant": "Solid plan",
        "confidential_comment": "between us",
    }


def organization_body(name: str, domains: list[str] | None = None) -> dict[str, Any]:
    return {
        "name": name,
        "registration_number": uuid.uuid4().hex[:12],
        "country": "KR",
        "email_domains": domains or [],
    }


def build_scenario(app: FastAPI, client: TestClient) -> Scenario:
    clock = Clock(T0)
    app.state.clock = clock
    users, spare_user, spare_reviewer = _users(app)
    s = Scenario(app, client, clock, users, spare_user, spare_reviewer)
    p = Principal

    s.lead_org = ok(
        client.post(
            "/api/v1/organizations",
            json=organization_body("Lead Co", ["lead.example.com"]),
            headers=s.headers(p.applicant),
        ),
        201,
    )["id"]
    s.member_org = ok(
        client.post(
            "/api/v1/organizations",
            json=organization_body("Partner Lab"),
            headers=s.headers(p.member_owner),
        ),
        201,
    )["id"]
    s.other_org = ok(
        client.post(
            "/api/v1/organizations",
            json=organization_body("Else Inc"),
            headers=s.headers(p.other_applicant),
        ),
        201,
    )["id"]

    s.program_id = ok(
        client.post(
            "/api/v1/programs",
            json={"name": "Sovereign AI", "description": "x"},
            headers=s.headers(p.admin),
        ),
        201,
    )["id"]
    s.round_id = ok(
        client.post(
            f"/api/v1/programs/{s.program_id}/rounds", json=round_body(), headers=s.headers(p.admin)
        ),
        201,
    )["id"]
    ok(client.post(f"/api/v1/rounds/{s.round_id}/open", headers=s.headers(p.admin)))

    s.application = _bid(s, p.applicant, s.lead_org, members=[s.member_org])
    ok(
        client.post(
            f"/api/v1/applications/{s.application}/members/{s.member_org}/confirm",
            headers=s.headers(p.member_owner),
        )
    )
    s.document = _upload(s, p.applicant, s.application)
    ok(client.post(f"/api/v1/applications/{s.application}/submit", headers=s.headers(p.applicant)))
    s.spare_application = _bid(s, p.other_applicant, s.other_org)
    _upload(s, p.other_applicant, s.spare_application)
    ok(
        client.post(
            f"/api/v1/applications/{s.spare_application}/submit",
            headers=s.headers(p.other_applicant),
        )
    )

    clock.now = T0 + timedelta(hours=2)
    ok(client.post(f"/api/v1/rounds/{s.round_id}/start-review", headers=s.headers(p.admin)))
    for reviewer in (p.assigned_reviewer, p.unassigned_reviewer, p.conflicted_reviewer):
        ok(
            client.post(
                f"/api/v1/rounds/{s.round_id}/reviewers",
                json={"user_id": s.user_id(reviewer), "max_assignments": 5, "expertise": []},
                headers=s.headers(p.admin),
            ),
            201,
        )
    s.assignment = _assign(s, s.application, p.assigned_reviewer)
    s.recusable_assignment = _assign(s, s.spare_application, p.assigned_reviewer)
    s.removable_assignment = _assign(s, s.spare_application, p.unassigned_reviewer)
    draft = client.put(
        f"/api/v1/assignments/{s.assignment}/review",
        json=review_body(),
        headers=s.headers(p.assigned_reviewer),
    )
    assert draft.status_code == 201, draft.text
    ok(
        client.post(
            f"/api/v1/assignments/{s.assignment}/review/submit",
            headers={**s.headers(p.assigned_reviewer), "If-Match": draft.headers["etag"]},
        )
    )

    conflicts = ok(
        client.get(f"/api/v1/rounds/{s.round_id}/conflicts", headers=s.headers(p.admin))
    )["items"]
    assert {(c["reviewer_id"], c["application_id"]) for c in conflicts} == {
        (s.user_id(p.conflicted_reviewer), s.application)
    }, conflicts
    return s


def _bid(s: Scenario, who: Principal, lead: str, members: list[str] | None = None) -> str:
    body = {
        "title": f"Bid of {who}",
        "summary": "A national foundation model",
        "lead_organization_id": lead,
        "members": [{"organization_id": m} for m in members or []],
    }
    created = s.client.post(
        f"/api/v1/rounds/{s.round_id}/applications", json=body, headers=s.headers(who)
    )
    return str(ok(created, 201)["id"])


def _upload(s: Scenario, who: Principal, application: str) -> str:
    response = s.client.post(
        f"/api/v1/applications/{application}/documents",
        data={"kind": "budget"},
        files={"file": ("budget.csv", CSV, "text/csv")},
        headers=s.headers(who),
    )
    return str(ok(response, 201)["id"])


def _assign(s: Scenario, application: str, reviewer: Principal) -> str:
    created = s.client.post(
        f"/api/v1/rounds/{s.round_id}/assignments",
        json={"application_id": application, "reviewer_id": s.user_id(reviewer)},
        headers=s.headers(Principal.admin),
    )
    return str(ok(created, 201)["id"])
