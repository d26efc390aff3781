"""The program officer's desk over HTTP: review progress (with ``overdue`` on both sides of the
review deadline), the decision report (one self-contained HTML page in the viewer's language)
and ``results.xlsx`` read back with openpyxl against the JSON results; each route refused to the
anonymous (401), to other roles (403), for an unknown round (404) and in the wrong state (409)."""

import io
import re
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from models.identity import Organization, Role
from tests.api.desk_world import MARKS, closed_round
from tests.api.test_review_flow import T0, Round, submit_review
from tests.factories import make_principal, ok
from tests.unit.test_report_render import english_labels

ROUTES = ("progress", "report", "results.xlsx")


@pytest.fixture
def competition(app: FastAPI, client: TestClient) -> Round:
    return Round(app, client)


def test_each_route_refuses_the_anonymous_other_roles_unknown_rounds_and_wrong_states(
    app: FastAPI, client: TestClient, competition: Round
) -> None:
    c = competition
    _, reviewer = make_principal(app, roles=[Role.reviewer])
    _, applicant = make_principal(app, roles=[Role.applicant])
    for route in ROUTES:
        path = f"/api/v1/rounds/{c.rid}/{route}"
        anonymous = client.get(path)
        assert anonymous.status_code == 401, route
        assert anonymous.headers["www-authenticate"].startswith("Bearer")
        assert "error=" not in anonymous.headers["www-authenticate"]
        for headers in (reviewer, applicant):
            refused = client.get(path, headers=headers)
            assert refused.status_code == 403, (route, refused.text)
        unknown = client.get(f"/api/v1/rounds/{uuid.uuid4()}/{route}", headers=c.admin)
        assert unknown.status_code == 404, route
        assert unknown.headers["content-type"] == "application/problem+json"
        # The round is open: no progress yet, and no decision to report.
        early = client.get(path, headers=c.admin)
        assert early.status_code == 409, route
        assert early.json()["type"] == (
            "round-not-in-review" if route == "progress" else "round-not-closed"
        )
    c.start_review()
    for route in ("report", "results.xlsx"):
        in_review = client.get(f"/api/v1/rounds/{c.rid}/{route}", headers=c.admin)
        assert in_review.status_code == 409
        assert in_review.json()["type"] == "round-not-closed"
    assert client.get(f"/api/v1/rounds/{c.rid}/progress", headers=c.admin).status_code == 200


def test_progress_counts_assignments_and_overdue_once_the_deadline_has_passed(
    app: FastAPI, client: TestClient, competition: Round
) -> None:
    c = competition
    c.start_review()
    c.panel()
    ok(
        client.post(
            f"/api/v1/rounds/{c.rid}/assignments/auto", json={"dry_run": False}, headers=c.admin
        )
    )
    (done_id, done), (draft_id, drafting), (recusing_id, recusing) = c.reviewers[:3]
    # One reviewer submits everything, one leaves a draft, one recuses from one assignment.
    for assignment in ok(client.get("/api/v1/me/assignments", headers=done))["items"]:
        tech, team, gate = MARKS[c.apps.index(assignment["application_id"])]
        submit_review(
            client,
            assignment,
            done,
            {"scores": {"tech": tech, "team": team}, "gates": {"independent": gate}},
        )
    drafts = ok(client.get("/api/v1/me/assignments", headers=drafting))["items"]
    written = client.put(
        f"/api/v1/assignments/{drafts[0]['id']}/review",
        json={"scores": {"tech": 5}},
        headers=drafting,
    )
    assert written.status_code == 201, written.text
    recused = ok(client.get("/api/v1/me/assignments", headers=recusing))["items"][0]
    ok(
        client.post(
            f"/api/v1/assignments/{recused['id']}/recuse",
            json={"reason": "I advised them"},
            headers=recusing,
        )
    )

    def progress() -> dict[str, Any]:
        body: dict[str, Any] = ok(client.get(f"/api/v1/rounds/{c.rid}/progress", headers=c.admin))
        return body

    before = progress()
    assignments = before["assignments"]
    n_done = sum(1 for r in before["reviewers"] if r["reviewer_id"] == done_id)
    assert n_done == 1
    by_reviewer = {r["reviewer_id"]: r for r in before["reviewers"]}
    assert assignments == {
        "total": 10,
        "submitted": by_reviewer[done_id]["assigned"],
        "in_progress": 1,
        "not_started": 10 - 1 - by_reviewer[done_id]["assigned"] - 1,
        "recused": 1,
        "conflicted": 0,
    }
    assert sum(r["assigned"] for r in before["reviewers"]) == 9  # the recusal ended one
    assert by_reviewer[done_id]["submitted"] == by_reviewer[done_id]["assigned"]
    assert by_reviewer[draft_id]["submitted"] == 0
    assert before["review_deadline"] == (T0 + timedelta(days=10)).isoformat().replace("+00:00", "Z")
    assert [a["application_id"] for a in before["applications"]] == c.apps  # by title
    assert all(a["reviews_needed"] == 2 for a in before["applications"])
    assert sum(a["reviews_submitted"] for a in before["applications"]) == assignments["submitted"]
    # Before the deadline, and at it, nothing is overdue.
    for now in (T0 + timedelta(days=9), T0 + timedelta(days=10)):
        c.clock.now = now
        assert all(r["overdue"] == 0 for r in progress()["reviewers"])
        assert progress()["deadline_passed"] is False
    # Once it has passed, every active assignment without a submitted review is.
    c.clock.now = T0 + timedelta(days=10, seconds=1)
    after = progress()
    assert after["deadline_passed"] is True
    overdue = {r["reviewer_id"]: r["overdue"] for r in after["reviewers"]}
    assert overdue[done_id] == 0
    assert overdue[draft_id] == by_reviewer[draft_id]["assigned"] > 0
    assert overdue[recusing_id] == by_reviewer[recusing_id]["assigned"]
    assert sum(overdue.values()) == assignments["in_progress"] + assignments["not_started"]


