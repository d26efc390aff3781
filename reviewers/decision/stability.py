"""Stability (leave-one-reviewer-out). A row is ``stable`` when its outcome (shortlisted or not) is
the same in every scenario "the round without all reviews of reviewer r", for each reviewer r who
submitted a review. In a scenario, an application reviewed by r is re-evaluated from its remaining
reviews (with none left it cannot be ranked, as the package docstring says); under ``zscore`` the
other reviewers' calibrated scores are those of the full round: ``L_c``, ``S_c`` and every
reviewer's mean and spread are the round's scale and are not re-estimated, so leaving r out removes
exactly r's own reviews. (Re-estimating them would shift every score of the round at once; the
question stability answers is whether any single reviewer's judgement decided the outcome.)

Only the k applications r reviewed change in r's scenario, so each scenario is evaluated
incrementally: the k affected rows are re-evaluated from their base sums (mean) or sorted values
(median) without r's review; an unaffected row's new position is its old position minus the affected
rows that used to rank above it plus those that now do, and an affected row's is found by binary
search in the sorted base keys (most are settled by one comparison). A position moves by at most k,
so only the unaffected rows within k of the cut-off can change outcome, and only those are examined.
The cost is O(reviews x log(applications)) in all, instead of one full recomputation per reviewer;
the tests check it against that recomputation. With the mean, most scenarios are settled before any
of that: when each of r's rows is sure to stay on its side of the last shortlisted key K by its
total alone (a weighted sum less r's review's, one subtraction: a shortlisted row still ranked with
a total strictly above K's, any other row unranked or with a total strictly below it), the rows with
keys up to K are the same ``size`` rows and every other row still ranks below them, so no outcome
changes (this needs at least ``size`` ranked rows in the base result).
"""

import bisect
from collections.abc import Sequence

from reviewers.decision.ranking import Evaluation, judge
from reviewers.decision.validation import Prepared


def _key_without(
    prep: Prepared, app: int, base: Evaluation, review_id: int
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
    return judge(prep, app, n, counts, aggregates)[3]


def _ranked_total_without(prep: Prepared, base: Evaluation, review_id: int) -> int | None:
    """Mean only: the total of a row without one of its reviews, ``None`` when it would not be
    ranked (the rules of ``judge``, without making the ranking key). The total is the
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
    prep: Prepared,
    evaluations: Sequence[Evaluation],
    shortlisted: Sequence[bool],
    review_ids: Sequence[int],
    cut: int,
) -> bool:
    """Whether, without these reviews (one reviewer's), every row they touch is sure to stay
    on its side of the cut-off: a shortlisted row ranked with a total strictly above the last
    shortlisted total (``-cut``), any other row unranked or ranked with a total strictly below
    it. The rows ranked at or above the last shortlisted key are then the same ``size`` rows,
    and every other ranked row is below them, so no outcome changes (``leave_one_out``)."""
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


def leave_one_out(
    prep: Prepared,
    evaluations: Sequence[Evaluation],
    order: Sequence[int],
    shortlisted: Sequence[bool],
) -> list[bool]:
    """Leave-one-reviewer-out, incrementally (this module's docstring)."""
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
