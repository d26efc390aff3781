"""Automatic reviewer assignment: exact, balanced and deterministic.

The problem. Each application must end with exactly ``per_application`` distinct reviewers.
Existing assignments are kept: they count toward their application's total and toward their
reviewer's load, and only the gaps are filled. A new assignment never pairs a reviewer with a
conflicted application, and never takes a reviewer past ``max_assignments``.

The objective, lexicographic:

1. minimize ``sum(load ** 2)`` over the panel, where load = existing + new assignments;
2. among those plans, maximize the total affinity of the new assignments.

Why a sum of squares: the reviewer-load vectors of all feasible plans form an M-convex set, and
on such a set the minimizers of a sum of squares are exactly the decreasingly-minimal vectors
(Frank and Murota, "Discrete decreasing minimization", 2022): the largest load is as small as it
can be, the smallest as large as it can be, so the spread max - min is the smallest possible, and
loads are within one of each other whenever caps and conflicts allow. The property tests check
this against brute force.

The method. A min-cost flow (OR-tools ``SimpleMinCostFlow``, exact on integers): application ->
reviewer arcs (capacity 1, cost ``top - affinity``) and, per reviewer, one unit arc per load
level, the arc taking total load to L costing ``M * (2L - 1)``, so a reviewer's arcs cost
``M * load ** 2`` in all (convex, hence filled in order). ``M`` exceeds any difference in
affinity between two plans, so the flow cost orders plans exactly as the objective does.

The full graph has |applications| x |reviewers| arcs (3 * 10**8 for the largest rounds), but
almost all of them carry no explicit affinity and cost the same ``top``. Two exact routes:

The input. ``plan_assignments`` takes pairs of ids (a dict of affinities, lists of conflicts
and kept assignments); ``plan_assignments_from_matrices`` takes applications x reviewers
matrices (scipy sparse, or dense arrays) and makes no Python object per pair. Both re-index
the pairs as sorted integer keys ``a * reviewers + r`` (applications and reviewers in id order),
and everything below works on those arrays; per-application Python sets are made only for the
conflicted and kept pairs and, lazily, for the applications an augmenting path visits.

1. Relaxation. The explicit positive-affinity arcs, plus a hub through which any application
   reaches any reviewer at cost ``top`` - ignoring conflicts and distinctness, so its optimum
   bounds the true one from below. The hub flow is then split into distinct, allowed,
   zero-affinity pairs (a degree-constrained bipartite graph, built greedily in Gale-Ryser order
   and completed by augmenting paths). When that succeeds the plan costs exactly the bound, so
   it is optimal. This is the usual case: conflicts are sparse.
2. Column generation, when the split fails (dense conflicts, tight instances). The flow is
   solved on a candidate graph (best reviewers by affinity, zero-affinity reviewers handed out
   round-robin, the relaxation's arcs), then Bellman-Ford runs over the full residual graph -
   candidate arcs plus every missing arc, the implicit ones relaxed all at once. If it settles,
   the distances are a feasible dual for the full problem and the plan is optimal (LP duality);
   otherwise missing arcs that keep lowering distances lie on negative cycles and are added
   before solving again. It ends because each round adds arcs. Dense instances (more than
   ``_DENSE_ARCS`` explicit arcs per unit of demand, e.g. every pair scored) start here: the
   relaxation's graph would hold every explicit arc, while the candidate graph holds a few per
   application and pricing checks the rest in bulk (reviewers that few applications may still
   reach without an explicit arc get those implicit arcs listed).

Feasibility. If the candidate graph cannot carry the demand, its maximum flow is completed by
augmenting paths over the full graph. When an application cannot be augmented, the applications
and reviewers reachable from the short ones form a Hall-type witness: those applications need
more reviewer slots than the reviewers they may use can give.

Affinities are scaled to integers at a resolution of ``10 ** -k``, where ``k`` is the fewest
decimals (at most 6) that write every value exactly (shortest ``repr``), rounding half to even
beyond that; ``k`` is lowered only if costs would otherwise overflow 64 bits.
``AssignmentStats.affinity_decimals`` reports the ``k`` used.
"""

import itertools
import math
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any, Final, TypeAlias

import numpy as np
import numpy.typing as npt
import scipy.sparse
from ortools.graph.python import min_cost_flow  # type: ignore[import-untyped]

Pair: TypeAlias = tuple[uuid.UUID, uuid.UUID]
IntArray: TypeAlias = npt.NDArray[np.int64]
FloatArray: TypeAlias = npt.NDArray[np.float64]
Matrix: TypeAlias = scipy.sparse.sparray | scipy.sparse.spmatrix | npt.ArrayLike
"""An applications x reviewers matrix, rows and columns in the order the ids are given: a scipy
sparse matrix or array of any format (a CSR one, or ``coo_array((values, (rows, cols)))`` from
index arrays), or a dense array. Entries not stored count as 0."""

MAX_AFFINITY_DECIMALS: Final = 6
_COST_LIMIT: Final = 2**60  # OR-tools multiplies costs by (nodes + 1); keep headroom for sums.
_EXTRA_CANDIDATES: Final = 2
_PATIENCE: Final = 50
_FEW_APPLICATIONS: Final = 1024
_DENSE_ARCS: Final = 50
"""Beyond this many explicit arcs per unit of demand, skip the relaxation (its graph holds
every explicit arc) and go straight to column generation on the best ones."""


# --- public values ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReviewerCapacity:
    reviewer_id: uuid.UUID
    max_assignments: int


@dataclass(frozen=True, slots=True)
class NewAssignment:
    application_id: uuid.UUID
    reviewer_id: uuid.UUID
    affinity: float


class AssignmentMethod(StrEnum):
    """How optimality was established (both are exact)."""

    relaxation = "relaxation"
    """The hub relaxation's optimum was realized by distinct, allowed pairs."""
    column_generation = "column_generation"
    """The candidate graph grew until no missing arc could improve the plan."""


@dataclass(frozen=True, slots=True)
class AssignmentStats:
    """Figures about a plan. Loads count existing and new assignments of every panel reviewer."""

    applications: int
    reviewers: int
    new_assignments: int
    total_affinity: float
    """Of the new assignments, as given (unscaled)."""
    min_load: int
    max_load: int
    solve_seconds: float
    graph_edges: int
    """Application -> reviewer (or hub) arcs in the final flow graph."""
    method: AssignmentMethod
    pricing_rounds: int
    affinity_decimals: int


@dataclass(frozen=True, slots=True)
class AssignmentPlan:
    assignments: tuple[NewAssignment, ...]
    """The new assignments only, sorted by application id then reviewer id."""
    stats: AssignmentStats


class InfeasibleConstraint(StrEnum):
    """The constraint that cannot be met, checked in this order."""

    unconflicted_reviewers = "unconflicted_reviewers"
    total_capacity = "total_capacity"
    shared_reviewers = "shared_reviewers"


@dataclass(frozen=True, slots=True)
class Shortfall:
    """An application that cannot get its reviewers: it can have ``available`` of ``needed``."""

    application_id: uuid.UUID
    available: int
    needed: int
    message: str


class PlanRefused(Exception):
    """Why no plan was made, as plain values: the HTTP ``status``, a problem ``type`` and
    ``title``, a ``message``, ``errors`` (``loc``/``msg`` items) and ``extra`` members, which the
    service raises again as the domain's error."""

    status: int
    type: str
    title: str
    message: str
    errors: list[dict[str, Any]]
    extra: dict[str, Any]


