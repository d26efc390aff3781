"""The decision report of a closed round: one self-contained HTML page (no fetches, no script,
a print stylesheet) in the reader's language (``en``, ``ko``), built by a Jinja2 template with
autoescaping on, its charts inlined as SVG by ``report_charts``."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from models.rounds import RoundStatus
from reviewers import report_charts as charts
from reviewers.conflict_detection import DETECTED_REASONS, ConflictSource, read_reason
from reviewers.desk import ConflictLine, Desk
from submissions.canonical import rfc3339

LOCALES = ("en", "ko")

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Decision report",
        "round": "Round",
        "status": "Status",
        "closed_at": "Closed at",
        "published_at": "Published at",
        "generated_at": "Report made at",
        "rules": "Rules as applied",
        "criterion": "Criterion",
        "key": "Key",
        "weight": "Weight",
        "range": "Range",
        "threshold": "Threshold",
        "gates": "Gates (pass/fail; a majority of fails fails the application)",
        "gate": "Gate",
        "size": "Shortlist size",
        "all": "all ranked",
        "min_total": "Minimum total",
        "none": "none",
        "aggregate": "Aggregate of the reviews",
        "calibration": "Calibration",
        "tie_break": "Tie-break chain",
        "then_id": "then the application id",
        "reviewers_per_application": "Reviewers per application",
        "ranking": "Ranking and cut-off",
        "ranking_alt": "Totals of {n} applications in ranked order; {k} shortlisted above the "
        "cut-off line at total {cutoff}.",
        "total": "Total",
        "rank": "Rank",
        "application": "Application",
        "exact": "Exact total",
        "margin": "Margin",
        "reason": "Outcome",
        "reviews": "Reviews",
        "stable": "Stable",
        "failed_gates": "Gates failed",
        "cutoff_row": "Cut-off: {k} shortlisted, last shortlisted total {cutoff}",
        "tie": "Tie at the cut-off: {a} and {b} have the same total ({total}); the tie-break "
        "chain ({chain}) put {a} above the line.",
        "no_tie": "No tie at the cut-off.",
        "shortlisted": "shortlisted",
        "gate_failed": "failed a gate",
        "below_threshold": "below a threshold",
        "below_min_total": "below the minimum total",
        "below_cutoff": "below the cut-off",
        "yes": "yes",
        "no": "no",
        "spread": "Spread of each criterion's scores",
        "spread_alt": "Box plots of the reviewers' scores for {n} criteria.",
        "score": "Score",
        "n": "Scores",
        "min": "Min",
        "q1": "Q1",
        "median": "Median",
        "q3": "Q3",
        "max": "Max",
        "mean": "Mean",
        "calibration_title": "Reviewers' means before and after calibration",
        "calibration_alt": "Each of {n} reviewers' mean weighted score, raw and z-score "
        "calibrated.",
        "calibration_note": "Calibration applied by this round: {applied}. The calibrated mean is "
        "what the decision core's z-score calibration makes of the same reviews (a reviewer "
        "with fewer than 3 reviews keeps raw scores: no calibrated mean).",
        "reviewer": "Reviewer",
        "raw_mean": "Mean (raw)",
        "calibrated_mean": "Mean (calibrated)",
        "difference": "Change",
        "gate_votes": "Gate votes",
        "gate_votes_alt": "Pass and fail votes of each application's gates.",
        "pass": "pass",
        "fail": "fail",
        "stability": "Stability (leave one reviewer out)",
        "stability_alt": "{stable} of {rows} outcomes stay the same whichever single reviewer "
        "is left out.",
        "stability_note": "An outcome is stable when it is the same with any one reviewer's "
        "reviews left out.",
        "unstable": "unstable",
        "outcome": "Outcome",
        "not_selected": "not selected",
        "count": "Applications",
        "conflicts": "Conflicts and recusals",
        "source": "Source",
        "detected": "detected",
        "declared": "declared",
        "no_conflicts": "No conflicts.",
        "ended": "Assignments ended without counting",
        "recused": "recused",
        "conflicted": "conflicted",
        "ended_at": "Ended at",
        "no_ended": "None.",
        "completion": "Review completion",
        "assignments": "Assignments",
        "submitted": "submitted",
        "in_progress": "in progress",
        "not_started": "not started",
        "assigned": "Assigned",
        "overdue": "Overdue",
        "review_deadline": "Review deadline",
        "hashes": "Hashes",
        "inputs_sha256": "Inputs SHA-256",
        "result_sha256": "Result SHA-256",
        "audit_head": "Audit chain head (seq {seq})",
        "hashes_note": "Anyone holding the canonical inputs can recompute the result and compare "
        "these hashes (shortlist verify-result).",
        "shown_rows": "The chart shows the {n} rows nearest the cut-off; the table lists all.",
        "shown_most": "The chart shows the {n} reviewers calibration moved most; the table "
        "lists all.",
        "shown_fails": "The chart shows {n} rows, those with fail votes first; the table lists "
        "all.",
        "round_closed": "closed",
        "round_published": "published",
        "zscore": "z-score",
        "aggregate_mean": "mean",
        "aggregate_median": "median",
        "tie_criterion": "{title} (higher first)",
        "tie_submitted_at": "submission time (earlier first)",
        "tie_id": "application id",
        "conflict_reason": "Reason",
        # Conflict reasons and roles are shown as the API gives them (conflict_detection's
        # DETECTED_REASONS, in English); other locales translate them (reason_*, role_*).
    },
    "ko": {
        "title": "선정 결과 보고서",
        "round": "공모 차수",
        "status": "상태",
        "closed_at": "마감 시각",
        "published_at": "발표 시각",
        "generated_at": "보고서 작성 시각",
        "rules": "적용된 규칙",
        "criterion": "평가 항목",
        "key": "키",
        "weight": "가중치",
        "range": "범위",
        "threshold": "최저 기준",
        "gates": "필수 요건 (적합/부적합; 과반이 부적합이면 탈락)",
        "gate": "필수 요건",
        "size": "선정 규모",
        "all": "순위에 오른 전체",
        "min_total": "최저 총점",
        "none": "없음",
        "aggregate": "심사 점수 집계",
        "calibration": "보정",
        "tie_break": "동점 처리 순서",
        "then_id": "그다음 신청서 ID",
        "reviewers_per_application": "신청서당 심사위원 수",
        "ranking": "순위와 선정 기준선",
        "ranking_alt": "신청서 {n}건의 총점을 순위대로 표시; 총점 {cutoff}의 기준선 위 {k}건 선정.",
        "total": "총점",
        "rank": "순위",
        "application": "신청서",
        "exact": "정확한 총점",
        "margin": "차이",
        "reason": "결과",
        "reviews": "심사 수",
        "stable": "안정성",
        "failed_gates": "부적합 요건",
        "cutoff_row": "선정 기준선: {k}건 선정, 마지막 선정 총점 {cutoff}",
        "tie": "기준선 동점: {a}와(과) {b}의 총점이 같습니다 ({total}). 동점 처리 순서({chain})에 "
        "따라 {a}이(가) 기준선 위에 있습니다.",
        "no_tie": "기준선에 동점이 없습니다.",
        "shortlisted": "선정",
        "gate_failed": "필수 요건 부적합",
        "below_threshold": "최저 기준 미달",
        "below_min_total": "최저 총점 미달",
        "below_cutoff": "기준선 아래",
        "yes": "예",
        "no": "아니요",
        "spread": "평가 항목별 점수 분포",
        "spread_alt": "평가 항목 {n}개에 대한 심사위원 점수의 상자 그림.",
        "score": "점수",
        "n": "점수 수",
        "min": "최솟값",
        "q1": "1사분위",
        "median": "중앙값",
        "q3": "3사분위",
        "max": "최댓값",
        "mean": "평균",
        "calibration_title": "심사위원별 보정 전후 평균",
        "calibration_alt": "심사위원 {n}명의 가중 평균 점수, 보정 전과 z-점수 보정 후.",
        "calibration_note": "이 차수에 적용된 보정: {applied}. 보정 후 평균은 결정 핵심 모듈의 "
        "z-점수 보정을 같은 심사에 적용한 값입니다 (심사가 3건 미만인 심사위원은 원점수 유지: "
        "보정 평균 없음).",
        "reviewer": "심사위원",
        "raw_mean": "평균 (원점수)",
        "calibrated_mean": "평균 (보정)",
        "difference": "변화",
        "gate_votes": "필수 요건 판정",
        "gate_votes_alt": "신청서별 필수 요건의 적합·부적합 판정 수.",
        "pass": "적합",
        "fail": "부적합",
        "stability": "안정성 (심사위원 한 명 제외)",
        "stability_alt": "결과 {rows}건 중 {stable}건은 어느 심사위원 한 명을 빼도 같습니다.",
        "stability_note": "어느 심사위원 한 명의 심사를 빼도 결과가 같으면 안정적입니다.",
        "unstable": "불안정",
        "outcome": "결과",
        "not_selected": "미선정",
        "count": "신청서 수",
        "conflicts": "이해충돌과 회피",
        "source": "출처",
        "detected": "자동 탐지",
        "declared": "신고",
        "no_conflicts": "이해충돌이 없습니다.",
        "ended": "반영되지 않고 종료된 배정",
        "recused": "회피",
        "conflicted": "이해충돌",
        "ended_at": "종료 시각",
        "no_ended": "없음.",
        "completion": "심사 진행",
        "assignments": "배정",
        "submitted": "제출",
        "in_progress": "작성 중",
        "not_started": "미착수",
        "assigned": "배정 수",
        "overdue": "기한 초과",
        "review_deadline": "심사 마감",
        "hashes": "해시",
        "inputs_sha256": "입력 SHA-256",
        "result_sha256": "결과 SHA-256",
        "audit_head": "감사 로그 헤드 (일련번호 {seq})",
        "hashes_note": "정규화된 입력을 가진 누구나 결과를 다시 계산해 이 해시와 비교할 수 "
        "있습니다 (shortlist verify-result).",
        "shown_rows": "그래프는 기준선에 가까운 {n}건만 보여 줍니다. 표에는 전체가 있습니다.",
        "shown_most": "그래프는 보정으로 가장 많이 달라진 심사위원 {n}명만 보여 줍니다. 표에는 "
        "전체가 있습니다.",
        "shown_fails": "그래프는 부적합 판정이 있는 것부터 {n}건만 보여 줍니다. 표에는 전체가 "
        "있습니다.",
        "round_closed": "마감",
        "round_published": "발표",
        "zscore": "z-점수",
        "aggregate_mean": "평균",
        "aggregate_median": "중앙값",
        "tie_criterion": "{title} (높은 순)",
        "tie_submitted_at": "제출 시각 (이른 순)",
        "tie_id": "신청서 ID",
        "conflict_reason": "사유",
        "reason_membership": "조직 {organization}의 {role}",
        "reason_authorship": "신청서 작성자",
        "reason_affiliation": "프로필상 조직 {organization} 소속",
        "reason_email_domain": "이메일 도메인 {domain}이(가) 조직 {organization}의 도메인 "
        "{suffix}에 해당",
        "reason_declared": "이해충돌 신고",
        "role_owner": "소유자",
        "role_member": "구성원",
    },
}

CHART_ROWS = 60
"""The ranking chart shows at most this many rows, those nearest the cut-off."""

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _number(text: str | None, places: int = 4) -> str:
    return "" if text is None else f"{float(text):.{places}f}"


def _chart_window(rows: Sequence[Mapping[str, Any]], n_shortlisted: int) -> tuple[int, int]:
    if len(rows) <= CHART_ROWS:
        return 0, len(rows)
    start = max(0, min(n_shortlisted - CHART_ROWS // 2, len(rows) - CHART_ROWS))
    return start, start + CHART_ROWS


def _conflict_reason(
    t: Mapping[str, str], conflict: ConflictLine, organization_names: Mapping[str, str]
) -> str:
    """A conflict's reason in the reader's language: a detected one, or a declaration made
    without words; a declaration's own words stay as written. Where the locale has no template
    the API's own words are used (English: ``DETECTED_REASONS``). The organization a reason
    names by id is shown by its name (the id where it has none). Plain text: the template
    escapes it."""
    read = read_reason(conflict.reason, ConflictSource(conflict.source))
    if read is None:
        return conflict.reason
    kind, fields = read
    template = t.get(f"reason_{kind}", DETECTED_REASONS.get(kind))
    if template is None:
        return conflict.reason
    if "organization" in fields:
        fields["organization"] = (
            organization_names.get(fields["organization"]) or (fields["organization"])
        )
    if "role" in fields:
        fields["role"] = t.get(f"role_{fields['role']}", fields["role"])
    return template.format(**fields)


def _tie_break(t: Mapping[str, str], item: str, criterion_titles: Mapping[str, str]) -> str:
    if item.startswith("criterion:"):
        key = item.removeprefix("criterion:")
        return t["tie_criterion"].format(title=criterion_titles.get(key, key))
    return t.get(f"tie_{item}", item)


def render_report(*, desk: Desk, locale: str, now: datetime) -> str:
    """The report page of ``desk`` in ``locale`` (English when unknown)."""
    lang = locale if locale in LOCALES else "en"
    t = TEXTS[lang]
    result = desk.result
    titles = desk.titles
    rows = list(result["rows"])
    n_shortlisted = int(result["n_shortlisted"])
    cutoff = result["cutoff_total"]
    config = desk.round.config()
    criterion_titles = {c.key: c.title for c in config.criteria}
    gate_titles = {g.key: g.title for g in config.gates}

    drawn = [r for r in rows if r["total"] is not None]
    start, end = _chart_window(drawn, n_shortlisted)
    window = drawn[start:end]
    ranking_svg = charts.ranking_chart(
        [
            charts.Bar(
                label=titles.get(r["application_id"], r["application_id"]),
                total=float(r["total"]),
                shortlisted=r["shortlisted"],
                ranked=r["rank"] is not None,
            )
            for r in window
        ],
        None if cutoff is None else float(cutoff),
        sum(1 for r in window if r["shortlisted"]),
        label=t["ranking_alt"].format(
            n=len(rows), k=n_shortlisted, cutoff=_number(cutoff) or t["none"]
        ),
        axis=t["total"],
    )
    # The tie at the cut-off: the first ranked row below the line with the last shortlisted
    # row's total (margin zero), decided by the tie-break chain.
    last_in = next((r for r in reversed(rows) if r["shortlisted"]), None)
    first_out = next((r for r in rows if r["reason"] == "below_cutoff"), None)
    tie = None
    chain = ", ".join(
        [*(_tie_break(t, i, criterion_titles) for i in config.shortlist.tie_break), t["then_id"]]
    )
    if last_in and first_out and last_in["total"] == first_out["total"]:
        tie = t["tie"].format(
            a=titles.get(last_in["application_id"], ""),
            b=titles.get(first_out["application_id"], ""),
            total=_number(last_in["total"]),
            chain=chain,
        )

    spreads = desk.spreads
    spread_svg = charts.spread_chart(
        [(criterion_titles.get(s.key, s.key), s.values) for s in spreads],
        label=t["spread_alt"].format(n=len(spreads)),
        axis=t["score"],
    )
    means = desk.reviewer_means
    # Many reviewers: the chart shows those calibration moved most (the table lists all).
    drawn_means = (
        means
        if len(means) <= CHART_ROWS
        else sorted(
            means,
            key=lambda m: -abs((m.calibrated if m.calibrated is not None else m.raw) - m.raw),
        )[:CHART_ROWS]
    )
    calibration_svg = charts.paired_bars(
        [m.reviewer or m.reviewer_id for m in drawn_means],
        [m.raw for m in drawn_means],
        [m.calibrated for m in drawn_means],
        (t["raw_mean"], t["calibrated_mean"]),
        label=t["calibration_alt"].format(n=len(means)),
        axis=t["score"],
    )
    votes = desk.gate_votes
    # Many bids: the chart shows the votes with a fail first (the table lists all).
    drawn_votes = (
        votes
        if len(votes) <= CHART_ROWS
        else sorted(votes, key=lambda v: (v.failed == 0, -v.failed))[:CHART_ROWS]
    )
    gate_svg = charts.stacked_bars(
        [
            f"{v.application or v.application_id} · {gate_titles.get(v.gate, v.gate)}"
            for v in drawn_votes
        ],
        [
            (t["pass"], charts.SHORTLISTED, [v.passed for v in drawn_votes]),
            (t["fail"], charts.UNRANKED, [v.failed for v in drawn_votes]),
        ],
        label=t["gate_votes_alt"],
        axis=t["reviews"],
    )
    groups = [(t["shortlisted"], True), (t["not_selected"], False)]
    stable_counts = [
        sum(1 for r in rows if r["shortlisted"] == s and r["stable"]) for _, s in groups
    ]
    unstable_counts = [
        sum(1 for r in rows if r["shortlisted"] == s and not r["stable"]) for _, s in groups
    ]
    stability_svg = charts.stacked_bars(
        [name for name, _ in groups],
        [
            (t["stable"], charts.SHORTLISTED, stable_counts),
            (t["unstable"], charts.UNRANKED, unstable_counts),
        ],
        label=t["stability_alt"].format(stable=result["n_stable"], rows=len(rows)),
        axis=t["count"],
    )
    return _TEMPLATES.get_template("report.html").render(
        t=t,
        lang=lang,
        font_stack=Markup(charts.CSS_FONT_STACK),  # noqa: S704 - a constant of this module
        desk=desk,
        config=config,
        round=desk.round,
        status=t.get(f"round_{desk.round.status}", RoundStatus(desk.round.status).value),
        aggregate=t[f"aggregate_{config.shortlist.aggregate.value}"],
        chain=chain,
        conflict_reason=lambda conflict: _conflict_reason(t, conflict, desk.organization_names),
        rows=rows,
        titles=titles,
        criterion_titles=criterion_titles,
        gate_titles=gate_titles,
        n_shortlisted=n_shortlisted,
        cutoff=_number(cutoff),
        number=_number,
        tie=tie,
        chart_note=t["shown_rows"].format(n=CHART_ROWS) if len(drawn) > CHART_ROWS else None,
        means_note=t["shown_most"].format(n=CHART_ROWS) if len(means) > CHART_ROWS else None,
        votes_note=t["shown_fails"].format(n=CHART_ROWS) if len(votes) > CHART_ROWS else None,
        spreads=spreads,
        means=means,
        votes=votes,
        groups=list(zip([g for g, _ in groups], stable_counts, unstable_counts, strict=True)),
        applied=t.get(config.shortlist.calibration.value, config.shortlist.calibration.value),
        ranking_svg=Markup(ranking_svg),  # noqa: S704 - matplotlib's SVG, every text escaped
        spread_svg=Markup(spread_svg),  # noqa: S704
        calibration_svg=Markup(calibration_svg),  # noqa: S704
        gate_svg=Markup(gate_svg),  # noqa: S704
        stability_svg=Markup(stability_svg),  # noqa: S704
        rfc3339=rfc3339,
        now=now,
    )
