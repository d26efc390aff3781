"""A whole round through the public API: intake, panel, conflicts, automatic assignment,
reviews, preview, close, publish and results, with every visibility rule of API.md."""

import csv
import hashlib
import io
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from infra.db import open_session
from models.identity import Role, User
from models.rounds import Round as RoundModel
from reviewers.closing import verify_result
from tests.factories import Clock, bearer, make_principal, make_token, ok

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


class Round:
    """A small competition: five consortia, four reviewers (one conflicted), two per bid."""

    def __init__(self, app: FastAPI, client: TestClient, *, blind: bool = False) -> None:
        self.app = app
        self.client = client
        self.clock = Clock(T0)
        app.state.clock = self.clock
        self.admin_user, _ = make_principal(app, roles=[Role.admin])
        self.applicant_users: list[User] = []
        self.orgs: list[str] = []
        self.apps: list[str] = []
        for i in range(5):
            # Each consortium's owner has an address in its domain, which verifies the claim.
            applicant, headers = make_principal(
                app, roles=[Role.applicant], email=f"ceo{i}@lead{i}.example.com"
            )
            org = ok(
                client.post(
                    "/api/v1/organizations",
                    json={
                        "name": f"Consortium {i}",
                        "registration_number": f"REG-{i}",
                        "country": "KR",
                        "email_domains": [f"lead{i}.example.com"],
                    },
                    headers=headers,
                ),
                201,
            )
            self.applicant_users.append(applicant)
            self.orgs.append(org["id"])
        program = ok(
            client.post(
                "/api/v1/programs",
                json={"name": "Sovereign AI", "description": "Foundation models"},
                headers=self.admin,
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
                    "grace_seconds": 60,
                    "review_deadline": (T0 + timedelta(days=10)).isoformat(),
                    "criteria": [
                        {"key": "tech", "title": "Technology", "weight": 2, "min": 0, "max": 10},
                        {
                            "key": "team",
                            "title": "Team",
                            "weight": 1,
                            "min": 0,
                            "max": 10,
                            "threshold": 3,
                        },
                    ],
                    "gates": [{"key": "independent", "title": "Independent development"}],
                    "required_documents": [],
                    "reviewers_per_application": 2,
                    "shortlist": {
                        "size": 3,
                        "aggregate": "mean",
                        "calibration": "none",
                        "tie_break": ["criterion:tech", "submitted_at"],
                    },
                    "blind": blind,
                },
                headers=self.admin,
            ),
            201,
        )
        self.rid = self.round["id"]
        ok(client.post(f"/api/v1/rounds/{self.rid}/open", headers=self.admin))
        for i, headers in enumerate(self.applicants):
            application = ok(
                client.post(
                    f"/api/v1/rounds/{self.rid}/applications",
                    json={
                        "title": f"Model {i}",
                        "summary": "A national foundation model",
                        "lead_organization_id": self.orgs[i],
                        "members": [],
                        "keywords": ["llm", "korean"] if i % 2 else ["vision"],
                    },
                    headers=headers,
                ),
                201,
            )
            self.apps.append(application["id"])
            submitted = ok(
                client.post(f"/api/v1/applications/{application['id']}/submit", headers=headers)
            )
            assert submitted["status"] == "submitted"
        self.reviewer_users: list[User] = []
        for i in range(4):
            email = f"rev{i}@lead0.example.com" if i == 3 else f"rev{i}@university{i}.ac.kr"
            user, _ = make_principal(app, roles=[Role.reviewer], email=email)
            self.reviewer_users.append(user)

    # Tokens are minted on demand from the (movable) server clock, so they never expire mid-test.
    @property
    def admin(self) -> dict[str, str]:
        return bearer(make_token(self.app, self.admin_user))

    @property
    def applicants(self) -> list[dict[str, str]]:
        return [bearer(make_token(self.app, u)) for u in self.applicant_users]

    @property
    def reviewers(self) -> list[tuple[str, dict[str, str]]]:
        return [(str(u.id), bearer(make_token(self.app, u))) for u in self.reviewer_users]

    def start_review(self) -> None:
        self.clock.now = T0 + timedelta(hours=2)
        ok(self.client.post(f"/api/v1/rounds/{self.rid}/start-review", headers=self.admin))

    def panel(self, max_assignments: int = 3) -> None:
        for user_id, _ in self.reviewers:
            ok(
                self.client.post(
                    f"/api/v1/rounds/{self.rid}/reviewers",
                    json={
                        "user_id": user_id,
                        "max_assignments": max_assignments,
                        "expertise": ["llm"],
                    },
                    headers=self.admin,
                ),
                201,
            )


