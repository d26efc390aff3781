"""Assignment planning: constraints, exactness against independent solvers, balance,
infeasibility reasons, determinism, and the tight instance a greedy assigner gets wrong."""

import dataclasses
import itertools
import random
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ortools.graph.python import min_cost_flow  # type: ignore[import-untyped]

from reviewers import planner
from reviewers.planner import (
    AssignmentInfeasible,
    AssignmentMethod,
    AssignmentPlan,
    ConflictedExistingAssignment,
    InfeasibleConstraint,
    ReviewerCapacity,
    plan_assignments,
)
from tests.examples import examples

Pair = tuple[uuid.UUID, uuid.UUID]


@dataclass(frozen=True)
class Instance:
    applications: list[uuid.UUID]
    reviewers: list[ReviewerCapacity]
    per_application: int
    conflicts: set[Pair] = field(default_factory=set)
    """(reviewer_id, application_id)"""
    affinity: dict[Pair, float] = field(default_factory=dict)
    """(application_id, reviewer_id) -> affinity"""
    existing: list[Pair] = field(default_factory=list)
    """(application_id, reviewer_id)"""

    def plan(self) -> AssignmentPlan:
        return plan_assignments(
            applications=self.applications,
            reviewers=self.reviewers,
            per_application=self.per_application,
            conflicts=self.conflicts,
            affinity=self.affinity,
            existing=self.existing,
        )

    @property
    def reviewer_ids(self) -> list[uuid.UUID]:
        return [r.reviewer_id for r in self.reviewers]

    @cached_property
    def _kept(self) -> dict[uuid.UUID, set[uuid.UUID]]:
        kept: dict[uuid.UUID, set[uuid.UUID]] = {a: set() for a in self.applications}
        for a, r in self.existing:
            kept[a].add(r)
        return kept

    @cached_property
    def _remaining(self) -> dict[uuid.UUID, int]:
        return {
            r.reviewer_id: max(0, r.max_assignments - self.existing_load(r.reviewer_id))
            for r in self.reviewers
        }

    def kept(self, app: uuid.UUID) -> set[uuid.UUID]:
        return self._kept[app]

    def need(self, app: uuid.UUID) -> int:
        return max(0, self.per_application - len(self.kept(app)))

    def existing_load(self, reviewer: uuid.UUID) -> int:
        return sum(1 for _, r in self.existing if r == reviewer)

    def remaining(self, reviewer: uuid.UUID) -> int:
        return self._remaining[reviewer]

    def usable(self, app: uuid.UUID, reviewer: uuid.UUID) -> bool:
        """May get this pair as a new assignment (capacity aside from other assignments)."""
        return (
            (reviewer, app) not in self.conflicts
            and reviewer not in self.kept(app)
            and self.remaining(reviewer) > 0
        )

    def tenths(self, app: uuid.UUID, reviewer: uuid.UUID) -> int:
        return round(self.affinity.get((app, reviewer), 0) * 10)


def ids(count: int, seed: int) -> list[uuid.UUID]:
    rng = random.Random(seed)
    return [uuid.UUID(int=rng.getrandbits(128)) for _ in range(count)]


def loads(instance: Instance, new: list[Pair]) -> dict[uuid.UUID, int]:
    counted = Counter(r for _, r in [*instance.existing, *new])
    return {r: counted[r] for r in instance.reviewer_ids}


def pairs(plan: AssignmentPlan) -> list[Pair]:
    return [(x.application_id, x.reviewer_id) for x in plan.assignments]


def squares(instance: Instance, new: list[Pair]) -> int:
    return sum(load**2 for load in loads(instance, new).values())


def spread(instance: Instance, new: list[Pair]) -> int:
    values = loads(instance, new).values()
    return max(values) - min(values)


def affinity_tenths(instance: Instance, new: list[Pair]) -> int:
    return sum(instance.tenths(a, r) for a, r in new)


