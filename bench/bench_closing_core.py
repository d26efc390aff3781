"""Benchmark: the shortlisting core (``reviewers.decision.compute_shortlist``) at closing size.

One seeded round: 10,000 applications x 4 reviews x 6 weighted criteria (scores 0-10 in half
points), 2,500 reviewers with 16 reviews each, one pass/fail gate failed by about 5% of reviews,
a threshold on one criterion, a shortlist of 1,000 and a two-item tie-break chain. Timed, best of
a few runs, with leave-one-reviewer-out stability included:

* ``mean`` without calibration, and ``median`` with z-score calibration;
* canonical inputs and result, and their SHA-256 (what a close stores beside the result).

The baseline, measured in the same process on the same inputs, is a trivial pass over them:
summing every score as a ``Decimal`` (the least work any exact computation must do). Target:
well under 3 s for the computation.

``python -m bench.bench_closing_core`` prints the figures; ``python -m bench`` collects them.
"""

import hashlib
import os
import random
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from reviewers.decision import (
    Aggregate,
    Calibration,
    Candidate,
    Criterion,
    ReviewInput,
    ShortlistResult,
    ShortlistRules,
    canonical_inputs,
    compute_shortlist,
    result_to_dict,
)
from submissions.canonical import canonical_json

APPLICATIONS = 10_000
REVIEWS_PER_APPLICATION = 4
REVIEWERS = 2_500
WEIGHTS = (3, 2, 2, 1, 1, 1)
SHORTLIST = 1_000
REPEATS = 3
TARGET_SECONDS = 3.0
SEED = 20_260_301


def build(
    seed: int = SEED,
) -> tuple[ShortlistRules, list[Candidate], list[ReviewInput]]:
    rng = random.Random(seed)
    keys = [f"c{i}" for i in range(len(WEIGHTS))]
    rules = ShortlistRules(
        criteria=tuple(
            Criterion(
                key=k,
                weight=Decimal(w),
                min=Decimal(0),
                max=Decimal(10),
                threshold=Decimal(3) if k == "c5" else None,
            )
            for k, w in zip(keys, WEIGHTS, strict=True)
        ),
        gates=("independent_development",),
        size=SHORTLIST,
        tie_break=("criterion:c0", "submitted_at"),
    )
    start = datetime(2026, 3, 1, tzinfo=UTC)
    applications = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(APPLICATIONS)]
    candidates = [
        Candidate(application_id=a, submitted_at=start + timedelta(seconds=rng.randrange(86_400)))
        for a in applications
    ]
    reviewers = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(REVIEWERS)]
    # Each reviewer takes the same number of reviews, as a balanced assignment gives.
    slots = [
        r for r in reviewers for _ in range(APPLICATIONS * REVIEWS_PER_APPLICATION // REVIEWERS)
    ]
    rng.shuffle(slots)
    halves = [Decimal(n) / 2 for n in range(21)]
    reviews: list[ReviewInput] = []
    for i, a in enumerate(applications):
        quality = rng.gauss(13, 3)
        panel = slots[i * REVIEWS_PER_APPLICATION : (i + 1) * REVIEWS_PER_APPLICATION]
        for position, r in enumerate(panel):
            while r in panel[:position]:  # a reviewer reviews an application at most once
                r = rng.choice(reviewers)
                panel[position] = r
            reviews.append(
                ReviewInput(
                    application_id=a,
                    reviewer_id=r,
                    scores={
                        k: halves[max(0, min(20, round(rng.gauss(quality, 2.5))))] for k in keys
                    },
                    gates={"independent_development": "fail" if rng.random() < 0.05 else "pass"},
                )
            )
    return rules, candidates, reviews


def sum_every_score(reviews: list[ReviewInput]) -> Decimal:
    total = Decimal(0)
    for review in reviews:
        for value in review.scores.values():
            total += value
    return total


def best_of(repeats: int, action: Callable[[], object]) -> tuple[float, float]:
    """The best wall-clock and the best CPU time of ``repeats`` runs (the least disturbed by
    other processes)."""
    wall = cpu = float("inf")
    for _ in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return wall, cpu


def _hashes(
    rules: ShortlistRules,
    candidates: list[Candidate],
    reviews: list[ReviewInput],
    result: ShortlistResult,
) -> tuple[str, str]:
    inputs = canonical_inputs(rules=rules, candidates=candidates, reviews=reviews)
    return (
        hashlib.sha256(canonical_json(inputs)).hexdigest(),
        hashlib.sha256(canonical_json(result_to_dict(result=result))).hexdigest(),
    )


def run() -> list[dict[str, Any]]:
    rules, candidates, reviews = build()
    label = f"closing core {APPLICATIONS}x{REVIEWS_PER_APPLICATION}x{len(WEIGHTS)}"
    baseline, baseline_cpu = best_of(REPEATS, lambda: sum_every_score(reviews))
    figures: list[dict[str, Any]] = []
    result: ShortlistResult | None = None
    variants: tuple[tuple[Aggregate, Calibration], ...] = (("mean", "none"), ("median", "zscore"))
    for aggregate, calibration in variants:
        variant = replace(rules, aggregate=aggregate, calibration=calibration)
        outcome: list[ShortlistResult] = []

        def close(
            variant: ShortlistRules = variant, outcome: list[ShortlistResult] = outcome
        ) -> None:
            outcome.append(compute_shortlist(rules=variant, candidates=candidates, reviews=reviews))

        seconds, cpu = best_of(REPEATS, close)
        result = outcome[-1]
        figures.append(
            {
                "name": f"{label} {aggregate}/{calibration} with stability",
                "value": seconds,
                "unit": "s",
                "baseline": baseline,
                "ratio": seconds / baseline,
                "target": TARGET_SECONDS,
                "details": {
                    "cpu_seconds": cpu,
                    "baseline_cpu_seconds": baseline_cpu,
                    "load_average": os.getloadavg()[0],
                    "reviewers": REVIEWERS,
                    "shortlisted": result.n_shortlisted,
                    "stable": result.n_stable,
                    "cutoff_total": str(result.cutoff_total),
                },
            }
        )
    assert result is not None
    final = result
    seconds, cpu = best_of(REPEATS, lambda: _hashes(rules, candidates, reviews, final))
    figures.append(
        {
            "name": f"{label} canonical inputs+result SHA-256",
            "value": seconds,
            "unit": "s",
            "baseline": baseline,
            "ratio": seconds / baseline,
            "details": {"cpu_seconds": cpu, "baseline_cpu_seconds": baseline_cpu},
        }
    )
    return figures


def main() -> int:
    for f in run():
        details = f.get("details", {})
        print(
            f"{f['name']:<64} {f['value']:>7.3f} {f['unit']} (cpu {details['cpu_seconds']:.3f})  "
            f"baseline {f['baseline']:.3f} s  ratio {f['ratio']:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