def submit_review(
    client: TestClient, assignment: dict[str, Any], headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    """Write the review of ``assignment`` (201) and submit it (200, with the draft's ETag)."""
    review = client.put(
        f"/api/v1/assignments/{assignment['id']}/review", json=body, headers=headers
    )
    assert review.status_code == 201, review.text
    submitted = client.post(
        f"/api/v1/assignments/{assignment['id']}/review/submit",
        headers={**headers, "If-Match": review.headers["etag"]},
    )
    assert submitted.status_code == 200, submitted.text
    result: dict[str, Any] = submitted.json()
    return result


@pytest.fixture
def competition(app: FastAPI, client: TestClient) -> Round:
    return Round(app, client)


def test_full_round(competition: Round, client: TestClient) -> None:
    c = competition
    c.start_review()
    c.panel()

    # Conflicts: reviewer 3's email domain is a subdomain-equal of consortium 0's domain.
    conflicts = ok(client.get(f"/api/v1/rounds/{c.rid}/conflicts", headers=c.admin))["items"]
    assert [(x["reviewer_id"], x["application_id"], x["source"]) for x in conflicts] == [
        (c.reviewers[3][0], c.apps[0], "detected")
    ]
    assert "lead0.example.com" in conflicts[0]["reason"]

    # Dry run stores nothing.
    plan = ok(
        client.post(
            f"/api/v1/rounds/{c.rid}/assignments/auto", json={"dry_run": True}, headers=c.admin
        )
    )
    assert len(plan["assignments"]) == 10
    assert not ok(client.get(f"/api/v1/rounds/{c.rid}/assignments", headers=c.admin))["items"]
    applied = ok(
        client.post(
            f"/api/v1/rounds/{c.rid}/assignments/auto", json={"dry_run": False}, headers=c.admin
        )
    )
    pairs = {(a["application_id"], a["reviewer_id"]) for a in applied["assignments"]}
    assert (c.apps[0], c.reviewers[3][0]) not in pairs
    loads = [sum(1 for _, r in pairs if r == uid) for uid, _ in c.reviewers]
    assert max(loads) - min(loads) <= 1
    assert all(sum(1 for a, _ in pairs if a == app) == 2 for app in c.apps)

    # Reviewers write and submit; application i gets score 9 - i on tech.
    for user_id, headers in c.reviewers:
        mine = ok(client.get("/api/v1/me/assignments", headers=headers))["items"]
        assert {a["reviewer_id"] for a in mine} <= {user_id}
        assert all(a["application"]["id"] == a["application_id"] for a in mine)
        assert all(a["application"]["organizations"] for a in mine)
        for assignment in mine:
            i = c.apps.index(assignment["application_id"])
            # A reviewer reads an assigned application once review has started.
            ok(client.get(f"/api/v1/applications/{assignment['application_id']}", headers=headers))
            submitted = submit_review(
                client,
                assignment,
                headers,
                {
                    "scores": {"tech": 9 - i, "team": 5},
                    "gates": {"independent": "pass"},
                    "comment_to_applicant": f"feedback {i}",
                    "confidential_comment": "secret note",
                },
            )
            assert submitted["status"] == "submitted"

    preview = ok(client.get(f"/api/v1/rounds/{c.rid}/shortlist/preview", headers=c.admin))
    assert [r["application_id"] for r in preview["ranking"] if r["shortlisted"]] == c.apps[:3]

    closed = ok(client.post(f"/api/v1/rounds/{c.rid}/close", headers=c.admin))
    assert closed["status"] == "closed"
    again = client.post(f"/api/v1/rounds/{c.rid}/close", headers=c.admin)
    assert again.status_code == 409
    assert again.json()["type"] == "invalid-transition"

    admin_results = ok(client.get(f"/api/v1/rounds/{c.rid}/results", headers=c.admin))
    assert admin_results["inputs_sha256"] == preview["inputs_sha256"]
    # The stored inputs and result are the very bytes that were hashed (on both databases).
    app: FastAPI = client.app  # type: ignore[assignment]
    with app.state.engine.connect() as connection:
        stored = connection.execute(
            sa.text(
                "SELECT CAST(inputs AS TEXT), inputs_sha256, CAST(result AS TEXT), result_sha256 "
                "FROM round_result WHERE round_id = :round_id"
            ),
            {"round_id": uuid.UUID(c.rid).hex if connection.dialect.name == "sqlite" else c.rid},
        ).one()
    assert hashlib.sha256(stored[0].encode()).hexdigest() == stored[1] == preview["inputs_sha256"]
    assert hashlib.sha256(stored[2].encode()).hexdigest() == stored[3]
    ranking = admin_results["ranking"]
    assert [r["rank"] for r in ranking] == [1, 2, 3, 4, 5]
    assert [r["reason"] for r in ranking] == ["shortlisted"] * 3 + ["below_cutoff"] * 2
    assert ranking[0]["total"] == pytest.approx((2 * 9 + 5) / 3)

    # Applicants: 403 until published; then their own row, with feedback only.
    early = client.get(f"/api/v1/rounds/{c.rid}/results", headers=c.applicants[0])
    assert early.status_code == 403
    assert early.json()["type"] == "not-published"
    mine_before = ok(client.get(f"/api/v1/applications/{c.apps[0]}", headers=c.applicants[0]))
    assert mine_before["status"] == "submitted"

    # Reviewers never read results.
    assert (
        client.get(f"/api/v1/rounds/{c.rid}/results", headers=c.reviewers[0][1]).status_code == 403
    )

    ok(client.post(f"/api/v1/rounds/{c.rid}/publish", headers=c.admin))
    own = ok(client.get(f"/api/v1/rounds/{c.rid}/results", headers=c.applicants[4]))
    assert [r["application_id"] for r in own["ranking"]] == [c.apps[4]]
    row = own["ranking"][0]
    assert row["shortlisted"] is False
    assert row["reason"] == "below_cutoff"
    assert row["comments_to_applicant"] == ["feedback 4", "feedback 4"]
    text = str(own)
    assert "secret note" not in text
    assert all(uid not in text for uid, _ in c.reviewers)
    mine_after = ok(client.get(f"/api/v1/applications/{c.apps[0]}", headers=c.applicants[0]))
    assert mine_after["status"] == "shortlisted"

    # Anyone can recompute the decision from the stored inputs; a changed result is caught.
    with open_session(c.app.state.engine) as session:
        assert verify_result(session=session, round_id=uuid.UUID(c.rid))["ok"] is True
    with c.app.state.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE round_result SET result_sha256 = :h WHERE round_id = :r"),
            {
                "h": "0" * 64,
                "r": c.rid if conn.dialect.name == "postgresql" else uuid.UUID(c.rid).hex,
            },
        )
    with open_session(c.app.state.engine) as session:
        assert verify_result(session=session, round_id=uuid.UUID(c.rid))["ok"] is False

    exported = client.get(f"/api/v1/rounds/{c.rid}/results.csv", headers=c.admin)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["application_id"] for r in rows[:3]] == c.apps[:3]
    assert Decimal(rows[0]["criterion:tech"]) == 9

    audit = ok(client.get("/api/v1/audit/verify", headers=c.admin)) if _has_audit(client) else None
    if audit is not None:
        assert audit["ok"]


