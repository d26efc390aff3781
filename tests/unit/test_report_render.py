"""The report and workbook of a large round, from the decision core's own result, without a
database: the charts stay readable (at most ``CHART_ROWS`` rows each, said in their captions,
legends beside the plot rather than over it) while the tables list everything, the reviewers'
means come from the core's calibration, and the page renders in both languages, the Korean one
with no English status or outcome label left."""

import io
import random
import re
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import openpyxl
import pytest
from matplotlib.figure import Figure

from models.desk import AssignmentCounts, RoundProgress
from models.rounds import Round, RoundStatus
from reviewers import report_charts
from reviewers.conflict_detection import (
    ApplicationFacts,
    DeclaredConflict,
    OrganizationFacts,
    ReviewerFacts,
    detect_conflicts,
)
from reviewers.decision import (
    Candidate,
    Criterion,
    ReviewInput,
    ShortlistRules,
    canonical_inputs,
    compute_shortlist,
    result_to_dict,
)
from reviewers.desk import ConflictLine, Desk, EndedAssignment, gate_votes, reviewer_means, spreads
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


ENGLISH_LABELS = re.compile(
    r"\b(draft|open|review|closed|published|submitted|withdrawn|shortlisted|selected|active|"
    r"recused|conflicted|progress|started|overdue|detected|declared|pass|fail|failed|yes|no|"
    r"stable|unstable|mean|median|z-?score|none|below|cut-?off|threshold|minimum|owner|member|"
    r"organization|affiliated|created|matches|domain|higher|earlier|submission|outcome|reason|"
    r"status|seq)\b",
    re.IGNORECASE,
)
"""English words of the report's statuses, outcomes and other labels."""


class _Visible(HTMLParser):
    """The text a reader sees or hears: element text (chart texts and titles included) and
    ``aria-label`` values, without style sheets, the SVG's metadata or ``<code>`` (ids and
    hashes)."""

    HIDDEN = frozenset({"style", "metadata", "code"})

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self._hidden += 1
        self.texts.extend(v for k, v in attrs if k == "aria-label" and v)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.texts.append(data)


def english_labels(page: str) -> list[str]:
    """The English status and outcome words a reader of ``page`` meets."""
    visible = _Visible()
    visible.feed(page)
    return sorted({m.group(0).lower() for m in ENGLISH_LABELS.finditer(" ".join(visible.texts))})


def _conflicts(desk: Desk) -> list[ConflictLine]:
    """One conflict of each kind the detector writes, and a declaration in its own words."""
    apps = [uuid.UUID(a) for a in list(desk.titles)[:6]]
    orgs = [uuid.uuid4() for _ in apps]
    reviewers = [uuid.uuid4() for _ in apps]
    found = detect_conflicts(
        reviewers=[
            ReviewerFacts(
                reviewers[0],
                "r0@r0.example",
                frozenset(),
                frozenset(),
                frozenset({(orgs[0], "owner")}),
            ),
            ReviewerFacts(reviewers[1], "r1@r1.example", frozenset(), frozenset()),
            ReviewerFacts(reviewers[2], "r2@r2.example", frozenset({orgs[2]}), frozenset()),
            ReviewerFacts(reviewers[3], "r3@lab.org3.example", frozenset(), frozenset()),
            ReviewerFacts(reviewers[4], "r4@r4.example", frozenset(), frozenset()),
            ReviewerFacts(
                reviewers[5],
                "r5@r5.example",
                frozenset(),
                frozenset(),
                frozenset({(orgs[5], "member")}),
            ),
        ],
        applications=[
            ApplicationFacts(
                app,
                (OrganizationFacts(org, frozenset({"org3.example"} if i == 3 else set())),),
                created_by=reviewers[1] if i == 1 else None,
            )
            for i, (app, org) in enumerate(zip(apps, orgs, strict=True))
        ],
        declared=[DeclaredConflict(reviewers[4], apps[4], None, "")],
    )
    assert len(found) == 6
    return [
        ConflictLine(
            reviewer_id=str(c.reviewer_id),
            reviewer=f"심사위원 {reviewers.index(c.reviewer_id)}",
            application_id=str(c.application_id),
            application=desk.titles[str(c.application_id)],
            reason=c.reason,
            source=c.source.value,
        )
        for c in found
    ]


