"""Benchmark: automatic assignment (``reviewers.planner.plan_assignments``).

Two seeded instances, each with 1% of (reviewer, application) pairs conflicted and about 15
explicit affinities per application (one decimal, 0.1 - 5.0):

* 2,000 applications x 500 reviewers x 3 per application (target: under 10 s);
* 20,000 applications x 15,000 reviewers x 4 per application (target: under 5 minutes).

Each instance runs in its own subprocess, so its peak resident memory (``ru_maxrss``) is its
own. The baseline, measured in the same subprocess on the same data, is a one-pass greedy
assigner (each application in turn takes its highest-affinity free, unconflicted reviewers,
then the least-loaded ones): the least work any assigner must do to read the input and produce
a plan, with none of the guarantees.

Two more instances give the planner its input as matrices (``plan_assignments_from_matrices``):

* dense: 2,000 applications x 500 reviewers x 3, every pair scored (3 decimals), 1% conflicted.
  Target: under 1 s in all, building the input included. Baseline, in the same subprocess: the
  same instance through the pairs input (a dict keyed by id pairs, built from the same arrays),
  building included: the way the planner took its input before.
* national: 100,000 applications x 50,000 reviewers x 3, 50 affinities and 50 conflicts per
  application, caps of 12. Targets: under 2 minutes and 8 GB (peak RSS). Baseline: building the
  input matrices (the least any planner must do: read them). ``--national-scale F`` (or
  ``BENCH_NATIONAL_SCALE=F`` for ``make bench``) shrinks both sides by F; the full size takes
  about a minute of CPU here.

Wall seconds depend on the machine's load; each figure's details carry the CPU seconds
(``process_time``) and the load average beside the wall time.

``python -m bench.bench_assignment`` prints the figures; ``python -m bench`` collects them.
"""

import argparse
import heapq
import json
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse

from bench.support import load_average
from reviewers.planner import ReviewerCapacity, plan_assignments, plan_assignments_from_matrices

AFFINITIES_PER_APPLICATION = 15
CONFLICT_SHARE = 0.01


@dataclass(frozen=True, slots=True)
class Size:
    name: str
    applications: int
    reviewers: int
    per_application: int
    max_assignments: int
    target_seconds: float


SIZES = {
    "2k": Size("2k", 2_000, 500, 3, 15, 10.0),
    "20k": Size("20k", 20_000, 15_000, 4, 7, 300.0),
}


@dataclass(frozen=True, slots=True)
class Instance:
    applications: list[uuid.UUID]
    reviewers: list[ReviewerCapacity]
    conflicts: set[tuple[uuid.UUID, uuid.UUID]]
    affinity: dict[tuple[uuid.UUID, uuid.UUID], float]


def build(size: Size, seed: int = 20_260_101) -> Instance:
    rng = random.Random(seed)
    apps = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(size.applications)]
    revs = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(size.reviewers)]
    per_app_conflicts = max(1, round(size.reviewers * CONFLICT_SHARE))
    conflicts = {(r, a) for a in apps for r in rng.sample(revs, per_app_conflicts)}
    affinity = {
        (a, r): round(rng.uniform(0.1, 5.0), 1)
        for a in apps
        for r in rng.sample(revs, AFFINITIES_PER_APPLICATION)
    }
    return Instance(
        apps, [ReviewerCapacity(r, size.max_assignments) for r in revs], conflicts, affinity
    )