def assert_valid(instance: Instance, plan: AssignmentPlan) -> None:
    """Every hard constraint, and stats that agree with the assignments."""
    new = pairs(plan)
    assert new == sorted(set(new)), "sorted, no duplicates"
    for app in instance.applications:
        mine = {r for a, r in new if a == app}
        kept = instance.kept(app)
        assert not mine & kept, "kept assignments are not assigned again"
        assert len(mine) == instance.need(app)
        if len(kept) <= instance.per_application:
            assert len(mine | kept) == instance.per_application
        assert all((r, app) not in instance.conflicts for r in mine), "no conflicted pair"
    new_load = Counter(r for _, r in new)
    for reviewer in instance.reviewer_ids:
        assert new_load[reviewer] <= instance.remaining(reviewer), "within max_assignments"
    for item in plan.assignments:
        expected = instance.affinity.get((item.application_id, item.reviewer_id), 0.0)
        assert item.affinity == float(expected)
    panel = loads(instance, new).values()
    assert plan.stats.new_assignments == len(new)
    assert plan.stats.total_affinity == pytest.approx(sum(x.affinity for x in plan.assignments))
    assert (plan.stats.min_load, plan.stats.max_load) == (
        (min(panel), max(panel)) if panel else (0, 0)
    )


@contextmanager
def column_generation_only(*, from_scratch: bool = False) -> Iterator[None]:
    """Skips the relaxation route (and its hints), so column generation answers on its own;
    ``from_scratch`` also empties its first candidate graph, so that completing an infeasible
    candidate graph by augmenting paths is exercised too."""

    def nothing(problem: planner._Problem, *_: object) -> list[set[int]]:
        return [set() for _ in problem.app_ids]

    def no_pairs(problem: planner._Problem, *_: object) -> tuple[list[set[int]], bool]:
        return nothing(problem), False

    with mock.patch.object(planner, "_pair", no_pairs):
        if not from_scratch:
            yield
            return
        with mock.patch.object(planner, "_initial_candidates", nothing):
            yield


# --- an independent exact solver: brute force -------------------------------------------------


@dataclass(frozen=True)
class Optimum:
    squares: int
    """The least sum of squared loads of any plan."""
    affinity: int
    """The largest affinity (in tenths) among plans with that sum."""
    spread: int
    """The least max - min load of any plan."""


def brute_force(instance: Instance) -> Optimum | None:
    """Enumerates every plan (each application's choice of reviewers), None if none is valid."""
    apps = instance.applications
    options = [
        list(
            itertools.combinations(
                [r for r in instance.reviewer_ids if instance.usable(app, r)], instance.need(app)
            )
        )
        for app in apps
    ]
    room = {r: instance.remaining(r) for r in instance.reviewer_ids}
    best: tuple[int, int] | None = None
    least_spread: int | None = None
    for choice in itertools.product(*options):
        used = Counter(r for chosen in choice for r in chosen)
        if any(used[r] > room[r] for r in used):
            continue
        new = [(app, r) for app, chosen in zip(apps, choice, strict=True) for r in chosen]
        key = (squares(instance, new), -affinity_tenths(instance, new))
        best = key if best is None else min(best, key)
        s = spread(instance, new)
        least_spread = s if least_spread is None else min(least_spread, s)
    if best is None or least_spread is None:
        return None
    return Optimum(best[0], -best[1], least_spread)


# --- another: the dense min-cost flow, every allowed pair an arc ------------------------------


def dense_optimum(instance: Instance) -> tuple[int, int] | None:
    """(sum of squared loads, affinity in tenths) of the dense flow's optimum, None if infeasible.

    Written independently of the planner: all allowed arcs, one unit arc per load level.
    """
    apps, revs = instance.applications, instance.reviewer_ids
    arcs = [(a, r) for a in apps for r in revs if instance.usable(a, r)]
    values = [instance.tenths(a, r) for a, r in arcs]
    top, bottom = max([0, *values]), min([0, *values])
    demand = sum(instance.need(a) for a in apps)
    unit = demand * (top - bottom) + 1
    node = {x: i for i, x in enumerate([*apps, *revs])}
    sink = len(node)
    solver = min_cost_flow.SimpleMinCostFlow()
    for (a, r), value in zip(arcs, values, strict=True):
        solver.add_arc_with_capacity_and_unit_cost(node[a], node[r], 1, top - value)
    for r in revs:
        base = instance.existing_load(r)
        for level in range(base + 1, base + instance.remaining(r) + 1):
            solver.add_arc_with_capacity_and_unit_cost(node[r], sink, 1, unit * (2 * level - 1))
    for a in apps:
        solver.set_node_supply(node[a], instance.need(a))
    solver.set_node_supply(sink, -demand)
    if solver.solve() != solver.OPTIMAL:
        return None
    new = [arc for i, arc in enumerate(arcs) if solver.flow(i) > 0]
    return squares(instance, new), affinity_tenths(instance, new)


