"""The shortlisting core: from a round's rules, its submitted applications and their submitted
reviews to a ranked, explained and stability-checked result. Plain values in, plain values out.

The rules, in the order API.md gives them ("Closing and results"):

1. Gates. An application fails a gate when strictly more than half of its reviews mark that gate
   ``fail``; failing any gate makes the row ``gate_failed``. The gates are counted one by one, so an
   applicant can always be told which gate a majority of its reviewers failed (``failed_gates``).
2. Thresholds. A criterion's aggregate strictly below that criterion's ``threshold`` makes the row
   ``below_threshold`` (equal to the threshold passes).
3. ``min_total``. A total strictly below it makes the row ``below_min_total``.
4. The rest are ranked by ``total = sum(weight x aggregate) / sum(weight)`` over the criteria, best
   first; equal totals are ordered by the ``tie_break`` chain (``criterion:<key>``: higher aggregate
   first; ``submitted_at``: earlier first; ``id``: smaller UUID first, i.e. its canonical string or
   128-bit value ascending), and by id when the chain is exhausted, so ranks are always 1..n without
   gaps or shared ranks. The first ``size`` ranked rows are ``shortlisted`` (``None``: all of them,
   ``0``: none), the others ``below_cutoff``.

Rows failing rule 1, 2 or 3 have ``rank`` and ``margin`` ``None`` but still show their ``total`` and
``criteria`` so the applicant and the panel can see how far off they were.

An application without any submitted review (a close with ``allow_missing_reviews``) cannot be
ranked: nobody assessed it, so it cannot be shown to meet the scoring bar. Its row has
``n_reviews == 0``, ``total`` ``None``, empty ``criteria`` and reason ``below_threshold`` (an absent
aggregate meets no threshold, whether or not one is configured). Its ``gates_passed`` is ``True``
because rule 1 (a majority *failing* a gate) did not fire; ``n_reviews == 0`` is the flag to show.

Exactness. Every score, weight, threshold and ``min_total`` is a ``Decimal`` and is used exactly.
Aggregates (``mean`` of the reviews, or ``median``: the middle score, or the mean of the two middle
scores for an even count) and totals are exact rational numbers, held as integers over a common
denominator; every comparison (gates, thresholds, ``min_total``, ranking, tie-breaks) is made on the
exact values, so totals that are mathematically equal tie whatever the weights (1/3 included), and
totals that differ never tie. Published values (``total``, ``criteria``, ``cutoff_total``) are the
exact values rounded half-to-even to ``PLACES`` (12) decimal places; ``margin`` is the difference of
two published totals. (Two published totals can only be equal while the exact ones differ when
weights or scores carry many decimal places; the exact totals decide, as in any exact
recomputation.) No binary floating point is used anywhere.

Calibration ``zscore``. For a reviewer r with at least 3 reviews in the round, and each criterion
c, let mu_rc and sd_rc be the mean and population standard deviation of r's raw scores for c over
the round. Each of r's scores x becomes::

    x' = round6(L_c) + round6(((x - mu_rc) / sd_rc) * S_c)

where ``L_c`` is the mean of all raw scores for c in the round (every review), ``S_c`` is the pooled
within-reviewer standard deviation for c, ``sqrt(sum over reviewers with >= 3 reviews of
sum((x - mu_rc)^2) / their total number of reviews)``, and ``round6`` rounds an exact value
half-to-even to 6 decimal places (the second term is the signed square root of an exact rational;
it is rounded with integer arithmetic, so any implementation gets the same digits). These two are
the only roundings before publication. A reviewer with sd_rc == 0 expressed no preference on c:
every score of theirs for c becomes ``round6(L_c)`` (z = 0). A reviewer with fewer than 3 reviews
keeps raw scores.

Why this form: a reviewer's constant offset (a harsh reviewer scoring everyone 2 points lower)
changes neither their z-scores nor the pooled within-reviewer spread, so it only moves ``L_c``,
and because ``L_c`` is rounded on its own, every calibrated score of the round moves by exactly
the same amount: with every reviewer calibrated, ranks and outcomes are unchanged. (Scaling by the
raw spread of the round instead would change with the offset, and with it the relative weight of
the criteria.) Calibrated scores are decimals of 6 places, 10^-6 of a point being far below any
difference a reviewer can express; with scores and thresholds of at most 6 places, an aggregate
that is not equal to a threshold differs from it by at least 10^-6 / n_reviews, which the 12-place
published values show. Calibrated scores may fall outside the criterion's range; they are not
clamped, as clamping would break the invariance above. Thresholds and ``min_total`` apply to the
calibrated aggregates. Calibration is relative by nature: raising one score also moves its
reviewer's mean and spread, so unlike raw scoring it can move other applications too.

Stability (leave-one-reviewer-out). A row is ``stable`` when its outcome (shortlisted or not) is the
same in every scenario "the round without all reviews of reviewer r", for each reviewer r who
submitted a review. In a scenario, an application reviewed by r is re-evaluated from its remaining
reviews (with none left it cannot be ranked, as above); under ``zscore`` the other reviewers'
calibrated scores are those of the full round: ``L_c``, ``S_c`` and every reviewer's mean and spread
are the round's scale and are not re-estimated, so leaving r out removes exactly r's own reviews.
(Re-estimating them would shift every score of the round at once; the question stability answers is
whether any single reviewer's judgement decided the outcome.)

Only the k applications r reviewed change in r's scenario, so each scenario is evaluated
incrementally: the k affected rows are re-evaluated from their base sums (mean) or sorted values
(median) without r's review; an unaffected row's new position is its old position minus the
affected rows that used to rank above it plus those that now do, and an affected row's is found by
binary search in the sorted base keys (most are settled by one comparison). A position moves by at
most k, so only the unaffected rows within k of the cut-off can change outcome, and only those are
examined. The cost is O(reviews x log(applications)) in all, instead of one full recomputation per
reviewer; the tests check it against that recomputation. With the mean, most scenarios are settled
before any of that: when each of r's rows is sure to stay on its side of the last shortlisted key K
by its total alone (a weighted sum less r's review's, one subtraction: a shortlisted row still
ranked with a total strictly above K's, any other row unranked or with a total strictly below it),
the rows with keys up to K are the same ``size`` rows and every other row still ranks below them,
so no outcome changes (this needs at least ``size`` ranked rows in the base result).

Order independence: inputs are put in canonical order (criteria and gates by key, applications by
id, reviews by application and reviewer id) before anything is computed, every sum is exact, and
the result's rows come in rank order, then unranked rows by id.
"""