def greedy(instance: Instance, per_application: int) -> int:
    """One pass: best affinities first, then least-loaded reviewers. Returns slots left empty."""
    load = {r.reviewer_id: 0 for r in instance.reviewers}
    cap = {r.reviewer_id: r.max_assignments for r in instance.reviewers}
    by_app: dict[uuid.UUID, list[tuple[float, uuid.UUID]]] = {}
    for (a, r), value in instance.affinity.items():
        by_app.setdefault(a, []).append((-value, r))
    heap = [(0, r) for r in sorted(load)]
    unfilled = 0
    for a in instance.applications:
        chosen: set[uuid.UUID] = set()
        for _, r in sorted(by_app.get(a, [])):
            if len(chosen) == per_application:
                break
            if (r, a) not in instance.conflicts and load[r] < cap[r]:
                chosen.add(r)
                load[r] += 1
        skipped = []
        while len(chosen) < per_application and heap:
            count, r = heapq.heappop(heap)
            if count != load[r]:
                heapq.heappush(heap, (load[r], r))
                continue
            if r in chosen or (r, a) in instance.conflicts or load[r] >= cap[r]:
                skipped.append((count, r))
                continue
            chosen.add(r)
            load[r] += 1
            heapq.heappush(heap, (load[r], r))
        for item in skipped:
            heapq.heappush(heap, item)
        unfilled += per_application - len(chosen)
    return unfilled


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(size: Size) -> dict[str, Any]:
    """Builds and solves one instance in this process; returns its figures."""
    started = time.perf_counter()
    instance = build(size)
    built = time.perf_counter()
    rss_input = _max_rss_mb()
    unfilled = greedy(instance, size.per_application)
    greedy_seconds = time.perf_counter() - built
    solve_started = time.perf_counter()
    plan = plan_assignments(
        applications=instance.applications,
        reviewers=instance.reviewers,
        per_application=size.per_application,
        conflicts=instance.conflicts,
        affinity=instance.affinity,
        existing=[],
    )
    solve_seconds = time.perf_counter() - solve_started
    return {
        "size": size.name,
        "build_seconds": built - started,
        "greedy_seconds": greedy_seconds,
        "greedy_unfilled": unfilled,
        "solve_seconds": solve_seconds,
        "rss_input_mb": rss_input,
        "rss_peak_mb": _max_rss_mb(),
        "conflicts": len(instance.conflicts),
        "affinities": len(instance.affinity),
        "new_assignments": plan.stats.new_assignments,
        "total_affinity": plan.stats.total_affinity,
        "min_load": plan.stats.min_load,
        "max_load": plan.stats.max_load,
        "graph_edges": plan.stats.graph_edges,
        "method": plan.stats.method.value,
        "pricing_rounds": plan.stats.pricing_rounds,
        "load_average": load_average(),
    }


def _ids(rng: np.random.Generator, count: int) -> list[uuid.UUID]:
    return [uuid.UUID(int=int(x)) for x in rng.integers(1, 2**63, count)]


def measure_dense(seed: int = 20_261_207) -> dict[str, Any]:
    """The dense instance through matrices, then (the baseline) through pairs."""
    n, m, per_application, cap = 2_000, 500, 3, 15
    rng = np.random.default_rng(seed)
    apps, revs = _ids(rng, n), _ids(rng, m)
    scores = np.round(rng.uniform(0.0, 1.0, (n, m)), 3)
    conflicted = rng.random((n, m)) < 0.01
    reviewers = [ReviewerCapacity(r, cap) for r in revs]
    started, cpu = time.perf_counter(), time.process_time()
    plan = plan_assignments_from_matrices(
        applications=apps,
        reviewers=reviewers,
        per_application=per_application,
        affinity=scores,
        conflicts=conflicted,
    )
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    rows, cols = np.nonzero(conflicted)
    pairs_plan = plan_assignments(
        applications=apps,
        reviewers=reviewers,
        per_application=per_application,
        conflicts=[(revs[c], apps[r]) for r, c in zip(rows.tolist(), cols.tolist(), strict=True)],
        affinity={
            (apps[a], revs[r]): value
            for a, row in enumerate(scores.tolist())
            for r, value in enumerate(row)
        },
    )
    pairs_seconds, pairs_cpu = time.perf_counter() - started, time.process_time() - cpu
    return {
        "size": "dense",
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "pairs_seconds": pairs_seconds,
        "pairs_cpu_seconds": pairs_cpu,
        "same_plan": plan.assignments == pairs_plan.assignments,
        "total_affinity": plan.stats.total_affinity,
        "min_load": plan.stats.min_load,
        "max_load": plan.stats.max_load,
        "method": plan.stats.method.value,
        "graph_edges": plan.stats.graph_edges,
        "rss_peak_mb": _max_rss_mb(),
        "load_average": load_average(),
    }


