"""The shortlisting core: worked examples a program officer can check by hand, and properties
checked against a deliberately naive reference implementation (exact fractions, a full re-ranking
per left-out reviewer) on random small rounds."""

import functools
import hashlib
import random
import statistics
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewers.decision import (
    Aggregate,
    Calibration,
    Candidate,
    Criterion,
    GateVerdict,
    Reason,
    ReviewInput,
    ScoringInputError,
    ShortlistResult,
    ShortlistRow,
    ShortlistRules,
    canonical_inputs,
    compute_shortlist,
    inputs_from_canonical,
    result_to_dict,
)
from reviewers.decision import stability as scoring
from reviewers.decision.calibration import _FixedPointFactor
from submissions.canonical import canonical_json
from tests.examples import examples

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
D = Decimal


def app_id(n: int) -> uuid.UUID:
    return uuid.UUID(int=0xA000 + n)


def reviewer_id(n: int) -> uuid.UUID:
    return uuid.UUID(int=0xB000 + n)


def make_criterion(
    key: str, weight: str = "1", *, threshold: str | None = None, low: str = "0", high: str = "10"
) -> Criterion:
    return Criterion(
        key=key,
        weight=D(weight),
        min=D(low),
        max=D(high),
        threshold=None if threshold is None else D(threshold),
    )


def make_review(
    app: int, reviewer: int, scores: Mapping[str, Decimal | int], **gates: GateVerdict
) -> ReviewInput:
    return ReviewInput(
        application_id=app_id(app),
        reviewer_id=reviewer_id(reviewer),
        scores={k: D(v) for k, v in scores.items()},
        gates=gates,
    )


def make_candidates(count: int, *, minutes: Sequence[int] | None = None) -> list[Candidate]:
    return [
        Candidate(
            application_id=app_id(n),
            submitted_at=T0 + timedelta(minutes=n if minutes is None else minutes[n]),
        )
        for n in range(count)
    ]


def by_app(result: ShortlistResult) -> dict[uuid.UUID, ShortlistRow]:
    return {row.application_id: row for row in result.rows}