@pytest.mark.parametrize("status", [RoundStatus.closed, RoundStatus.published])
def test_the_korean_report_holds_no_english_status_words(status: RoundStatus) -> None:
    desk = _desk(n_apps=12, n_reviewers=6)
    round_ = desk.round.model_copy(
        update={
            "status": status,
            "published_at": NOW if status == RoundStatus.published else None,
            "shortlist": {
                "size": 5,
                "aggregate": "median",
                "calibration": "zscore",
                "tie_break": ["criterion:tech", "submitted_at", "id"],
            },
            "criteria": [
                {"key": "tech", "title": "기술성", "weight": 2, "min": 0, "max": 10},
                {
                    "key": "team",
                    "title": "팀 역량",
                    "weight": 1,
                    "min": 0,
                    "max": 10,
                    "threshold": 2,
                },
            ],
            "gates": [{"key": "legal", "title": "법적 요건"}],
        }
    )
    names = {r: f"심사위원 {i}" for i, r in enumerate(desk.reviewer_names)}
    desk = replace(
        desk,
        round=round_,
        reviewer_names=names,
        reviewer_means=reviewer_means(desk.inputs, names),
        conflicts=_conflicts(desk),
        ended=[
            EndedAssignment(
                reviewer_id=str(uuid.uuid4()),
                reviewer="심사위원 9",
                application_id=a,
                application=desk.titles[a],
                status=s,
                ended_at=NOW,
            )
            for a, s in zip(list(desk.titles)[:2], ["recused", "conflicted"], strict=True)
        ],
    )
    korean = render_report(desk=desk, locale="ko", now=NOW)
    assert english_labels(korean) == []
    # The page shows every label the check looks for (in English), so the check can fail.
    english = render_report(desk=desk, locale="en", now=NOW)
    assert {
        "shortlisted",
        "stable",
        "median",
        "z-score",
        "recused",
        "conflicted",
        "detected",
        "declared",
        "owner",
        "member",
        "affiliated",
        "created",
        "domain",
        "pass",
        "fail",
        "submission",
        status.value,
    } <= set(english_labels(english))
    # A declaration's own words stay as written, in either language.
    assert "이해충돌 신고" in korean
    assert "declared conflict of interest" in english


def test_chart_legends_stand_beside_the_plot_not_over_it(monkeypatch: pytest.MonkeyPatch) -> None:
    figures: list[Figure] = []

    def keep(fig: Figure, _label: str) -> str:
        figures.append(fig)
        return "<svg></svg>"

    monkeypatch.setattr(report_charts, "_svg", keep)
    for rows in (1, 4, 40):
        names = [f"응용 {i} with a title long enough to be cut short" for i in range(rows)]
        report_charts.paired_bars(
            names, [5.0] * rows, [6.0] * rows, ("평균 (원점수)", "평균 (보정)"), label="", axis=""
        )
        report_charts.stacked_bars(
            names,
            [("적합", "#000", [3] * rows), ("부적합", "#111", [2] * rows)],
            label="",
            axis="",
        )
    assert len(figures) == 6
    for fig in figures:
        fig.draw_without_rendering()  # as saved: the layout and the legend's place are final
        (ax,) = fig.axes
        legend = ax.get_legend()
        assert legend is not None
        box = legend.get_window_extent()
        assert not box.overlaps(ax.get_window_extent())
        assert fig.bbox.contains(box.x0, box.y0)
        assert fig.bbox.contains(box.x1, box.y1)
