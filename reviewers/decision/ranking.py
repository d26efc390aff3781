"""Evaluation and ranking: each application's aggregates judged by the rules in order (gates,
thresholds, ``min_total``), the ranked rows ordered by total and the tie-break chain, and the
result assembled with published totals, margins and reasons."""

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType

from reviewers.decision.fixed import from_units, round_units
from reviewers.decision.types import Reason, ShortlistResult, ShortlistRow
from reviewers.decision.validation import Prepared


@dataclass(slots=True)
class Evaluation:
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


_UNREVIEWED = Evaluation(0, (), (), (), None, (), None, Reason.BELOW_THRESHOLD, None, 0)


def evaluate(prep: Prepared, app: int, review_ids: Sequence[int]) -> Evaluation:
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
    failed, total, reason, key = judge(prep, app, n, fail_counts, aggregates)
    weighted = sum(map(operator.mul, prep.weights, sums)) if sums else 0
    return Evaluation(
        n, fail_counts, sums, sorted_values, tuple(aggregates), failed, total, reason, key, weighted
    )


def judge(
    prep: Prepared, app: int, n: int, fail_counts: tuple[int, ...], aggregates: list[int]
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


def rank_order(evaluations: Sequence[Evaluation]) -> list[int]:
    ranked = [app for app, e in enumerate(evaluations) if e.key is not None]
    ranked.sort(key=lambda app: evaluations[app].key or ())
    return ranked


def shortlist_count(size: int | None, n_ranked: int) -> int:
    return n_ranked if size is None else min(size, n_ranked)


def assemble(
    prep: Prepared,
    evaluations: Sequence[Evaluation],
    order: Sequence[int],
    shortlisted: Sequence[bool],
    stable: Sequence[bool],
) -> ShortlistResult:
    total_scale = prep.agg_scale * prep.weight_sum
    # Published totals in units of 10**-PLACES, so margins are exact integer differences.
    units = {
        app: round_units(e.total, total_scale)
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
            value = spelled[numerator] = from_units(round_units(numerator, prep.agg_scale))
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
                total=from_units(total),
                criteria=MappingProxyType(criteria),
                n_reviews=e.n_reviews,
                gates_passed=not e.failed_gates,
                failed_gates=tuple(prep.gate_keys[g] for g in e.failed_gates),
                shortlisted=shortlisted[app],
                reason=reason,
                margin=from_units(margin),
                stable=stable[app],
            )
        )
    return ShortlistResult(
        rows=tuple(rows),
        cutoff_total=from_units(last_in),
        n_shortlisted=n_shortlisted,
        n_stable=sum(1 for row in rows if row.stable),
        n_rows=len(rows),
    )