def rounded(value: Fraction, places: int) -> Decimal:
    """Exact value, rounded half-to-even (computed with ample precision)."""
    with localcontext() as ctx:
        ctx.prec = 200
        exact = D(value.numerator) / D(value.denominator)
        return exact.quantize(D(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def r12(value: Fraction) -> Decimal:
    """The documented publication rule: exact value, rounded half-to-even to 12 places."""
    return rounded(value, 12)


# --- worked examples ------------------------------------------------------------------------

PANEL = (0, 1, 2)


def five_bidders() -> tuple[ShortlistRules, list[Candidate], list[ReviewInput]]:
    """Technical (weight 3), team (2), budget (1); three reviewers score every bidder.

    Bidder  technical   team     budget   means      total = (3t + 2m + b) / 6
    A       8  9 10     8 8 8    6 7 8    9, 8, 7    50/6 = 8.333333333333
    B       7  8  9     9 9 9    9 9 9    8, 9, 9    51/6 = 8.5
    C       6  7  8     7 7 7    7 7 7    7, 7, 7    42/6 = 7
    D       9  9  9     5 6 7    3 3 3    9, 6, 3    42/6 = 7   (ties with C: D's technical wins)
    E       5  5  5     5 5 5    5 5 5    5, 5, 5    30/6 = 5
    """
    table = {
        0: ((8, 9, 10), (8, 8, 8), (6, 7, 8)),
        1: ((7, 8, 9), (9, 9, 9), (9, 9, 9)),
        2: ((6, 7, 8), (7, 7, 7), (7, 7, 7)),
        3: ((9, 9, 9), (5, 6, 7), (3, 3, 3)),
        4: ((5, 5, 5), (5, 5, 5), (5, 5, 5)),
    }
    rules = ShortlistRules(
        criteria=(
            make_criterion("technical", "3"),
            make_criterion("team", "2"),
            make_criterion("budget", "1"),
        ),
        size=3,
        tie_break=("criterion:technical", "submitted_at"),
    )
    reviews = [
        make_review(app, r, {"technical": tech[r], "team": team[r], "budget": budget[r]})
        for app, (tech, team, budget) in table.items()
        for r in PANEL
    ]
    return rules, make_candidates(5), reviews


def test_five_bidders_three_kept() -> None:
    rules, candidates, reviews = five_bidders()
    result = compute_shortlist(rules=rules, candidates=candidates, reviews=reviews)
    a, b, c, d, e = (app_id(n) for n in range(5))
    assert [row.application_id for row in result.rows] == [b, a, d, c, e]
    rows = by_app(result)
    assert [rows[x].rank for x in (b, a, d, c, e)] == [1, 2, 3, 4, 5]
    assert [rows[x].shortlisted for x in (b, a, d, c, e)] == [True, True, True, False, False]
    assert rows[b].total == D("8.5")
    assert rows[a].total == D("8.333333333333")
    assert rows[c].total == rows[d].total == D("7")
    assert rows[e].total == D("5")
    assert rows[d].criteria == {"technical": D(9), "team": D(6), "budget": D(3)}
    assert [rows[x].reason for x in (b, a, d, c, e)] == [Reason.SHORTLISTED] * 3 + [
        Reason.BELOW_CUTOFF
    ] * 2
    # Margins to the cut-off: the first bidder out (C, 7) for those in, the last in (D, 7) for
    # those out; zero for C and D says the tie-break decided.
    assert rows[b].margin == D("1.5")
    assert rows[a].margin == D("1.333333333333")
    assert rows[d].margin == rows[c].margin == D(0)
    assert rows[e].margin == D(2)
    assert result.cutoff_total == D(7)
    assert result.n_shortlisted == 3
    assert result.n_rows == 5
    # Without reviewer 0, C's technical mean rises to 7.5 and D's team mean to 6.5:
    # C = 43.5/6 > D = 43/6, so C and D swap. Without reviewer 2 they swap back the other way.
    # A, B (far above) and E (far below) never change.
    assert {x for x, row in rows.items() if row.stable} == {a, b, e}
    assert result.n_stable == 3


def test_gates_thresholds_min_total_and_unreviewed() -> None:
    """Technical (threshold 5) and team, equal weights; gate "independent"; min_total 6; size 2.

    P  8/8 across the board                          -> total 8, ranked
    Q  9/9 but 2 of 3 reviewers fail the gate         -> gate_failed (total still shown: 9)
    R  9/9 and 1 of 3 reviewers fails the gate        -> no majority: ranked first
    S  technical 4, 5, 5 = 4.67 < 5                   -> below_threshold
    T  6 and 5: total 5.5 < 6                         -> below_min_total
    U  7/7                                            -> ranked third, below the cut-off
    V  no review at all                               -> below_threshold, n_reviews 0
    W  8 and 7, 2 of 4 reviewers fail the gate        -> half is no majority: ranked, 7.5
    """
    rules = ShortlistRules(
        criteria=(make_criterion("technical", threshold="5"), make_criterion("team")),
        gates=("independent",),
        size=2,
        min_total=D(6),
    )

    def panel(
        app: int, tech: Sequence[int], team: Sequence[int], fails: int = 0
    ) -> list[ReviewInput]:
        return [
            make_review(
                app,
                r,
                {"technical": tech[r], "team": team[r]},
                independent="fail" if r < fails else "pass",
            )
            for r in range(len(tech))
        ]

    reviews = [
        *panel(0, (8, 8, 8), (8, 8, 8)),
        *panel(1, (9, 9, 9), (9, 9, 9), fails=2),
        *panel(2, (9, 9, 9), (9, 9, 9), fails=1),
        *panel(3, (4, 5, 5), (10, 10, 10)),
        *panel(4, (6, 6, 6), (5, 5, 5)),
        *panel(5, (7, 7, 7), (7, 7, 7)),
        *panel(7, (8, 8, 8, 8), (7, 7, 7, 7), fails=2),
    ]
    result = compute_shortlist(rules=rules, candidates=make_candidates(8), reviews=reviews)
    p, q, r, s, t, u, v, w = (app_id(n) for n in range(8))
    assert [row.application_id for row in result.rows] == [r, p, w, u, q, s, t, v]
    rows = by_app(result)
    expected = {
        r: (1, Reason.SHORTLISTED, True),
        p: (2, Reason.SHORTLISTED, True),
        w: (3, Reason.BELOW_CUTOFF, False),
        u: (4, Reason.BELOW_CUTOFF, False),
        q: (None, Reason.GATE_FAILED, False),
        s: (None, Reason.BELOW_THRESHOLD, False),
        t: (None, Reason.BELOW_MIN_TOTAL, False),
        v: (None, Reason.BELOW_THRESHOLD, False),
    }
    for x, (rank, reason, shortlisted) in expected.items():
        assert (rows[x].rank, rows[x].reason, rows[x].shortlisted) == (rank, reason, shortlisted)
    assert rows[w].gates_passed
    assert rows[w].total == D("7.5")
    assert not rows[q].gates_passed
    assert rows[q].failed_gates == ("independent",)
    assert rows[q].total == D(9)
    assert rows[q].margin is None
    assert rows[r].gates_passed
    assert rows[r].failed_gates == ()
    assert rows[s].criteria["technical"] == D("4.666666666667")
    assert rows[v].n_reviews == 0
    assert rows[v].total is None
    assert rows[v].criteria == {}
    assert rows[v].gates_passed
    assert rows[u].margin == D(1)  # 8 (P, the last in) - 7
    assert rows[w].margin == D("0.5")
    assert rows[r].margin == D("1.5")  # 9 - 7.5 (W, the first out)
    assert rows[p].margin == D("0.5")
    assert result.cutoff_total == D(8)


def test_each_gate_is_counted_on_its_own() -> None:
    """Four reviews: 3 fail gate a (a majority), 2 fail gate b (half is not a majority), and
    another bidder has a 1-1 split on each gate. Only a is reported."""
    verdicts: list[tuple[GateVerdict, GateVerdict]] = [
        ("fail", "fail"),
        ("fail", "fail"),
        ("fail", "pass"),
        ("pass", "pass"),
    ]
    reviews = [
        *(make_review(0, r, {"merit": 9}, a=va, b=vb) for r, (va, vb) in enumerate(verdicts)),
        make_review(1, 0, {"merit": 5}, a="fail", b="pass"),
        make_review(1, 1, {"merit": 5}, a="pass", b="fail"),
    ]
    rules = ShortlistRules(criteria=(make_criterion("merit"),), gates=("b", "a"))
    rows = by_app(compute_shortlist(rules=rules, candidates=make_candidates(2), reviews=reviews))
    assert rows[app_id(0)].failed_gates == ("a",)
    assert rows[app_id(0)].reason is Reason.GATE_FAILED
    assert rows[app_id(1)].failed_gates == ()
    assert rows[app_id(1)].reason is Reason.SHORTLISTED


def test_median_and_mean_can_disagree() -> None:
    """X gets 2, 9, 9 (one outlier); Y gets 8, 8, 8. Mean: Y 8 > X 6.67. Median: X 9 > Y 8."""
    reviews = [
        *(make_review(0, r, {"merit": s}) for r, s in enumerate((2, 9, 9))),
        *(make_review(1, r, {"merit": 8}) for r in range(3)),
    ]
    candidates = make_candidates(2)
    mean_rules = ShortlistRules(criteria=(make_criterion("merit"),), size=1, aggregate="mean")
    median_rules = replace(mean_rules, aggregate="median")
    by_mean = compute_shortlist(rules=mean_rules, candidates=candidates, reviews=reviews)
    by_median = compute_shortlist(rules=median_rules, candidates=candidates, reviews=reviews)
    assert [row.application_id for row in by_mean.rows] == [app_id(1), app_id(0)]
    assert by_mean.rows[1].total == D("6.666666666667")
    assert [row.application_id for row in by_median.rows] == [app_id(0), app_id(1)]
    assert by_median.rows[0].total == D(9)


def test_even_median_is_the_mean_of_the_two_middle_scores() -> None:
    reviews = [make_review(0, r, {"merit": s}) for r, s in enumerate((1, 4, 7, 10))]
    rules = ShortlistRules(criteria=(make_criterion("merit"),), aggregate="median")
    result = compute_shortlist(rules=rules, candidates=make_candidates(1), reviews=reviews)
    assert result.rows[0].total == D("5.5")


def test_equal_totals_tie_exactly_with_thirds() -> None:
    """Three criteria weighted 1/3 each (as a 28-digit decimal): A (1, 2, 3) and B (3, 2, 1)
    total exactly 2, and so does C, reviewed three times: x (1 + 1 + 2) / 3 = 4/3, y 2,
    z (3 + 3 + 2) / 3 = 8/3. Only the tie-break chain orders them."""
    third = D(1) / D(3)
    criteria = tuple(Criterion(key=k, weight=third, min=D(0), max=D(10)) for k in ("x", "y", "z"))
    reviews = [
        make_review(0, 0, {"x": 1, "y": 2, "z": 3}),
        make_review(1, 0, {"x": 3, "y": 2, "z": 1}),
        make_review(2, 0, {"x": D(1), "y": D(2), "z": D(3)}),
        make_review(2, 1, {"x": D(1), "y": D(2), "z": D(3)}),
        make_review(2, 2, {"x": D(2), "y": D(2), "z": D(2)}),
    ]
    # Submission order: C first, then B, then A.
    candidates = make_candidates(3, minutes=(30, 20, 10))
    rules = ShortlistRules(criteria=criteria, size=1, tie_break=("submitted_at",))
    result = compute_shortlist(rules=rules, candidates=candidates, reviews=reviews)
    totals = {row.total for row in result.rows}
    assert totals == {D(2)}
    assert [row.application_id for row in result.rows] == [app_id(2), app_id(1), app_id(0)]
    assert all(row.margin == 0 for row in result.rows)
    by_x = compute_shortlist(
        rules=replace(rules, tie_break=("criterion:x", "submitted_at")),
        candidates=candidates,
        reviews=reviews,
    )
    assert [row.application_id for row in by_x.rows] == [app_id(1), app_id(2), app_id(0)]
    by_id = compute_shortlist(
        rules=replace(rules, tie_break=()), candidates=candidates, reviews=reviews
    )
    assert [row.application_id for row in by_id.rows] == [app_id(0), app_id(1), app_id(2)]


def test_none_or_fewer_shortlisted() -> None:
    rules, candidates, reviews = five_bidders()
    nobody = compute_shortlist(rules=replace(rules, size=0), candidates=candidates, reviews=reviews)
    assert nobody.n_shortlisted == 0
    assert nobody.cutoff_total is None
    assert {row.reason for row in nobody.rows} == {Reason.BELOW_CUTOFF}
    assert all(row.margin is None and row.stable for row in nobody.rows)
    everyone = compute_shortlist(
        rules=replace(rules, size=None), candidates=candidates, reviews=reviews
    )
    assert everyone.n_shortlisted == 5
    assert everyone.cutoff_total == D(5)
    assert all(row.margin is None for row in everyone.rows)
    # A bar only B (8.5) clears: fewer than `size` are shortlisted.
    fewer = compute_shortlist(
        rules=replace(rules, min_total=D("8.4")), candidates=candidates, reviews=reviews
    )
    assert [(row.rank, row.reason) for row in fewer.rows[:1]] == [(1, Reason.SHORTLISTED)]
    assert fewer.n_shortlisted == 1
    assert fewer.rows[0].margin is None  # nobody ranked was cut


def test_zscore_calibration_by_hand() -> None:
    """One criterion. Reviewer 0 scores A, B, C 2, 4, 6 (mean 4); reviewer 1 scores them 5, 5, 5
    (no spread); reviewer 2 scores only A, 7 (fewer than 3 reviews: kept raw).

    L   = mean of all seven scores = 34/7, rounded to 6 places: 4.857143
    S^2 = pooled within-reviewer variance of reviewers 0 and 1 = (4 + 0 + 4 + 0) / 6 = 4/3
    reviewer 0: sd^2 = 8/3, so (x - 4) / sd * S = (x - 4) / sqrt(2): A -sqrt(2), B 0, C +sqrt(2),
                sqrt(2) rounded to 6 places = 1.414214
    reviewer 1: no spread, every score becomes L

    A = (4.857143 - 1.414214 + 4.857143 + 7) / 3 = 15.300072 / 3 = 5.100024
    B = 4.857143
    C = (4.857143 + 1.414214 + 4.857143) / 2 = 5.56425
    """
    root2 = Fraction("1.414214")
    level = Fraction("4.857143")
    reviews = [
        *(make_review(app, 0, {"merit": s}) for app, s in enumerate((2, 4, 6))),
        *(make_review(app, 1, {"merit": 5}) for app in range(3)),
        make_review(0, 2, {"merit": 7}),
    ]
    rules = ShortlistRules(criteria=(make_criterion("merit"),), calibration="zscore")
    result = by_app(compute_shortlist(rules=rules, candidates=make_candidates(3), reviews=reviews))
    assert result[app_id(0)].total == r12((level - root2 + level + 7) / 3)
    assert result[app_id(1)].total == r12(level)
    assert result[app_id(2)].total == r12((level + root2 + level) / 2)
    assert result[app_id(0)].total == D("5.100024")
    assert result[app_id(2)].total == D("5.56425")


def calibrated_deviation(deviation: int, n: int, variance: Fraction, ssq: int) -> int:
    """The documented rounding, computed independently: sign(d) * round_half_even(
    sqrt(d^2 * n * V / ssq) * 10**6), with 200 significant digits."""
    square = Fraction(deviation * deviation * n) * variance / ssq
    magnitude = int(r6_sqrt(square).scaleb(6))
    return magnitude if deviation >= 0 else -magnitude


@settings(max_examples=examples(100), deadline=None)
@given(
    st.integers(-(10**9), 10**9),
    st.integers(3, 40),
    st.fractions(min_value=Fraction(1, 10**6), max_value=100, max_denominator=10**6),
    st.integers(1, 10**12),
)
def test_the_calibrated_deviation_is_rounded_exactly(
    deviation: int, n: int, variance: Fraction, ssq: int
) -> None:
    factor = _FixedPointFactor(n, variance, ssq)
    assert factor.rounded([deviation]) == [calibrated_deviation(deviation, n, variance, ssq)]


@pytest.mark.parametrize(
    ("deviation", "expected"), [(1, 0), (3, 2), (5, 2), (-3, -2), (-1, 0), (2, 1), (7, 4)]
)
def test_a_calibrated_deviation_exactly_halfway_rounds_to_even(
    deviation: int, expected: int
) -> None:
    """n * V / ssq = (5 * 10^-7)^2, so d = 1 gives exactly 0.5 * 10^-6: a tie, to even."""
    factor = _FixedPointFactor(4, Fraction(1, 4 * 10**12), 4)
    assert factor.rounded([deviation]) == [expected]


def harsh_round(offset: int) -> tuple[ShortlistRules, list[Candidate], list[ReviewInput]]:
    """Six bidders, three reviewers with four bidders each; reviewer 2 scores ``offset`` lower."""
    assignment = {0: (0, 1, 2, 3), 1: (2, 3, 4, 5), 2: (0, 1, 4, 5)}
    merit = {0: 7, 1: 8, 2: 6, 3: 9, 4: 8, 5: 7}
    reviews = [
        make_review(app, r, {"merit": merit[app] + (r + app) % 2 - (offset if r == 2 else 0)})
        for r, apps in assignment.items()
        for app in apps
    ]
    rules = ShortlistRules(criteria=(make_criterion("merit"),), size=3, calibration="zscore")
    return rules, make_candidates(6), reviews


def test_zscore_removes_a_harsh_reviewers_offset() -> None:
    fair = compute_shortlist(**_kwargs(harsh_round(0)))
    harsh = compute_shortlist(**_kwargs(harsh_round(2)))
    assert _outcomes(harsh) == _outcomes(fair)
    # Without calibration the harsh reviewer's four bidders fall behind.
    raw_fair, raw_harsh = (
        compute_shortlist(**_kwargs(harsh_round(offset), calibration="none")) for offset in (0, 2)
    )
    assert _outcomes(raw_harsh) != _outcomes(raw_fair)


def _kwargs(
    round_: tuple[ShortlistRules, list[Candidate], list[ReviewInput]],
    calibration: Calibration | None = None,
) -> dict[str, Any]:
    rules, candidates, reviews = round_
    if calibration is not None:
        rules = replace(rules, calibration=calibration)
    return {"rules": rules, "candidates": candidates, "reviews": reviews}


def _outcomes(result: ShortlistResult) -> list[tuple[uuid.UUID, int | None, Reason]]:
    return [(row.application_id, row.rank, row.reason) for row in result.rows]


def test_canonical_inputs_and_result_round_trip() -> None:
    rules, candidates, reviews = five_bidders()
    inputs = canonical_inputs(rules=rules, candidates=candidates, reviews=reviews)
    # Equal numbers are spelled once: 7 and 7.00 hash the same.
    respelled = [
        replace(r, scores={k: v.quantize(D("0.01")) for k, v in r.scores.items()})
        for r in reversed(reviews)
    ]
    assert canonical_inputs(rules=rules, candidates=candidates, reviews=respelled) == inputs
    assert inputs["reviews"][0]["scores"] == {"budget": "6", "team": "8", "technical": "8"}
    parsed = inputs_from_canonical(data=inputs)
    again = canonical_inputs(
        rules=parsed.rules, candidates=parsed.candidates, reviews=parsed.reviews
    )
    assert canonical_json(again) == canonical_json(inputs)
    original = compute_shortlist(rules=rules, candidates=candidates, reviews=reviews)
    recomputed = compute_shortlist(
        rules=parsed.rules, candidates=parsed.candidates, reviews=parsed.reviews
    )
    assert recomputed == original
    exported = result_to_dict(result=original)
    assert exported["rows"][0]["total"] == "8.500000000000"
    assert exported["rows"][0]["reason"] == "shortlisted"
    assert exported["cutoff_total"] == "7.000000000000"
    assert canonical_json(result_to_dict(result=recomputed)) == canonical_json(exported)


def test_canonical_inputs_refuse_another_algorithm() -> None:
    rules, candidates, reviews = five_bidders()
    inputs = canonical_inputs(rules=rules, candidates=candidates, reviews=reviews)
    with pytest.raises(ScoringInputError):
        inputs_from_canonical(data={**inputs, "scoring": "shortlist-scoring/0"})


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (
            lambda rules, reviews: (replace(rules, tie_break=("criterion:nope",)), reviews),
            ["shortlist", "tie_break", 0],
        ),
        (lambda rules, reviews: (replace(rules, size=-1), reviews), ["shortlist", "size"]),
        (lambda rules, reviews: (replace(rules, criteria=()), reviews), ["criteria"]),
        (
            lambda rules, reviews: (
                replace(rules, criteria=(make_criterion("x", "0"),)),
                reviews,
            ),
            ["criteria", 0, "weight"],
        ),
        (
            lambda rules, reviews: (rules, [*reviews, make_review(9, 0, reviews[0].scores)]),
            ["reviews", str(app_id(9)), str(reviewer_id(0))],
        ),
        (
            lambda rules, reviews: (rules, [*reviews, reviews[0]]),
            ["reviews", str(app_id(0)), str(reviewer_id(0))],
        ),
        (
            lambda rules, reviews: (
                rules,
                [replace(reviews[0], scores={**reviews[0].scores, "team": D(11)}), *reviews[1:]],
            ),
            ["reviews", str(app_id(0)), str(reviewer_id(0)), "scores", "team"],
        ),
        (
            lambda rules, reviews: (
                rules,
                [
                    replace(reviews[0], scores={**reviews[0].scores, "team": cast(Any, 7.5)}),
                    *reviews[1:],
                ],
            ),
            ["reviews", str(app_id(0)), str(reviewer_id(0)), "scores", "team"],
        ),
        (
            lambda rules, reviews: (
                rules,
                [replace(reviews[0], scores={"team": D(7)}), *reviews[1:]],
            ),
            ["reviews", str(app_id(0)), str(reviewer_id(0)), "scores"],
        ),
        (
            lambda rules, reviews: (
                rules,
                [replace(reviews[0], gates={"extra": "pass"}), *reviews[1:]],
            ),
            ["reviews", str(app_id(0)), str(reviewer_id(0)), "gates"],
        ),
    ],
)
def test_inconsistent_inputs_are_refused_with_every_location(
    change: Callable[[ShortlistRules, list[ReviewInput]], tuple[ShortlistRules, list[ReviewInput]]],
    loc: list[str | int],
) -> None:
    rules, candidates, reviews = five_bidders()
    rules, reviews = change(rules, reviews)
    with pytest.raises(ScoringInputError) as refused:
        compute_shortlist(rules=rules, candidates=candidates, reviews=reviews)
    assert refused.value.status == 422
    assert loc in [error["loc"] for error in refused.value.errors or []]


