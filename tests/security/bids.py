"""A small open round for the attacks on applications, built through the public API at a fixed
clock: an admin, and organizations each with an owner and a plain member, who bid, list each
other, upload, submit and (through ``close_with_outcomes``) end up shortlisted or not."""

import re
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from infra.db import open_session
from models.identity import Role, User
from tests.factories import Clock, bearer, make_token, make_user, ok
from tests.security.scenario import CSV, T0, organization_body, round_body

API = "/api/v1"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
HEX64 = re.compile(r"\b[0-9a-f]{64}\b")
EMAIL = re.compile(r"\buser-[0-9a-f]{10}@example\.org\b")


def masked(text: str) -> str:
    """``text`` with its ids, SHA-256 hex digests and the factories' random email addresses
    masked (they differ between any two bids or people)."""
    return EMAIL.sub("<email>", HEX64.sub("<sha256>", UUID.sub("<id>", text)))


@dataclass
class Person:
    app: FastAPI
    user: User

    @property
    def id(self) -> str:
        return str(self.user.id)

    @property
    def headers(self) -> dict[str, str]:
        return bearer(make_token(self.app, self.user))


@dataclass
class Org:
    id: str
    owner: Person
    member: Person


@dataclass
class Bids:
    app: FastAPI
    client: TestClient
    clock: Clock
    admin: Person
    round_id: str = ""
    program_id: str = ""
    orgs: list[Org] = field(default_factory=list)

    def person(self, roles: list[Role] | None = None, email: str | None = None) -> Person:
        session = open_session(self.app.state.engine, write=True)
        try:
            user = make_user(session, roles=roles or [Role.applicant], email=email)
        finally:
            session.close()
        return Person(self.app, user)

    def organization(self, name: str) -> Org:
        owner, member = self.person(), self.person()
        org = ok(
            self.client.post(
                f"{API}/organizations", json=organization_body(name), headers=owner.headers
            ),
            201,
        )["id"]
        ok(
            self.client.post(
                f"{API}/organizations/{org}/members",
                json={"user_id": member.id, "role": "member"},
                headers=owner.headers,
            ),
            201,
        )
        made = Org(org, owner, member)
        self.orgs.append(made)
        return made

    def bid(
        self, lead: Org, *, members: list[Org] | None = None, title: str = "Bid", status: int = 201
    ) -> Any:
        return ok(
            self.client.post(
                f"{API}/rounds/{self.round_id}/applications",
                json={
                    "title": title,
                    "summary": "A national foundation model",
                    "lead_organization_id": lead.id,
                    "members": [{"organization_id": m.id} for m in members or []],
                },
                headers=lead.owner.headers,
            ),
            status,
        )

    def upload(self, application: str, who: Person, body: bytes = CSV) -> Any:
        return self.client.post(
            f"{API}/applications/{application}/documents",
            data={"kind": "budget"},
            files={"file": ("budget.csv", body, "text/csv")},
            headers=who.headers,
        )

    def confirm(self, application: str, org: Org, who: Person | None = None) -> Any:
        return self.client.post(
            f"{API}/applications/{application}/members/{org.id}/confirm",
            headers=(who or org.owner).headers,
        )

    def decline(self, application: str, org: Org, who: Person | None = None) -> Any:
        return self.client.post(
            f"{API}/applications/{application}/members/{org.id}/decline",
            headers=(who or org.owner).headers,
        )

    def submit(self, application: str, who: Person) -> Any:
        return self.client.post(f"{API}/applications/{application}/submit", headers=who.headers)

    def get(self, path: str, who: Person, **params: Any) -> Any:
        return self.client.get(f"{API}{path}", headers=who.headers, params=params)

    def close_with_outcomes(self, shortlisted: str, eliminated: str) -> None:
        """Past the deadline: review starts, one reviewer scores ``shortlisted`` high and another
        ``eliminated`` low, and the round (shortlist size 1) closes. Not published."""
        self.clock.now = T0 + timedelta(hours=2)
        admin = self.admin.headers
        ok(self.client.post(f"{API}/rounds/{self.round_id}/start-review", headers=admin))
        for application, score in ((shortlisted, 9), (eliminated, 2)):
            reviewer = self.person(
                roles=[Role.reviewer], email=f"r-{uuid.uuid4().hex[:8]}@review.example.net"
            )
            ok(
                self.client.post(
                    f"{API}/rounds/{self.round_id}/reviewers",
                    json={"user_id": reviewer.id, "max_assignments": 2, "expertise": []},
                    headers=admin,
                ),
                201,
            )
            assignment = ok(
                self.client.post(
                    f"{API}/rounds/{self.round_id}/assignments",
                    json={"application_id": application, "reviewer_id": reviewer.id},
                    headers=admin,
                ),
                201,
            )["id"]
            draft = self.client.put(
                f"{API}/assignments/{assignment}/review",
                json={
                    "scores": {"tech": score, "team": score},
                    "gates": {"independent": "pass"},
                    "comment_to_applicant": "Thanks",
                    "confidential_comment": "",
                },
                headers=reviewer.headers,
            )
            assert draft.status_code == 201, draft.text
            ok(
                self.client.post(
                    f"{API}/assignments/{assignment}/review/submit",
                    headers={**reviewer.headers, "If-Match": draft.headers["etag"]},
                )
            )
        ok(self.client.post(f"{API}/rounds/{self.round_id}/close", json={}, headers=admin))


def open_round(app: FastAPI, client: TestClient) -> Bids:
    """An open round (deadline at ``T0`` + 1 hour, 60 s grace) with the clock at ``T0``."""
    clock = Clock(T0)
    app.state.clock = clock
    session = open_session(app.state.engine, write=True)
    try:
        admin = Person(app, make_user(session, roles=[Role.admin]))
    finally:
        session.close()
    bids = Bids(app, client, clock, admin)
    bids.program_id = ok(
        client.post(
            f"{API}/programs", json={"name": "P", "description": "x"}, headers=admin.headers
        ),
        201,
    )["id"]
    bids.round_id = ok(
        client.post(
            f"{API}/programs/{bids.program_id}/rounds",
            json=round_body(),
            headers=admin.headers,
        ),
        201,
    )["id"]
    ok(client.post(f"{API}/rounds/{bids.round_id}/open", headers=admin.headers))
    return bids