def measure_national(scale: float = 1.0, seed: int = 20_261_208) -> dict[str, Any]:
    n, m = max(10, int(100_000 * scale)), max(10, int(50_000 * scale))
    k, per_application, cap = min(50, m // 2), 3, 12
    started, cpu = time.perf_counter(), time.process_time()
    rng = np.random.default_rng(seed)
    apps, revs = _ids(rng, n), _ids(rng, m)
    # Each application: k scored reviewers and k conflicted ones, all distinct.
    chosen = np.argsort(rng.random((n, m)), axis=1)[:, : 2 * k] if m <= 2_000 else None
    if chosen is None:
        chosen = rng.integers(0, m, (n, 2 * k))
    rows = np.repeat(np.arange(n), k)
    affinity = scipy.sparse.csr_array(
        (np.round(rng.uniform(0.01, 1.0, n * k), 4), (rows, chosen[:, :k].ravel())), shape=(n, m)
    )
    conflicts = scipy.sparse.csr_array(
        (np.ones(n * k, dtype=np.bool_), (rows, chosen[:, k:].ravel())), shape=(n, m)
    )
    reviewers = [ReviewerCapacity(r, cap) for r in revs]
    build_seconds, build_cpu = time.perf_counter() - started, time.process_time() - cpu
    rss_input = _max_rss_mb()
    started, cpu = time.perf_counter(), time.process_time()
    plan = plan_assignments_from_matrices(
        applications=apps,
        reviewers=reviewers,
        per_application=per_application,
        affinity=affinity,
        conflicts=conflicts,
    )
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    return {
        "size": "national",
        "applications": n,
        "reviewers": m,
        "scale": scale,
        "build_seconds": build_seconds,
        "build_cpu_seconds": build_cpu,
        "seconds": seconds,
        "cpu_seconds": cpu_seconds,
        "affinities": int(affinity.nnz),
        "conflicts": int(conflicts.nnz),
        "new_assignments": plan.stats.new_assignments,
        "total_affinity": plan.stats.total_affinity,
        "min_load": plan.stats.min_load,
        "max_load": plan.stats.max_load,
        "method": plan.stats.method.value,
        "graph_edges": plan.stats.graph_edges,
        "rss_input_mb": rss_input,
        "rss_peak_mb": _max_rss_mb(),
        "load_average": load_average(),
    }


def _in_subprocess(name: str, *extra: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_assignment", "--one", name, *extra],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _matrix_figures(dense: dict[str, Any], national: dict[str, Any]) -> list[dict[str, Any]]:
    label = f"assignment {national['applications']}x{national['reviewers']}x3 sparse"
    return [
        {
            "name": "assignment 2000x500x3 dense, matrix input",
            "value": dense["seconds"],
            "unit": "s",
            "baseline": dense["pairs_seconds"],
            "ratio": dense["seconds"] / dense["pairs_seconds"],
            "target": 1.0,
            "details": dense,
        },
        {
            "name": f"{label} solve",
            "value": national["seconds"],
            "unit": "s",
            "baseline": national["build_seconds"],
            "ratio": national["seconds"] / national["build_seconds"],
            "target": 120.0,
            "details": national,
        },
        {
            "name": f"{label} peak RSS",
            "value": national["rss_peak_mb"],
            "unit": "MB",
            "baseline": national["rss_input_mb"],
            "ratio": national["rss_peak_mb"] / national["rss_input_mb"],
            "target": 8192.0,
        },
    ]


def _figures(size: Size, m: dict[str, Any]) -> list[dict[str, Any]]:
    label = f"assignment {size.applications}x{size.reviewers}x{size.per_application}"
    return [
        {
            "name": f"{label} solve",
            "value": m["solve_seconds"],
            "unit": "s",
            "baseline": m["greedy_seconds"],
            "ratio": m["solve_seconds"] / m["greedy_seconds"],
            "target": size.target_seconds,
            "details": m,
        },
        {
            "name": f"{label} peak RSS",
            "value": m["rss_peak_mb"],
            "unit": "MB",
            "baseline": m["rss_input_mb"],
            "ratio": m["rss_peak_mb"] / m["rss_input_mb"],
        },
    ]


def run(national_scale: float | None = None) -> list[dict[str, Any]]:
    if national_scale is None:
        national_scale = float(os.environ.get("BENCH_NATIONAL_SCALE", "1"))
    figures: list[dict[str, Any]] = []
    for size in SIZES.values():
        measured = _in_subprocess(size.name)
        print(json.dumps(measured), flush=True)
        figures.extend(_figures(size, measured))
    dense = _in_subprocess("dense")
    print(json.dumps(dense), flush=True)
    national = _in_subprocess("national", "--national-scale", str(national_scale))
    print(json.dumps(national), flush=True)
    figures.extend(_matrix_figures(dense, national))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--one", choices=[*sorted(SIZES), "dense", "national"], help="measure one in this process"
    )
    parser.add_argument(
        "--national-scale",
        type=float,
        default=float(os.environ.get("BENCH_NATIONAL_SCALE", "1")),
        help="shrink the national instance by this factor (default 1: 100,000 x 50,000)",
    )
    args = parser.parse_args()
    if args.one == "dense":
        print(json.dumps(measure_dense()))
        return 0
    if args.one == "national":
        print(json.dumps(measure_national(args.national_scale)))
        return 0
    if args.one:
        print(json.dumps(measure(SIZES[args.one])))
        return 0
    for f in run(args.national_scale):
        print(
            f"{f['name']:<48} {f['value']:>10.3f} {f['unit']:<3} baseline {f['baseline']:>10.3f}"
            f"  ratio {f['ratio']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