import bisect
import math
import operator
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import Any, Literal, get_args, overload

from models.errors import Unprocessable
from submissions.canonical import rfc3339

SCORING_VERSION = "shortlist-scoring/1"
"""Names this algorithm in canonical inputs and results, so a stored hash says how it was made."""

PLACES = 12
"""Decimal places of every published value (aggregates, totals, margins)."""

CALIBRATION_PLACES = 6
"""Decimal places of a z-score calibrated score."""

MIN_REVIEWS_FOR_CALIBRATION = 3

Aggregate = Literal["mean", "median"]
Calibration = Literal["none", "zscore"]
GateVerdict = Literal["pass", "fail"]


class Reason(StrEnum):
    SHORTLISTED = "shortlisted"
    GATE_FAILED = "gate_failed"
    BELOW_THRESHOLD = "below_threshold"
    BELOW_MIN_TOTAL = "below_min_total"
    BELOW_CUTOFF = "below_cutoff"


class ScoringInputError(Unprocessable):
    """Rules, applications or reviews that do not fit together; ``errors`` locates each."""

    type = "invalid-scoring-input"
    title = "Invalid scoring input"


@dataclass(frozen=True, slots=True)
class Criterion:
    key: str
    weight: Decimal
    min: Decimal
    max: Decimal
    threshold: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ShortlistRules:
    criteria: tuple[Criterion, ...]
    gates: tuple[str, ...] = ()
    size: int | None = None
    min_total: Decimal | None = None
    aggregate: Aggregate = "mean"
    calibration: Calibration = "none"
    tie_break: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Candidate:
    """A submitted application taking part in the close."""

    application_id: uuid.UUID
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewInput:
    """A submitted review: every criterion scored and every gate decided."""

    application_id: uuid.UUID
    reviewer_id: uuid.UUID
    scores: Mapping[str, Decimal]
    gates: Mapping[str, GateVerdict]


@dataclass(frozen=True, slots=True)
class ShortlistInputs:
    rules: ShortlistRules
    candidates: tuple[Candidate, ...]
    reviews: tuple[ReviewInput, ...]


@dataclass(frozen=True, slots=True)
class ShortlistRow:
    """One application's outcome and why. ``rank`` is ``None`` for a row failing a gate, a
    threshold or ``min_total``; ``total`` and ``criteria`` (published aggregates by criterion key)
    are shown for every row with a review; ``failed_gates`` lists, by key, the gates a majority of
    its reviews failed."""

    application_id: uuid.UUID
    rank: int | None
    total: Decimal | None
    criteria: Mapping[str, Decimal]
    n_reviews: int
    gates_passed: bool
    failed_gates: tuple[str, ...]
    shortlisted: bool
    reason: Reason
    margin: Decimal | None
    """Shortlisted: total minus the first ranked row below the cut-off (``None`` when no ranked row
    was cut). Below the cut-off: the last shortlisted total minus this total (``None`` when nobody
    was shortlisted). Unranked rows: ``None``. Zero means the tie-break chain decided."""
    stable: bool
    """The outcome is the same with any single reviewer's reviews left out."""


@dataclass(frozen=True, slots=True)
class ShortlistResult:
    rows: tuple[ShortlistRow, ...]
    cutoff_total: Decimal | None
    """The total of the last shortlisted row; ``None`` when nobody is shortlisted."""
    n_shortlisted: int
    n_stable: int
    n_rows: int


def compute_shortlist(
    *,
    rules: ShortlistRules,
    candidates: Iterable[Candidate],
    reviews: Iterable[ReviewInput],
) -> ShortlistResult:
    """Apply the round's published rules (see the module docstring). Raises
    ``ScoringInputError`` listing every problem when the inputs are inconsistent."""
    prep = _prepare(rules, list(candidates), list(reviews))
    evaluations = [
        _evaluate(prep, app, prep.app_reviews[app]) for app in range(len(prep.application_ids))
    ]
    order = _ranking(evaluations)
    n_shortlisted = _shortlist_count(prep.size, len(order))
    shortlisted = [False] * len(evaluations)
    for app in order[:n_shortlisted]:
        shortlisted[app] = True
    stable = _stability(prep, evaluations, order, shortlisted)
    return _assemble(prep, evaluations, order, shortlisted, stable)


def canonical_inputs(
    *,
    rules: ShortlistRules,
    candidates: Iterable[Candidate],
    reviews: Iterable[ReviewInput],
) -> dict[str, Any]:
    """The inputs as plain JSON values in one canonical order and spelling (numbers as exact
    decimal strings without trailing zeros), for hashing with ``canonical_json``. Orderings that do
    not change the result (criteria, gates, applications, reviews) are sorted; ``tie_break`` keeps
    its order because it matters."""
    # Ids and scores repeat a great deal: spell each once (equal decimals spell the same).
    ids: dict[uuid.UUID, str] = {}
    decimals: dict[Decimal, str] = {}

    def spell_id(value: uuid.UUID) -> str:
        text = ids.get(value)
        if text is None:
            text = ids[value] = str(value)
        return text

    def spell_decimal(value: Decimal) -> str:
        text = decimals.get(value)
        if text is None:
            text = decimals[value] = _plain(value)
        return text

    return {
        "scoring": SCORING_VERSION,
        "rules": {
            "criteria": [
                {
                    "key": c.key,
                    "weight": _plain(c.weight),
                    "min": _plain(c.min),
                    "max": _plain(c.max),
                    "threshold": None if c.threshold is None else _plain(c.threshold),
                }
                for c in sorted(rules.criteria, key=lambda c: c.key)
            ],
            "gates": sorted(rules.gates),
            "size": rules.size,
            "min_total": None if rules.min_total is None else _plain(rules.min_total),
            "aggregate": rules.aggregate,
            "calibration": rules.calibration,
            "tie_break": list(rules.tie_break),
        },
        "applications": [
            {"application_id": str(c.application_id), "submitted_at": rfc3339(c.submitted_at)}
            for c in sorted(candidates, key=lambda c: c.application_id.int)
        ],
        "reviews": [
            {
                "application_id": spell_id(r.application_id),
                "reviewer_id": spell_id(r.reviewer_id),
                "scores": {k: spell_decimal(v) for k, v in sorted(r.scores.items())},
                "gates": dict(sorted(r.gates.items())),
            }
            for r in sorted(reviews, key=lambda r: (r.application_id.int, r.reviewer_id.int))
        ],
    }


