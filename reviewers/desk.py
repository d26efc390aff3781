"""What the program officer's report and spreadsheet show of a closed round, loaded once: the
stored decision (its canonical inputs, result and hashes), the names behind its ids, its
conflicts, recusals and review completion, and the figures drawn from the decision core
(reviewers' means before and after calibration, each criterion's spread, the gate votes).

The figures come from the same core that decided (``reviewers.decision``): the calibrated
scores are those its ``prepare`` makes under the z-score rule, not a second implementation."""

import dataclasses
import statistics
import uuid
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from sqlmodel import Session, col, select

from models.applications import Application
from models.audit import AuditHead
from models.desk import RoundProgress
from models.errors import Conflict
from models.identity import Actor, Organization, User
from models.reviewers import Assignment, AssignmentStatus, Review, ReviewStatus, RoundResult
from models.rounds import Round, RoundStatus
from reviewers import conflict_detection
from reviewers.conflict_detection import ConflictSource, read_reason
from reviewers.conflicts import round_conflicts
from reviewers.decision import MIN_REVIEWS_FOR_CALIBRATION, inputs_from_canonical
from reviewers.decision.validation import prepare
from reviewers.pool import load_round
from reviewers.progress import IN_PLAY, round_progress
from submissions.organizations import ensure_admin

DECIDED = (RoundStatus.closed, RoundStatus.published)


@dataclass(frozen=True, slots=True)
class ConflictLine:
    reviewer_id: str
    reviewer: str
    application_id: str
    application: str
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class EndedAssignment:
    """An assignment that ended without counting: a recusal, or a conflict found later."""

    reviewer_id: str
    reviewer: str
    application_id: str
    application: str
    status: str
    ended_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReviewLine:
    """A submitted review, as the spreadsheet lists it; ``counted``: its assignment was active
    at close, so it is one of the decision's inputs."""

    application_id: str
    application: str
    reviewer_id: str
    reviewer: str
    scores: Mapping[str, Any]
    gates: Mapping[str, str]
    submitted_at: datetime | None
    counted: bool


@dataclass(frozen=True, slots=True)
class ReviewerMean:
    reviewer_id: str
    reviewer: str
    n_reviews: int
    raw: float
    """The mean of the reviewer's weighted review scores, sum(w x score) / sum(w)."""
    calibrated: float | None
    """The same over the z-score calibrated scores; ``None`` when the reviewer has too few
    reviews to be calibrated (the core keeps their raw scores)."""


@dataclass(frozen=True, slots=True)
class Spread:
    key: str
    n: int
    minimum: float
    q1: float
    median: float
    q3: float
    maximum: float
    mean: float
    values: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class GateVotes:
    application_id: str
    application: str
    gate: str
    passed: int
    failed: int


@dataclass(frozen=True, slots=True)
class Desk:
    round: Round
    closed_at: datetime
    inputs: Mapping[str, Any]
    result: Mapping[str, Any]
    inputs_sha256: str
    result_sha256: str
    audit_seq: int
    audit_head: str
    titles: Mapping[str, str]
    reviewer_names: Mapping[str, str]
    conflicts: Sequence[ConflictLine]
    ended: Sequence[EndedAssignment]
    reviews: Sequence[ReviewLine]
    progress: RoundProgress
    reviewer_means: Sequence[ReviewerMean]
    spreads: Sequence[Spread]
    gate_votes: Sequence[GateVotes]
    organization_names: Mapping[str, str] = field(default_factory=dict)
    """The names of the organizations the conflicts' reasons name by id (the report shows the
    name, the id only where an organization has none)."""