def _has_audit(client: TestClient) -> bool:
    return any(
        path == "/api/v1/audit/verify" for path in client.get("/openapi.json").json()["paths"]
    )


def test_close_refuses_missing_reviews_unless_allowed(
    competition: Round, client: TestClient
) -> None:
    c = competition
    c.start_review()
    c.panel()
    ok(
        client.post(
            f"/api/v1/rounds/{c.rid}/assignments/auto", json={"dry_run": False}, headers=c.admin
        )
    )
    refused = client.post(f"/api/v1/rounds/{c.rid}/close", headers=c.admin)
    assert refused.status_code == 409
    assert refused.json()["type"] == "reviews-missing"
    closed = client.post(
        f"/api/v1/rounds/{c.rid}/close", json={"allow_missing_reviews": True}, headers=c.admin
    )
    assert closed.status_code == 200, closed.text
    ranking = ok(client.get(f"/api/v1/rounds/{c.rid}/results", headers=c.admin))["ranking"]
    assert all(r["n_reviews"] == 0 for r in ranking)
    assert not any(r["shortlisted"] for r in ranking)


def test_review_rules(competition: Round, client: TestClient) -> None:
    c = competition
    c.start_review()
    c.panel()
    user_id, headers = c.reviewers[0]
    created = ok(
        client.post(
            f"/api/v1/rounds/{c.rid}/assignments",
            json={"application_id": c.apps[1], "reviewer_id": user_id},
            headers=c.admin,
        ),
        201,
    )
    aid = created["id"]
    url = f"/api/v1/assignments/{aid}/review"
    # Another reviewer cannot see or write it.
    other = c.reviewers[1][1]
    assert client.get(url, headers=other).status_code == 404
    assert client.put(url, json={"scores": {}}, headers=other).status_code == 404
    # Out of range and unknown keys are 422, each listed.
    bad = client.put(url, json={"scores": {"tech": 11, "nope": 1}}, headers=headers)
    assert bad.status_code == 422
    assert {tuple(e["loc"]) for e in bad.json()["errors"]} == {
        ("body", "scores", "tech"),
        ("body", "scores", "nope"),
    }
    first = client.put(url, json={"scores": {"tech": 7}}, headers=headers)
    assert first.status_code == 201
    # Replacing needs If-Match; a stale one is 412.
    assert client.put(url, json={"scores": {"tech": 8}}, headers=headers).status_code == 428
    second = client.put(
        url, json={"scores": {"tech": 8}}, headers={**headers, "If-Match": first.headers["etag"]}
    )
    assert second.status_code == 200
    stale = client.put(
        url, json={"scores": {"tech": 6}}, headers={**headers, "If-Match": first.headers["etag"]}
    )
    assert stale.status_code == 412
    # Incomplete submit lists what is missing.
    incomplete = client.post(f"{url}/submit", headers=headers)
    assert incomplete.status_code == 422
    assert {tuple(e["loc"]) for e in incomplete.json()["errors"]} == {
        ("body", "scores", "team"),
        ("body", "gates", "independent"),
    }
    # After the review deadline nothing is accepted.
    c.clock.now = T0 + timedelta(days=11)
    fresh = c.reviewers[0][1]
    late = client.put(
        url, json={"scores": {"tech": 5}}, headers={**fresh, "If-Match": second.headers["etag"]}
    )
    assert late.status_code == 409
    assert late.json()["type"] == "review-deadline-passed"