def test_naive_submission_times_are_refused() -> None:
    rules, candidates, reviews = five_bidders()
    candidates[0] = replace(candidates[0], submitted_at=datetime(2026, 3, 2, 9, 0))
    with pytest.raises(ScoringInputError):
        compute_shortlist(rules=rules, candidates=candidates, reviews=reviews)


# --- the reference: the rules read literally, with fractions --------------------------------


@dataclass(frozen=True)
class Round:
    rules: ShortlistRules
    candidates: tuple[Candidate, ...]
    reviews: tuple[ReviewInput, ...]


@dataclass(frozen=True)
class ReferenceRow:
    rank: int | None
    reason: Reason
    shortlisted: bool
    total: Fraction | None
    criteria: dict[str, Fraction]
    n_reviews: int
    failed_gates: tuple[str, ...]


def reference_values(
    rules: ShortlistRules, reviews: Sequence[ReviewInput], basis: Sequence[ReviewInput]
) -> dict[tuple[uuid.UUID, uuid.UUID], dict[str, Fraction]]:
    """Each review's scores, z-score calibrated against ``basis`` (the whole round) if asked."""
    raw = {
        (r.application_id, r.reviewer_id): {k: Fraction(v) for k, v in r.scores.items()}
        for r in basis
    }
    if rules.calibration == "none" or not basis:
        return {
            (r.application_id, r.reviewer_id): raw[(r.application_id, r.reviewer_id)]
            for r in reviews
        }
    mine: dict[uuid.UUID, list[dict[str, Fraction]]] = {}
    for r in basis:
        mine.setdefault(r.reviewer_id, []).append(raw[(r.application_id, r.reviewer_id)])
    calibrated = {rid: scores for rid, scores in mine.items() if len(scores) >= 3}
    values: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Fraction]] = {}
    for r in reviews:
        values[(r.application_id, r.reviewer_id)] = {}
    for c in rules.criteria:
        level = Fraction(rounded(sum((s[c.key] for s in raw.values()), Fraction(0)) / len(raw), 6))
        squares = Fraction(0)
        for scores in calibrated.values():
            mu = sum((s[c.key] for s in scores), Fraction(0)) / len(scores)
            squares += sum(((s[c.key] - mu) ** 2 for s in scores), Fraction(0))
        pooled = squares / sum(len(s) for s in calibrated.values()) if calibrated else Fraction(0)
        for r in reviews:
            x = raw[(r.application_id, r.reviewer_id)][c.key]
            if r.reviewer_id not in calibrated:
                value = x
            else:
                scores = calibrated[r.reviewer_id]
                mu = sum((s[c.key] for s in scores), Fraction(0)) / len(scores)
                variance = sum(((s[c.key] - mu) ** 2 for s in scores), Fraction(0)) / len(scores)
                if variance == 0:
                    value = level
                else:
                    step = Fraction(r6_sqrt((x - mu) ** 2 * pooled / variance))
                    value = level + (step if x >= mu else -step)
            values[(r.application_id, r.reviewer_id)][c.key] = value
    return values