def load_desk(*, session: Session, actor: Actor, round_id: uuid.UUID, now: datetime) -> Desk:
    """Everything the report and the spreadsheet show of a closed or published round (admin;
    otherwise 409 ``round-not-closed``)."""
    ensure_admin(actor)
    round_ = load_round(session=session, round_id=round_id)
    stored = session.get(RoundResult, round_id)
    if round_.status not in DECIDED or stored is None:
        raise Conflict(
            "the report needs a closed or published round; "
            f"it is {RoundStatus(round_.status).value}",
            type="round-not-closed",
        )
    titles = {
        str(i): t
        for i, t in session.exec(
            select(Application.id, Application.title).where(Application.round_id == round_id)
        ).all()
    }
    progress = round_progress(session=session, actor=actor, round_id=round_id, now=now)
    assignments = list(session.exec(select(Assignment).where(Assignment.round_id == round_id)))
    submitted = list(
        session.exec(
            select(Review)
            .where(Review.round_id == round_id, Review.status == ReviewStatus.submitted)
            .order_by(col(Review.application_id), col(Review.reviewer_id))
        )
    )
    conflicts = round_conflicts(session=session, round_id=round_id, statuses=IN_PLAY)
    user_ids = (
        {a.reviewer_id for a in assignments}
        | {c.reviewer_id for c in conflicts}
        | {r.reviewer_id for r in progress.reviewers}
    )
    names = (
        {
            str(i): n
            for i, n in session.exec(
                select(User.id, User.name).where(col(User.id).in_(user_ids))
            ).all()
        }
        if user_ids
        else {}
    )
    organization_ids = _reason_organizations(conflicts)
    organization_names = (
        {
            str(i): n
            for i, n in session.exec(
                select(Organization.id, Organization.name).where(
                    col(Organization.id).in_(organization_ids)
                )
            ).all()
            if n
        }
        if organization_ids
        else {}
    )
    active = {a.id for a in assignments if a.status == AssignmentStatus.active}
    head = session.get(AuditHead, 1)
    inputs = stored.inputs
    return Desk(
        round=round_,
        closed_at=stored.closed_at,
        inputs=inputs,
        result=stored.result,
        inputs_sha256=stored.inputs_sha256,
        result_sha256=stored.result_sha256,
        audit_seq=head.seq if head else 0,
        audit_head=head.hash if head else "0" * 64,
        titles=titles,
        reviewer_names=names,
        conflicts=[
            ConflictLine(
                reviewer_id=str(c.reviewer_id),
                reviewer=names.get(str(c.reviewer_id), ""),
                application_id=str(c.application_id),
                application=titles.get(str(c.application_id), ""),
                reason=c.reason,
                source=c.source.value,
            )
            for c in conflicts
        ],
        ended=[
            EndedAssignment(
                reviewer_id=str(a.reviewer_id),
                reviewer=names.get(str(a.reviewer_id), ""),
                application_id=str(a.application_id),
                application=titles.get(str(a.application_id), ""),
                status=AssignmentStatus(a.status).value,
                ended_at=a.ended_at,
            )
            for a in sorted(assignments, key=lambda a: (a.ended_at is None, a.ended_at, a.id))
            if a.status != AssignmentStatus.active
        ],
        reviews=[
            ReviewLine(
                application_id=str(r.application_id),
                application=titles.get(str(r.application_id), ""),
                reviewer_id=str(r.reviewer_id),
                reviewer=names.get(str(r.reviewer_id), ""),
                scores=r.scores,
                gates=r.gates,
                submitted_at=r.submitted_at,
                counted=r.assignment_id in active,
            )
            for r in submitted
        ],
        progress=progress,
        reviewer_means=reviewer_means(inputs, names),
        spreads=spreads(inputs),
        gate_votes=gate_votes(inputs, stored.result, titles),
        organization_names=organization_names,
    )


def _reason_organizations(
    conflicts: Sequence[conflict_detection.Conflict],
) -> set[uuid.UUID]:
    """The organizations the detected conflicts' reasons name (by id)."""
    found: set[uuid.UUID] = set()
    for conflict in conflicts:
        read = read_reason(conflict.reason, ConflictSource(conflict.source))
        named = read[1].get("organization") if read else None
        if named is None:
            continue
        try:
            found.add(uuid.UUID(named))
        except ValueError:
            continue
    return found