# --- the reasons given for infeasibility ------------------------------------------------------


def hall_capacity(instance: Instance, group: set[uuid.UUID]) -> int:
    """What the applications in ``group`` can get at most: each reviewer gives at most its
    remaining capacity, and at most one slot per application it may serve."""
    return sum(
        min(instance.remaining(r), sum(1 for a in group if instance.usable(a, r)))
        for r in instance.reviewer_ids
    )


def assert_reason(instance: Instance, error: AssignmentInfeasible) -> None:
    """The reported constraint is the right one, and its figures are exact."""
    assert error.status == 422
    available = {
        a: len(instance.kept(a)) + sum(1 for r in instance.reviewer_ids if instance.usable(a, r))
        for a in instance.applications
        if instance.need(a)
    }
    lacking = {a for a, count in available.items() if count < instance.per_application}
    demand = sum(instance.need(a) for a in instance.applications)
    capacity = sum(instance.remaining(r) for r in instance.reviewer_ids)
    if lacking:
        assert error.constraint is InfeasibleConstraint.unconflicted_reviewers
        assert {s.application_id for s in error.shortfalls} == lacking
        for s in error.shortfalls:
            assert (s.available, s.needed) == (
                available[s.application_id],
                instance.per_application,
            )
            assert s.message.startswith(
                f"application {s.application_id} has {s.available} unconflicted reviewer"
            )
            assert f", needs {s.needed}" in s.message
    elif demand > capacity:
        assert error.constraint is InfeasibleConstraint.total_capacity
        assert f"demand {demand} exceeds capacity {capacity}" in error.message
        assert error.shortfalls == ()
    else:
        assert error.constraint is InfeasibleConstraint.shared_reviewers
        group = set(error.competing_applications)
        short = {s.application_id for s in error.shortfalls}
        assert short
        assert short <= group
        group_need = sum(instance.need(a) for a in group)
        group_capacity = hall_capacity(instance, group)
        # The group truly cannot be served, and the shortfall reported is the least possible.
        assert group_need > group_capacity
        missing = sum(s.needed - s.available for s in error.shortfalls)
        assert missing == group_need - group_capacity
        assert f"need {group_need} more reviewer" in error.message
        assert f"can take only {group_capacity}" in error.message
    assert [e["loc"] for e in error.errors or []] == [
        ["applications", str(s.application_id)] for s in error.shortfalls
    ]


# --- hypothesis: small random instances against brute force -----------------------------------

VALUES = [-1, 0, 0.5, 1, 1.5, 2, 3]


