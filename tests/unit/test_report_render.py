"""The report and workbook of a large round, from the decision core's own result, without a
database: the charts stay readable (at most ``CHART_ROWS`` rows each, said in their captions)
while the tables list everything, the reviewers' means come from the core's calibration, and
the page renders in both languages."""

import io
import random
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import openpyxl

from models.desk import AssignmentCounts, RoundProgress
from models.rounds import Round, RoundStatus
from reviewers.decision import (
    Candidate,
    Criterion,
    ReviewInput,
    ShortlistRules,
    canonical_inputs,
    compute_shortlist,
    result_to_dict,
)
from reviewers.desk import Desk, gate_votes, reviewer_means, spreads
from reviewers.report import CHART_ROWS, render_report
from reviewers.results_xlsx import results_xlsx

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def _desk(n_apps: int = 150, n_reviewers: int = 80, per_app: int = 3) -> Desk:
    rng = random.Random(19)
    apps = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(n_apps)]
    reviewers = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(n_reviewers)]
    rules = ShortlistRules(
        criteria=(
            Criterion("tech", Decimal(2), Decimal(0), Decimal(10)),
            Criterion("team", Decimal(1), Decimal(0), Decimal(10), Decimal(2)),
        ),
        gates=("legal",),
        size=20,
        calibration="zscore",
        tie_break=("criterion:tech", "submitted_at"),
    )
    candidates = [Candidate(a, NOW - timedelta(minutes=i)) for i, a in enumerate(apps)]
    reviews = []
    for i, app in enumerate(apps):
        for reviewer in rng.sample(reviewers, per_app):
            reviews.append(
                ReviewInput(
                    app,
                    reviewer,
                    {"tech": Decimal(rng.randint(0, 10)), "team": Decimal(rng.randint(0, 10))},
                    {"legal": "fail" if i % 17 == 0 else "pass"},
                )
            )
    inputs = canonical_inputs(rules=rules, candidates=candidates, reviews=reviews)
    result = result_to_dict(
        result=compute_shortlist(rules=rules, candidates=candidates, reviews=reviews)
    )
    round_ = Round(
        program_id=uuid.uuid4(),
        name="Stage <1>",
        status=RoundStatus.closed,
        opens_at=NOW - timedelta(days=30),
        submission_deadline=NOW - timedelta(days=20),
        review_deadline=NOW - timedelta(days=2),
        reviewers_per_application=max(per_app, 1),
        criteria=[
            {"key": "tech", "title": "Technology", "weight": 2, "min": 0, "max": 10},
            {"key": "team", "title": "팀 역량", "weight": 1, "min": 0, "max": 10, "threshold": 2},
        ],
        gates=[{"key": "legal", "title": "Legal"}],
        shortlist={"size": 20, "calibration": "zscore", "tie_break": ["criterion:tech"]},
        created_by=uuid.uuid4(),
        created_at=NOW,
        updated_at=NOW,
    )
    titles = {str(a): f"응용 {i} <b>" for i, a in enumerate(apps)}
    names = {str(r): f"Reviewer {i}" for i, r in enumerate(reviewers)}
    progress = RoundProgress(
        round_id=round_.id,
        review_deadline=round_.review_deadline,
        deadline_passed=True,
        assignments=AssignmentCounts(
            total=len(reviews),
            submitted=len(reviews),
            in_progress=0,
            not_started=0,
            recused=0,
            conflicted=0,
        ),
        reviewers=[],
        applications=[],
    )
    return Desk(
        round=round_,
        closed_at=NOW,
        inputs=inputs,
        result=result,
        inputs_sha256="a" * 64,
        result_sha256="b" * 64,
        audit_seq=7,
        audit_head="c" * 64,
        titles=titles,
        reviewer_names=names,
        conflicts=[],
        ended=[],
        reviews=[],
        progress=progress,
        reviewer_means=reviewer_means(inputs, names),
        spreads=spreads(inputs),
        gate_votes=gate_votes(inputs, result, titles),
    )


def _charts(page: str) -> list[str]:
    return re.findall(r"<svg .*?</svg>", page, re.S)


def test_a_large_rounds_charts_are_capped_and_its_tables_whole() -> None:
    desk = _desk()
    page = render_report(desk=desk, locale="en", now=NOW)
    charts = _charts(page)
    assert len(charts) == 5
    ranking, spread, calibration, gates, stability = charts
    for chart in (ranking, calibration, gates):
        assert 0 < len(re.findall(r'<g id="ytick_\d+">', chart)) <= CHART_ROWS
    assert page.count("data-reason=") == 150  # the ranking table: every row
    assert page.count("The chart shows") == 3
    # Titles are text everywhere (a ``<b>`` in a title is no element).
    assert "<b>" not in page
    assert "&lt;b&gt;" in page
    assert "Decision report: Stage &lt;1&gt;" in page
    # Hangul stays text in the charts, for the browser's fonts.
    assert "팀 역량" in spread
    assert len(stability) > 0
    korean = render_report(desk=desk, locale="ko", now=NOW)
    assert '<html lang="ko">' in korean
    assert "선정 결과 보고서" in korean


def test_reviewers_means_follow_the_cores_calibration() -> None:
    desk = _desk(n_apps=40, n_reviewers=10, per_app=3)
    means = desk.reviewer_means
    assert len(means) == 10
    assert sum(m.n_reviews for m in means) == 120
    # Calibration maps each reviewer onto the round's scale: the calibrated means spread less
    # than the raw ones, and no reviewer with 3 or more reviews is left out.
    assert all(m.calibrated is not None for m in means)
    raw = [m.raw for m in means]
    calibrated = [m.calibrated for m in means if m.calibrated is not None]
    assert max(calibrated) - min(calibrated) <= max(raw) - min(raw)


def test_the_workbook_of_a_large_round_has_every_row() -> None:
    desk = _desk()
    workbook = openpyxl.load_workbook(io.BytesIO(results_xlsx(desk)))
    rows = list(workbook["Ranking"].iter_rows(values_only=True))
    assert len(rows) == 151
    header = rows[0]
    by_id = {row[header.index("application_id")]: row for row in rows[1:]}
    for stored in desk.result["rows"]:
        row = by_id[stored["application_id"]]
        assert row[header.index("total_exact")] == stored["total"]
        assert row[header.index("reason")] == stored["reason"]
        assert row[header.index("title")] == desk.titles[stored["application_id"]]


def test_a_round_closed_without_reviews_still_has_its_report() -> None:
    desk = _desk(n_apps=3, n_reviewers=1, per_app=0)
    assert desk.reviewer_means == []
    assert desk.spreads == []
    page = render_report(desk=desk, locale="en", now=NOW)
    assert len(_charts(page)) == 5
    assert page.count('data-reason="below_threshold"') == 3  # nobody assessed them
    assert "No tie at the cut-off." in page
