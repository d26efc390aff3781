"""The canonical form: a decision's inputs as plain JSON values in one order and spelling (what
closing hashes and stores), read back for a recomputation, and the result as plain JSON values.
Both hashes of the audit chain are taken over these forms: a change here changes every hash."""

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from reviewers.decision.fixed import fixed_point, plain_decimal
from reviewers.decision.types import (
    SCORING_VERSION,
    Candidate,
    Criterion,
    ReviewInput,
    ScoringInputError,
    ShortlistInputs,
    ShortlistResult,
    ShortlistRules,
)


def canonical_inputs(
    *,
    rules: ShortlistRules,
    candidates: Iterable[Candidate],
    reviews: Iterable[ReviewInput],
) -> dict[str, Any]:
    """The inputs as plain JSON values in one canonical order and spelling (numbers as exact
    decimal strings without trailing zeros), for hashing with ``canonical_json``. Orderings that do
    not change the result (criteria, gates, applications, reviews) are sorted; ``tie_break`` keeps
    its order because it matters."""
    # Ids and scores repeat a great deal: spell each once (equal decimals spell the same).
    ids: dict[uuid.UUID, str] = {}
    decimals: dict[Decimal, str] = {}

    def spell_id(value: uuid.UUID) -> str:
        text = ids.get(value)
        if text is None:
            text = ids[value] = str(value)
        return text

    def spell_decimal(value: Decimal) -> str:
        text = decimals.get(value)
        if text is None:
            text = decimals[value] = plain_decimal(value)
        return text

    return {
        "scoring": SCORING_VERSION,
        "rules": {
            "criteria": [
                {
                    "key": c.key,
                    "weight": plain_decimal(c.weight),
                    "min": plain_decimal(c.min),
                    "max": plain_decimal(c.max),
                    "threshold": None if c.threshold is None else plain_decimal(c.threshold),
                }
                for c in sorted(rules.criteria, key=lambda c: c.key)
            ],
            "gates": sorted(rules.gates),
            "size": rules.size,
            "min_total": None if rules.min_total is None else plain_decimal(rules.min_total),
            "aggregate": rules.aggregate,
            "calibration": rules.calibration,
            "tie_break": list(rules.tie_break),
        },
        "applications": [
            {"application_id": str(c.application_id), "submitted_at": _rfc3339(c.submitted_at)}
            for c in sorted(candidates, key=lambda c: c.application_id.int)
        ],
        "reviews": [
            {
                "application_id": spell_id(r.application_id),
                "reviewer_id": spell_id(r.reviewer_id),
                "scores": {k: spell_decimal(v) for k, v in sorted(r.scores.items())},
                "gates": dict(sorted(r.gates.items())),
            }
            for r in sorted(reviews, key=lambda r: (r.application_id.int, r.reviewer_id.int))
        ],
    }


def inputs_from_canonical(*, data: Mapping[str, Any]) -> ShortlistInputs:
    """Read back what ``canonical_inputs`` produced (for recomputing a stored result)."""
    if data.get("scoring") != SCORING_VERSION:
        raise ScoringInputError(
            f"inputs were made for {data.get('scoring')!r}, not {SCORING_VERSION}"
        )
    raw_rules = data["rules"]
    rules = ShortlistRules(
        criteria=tuple(
            Criterion(
                key=c["key"],
                weight=Decimal(c["weight"]),
                min=Decimal(c["min"]),
                max=Decimal(c["max"]),
                threshold=None if c["threshold"] is None else Decimal(c["threshold"]),
            )
            for c in raw_rules["criteria"]
        ),
        gates=tuple(raw_rules["gates"]),
        size=raw_rules["size"],
        min_total=None if raw_rules["min_total"] is None else Decimal(raw_rules["min_total"]),
        aggregate=raw_rules["aggregate"],
        calibration=raw_rules["calibration"],
        tie_break=tuple(raw_rules["tie_break"]),
    )
    # Ids and scores repeat a great deal: parse each spelling once.
    ids: dict[str, uuid.UUID] = {}
    decimals: dict[str, Decimal] = {}

    def parse_id(text: str) -> uuid.UUID:
        value = ids.get(text)
        if value is None:
            value = ids[text] = uuid.UUID(text)
        return value

    def parse_decimal(text: str) -> Decimal:
        value = decimals.get(text)
        if value is None:
            value = decimals[text] = Decimal(text)
        return value

    candidates = tuple(
        Candidate(
            application_id=parse_id(a["application_id"]),
            submitted_at=datetime.fromisoformat(a["submitted_at"]),
        )
        for a in data["applications"]
    )
    reviews = tuple(
        ReviewInput(
            application_id=parse_id(r["application_id"]),
            reviewer_id=parse_id(r["reviewer_id"]),
            scores={k: parse_decimal(v) for k, v in r["scores"].items()},
            gates=dict(r["gates"]),
        )
        for r in data["reviews"]
    )
    return ShortlistInputs(rules=rules, candidates=candidates, reviews=reviews)


def result_to_dict(*, result: ShortlistResult) -> dict[str, Any]:
    """The result as plain JSON values (decimals as fixed-point strings with ``PLACES`` places)."""
    return {
        "scoring": SCORING_VERSION,
        "cutoff_total": fixed_point(result.cutoff_total),
        "n_rows": result.n_rows,
        "n_shortlisted": result.n_shortlisted,
        "n_stable": result.n_stable,
        "rows": [
            {
                "application_id": str(row.application_id),
                "rank": row.rank,
                "total": fixed_point(row.total),
                "criteria": {k: format(v, "f") for k, v in sorted(row.criteria.items())},
                "n_reviews": row.n_reviews,
                "gates_passed": row.gates_passed,
                "failed_gates": list(row.failed_gates),
                "shortlisted": row.shortlisted,
                "reason": row.reason.value,
                "margin": fixed_point(row.margin),
                "stable": row.stable,
            }
            for row in result.rows
        ],
    }


def _rfc3339(value: datetime) -> str:
    """UTC, microseconds always present, ``Z`` suffix: ``submissions.canonical.rfc3339``'s
    spelling, which the core cannot import (it imports nothing of the house); a unit test
    holds the two to the same text."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
