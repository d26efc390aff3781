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

``python -m bench.bench_assignment`` prints the figures; ``python -m bench`` collects them.
"""

import argparse
import heapq
import json
import random
import resource
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any

from bench.support import load_average
from reviewers.planner import ReviewerCapacity, plan_assignments

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


def _in_subprocess(size: Size) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.bench_assignment", "--one", size.name],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


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


def run() -> list[dict[str, Any]]:
    figures: list[dict[str, Any]] = []
    for size in SIZES.values():
        measured = _in_subprocess(size)
        print(json.dumps(measured), flush=True)
        figures.extend(_figures(size, measured))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", choices=sorted(SIZES), help="measure one size in this process")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(SIZES[args.one])))
        return 0
    for f in run():
        print(
            f"{f['name']:<48} {f['value']:>10.3f} {f['unit']:<3} baseline {f['baseline']:>10.3f}"
            f"  ratio {f['ratio']:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