def r6_sqrt(square: Fraction) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 120
        root = (D(square.numerator) / D(square.denominator)).sqrt()
        return root.quantize(D("1E-6"), rounding=ROUND_HALF_EVEN)


def reference(
    rules: ShortlistRules,
    candidates: Sequence[Candidate],
    reviews: Sequence[ReviewInput],
    basis: Sequence[ReviewInput] | None = None,
) -> dict[uuid.UUID, ReferenceRow]:
    values = reference_values(rules, reviews, reviews if basis is None else basis)
    submitted = {c.application_id: c.submitted_at for c in candidates}
    evaluated: dict[
        uuid.UUID, tuple[Reason | None, Fraction | None, dict[str, Fraction], int, tuple[str, ...]]
    ] = {}
    for cand in candidates:
        mine = [r for r in reviews if r.application_id == cand.application_id]
        n = len(mine)
        if n == 0:
            evaluated[cand.application_id] = (Reason.BELOW_THRESHOLD, None, {}, 0, ())
            continue
        failed = tuple(
            sorted(g for g in rules.gates if 2 * sum(r.gates[g] == "fail" for r in mine) > n)
        )
        aggregate: Callable[[list[Fraction]], Fraction] = (
            (lambda xs: sum(xs, Fraction(0)) / len(xs))
            if rules.aggregate == "mean"
            else (lambda xs: Fraction(statistics.median(xs)))
        )
        aggregates = {
            c.key: aggregate([values[(r.application_id, r.reviewer_id)][c.key] for r in mine])
            for c in rules.criteria
        }
        total = sum(
            (Fraction(c.weight) * aggregates[c.key] for c in rules.criteria), Fraction(0)
        ) / sum(Fraction(c.weight) for c in rules.criteria)
        reason: Reason | None = None
        if failed:
            reason = Reason.GATE_FAILED
        elif any(
            c.threshold is not None and aggregates[c.key] < c.threshold for c in rules.criteria
        ):
            reason = Reason.BELOW_THRESHOLD
        elif rules.min_total is not None and total < rules.min_total:
            reason = Reason.BELOW_MIN_TOTAL
        evaluated[cand.application_id] = (reason, total, aggregates, n, failed)

    def compare(a: uuid.UUID, b: uuid.UUID) -> int:
        ta, tb = evaluated[a][1], evaluated[b][1]
        assert ta is not None
        assert tb is not None
        if ta != tb:
            return -1 if ta > tb else 1
        for item in rules.tie_break:
            if item.startswith("criterion:"):
                xa, xb = evaluated[a][2][item[10:]], evaluated[b][2][item[10:]]
                if xa != xb:
                    return -1 if xa > xb else 1
            elif item == "submitted_at" and submitted[a] != submitted[b]:
                return -1 if submitted[a] < submitted[b] else 1
            elif item == "id" and a != b:
                return -1 if str(a) < str(b) else 1
        return -1 if str(a) < str(b) else (1 if str(a) > str(b) else 0)

    ranked = sorted(
        (x for x, e in evaluated.items() if e[0] is None), key=functools.cmp_to_key(compare)
    )
    size = len(ranked) if rules.size is None else rules.size
    rows = {}
    for x, (why, value, aggs, count, failed_gates) in evaluated.items():
        rank = ranked.index(x) + 1 if x in ranked else None
        shortlisted = rank is not None and rank <= size
        if rank is not None:
            why = Reason.SHORTLISTED if shortlisted else Reason.BELOW_CUTOFF
        assert why is not None
        rows[x] = ReferenceRow(rank, why, shortlisted, value, aggs, count, failed_gates)
    return rows


