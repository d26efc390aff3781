"""The decision core's value types: the rules, the candidates and reviews going in, the ranked
rows coming out, and the error that refuses inconsistent inputs. Plain values, no I/O."""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

SCORING_VERSION = "shortlist-scoring/1"
"""Names this algorithm in canonical inputs and results, so a stored hash says how it was made."""

PLACES = 12
"""Decimal places of every published value (aggregates, totals, margins)."""

CALIBRATION_PLACES = 6
"""Decimal places of a z-score calibrated score."""

MIN_REVIEWS_FOR_CALIBRATION = 3

Aggregate = Literal["mean", "median"]
Calibration = Literal["none", "zscore"]
GateVerdict = Literal["pass", "fail"]


class Reason(StrEnum):
    SHORTLISTED = "shortlisted"
    GATE_FAILED = "gate_failed"
    BELOW_THRESHOLD = "below_threshold"
    BELOW_MIN_TOTAL = "below_min_total"
    BELOW_CUTOFF = "below_cutoff"


class ScoringInputError(ValueError):
    """Rules, applications or reviews that do not fit together; ``errors`` locates each.

    It carries its status and problem type as the domain's errors do (``models.errors``), but
    the core imports nothing of the house: closing turns it into a 422 problem."""

    status = 422
    type = "invalid-scoring-input"
    title = "Invalid scoring input"

    def __init__(self, detail: str, *, errors: Sequence[Mapping[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors) if errors is not None else None


@dataclass(frozen=True, slots=True)
class Criterion:
    key: str
    weight: Decimal
    min: Decimal
    max: Decimal
    threshold: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ShortlistRules:
    criteria: tuple[Criterion, ...]
    gates: tuple[str, ...] = ()
    size: int | None = None
    min_total: Decimal | None = None
    aggregate: Aggregate = "mean"
    calibration: Calibration = "none"
    tie_break: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Candidate:
    """A submitted application taking part in the close."""

    application_id: uuid.UUID
    submitted_at: datetime


@dataclass(frozen=True, slots=True)
class ReviewInput:
    """A submitted review: every criterion scored and every gate decided."""

    application_id: uuid.UUID
    reviewer_id: uuid.UUID
    scores: Mapping[str, Decimal]
    gates: Mapping[str, GateVerdict]


@dataclass(frozen=True, slots=True)
class ShortlistInputs:
    rules: ShortlistRules
    candidates: tuple[Candidate, ...]
    reviews: tuple[ReviewInput, ...]


@dataclass(frozen=True, slots=True)
class ShortlistRow:
    """One application's outcome and why. ``rank`` is ``None`` for a row failing a gate, a
    threshold or ``min_total``; ``total`` and ``criteria`` (published aggregates by criterion key)
    are shown for every row with a review; ``failed_gates`` lists, by key, the gates a majority of
    its reviews failed."""

    application_id: uuid.UUID
    rank: int | None
    total: Decimal | None
    criteria: Mapping[str, Decimal]
    n_reviews: int
    gates_passed: bool
    failed_gates: tuple[str, ...]
    shortlisted: bool
    reason: Reason
    margin: Decimal | None
    """Shortlisted: total minus the first ranked row below the cut-off (``None`` when no ranked row
    was cut). Below the cut-off: the last shortlisted total minus this total (``None`` when nobody
    was shortlisted). Unranked rows: ``None``. Zero means the tie-break chain decided."""
    stable: bool
    """The outcome is the same with any single reviewer's reviews left out."""


@dataclass(frozen=True, slots=True)
class ShortlistResult:
    rows: tuple[ShortlistRow, ...]
    cutoff_total: Decimal | None
    """The total of the last shortlisted row; ``None`` when nobody is shortlisted."""
    n_shortlisted: int
    n_stable: int
    n_rows: int
