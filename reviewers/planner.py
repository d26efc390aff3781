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
   before solving again. It ends because each round adds arcs.

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
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Final, TypeAlias

import numpy as np
import numpy.typing as npt
from ortools.graph.python import min_cost_flow  # type: ignore[import-untyped]

Pair: TypeAlias = tuple[uuid.UUID, uuid.UUID]
IntArray: TypeAlias = npt.NDArray[np.int64]

MAX_AFFINITY_DECIMALS: Final = 6
_COST_LIMIT: Final = 2**60  # OR-tools multiplies costs by (nodes + 1); keep headroom for sums.
_EXTRA_CANDIDATES: Final = 2
_PATIENCE: Final = 50


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


class AssignmentInfeasible(Exception):
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


class ConflictedExistingAssignment(Exception):
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
    affinity: list[dict[int, float]]
    """Per application: reviewer -> the affinity as given, for every known pair."""

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


def _canonical(
    applications: Sequence[uuid.UUID],
    reviewers: Sequence[ReviewerCapacity],
    per_application: int,
    conflicts: Iterable[Pair],
    affinity: Mapping[Pair, float],
    existing: Sequence[Pair],
) -> _Problem:
    if per_application < 0:
        raise ValueError("per_application must not be negative")
    apps = _Ids(applications, "application")
    revs = _Ids((r.reviewer_id for r in reviewers), "reviewer")
    caps = [0] * len(revs)
    for reviewer in reviewers:
        if reviewer.max_assignments < 0:
            raise ValueError(f"reviewer {reviewer.reviewer_id} has a negative max_assignments")
        index = revs.get(reviewer.reviewer_id)
        assert index is not None
        caps[index] = reviewer.max_assignments
    problem = _Problem(
        app_ids=apps.ordered,
        rev_ids=revs.ordered,
        per_application=per_application,
        need=[],
        existing_load=[0] * len(revs),
        remaining=[],
        conflicted=[set() for _ in range(len(apps))],
        existing=[set() for _ in range(len(apps))],
        affinity=[{} for _ in range(len(apps))],
    )
    _add_existing(problem, apps, revs, existing)
    for rev_id, app_id in conflicts:
        a, r = apps.get(app_id), revs.get(rev_id)
        if a is not None and r is not None:
            problem.conflicted[a].add(r)
    _add_affinities(problem, apps, revs, affinity)
    problem.need = [max(0, per_application - len(kept)) for kept in problem.existing]
    problem.remaining = [
        max(0, cap - load) for cap, load in zip(caps, problem.existing_load, strict=True)
    ]
    return problem


def _add_existing(problem: _Problem, apps: _Ids, revs: _Ids, existing: Sequence[Pair]) -> None:
    for app_id, rev_id in existing:
        a, r = apps.get(app_id), revs.get(rev_id)
        if a is None or r is None:
            raise ValueError(f"existing assignment {app_id}/{rev_id} is outside the round")
        if r in problem.existing[a]:
            raise ValueError(f"existing assignment {app_id}/{rev_id} is listed twice")
        problem.existing[a].add(r)
        problem.existing_load[r] += 1


def _add_affinities(
    problem: _Problem, apps: _Ids, revs: _Ids, affinity: Mapping[Pair, float]
) -> None:
    for (app_id, rev_id), value in affinity.items():
        a, r = apps.get(app_id), revs.get(rev_id)
        if a is not None and r is not None:
            if not math.isfinite(value):
                raise ValueError(f"affinity of {app_id}/{rev_id} is not a finite number")
            problem.affinity[a][r] = value


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
    """The value as written, without trailing zeros: integers exactly, floats by their shortest
    round-trip repr (so 0.1 is one tenth, and 2 and 2.0 are the same)."""
    if isinstance(value, int):
        return Decimal(value).normalize()
    return Decimal(str(float(value))).normalize()