def inputs_from_canonical(*, data: Mapping[str, Any]) -> ShortlistInputs:
    """Read back what ``canonical_inputs`` produced (for recomputing a stored result)."""
    if data.get("scoring") != SCORING_VERSION:
        raise ScoringInputError(
            f"inputs were made for {data.get('scoring')!r}, not {SCORING_VERSION}"
        )
    raw_rules = data["rules"]
    rules = ShortlistRules(
        criteria=tuple(
            Criterion(
                key=c["key"],
                weight=Decimal(c["weight"]),
                min=Decimal(c["min"]),
                max=Decimal(c["max"]),
                threshold=None if c["threshold"] is None else Decimal(c["threshold"]),
            )
            for c in raw_rules["criteria"]
        ),
        gates=tuple(raw_rules["gates"]),
        size=raw_rules["size"],
        min_total=None if raw_rules["min_total"] is None else Decimal(raw_rules["min_total"]),
        aggregate=raw_rules["aggregate"],
        calibration=raw_rules["calibration"],
        tie_break=tuple(raw_rules["tie_break"]),
    )
    # Ids and scores repeat a great deal: parse each spelling once.
    ids: dict[str, uuid.UUID] = {}
    decimals: dict[str, Decimal] = {}

    def parse_id(text: str) -> uuid.UUID:
        value = ids.get(text)
        if value is None:
            value = ids[text] = uuid.UUID(text)
        return value

    def parse_decimal(text: str) -> Decimal:
        value = decimals.get(text)
        if value is None:
            value = decimals[text] = Decimal(text)
        return value

    candidates = tuple(
        Candidate(
            application_id=parse_id(a["application_id"]),
            submitted_at=datetime.fromisoformat(a["submitted_at"]),
        )
        for a in data["applications"]
    )
    reviews = tuple(
        ReviewInput(
            application_id=parse_id(r["application_id"]),
            reviewer_id=parse_id(r["reviewer_id"]),
            scores={k: parse_decimal(v) for k, v in r["scores"].items()},
            gates=dict(r["gates"]),
        )
        for r in data["reviews"]
    )
    return ShortlistInputs(rules=rules, candidates=candidates, reviews=reviews)


def result_to_dict(*, result: ShortlistResult) -> dict[str, Any]:
    """The result as plain JSON values (decimals as fixed-point strings with ``PLACES`` places)."""
    return {
        "scoring": SCORING_VERSION,
        "cutoff_total": _fixed(result.cutoff_total),
        "n_rows": result.n_rows,
        "n_shortlisted": result.n_shortlisted,
        "n_stable": result.n_stable,
        "rows": [
            {
                "application_id": str(row.application_id),
                "rank": row.rank,
                "total": _fixed(row.total),
                "criteria": {k: format(v, "f") for k, v in sorted(row.criteria.items())},
                "n_reviews": row.n_reviews,
                "gates_passed": row.gates_passed,
                "failed_gates": list(row.failed_gates),
                "shortlisted": row.shortlisted,
                "reason": row.reason.value,
                "margin": _fixed(row.margin),
                "stable": row.stable,
            }
            for row in result.rows
        ],
    }


# --- preparation: validation and exact integer representation --------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_TIE_CRITERION, _TIE_SUBMITTED, _TIE_ID = 0, 1, 2


@dataclass(frozen=True, slots=True)
class _Prepared:
    """The inputs in canonical order, with every per-review score as an integer numerator over
    ``denominator`` (raw or calibrated). Aggregates are integers over ``agg_scale`` =
    ``lcm_counts * denominator``, totals over ``agg_scale * weight_sum``."""

    criterion_keys: tuple[str, ...]
    gate_keys: tuple[str, ...]
    weights: tuple[int, ...]
    weight_sum: int
    median: bool
    lcm_counts: int
    agg_scale: int
    thresholds: tuple[tuple[int, int, int], ...]
    """``(criterion, q, bound)``: the aggregate is below the threshold iff ``a * q < bound``."""
    min_total: tuple[int, int] | None
    size: int | None
    static_keys: tuple[tuple[int, ...], ...]
    """Per application, its tie-break values that do not depend on scores (0 where a criterion
    comes), then its id: the ranking key is ``(-total, *static_keys[app])`` with each
    ``tie_criteria`` position set to minus that criterion's aggregate."""
    tie_criteria: tuple[tuple[int, int], ...]
    """``(position in the key, criterion)`` for each ``criterion:<key>`` tie-break."""
    application_ids: tuple[uuid.UUID, ...]
    id_ints: tuple[int, ...]
    app_reviews: tuple[tuple[int, ...], ...]
    review_app: tuple[int, ...]
    review_values: tuple[tuple[int, ...], ...]
    review_fails: tuple[tuple[int, ...], ...]
    review_weighted: tuple[int, ...]
    """Per review, the sum of its values times the criteria's weights."""
    reviewer_reviews: tuple[tuple[int, ...], ...]