def without(reviews: Iterable[ReviewInput], reviewer: uuid.UUID) -> list[ReviewInput]:
    return [r for r in reviews if r.reviewer_id != reviewer]


def leave_one_reviewer_out(
    rules: ShortlistRules,
    candidates: list[Candidate],
    reviews: list[ReviewInput],
    result: ShortlistResult,
    n_reviewers: int,
) -> dict[uuid.UUID, bool]:
    """Each application's stability by brute force: whether it stays on its side of the cut
    when any one of reviewers 0 .. n_reviewers - 1 is left out."""
    base = {row.application_id: row.shortlisted for row in result.rows}
    stable = dict.fromkeys(base, True)
    for r in range(n_reviewers):
        scenario = compute_shortlist(
            rules=rules, candidates=candidates, reviews=without(reviews, reviewer_id(r))
        )
        for row in scenario.rows:
            if row.shortlisted != base[row.application_id]:
                stable[row.application_id] = False
    return stable


def naive_stability(round_: Round) -> dict[uuid.UUID, bool]:
    """Leave each reviewer out in turn and re-rank everything from scratch."""
    rules, candidates, reviews = round_.rules, round_.candidates, round_.reviews
    base = reference(rules, candidates, reviews)
    stable = dict.fromkeys(base, True)
    for rid in {r.reviewer_id for r in reviews}:
        scenario = reference(rules, candidates, without(reviews, rid), basis=reviews)
        for x, row in scenario.items():
            if row.shortlisted != base[x].shortlisted:
                stable[x] = False
    return stable


# --- random rounds --------------------------------------------------------------------------

WEIGHTS = (D(1), D(2), D(3), D("0.5"), D(1) / D(3))
AGGREGATES: tuple[Aggregate, ...] = ("mean", "median")
CALIBRATIONS: tuple[Calibration, ...] = ("none", "zscore")
VERDICTS: tuple[GateVerdict, ...] = ("pass", "pass", "fail")

# Strategies are built once: building them inside a draw costs more than the draw.
WEIGHT = st.sampled_from(WEIGHTS)
THRESHOLD = st.none() | st.integers(1, 6).map(D)
MIN_TOTAL = st.none() | st.integers(2, 7).map(D)
AGGREGATE = st.sampled_from(AGGREGATES)
CALIBRATION = st.sampled_from(CALIBRATIONS)
HALF_POINTS = st.integers(0, 20).map(lambda half_points: D(half_points) / 2)
HIGH_HALF_POINTS = st.integers(6, 20).map(lambda half_points: D(half_points) / 2)
EXTREME_SCORE = st.sampled_from((0, 1, 5, 9, 10))
VERDICT = st.sampled_from(VERDICTS)
MINUTE = st.integers(0, 2)
REVIEWED = st.integers(0, 3).map(bool)  # three times in four