def test_the_report_is_one_self_contained_page_with_its_charts_tables_and_hashes(
    app: FastAPI, client: TestClient, competition: Round
) -> None:
    c = competition
    results = closed_round(c, client)
    response = client.get(f"/api/v1/rounds/{c.rid}/report", headers=c.admin)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-language"] == "en"
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp
    page = response.text
    # Nothing to fetch, nothing to run.
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page)
    assert "@import" not in page
    assert "url(http" not in page
    assert "@media print" in page
    # Five charts, inlined SVG each with its text alternative, and a table beside each.
    charts = re.findall(r"<svg [^>]*>", page)
    assert len(charts) == 5 == page.count("</svg>")
    assert all('role="img"' in s and 'aria-label="' in s for s in charts)
    assert page.count("<figcaption>") == 5
    assert len(re.findall(r"<svg [^>]*><title>[^<]+</title>", page)) == 5
    # Texts stay text in the SVG (the browser's fonts render Hangul).
    assert "<text " in page
    for section in ("rules", "ranking", "spread", "calibration", "gates", "stability"):
        assert f'<section id="{section}">' in page
    for section in ("conflicts", "completion", "hashes"):
        assert f'<section id="{section}">' in page
    assert results["inputs_sha256"] in page
    assert results["result_sha256"] in page
    audit = ok(client.get("/api/v1/audit/verify", headers=c.admin))
    assert f'<code id="audit-head">{audit["head"]}</code>' in page
    # The ranking as the result states it: the gate-failed bid and the tie at the cut-off.
    ranking = results["ranking"]
    assert [r["reason"] for r in ranking] == [
        "shortlisted",
        "shortlisted",
        "shortlisted",
        "below_cutoff",
        "gate_failed",
    ]
    for row in ranking:
        assert f'data-application-id="{row["application_id"]}" data-reason="{row["reason"]}"' in (
            page
        )
    assert "Tie at the cut-off" in page
    assert ranking[2]["total"] == ranking[3]["total"]
    assert ranking[3]["margin"] == 0
    # A reviewer with three reviews or more gets a calibrated mean; the core's z-scores keep
    # the round's mean, so calibrated means move toward it.
    assert "Reviewers&#39; means before and after calibration" in page


def test_the_report_speaks_the_viewers_language(
    app: FastAPI, client: TestClient, competition: Round
) -> None:
    c = competition
    closed_round(c, client)
    with app.state.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE " + '"user"' + " SET locale = 'ko' WHERE email = :email"),
            {"email": c.admin_user.email},
        )
    korean = client.get(f"/api/v1/rounds/{c.rid}/report", headers=c.admin)
    assert korean.headers["content-language"] == "ko"
    assert '<html lang="ko">' in korean.text
    assert "선정 결과 보고서" in korean.text
    assert "기준선 동점" in korean.text
    assert english_labels(korean.text) == []
    english = client.get(f"/api/v1/rounds/{c.rid}/report?locale=en", headers=c.admin)
    assert '<html lang="en">' in english.text
    assert "Decision report" in english.text
    assert (
        client.get(f"/api/v1/rounds/{c.rid}/report?locale=fr", headers=c.admin).status_code == 422
    )


def _rename_organization(app: FastAPI, org_id: str, name: str) -> None:
    with Session(app.state.engine) as session:
        organization = session.get(Organization, uuid.UUID(org_id))
        assert organization is not None
        organization.name = name
        session.add(organization)
        session.commit()


HOSTILE_ORGANIZATION = '<img src=x onerror=alert(1)> "Consortium" {organization} & Co'


