"""Calibration ``zscore``. For a reviewer r with at least 3 reviews in the round, and each criterion
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
"""

import math
import operator
from collections.abc import Iterable
from fractions import Fraction

from reviewers.decision.fixed import round_units
from reviewers.decision.types import CALIBRATION_PLACES, MIN_REVIEWS_FOR_CALIBRATION


def calibrate(
    raw_ints: list[tuple[int, ...]],
    reviewer_reviews: list[list[int]],
    places: int,
    n_criteria: int,
) -> tuple[int, list[tuple[int, ...]]]:
    """Z-score calibration (this module's docstring), as integers over ``10**max(places, 6)``."""
    n_reviews = len(raw_ints)
    exp = max(places, CALIBRATION_PLACES)
    up = 10 ** (exp - places)
    calibration_up = 10 ** (exp - CALIBRATION_PLACES)
    centres = [
        round_units(sum(v[c] for v in raw_ints), n_reviews * 10**places, CALIBRATION_PLACES)
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