def draw_criteria(draw: st.DrawFn, *, thresholds: bool = True) -> tuple[Criterion, ...]:
    return tuple(
        Criterion(
            key=f"c{i}",
            weight=draw(WEIGHT),
            min=D(0),
            max=D(10),
            threshold=draw(THRESHOLD) if thresholds else None,
        )
        for i in range(draw(st.integers(1, 3)))
    )


@st.composite
def rounds(
    draw: st.DrawFn, *, calibration: Calibration | None = None, aggregate: Aggregate | None = None
) -> Round:
    criteria = draw_criteria(draw)
    keys = [c.key for c in criteria]
    gates = ("g0", "g1")[: draw(st.integers(0, 2))]
    n_apps = draw(st.integers(1, 7))
    n_reviewers = draw(st.integers(1, 5))
    tie_items = [*(f"criterion:{k}" for k in keys), "submitted_at", "id"]
    rules = ShortlistRules(
        criteria=criteria,
        gates=gates,
        size=draw(st.none() | st.integers(0, n_apps + 1)),
        min_total=draw(MIN_TOTAL),
        aggregate=draw(AGGREGATE) if aggregate is None else aggregate,
        calibration=draw(CALIBRATION) if calibration is None else calibration,
        tie_break=tuple(draw(st.permutations(tie_items))[: draw(st.integers(0, 3))]),
    )
    candidates = tuple(
        Candidate(application_id=app_id(n), submitted_at=T0 + timedelta(minutes=draw(MINUTE)))
        for n in range(n_apps)
    )
    reviews = tuple(
        ReviewInput(
            application_id=app_id(a),
            reviewer_id=reviewer_id(r),
            scores={k: draw(HALF_POINTS) for k in keys},
            gates={g: draw(VERDICT) for g in gates},
        )
        for a in range(n_apps)
        for r in range(n_reviewers)
        if draw(REVIEWED)
    )
    return Round(rules, candidates, reviews)


def assert_matches_reference(round_: Round, result: ShortlistResult) -> None:
    expected = reference(round_.rules, round_.candidates, round_.reviews)
    ranked = sorted(
        (x for x, e in expected.items() if e.rank is not None), key=lambda x: expected[x].rank or 0
    )
    unranked = sorted((x for x, e in expected.items() if e.rank is None), key=str)
    assert [row.application_id for row in result.rows] == ranked + unranked
    shortlisted_totals = [expected[x].total for x in ranked if expected[x].shortlisted]
    cut_totals = [expected[x].total for x in ranked if not expected[x].shortlisted]
    last_in = (
        r12(shortlisted_totals[-1])
        if shortlisted_totals and shortlisted_totals[-1] is not None
        else None
    )
    first_out = r12(cut_totals[0]) if cut_totals and cut_totals[0] is not None else None
    assert result.cutoff_total == last_in
    for row in result.rows:
        e = expected[row.application_id]
        assert (row.rank, row.reason, row.shortlisted) == (e.rank, e.reason, e.shortlisted)
        assert row.n_reviews == e.n_reviews
        assert row.failed_gates == e.failed_gates
        assert row.gates_passed == (not e.failed_gates)
        assert row.total == (None if e.total is None else r12(e.total))
        assert row.criteria == {k: r12(v) for k, v in e.criteria.items()}
        if row.reason is Reason.SHORTLISTED:
            assert row.total is not None
            assert row.margin == (None if first_out is None else row.total - first_out)
        elif row.reason is Reason.BELOW_CUTOFF:
            assert row.total is not None
            assert row.margin == (None if last_in is None else last_in - row.total)
        else:
            assert row.margin is None
    assert result.n_rows == len(expected)
    assert result.n_shortlisted == len(shortlisted_totals)


@settings(max_examples=examples(100), deadline=None)
@given(rounds())
def test_matches_the_reference_and_the_naive_leave_one_out(round_: Round) -> None:
    result = compute_shortlist(
        rules=round_.rules, candidates=round_.candidates, reviews=round_.reviews
    )
    assert_matches_reference(round_, result)
    stable = naive_stability(round_)
    assert {row.application_id: row.stable for row in result.rows} == stable
    assert result.n_stable == sum(stable.values())


@settings(max_examples=examples(40), deadline=None)
@given(rounds(calibration="none"))
def test_leave_one_out_is_the_public_function_without_that_reviewer(round_: Round) -> None:
    result = compute_shortlist(
        rules=round_.rules, candidates=round_.candidates, reviews=round_.reviews
    )
    stable = {row.application_id: True for row in result.rows}
    base = {row.application_id: row.shortlisted for row in result.rows}
    for rid in {r.reviewer_id for r in round_.reviews}:
        scenario = compute_shortlist(
            rules=round_.rules,
            candidates=round_.candidates,
            reviews=without(round_.reviews, rid),
        )
        for row in scenario.rows:
            if row.shortlisted != base[row.application_id]:
                stable[row.application_id] = False
    assert {row.application_id: row.stable for row in result.rows} == stable


@pytest.mark.parametrize(
    ("reviews", "stable"),
    [
        # A (0) is kept. Without reviewer 0 it has no review left: nobody is kept. Without
        # reviewer 1 or 2, B passes its gate (one fail of two) and ties A at 0: A wins on id.
        (
            [
                make_review(0, 0, {"merit": 0}, g="pass"),
                make_review(1, 0, {"merit": 0}, g="pass"),
                make_review(1, 1, {"merit": 0}, g="fail"),
                make_review(1, 2, {"merit": 0}, g="fail"),
            ],
            [False, True],
        ),
        # B (0 and 1: 0.5) is kept over C (0). Without reviewer 1, B falls to 0 and ties C:
        # B still wins on id. A, never reviewed, is never kept.
        (
            [
                make_review(1, 0, {"merit": 0}, g="pass"),
                make_review(1, 1, {"merit": 1}, g="pass"),
                make_review(2, 2, {"merit": 0}, g="pass"),
            ],
            [True, True, True],
        ),
    ],
)
def test_leave_one_out_ties_at_the_cut_are_settled_by_the_chain(
    reviews: list[ReviewInput], stable: list[bool]
) -> None:
    rules = ShortlistRules(criteria=(make_criterion("merit"),), gates=("g",), size=1)
    result = compute_shortlist(
        rules=rules, candidates=make_candidates(len(stable)), reviews=reviews
    )
    assert [by_app(result)[app_id(n)].stable for n in range(len(stable))] == stable


@st.composite
def swinging_rounds(draw: st.DrawFn) -> Round:
    """Few reviewers who each see most bidders and score to extremes, so that leaving one out
    moves many rows at once, up or down, across the cut-off."""
    n_apps = draw(st.integers(2, 10))
    n_reviewers = draw(st.integers(2, 4))
    rules = ShortlistRules(
        criteria=(make_criterion("merit"),),
        gates=("g",),
        size=draw(st.integers(1, n_apps)),
        aggregate=draw(AGGREGATE),
        tie_break=draw(st.sampled_from(((), ("submitted_at",), ("criterion:merit",)))),
    )
    reviews = tuple(
        make_review(
            a,
            r,
            {"merit": draw(EXTREME_SCORE)},
            g=draw(VERDICT),
        )
        for a in range(n_apps)
        for r in range(n_reviewers)
        if draw(st.integers(0, 4)) > 0
    )
    candidates = make_candidates(n_apps, minutes=[draw(st.integers(0, 1)) for _ in range(n_apps)])
    return Round(rules, tuple(candidates), reviews)


