"""Preparation (``reviewers.decision.validation``): every rule of the rules and every
inconsistency of the inputs is refused with its location, all of them at once, before anything
is computed; what is accepted is put in canonical order."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import pytest

from reviewers.decision import (
    Candidate,
    Criterion,
    ReviewInput,
    ScoringInputError,
    ShortlistRules,
    compute_shortlist,
)
from reviewers.decision.validation import prepare

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
D = Decimal
A1, A2 = uuid.UUID(int=0xA001), uuid.UUID(int=0xA002)
R1, R2 = uuid.UUID(int=0xB001), uuid.UUID(int=0xB002)


def criterion(key: str, **changes: Any) -> Criterion:
    return replace(Criterion(key=key, weight=D(1), min=D(0), max=D(10)), **changes)


RULES = ShortlistRules(
    criteria=(criterion("team"), criterion("impact", weight=D(2), threshold=D(3))),
    gates=("legal",),
    size=1,
    tie_break=("criterion:impact", "submitted_at", "id"),
)


def review(app: uuid.UUID, reviewer: uuid.UUID, impact: Any = 5, team: Any = 5) -> ReviewInput:
    return ReviewInput(
        application_id=app,
        reviewer_id=reviewer,
        scores={"impact": D(impact) if isinstance(impact, int) else impact, "team": D(team)},
        gates={"legal": "pass"},
    )


CANDIDATES = [Candidate(application_id=A1, submitted_at=T0)]


def problems(rules: ShortlistRules, candidates: Any = None, reviews: Any = None) -> list[Any]:
    with pytest.raises(ScoringInputError) as refused:
        compute_shortlist(
            rules=rules,
            candidates=CANDIDATES if candidates is None else candidates,
            reviews=[review(A1, R1)] if reviews is None else reviews,
        )
    return [(e["loc"], e["msg"]) for e in refused.value.errors or []]


@pytest.mark.parametrize(
    ("rules", "loc"),
    [
        (replace(RULES, criteria=(criterion("a"), criterion("a"))), ["criteria", 1, "key"]),
        (replace(RULES, criteria=(criterion(""),)), ["criteria", 0, "key"]),
        (replace(RULES, criteria=(criterion("a", weight=D(-1)),)), ["criteria", 0, "weight"]),
        (
            replace(RULES, criteria=(criterion("a", weight=D("Infinity")),)),
            ["criteria", 0, "weight"],
        ),
        (replace(RULES, criteria=(criterion("a", min=D(5), max=D(5)),)), ["criteria", 0, "min"]),
        (
            replace(RULES, criteria=(criterion("a", threshold=D(11)),)),
            ["criteria", 0, "threshold"],
        ),
        (replace(RULES, gates=("legal", "legal")), ["gates"]),
        (replace(RULES, gates=("",)), ["gates"]),
        (replace(RULES, size=cast(Any, True)), ["shortlist", "size"]),
        (replace(RULES, size=cast(Any, 1.5)), ["shortlist", "size"]),
        (replace(RULES, min_total=D("NaN")), ["shortlist", "min_total"]),
        (replace(RULES, aggregate=cast(Any, "mode")), ["shortlist", "aggregate"]),
        (replace(RULES, calibration=cast(Any, "rank")), ["shortlist", "calibration"]),
        (replace(RULES, tie_break=("id", "id")), ["shortlist", "tie_break"]),
        (replace(RULES, tie_break=("criterion:charm",)), ["shortlist", "tie_break", 0]),
        (replace(RULES, tie_break=("random",)), ["shortlist", "tie_break", 0]),
    ],
)
def test_each_broken_rule_is_located(rules: ShortlistRules, loc: list[Any]) -> None:
    found = problems(rules)
    assert loc in [location for location, _ in found], found


def test_every_broken_rule_is_reported_at_once() -> None:
    broken = replace(
        RULES,
        criteria=(criterion("a", weight=D(0)), criterion("a")),
        size=-2,
        tie_break=("nope",),
    )
    assert [loc for loc, _ in problems(broken)] == [
        ["criteria", 0, "weight"],
        ["criteria", 1, "key"],
        ["shortlist", "size"],
        ["shortlist", "tie_break", 0],
    ]


def test_applications_must_be_distinct_and_timezone_aware() -> None:
    found = problems(
        RULES,
        candidates=[
            Candidate(application_id=A1, submitted_at=T0),
            Candidate(application_id=A1, submitted_at=T0),
            Candidate(application_id=A2, submitted_at=datetime(2026, 3, 2, 9, 0)),
        ],
        reviews=[],
    )
    assert found == [
        (["applications", str(A1)], "duplicate application"),
        (["applications", str(A2), "submitted_at"], "submitted_at must be timezone-aware"),
    ]


@pytest.mark.parametrize(
    ("score", "message"),
    [
        (D("NaN"), "Decimal('NaN') is not a finite decimal"),
        (D("sNaN"), "Decimal('sNaN') is not a finite decimal"),
        (D("Infinity"), "Decimal('Infinity') is not a finite decimal"),
        (D("10.0001"), "10.0001 is outside [0, 10]"),
        (D("-0.5"), "-0.5 is outside [0, 10]"),
    ],
)
def test_a_score_that_is_not_finite_or_out_of_range_is_located(
    score: Decimal, message: str
) -> None:
    found = problems(RULES, reviews=[review(A1, R1, impact=score)])
    assert found == [(["reviews", str(A1), str(R1), "scores", "impact"], message)]


def test_a_gate_verdict_is_pass_or_fail() -> None:
    bad = replace(review(A1, R1), gates={"legal": cast(Any, "maybe")})
    assert problems(RULES, reviews=[bad, review(A1, R2)]) == [
        (["reviews", str(A1), str(R1), "gates", "legal"], "a gate verdict is 'pass' or 'fail'")
    ]


def test_the_prepared_inputs_are_in_canonical_order_and_exact() -> None:
    rules = replace(RULES, criteria=(criterion("team", weight=D("0.5")), criterion("impact")))
    prep = prepare(
        rules,
        [
            Candidate(application_id=A2, submitted_at=T0),
            Candidate(application_id=A1, submitted_at=T0),
        ],
        [
            review(A2, R2, impact=D("7.25")),
            review(A1, R2),
            review(A2, R1),
        ],
    )
    assert prep.criterion_keys == ("impact", "team")
    assert prep.weights == (10, 5)  # 1 and 0.5 over a common 10**1
    assert prep.application_ids == (A1, A2)
    assert prep.app_reviews == ((0,), (1, 2))
    assert prep.review_values[2] == (725, 500)  # 7.25 and 5 over 10**2
    assert prep.reviewer_reviews == ((1,), (0, 2))  # by reviewer id: R1's, then R2's
