"""Attacks on the fairness of review, through the public API: a reviewer who belongs to a bidding
organization, or wrote the bid, reviewing it; an organization claiming a domain it does not own
(a public suffix, a webmail domain, a university it has nothing to do with) to conflict away every
reviewer there; a membership added after the assignment; a membership slipped in behind the API's
back, whose review must still not count at close.

Each world is built through the HTTP API; people and tokens come from the factories, and the
server clock is the test's."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import select

from infra.db import open_session
from models.identity import MemberRole, OrganizationMember, Role, User
from tests.factories import Clock, bearer, make_token, make_user, ok

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


class World:
    """A program with one open round (no documents required), people made on demand."""

    def __init__(self, app: FastAPI, client: TestClient, *, per_application: int = 1) -> None:
        self.app, self.client = app, client
        self.clock = Clock(T0)
        app.state.clock = self.clock
        self.admin = self.person("admin@ministry.example.go.kr", Role.admin)
        program = ok(
            client.post(
                "/api/v1/programs",
                json={"name": "Sovereign AI", "description": "x"},
                headers=self.h(self.admin),
            ),
            201,
        )
        self.round = ok(
            client.post(
                f"/api/v1/programs/{program['id']}/rounds",
                json={
                    "name": "Stage 1",
                    "opens_at": (T0 - timedelta(hours=1)).isoformat(),
                    "submission_deadline": (T0 + timedelta(hours=1)).isoformat(),
                    "grace_seconds": 0,
                    "review_deadline": (T0 + timedelta(days=10)).isoformat(),
                    "criteria": [
                        {"key": "tech", "title": "Technology", "weight": 1, "min": 0, "max": 10}
                    ],
                    "gates": [],
                    "required_documents": [],
                    "reviewers_per_application": per_application,
                    "shortlist": {"size": 1, "aggregate": "mean", "calibration": "none"},
                },
                headers=self.h(self.admin),
            ),
            201,
        )["id"]
        ok(client.post(f"/api/v1/rounds/{self.round}/open", headers=self.h(self.admin)))

    def person(self, email: str, *roles: Role) -> User:
        session = open_session(self.app.state.engine, write=True)
        try:
            return make_user(session, roles=list(roles), email=email)
        finally:
            session.close()

    def h(self, user: User) -> dict[str, str]:
        return bearer(make_token(self.app, user))

    def organization(self, owner: User, domains: list[str] | None = None) -> str:
        body = {
            "name": f"Org {uuid.uuid4().hex[:6]}",
            "registration_number": uuid.uuid4().hex[:10],
            "country": "KR",
            "email_domains": domains or [],
        }
        return str(
            ok(self.client.post("/api/v1/organizations", json=body, headers=self.h(owner)), 201)[
                "id"
            ]
        )

    def add_member(self, owner: User, organization: str, user: User, role: str = "member") -> Any:
        return self.client.post(
            f"/api/v1/organizations/{organization}/members",
            json={"user_id": str(user.id), "role": role},
            headers=self.h(owner),
        )

    def bid(
        self,
        owner: User,
        lead: str,
        members: list[tuple[User, str]] | None = None,
        keywords: list[str] | None = None,
    ) -> str:
        body = {
            "title": f"Bid {uuid.uuid4().hex[:6]}",
            "summary": "A national foundation model",
            "lead_organization_id": lead,
            "members": [{"organization_id": org} for _, org in members or []],
            "keywords": keywords or [],
        }
        created = ok(
            self.client.post(
                f"/api/v1/rounds/{self.round}/applications", json=body, headers=self.h(owner)
            ),
            201,
        )["id"]
        for member_owner, org in members or []:
            ok(
                self.client.post(
                    f"/api/v1/applications/{created}/members/{org}/confirm",
                    headers=self.h(member_owner),
                )
            )
        ok(self.client.post(f"/api/v1/applications/{created}/submit", headers=self.h(owner)))
        return str(created)

    def start_review(
        self, *reviewers: User, expertise: dict[uuid.UUID, list[str]] | None = None
    ) -> None:
        self.clock.now = T0 + timedelta(hours=2)
        ok(
            self.client.post(
                f"/api/v1/rounds/{self.round}/start-review", headers=self.h(self.admin)
            )
        )
        for reviewer in reviewers:
            self.panel(reviewer, (expertise or {}).get(reviewer.id, []))

    def panel(self, reviewer: User, expertise: list[str] | None = None) -> None:
        ok(
            self.client.post(
                f"/api/v1/rounds/{self.round}/reviewers",
                json={
                    "user_id": str(reviewer.id),
                    "max_assignments": 5,
                    "expertise": expertise or [],
                },
                headers=self.h(self.admin),
            ),
            201,
        )

    def conflicts(self) -> dict[tuple[str, str], dict[str, Any]]:
        items = ok(
            self.client.get(
                f"/api/v1/rounds/{self.round}/conflicts",
                params={"limit": 100},
                headers=self.h(self.admin),
            )
        )["items"]
        return {(c["reviewer_id"], c["application_id"]): c for c in items}

    def assign(self, application: str, reviewer: User) -> Any:
        return self.client.post(
            f"/api/v1/rounds/{self.round}/assignments",
            json={"application_id": application, "reviewer_id": str(reviewer.id)},
            headers=self.h(self.admin),
        )

    def assignments(self) -> dict[str, dict[str, Any]]:
        items = ok(
            self.client.get(
                f"/api/v1/rounds/{self.round}/assignments",
                params={"limit": 100},
                headers=self.h(self.admin),
            )
        )["items"]
        return {a["id"]: a for a in items}

    def review(self, assignment: str, reviewer: User, tech: int) -> Any:
        draft = self.client.put(
            f"/api/v1/assignments/{assignment}/review",
            json={"scores": {"tech": tech}, "gates": {}},
            headers=self.h(reviewer),
        )
        assert draft.status_code == 201, draft.text
        return self.client.post(
            f"/api/v1/assignments/{assignment}/review/submit",
            headers={**self.h(reviewer), "If-Match": draft.headers["etag"]},
        )

    def audit_events(self) -> list[tuple[str, str]]:
        """(action, object id) of the audit events (fewer than 100 in these worlds)."""
        page = ok(
            self.client.get("/api/v1/audit", params={"limit": 100}, headers=self.h(self.admin))
        )
        assert page["next_cursor"] is None
        return [(e["action"], e["object_id"]) for e in page["items"]]


@pytest.fixture
def world(app: FastAPI, client: TestClient) -> World:
    return World(app, client)


# --- membership and authorship --------------------------------------------------------------------


def test_a_plain_member_of_a_member_organization_is_conflicted_and_never_assigned(
    world: World,
) -> None:
    """The insider: a reviewer who is a member (not an owner) of a partner organization of the
    bid. Before, nothing saw it: they were assignable by hand and auto-assignment preferred them
    (their expertise fits the bid best)."""
    w = world
    lead_owner = w.person("ceo@hanbit.example.kr", Role.applicant)
    partner_owner = w.person("dean@partner.example.kr", Role.applicant)
    insider = w.person("insider@elsewhere.example.org", Role.reviewer)
    outsider = w.person("outsider@neutral.example.org", Role.reviewer)
    lead = w.organization(lead_owner)
    partner = w.organization(partner_owner)
    ok(w.add_member(partner_owner, partner, insider), 201)
    bid = w.bid(lead_owner, lead, members=[(partner_owner, partner)], keywords=["llm"])
    w.start_review(insider, outsider, expertise={insider.id: ["llm"]})

    conflict = w.conflicts().get((str(insider.id), bid))
    assert conflict is not None, w.conflicts()
    assert conflict["source"] == "detected"
    assert conflict["organization_id"] == partner
    assert conflict["reason"] == f"member (member) of organization {partner}"

    refused = w.assign(bid, insider)
    assert refused.status_code == 409, refused.text
    assert refused.json()["type"] == "conflicted"

    planned = ok(
        w.client.post(
            f"/api/v1/rounds/{w.round}/assignments/auto",
            json={"dry_run": False},
            headers=w.h(w.admin),
        )
    )
    assert [(a["application_id"], a["reviewer_id"]) for a in planned["assignments"]] == [
        (bid, str(outsider.id))
    ]


def test_the_reviewer_who_created_a_bid_is_conflicted_with_it_even_after_leaving(
    world: World,
) -> None:
    """A person with both roles writes a bid as an applicant, then sits on the panel. While a
    member of the lead organization the membership names the conflict; once that membership is
    gone, having created the bid still conflicts them."""
    w = world
    author = w.person("author@hanbit.example.kr", Role.applicant, Role.reviewer)
    other = w.person("other@neutral.example.org", Role.reviewer)
    lead = w.organization(author)
    bid = w.bid(author, lead)
    w.start_review(author, other)

    conflict = w.conflicts()[(str(author.id), bid)]
    assert conflict["reason"] == f"member (owner) of organization {lead}"

    session = open_session(w.app.state.engine, write=True)
    try:  # the author leaves the organization (no route does that yet)
        row = session.exec(
            select(OrganizationMember).where(OrganizationMember.user_id == author.id)
        ).one()
        session.delete(row)
        session.commit()
    finally:
        session.close()

    conflict = w.conflicts()[(str(author.id), bid)]
    assert (conflict["reason"], conflict["organization_id"], conflict["source"]) == (
        "created the application",
        None,
        "detected",
    )
    assert w.assign(bid, author).status_code == 409
    assert ok(w.assign(bid, other), 201)["reviewer_id"] == str(other.id)


# --- claimed email domains ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "domain", ["gmail.com", "naver.com", "com", "co.kr", "ac.kr", "github.io", "mail.daum.net"]
)
def test_a_public_suffix_or_webmail_domain_cannot_be_claimed(world: World, domain: str) -> None:
    w = world
    mallory = w.person("mallory@gmail.com", Role.applicant)
    response = w.client.post(
        "/api/v1/organizations",
        json={
            "name": "Everyone Inc",
            "registration_number": "1",
            "country": "KR",
            "email_domains": ["shell.example.org", domain],
        },
        headers=w.h(mallory),
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    if "." in domain:  # a single label is refused by the schema already
        assert response.json()["errors"][0]["loc"] == ["body", "email_domains", 1]
    mine = ok(w.client.get("/api/v1/organizations", headers=w.h(mallory)))["items"]
    assert mine == []


def test_an_owner_address_verifies_its_domain_and_parents_below_the_public_suffix(
    world: World,
) -> None:
    w = world
    alice = w.person("alice@lab.kaist.ac.kr", Role.applicant)
    created = ok(
        w.client.post(
            "/api/v1/organizations",
            json={
                "name": "KAIST AI Lab",
                "registration_number": "2",
                "country": "KR",
                "email_domains": ["lab.kaist.ac.kr", "kaist.ac.kr", "snu.ac.kr"],
            },
            headers=w.h(alice),
        ),
        201,
    )
    assert created["email_domains"] == ["lab.kaist.ac.kr", "kaist.ac.kr", "snu.ac.kr"]
    assert created["verified_email_domains"] == ["lab.kaist.ac.kr", "kaist.ac.kr"]


def test_a_claimed_domain_the_owner_does_not_own_conflicts_nobody_until_an_admin_verifies(
    world: World,
) -> None:
    """Conflict away every reviewer: an applicant with a webmail address claims a university's
    domain so that every reviewer from there is conflicted with its bid (and its bid goes to the
    reviewers it prefers). Adding a stranger from that university as an owner proves nothing
    either. The claim counts once an admin verifies it, and then ends the assignment it
    conflicts."""
    w = world
    mallory = w.person("mallory@gmail.com", Role.applicant)
    stranger = w.person("student@kaist.ac.kr", Role.applicant)
    prof = w.person("prof@kaist.ac.kr", Role.reviewer)
    lab = w.person("lab@cs.kaist.ac.kr", Role.reviewer)
    shell = w.organization(mallory, ["kaist.ac.kr"])
    assert (
        ok(w.client.get(f"/api/v1/organizations/{shell}", headers=w.h(mallory)))[
            "verified_email_domains"
        ]
        == []
    )
    ok(w.add_member(mallory, shell, stranger, "owner"), 201)
    after = ok(w.client.get(f"/api/v1/organizations/{shell}", headers=w.h(mallory)))
    assert after["verified_email_domains"] == []
    bid = w.bid(mallory, shell)
    w.start_review(prof, lab)

    assert w.conflicts() == {}
    assignment = ok(w.assign(bid, prof), 201)["id"]

    # Only an admin verifies, and only a domain the organization claims.
    as_owner = w.client.post(
        f"/api/v1/organizations/{shell}/email-domains/verify",
        json={"domain": "kaist.ac.kr"},
        headers=w.h(mallory),
    )
    assert as_owner.status_code == 403
    unclaimed = w.client.post(
        f"/api/v1/organizations/{shell}/email-domains/verify",
        json={"domain": "snu.ac.kr"},
        headers=w.h(w.admin),
    )
    assert unclaimed.status_code == 422
    assert unclaimed.json()["type"] == "domain-not-claimed"
    unknown = w.client.post(
        f"/api/v1/organizations/{uuid.uuid4()}/email-domains/verify",
        json={"domain": "kaist.ac.kr"},
        headers=w.h(w.admin),
    )
    assert unknown.status_code == 404
    verified = ok(
        w.client.post(
            f"/api/v1/organizations/{shell}/email-domains/verify",
            json={"domain": "Kaist.AC.kr."},
            headers=w.h(w.admin),
        )
    )
    assert verified["verified_email_domains"] == ["kaist.ac.kr"]

    conflicts = w.conflicts()
    assert set(conflicts) == {(str(prof.id), bid), (str(lab.id), bid)}
    assert "kaist.ac.kr" in conflicts[(str(lab.id), bid)]["reason"]
    assert w.assignments()[assignment]["status"] == "conflicted"
    events = w.audit_events()
    assert ("organization.email_domain_verified", shell) in events
    assert ("assignment.conflicted", assignment) in events


# --- conflicts arising after assignment -----------------------------------------------------------


def test_a_membership_added_after_assignment_ends_it_and_its_review(world: World) -> None:
    """A reviewer assigned to a bid joins the bidding consortium's partner organization: the
    assignment ends as ``conflicted``; the reviewer can no longer write or submit the review,
    no longer gets the bid with its assignments, and the close does not wait for that review."""
    w = world
    lead_owner = w.person("ceo@hanbit.example.kr", Role.applicant)
    partner_owner = w.person("dean@partner.example.kr", Role.applicant)
    reviewer = w.person("soon-insider@neutral.example.org", Role.reviewer)
    other = w.person("other@neutral2.example.org", Role.reviewer)
    lead = w.organization(lead_owner)
    partner = w.organization(partner_owner)
    bid = w.bid(lead_owner, lead, members=[(partner_owner, partner)])
    w.start_review(reviewer, other)
    assignment = ok(w.assign(bid, reviewer), 201)["id"]
    draft = w.client.put(
        f"/api/v1/assignments/{assignment}/review",
        json={"scores": {"tech": 10}, "gates": {}},
        headers=w.h(reviewer),
    )
    assert draft.status_code == 201, draft.text

    ok(w.add_member(partner_owner, partner, reviewer), 201)

    assert w.assignments()[assignment]["status"] == "conflicted"
    again = w.client.put(
        f"/api/v1/assignments/{assignment}/review",
        json={"scores": {"tech": 10}, "gates": {}},
        headers={**w.h(reviewer), "If-Match": draft.headers["etag"]},
    )
    assert again.status_code == 409, again.text
    submit = w.client.post(
        f"/api/v1/assignments/{assignment}/review/submit",
        headers={**w.h(reviewer), "If-Match": draft.headers["etag"]},
    )
    assert submit.status_code == 409, submit.text
    mine = ok(w.client.get("/api/v1/me/assignments", headers=w.h(reviewer)))["items"]
    assert [(a["id"], a["status"], a["application"]) for a in mine] == [
        (assignment, "conflicted", None)
    ]
    assert ("assignment.conflicted", assignment) in w.audit_events()
    # Another reviewer takes it over; the close does not wait for the ended review.
    replacement = ok(w.assign(bid, other), 201)["id"]
    ok(w.review(replacement, other, 6))
    closed = w.client.post(f"/api/v1/rounds/{w.round}/close", headers=w.h(w.admin))
    assert closed.status_code == 200, closed.text
    results = ok(w.client.get(f"/api/v1/rounds/{w.round}/results", headers=w.h(w.admin)))
    assert [(r["application_id"], r["n_reviews"], r["total"]) for r in results["ranking"]] == [
        (bid, 1, 6.0)
    ]


def test_a_profile_affiliation_or_a_declaration_made_later_ends_the_assignment(
    world: World,
) -> None:
    w = world
    owner_a = w.person("ceo@alpha.example.kr", Role.applicant)
    owner_b = w.person("ceo@beta.example.kr", Role.applicant)
    reviewer = w.person("rev@neutral.example.org", Role.reviewer)
    alpha = w.organization(owner_a)
    beta = w.organization(owner_b)
    bid_a = w.bid(owner_a, alpha)
    bid_b = w.bid(owner_b, beta)
    w.start_review(reviewer)
    on_a = ok(w.assign(bid_a, reviewer), 201)["id"]
    on_b = ok(w.assign(bid_b, reviewer), 201)["id"]

    ok(
        w.client.put(
            f"/api/v1/reviewers/{reviewer.id}/profile",
            json={"affiliations": [alpha], "email_domains": [], "expertise": []},
            headers=w.h(reviewer),
        )
    )
    assert {k: v["status"] for k, v in w.assignments().items()} == {
        on_a: "conflicted",
        on_b: "active",
    }
    ok(
        w.client.post(
            f"/api/v1/rounds/{w.round}/conflicts",
            json={"reviewer_id": str(reviewer.id), "organization_id": beta, "reason": "advisor"},
            headers=w.h(w.admin),
        ),
        201,
    )
    assert w.assignments()[on_b]["status"] == "conflicted"


def test_a_review_by_a_reviewer_conflicted_at_close_never_counts(
    app: FastAPI, client: TestClient
) -> None:
    """The membership is written behind the API's back (or races the hook): the review is
    submitted, and its reviewer's 10 would carry bid X onto a one-place shortlist over bid Y.
    The preview and the close both leave it out: Y is shortlisted, X is ranked on its other
    review, and the assignment ends as ``conflicted``."""
    w = World(app, client, per_application=2)
    owner_x = w.person("ceo@x-labs.example.kr", Role.applicant)
    owner_y = w.person("ceo@y-labs.example.kr", Role.applicant)
    insider = w.person("insider@neutral.example.org", Role.reviewer)
    low = w.person("low@neutral2.example.org", Role.reviewer)
    fair1 = w.person("fair1@neutral3.example.org", Role.reviewer)
    fair2 = w.person("fair2@neutral4.example.org", Role.reviewer)
    org_x = w.organization(owner_x)
    org_y = w.organization(owner_y)
    bid_x = w.bid(owner_x, org_x)
    bid_y = w.bid(owner_y, org_y)
    w.start_review(insider, low, fair1, fair2)
    insider_assignment = ok(w.assign(bid_x, insider), 201)["id"]
    for bid, reviewer, tech in (
        (bid_x, insider, 10),
        (bid_x, low, 4),
        (bid_y, fair1, 6),
        (bid_y, fair2, 6),
    ):
        assignment = (
            insider_assignment if reviewer is insider else ok(w.assign(bid, reviewer), 201)["id"]
        )
        ok(w.review(assignment, reviewer, tech))
    before = ok(w.client.get(f"/api/v1/rounds/{w.round}/shortlist/preview", headers=w.h(w.admin)))
    assert [r["application_id"] for r in before["ranking"] if r["shortlisted"]] == [bid_x]

    session = open_session(w.app.state.engine, write=True)
    try:  # behind the API's back: no hook runs
        session.add(
            OrganizationMember(
                organization_id=uuid.UUID(org_x),
                user_id=insider.id,
                role=MemberRole.member,
                created_at=w.clock.now,
            )
        )
        session.commit()
    finally:
        session.close()
    assert w.assignments()[insider_assignment]["status"] == "active"

    preview = ok(w.client.get(f"/api/v1/rounds/{w.round}/shortlist/preview", headers=w.h(w.admin)))
    rows = {r["application_id"]: r for r in preview["ranking"]}
    assert (rows[bid_x]["n_reviews"], rows[bid_x]["total"]) == (1, 4.0)
    assert [r["application_id"] for r in preview["ranking"] if r["shortlisted"]] == [bid_y]
    assert preview["missing_reviews"] == 0

    closed = w.client.post(f"/api/v1/rounds/{w.round}/close", headers=w.h(w.admin))
    assert closed.status_code == 200, closed.text
    results = ok(w.client.get(f"/api/v1/rounds/{w.round}/results", headers=w.h(w.admin)))
    rows = {r["application_id"]: r for r in results["ranking"]}
    assert [r["application_id"] for r in results["ranking"] if r["shortlisted"]] == [bid_y]
    assert (rows[bid_x]["n_reviews"], rows[bid_x]["total"]) == (1, 4.0)
    assert (rows[bid_y]["n_reviews"], rows[bid_y]["total"]) == (2, 6.0)
    assert results["inputs_sha256"] == preview["inputs_sha256"]
    assert w.assignments()[insider_assignment]["status"] == "conflicted"
    assert ("assignment.conflicted", insider_assignment) in w.audit_events()
