"""Benchmark: the decision record at closing size, without the database or the signature.

The round of ``bench_closing_core`` (10,000 applications x 4 reviews x 6 criteria, 2,500
reviewers). Timed, best of a few runs:

* making a record's payload and its RFC 8785 bytes from the stored inputs and result (what
  ``GET /rounds/{id}/decision-record`` does besides reading the row and signing);
* checking it as ``shortlist verify-record`` does (recomputation included);
* the RFC 8785 bytes of the inputs by ``canonical_bytes`` (its standard-encoder path) against
  the ``rfc8785`` package alone, alternated: the baseline of that figure is the package.

The baseline, measured in the same process on the same values, is what closing already does
with them: their canonical JSON (``submissions.canonical.canonical_json``) and SHA-256.

``python -m bench.bench_decision_record`` prints the figures; ``python -m bench`` collects them.
"""

import hashlib
import os
import sys
import uuid
from datetime import UTC, datetime
from typing import Any

import rfc8785

from bench.bench_closing_core import APPLICATIONS, REVIEWS_PER_APPLICATION, best_of, build
from reviewers.decision import canonical_inputs, compute_shortlist, result_to_dict
from reviewers.decision.record import (
    canonical_bytes,
    check_payload,
    parse_payload,
    record_payload,
)
from submissions.canonical import canonical_json

REPEATS = 2


def run() -> list[dict[str, Any]]:
    rules, candidates, reviews = build()
    inputs = canonical_inputs(rules=rules, candidates=candidates, reviews=reviews)
    result = result_to_dict(
        result=compute_shortlist(rules=rules, candidates=candidates, reviews=reviews)
    )

    def hashes() -> tuple[str, str]:
        return (
            hashlib.sha256(canonical_json(inputs)).hexdigest(),
            hashlib.sha256(canonical_json(result)).hexdigest(),
        )

    inputs_sha256, result_sha256 = hashes()
    baseline, baseline_cpu = best_of(REPEATS, hashes)
    made: list[bytes] = []

    def make() -> None:
        payload = record_payload(
            round_id=uuid.UUID(int=1),
            inputs=inputs,
            result=result,
            inputs_sha256=inputs_sha256,
            result_sha256=result_sha256,
            audit_head=None,
            issued_at=datetime(2026, 12, 7, tzinfo=UTC),
        )
        made.append(canonical_bytes(payload))

    label = f"decision record {APPLICATIONS}x{REVIEWS_PER_APPLICATION}"
    figures: list[dict[str, Any]] = []
    # The contained speed-up (``canonical_bytes``'s standard-encoder path) against the package
    # alone, alternated in this run, on the inputs (most of a record's bytes).
    package = fast = package_cpu = fast_cpu = float("inf")
    for _ in range(REPEATS):
        wall, cpu = best_of(1, lambda: rfc8785.dumps(inputs))
        package, package_cpu = min(package, wall), min(package_cpu, cpu)
        wall, cpu = best_of(1, lambda: canonical_bytes(inputs))
        fast, fast_cpu = min(fast, wall), min(fast_cpu, cpu)
    figures.append(
        {
            "name": f"{label} RFC 8785 bytes of the inputs (package: baseline)",
            "value": fast,
            "unit": "s",
            "baseline": package,
            "ratio": fast / package,
            "details": {
                "cpu_seconds": fast_cpu,
                "baseline_cpu_seconds": package_cpu,
                "load_average": os.getloadavg()[0],
            },
        }
    )
    seconds, cpu = best_of(REPEATS, make)
    payload_bytes = made[-1]
    figures.append(
        {
            "name": f"{label} payload + RFC 8785 bytes",
            "value": seconds,
            "unit": "s",
            "baseline": baseline,
            "ratio": seconds / baseline,
            "details": {
                "cpu_seconds": cpu,
                "baseline_cpu_seconds": baseline_cpu,
                "load_average": os.getloadavg()[0],
                "payload_bytes": len(payload_bytes),
            },
        }
    )

    def check() -> None:
        assert check_payload(parse_payload(payload_bytes)) is None

    seconds, cpu = best_of(REPEATS, check)
    figures.append(
        {
            "name": f"{label} verify (parse, recompute, hashes)",
            "value": seconds,
            "unit": "s",
            "baseline": baseline,
            "ratio": seconds / baseline,
            "details": {
                "cpu_seconds": cpu,
                "baseline_cpu_seconds": baseline_cpu,
                "load_average": os.getloadavg()[0],
            },
        }
    )
    return figures


def main() -> int:
    for f in run():
        details = f.get("details", {})
        print(
            f"{f['name']:<64} {f['value']:>7.3f} {f['unit']} (cpu {details['cpu_seconds']:.3f})  "
            f"baseline {f['baseline']:.3f} s  ratio {f['ratio']:.1f}  "
            f"load {details.get('load_average', os.getloadavg()[0]):.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