class AssignmentInfeasible(PlanRefused):
    """No plan meets every constraint. ``constraint`` says which one a program officer must relax.

    ``shortfalls`` names each application left short (empty when only the total capacity is
    lacking: then no application in particular is at fault). For ``shared_reviewers``,
    ``competing_applications`` is the set of applications whose joint demand exceeds what
    their unconflicted reviewers can take. ``errors`` and ``extra`` are the same as plain values,
    as a problem document lists them (the service raises the domain's error with them).
    """

    status = 422
    type = "assignment-infeasible"
    title = "Assignment infeasible"

    def __init__(
        self,
        *,
        constraint: InfeasibleConstraint,
        message: str,
        shortfalls: Sequence[Shortfall] = (),
        competing_applications: Sequence[uuid.UUID] = (),
    ) -> None:
        super().__init__(message)
        self.constraint = constraint
        self.message = message
        self.shortfalls = tuple(shortfalls)
        self.competing_applications = tuple(competing_applications)
        self.errors = [
            {"loc": ["applications", str(s.application_id)], "msg": s.message} for s in shortfalls
        ]
        self.extra = {"constraint": constraint.value}


class ConflictedExistingAssignment(PlanRefused):
    """An assignment to keep pairs a reviewer with a conflicted application: end it first."""

    status = 409
    type = "conflicted-assignment"
    title = "Conflicted assignment"

    def __init__(self, pairs: Sequence[Pair]) -> None:
        self.pairs = tuple(pairs)
        self.message = (
            f"{len(pairs)} existing assignments pair a reviewer with a conflicted application; "
            "end them before planning"
        )
        super().__init__(self.message)
        self.errors = [
            {
                "loc": ["applications", str(app)],
                "msg": f"reviewer {rev} is assigned to application {app} but is conflicted",
            }
            for app, rev in self.pairs
        ]
        self.extra = {}


# --- the canonical problem --------------------------------------------------------------------


@dataclass(slots=True)
class _Problem:
    """The input re-indexed in canonical (sorted id) order, so input order cannot matter."""

    app_ids: list[uuid.UUID]
    rev_ids: list[uuid.UUID]
    per_application: int
    need: list[int]
    existing_load: list[int]
    remaining: list[int]
    conflicted: list[set[int]]
    existing: list[set[int]]
    blocked_keys: IntArray
    """The conflicted and kept pairs as sorted keys ``a * reviewers + r``."""
    affinity: "_Pairs"
    """The non-zero affinities as given."""

    @property
    def active(self) -> list[int]:
        """Reviewers who can take at least one more assignment."""
        return [r for r, left in enumerate(self.remaining) if left > 0]

    def blocked(self, a: int, r: int) -> bool:
        return r in self.conflicted[a] or r in self.existing[a]


class _Ids:
    """Ids in sorted order, looked up by their 128-bit integer (``uuid.UUID.__hash__`` is a
    Python-level call, too slow for millions of conflict pairs)."""

    def __init__(self, ids: Iterable[uuid.UUID], what: str) -> None:
        self.ordered = sorted(ids)
        self._index = {value.int: i for i, value in enumerate(self.ordered)}
        if len(self._index) != len(self.ordered):
            raise ValueError(f"duplicate {what} ids")

    def __len__(self) -> int:
        return len(self.ordered)

    def get(self, value: uuid.UUID) -> int | None:
        return self._index.get(value.int)

    def index(self, value: uuid.UUID) -> int:
        return self._index[value.int]


@dataclass(frozen=True, slots=True)
class _Pairs:
    """Values of (application, reviewer) pairs, by sorted key ``a * reviewers + r``."""

    keys: IntArray
    values: npt.NDArray[Any]
    reviewers: int

    def bounds(self, applications: int) -> IntArray:
        """Where each application's pairs start (and, last, where they end)."""
        starts = np.arange(applications + 1, dtype=np.int64) * self.reviewers
        return np.searchsorted(self.keys, starts).astype(np.int64)

    def lookup(self, keys: IntArray, default: float | int = 0) -> npt.NDArray[Any]:
        """The values at ``keys``, ``default`` where no pair is stored."""
        if len(self.keys) == 0:
            return np.full(len(keys), default, dtype=self.values.dtype)
        at = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        found = self.keys[at] == keys
        return np.where(found, self.values[at], default).astype(self.values.dtype)