def test_manual_assignment_refuses_conflicts_and_recusal_refills(
    competition: Round, client: TestClient
) -> None:
    c = competition
    c.start_review()
    # Room to refill: with caps of 3, which assignment is recused decides whether the one
    # unconflicted reviewer left for it is already full (a correct 422, not what this tests).
    c.panel(max_assignments=4)
    conflicted_id, _ = c.reviewers[3]
    refused = client.post(
        f"/api/v1/rounds/{c.rid}/assignments",
        json={"application_id": c.apps[0], "reviewer_id": conflicted_id},
        headers=c.admin,
    )
    assert refused.status_code == 409
    assert refused.json()["type"] == "conflicted"
    ok(
        client.post(
            f"/api/v1/rounds/{c.rid}/assignments/auto", json={"dry_run": False}, headers=c.admin
        )
    )
    reviewer_id, headers = c.reviewers[0]
    mine = ok(client.get("/api/v1/me/assignments", headers=headers))["items"]
    target = mine[0]
    recused = ok(
        client.post(
            f"/api/v1/assignments/{target['id']}/recuse",
            json={"reason": "I advised this consortium"},
            headers=headers,
        )
    )
    assert recused["status"] == "recused"
    conflicts = ok(client.get(f"/api/v1/rounds/{c.rid}/conflicts", headers=c.admin))["items"]
    assert {(x["reviewer_id"], x["application_id"], x["source"]) for x in conflicts} >= {
        (reviewer_id, target["application_id"], "declared")
    }
    refill = ok(
        client.post(
            f"/api/v1/rounds/{c.rid}/assignments/auto", json={"dry_run": False}, headers=c.admin
        )
    )
    assert [a["application_id"] for a in refill["assignments"]] == [target["application_id"]]
    assert refill["assignments"][0]["reviewer_id"] != reviewer_id
    # The recused reviewer can no longer read the application.
    assert (
        client.get(f"/api/v1/applications/{target['application_id']}", headers=headers).status_code
        == 404
    )