@st.composite
def small_instances(draw: st.DrawFn) -> Instance:
    apps = draw(st.lists(st.uuids(), min_size=1, max_size=4, unique=True))
    revs = draw(st.lists(st.uuids(), min_size=1, max_size=5, unique=True))
    per_application = draw(st.integers(1, 2))
    cap = st.sampled_from([0, 1, 1, 2, 2, 3, 4])
    caps = draw(st.lists(cap, min_size=len(revs), max_size=len(revs)))
    every_pair = [(a, r) for a in apps for r in revs]
    conflicted = draw(st.sets(st.sampled_from(every_pair), max_size=len(every_pair) // 3))
    affinity = draw(st.dictionaries(st.sampled_from(every_pair), st.sampled_from(VALUES)))
    kept = draw(st.lists(st.sampled_from(every_pair), unique=True, max_size=3))
    existing: list[Pair] = []
    for a, r in kept:
        if (a, r) not in conflicted and sum(1 for x, _ in existing if x == a) < per_application:
            existing.append((a, r))
    return Instance(
        applications=apps,
        reviewers=[ReviewerCapacity(r, cap) for r, cap in zip(revs, caps, strict=True)],
        per_application=per_application,
        conflicts={(r, a) for a, r in conflicted},
        affinity=affinity,
        existing=existing,
    )


def check_against(
    optimum: Optimum | None, instance: Instance, solve: Callable[[], AssignmentPlan]
) -> None:
    if optimum is None:
        with pytest.raises(AssignmentInfeasible) as info:
            solve()
        assert_reason(instance, info.value)
        return
    plan = solve()
    assert_valid(instance, plan)
    new = pairs(plan)
    assert squares(instance, new) == optimum.squares
    assert spread(instance, new) == optimum.spread, "loads as even as the constraints allow"
    assert affinity_tenths(instance, new) == optimum.affinity, "most affinity among those"


@settings(max_examples=examples(80), deadline=None, derandomize=True)
@given(small_instances())
def test_plans_match_brute_force_or_report_the_right_reason(instance: Instance) -> None:
    optimum = brute_force(instance)

    check_against(optimum, instance, instance.plan)
    with column_generation_only():
        check_against(optimum, instance, instance.plan)
    with column_generation_only(from_scratch=True):
        check_against(optimum, instance, instance.plan)


@st.composite
def contested_instances(draw: st.DrawFn) -> Instance:
    """A group of applications that may only use a small pool of reviewers (the others are
    conflicted with them), in a panel with room to spare: infeasible, if at all, only jointly."""
    pool_size, spare_size = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    group_size, others = draw(st.integers(2, 3)), draw(st.integers(0, 1))
    fresh = draw(st.lists(st.uuids(), min_size=9, max_size=9, unique=True))
    group, other = fresh[:group_size], fresh[group_size : group_size + others]
    pool, spare = fresh[4 : 4 + pool_size], fresh[7 : 7 + spare_size]
    caps = [draw(st.integers(1, 2)) for _ in pool] + [draw(st.integers(2, 4)) for _ in spare]
    apps = group + other
    affinity = draw(
        st.dictionaries(
            st.sampled_from([(a, r) for a in apps for r in pool + spare]), st.sampled_from(VALUES)
        )
    )
    return Instance(
        applications=apps,
        reviewers=[ReviewerCapacity(r, c) for r, c in zip(pool + spare, caps, strict=True)],
        per_application=draw(st.integers(1, 2)),
        conflicts={(r, a) for a in group for r in spare},
        affinity=affinity,
    )


@settings(max_examples=examples(60), deadline=None, derandomize=True)
@given(contested_instances())
def test_contested_reviewers_match_brute_force_or_name_the_competing_group(
    instance: Instance,
) -> None:
    optimum = brute_force(instance)

    check_against(optimum, instance, instance.plan)
    with column_generation_only():
        check_against(optimum, instance, instance.plan)
    with column_generation_only(from_scratch=True):
        check_against(optimum, instance, instance.plan)


def outcome(instance: Instance) -> AssignmentPlan | AssignmentInfeasible:
    try:
        return instance.plan()
    except AssignmentInfeasible as error:
        return error


@settings(max_examples=examples(40), deadline=None, derandomize=True)
@given(small_instances(), st.randoms(use_true_random=False))
def test_the_same_input_in_any_order_gives_the_same_plan(
    instance: Instance, rng: random.Random
) -> None:
    shuffled = Instance(
        applications=rng.sample(instance.applications, len(instance.applications)),
        reviewers=rng.sample(instance.reviewers, len(instance.reviewers)),
        per_application=instance.per_application,
        conflicts=set(rng.sample(sorted(instance.conflicts), len(instance.conflicts))),
        affinity=dict(rng.sample(sorted(instance.affinity.items()), len(instance.affinity))),
        existing=rng.sample(instance.existing, len(instance.existing)),
    )
    first, second = outcome(instance), outcome(shuffled)
    if isinstance(first, AssignmentInfeasible):
        assert isinstance(second, AssignmentInfeasible)
        assert (second.message, second.shortfalls) == (first.message, first.shortfalls)
        return
    assert isinstance(second, AssignmentPlan)
    plan, other = first, second

    assert other.assignments == plan.assignments
    assert dataclasses.replace(other.stats, solve_seconds=0) == dataclasses.replace(
        plan.stats, solve_seconds=0
    )


# --- medium instances against the dense flow --------------------------------------------------


def random_instance(seed: int, apps: int, reviewers: int, per_application: int) -> Instance:
    rng = random.Random(seed)
    app_ids, rev_ids = ids(apps, seed), ids(reviewers, seed + 10_000)
    demand = apps * per_application
    low = max(1, demand // reviewers - 1)
    caps = [rng.randint(low, low + 4) for _ in rev_ids]
    conflicts = {(r, a) for a in app_ids for r in rev_ids if rng.random() < 0.1}
    affinity = {
        (a, r): rng.choice([0.5, 1, 2, 3.5, -1])
        for a in app_ids
        for r in rev_ids
        if rng.random() < 0.2
    }
    existing = [
        (a, r)
        for a in app_ids
        for r in rng.sample(rev_ids, 1)
        if (r, a) not in conflicts and rng.random() < 0.15
    ]
    return Instance(
        app_ids,
        [ReviewerCapacity(r, c) for r, c in zip(rev_ids, caps, strict=True)],
        per_application,
        conflicts,
        affinity,
        existing,
    )


@pytest.mark.parametrize(
    ("seed", "apps", "reviewers"), [*((seed, 40, 14) for seed in range(10)), (100, 200, 60)]
)
@pytest.mark.parametrize("route", ["default", "column_generation"])
def test_medium_instances_match_the_dense_flow(
    seed: int, apps: int, reviewers: int, route: str
) -> None:
    instance = random_instance(seed, apps=apps, reviewers=reviewers, per_application=3)
    expected = dense_optimum(instance)
    solve = instance.plan
    if route == "column_generation":
        with column_generation_only():
            if expected is None:
                with pytest.raises(AssignmentInfeasible):
                    solve()
                return
            plan = solve()
    elif expected is None:
        with pytest.raises(AssignmentInfeasible):
            solve()
        return
    else:
        plan = solve()

    assert_valid(instance, plan)
    new = pairs(plan)
    assert (squares(instance, new), affinity_tenths(instance, new)) == expected


# --- the tight instance a greedy assigner gets wrong ------------------------------------------


def greedy(instance: Instance) -> list[Pair] | None:
    """Applications in turn take their best unconflicted reviewers with room; None if stuck."""
    room = {r: instance.remaining(r) for r in instance.reviewer_ids}
    plan: list[Pair] = []
    for app in instance.applications:
        ranked = sorted(
            (r for r in instance.reviewer_ids if instance.usable(app, r) and room[r] > 0),
            key=lambda r: -instance.affinity.get((app, r), 0),
        )
        chosen = ranked[: instance.need(app)]
        if len(chosen) < instance.need(app):
            return None
        for r in chosen:
            room[r] -= 1
            plan.append((app, r))
    return plan


def tight_instance() -> Instance:
    """Demand 6 = capacity 6. R3 is conflicted with A3, so A3 must get R1 and R2; A1 and A2
    prefer R1 and R2, and a greedy pass that serves them first leaves A3 nothing."""
    a1, a2, a3 = ids(3, 1)
    r1, r2, r3 = ids(3, 2)
    return Instance(
        applications=[a1, a2, a3],
        reviewers=[ReviewerCapacity(r, 2) for r in (r1, r2, r3)],
        per_application=2,
        conflicts={(r3, a3)},
        affinity={(a1, r1): 5, (a1, r2): 5, (a2, r1): 5, (a2, r2): 5},
    )


def test_tight_instance_that_greedy_fails_is_solved_optimally() -> None:
    instance = tight_instance()
    a1, a2, a3 = instance.applications
    r1, r2, r3 = instance.reviewer_ids
    assert greedy(instance) is None

    plan = instance.plan()

    assert_valid(instance, plan)
    new = set(pairs(plan))
    assert {(a3, r1), (a3, r2), (a1, r3), (a2, r3)} <= new
    assert plan.stats.total_affinity == 10
    assert (plan.stats.min_load, plan.stats.max_load) == (2, 2)


def test_larger_tight_instance_with_conflicts() -> None:
    """Twelve applications, six reviewers, demand 24 = capacity 24, each reviewer conflicted
    with two applications; greedy by affinity gets stuck, the flow does not."""
    apps, revs = ids(12, 3), ids(6, 4)
    conflicts = {(revs[i % 6], apps[i]) for i in range(12)} | {
        (revs[(i + 1) % 6], apps[i]) for i in range(12)
    }
    affinity: dict[Pair, float] = {(a, revs[0]): 3 for a in apps}
    affinity |= {(a, revs[1]): 2 for a in apps}
    instance = Instance(apps, [ReviewerCapacity(r, 4) for r in revs], 2, conflicts, affinity)
    assert greedy(instance) is None

    plan = instance.plan()

    assert_valid(instance, plan)
    assert (plan.stats.min_load, plan.stats.max_load) == (4, 4)
    assert (squares(instance, pairs(plan)), affinity_tenths(instance, pairs(plan))) == (
        dense_optimum(instance)
    )


# --- infeasibility messages -------------------------------------------------------------------


def test_application_with_too_few_unconflicted_reviewers() -> None:
    (app,) = ids(1, 5)
    revs = ids(5, 6)
    instance = Instance(
        [app],
        [ReviewerCapacity(r, 0 if i == 4 else 3) for i, r in enumerate(revs)],
        3,
        conflicts={(revs[0], app), (revs[1], app)},
    )

    with pytest.raises(AssignmentInfeasible) as info:
        instance.plan()

    (shortfall,) = info.value.shortfalls
    assert info.value.constraint is InfeasibleConstraint.unconflicted_reviewers
    assert shortfall.message == (
        f"application {app} has 2 unconflicted reviewers, needs 3 "
        "(1 more is unconflicted but already at their max_assignments)"
    )
    assert info.value.errors == [{"loc": ["applications", str(app)], "msg": shortfall.message}]
    assert info.value.extra == {"constraint": "unconflicted_reviewers"}


def test_demand_beyond_total_capacity() -> None:
    instance = Instance(ids(15, 7), [ReviewerCapacity(r, 10) for r in ids(4, 8)], 3)

    with pytest.raises(AssignmentInfeasible) as info:
        instance.plan()

    assert info.value.constraint is InfeasibleConstraint.total_capacity
    assert info.value.message.startswith("demand 45 exceeds capacity 40")
    assert info.value.shortfalls == ()


def test_applications_competing_for_the_same_reviewers() -> None:
    """Each application alone has two usable reviewers and the panel has room for six, but
    both applications can only use R1 and R2, who have one slot each."""
    a1, a2 = ids(2, 9)
    r1, r2, r3 = ids(3, 10)
    instance = Instance(
        [a1, a2],
        [ReviewerCapacity(r1, 1), ReviewerCapacity(r2, 1), ReviewerCapacity(r3, 4)],
        2,
        conflicts={(r3, a1), (r3, a2)},
    )

    with pytest.raises(AssignmentInfeasible) as info:
        instance.plan()

    error = info.value
    assert error.constraint is InfeasibleConstraint.shared_reviewers
    assert set(error.competing_applications) == {a1, a2}
    assert error.message == (
        "2 applications compete for the same unconflicted reviewers: together they need 4 more "
        "reviewers, but those reviewers can take only 2 of them within their max_assignments"
    )
    assert sum(s.needed - s.available for s in error.shortfalls) == 2
    assert_reason(instance, error)


def test_kept_assignment_that_is_now_conflicted_is_refused() -> None:
    (app,) = ids(1, 11)
    (rev,) = ids(1, 12)
    instance = Instance([app], [ReviewerCapacity(rev, 2)], 1, {(rev, app)}, existing=[(app, rev)])

    with pytest.raises(ConflictedExistingAssignment) as info:
        instance.plan()

    assert info.value.status == 409
    assert info.value.pairs == ((app, rev),)


# --- existing assignments, caps and edge cases ------------------------------------------------


def test_existing_assignments_are_kept_counted_and_only_gaps_filled() -> None:
    a1, a2 = ids(2, 13)
    r1, r2, r3 = ids(3, 14)
    instance = Instance(
        [a1, a2],
        [ReviewerCapacity(r, 3) for r in (r1, r2, r3)],
        2,
        existing=[(a1, r1), (a2, r1)],
    )

    plan = instance.plan()

    assert_valid(instance, plan)
    # Each application keeps R1 and needs one more; R1's two kept assignments count, so the
    # new ones go one each to R2 and R3.
    assert [a for a, _ in pairs(plan)] == sorted([a1, a2])
    assert {r for _, r in pairs(plan)} == {r2, r3}
    assert (plan.stats.min_load, plan.stats.max_load) == (1, 2)


def test_over_served_applications_and_over_cap_reviewers_get_nothing_new() -> None:
    a1, a2 = ids(2, 15)
    r1, r2, r3 = ids(3, 16)
    instance = Instance(
        [a1, a2],
        [ReviewerCapacity(r1, 1), ReviewerCapacity(r2, 3), ReviewerCapacity(r3, 3)],
        1,
        existing=[(a1, r1), (a1, r2), (a2, r1)],
    )

    plan = instance.plan()

    assert pairs(plan) == []
    assert plan.stats.max_load == 2


def test_nothing_to_plan() -> None:
    empty = Instance([], [], 3).plan()
    assert (empty.assignments, empty.stats.new_assignments, empty.stats.max_load) == ((), 0, 0)
    zero = Instance(ids(2, 17), [ReviewerCapacity(r, 1) for r in ids(2, 18)], 0).plan()
    assert zero.assignments == ()


def test_negative_affinity_is_avoided_when_balance_allows() -> None:
    (app,) = ids(1, 19)
    r1, r2, r3 = ids(3, 20)
    instance = Instance(
        [app], [ReviewerCapacity(r, 1) for r in (r1, r2, r3)], 2, affinity={(app, r2): -2}
    )

    assert {r for _, r in pairs(instance.plan())} == {r1, r3}


def test_balance_comes_before_affinity() -> None:
    """Giving both applications the favourite reviewer would be worth more, but uneven."""
    a1, a2 = ids(2, 21)
    r1, r2 = ids(2, 22)
    instance = Instance(
        [a1, a2], [ReviewerCapacity(r, 2) for r in (r1, r2)], 1, affinity={(a1, r1): 5, (a2, r1): 4}
    )

    assert pairs(instance.plan()) == sorted([(a1, r1), (a2, r2)])


def test_large_caps_are_modelled_without_an_arc_per_possible_level() -> None:
    """One reviewer may take 1,000; the levels grow past the first guess and stay exact."""
    apps = ids(50, 23)
    big, *small = ids(5, 24)
    instance = Instance(
        apps,
        [ReviewerCapacity(big, 1000), *(ReviewerCapacity(r, 1) for r in small)],
        1,
        affinity={(apps[0], small[0]): 1},
    )

    plan = instance.plan()

    assert_valid(instance, plan)
    assert (plan.stats.min_load, plan.stats.max_load) == (1, 46)
    assert (squares(instance, pairs(plan)), affinity_tenths(instance, pairs(plan))) == (
        dense_optimum(instance)
    )


def test_both_exact_routes_are_reported() -> None:
    assert random_instance(1, 40, 14, 3).plan().stats.method is AssignmentMethod.relaxation
    with column_generation_only():
        plan = random_instance(1, 40, 14, 3).plan()
    assert plan.stats.method is AssignmentMethod.column_generation
    assert plan.stats.pricing_rounds >= 1


@pytest.mark.parametrize(
    ("values", "decimals"),
    [([1, 2, 3], 0), ([0.5, 2.0, 1], 1), ([0.25, 0.1], 2), ([1e-9, 0.5], 6), ([2.0, 10], 0)],
)
def test_affinities_are_compared_at_the_resolution_they_are_written_in(
    values: list[float], decimals: int
) -> None:
    apps = ids(len(values), 25)
    (rev,) = ids(1, 26)
    instance = Instance(
        apps,
        [ReviewerCapacity(rev, len(values))],
        1,
        affinity={(a, rev): v for a, v in zip(apps, values, strict=True)},
    )

    assert instance.plan().stats.affinity_decimals == decimals


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"applications": [uuid.UUID(int=1), uuid.UUID(int=1)]}, "duplicate application"),
        ({"reviewers": [ReviewerCapacity(uuid.UUID(int=2), -1)]}, "negative max_assignments"),
        ({"per_application": -1}, "must not be negative"),
        ({"existing": [(uuid.UUID(int=1), uuid.UUID(int=9))]}, "outside the round"),
        ({"existing": [(uuid.UUID(int=1), uuid.UUID(int=2))] * 2}, "listed twice"),
        ({"affinity": {(uuid.UUID(int=1), uuid.UUID(int=2)): float("nan")}}, "not a finite"),
    ],
)
def test_malformed_input_is_a_value_error(change: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {
        "applications": [uuid.UUID(int=1)],
        "reviewers": [ReviewerCapacity(uuid.UUID(int=2), 2)],
        "per_application": 1,
        "conflicts": set(),
        "affinity": {},
        "existing": [],
    } | change

    with pytest.raises(ValueError, match=message):
        plan_assignments(**arguments)  # type: ignore[arg-type]