def test_the_reports_conflicts_name_the_organization_as_text_in_both_languages(
    app: FastAPI, client: TestClient, competition: Round
) -> None:
    """The conflicts table shows the organization a reason names by its name (a program officer
    does not read ids), escaped like every other text; an organization without a name keeps its
    id. The decision record, which anyone may have once the round is published, still names
    no organization, by name or by id."""
    c = competition
    closed_round(c, client)
    org_id = c.orgs[0]  # reviewer 3's address is in its domain: the world's one conflict
    _rename_organization(app, org_id, HOSTILE_ORGANIZATION)
    listed = ok(client.get(f"/api/v1/rounds/{c.rid}/conflicts", headers=c.admin))["items"]
    assert [x["source"] for x in listed] == ["detected"]
    assert org_id in listed[0]["reason"]  # the API keeps ids
    escaped = "&lt;img src=x onerror=alert(1)&gt; &#34;Consortium&#34; {organization} &amp; Co"
    expected = {
        "en": f"matches organization {escaped}&#39;s domain",
        "ko": f"조직 {escaped}의 도메인",
    }
    for locale, phrase in expected.items():
        page = client.get(f"/api/v1/rounds/{c.rid}/report?locale={locale}", headers=c.admin).text
        conflicts = page[page.index('<section id="conflicts">') :]
        conflicts = conflicts[: conflicts.index("</section>")]
        assert phrase in conflicts, (locale, conflicts)
        assert org_id not in conflicts, locale
        assert "<img" not in page, locale
    # Without a name, the id stays.
    _rename_organization(app, org_id, "")
    page = client.get(f"/api/v1/rounds/{c.rid}/report?locale=en", headers=c.admin).text
    assert f"matches organization {org_id}&#39;s domain" in page
    # The decision record names nobody, the round published or not.
    _rename_organization(app, org_id, HOSTILE_ORGANIZATION)
    for publish in (False, True):
        if publish:
            ok(client.post(f"/api/v1/rounds/{c.rid}/publish", headers=c.admin))
        record = client.get(f"/api/v1/rounds/{c.rid}/decision-record", headers=c.admin)
        assert record.status_code == 200, record.text
        assert "Consortium" not in record.text
        assert not any(org in record.text for org in c.orgs)


def _sheet(workbook: Any, name: str) -> list[dict[str, Any]]:
    rows = list(workbook[name].iter_rows(values_only=True))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def test_results_xlsx_matches_the_json_results(
    app: FastAPI, client: TestClient, competition: Round
) -> None:
    c = competition
    results = closed_round(c, client)
    ok(client.post(f"/api/v1/rounds/{c.rid}/publish", headers=c.admin))  # published: still there
    response = client.get(f"/api/v1/rounds/{c.rid}/results.xlsx", headers=c.admin)
    assert response.status_code == 200
    assert response.headers["content-type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response.headers["content-disposition"] == (
        f'attachment; filename="results-{c.rid}.xlsx"'
    )
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    assert workbook.sheetnames == ["Ranking", "Reviews", "Conflicts"]
    ranking = _sheet(workbook, "Ranking")
    assert len(ranking) == len(results["ranking"])
    for sheet_row, row in zip(ranking, results["ranking"], strict=True):
        assert sheet_row["application_id"] == row["application_id"]
        assert sheet_row["rank"] == row["rank"]
        assert sheet_row["title"] == f"Model {c.apps.index(row['application_id'])}"
        # Numbers as numbers, the exact decimal as text beside.
        assert isinstance(sheet_row["total"], int | float)
        assert sheet_row["total"] == pytest.approx(row["total"])
        assert sheet_row["total_exact"] == row["total_exact"]
        assert Decimal(sheet_row["total_exact"]) == Decimal(row["total_exact"])
        assert sheet_row["margin"] == (
            None if row["margin"] is None else pytest.approx(row["margin"])
        )
        assert sheet_row["shortlisted"] is row["shortlisted"]
        assert sheet_row["gates_passed"] is row["gates_passed"]
        assert sheet_row["reason"] == row["reason"]
        assert sheet_row["stable"] is row["stable"]
        assert sheet_row["n_reviews"] == row["n_reviews"]
        for key, value in row["criteria"].items():
            assert sheet_row[f"criterion:{key}"] == pytest.approx(value)
    assert ranking[-1]["failed_gates"] == "independent"
    reviews = _sheet(workbook, "Reviews")
    assert len(reviews) == 10  # every submitted review, one row each
    assert all(r["counted"] is True for r in reviews)
    for review in reviews:
        tech, team, gate = MARKS[c.apps.index(review["application_id"])]
        assert (review["criterion:tech"], review["criterion:team"]) == (tech, team)
        assert review["gate:independent"] == gate
        assert review["reviewer"]
        assert review["reviewer_id"]
    conflicts = _sheet(workbook, "Conflicts")
    listed = ok(client.get(f"/api/v1/rounds/{c.rid}/conflicts", headers=c.admin))["items"]
    assert [(r["reviewer_id"], r["application_id"], r["source"]) for r in conflicts] == [
        (x["reviewer_id"], x["application_id"], x["source"]) for x in listed
    ]