@settings(max_examples=examples(100), deadline=None)
@given(swinging_rounds())
def test_leave_one_out_when_a_reviewer_moves_many_rows(round_: Round) -> None:
    result = compute_shortlist(
        rules=round_.rules, candidates=round_.candidates, reviews=round_.reviews
    )
    base = {row.application_id: row.shortlisted for row in result.rows}
    stable = dict.fromkeys(base, True)
    for rid in {r.reviewer_id for r in round_.reviews}:
        scenario = compute_shortlist(
            rules=round_.rules,
            candidates=round_.candidates,
            reviews=without(round_.reviews, rid),
        )
        for row in scenario.rows:
            if row.shortlisted != base[row.application_id]:
                stable[row.application_id] = False
    assert {row.application_id: row.stable for row in result.rows} == stable


@settings(max_examples=examples(40), deadline=None)
@given(rounds(), st.randoms(use_true_random=False))
def test_any_order_gives_the_same_result(round_: Round, rnd: random.Random) -> None:
    def shuffled(items: Iterable[Any]) -> list[Any]:
        out = list(items)
        rnd.shuffle(out)
        return out

    rules = replace(
        round_.rules,
        criteria=tuple(shuffled(round_.rules.criteria)),
        gates=tuple(shuffled(round_.rules.gates)),
    )
    reviews = [
        replace(
            r,
            scores=dict(shuffled(r.scores.items())),
            gates=dict(shuffled(r.gates.items())),
        )
        for r in shuffled(round_.reviews)
    ]
    candidates = shuffled(round_.candidates)
    first = compute_shortlist(
        rules=round_.rules, candidates=round_.candidates, reviews=round_.reviews
    )
    second = compute_shortlist(rules=rules, candidates=candidates, reviews=reviews)
    assert second == first
    assert canonical_json(result_to_dict(result=second)) == canonical_json(
        result_to_dict(result=first)
    )

    def inputs_hash(**kwargs: Any) -> str:
        return hashlib.sha256(canonical_json(canonical_inputs(**kwargs))).hexdigest()

    assert inputs_hash(rules=rules, candidates=candidates, reviews=reviews) == inputs_hash(
        rules=round_.rules, candidates=round_.candidates, reviews=round_.reviews
    )


@settings(max_examples=examples(60), deadline=None)
@given(rounds(calibration="none"), st.data())
def test_raising_an_applications_scores_never_lowers_its_rank(
    round_: Round, data: st.DataObject
) -> None:
    """Without calibration (with it, one score moves the reviewer's scale for everyone)."""
    mine = [i for i, r in enumerate(round_.reviews) if r.application_id == app_id(0)]
    raise_in = set(data.draw(st.lists(st.sampled_from(mine), min_size=1))) if mine else set()
    bump = data.draw(st.sampled_from((D("0.5"), D(1), D(3))))
    raised = [
        replace(r, scores={k: min(v + bump, D(10)) for k, v in r.scores.items()})
        if i in raise_in
        else r
        for i, r in enumerate(round_.reviews)
    ]
    before = by_app(
        compute_shortlist(rules=round_.rules, candidates=round_.candidates, reviews=round_.reviews)
    )[app_id(0)]
    after = by_app(
        compute_shortlist(rules=round_.rules, candidates=round_.candidates, reviews=raised)
    )[app_id(0)]
    if before.rank is not None:
        assert after.rank is not None
        assert after.rank <= before.rank
    if before.shortlisted:
        assert after.shortlisted
    if before.total is not None:
        assert after.total is not None
        assert after.total >= before.total


@settings(max_examples=examples(60), deadline=None)
@given(rounds())
def test_gate_threshold_and_size_rules_hold(round_: Round) -> None:
    rules = round_.rules
    result = compute_shortlist(rules=rules, candidates=round_.candidates, reviews=round_.reviews)
    for row in result.rows:
        mine = [r for r in round_.reviews if r.application_id == row.application_id]
        majority_fails = [
            g
            for g in sorted(rules.gates)
            if 2 * sum(r.gates[g] == "fail" for r in mine) > len(mine)
        ]
        assert row.failed_gates == tuple(majority_fails)
        assert (row.reason is Reason.GATE_FAILED) == bool(majority_fails)
        below = [
            c.key
            for c in rules.criteria
            if c.threshold is not None
            and c.key in row.criteria
            and row.criteria[c.key] < c.threshold
        ]
        if row.reason is Reason.BELOW_THRESHOLD:
            assert row.n_reviews == 0 or below
        if row.reason in (Reason.SHORTLISTED, Reason.BELOW_CUTOFF):
            assert row.rank is not None
            assert not below
            assert row.gates_passed
            assert row.total is not None
            assert rules.min_total is None or row.total >= rules.min_total
        else:
            assert row.rank is None
            assert not row.shortlisted
    ranked = [row for row in result.rows if row.rank is not None]
    assert [row.rank for row in ranked] == list(range(1, len(ranked) + 1))
    totals = [row.total for row in ranked if row.total is not None]
    assert len(totals) == len(ranked)
    assert totals == sorted(totals, reverse=True)
    expected = len(ranked) if rules.size is None else min(rules.size, len(ranked))
    assert [row.shortlisted for row in ranked] == [True] * expected + [False] * (
        len(ranked) - expected
    )
    assert result.n_shortlisted == expected


@st.composite
def calibrated_rounds(draw: st.DrawFn) -> tuple[Round, int, int]:
    """Every reviewer reviews at least 3 applications, scoring 3 or more; one of them will be
    made harsh. No threshold or min_total: those are absolute, and the round mean moves."""
    criteria = draw_criteria(draw, thresholds=False)
    gates = ("g0",)[: draw(st.integers(0, 1))]
    n_apps = draw(st.integers(3, 7))
    n_reviewers = draw(st.integers(2, 4))
    reviews = [
        ReviewInput(
            application_id=app_id(a),
            reviewer_id=reviewer_id(r),
            scores={c.key: draw(HIGH_HALF_POINTS) for c in criteria},
            gates={g: draw(VERDICT) for g in gates},
        )
        for r in range(n_reviewers)
        for a in draw(
            st.lists(st.integers(0, n_apps - 1), min_size=3, max_size=n_apps, unique=True)
        )
    ]
    rules = ShortlistRules(
        criteria=criteria,
        gates=gates,
        size=draw(st.none() | st.integers(0, n_apps)),
        aggregate=draw(AGGREGATE),
        calibration="zscore",
        tie_break=draw(st.sampled_from(((), ("submitted_at",), ("criterion:c0", "id")))),
    )
    candidates = tuple(
        Candidate(application_id=app_id(n), submitted_at=T0 + timedelta(minutes=n % 2))
        for n in range(n_apps)
    )
    harsh = draw(st.integers(0, n_reviewers - 1))
    offset = draw(st.integers(1, 3))
    return Round(rules, candidates, tuple(reviews)), harsh, offset