def _prepare(
    rules: ShortlistRules, candidates: Sequence[Candidate], reviews: Sequence[ReviewInput]
) -> _Prepared:
    errors: list[dict[str, Any]] = []

    def problem(loc: Sequence[str | int], msg: str) -> None:
        errors.append({"loc": list(loc), "msg": msg})

    _check_rules(rules, problem)
    if errors:
        raise ScoringInputError("the shortlist rules are invalid", errors=errors)
    # Canonical orders: neither the criteria nor the gates order changes the result.
    criteria = tuple(sorted(rules.criteria, key=lambda c: c.key))
    keys = tuple(c.key for c in criteria)
    key_set = frozenset(keys)
    gate_keys = tuple(sorted(rules.gates))

    cands = sorted(candidates, key=lambda c: c.application_id.int)
    app_index: dict[int, int] = {}
    for cand in cands:
        if cand.application_id.int in app_index:
            problem(["applications", str(cand.application_id)], "duplicate application")
        app_index[cand.application_id.int] = len(app_index)
        if cand.submitted_at.utcoffset() is None:
            problem(
                ["applications", str(cand.application_id), "submitted_at"],
                "submitted_at must be timezone-aware",
            )

    revs = sorted(reviews, key=lambda r: (r.application_id.int, r.reviewer_id.int))
    review_app = [app_index.get(r.application_id.int, -1) for r in revs]
    reviewer_of = [r.reviewer_id.int for r in revs]
    gate_set = frozenset(gate_keys)
    previous = (-1, -1)
    for r, app in zip(revs, review_app, strict=True):
        pair = (r.application_id.int, r.reviewer_id.int)
        if app < 0 or pair == previous or r.scores.keys() != key_set or r.gates.keys() != gate_set:
            _review_problems(r, app >= 0, pair == previous, keys, gate_keys, problem)
        previous = pair
    if errors:
        raise ScoringInputError("the shortlisting inputs are inconsistent", errors=errors)

    # Each distinct verdict combination and each distinct score is checked and converted once:
    # they repeat a great deal.
    verdicts = [tuple(map(r.gates.__getitem__, gate_keys)) for r in revs]
    fails_of = {
        combination: tuple(g for g, v in enumerate(combination) if v == "fail")
        for combination in set(verdicts)
    }
    if any(v not in ("pass", "fail") for combination in fails_of for v in combination):
        for r, combination in zip(revs, verdicts, strict=True):
            for g, verdict in zip(gate_keys, combination, strict=True):
                if verdict not in ("pass", "fail"):
                    problem(_review_loc(r, "gates", g), "a gate verdict is 'pass' or 'fail'")
    fails = [fails_of[combination] for combination in verdicts]
    raw = [tuple(map(r.scores.__getitem__, keys)) for r in revs]
    try:
        distinct = [set(column) for column in zip(*raw, strict=True)] if raw else []
    except TypeError:  # unhashable, such as a signalling NaN: reported below
        distinct = [{Decimal("NaN")}]
    if not all(
        _is_finite_decimal(v) and crit.min <= v <= crit.max
        for crit, values in zip(criteria, distinct, strict=False)
        for v in values
    ):
        for r, given in zip(revs, raw, strict=True):
            for crit, score in zip(criteria, given, strict=True):
                if not _is_finite_decimal(score):
                    problem(
                        _review_loc(r, "scores", crit.key), f"{score!r} is not a finite decimal"
                    )
                elif not crit.min <= score <= crit.max:
                    problem(
                        _review_loc(r, "scores", crit.key),
                        f"{score} is outside [{crit.min}, {crit.max}]",
                    )
    if errors:
        raise ScoringInputError("the shortlisting inputs are inconsistent", errors=errors)
    every_value = set().union(*distinct)
    places = max((_fraction_digits(v) for v in every_value), default=0)
    as_int = {v: _scaled(v, places) for v in every_value}
    raw_ints = [tuple(map(as_int.__getitem__, given)) for given in raw]

    app_reviews_lists: list[list[int]] = [[] for _ in cands]
    for i, app in enumerate(review_app):
        app_reviews_lists[app].append(i)
    reviewer_lists_by_id: dict[int, list[int]] = {}
    for i, reviewer in enumerate(reviewer_of):
        reviewer_lists_by_id.setdefault(reviewer, []).append(i)
    reviewer_lists = [reviewer_lists_by_id[r] for r in sorted(reviewer_lists_by_id)]

    if rules.calibration == "zscore" and revs:
        denominator, values_over_d = _calibrate(raw_ints, reviewer_lists, places, len(keys))
    else:
        denominator, values_over_d = 10**places, raw_ints

    median = rules.aggregate == "median"
    if median:
        lcm_counts = 2
    else:
        # Every review count an aggregate can be taken over, here or in a leave-one-out scenario.
        counts = {len(ids) for ids in app_reviews_lists} | {
            len(ids) - 1 for ids in app_reviews_lists
        }
        lcm_counts = math.lcm(*(n for n in counts if n > 0), 1)
    agg_scale = lcm_counts * denominator
    weight_places = max(_fraction_digits(c.weight) for c in criteria)
    weights = tuple(_scaled(c.weight, weight_places) for c in criteria)
    weight_sum = sum(weights)

    thresholds = tuple(
        (c, *_bound(crit.threshold, agg_scale))
        for c, crit in enumerate(criteria)
        if crit.threshold is not None
    )
    min_total = None if rules.min_total is None else _bound(rules.min_total, agg_scale * weight_sum)
    tie_spec = tuple(_tie_item(item, keys) for item in rules.tie_break)
    id_ints = tuple(c.application_id.int for c in cands)
    submitted_us = tuple((c.submitted_at - _EPOCH) // _MICROSECOND for c in cands)
    static_keys = tuple(
        (
            *(
                {_TIE_CRITERION: 0, _TIE_SUBMITTED: submitted, _TIE_ID: app_id}[kind]
                for kind, _ in tie_spec
            ),
            app_id,
        )
        for app_id, submitted in zip(id_ints, submitted_us, strict=True)
    )
    return _Prepared(
        criterion_keys=keys,
        gate_keys=gate_keys,
        weights=weights,
        weight_sum=weight_sum,
        median=median,
        lcm_counts=lcm_counts,
        agg_scale=agg_scale,
        thresholds=thresholds,
        min_total=min_total,
        size=rules.size,
        static_keys=static_keys,
        tie_criteria=tuple(
            (position + 1, c)
            for position, (kind, c) in enumerate(tie_spec)
            if kind == _TIE_CRITERION
        ),
        application_ids=tuple(c.application_id for c in cands),
        id_ints=id_ints,
        app_reviews=tuple(tuple(ids) for ids in app_reviews_lists),
        review_app=tuple(review_app),
        review_values=tuple(values_over_d),
        review_fails=tuple(fails),
        review_weighted=tuple(sum(map(operator.mul, weights, v)) for v in values_over_d),
        reviewer_reviews=tuple(tuple(ids) for ids in reviewer_lists),
    )


def _review_loc(review: ReviewInput, *rest: str) -> list[str | int]:
    return ["reviews", str(review.application_id), str(review.reviewer_id), *rest]


def _review_problems(
    review: ReviewInput,
    known_application: bool,
    duplicate: bool,
    keys: Sequence[str],
    gate_keys: Sequence[str],
    problem: Callable[[Sequence[str | int], str], None],
) -> None:
    if not known_application:
        problem(_review_loc(review), "review of an application that takes no part in the close")
    if duplicate:
        problem(_review_loc(review), "more than one review by this reviewer for this application")
    if review.scores.keys() != set(keys):
        problem(_review_loc(review, "scores"), f"scores must cover exactly {sorted(keys)}")
    if review.gates.keys() != set(gate_keys):
        problem(_review_loc(review, "gates"), f"gates must cover exactly {sorted(gate_keys)}")


def _check_rules(
    rules: ShortlistRules, problem: Callable[[Sequence[str | int], str], None]
) -> None:
    if not rules.criteria:
        problem(["criteria"], "at least one criterion is needed to rank")
    seen: set[str] = set()
    for i, c in enumerate(rules.criteria):
        loc: list[str | int] = ["criteria", i]
        if not isinstance(c.key, str) or not c.key or c.key in seen:
            problem([*loc, "key"], "criterion keys are non-empty and unique")
        seen.add(c.key)
        if not _is_finite_decimal(c.weight) or c.weight <= 0:
            problem([*loc, "weight"], "weight must be a decimal > 0")
        if not (_is_finite_decimal(c.min) and _is_finite_decimal(c.max) and c.min < c.max):
            problem([*loc, "min"], "min and max must be decimals with min < max")
        elif c.threshold is not None and not (
            _is_finite_decimal(c.threshold) and c.min <= c.threshold <= c.max
        ):
            problem([*loc, "threshold"], "threshold must be a decimal within [min, max]")
    if len(set(rules.gates)) != len(rules.gates) or not all(
        isinstance(g, str) and g for g in rules.gates
    ):
        problem(["gates"], "gate keys are non-empty and unique")
    if rules.size is not None and (
        isinstance(rules.size, bool) or not isinstance(rules.size, int) or rules.size < 0
    ):
        problem(["shortlist", "size"], "size is null or an integer >= 0")
    if rules.min_total is not None and not _is_finite_decimal(rules.min_total):
        problem(["shortlist", "min_total"], "min_total is null or a decimal")
    if rules.aggregate not in get_args(Aggregate):
        problem(["shortlist", "aggregate"], "aggregate is 'mean' or 'median'")
    if rules.calibration not in get_args(Calibration):
        problem(["shortlist", "calibration"], "calibration is 'none' or 'zscore'")
    if len(set(rules.tie_break)) != len(rules.tie_break):
        problem(["shortlist", "tie_break"], "tie_break items are unique")
    for i, item in enumerate(rules.tie_break):
        if item not in ("submitted_at", "id") and not (
            isinstance(item, str) and item.startswith("criterion:") and item[10:] in seen
        ):
            problem(
                ["shortlist", "tie_break", i],
                "tie_break items are 'criterion:<key>' of a criterion, 'submitted_at' or 'id'",
            )


def _tie_item(item: str, keys: tuple[str, ...]) -> tuple[int, int]:
    if item == "submitted_at":
        return (_TIE_SUBMITTED, 0)
    if item == "id":
        return (_TIE_ID, 0)
    return (_TIE_CRITERION, keys.index(item.removeprefix("criterion:")))


def _calibrate(
    raw_ints: list[tuple[int, ...]],
    reviewer_reviews: list[list[int]],
    places: int,
    n_criteria: int,
) -> tuple[int, list[tuple[int, ...]]]:
    """Z-score calibration (module docstring), as integers over ``10**max(places, 6)``."""
    n_reviews = len(raw_ints)
    exp = max(places, CALIBRATION_PLACES)
    up = 10 ** (exp - places)
    calibration_up = 10 ** (exp - CALIBRATION_PLACES)
    centres = [
        _round_units(sum(v[c] for v in raw_ints), n_reviews * 10**places, CALIBRATION_PLACES)
        for c in range(n_criteria)
    ]
    calibrated = [r for r in reviewer_reviews if len(r) >= MIN_REVIEWS_FOR_CALIBRATION]
    pooled_count = sum(len(r) for r in calibrated)
    # Per reviewer and criterion, in the scores' integer units: total = sum(x), and
    # ssq = sum((n * x - total)^2) = n * (n * sum(x^2) - total^2), n^2 times the sum of squared
    # deviations from the reviewer's mean.
    columns_of = [list(zip(*(raw_ints[i] for i in ids), strict=True)) for ids in calibrated]
    stats = [
        [
            (
                sum(column),
                len(column)
                * (len(column) * sum(map(operator.mul, column, column)) - sum(column) ** 2),
            )
            for column in columns
        ]
        for columns in columns_of
    ]
    # The pooled variance, exactly: sum over reviewers of ssq / n^2, over the pooled count.
    by_count: dict[int, list[int]] = {}
    for ids, row in zip(calibrated, stats, strict=True):
        sums = by_count.setdefault(len(ids), [0] * n_criteria)
        for c, (_, ssq) in enumerate(row):
            sums[c] += ssq
    variance = [
        sum((Fraction(sums[c], n * n) for n, sums in by_count.items()), Fraction(0))
        / (pooled_count * 10 ** (2 * places))
        if pooled_count
        else Fraction(0)
        for c in range(n_criteria)
    ]

    values = [tuple(x * up for x in v) for v in raw_ints]
    for ids, row, columns in zip(calibrated, stats, columns_of, strict=True):
        n = len(ids)
        calibrated_columns: list[list[int]] = []
        for c, column in enumerate(columns):
            total, ssq = row[c]
            centre = centres[c]
            if ssq == 0:
                calibrated_columns.append([centre * calibration_up] * n)
                continue
            factor = _FixedPointFactor(n, variance[c], ssq)
            calibrated_columns.append(
                [
                    (centre + units) * calibration_up
                    for units in factor.rounded(n * x - total for x in column)
                ]
            )
        for i, calibrated_values in zip(ids, zip(*calibrated_columns, strict=True), strict=True):
            values[i] = calibrated_values
    return 10**exp, values


class _FixedPointFactor:
    """``d -> round_half_even(sign(d) * sqrt(d^2 * n * V / ssq) * 10**6)``: the calibrated
    deviation ``z * S_c`` in units of ``10**-6`` for ``d = n * x - sum`` (``n`` times the
    reviewer's deviation, in the scores' integer units; the reviewer's sd is ``sqrt(ssq / n^3)``
    in the same units, which cancel).

    The factor ``g = sqrt(n * V / ssq)`` is computed once as ``K = floor(g * 10**(6 + _GUARD))``,
    so ``|d| * g * 10**6`` lies in ``[|d| K, |d| (K + 1)) / 10**_GUARD``. When that interval
    decides the rounding, it is the answer; otherwise (a value within ``|d| * 10**-_GUARD`` of a
    rounding boundary) the exact integer computation decides."""

    def __init__(self, n: int, variance: Fraction, ssq: int) -> None:
        self.numerator = n * variance.numerator
        self.denominator = variance.denominator * ssq
        self.fixed = math.isqrt(
            self.numerator * 10 ** (2 * (CALIBRATION_PLACES + _GUARD)) // self.denominator
        )

    def rounded(self, deviations: Iterable[int]) -> list[int]:
        fixed, exact = self.fixed, self.exact
        seen: dict[int, int] = {}  # a reviewer's scores repeat
        out = []
        for deviation in deviations:
            magnitude = deviation if deviation >= 0 else -deviation
            units = seen.get(magnitude)
            if units is None:
                # 2 * value lies in [low, low + 2 * magnitude) / 10**_GUARD: if no integer other
                # than twice_low is in there (and an odd twice_low is not hit exactly, a tie),
                # the value rounds to (twice_low + 1) // 2.
                twice_low, low_rest = divmod(2 * magnitude * fixed, _GUARD_UNIT)
                if low_rest + 2 * magnitude <= _GUARD_UNIT and (low_rest or not twice_low & 1):
                    units = (twice_low + 1) >> 1
                else:
                    units = exact(magnitude)
                seen[magnitude] = units
            out.append(units if deviation >= 0 else -units)
        return out

    def exact(self, magnitude: int) -> int:
        num = magnitude * magnitude * self.numerator * 10 ** (2 * CALIBRATION_PLACES)
        den = self.denominator
        floor = math.isqrt(num // den)
        # sqrt(num / den) against floor + 1/2: squared and times 4, in integers.
        four, half = 4 * num, den * (2 * floor + 1) ** 2
        if four > half or (four == half and floor % 2 == 1):
            floor += 1
        return floor


_GUARD = 24
_GUARD_UNIT = 10**_GUARD


def _is_finite_decimal(value: object) -> bool:
    return isinstance(value, Decimal) and value.is_finite()


def _fraction_digits(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


def _scaled(value: Decimal, places: int) -> int:
    """``value * 10**places`` exactly (``places`` is at least the value's fraction digits)."""
    numerator, denominator = value.as_integer_ratio()
    factor: int = 10**places
    return numerator * (factor // denominator)


def _bound(value: Decimal, scale: int) -> tuple[int, int]:
    """``(q, p * scale)`` for ``value = p / q``: ``x / scale < value`` iff ``x * q < p * scale``."""
    p, q = value.as_integer_ratio()
    return (q, p * scale)


# --- evaluation and ranking -----------------------------------------------------------------


@dataclass(slots=True)
class _Evaluation:
    n_reviews: int
    fail_counts: tuple[int, ...]
    """Per gate, how many of the reviews failed it."""
    sums: tuple[int, ...]
    """Per criterion, the sum of the reviews' values (mean only)."""
    sorted_values: tuple[tuple[int, ...], ...]
    """Per criterion, the reviews' values in order (median only). These two are kept so that
    leaving one review out does not start from scratch."""
    aggregates: tuple[int, ...] | None
    failed_gates: tuple[int, ...]
    total: int | None
    reason: Reason | None
    """``None`` while ranked; the final reason is given after the cut-off."""
    key: tuple[int, ...] | None
    """Ascending sort key of a ranked row, unique (the id comes last)."""
    weighted: int
    """The sum of ``sums`` times the criteria's weights (mean only): ``total`` over the scale."""


_UNREVIEWED = _Evaluation(0, (), (), (), None, (), None, Reason.BELOW_THRESHOLD, None, 0)


def _evaluate(prep: _Prepared, app: int, review_ids: Sequence[int]) -> _Evaluation:
    n = len(review_ids)
    if n == 0:
        return _UNREVIEWED
    counts = [0] * len(prep.gate_keys)
    for i in review_ids:
        for g in prep.review_fails[i]:
            counts[g] += 1
    fail_counts = tuple(counts)
    per_criterion = zip(*(prep.review_values[i] for i in review_ids), strict=True)
    sums: tuple[int, ...] = ()
    sorted_values: tuple[tuple[int, ...], ...] = ()
    if prep.median:
        sorted_values = tuple(tuple(sorted(values)) for values in per_criterion)
        lower, upper, scale = (n - 1) // 2, n // 2, prep.lcm_counts // 2
        aggregates = [(c[lower] + c[upper]) * scale for c in sorted_values]
    else:
        sums = tuple(map(sum, per_criterion))
        scale = prep.lcm_counts // n
        aggregates = [s * scale for s in sums]
    failed, total, reason, key = _judge(prep, app, n, fail_counts, aggregates)
    weighted = sum(map(operator.mul, prep.weights, sums)) if sums else 0
    return _Evaluation(
        n, fail_counts, sums, sorted_values, tuple(aggregates), failed, total, reason, key, weighted
    )


def _key_without(
    prep: _Prepared, app: int, base: _Evaluation, review_id: int
) -> tuple[int, ...] | None:
    """The ranking key of ``app`` without one of its reviews (``None``: not ranked), from its
    base evaluation: the mean subtracts the review from the sums, the median skips it in the
    sorted values."""
    n = base.n_reviews - 1
    if n == 0:
        return None
    counts = base.fail_counts
    if prep.review_fails[review_id]:
        reduced = list(counts)
        for g in prep.review_fails[review_id]:
            reduced[g] -= 1
        counts = tuple(reduced)
    values = prep.review_values[review_id]
    if prep.median:
        scale = prep.lcm_counts // 2
        lower, upper = (n - 1) // 2, n // 2  # the middle one or two of the n remaining values
        aggregates = []
        for column, value in zip(base.sorted_values, values, strict=True):
            skip = column.index(value)  # remaining[i] is column[i], or column[i + 1] from skip on
            low = column[lower] if lower < skip else column[lower + 1]
            high = column[upper] if upper < skip else column[upper + 1]
            aggregates.append((low + high) * scale)
    else:
        scale = prep.lcm_counts // n
        aggregates = [(s - v) * scale for s, v in zip(base.sums, values, strict=True)]
    return _judge(prep, app, n, counts, aggregates)[3]


def _ranked_total_without(prep: _Prepared, base: _Evaluation, review_id: int) -> int | None:
    """Mean only: the total of a row without one of its reviews, ``None`` when it would not be
    ranked (the rules of ``_judge``, without making the ranking key). The total is the
    weighted sum less the review's, over the scale: ``sum(w * (s - v)) * scale``."""
    n = base.n_reviews - 1
    if n == 0:
        return None
    counts = base.fail_counts
    if counts:
        fails = prep.review_fails[review_id]
        if fails:
            reduced = list(counts)
            for g in fails:
                reduced[g] -= 1
            counts = tuple(reduced)
        if 2 * max(counts) > n:
            return None
    scale = prep.lcm_counts // n
    if prep.thresholds:
        sums, values = base.sums, prep.review_values[review_id]
        for c, q, bound in prep.thresholds:
            if (sums[c] - values[c]) * scale * q < bound:
                return None
    total = (base.weighted - prep.review_weighted[review_id]) * scale
    if prep.min_total is not None and total * prep.min_total[0] < prep.min_total[1]:
        return None
    return total


def _sides_kept(
    prep: _Prepared,
    evaluations: Sequence[_Evaluation],
    shortlisted: Sequence[bool],
    review_ids: Sequence[int],
    cut: int,
) -> bool:
    """Whether, without these reviews (one reviewer's), every row they touch is sure to stay
    on its side of the cut-off: a shortlisted row ranked with a total strictly above the last
    shortlisted total (``-cut``), any other row unranked or ranked with a total strictly below
    it. The rows ranked at or above the last shortlisted key are then the same ``size`` rows,
    and every other ranked row is below them, so no outcome changes (``_stability``)."""
    review_app = prep.review_app
    for i in review_ids:
        app = review_app[i]
        total = _ranked_total_without(prep, evaluations[app], i)
        if shortlisted[app]:
            if total is None or -total >= cut:
                return False
        elif total is not None and -total <= cut:
            return False
    return True


def _judge(
    prep: _Prepared, app: int, n: int, fail_counts: tuple[int, ...], aggregates: list[int]
) -> tuple[tuple[int, ...], int, Reason | None, tuple[int, ...] | None]:
    """The rules, in order, on one application's aggregates (integers over ``agg_scale``):
    the gates failed by a majority, the total, the rule that fails (if any), the ranking key."""
    failed: tuple[int, ...] = ()
    if fail_counts and 2 * max(fail_counts) > n:
        failed = tuple(g for g, count in enumerate(fail_counts) if 2 * count > n)
    total = sum(map(operator.mul, prep.weights, aggregates))
    if failed:
        return failed, total, Reason.GATE_FAILED, None
    if prep.thresholds and any(aggregates[c] * q < bound for c, q, bound in prep.thresholds):
        return failed, total, Reason.BELOW_THRESHOLD, None
    if prep.min_total is not None and total * prep.min_total[0] < prep.min_total[1]:
        return failed, total, Reason.BELOW_MIN_TOTAL, None
    key = (-total, *prep.static_keys[app])
    if prep.tie_criteria:
        parts = list(key)
        for position, c in prep.tie_criteria:
            parts[position] = -aggregates[c]
        key = tuple(parts)
    return failed, total, None, key


def _ranking(evaluations: Sequence[_Evaluation]) -> list[int]:
    ranked = [app for app, e in enumerate(evaluations) if e.key is not None]
    ranked.sort(key=lambda app: evaluations[app].key or ())
    return ranked


def _shortlist_count(size: int | None, n_ranked: int) -> int:
    return n_ranked if size is None else min(size, n_ranked)


def _stability(
    prep: _Prepared,
    evaluations: Sequence[_Evaluation],
    order: Sequence[int],
    shortlisted: Sequence[bool],
) -> list[bool]:
    """Leave-one-reviewer-out, incrementally (module docstring)."""
    stable = [True] * len(evaluations)
    size = prep.size
    if size == 0:
        return stable  # nothing is shortlisted in any scenario
    sorted_keys = [evaluations[app].key or () for app in order]
    n_ranked = len(order)
    bisect_left = bisect.bisect_left
    # Most scenarios move no row across the cut-off, which the totals alone can show (mean
    # only): the shortlisted rows are the ``size`` rows with keys up to the last shortlisted
    # key K (there are at least ``size`` ranked rows). If, without r's reviews, each row r
    # reviewed keeps its side of K (its key was at most K and still is, or was above K or
    # unranked and still is), those rows are still the only ones up to K and the others still
    # rank below them: the same ``size`` rows are shortlisted. A total strictly on one side of
    # K's total settles that side; anything closer takes the exact path below.
    prune = size is not None and 0 < size <= n_ranked and not prep.median
    cut = sorted_keys[size - 1][0] if prune and size is not None else 0
    for review_ids in prep.reviewer_reviews:
        if prune and _sides_kept(prep, evaluations, shortlisted, review_ids, cut):
            continue
        affected: dict[int, tuple[int, ...] | None] = {}
        for i in review_ids:
            app = prep.review_app[i]
            affected[app] = _key_without(prep, app, evaluations[app], i)
        if size is None:  # everyone ranked is shortlisted: only the affected can change
            for app, key in affected.items():
                if (key is not None) != shortlisted[app]:
                    stable[app] = False
            continue
        old_keys = sorted(k for app in affected if (k := evaluations[app].key) is not None)
        new_keys = sorted(k for k in affected.values() if k is not None)
        if old_keys == new_keys:
            continue  # the same rows in the same order: no position moves
        # An affected row's new position is (base keys below its new key) - (old affected keys
        # below it) + (other new affected keys below it): within [-len(old_keys),
        # len(new_keys) - 1] of the first count, so one comparison with a base key settles most.
        n_old, n_new = len(old_keys), len(new_keys)
        sure_in, sure_out = size - n_new, size + n_old - 1
        for app, key in affected.items():
            if key is None:
                now = False
            elif sure_in >= n_ranked or (sure_in >= 0 and key <= sorted_keys[sure_in]):
                now = True
            elif sure_out < n_ranked and key > sorted_keys[sure_out]:
                now = False
            else:
                position = (
                    bisect_left(sorted_keys, key)
                    - bisect_left(old_keys, key)
                    + bisect_left(new_keys, key)
                )
                now = position < size
            if now != shortlisted[app]:
                stable[app] = False
        # An unaffected row moves up by at most len(old_keys) and down by at most len(new_keys);
        # the window's keys ascend, so the counts of affected keys below them only grow.
        low = max(0, size - len(new_keys))
        high = min(n_ranked, size + len(old_keys))
        if low >= high:
            continue
        below_old = bisect_left(old_keys, sorted_keys[low])
        below_new = bisect_left(new_keys, sorted_keys[low])
        for position in range(low, high):
            key = sorted_keys[position]
            while below_old < n_old and old_keys[below_old] < key:
                below_old += 1
            while below_new < n_new and new_keys[below_new] < key:
                below_new += 1
            app = order[position]
            if app not in affected and (position - below_old + below_new < size) != (
                position < size
            ):
                stable[app] = False
    return stable


def _assemble(
    prep: _Prepared,
    evaluations: Sequence[_Evaluation],
    order: Sequence[int],
    shortlisted: Sequence[bool],
    stable: Sequence[bool],
) -> ShortlistResult:
    total_scale = prep.agg_scale * prep.weight_sum
    # Published totals in units of 10**-PLACES, so margins are exact integer differences.
    units = {
        app: _round_units(e.total, total_scale)
        for app, e in enumerate(evaluations)
        if e.total is not None
    }
    n_shortlisted = sum(1 for app in order if shortlisted[app])
    last_in = units[order[n_shortlisted - 1]] if n_shortlisted else None
    first_out = units[order[n_shortlisted]] if n_shortlisted < len(order) else None
    rank_of = {app: position + 1 for position, app in enumerate(order)}
    unranked = sorted(
        (app for app, e in enumerate(evaluations) if e.key is None),
        key=lambda app: prep.application_ids[app].int,
    )
    # Aggregates repeat a great deal (a handful of reviews on a coarse scale): spell each once.
    spelled: dict[int, Decimal] = {}

    def aggregate(numerator: int) -> Decimal:
        value = spelled.get(numerator)
        if value is None:
            value = spelled[numerator] = _from_units(_round_units(numerator, prep.agg_scale))
        return value

    rows: list[ShortlistRow] = []
    for app in [*order, *unranked]:
        e = evaluations[app]
        total = units.get(app)
        margin: int | None = None
        if e.reason is not None:
            reason = e.reason
        elif shortlisted[app]:
            reason = Reason.SHORTLISTED
            if first_out is not None and total is not None:
                margin = total - first_out
        else:
            reason = Reason.BELOW_CUTOFF
            if last_in is not None and total is not None:
                margin = last_in - total
        criteria: dict[str, Decimal] = {}
        if e.aggregates is not None:
            criteria = dict(zip(prep.criterion_keys, map(aggregate, e.aggregates), strict=True))
        rows.append(
            ShortlistRow(
                application_id=prep.application_ids[app],
                rank=rank_of.get(app),
                total=_from_units(total),
                criteria=MappingProxyType(criteria),
                n_reviews=e.n_reviews,
                gates_passed=not e.failed_gates,
                failed_gates=tuple(prep.gate_keys[g] for g in e.failed_gates),
                shortlisted=shortlisted[app],
                reason=reason,
                margin=_from_units(margin),
                stable=stable[app],
            )
        )
    return ShortlistResult(
        rows=tuple(rows),
        cutoff_total=_from_units(last_in),
        n_shortlisted=n_shortlisted,
        n_stable=sum(1 for row in rows if row.stable),
        n_rows=len(rows),
    )


# --- decimal spelling ----------------------------------------------------------------------


def _round_units(numerator: int, denominator: int, places: int = PLACES) -> int:
    """``numerator / denominator`` (denominator > 0) rounded half-to-even to ``places`` decimal
    places, in units of ``10**-places``."""
    unit: int = 10**places
    quotient, remainder = divmod(numerator * unit, denominator)
    twice = 2 * remainder
    if twice > denominator or (twice == denominator and quotient % 2 == 1):
        quotient += 1
    return quotient


@overload
def _from_units(units: int) -> Decimal: ...
@overload
def _from_units(units: None) -> None: ...
def _from_units(units: int | None) -> Decimal | None:
    # The string constructor is exact: no context precision applies.
    return None if units is None else Decimal(f"{units}E-{PLACES}")


def _plain(value: Decimal) -> str:
    """An exact decimal spelling without exponent or trailing zeros: equal numbers, equal text."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


plain_decimal = _plain


def _fixed(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")