def test_infeasible_assignment_names_the_constraint(competition: Round, client: TestClient) -> None:
    c = competition
    c.start_review()
    user_id, _ = c.reviewers[0]
    ok(
        client.post(
            f"/api/v1/rounds/{c.rid}/reviewers",
            json={"user_id": user_id, "max_assignments": 3},
            headers=c.admin,
        ),
        201,
    )
    response = client.post(
        f"/api/v1/rounds/{c.rid}/assignments/auto", json={"dry_run": False}, headers=c.admin
    )
    assert response.status_code == 422
    body = response.json()
    assert body["type"] == "assignment-infeasible"
    assert body["detail"]
    assert not ok(client.get(f"/api/v1/rounds/{c.rid}/assignments", headers=c.admin))["items"]


def test_reviewer_routes_need_admin(competition: Round, client: TestClient) -> None:
    c = competition
    applicant = c.applicants[0]
    reviewer = c.reviewers[0][1]
    for headers in (applicant, reviewer):
        assert client.get(f"/api/v1/rounds/{c.rid}/reviewers", headers=headers).status_code == 403
        assert client.get(f"/api/v1/rounds/{c.rid}/conflicts", headers=headers).status_code == 403
        assert (
            client.post(
                f"/api/v1/rounds/{c.rid}/assignments/auto", json={}, headers=headers
            ).status_code
            == 403
        )
        assert client.post(f"/api/v1/rounds/{c.rid}/close", headers=headers).status_code == 403
    assert (
        client.get(f"/api/v1/rounds/{uuid.uuid4()}/reviewers", headers=c.admin).status_code == 404
    )
    assert client.get(f"/api/v1/rounds/{c.rid}/reviewers").status_code == 401


def test_blind_round_hides_organizations_from_reviewers(app: FastAPI, client: TestClient) -> None:
    c = Round(app, client, blind=True)
    c.start_review()
    c.panel()
    ok(
        client.post(
            f"/api/v1/rounds/{c.rid}/assignments/auto", json={"dry_run": False}, headers=c.admin
        )
    )
    _, headers = c.reviewers[0]
    mine = ok(client.get("/api/v1/me/assignments", headers=headers))["items"]
    assert mine
    for assignment in mine:
        shown = assignment["application"]
        assert shown["organizations"] == []
        assert shown["lead_organization_id"] is None
        direct = ok(
            client.get(f"/api/v1/applications/{assignment['application_id']}", headers=headers)
        )
        assert direct["organizations"] == []
        assert "Consortium" not in str(direct)
    # The applicant still sees their own organizations.
    own = ok(client.get(f"/api/v1/applications/{c.apps[0]}", headers=c.applicants[0]))
    assert own["organizations"]