def _decimals_needed(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


@dataclass(frozen=True, slots=True)
class _Costs:
    """Integer arc costs. Arc a->r costs ``top - affinity``; load level L costs ``unit*(2L-1)``."""

    decimals: int
    scaled: list[dict[int, int]]
    """Per application: reviewer -> scaled affinity, non-zero values only."""
    top: int
    unit: int

    def arc(self, a: int, r: int) -> int:
        return self.top - self.scaled[a].get(r, 0)


def _costs_at(problem: _Problem, exact: list[dict[int, Decimal]], decimals: int) -> _Costs | None:
    """Costs at ``decimals`` of affinity resolution, or None when they could overflow int64."""
    integral: dict[Decimal, int] = {}

    def scale(value: Decimal) -> int:
        if value not in integral:
            rounded = value.scaleb(decimals).to_integral_value(rounding=ROUND_HALF_EVEN)
            integral[value] = int(rounded)
        return integral[value]

    scaled: list[dict[int, int]] = []
    for row in exact:
        rounded = {r: scale(v) for r, v in row.items()}
        scaled.append({r: v for r, v in rounded.items() if v})
    values = [v for row in scaled for v in row.values()]
    top, bottom = max([0, *values]), min([0, *values])
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
    return _Costs(decimals, scaled, top, unit)


def _costs(problem: _Problem) -> _Costs:
    """Exact costs at the finest affinity resolution (at most 6 decimals) that fits int64."""
    known: dict[float, Decimal] = {}  # affinities repeat (keyword overlaps are small integers)
    exact = [
        {r: known[v] if v in known else known.setdefault(v, _exact(v)) for r, v in row.items()}
        for row in problem.affinity
    ]
    decimals = max(
        (min(MAX_AFFINITY_DECIMALS, _decimals_needed(v)) for row in exact for v in row.values()),
        default=0,
    )
    for k in range(decimals, -40, -1):
        costs = _costs_at(problem, exact, k)
        if costs is not None:
            return costs
    raise ValueError("the instance is too large for 64-bit flow costs")


# --- the candidate graph ----------------------------------------------------------------------


def _eligible(problem: _Problem, a: int, r: int) -> bool:
    return problem.remaining[r] > 0 and not problem.blocked(a, r)


def _initial_candidates(problem: _Problem, costs: _Costs) -> list[set[int]]:
    """Per application, with ``w = need + 2``: its ``3w`` best positive-affinity reviewers, ``w``
    zero-affinity reviewers handed out round-robin (so every reviewer gets about the same number
    of arcs and can reach a fair load), and its least negative ones while it has fewer than
    ``2w``. Only a starting point: ``_certify`` adds whatever else the optimum needs.
    """
    active = problem.active
    cursor = 0
    candidates: list[set[int]] = []
    for a, need in enumerate(problem.need):
        chosen: set[int] = set()
        width = need + _EXTRA_CANDIDATES if need else 0
        scaled = costs.scaled[a]
        ranked = sorted(
            (r for r in scaled if _eligible(problem, a, r)), key=lambda r: (-scaled[r], r)
        )
        chosen.update(r for r in ranked[: 3 * width] if scaled[r] > 0)
        taken = seen = 0
        while taken < width and seen < len(active):
            r = active[cursor]
            cursor, seen = (cursor + 1) % len(active), seen + 1
            if r not in scaled and not problem.blocked(a, r):
                chosen.add(r)
                taken += 1
        for r in (r for r in ranked if scaled[r] < 0):
            if len(chosen) >= 2 * width:
                break
            chosen.add(r)
        candidates.append(chosen)
    return candidates


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


def _arcs(costs: _Costs, candidates: list[set[int]]) -> tuple[IntArray, IntArray, IntArray]:
    apps = np.fromiter(
        (a for a, row in enumerate(candidates) for _ in row), dtype=np.int64, count=-1
    )
    revs = np.fromiter(
        (r for row in candidates for r in sorted(row)), dtype=np.int64, count=len(apps)
    )
    cost = np.fromiter(
        (costs.arc(int(a), int(r)) for a, r in zip(apps, revs, strict=True)),
        dtype=np.int64,
        count=len(apps),
    )
    return apps, revs, cost


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
    problem: _Problem, costs: _Costs, candidates: list[set[int]], *, hub: bool = False
) -> _Flow:
    """The min-cost flow over the candidate arcs (and, with ``hub``, over the relaxation's hub:
    any application to any reviewer at zero affinity)."""
    apps, revs, cost = _arcs(costs, candidates)
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


def _explicit_candidates(problem: _Problem, costs: _Costs) -> list[set[int]]:
    """Per application, the allowed reviewers with a positive (scaled) affinity."""
    return [
        {r for r, value in row.items() if value > 0 and _eligible(problem, a, r)}
        for a, row in enumerate(costs.scaled)
    ]


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
        return problem.blocked(a, r) or r in costs.scaled[a]

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
        targets, starts = np.unique(heads[order], return_index=True)
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
    n = len(problem.app_ids)
    found = [
        (a, n + r, costs.top - value)
        for a, row in enumerate(costs.scaled)
        if problem.need[a]
        for r, value in row.items()
        if r not in candidates[a] and _eligible(problem, a, r)
    ]
    arcs = np.array(found, dtype=np.int64).reshape(-1, 3)
    return _Arcs.of(arcs[:, 0], arcs[:, 1], arcs[:, 2])


class _Implicit:
    """The missing arcs without explicit affinity: from each application with a need to each
    reviewer below their cap that it does not exclude (candidate, conflicted, kept, or explicit),
    all at cost ``top``. Far too many to list, so they are relaxed all at once."""

    def __init__(self, problem: _Problem, costs: _Costs, candidates: list[set[int]]) -> None:
        self.problem, self.costs, self.candidates = problem, costs, candidates
        self.apps = np.array([a for a, need in enumerate(problem.need) if need], dtype=np.int64)
        self.inactive = np.asarray(problem.remaining, dtype=np.int64) == 0

    def _excluded(self, a: int) -> set[int]:
        problem = self.problem
        return (
            self.candidates[a]
            | self.costs.scaled[a].keys()
            | problem.conflicted[a]
            | problem.existing[a]
        )

    def _excludes(self, a: int, r: int) -> bool:
        return r in self.candidates[a] or r in self.costs.scaled[a] or self.problem.blocked(a, r)

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
            for a in itertools.islice(ranked, 1, None):
                if not self._excludes(a, r):
                    source[r], proposal[r] = a, distance[a] + top
                    break
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
    _check_existing(problem)
    _check_before_solving(problem)
    costs = _costs(problem)
    relaxed = _solve(problem, costs, _explicit_candidates(problem, costs), hub=True)
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
        flow = _solve(problem, costs, candidates)
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
    assignments = tuple(
        NewAssignment(
            problem.app_ids[a], problem.rev_ids[r], float(problem.affinity[a].get(r, 0.0))
        )
        for a, row in enumerate(assigned)
        for r in sorted(row)
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
