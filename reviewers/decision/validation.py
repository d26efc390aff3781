"""Preparation: the inputs checked against the rules (every problem located, all reported at
once) and put in canonical order (criteria and gates by key, applications by id, reviews by
application and reviewer id), with every score an integer numerator over one denominator, so
that everything after is exact integer arithmetic."""

import math
import operator
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, get_args

from reviewers.decision.calibration import calibrate
from reviewers.decision.types import (
    Aggregate,
    Calibration,
    Candidate,
    ReviewInput,
    ScoringInputError,
    ShortlistRules,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_TIE_CRITERION, _TIE_SUBMITTED, _TIE_ID = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Prepared:
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


def prepare(
    rules: ShortlistRules, candidates: Sequence[Candidate], reviews: Sequence[ReviewInput]
) -> Prepared:
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
        denominator, values_over_d = calibrate(raw_ints, reviewer_lists, places, len(keys))
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
    return Prepared(
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