def _sorted_reviews(inputs: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The inputs' reviews in the core's canonical order (application, then reviewer id)."""
    return sorted(
        inputs["reviews"],
        key=lambda r: (uuid.UUID(r["application_id"]).int, uuid.UUID(r["reviewer_id"]).int),
    )


def reviewer_means(inputs: Mapping[str, Any], names: Mapping[str, str]) -> list[ReviewerMean]:
    """Each reviewer's mean weighted score over the reviews that counted, raw and after the
    core's z-score calibration (whatever the round applied: the report says which)."""
    parsed = inputs_from_canonical(data=inputs)
    if not parsed.reviews:
        return []
    candidates, reviews = list(parsed.candidates), list(parsed.reviews)
    rules = {
        kind: prepare(dataclasses.replace(parsed.rules, calibration=kind), candidates, reviews)
        for kind in ("none", "zscore")
    }
    ordered = _sorted_reviews(inputs)
    raw_prep = rules["none"]
    counts = Counter(r["reviewer_id"] for r in ordered)

    def weighted_means(prep: Any) -> dict[str, Fraction]:
        denominator = Fraction(prep.agg_scale, prep.lcm_counts) * prep.weight_sum
        sums: dict[str, Fraction] = defaultdict(Fraction)
        for review, values in zip(ordered, prep.review_values, strict=True):
            weighted = sum(w * v for w, v in zip(prep.weights, values, strict=True))
            sums[review["reviewer_id"]] += Fraction(weighted) / denominator
        return {r: s / counts[r] for r, s in sums.items()}

    raw = weighted_means(raw_prep)
    calibrated = weighted_means(rules["zscore"])
    return [
        ReviewerMean(
            reviewer_id=r,
            reviewer=names.get(r, ""),
            n_reviews=counts[r],
            raw=float(raw[r]),
            calibrated=float(calibrated[r]) if counts[r] >= MIN_REVIEWS_FOR_CALIBRATION else None,
        )
        for r in sorted(raw, key=lambda r: (names.get(r, ""), r))
    ]


def spreads(inputs: Mapping[str, Any]) -> list[Spread]:
    """Each criterion's raw scores over the reviews that counted, and their quartiles."""
    out = []
    for criterion in inputs["rules"]["criteria"]:
        key = criterion["key"]
        values = tuple(float(r["scores"][key]) for r in inputs["reviews"])
        if not values:
            continue
        q1, q2, q3 = (
            statistics.quantiles(values, n=4, method="inclusive")
            if len(values) > 1
            else (values[0],) * 3
        )
        out.append(
            Spread(
                key=key,
                n=len(values),
                minimum=min(values),
                q1=q1,
                median=q2,
                q3=q3,
                maximum=max(values),
                mean=statistics.fmean(values),
                values=values,
            )
        )
    return out


def gate_votes(
    inputs: Mapping[str, Any], result: Mapping[str, Any], titles: Mapping[str, str]
) -> list[GateVotes]:
    """Per application (in the result's order) and gate, how many counted reviews passed and
    failed it."""
    tally: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for review in inputs["reviews"]:
        for gate, verdict in review["gates"].items():
            tally[(review["application_id"], gate)][verdict] += 1
    order = {row["application_id"]: i for i, row in enumerate(result["rows"])}
    return [
        GateVotes(
            application_id=a,
            application=titles.get(a, ""),
            gate=g,
            passed=votes["pass"],
            failed=votes["fail"],
        )
        for (a, g), votes in sorted(tally.items(), key=lambda i: (order.get(i[0][0], 0), i[0]))
    ]


def viewer_locale(*, session: Session, actor: Actor, default: str) -> str:
    """The language the viewer reads: their own ``locale``, else ``default``."""
    user = session.get(User, actor.user_id)
    return user.locale if user is not None and user.locale in ("en", "ko") else default