@settings(max_examples=examples(60), deadline=None)
@given(calibrated_rounds())
def test_zscore_removes_a_constant_offset_of_one_reviewer(case: tuple[Round, int, int]) -> None:
    round_, harsh, offset = case
    lowered = [
        replace(r, scores={k: v - offset for k, v in r.scores.items()})
        if r.reviewer_id == reviewer_id(harsh)
        else r
        for r in round_.reviews
    ]
    fair = compute_shortlist(
        rules=round_.rules, candidates=round_.candidates, reviews=round_.reviews
    )
    harsher = compute_shortlist(rules=round_.rules, candidates=round_.candidates, reviews=lowered)
    assert [(row.application_id, row.rank, row.reason, row.stable) for row in harsher.rows] == [
        (row.application_id, row.rank, row.reason, row.stable) for row in fair.rows
    ]
    # Every calibrated score moved by the same amount, so every total did (up to the last digit
    # of the published rounding).
    shifts = {
        h.total - f.total
        for h, f in zip(harsher.rows, fair.rows, strict=True)
        if h.total is not None and f.total is not None
    }
    assert max(shifts, default=D(0)) - min(shifts, default=D(0)) <= D("1E-12")


def test_one_reviewer_can_push_rows_two_places_out() -> None:
    """Reviewer 9 alone scored X (4) and Y (3) low. Size 3.

    with everyone      A 9, B 8, U 7 | X 6.5, Y 6
    without reviewer 9 A 9, X 9, Y 9 | B 8, U 7     (equal nines ordered by id)
    without 0 or 1     the same three are kept

    B and U, which reviewer 9 never saw, drop two places and out: only A is stable."""
    reviews = [
        *(make_review(0, r, {"merit": 9}) for r in (0, 1)),
        *(make_review(1, r, {"merit": 8}) for r in (0, 1)),
        *(make_review(2, r, {"merit": 7}) for r in (0, 1)),
        make_review(3, 0, {"merit": 9}),
        make_review(3, 9, {"merit": 4}),
        make_review(4, 1, {"merit": 9}),
        make_review(4, 9, {"merit": 3}),
    ]
    rules = ShortlistRules(criteria=(make_criterion("merit"),), size=3)
    result = compute_shortlist(rules=rules, candidates=make_candidates(5), reviews=reviews)
    assert [row.application_id for row in result.rows if row.shortlisted] == [
        app_id(0),
        app_id(1),
        app_id(2),
    ]
    assert [row.application_id for row in result.rows if row.stable] == [app_id(0)]


@pytest.mark.parametrize(
    ("n_apps", "n_reviewers", "per_app", "aggregate", "calibration"),
    [
        (200, 30, (1, 4), "mean", "none"),
        (80, 6, (2, 5), "median", "none"),
        (30, 4, (3, 4), "mean", "zscore"),
        (30, 4, (1, 4), "median", "zscore"),
    ],
)
def test_leave_one_out_on_larger_rounds_matches_a_full_recompute(
    n_apps: int,
    n_reviewers: int,
    per_app: tuple[int, int],
    aggregate: Aggregate,
    calibration: Calibration,
) -> None:
    """Scores on a coarse scale so that many totals tie around the cut-off, and few reviewers
    each seeing many bidders, so that leaving one out moves rows many places."""
    rnd = random.Random(n_apps * 31 + n_reviewers)
    keys = ("a", "b", "c")
    rules = ShortlistRules(
        criteria=tuple(make_criterion(k, str(w)) for k, w in zip(keys, (1, 2, 1), strict=True)),
        gates=("g",),
        size=n_apps // 3,
        tie_break=("criterion:b",),
        aggregate=aggregate,
        calibration=calibration,
    )
    reviews = [
        make_review(
            app,
            r,
            {k: rnd.randint(3, 6) for k in keys},
            g="fail" if rnd.random() < 0.1 else "pass",
        )
        for app in range(n_apps)
        for r in rnd.sample(range(n_reviewers), rnd.randint(*per_app))
    ]
    candidates = make_candidates(n_apps, minutes=[rnd.randint(0, 5) for _ in range(n_apps)])
    result = compute_shortlist(rules=rules, candidates=candidates, reviews=reviews)
    if calibration == "zscore":
        stable = naive_stability(Round(rules, tuple(candidates), tuple(reviews)))
    else:
        stable = leave_one_reviewer_out(rules, candidates, reviews, result, n_reviewers)
    assert {row.application_id: row.stable for row in result.rows} == stable
    assert 0 < result.n_stable < n_apps


@pytest.mark.parametrize("size", [1, 40, 119, 120, 200])
def test_leave_one_out_settled_by_totals_matches_a_full_recompute(
    size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mean's shortcut (a reviewer whose rows all keep their side of the cut-off by their
    totals changes nothing) with a threshold, ``min_total`` and a gate in play, totals tied
    at the cut-off, and as many shortlist places as ranked rows or more: both the settled and
    the exact path are taken, and the result is that of leaving each reviewer out in turn."""
    rnd = random.Random(size)
    keys = ("a", "b", "c")
    rules = ShortlistRules(
        criteria=(
            make_criterion("a", "2"),
            make_criterion("b", "1", threshold="3.5"),
            make_criterion("c", "0.5"),
        ),
        gates=("g",),
        size=size,
        min_total=D("3.75"),
        tie_break=("criterion:a",),
    )
    n_apps, n_reviewers = 160, 40
    reviews = [
        make_review(
            app,
            r,
            {k: D(rnd.randint(6, 14)) / 2 for k in keys},
            g="fail" if rnd.random() < 0.15 else "pass",
        )
        for app in range(n_apps)
        for r in rnd.sample(range(n_reviewers), rnd.randint(1, 4))
    ]
    candidates = make_candidates(n_apps, minutes=[rnd.randint(0, 3) for _ in range(n_apps)])
    settled: list[bool] = []
    sides_kept = scoring._sides_kept

    def counted(*args: Any) -> bool:
        settled.append(sides_kept(*args))
        return settled[-1]

    monkeypatch.setattr(scoring, "_sides_kept", counted)
    result = compute_shortlist(rules=rules, candidates=candidates, reviews=reviews)
    monkeypatch.undo()
    stable = leave_one_reviewer_out(rules, candidates, reviews, result, n_reviewers)
    assert {row.application_id: row.stable for row in result.rows} == stable
    assert 0 < result.n_stable < n_apps
    n_ranked = sum(1 for row in result.rows if row.rank is not None)
    if size <= n_ranked:
        assert any(settled)
        assert not all(settled)
    else:
        assert not settled  # fewer ranked rows than places: the exact path only