def _unique(values: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Sorted distinct values (by sorting: numpy's hashing ``unique`` is slower on keys)."""
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


def _member(keys: IntArray, sorted_keys: IntArray) -> npt.NDArray[np.bool_]:
    """Whether each key is among ``sorted_keys``."""
    if len(sorted_keys) == 0:
        return np.zeros(keys.shape, dtype=np.bool_)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return np.asarray(sorted_keys[at] == keys, dtype=np.bool_)


def _rows(keys: IntArray, applications: int, reviewers: int) -> list[set[int]]:
    """Sorted keys as one set of reviewers per application."""
    starts = np.searchsorted(keys, np.arange(applications + 1, dtype=np.int64) * reviewers)
    cols = (keys % reviewers).tolist() if reviewers else []
    bounds = starts.tolist()
    return [set(cols[bounds[a] : bounds[a + 1]]) for a in range(applications)]


def _sorted_pairs(keys: IntArray, values: FloatArray, reviewers: int) -> _Pairs:
    order = np.argsort(keys, kind="stable")
    return _Pairs(keys[order], values[order], reviewers)


def _capacities(reviewers: Sequence[ReviewerCapacity], revs: _Ids) -> list[int]:
    caps = [0] * len(revs)
    for reviewer in reviewers:
        if reviewer.max_assignments < 0:
            raise ValueError(f"reviewer {reviewer.reviewer_id} has a negative max_assignments")
        index = revs.get(reviewer.reviewer_id)
        assert index is not None
        caps[index] = reviewer.max_assignments
    return caps


def _problem(
    apps: _Ids,
    revs: _Ids,
    caps: list[int],
    per_application: int,
    *,
    conflict_keys: IntArray,
    existing_keys: IntArray,
    affinity: _Pairs,
) -> _Problem:
    """The canonical problem from sorted, duplicate-free pair keys."""
    n, m = len(apps), len(revs)
    existing = _rows(existing_keys, n, m)
    existing_load = np.bincount(existing_keys % max(m, 1), minlength=m).tolist() if m else []
    return _Problem(
        app_ids=apps.ordered,
        rev_ids=revs.ordered,
        per_application=per_application,
        need=[max(0, per_application - len(kept)) for kept in existing],
        existing_load=existing_load,
        remaining=[max(0, cap - load) for cap, load in zip(caps, existing_load, strict=True)],
        conflicted=_rows(conflict_keys, n, m),
        existing=existing,
        blocked_keys=_unique(np.concatenate([conflict_keys, existing_keys])).astype(np.int64),
        affinity=affinity,
    )


def _canonical(
    applications: Sequence[uuid.UUID],
    reviewers: Sequence[ReviewerCapacity],
    per_application: int,
    conflicts: Iterable[Pair],
    affinity: Mapping[Pair, float],
    existing: Sequence[Pair],
) -> _Problem:
    """The problem from pairs of ids (one Python step per pair given)."""
    if per_application < 0:
        raise ValueError("per_application must not be negative")
    apps = _Ids(applications, "application")
    revs = _Ids((r.reviewer_id for r in reviewers), "reviewer")
    caps = _capacities(reviewers, revs)
    m = len(revs)
    kept: set[int] = set()
    for app_id, rev_id in existing:
        a, r = apps.get(app_id), revs.get(rev_id)
        if a is None or r is None:
            raise ValueError(f"existing assignment {app_id}/{rev_id} is outside the round")
        if a * m + r in kept:
            raise ValueError(f"existing assignment {app_id}/{rev_id} is listed twice")
        kept.add(a * m + r)
    conflicted = set()
    for rev_id, app_id in conflicts:
        a, r = apps.get(app_id), revs.get(rev_id)
        if a is not None and r is not None:
            conflicted.add(a * m + r)
    keys, values = [], []
    for (app_id, rev_id), value in affinity.items():
        a, r = apps.get(app_id), revs.get(rev_id)
        if a is not None and r is not None:
            if not math.isfinite(value):
                raise ValueError(f"affinity of {app_id}/{rev_id} is not a finite number")
            if value:
                keys.append(a * m + r)
                values.append(value)
    return _problem(
        apps,
        revs,
        caps,
        per_application,
        conflict_keys=np.array(sorted(conflicted), dtype=np.int64),
        existing_keys=np.array(sorted(kept), dtype=np.int64),
        affinity=_sorted_pairs(
            np.array(keys, dtype=np.int64), np.array(values, dtype=np.float64), m
        ),
    )


def _coo(matrix: Matrix | None, shape: tuple[int, int], what: str) -> scipy.sparse.coo_array:
    if matrix is None:
        return scipy.sparse.coo_array(shape, dtype=np.float64)
    coo = scipy.sparse.coo_array(matrix)
    if coo.shape != shape:
        raise ValueError(f"{what} has shape {coo.shape}, expected {shape}")
    coo.sum_duplicates()
    coo.eliminate_zeros()
    return coo


def _canonical_matrices(
    applications: Sequence[uuid.UUID],
    reviewers: Sequence[ReviewerCapacity],
    per_application: int,
    affinity: Matrix | None,
    conflicts: Matrix | None,
    existing: Matrix | None,
) -> _Problem:
    """The problem from matrices (no Python step per pair)."""
    if per_application < 0:
        raise ValueError("per_application must not be negative")
    apps = _Ids(applications, "application")
    revs = _Ids((r.reviewer_id for r in reviewers), "reviewer")
    caps = _capacities(reviewers, revs)
    n, m = len(apps), len(revs)
    row_of = np.fromiter((apps.index(x) for x in applications), dtype=np.int64, count=n)
    col_of = np.fromiter((revs.index(r.reviewer_id) for r in reviewers), dtype=np.int64, count=m)

    def canonical_keys(coo: scipy.sparse.coo_array) -> IntArray:
        rows = np.asarray(coo.row if coo.ndim == 2 else coo.coords[0], dtype=np.int64)
        cols = np.asarray(coo.col if coo.ndim == 2 else coo.coords[1], dtype=np.int64)
        return row_of[rows] * m + col_of[cols]

    scores = _coo(affinity, (n, m), "affinity")
    values = np.asarray(scores.data, dtype=np.float64)
    bad = np.nonzero(~np.isfinite(values))[0]
    if len(bad):
        a, r = int(scores.row[bad[0]]), int(scores.col[bad[0]])
        raise ValueError(
            f"affinity of {applications[a]}/{reviewers[r].reviewer_id} is not a finite number"
        )
    conflict_keys = _unique(canonical_keys(_coo(conflicts, (n, m), "conflicts")))
    existing_keys = _unique(canonical_keys(_coo(existing, (n, m), "existing")))
    return _problem(
        apps,
        revs,
        caps,
        per_application,
        conflict_keys=conflict_keys.astype(np.int64),
        existing_keys=existing_keys.astype(np.int64),
        affinity=_sorted_pairs(canonical_keys(scores), values, m),
    )


# --- infeasibility that needs no flow ---------------------------------------------------------


def _count(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _check_existing(problem: _Problem) -> None:
    pairs = [
        (problem.app_ids[a], problem.rev_ids[r])
        for a, kept in enumerate(problem.existing)
        for r in sorted(kept & problem.conflicted[a])
    ]
    if pairs:
        raise ConflictedExistingAssignment(pairs)


def _unconflicted_shortfall(problem: _Problem, a: int, active: set[int]) -> Shortfall | None:
    """An application with fewer usable reviewers than it needs, counting those it keeps.

    Usable: not conflicted, and either kept from an existing assignment or below their cap.
    """
    blocked = problem.conflicted[a] | problem.existing[a]
    blocked_active = len(blocked & active)
    free = len(active) - blocked_active
    if free >= problem.need[a]:
        return None
    available = len(problem.existing[a]) + free
    needed = problem.per_application
    full = len(problem.rev_ids) - len(active) - (len(blocked) - blocked_active)
    message = f"application {problem.app_ids[a]} has {_count(available, 'unconflicted reviewer')}"
    message += f", needs {needed}"
    if full:
        verb = "is" if full == 1 else "are"
        message += f" ({full} more {verb} unconflicted but already at their max_assignments)"
    return Shortfall(problem.app_ids[a], available, needed, message)


def _check_before_solving(problem: _Problem) -> None:
    """Per-application and total-capacity shortages, reported before any flow is built."""
    active = set(problem.active)
    shortfalls = [
        s
        for a, need in enumerate(problem.need)
        if need and (s := _unconflicted_shortfall(problem, a, active)) is not None
    ]
    demand, capacity = sum(problem.need), sum(problem.remaining)
    total = (
        f"demand {demand} exceeds capacity {capacity}: the applications need {demand} more "
        f"reviewer assignments, the panel can take {capacity} more within max_assignments"
    )
    if shortfalls:
        verb = "has" if len(shortfalls) == 1 else "have"
        message = f"{_count(len(shortfalls), 'application')} {verb} too few unconflicted reviewers"
        if demand > capacity:
            message += f"; also {total}"
        raise AssignmentInfeasible(
            constraint=InfeasibleConstraint.unconflicted_reviewers,
            message=message,
            shortfalls=shortfalls,
        )
    if demand > capacity:
        raise AssignmentInfeasible(constraint=InfeasibleConstraint.total_capacity, message=total)


# --- integer costs ----------------------------------------------------------------------------


def _exact(value: float) -> Decimal:
    """The value as written, without trailing zeros: floats by their shortest round-trip repr
    (so 0.1 is one tenth, and 2 and 2.0 are the same)."""
    return Decimal(str(float(value))).normalize()


def _decimals(values: FloatArray) -> int:
    """The fewest decimals (at most ``MAX_AFFINITY_DECIMALS``) that write every value exactly.

    A value has at most k decimals in its shortest repr exactly when the decimal rint(v * 10**k)
    / 10**k rounds back to v (IEEE division is correctly rounded).
    """
    rest = _unique(values)
    for k in range(MAX_AFFINITY_DECIMALS + 1):
        scale = 10.0**k
        with np.errstate(over="ignore", invalid="ignore"):
            exact = np.rint(rest * scale) / scale == rest
        rest = rest[~exact]
        if len(rest) == 0:
            return k
    return MAX_AFFINITY_DECIMALS


def _scaled(values: FloatArray, decimals: int) -> IntArray | None:
    """The values in units of ``10 ** -decimals``, the value as written rounded half to even;
    None when one would not fit in 62 bits.

    ``rint(v * 10**k)`` is that rounding unless v * 10**k lies within rounding error of a
    half, where the decimal digits decide: those few values are rounded by ``Decimal``.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        x = values * 10.0**decimals
    if len(x) and not bool(np.all(np.abs(x) < 2.0**62)):
        return None
    rounded = np.rint(x)
    off_half = np.abs(x - np.floor(x) - 0.5)
    for i in np.nonzero(off_half <= 1e-9 * np.maximum(1.0, np.abs(x)))[0].tolist():
        exact = _exact(float(values[i])).scaleb(decimals)
        rounded[i] = int(exact.to_integral_value(rounding=ROUND_HALF_EVEN))
    return rounded.astype(np.int64)


@dataclass(slots=True)
class _Costs:
    """Integer arc costs. Arc a->r costs ``top - affinity``; load level L costs ``unit*(2L-1)``."""

    decimals: int
    scaled: _Pairs
    """The scaled affinities, non-zero values only."""
    bounds: IntArray
    top: int
    unit: int
    _rows: dict[int, dict[int, int]] = field(default_factory=dict)

    def row(self, a: int) -> dict[int, int]:
        """Application a's reviewers with a non-zero scaled affinity (built when first asked)."""
        row = self._rows.get(a)
        if row is None:
            start, end = int(self.bounds[a]), int(self.bounds[a + 1])
            m = self.scaled.reviewers
            revs = (self.scaled.keys[start:end] % m).tolist()
            values = self.scaled.values[start:end].tolist()
            row = self._rows[a] = dict(zip(revs, values, strict=True))
        return row

    def arcs(self, apps: IntArray, revs: IntArray) -> IntArray:
        """The costs of arcs a->r."""
        keys = apps * self.scaled.reviewers + revs
        return self.top - self.scaled.lookup(keys).astype(np.int64)


def _costs_at(problem: _Problem, decimals: int) -> _Costs | None:
    """Costs at ``decimals`` of affinity resolution, or None when they could overflow int64."""
    rounded = _scaled(np.asarray(problem.affinity.values, dtype=np.float64), decimals)
    if rounded is None:
        return None
    nonzero = rounded != 0
    scaled = _Pairs(problem.affinity.keys[nonzero], rounded[nonzero], len(problem.rev_ids))
    top, bottom = int(rounded.max(initial=0)), int(rounded.min(initial=0))
    demand = sum(problem.need)
    # Any two plans differ by less than `unit` in affinity, so one unit of sum(load**2) dominates.
    unit = demand * (top - bottom) + 1
    apps = len(problem.app_ids)
    highest = max(
        (
            e + min(left, apps)
            for e, left in zip(problem.existing_load, problem.remaining, strict=True)
            if left
        ),
        default=1,
    )
    largest_cost = max(unit * (2 * highest - 1), top - bottom)
    nodes = len(problem.app_ids) + len(problem.rev_ids) + 1
    if largest_cost * (max(nodes, demand) + 1) > _COST_LIMIT:
        return None
    return _Costs(decimals, scaled, scaled.bounds(apps), top, unit)


def _costs(problem: _Problem) -> _Costs:
    """Exact costs at the finest affinity resolution (at most 6 decimals) that fits int64."""
    decimals = _decimals(np.asarray(problem.affinity.values, dtype=np.float64))
    for k in range(decimals, -40, -1):
        costs = _costs_at(problem, k)
        if costs is not None:
            return costs
    raise ValueError("the instance is too large for 64-bit flow costs")


# --- the candidate graph ----------------------------------------------------------------------


def _eligible(problem: _Problem, a: int, r: int) -> bool:
    return problem.remaining[r] > 0 and not problem.blocked(a, r)


def _by_application_then_value(apps: IntArray, values: IntArray) -> IntArray:
    """The order of pairs sorted by key (application, reviewer) that sorts them by application,
    then by value from the highest, then by reviewer: one stable sort of a combined key when
    it fits in 63 bits (three times faster than ``lexsort``)."""
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64)
    high, low = int(values.max()), int(values.min())
    span = high - low + 1
    if (int(apps.max()) + 1) * span < 2**62:
        return np.argsort(apps * span + (high - values), kind="stable").astype(np.int64)
    return np.lexsort((-values, apps)).astype(np.int64)


def _initial_candidates(problem: _Problem, costs: _Costs) -> list[set[int]]:
    """Per application, with ``w = need + 2``: its ``3w`` best positive-affinity reviewers, ``w``
    zero-affinity reviewers handed out round-robin (so every reviewer gets about the same number
    of arcs and can reach a fair load), and its least negative ones while it has fewer than
    ``2w``. Only a starting point: ``_certify`` adds whatever else the optimum needs.
    """
    n, m = len(problem.app_ids), len(problem.rev_ids)
    if not m:
        return [set() for _ in range(n)]
    need = np.asarray(problem.need, dtype=np.int64)
    width = np.where(need > 0, need + _EXTRA_CANDIDATES, 0)
    remaining = np.asarray(problem.remaining, dtype=np.int64)
    keys, values = costs.scaled.keys, costs.scaled.values
    allowed = (remaining[keys % m] > 0) & ~_member(keys, problem.blocked_keys)
    keys, values = keys[allowed], values[allowed]
    order = _by_application_then_value(keys // m, values)
    keys, values = keys[order], values[order]
    apps = keys // m
    rank = np.arange(len(keys)) - np.searchsorted(apps, apps)
    best = (values > 0) & (rank < 3 * width[apps])
    chosen = [keys[best]]
    active = np.nonzero(remaining > 0)[0]
    wanting = np.nonzero(width)[0]
    if len(active) and len(wanting):
        # Round-robin: each application scans the next stretch of the active reviewers.
        span = min(len(active), 3 * int(width.max()))
        offset = (np.cumsum(width[wanting]) - width[wanting]) % len(active)
        grid = active[(offset[:, None] + np.arange(span)[None, :]) % len(active)]
        grid_keys = wanting[:, None] * m + grid
        free = ~_member(grid_keys, costs.scaled.keys) & ~_member(grid_keys, problem.blocked_keys)
        free &= np.cumsum(free, axis=1) <= width[wanting][:, None]
        chosen.append(grid_keys[free])
    taken = np.bincount(np.concatenate(chosen) // m, minlength=n)
    negative = values < 0
    neg_apps = apps[negative]
    neg_rank = np.arange(len(neg_apps)) - np.searchsorted(neg_apps, neg_apps)
    chosen.append(keys[negative][neg_rank < 2 * width[neg_apps] - taken[neg_apps]])
    return _rows(_unique(np.concatenate(chosen)), n, m)


# --- the flow ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Flow:
    """A solved flow: its application -> reviewer arcs, their costs, which carry flow, and (for
    the relaxation) how much each application and reviewer sent through the hub."""

    apps: IntArray
    revs: IntArray
    cost: IntArray
    used: npt.NDArray[np.bool_]
    complete: bool
    """False when the graph could not carry the whole demand (then a maximum flow is given)."""
    via_hub_apps: IntArray
    via_hub_revs: IntArray

    def loads(self, reviewers: int) -> IntArray:
        """New assignments per reviewer."""
        direct = np.bincount(self.revs[self.used], minlength=reviewers).astype(np.int64)
        return direct + self.via_hub_revs


def _candidate_arcs(candidates: list[set[int]]) -> tuple[IntArray, IntArray]:
    """The candidate sets as arrays of (application, reviewer), in order."""
    apps = np.fromiter(
        (a for a, row in enumerate(candidates) for _ in row), dtype=np.int64, count=-1
    )
    revs = np.fromiter(
        (r for row in candidates for r in sorted(row)), dtype=np.int64, count=len(apps)
    )
    return apps, revs


@dataclass(frozen=True, slots=True)
class _LoadArcs:
    """Per reviewer, one arc per new load level up to ``levels`` (level L of total load costs
    ``unit * (2L - 1)``), then one arc for all higher levels priced at the first of them.

    That last price is a lower bound, so a solution leaving those arcs empty is exact for the
    true convex costs; otherwise ``levels`` doubles and the flow is solved again. This keeps the
    graph small when caps are large.
    """

    owner: IntArray
    capacity: IntArray
    cost: IntArray
    pooled: npt.NDArray[np.bool_]

    @classmethod
    def of(cls, problem: _Problem, costs: _Costs, degree: IntArray, levels: int) -> "_LoadArcs":
        existing = np.asarray(problem.existing_load, dtype=np.int64)
        usable = np.minimum(np.asarray(problem.remaining, dtype=np.int64), degree)
        units = np.minimum(usable, levels)
        owner = np.repeat(np.arange(len(units), dtype=np.int64), units)
        first = np.repeat(np.cumsum(units) - units, units)
        level = existing[owner] + (np.arange(len(owner), dtype=np.int64) - first) + 1
        rest = np.nonzero(usable > units)[0]
        return cls(
            np.concatenate([owner, rest]),
            np.concatenate([np.ones(len(owner), dtype=np.int64), usable[rest] - units[rest]]),
            costs.unit
            * np.concatenate([2 * level - 1, 2 * (existing[rest] + units[rest] + 1) - 1]),
            np.concatenate([np.zeros(len(owner), dtype=np.bool_), np.ones(len(rest), np.bool_)]),
        )


def _initial_levels(problem: _Problem) -> int:
    """New load levels to model per reviewer: a fair share, plus slack for the unevenness of
    existing loads."""
    active = problem.active
    if not active:
        return 1
    existing = [problem.existing_load[r] for r in active]
    fair = -(-(sum(existing) + sum(problem.need)) // len(active))
    return max(1, fair - min(existing) + 2)


def _solve(
    problem: _Problem, costs: _Costs, arcs: tuple[IntArray, IntArray], *, hub: bool = False
) -> _Flow:
    """The min-cost flow over the candidate arcs (application, reviewer) (and, with ``hub``,
    over the relaxation's hub: any application to any reviewer at zero affinity)."""
    apps, revs = arcs
    cost = costs.arcs(apps, revs)
    levels = _initial_levels(problem)
    while True:
        flow, pooled_used = _solve_once(problem, costs, (apps, revs, cost), hub, levels)
        if not pooled_used:
            return flow
        levels *= 2


def _solve_once(
    problem: _Problem,
    costs: _Costs,
    arcs: tuple[IntArray, IntArray, IntArray],
    hub: bool,
    levels: int,
) -> tuple[_Flow, bool]:
    apps, revs, cost = arcs
    n, m = len(problem.app_ids), len(problem.rev_ids)
    sink, hub_node = n + m, n + m + 1
    need = np.asarray(problem.need, dtype=np.int64)
    remaining = np.asarray(problem.remaining, dtype=np.int64)
    hub_apps = np.nonzero(need)[0] if hub else np.zeros(0, dtype=np.int64)
    hub_revs = np.nonzero(remaining)[0] if hub else np.zeros(0, dtype=np.int64)
    degree = np.bincount(revs, minlength=m).astype(np.int64)
    degree[hub_revs] = remaining[hub_revs]
    load = _LoadArcs.of(problem, costs, degree, levels)
    tails = [apps, hub_apps, np.full(len(hub_revs), hub_node), load.owner + n]
    heads = [
        revs + n,
        np.full(len(hub_apps), hub_node),
        hub_revs + n,
        np.full(len(load.owner), sink),
    ]
    capacity = [np.ones(len(apps), np.int64), need[hub_apps], remaining[hub_revs], load.capacity]
    hub_cost = [np.full(len(hub_apps), costs.top, np.int64), np.zeros(len(hub_revs), np.int64)]
    unit_cost = [cost, *hub_cost, load.cost]
    supplies = np.zeros(hub_node + 1, dtype=np.int64)
    supplies[:n] = need
    supplies[sink] = -int(need.sum())
    flows, complete = _min_cost_flow(
        [np.concatenate(x) for x in (tails, heads, capacity, unit_cost)], supplies
    )
    first_hub, first_out = len(apps), len(apps) + len(hub_apps)
    first_load = first_out + len(hub_revs)
    via_apps, via_revs = np.zeros(n, np.int64), np.zeros(m, np.int64)
    via_apps[hub_apps] = flows[first_hub:first_out]
    via_revs[hub_revs] = flows[first_out:first_load]
    pooled_used = bool(np.any(flows[first_load:][load.pooled] > 0))
    flow = _Flow(apps, revs, cost, flows[: len(apps)] > 0, complete, via_apps, via_revs)
    return flow, pooled_used


def _min_cost_flow(arcs: list[IntArray], supplies: IntArray) -> tuple[IntArray, bool]:
    """Flow per arc (tails, heads, capacities, costs) of an optimal flow meeting ``supplies``;
    when none exists, of a maximum flow of least cost, and ``False``."""
    tails, heads, capacity, cost = arcs
    solver = min_cost_flow.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(
        tails.astype(np.int32), heads.astype(np.int32), capacity, cost.astype(np.int64)
    )
    solver.set_nodes_supplies(np.arange(len(supplies), dtype=np.int32), supplies)
    status = solver.solve()
    complete = status == solver.OPTIMAL
    if status == solver.INFEASIBLE:
        status = solver.solve_max_flow_with_min_cost()
    if status != solver.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status.name}")
    flows = np.asarray(solver.flows(np.arange(len(tails), dtype=np.int32)), dtype=np.int64)
    return flows, complete


# --- completing plans by augmenting paths -----------------------------------------------------

Forbidden: TypeAlias = Callable[[int, int], bool]


@dataclass(slots=True)
class _State:
    """A partial b-matching between applications and reviewers, completed by augmenting paths:
    application a wants ``deficit[a]`` more reviewers, reviewer r takes up to ``capacity[r]``."""

    assigned: list[set[int]]
    holders: list[set[int]]
    load: list[int]
    capacity: list[int]
    deficit: list[int]

    @classmethod
    def of(
        cls, assigned: list[set[int]], demand: Sequence[int], capacity: Sequence[int]
    ) -> "_State":
        holders: list[set[int]] = [set() for _ in capacity]
        for a, row in enumerate(assigned):
            for r in row:
                holders[r].add(a)
        return cls(
            assigned,
            holders,
            [len(h) for h in holders],
            list(capacity),
            [want - len(got) for want, got in zip(demand, assigned, strict=True)],
        )

    @property
    def pool(self) -> list[int]:
        return [r for r, cap in enumerate(self.capacity) if cap > 0]


@dataclass(frozen=True, slots=True)
class _Reach:
    via_app: dict[int, int]
    """Reviewer -> the application it was reached from (that application may take it)."""
    via_reviewer: dict[int, int]
    """Application -> the reviewer it was reached through (which it would give up); -1: source."""
    free: int | None
    """A reached reviewer below its capacity, if the search stopped at one."""


def _search(state: _State, forbidden: Forbidden, sources: list[int], *, stop: bool) -> _Reach:
    """Breadth-first search of the residual graph from ``sources``.

    Application -> reviewer when the pair is allowed and not yet assigned (all but a few
    reviewers, so unvisited reviewers are scanned once and only the excluded ones survive a
    scan: O(reviewers + exclusions) per search); reviewer -> application when assigned to it.
    """
    via_app: dict[int, int] = {}
    via_reviewer = dict.fromkeys(sources, -1)
    unvisited = state.pool
    queue = deque(sources)
    while queue:
        a = queue.popleft()
        closed = state.assigned[a]
        reached = [r for r in unvisited if not forbidden(a, r) and r not in closed]
        if not reached:
            continue
        unvisited = [r for r in unvisited if forbidden(a, r) or r in closed]
        for r in reached:
            via_app[r] = a
            if stop and state.load[r] < state.capacity[r]:
                return _Reach(via_app, via_reviewer, r)
        for r in reached:
            for holder in sorted(state.holders[r]):
                if holder not in via_reviewer:
                    via_reviewer[holder] = r
                    queue.append(holder)
    return _Reach(via_app, via_reviewer, None)


def _augment(state: _State, reach: _Reach, source: int) -> None:
    r = reach.free
    assert r is not None
    state.load[r] += 1
    state.deficit[source] -= 1
    while True:
        a = reach.via_app[r]
        state.assigned[a].add(r)
        state.holders[r].add(a)
        given_up = reach.via_reviewer[a]
        if given_up == -1:
            return
        state.assigned[a].discard(given_up)
        state.holders[given_up].discard(a)
        r = given_up


def _fill(state: _State, forbidden: Forbidden) -> bool:
    """Augments every deficit it can; True when none is left.

    An application that no augmenting path reaches stays unreachable after others are augmented
    (the paths avoid its closed reachable set), so one pass gives a maximum b-matching.
    """
    for a in range(len(state.deficit)):
        while state.deficit[a] > 0:
            reach = _search(state, forbidden, [a], stop=True)
            if reach.free is None:
                break
            _augment(state, reach, a)
    return not any(state.deficit)


def _complete(problem: _Problem, flow: _Flow) -> list[set[int]]:
    """Completes the candidate graph's maximum flow to a full plan, or proves there is none."""
    assigned: list[set[int]] = [set() for _ in problem.app_ids]
    for a, r in zip(flow.apps[flow.used].tolist(), flow.revs[flow.used].tolist(), strict=True):
        assigned[a].add(r)
    state = _State.of(assigned, problem.need, problem.remaining)
    if not _fill(state, problem.blocked):
        _raise_shared(problem, state)
    return state.assigned


def _raise_shared(problem: _Problem, state: _State) -> None:
    """Reports a maximum flow's short applications with the Hall-type set that blocks them.

    The applications reachable from the short ones form a set A whose reachable reviewers are
    all full: A needs ``sum(need)`` slots but the reviewers it may use can give only what A got.
    """
    short = [a for a, missing in enumerate(state.deficit) if missing > 0]
    reach = _search(state, problem.blocked, short, stop=False)
    group = sorted(reach.via_reviewer)
    needed = sum(problem.need[a] for a in group)
    can_take = needed - sum(state.deficit[a] for a in group)
    message = (
        f"{len(group)} applications compete for the same unconflicted reviewers: together they "
        f"need {_count(needed, 'more reviewer')}, but those reviewers can take only {can_take} "
        "of them within their max_assignments"
    )
    others = _count(len(group) - 1, "other application")
    verb = "competes" if len(group) == 2 else "compete"
    shortfalls = []
    for a in short:
        got = problem.per_application - state.deficit[a]
        shortfalls.append(
            Shortfall(
                problem.app_ids[a],
                got,
                problem.per_application,
                f"application {problem.app_ids[a]} can be given only {got} of the "
                f"{problem.per_application} reviewers it needs: its unconflicted reviewers are "
                f"fully booked, and {others} {verb} for them",
            )
        )
    raise AssignmentInfeasible(
        constraint=InfeasibleConstraint.shared_reviewers,
        message=message,
        shortfalls=shortfalls,
        competing_applications=[problem.app_ids[a] for a in group],
    )


# --- the relaxation ---------------------------------------------------------------------------


def _explicit_candidates(problem: _Problem, costs: _Costs) -> tuple[IntArray, IntArray]:
    """The allowed (application, reviewer) pairs with a positive (scaled) affinity."""
    keys, m = costs.scaled.keys, len(problem.rev_ids)
    revs = keys % m if m else keys
    remaining = np.asarray(problem.remaining, dtype=np.int64)
    allowed = (costs.scaled.values > 0) & (remaining[revs] > 0)
    allowed &= ~_member(keys, problem.blocked_keys)
    return keys[allowed] // m, revs[allowed]


def _pair(problem: _Problem, costs: _Costs, flow: _Flow) -> tuple[list[set[int]], bool]:
    """Realizes the relaxation's hub flow as distinct, allowed, zero-affinity pairs.

    Application a sent ``via_hub_apps[a]`` units and reviewer r received ``via_hub_revs[r]``;
    a simple bipartite graph with these degrees, avoiding conflicted, kept and explicit-affinity
    pairs, is built greedily (largest remaining supply first, as in the Gale-Ryser construction)
    and completed by augmenting paths. Returns the pairs found and whether they are all of them.
    """
    demand = flow.via_hub_apps.tolist()
    supply = flow.via_hub_revs.tolist()

    def forbidden(a: int, r: int) -> bool:
        return problem.blocked(a, r) or r in costs.row(a)

    state = _State.of(_greedy_pairs(demand, supply, forbidden), demand, supply)
    complete = _fill(state, forbidden)
    return state.assigned, complete


def _greedy_pairs(demand: list[int], supply: list[int], forbidden: Forbidden) -> list[set[int]]:
    buckets: list[dict[int, None]] = [{} for _ in range(max(supply, default=0) + 1)]
    left = list(supply)
    for r, units in enumerate(supply):
        if units:
            buckets[units][r] = None
    pairs: list[set[int]] = [set() for _ in demand]
    for a in sorted(range(len(demand)), key=lambda a: (-demand[a], a)):
        picked: list[int] = []
        for units in range(len(buckets) - 1, 0, -1):
            for r in buckets[units]:
                if len(picked) == demand[a]:
                    break
                if not forbidden(a, r):
                    picked.append(r)
            if len(picked) == demand[a]:
                break
        for r in picked:
            del buckets[left[r]][r]
            left[r] -= 1
            if left[r]:
                buckets[left[r]][r] = None
        pairs[a] = set(picked)
    return pairs


# --- pricing ----------------------------------------------------------------------------------


def _residual(problem: _Problem, costs: _Costs, flow: _Flow) -> tuple[IntArray, IntArray, IntArray]:
    """Arcs (tail, head, cost) of the flow's residual graph with the true convex load costs:
    per reviewer, the next level up (if below the cap) and the last level down (if any)."""
    n, m = len(problem.app_ids), len(problem.rev_ids)
    sink = n + m
    used = flow.used
    x = flow.loads(m)
    existing = np.asarray(problem.existing_load, dtype=np.int64)
    up = np.nonzero(x < np.asarray(problem.remaining, dtype=np.int64))[0]
    down = np.nonzero(x > 0)[0]
    tails = np.concatenate(
        [np.where(used, flow.revs + n, flow.apps), up + n, np.full(len(down), sink)]
    )
    heads = np.concatenate(
        [np.where(used, flow.apps, flow.revs + n), np.full(len(up), sink), down + n]
    )
    cost = np.concatenate(
        [
            np.where(used, -flow.cost, flow.cost),
            costs.unit * (2 * (existing[up] + x[up] + 1) - 1),
            -costs.unit * (2 * (existing[down] + x[down]) - 1),
        ]
    )
    return tails.astype(np.int64), heads.astype(np.int64), cost.astype(np.int64)


def _ceilings(problem: _Problem, costs: _Costs, flow: _Flow) -> IntArray:
    """Starting distances for ``_certify``: it finds the largest feasible potential below them.

    Potentials are not unique, and a missing arc (a, r) looks improving when reviewer r's
    potential sits far above those of a's reviewers. With the sink at 0, a reviewer at load L
    may take any potential in [-m(L+1), -m(L)], m(L) = unit * (2L - 1); loads L and L+1 share
    -m(L+1). So every reviewer starts at -m(B), B the boundary between the most common load and
    its more common neighbour, clamped to its own interval. Only speed depends on this choice,
    never correctness.
    """
    apps, reviewers = len(problem.app_ids), len(problem.rev_ids)
    ceiling = np.zeros(apps + reviewers + 1, dtype=np.int64)
    x = flow.loads(reviewers)
    level = x + np.asarray(problem.existing_load, dtype=np.int64)
    counts = np.bincount(level[x > 0])
    if len(counts) == 0:
        return ceiling
    mode = int(counts.argmax())
    below = int(counts[mode - 1]) if mode > 0 else 0
    above = int(counts[mode + 1]) if mode + 1 < len(counts) else 0
    boundary = mode if below >= above else mode + 1
    aim = np.full(reviewers, -costs.unit * (2 * boundary - 1), dtype=np.int64)
    has_up = x < np.asarray(problem.remaining, dtype=np.int64)
    aim = np.where(has_up, np.maximum(aim, -costs.unit * (2 * level + 1)), aim)
    aim = np.where(x > 0, np.minimum(aim, -costs.unit * (2 * level - 1)), aim)
    ceiling[apps : apps + reviewers] = aim
    return ceiling


_INFINITY: Final = np.iinfo(np.int64).max // 4


@dataclass(frozen=True, slots=True)
class _Arcs:
    """Arcs sorted by head, for one vectorized Bellman-Ford relaxation per call."""

    tails: IntArray
    heads: IntArray
    cost: IntArray
    targets: IntArray
    starts: IntArray

    @classmethod
    def of(cls, tails: IntArray, heads: IntArray, cost: IntArray) -> "_Arcs":
        order = np.argsort(heads, kind="stable")
        sorted_heads = heads[order]
        starts = np.nonzero(np.r_[True, sorted_heads[1:] != sorted_heads[:-1]])[0]
        starts = starts[: len(sorted_heads)]
        targets = sorted_heads[starts]
        return cls(tails[order], heads[order], cost[order], targets, starts.astype(np.int64))

    def relax(self, distance: IntArray) -> IntArray:
        """Lowers heads along the arcs; returns the indices of the arcs that lowered one."""
        if len(self.targets) == 0:
            return np.zeros(0, dtype=np.int64)
        through = distance[self.tails] + self.cost
        best = np.minimum.reduceat(through, self.starts)
        better = best < distance[self.targets]
        if not better.any():
            return np.zeros(0, dtype=np.int64)
        distance[self.targets[better]] = best[better]
        lowered = np.zeros(len(distance), dtype=np.bool_)
        lowered[self.targets[better]] = True
        return np.nonzero(lowered[self.heads] & (through == distance[self.heads]))[0]


def _missing_explicit(problem: _Problem, costs: _Costs, candidates: list[set[int]]) -> _Arcs:
    """Missing arcs with an explicit (non-zero) affinity, application -> reviewer node."""
    n, m = len(problem.app_ids), len(problem.rev_ids)
    keys = costs.scaled.keys
    apps, revs = keys // m, keys % m
    chosen_apps, chosen_revs = _candidate_arcs(candidates)
    missing = np.asarray(problem.need, dtype=np.int64)[apps] > 0
    missing &= np.asarray(problem.remaining, dtype=np.int64)[revs] > 0
    missing &= ~_member(keys, problem.blocked_keys)
    missing &= ~_member(keys, chosen_apps * m + chosen_revs)
    return _Arcs.of(apps[missing], n + revs[missing], costs.top - costs.scaled.values[missing])


class _Implicit:
    """The missing arcs without explicit affinity: from each application with a need to each
    reviewer below their cap that it does not exclude (candidate, conflicted, kept, or explicit),
    all at cost ``top``. Far too many to list, so they are relaxed all at once, except those
    into the reviewers that few applications may still reach (as in dense instances, where
    nearly every pair is explicit): those few are listed."""

    def __init__(self, problem: _Problem, costs: _Costs, candidates: list[set[int]]) -> None:
        self.problem, self.costs, self.candidates = problem, costs, candidates
        self.apps = np.array([a for a, need in enumerate(problem.need) if need], dtype=np.int64)
        self.inactive = np.asarray(problem.remaining, dtype=np.int64) == 0
        m = len(problem.rev_ids)
        chosen_apps, chosen_revs = _candidate_arcs(candidates)
        excluded = _unique(
            np.concatenate([chosen_apps * m + chosen_revs, costs.scaled.keys, problem.blocked_keys])
        )
        excluded = excluded[np.asarray(problem.need, dtype=np.int64)[excluded // max(m, 1)] > 0]
        by_reviewer = excluded[np.argsort(excluded % max(m, 1), kind="stable")]
        bounds = np.searchsorted(by_reviewer % max(m, 1), np.arange(m + 1)).tolist()
        reach = len(self.apps) - np.diff(bounds)
        self.few = (reach <= min(len(self.apps) // 4, _FEW_APPLICATIONS)) & ~self.inactive
        listed = [
            np.setdiff1d(self.apps, by_reviewer[bounds[r] : bounds[r + 1]] // m, assume_unique=True)
            for r in np.nonzero(self.few)[0].tolist()
        ]
        self.listed_apps = np.concatenate([np.zeros(0, np.int64), *listed]).astype(np.int64)
        self.listed_revs = np.repeat(np.nonzero(self.few)[0], [len(x) for x in listed])

    def _excluded(self, a: int) -> set[int]:
        problem = self.problem
        return (
            self.candidates[a]
            | self.costs.row(a).keys()
            | problem.conflicted[a]
            | problem.existing[a]
        )

    def _excludes(self, a: int, r: int) -> bool:
        return r in self.candidates[a] or r in self.costs.row(a) or self.problem.blocked(a, r)

    def relax(self, distance: IntArray) -> list[tuple[int, int]]:
        """Lowers each reviewer to the best application that may reach it; returns the arcs
        (application, reviewer) that lowered one. The best application reaches all but the
        few reviewers it excludes; only those look further down the ranking."""
        if len(self.apps) == 0:
            return []
        n, top = len(self.problem.app_ids), self.costs.top
        ranked = self.apps[np.argsort(distance[self.apps], kind="stable")].tolist()
        source = np.full(len(self.problem.rev_ids), ranked[0], dtype=np.int64)
        proposal = np.full(len(source), distance[ranked[0]] + top, dtype=np.int64)
        for r in self._excluded(ranked[0]):
            proposal[r] = _INFINITY
            if self.few[r]:
                continue
            for a in itertools.islice(ranked, 1, None):
                if not self._excludes(a, r):
                    source[r], proposal[r] = a, distance[a] + top
                    break
        proposal[self.few] = _INFINITY
        if len(self.listed_apps):
            through = distance[self.listed_apps] + top
            order = np.lexsort((self.listed_apps, through, self.listed_revs))
            revs = self.listed_revs[order]
            first = order[np.r_[True, revs[1:] != revs[:-1]]]
            source[self.listed_revs[first]] = self.listed_apps[first]
            proposal[self.listed_revs[first]] = through[first]
        proposal[self.inactive] = _INFINITY
        better = np.nonzero(proposal < distance[n : n + len(source)])[0]
        distance[n + better] = proposal[better]
        return list(zip(source[better].tolist(), better.tolist(), strict=True))


def _certify(
    problem: _Problem, costs: _Costs, candidates: list[set[int]], flow: _Flow
) -> list[tuple[int, int]]:
    """Missing arcs to add to the candidate graph; none when the flow is optimal on the full graph.

    Bellman-Ford over the full residual graph: the candidate graph's residual arcs plus every
    missing arc. If it settles, the distances are a feasible potential for the full graph, which
    proves the flow optimal there (no negative cycle). It cannot settle when some cycle through a
    missing arc is negative, and then missing arcs keep lowering distances (the candidate graph
    alone has no negative cycle: its flow is optimal). So after ``_PATIENCE`` passes (or
    |nodes|, if fewer) the missing arcs that lowered a distance in the latest pass are returned,
    at most ``need + 2`` per application. A slow but settling run costs an extra solve; the
    answer stays exact.
    """
    distance = _ceilings(problem, costs, flow)
    sparse = _Arcs.of(*_residual(problem, costs, flow))
    explicit = _missing_explicit(problem, costs, candidates)
    implicit = _Implicit(problem, costs, candidates)
    n = len(problem.app_ids)
    # Without a negative cycle, Bellman-Ford settles within |nodes| passes.
    patience = min(_PATIENCE, len(distance) + 1)
    for passes in itertools.count(1):
        moved = len(sparse.relax(distance))
        lowered = [
            (int(explicit.tails[i]), int(explicit.heads[i]) - n) for i in explicit.relax(distance)
        ]
        lowered += implicit.relax(distance)
        if not moved and not lowered:
            return []
        if passes >= patience and lowered:
            return _per_application(problem, lowered)
        if passes > patience + len(distance) + 1:
            # Only candidate arcs kept moving for |nodes| passes: a negative cycle among them.
            raise RuntimeError("Bellman-Ford did not settle on an optimal flow")
    raise AssertionError("unreachable")


def _per_application(problem: _Problem, arcs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """At most ``need + 2`` arcs per application, lowest reviewer index first."""
    taken: dict[int, int] = {}
    kept = []
    for a, r in sorted(set(arcs)):
        if taken.get(a, 0) < problem.need[a] + _EXTRA_CANDIDATES:
            taken[a] = taken.get(a, 0) + 1
            kept.append((a, r))
    return kept


# --- the planner ------------------------------------------------------------------------------


def plan_assignments(
    *,
    applications: Sequence[uuid.UUID],
    reviewers: Sequence[ReviewerCapacity],
    per_application: int,
    conflicts: Iterable[Pair],
    affinity: Mapping[Pair, float],
    existing: Sequence[Pair] = (),
) -> AssignmentPlan:
    """The optimal plan of new assignments (see the module docstring for the exact objective).

    ``conflicts`` holds (reviewer_id, application_id) pairs; ``affinity`` is keyed by
    (application_id, reviewer_id), missing pairs count as 0 and larger is better; ``existing``
    holds (application_id, reviewer_id) pairs that are kept. Pairs naming ids outside
    ``applications`` x ``reviewers`` are ignored, except in ``existing`` (a ValueError).
    An application already holding ``per_application`` or more reviewers gets none; a reviewer
    already at or over ``max_assignments`` gets none. The result depends only on the values
    given, not on their order.

    Raises ConflictedExistingAssignment when a kept assignment is conflicted, and
    AssignmentInfeasible when no plan exists.
    """
    started = time.perf_counter()
    problem = _canonical(applications, reviewers, per_application, conflicts, affinity, existing)
    return _solve_problem(problem, started)


def plan_assignments_from_matrices(
    *,
    applications: Sequence[uuid.UUID],
    reviewers: Sequence[ReviewerCapacity],
    per_application: int,
    affinity: Matrix | None = None,
    conflicts: Matrix | None = None,
    existing: Matrix | None = None,
) -> AssignmentPlan:
    """``plan_assignments`` for input given as applications x reviewers matrices (rows in the
    order of ``applications``, columns in the order of ``reviewers``), so that no Python object
    is made per pair: the plan is the same as for the same pairs given as ids.

    ``affinity`` holds the scores (entries not stored count as 0; duplicates of a sparse
    matrix add up); a stored non-zero entry of ``conflicts`` marks a conflicted pair, of
    ``existing`` a kept assignment.
    """
    started = time.perf_counter()
    problem = _canonical_matrices(
        applications, reviewers, per_application, affinity, conflicts, existing
    )
    return _solve_problem(problem, started)


def _solve_problem(problem: _Problem, started: float) -> AssignmentPlan:
    _check_existing(problem)
    _check_before_solving(problem)
    costs = _costs(problem)
    explicit = _explicit_candidates(problem, costs)
    hints: list[set[int]] = [set() for _ in problem.app_ids]
    if len(explicit[0]) <= _DENSE_ARCS * (sum(problem.need) + 1):
        relaxed = _solve(problem, costs, explicit, hub=True)
        pairs, paired = _pair(problem, costs, relaxed) if relaxed.complete else ([], False)
        hints = _used(relaxed)
        for row, zero in zip(hints, pairs, strict=False):
            row.update(zero)
        if paired:
            edges = len(relaxed.apps) + int(np.count_nonzero(problem.need)) + len(problem.active)
            return _plan(problem, hints, AssignmentMethod.relaxation, costs, edges, 0, started)
    candidates = _initial_candidates(problem, costs)
    for row, hint in zip(candidates, hints, strict=True):
        row.update(hint)
    flow, rounds = _column_generation(problem, costs, candidates)
    method = AssignmentMethod.column_generation
    return _plan(problem, _used(flow), method, costs, len(flow.apps), rounds, started)


def _column_generation(
    problem: _Problem, costs: _Costs, candidates: list[set[int]]
) -> tuple[_Flow, int]:
    """Solves on the candidate graph and adds missing arcs until ``_certify`` finds none."""
    rounds = 0
    while True:
        flow = _solve(problem, costs, _candidate_arcs(candidates))
        if not flow.complete:
            for row, assigned in zip(candidates, _complete(problem, flow), strict=True):
                row.update(assigned)
            continue
        rounds += 1
        missing = _certify(problem, costs, candidates, flow)
        if not missing:
            return flow, rounds
        for a, r in missing:
            candidates[a].add(r)


def _used(flow: _Flow) -> list[set[int]]:
    """The flow's direct application -> reviewer assignments, per application."""
    assigned: list[set[int]] = [set() for _ in flow.via_hub_apps]
    for a, r in zip(flow.apps[flow.used].tolist(), flow.revs[flow.used].tolist(), strict=True):
        assigned[a].add(r)
    return assigned


def _plan(
    problem: _Problem,
    assigned: list[set[int]],
    method: AssignmentMethod,
    costs: _Costs,
    edges: int,
    rounds: int,
    started: float,
) -> AssignmentPlan:
    apps, revs = _candidate_arcs(assigned)
    given = problem.affinity.lookup(apps * len(problem.rev_ids) + revs, 0.0).tolist()
    assignments = tuple(
        NewAssignment(problem.app_ids[a], problem.rev_ids[r], float(value))
        for a, r, value in zip(apps.tolist(), revs.tolist(), given, strict=True)
    )
    loads = list(problem.existing_load)
    for row in assigned:
        for r in row:
            loads[r] += 1
    stats = AssignmentStats(
        applications=len(problem.app_ids),
        reviewers=len(problem.rev_ids),
        new_assignments=len(assignments),
        total_affinity=math.fsum(x.affinity for x in assignments),
        min_load=min(loads, default=0),
        max_load=max(loads, default=0),
        solve_seconds=time.perf_counter() - started,
        graph_edges=edges,
        method=method,
        pricing_rounds=rounds,
        affinity_decimals=costs.decimals,
    )
    return AssignmentPlan(assignments, stats)