def _reference_inputs(session: Session, round_: RoundModel) -> dict[str, Any]:
    """The canonical inputs as closing read them before it parsed the reviews' text itself:
    ORM-typed columns, each score through ``exact``."""
    from models.applications import Application, ApplicationStatus
    from models.reviewers import Assignment, AssignmentStatus, Review, ReviewStatus
    from reviewers.closing import rules_of
    from reviewers.decision import Candidate, ReviewInput, canonical_inputs
    from reviewers.reviews import exact

    candidates = [
        Candidate(application_id=id_, submitted_at=submitted_at or updated_at)
        for id_, submitted_at, updated_at in session.exec(
            select(Application.id, Application.submitted_at, Application.updated_at).where(
                Application.round_id == round_.id,
                col(Application.status).in_(
                    [
                        ApplicationStatus.submitted,
                        ApplicationStatus.shortlisted,
                        ApplicationStatus.not_selected,
                    ]
                ),
            )
        )
    ]
    ids = {c.application_id for c in candidates}
    rows = session.exec(
        select(Review.application_id, Review.reviewer_id, Review.scores, Review.gates)
        .join(Assignment, col(Assignment.id) == Review.assignment_id)
        .where(
            Review.round_id == round_.id,
            Review.status == ReviewStatus.submitted,
            Assignment.status == AssignmentStatus.active,
        )
    ).all()
    reviews = [
        ReviewInput(
            application_id=a,
            reviewer_id=r,
            scores={k: exact(v) for k, v in scores.items()},
            gates=dict(gates),
        )
        for a, r, scores, gates in rows
        if a in ids
    ]
    return canonical_inputs(rules=rules_of(round_), candidates=candidates, reviews=reviews)


def test_gathered_inputs_match_the_orm_reading(competition: Round, client: TestClient) -> None:
    """Closing reads the reviews' scores as the database's JSON text: whatever their spelling
    (integers, ``7.0``, ``1e1``, keys in any order), the inputs, their hash and what the
    shortlist is computed from are those of the ORM reading and of a round trip through the
    canonical inputs."""
    from reviewers.closing import _gather
    from reviewers.decision import inputs_from_canonical
    from reviewers.pool import load_round
    from submissions.canonical import canonical_json

    c = competition
    c.start_review()
    c.panel()
    ok(
        client.post(
            f"/api/v1/rounds/{c.rid}/assignments/auto", json={"dry_run": False}, headers=c.admin
        )
    )
    for _, headers in c.reviewers:
        for assignment in ok(client.get("/api/v1/me/assignments", headers=headers))["items"]:
            submit_review(
                client,
                assignment,
                headers,
                {"scores": {"tech": 7.5, "team": 5}, "gates": {"independent": "pass"}},
            )
    spellings = [
        '{"team": 5.0, "tech": 7}',
        '{"tech": 1e1, "team": 0.50}',
        '{"team": 3, "tech": 7.25}',
        '{"tech": 7.000, "team": 10}',
        '{"team": 2.5e0, "tech": 0}',
    ]
    engine = c.app.state.engine
    with engine.begin() as conn:
        postgres = conn.dialect.name == "postgresql"
        ids = [row[0] for row in conn.execute(sa.text("SELECT id FROM review ORDER BY id"))]
        assert len(ids) >= len(spellings)
        for i, review_id in enumerate(ids):
            conn.execute(
                sa.text(
                    "UPDATE review SET scores = "
                    + ("CAST(:s AS JSONB)" if postgres else ":s")
                    + " WHERE id = :id"
                ),
                {"s": spellings[i % len(spellings)], "id": review_id},
            )
    with open_session(engine) as session:
        round_ = load_round(session=session, round_id=uuid.UUID(c.rid))
        inputs, parsed = _gather(session, round_)
        reference = _reference_inputs(session, round_)
    assert inputs == reference
    assert canonical_json(inputs) == canonical_json(reference)
    read_back = inputs_from_canonical(data=reference)
    assert parsed == read_back
    assert [(r.scores.items(), r.gates) for r in parsed.reviews] == [
        (r.scores.items(), r.gates) for r in read_back.reviews
    ]
    assert [str(v) for r in parsed.reviews for v in r.scores.values()] == [
        str(v) for r in read_back.reviews for v in r.scores.values()
    ]
    assert {v for r in inputs["reviews"] for v in r["scores"].values()} >= {"7", "10", "0.5"}
