"""The planner's matrix input (``plan_assignments_from_matrices``) against its pairs input:
the same instance gives the same plan, or the same reason it has none; and the dense route
(column generation straight away) reaches the same optimum as the relaxation."""

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from unittest import mock

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st

from reviewers import planner
from reviewers.planner import (
    AssignmentInfeasible,
    AssignmentPlan,
    ConflictedExistingAssignment,
    ReviewerCapacity,
    plan_assignments,
    plan_assignments_from_matrices,
)


@dataclass(frozen=True)
class Case:
    n: int
    m: int
    per_application: int
    caps: list[int]
    affinity: dict[tuple[int, int], float]
    conflicts: set[tuple[int, int]]
    existing: set[tuple[int, int]]


Outcome = tuple[object, ...]


@st.composite
def instances(draw: st.DrawFn) -> Case:
    n = draw(st.integers(0, 7))
    m = draw(st.integers(0, 6))
    per_application = draw(st.integers(0, 3))
    caps = draw(st.lists(st.integers(0, 5), min_size=m, max_size=m))
    cells = st.tuples(st.integers(0, max(n - 1, 0)), st.integers(0, max(m - 1, 0)))
    pairs = draw(st.lists(cells, max_size=n * m)) if n and m else []
    values = st.one_of(
        st.integers(-5, 9).map(float),
        st.sampled_from([0.1, 0.25, 1.5, -0.3, 2.75, 1e-7, 0.1234567]),
    )
    affinity = {p: draw(values) for p in pairs}
    conflicts = set(draw(st.lists(cells, max_size=n * m))) if n and m else set()
    existing = set(draw(st.lists(cells, max_size=n))) if n and m else set()
    return Case(n, m, per_application, caps, affinity, conflicts, existing)


def both(case: Case) -> tuple[Outcome, Outcome]:
    n, m = case.n, case.m
    apps = [uuid.UUID(int=1000 + i) for i in range(n)]
    revs = [uuid.UUID(int=2000 + j) for j in range(m)]
    caps = [ReviewerCapacity(r, c) for r, c in zip(revs, case.caps, strict=True)]
    affinity, conflicts, existing = case.affinity, case.conflicts, case.existing
    per_application = case.per_application

    def outcome(call: Callable[[], AssignmentPlan]) -> Outcome:
        try:
            plan = call()
        except AssignmentInfeasible as error:
            return ("infeasible", error.constraint, error.shortfalls, error.competing_applications)
        except ConflictedExistingAssignment as error:
            return ("conflicted", error.pairs)
        return plan.assignments, plan.stats.total_affinity, plan.stats.min_load

    def as_pairs() -> AssignmentPlan:
        return plan_assignments(
            applications=apps,
            reviewers=caps,
            per_application=per_application,
            conflicts=[(revs[r], apps[a]) for a, r in conflicts],
            affinity={(apps[a], revs[r]): v for (a, r), v in affinity.items()},
            existing=[(apps[a], revs[r]) for a, r in sorted(existing)],
        )

    # The matrices list rows and columns in reverse order: order must not matter.
    def coo(cells: dict[tuple[int, int], float]) -> scipy.sparse.coo_array:
        rows = np.array([n - 1 - a for a, _ in cells], dtype=np.int64)
        cols = np.array([m - 1 - r for _, r in cells], dtype=np.int64)
        values = np.array(list(cells.values()), dtype=np.float64)
        return scipy.sparse.coo_array((values, (rows, cols)), shape=(n, m))

    def as_matrices() -> AssignmentPlan:
        return plan_assignments_from_matrices(
            applications=apps[::-1],
            reviewers=caps[::-1],
            per_application=per_application,
            affinity=coo(affinity).tocsr(),
            conflicts=coo(dict.fromkeys(conflicts, 1.0)),
            existing=coo(dict.fromkeys(existing, 1.0)).toarray(),
        )

    return outcome(as_pairs), outcome(as_matrices)


@settings(max_examples=150, deadline=None)
@given(instances())
def test_matrices_and_pairs_give_the_same_plan(instance: Case) -> None:
    pairs, matrices = both(instance)
    assert pairs == matrices


def dense(seed: int, n: int, m: int) -> Case:
    rng = np.random.default_rng(seed)
    values = np.round(rng.uniform(-0.2, 1.0, (n, m)), 2)
    return Case(
        n,
        m,
        2,
        rng.integers(1, 6, m).tolist(),
        {(a, r): float(values[a, r]) for a in range(n) for r in range(m)},
        {(a, r) for a in range(n) for r in range(m) if rng.random() < 0.05},
        set(),
    )


@pytest.mark.parametrize("seed", range(6))
def test_the_dense_route_reaches_the_relaxations_optimum(seed: int) -> None:
    """Every pair explicit: more explicit arcs than ``_DENSE_ARCS`` per unit of demand sends
    the planner to column generation at once; forcing the relaxation must agree on the
    objective (loads, then affinity), whichever optimal pairs each picks."""
    instance = dense(seed, 12, 140)
    with mock.patch.object(planner, "_DENSE_ARCS", 0):
        dense_route, _ = both(instance)
    with mock.patch.object(planner, "_DENSE_ARCS", 10**9):
        relaxed, _ = both(instance)
    if dense_route[0] == "infeasible":
        assert dense_route == relaxed
        return
    assert dense_route[1] == pytest.approx(relaxed[1], abs=1e-9)

    def loads(assignments: object) -> list[int]:
        assert isinstance(assignments, tuple)
        return sorted(Counter(x.reviewer_id for x in assignments).values())

    assert sum(x * x for x in loads(dense_route[0])) == sum(x * x for x in loads(relaxed[0]))


def test_matrices_of_the_wrong_shape_or_with_nan_are_refused() -> None:
    apps = [uuid.UUID(int=1), uuid.UUID(int=2)]
    revs = [ReviewerCapacity(uuid.UUID(int=3), 2)]
    with pytest.raises(ValueError, match="shape"):
        plan_assignments_from_matrices(
            applications=apps, reviewers=revs, per_application=1, affinity=np.ones((1, 2))
        )
    with pytest.raises(ValueError, match="not a finite number"):
        plan_assignments_from_matrices(
            applications=apps,
            reviewers=revs,
            per_application=1,
            affinity=np.array([[1.0], [np.nan]]),
        )
