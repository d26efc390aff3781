"""The decision core: from a round's rules, its submitted applications and their submitted
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

The z-score calibration is described in ``calibration``, the leave-one-reviewer-out stability
in ``stability``; ``canonical`` gives the inputs and the result the plain form their hashes are
taken over.

Order independence: inputs are put in canonical order (criteria and gates by key, applications by
id, reviews by application and reviewer id) before anything is computed, every sum is exact, and
the result's rows come in rank order, then unranked rows by id.

The package is pure: it imports nothing of the house but itself (no models, no sessions, no
I/O), which import-linter holds (the ``decision-is-pure`` contract in pyproject.toml).
"""

from reviewers.decision.canonical import canonical_inputs, inputs_from_canonical, result_to_dict
from reviewers.decision.fixed import plain_decimal
from reviewers.decision.shortlist import compute_shortlist
from reviewers.decision.types import (
    CALIBRATION_PLACES,
    MIN_REVIEWS_FOR_CALIBRATION,
    PLACES,
    SCORING_VERSION,
    Aggregate,
    Calibration,
    Candidate,
    Criterion,
    GateVerdict,
    Reason,
    ReviewInput,
    ScoringInputError,
    ShortlistInputs,
    ShortlistResult,
    ShortlistRow,
    ShortlistRules,
)

__all__ = [
    "CALIBRATION_PLACES",
    "MIN_REVIEWS_FOR_CALIBRATION",
    "PLACES",
    "SCORING_VERSION",
    "Aggregate",
    "Calibration",
    "Candidate",
    "Criterion",
    "GateVerdict",
    "Reason",
    "ReviewInput",
    "ScoringInputError",
    "ShortlistInputs",
    "ShortlistResult",
    "ShortlistRow",
    "ShortlistRules",
    "canonical_inputs",
    "compute_shortlist",
    "inputs_from_canonical",
    "plain_decimal",
    "result_to_dict",
]
