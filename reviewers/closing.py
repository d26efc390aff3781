"""Closing a round: compute the shortlist from the stored reviews by the published rules,
store it with the hashes of its canonical inputs and result, set every submitted application's
outcome, and release the results to applicants on publish."""

import gc
import hashlib
import json
import uuid
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from itertools import chain
from operator import itemgetter
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select

from models.applications import Application, ApplicationOrganization, ApplicationStatus
from models.base import UTCDateTime
from models.errors import Conflict, Forbidden, NotFound, Unprocessable
from models.identity import Actor, OrganizationMember, Role
from models.results import (
    RankingAdminBase,
    RankingRowAdmin,
    RankingRowApplicant,
    RankingRowBase,
    ResultsAdmin,
    ResultsApplicant,
    ShortlistPreview,
)
from models.reviewers import Assignment, AssignmentStatus, Review, ReviewStatus, RoundResult
from models.rounds import Round, RoundStatus
from reviewers.conflicts import conflicted_assignments, end_conflicted_assignments
from reviewers.decision import (
    Candidate,
    Criterion,
    ReviewInput,
    ScoringInputError,
    ShortlistInputs,
    ShortlistRules,
    canonical_inputs,
    compute_shortlist,
    inputs_from_canonical,
    plain_decimal,
    result_to_dict,
)
from reviewers.pool import load_round
from reviewers.reviews import exact
from submissions.canonical import canonical_json, rfc3339
from submissions.exports import csv_line
from submissions.organizations import ensure_admin
from submissions.rounds import LIFECYCLE, RoundTransition, ensure_status, transition_round


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused: a close makes hundreds of thousands of small
    objects that live until it ends, and each full collection on the way would walk them all
    again (a third of the time, measured). Nothing it makes is cyclic; reference counting
    still frees it. A collector paused already (by a caller) stays paused."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def sha256_of(value: Any) -> str:
    return hashlib.sha256(canonical_json(value)).hexdigest()


def rules_of(round_: Round) -> ShortlistRules:
    config = round_.config()
    return ShortlistRules(
        criteria=tuple(
            Criterion(
                key=c.key,
                weight=exact(c.weight),
                min=exact(c.min),
                max=exact(c.max),
                threshold=None if c.threshold is None else exact(c.threshold),
            )
            for c in config.criteria
        ),
        gates=tuple(g.key for g in config.gates),
        size=config.shortlist.size,
        min_total=None if config.shortlist.min_total is None else exact(config.shortlist.min_total),
        aggregate=config.shortlist.aggregate.value,
        calibration=config.shortlist.calibration.value,
        tie_break=tuple(config.shortlist.tie_break),
    )


def missing_reviews(*, session: Session, round_id: uuid.UUID) -> list[Assignment]:
    """Active assignments of submitted applications without a submitted review."""
    return list(
        session.exec(
            select(Assignment)
            .join(Application, col(Application.id) == Assignment.application_id)
            .outerjoin(
                Review,
                sa.and_(
                    col(Review.assignment_id) == Assignment.id,
                    col(Review.status) == ReviewStatus.submitted,
                ),
            )
            .where(
                Assignment.round_id == round_id,
                Assignment.status == AssignmentStatus.active,
                Application.status == ApplicationStatus.submitted,
                col(Review.id).is_(None),
            )
        ).all()
    )


def gather_inputs(*, session: Session, round_: Round) -> dict[str, Any]:
    """The canonical inputs of the round's decision: its rules, the submitted applications and
    the submitted reviews of active assignments (reviews of recused or conflicted assignments
    take no part)."""
    return _gather(session, round_)[0]


def _gather(
    session: Session,
    round_: Round,
    excluded: Collection[tuple[uuid.UUID, uuid.UUID]] = frozenset(),
) -> tuple[dict[str, Any], ShortlistInputs]:
    """``gather_inputs`` and what ``inputs_from_canonical`` reads back from it, made together:
    the same values, without spelling tens of thousands of reviews out and parsing them back.
    Reviews of the ``excluded`` (application id, reviewer id) pairs are left out as well."""
    # Ids come as the database's text, each parsed once (the reviews' come the same way).
    uuids = _Parsed(_id)
    applications = sorted(
        (
            (*uuids[text], rfc3339(submitted_at), text)
            for text, submitted_at in session.execute(
                sa.select(
                    sa.cast(_APPLICATION.c.id, sa.Text),
                    sa.func.coalesce(
                        _APPLICATION.c.submitted_at, _APPLICATION.c.updated_at, type_=UTCDateTime()
                    ),
                ).where(
                    _APPLICATION.c.round_id == round_.id,
                    _APPLICATION.c.status.in_(
                        [
                            ApplicationStatus.submitted.value,
                            ApplicationStatus.shortlisted.value,
                            ApplicationStatus.not_selected.value,
                        ]
                    ),
                )
            )
        ),
        key=lambda a: a[0].int,
    )
    inputs = canonical_inputs(rules=rules_of(round_), candidates=(), reviews=())
    rules = inputs_from_canonical(data=inputs).rules
    inputs["applications"] = [
        {"application_id": spelled, "submitted_at": at} for _, spelled, at, _ in applications
    ]
    candidates = tuple(
        Candidate(application_id=application_id, submitted_at=datetime.fromisoformat(at))
        for application_id, _, at, _ in applications
    )
    ids = {c.application_id for c in candidates}
    known = {text for *_, text in applications}  # the same ids as the reviews' text
    # A round has tens of thousands of reviews: their columns come as the database's text, and
    # the ids, the verdicts and the numbers (which repeat a great deal) are parsed once each.
    rows = session.execute(
        sa.select(
            sa.cast(_REVIEW.c.application_id, sa.Text),
            sa.cast(_REVIEW.c.reviewer_id, sa.Text),
            sa.cast(_REVIEW.c.scores, sa.Text),
            sa.cast(_REVIEW.c.gates, sa.Text),
        )
        .join(_ASSIGNMENT, _ASSIGNMENT.c.id == _REVIEW.c.assignment_id)
        .where(
            _REVIEW.c.round_id == round_.id,
            _REVIEW.c.status == ReviewStatus.submitted.value,
            _ASSIGNMENT.c.status == AssignmentStatus.active.value,
        )
    ).all()
    numbers = _Numbers()
    all_scores = numbers.load(row[2] for row in rows)
    verdicts = _Parsed(_verdicts)
    reviews: list[tuple[int, int, dict[str, Any], ReviewInput]] = []
    spell = numbers.spelling
    for (application_text, reviewer_text, _, gates_text), scores in zip(
        rows, all_scores, strict=True
    ):
        application_id, application_spelled = uuids[application_text]
        if application_text not in known and application_id not in ids:
            continue
        reviewer_id, reviewer_spelled = uuids[reviewer_text]
        if excluded and (application_id, reviewer_id) in excluded:
            continue
        items = sorted(scores.items())
        gates, gates_copy = verdicts[gates_text]
        reviews.append(
            (
                application_id.int,
                reviewer_id.int,
                {
                    "application_id": application_spelled,
                    "reviewer_id": reviewer_spelled,
                    "scores": {k: spell[v] for k, v in items},
                    "gates": gates,
                },
                ReviewInput(
                    application_id=application_id,
                    reviewer_id=reviewer_id,
                    scores=dict(items),
                    gates=gates_copy,
                ),
            )
        )
    reviews.sort(key=itemgetter(0, 1))
    inputs["reviews"] = [r[2] for r in reviews]
    return inputs, ShortlistInputs(
        rules=rules, candidates=candidates, reviews=tuple(r[3] for r in reviews)
    )


class _Parsed(dict[str, Any]):
    """Text to its parsed value, each distinct text parsed once."""

    def __init__(self, parse: Callable[[str], Any]) -> None:
        super().__init__()
        self.parse = parse

    def __missing__(self, text: str) -> Any:
        value = self[text] = self.parse(text)
        return value


def _id(text: str) -> tuple[uuid.UUID, str]:
    value = uuid.UUID(text)
    return value, str(value)


def _verdicts(text: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A review's gates as canonical inputs spell them, and as they are read back."""
    gates = dict(sorted(json.loads(text).items()))
    return gates, dict(gates)


class _Numbers:
    """Reviews' scores from their JSON text, as the ORM column, ``exact`` and a round trip
    through the canonical inputs would make them: each number becomes the ``Decimal`` of its
    canonical spelling (``7``, ``7.0`` and ``7.00`` all ``Decimal("7")``), the same object for
    equal numbers, and ``spelling`` maps it back to that spelling."""

    def __init__(self) -> None:
        self.spelling: dict[Decimal, str] = {}
        self.parsed: dict[str, Decimal] = {}
        self.floats = _Parsed(lambda text: self.number(float(text)))
        self.ints = _Parsed(lambda text: self.number(int(text)))
        self.constants = _Parsed(lambda text: self.number(float(text)))

    def number(self, value: Any) -> Decimal:
        text = plain_decimal(exact(value))
        found = self.parsed.get(text)
        if found is None:
            found = self.parsed[text] = Decimal(text)
            self.spelling[found] = text
        return found

    def load(self, texts: Iterable[str]) -> list[dict[str, Any]]:
        """Every text at once (one ``json.loads``, not one per review)."""
        loaded: list[dict[str, Any]] = json.loads(
            "[" + ",".join(texts) + "]",
            parse_float=self.floats.__getitem__,
            parse_int=self.ints.__getitem__,
            parse_constant=self.constants.__getitem__,
        )
        if set(map(type, chain.from_iterable(map(dict.values, loaded)))) - {Decimal}:
            # Not numbers (data written by other means): what ``exact`` makes of them, or its
            # error, one by one as the ORM path would.
            loaded = [
                {k: v if type(v) is Decimal else self.number(v) for k, v in scores.items()}
                for scores in loaded
            ]
        return loaded


def compute_from_inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    with _refused_as_problem():
        parsed = inputs_from_canonical(data=inputs)
    return _compute(parsed)


def _compute(parsed: ShortlistInputs) -> dict[str, Any]:
    with _refused_as_problem():
        result = compute_shortlist(
            rules=parsed.rules, candidates=parsed.candidates, reviews=parsed.reviews
        )
    return result_to_dict(result=result)


@contextmanager
def _refused_as_problem() -> Iterator[None]:
    """The decision core's refusal as the domain's 422 problem, same type, title and errors
    (the core is pure: it imports nothing of the house, ``models.errors`` included)."""
    try:
        yield
    except ScoringInputError as refused:
        raise Unprocessable(
            refused.detail, type=refused.type, title=refused.title, errors=refused.errors
        ) from refused


def preview(*, session: Session, actor: Actor, round_id: uuid.UUID) -> ShortlistPreview:
    """What closing now would decide, stored nowhere (admin; round in review): the reviews of
    assignments conflicted now are left out, as closing would end them."""
    ensure_admin(actor)
    round_ = load_round(session=session, round_id=round_id)
    if round_.status != RoundStatus.review:
        raise Conflict("a preview needs the round in review", type="round-not-in-review")
    conflicted = {
        (a.application_id, a.reviewer_id)
        for a, _ in conflicted_assignments(session=session, round_id=round_id)
    }
    missing = [
        a
        for a in missing_reviews(session=session, round_id=round_id)
        if (a.application_id, a.reviewer_id) not in conflicted
    ]
    with collector_paused():
        inputs, parsed = _gather(session, round_, conflicted)
        return _admin_view(
            ShortlistPreview,
            closed_at=None,
            inputs_sha256=sha256_of(inputs),
            result=_compute(parsed),
            missing=len(missing),
        )


def close_round(
    *,
    session: Session,
    actor: Actor,
    round_id: uuid.UUID,
    allow_missing_reviews: bool,
    now: datetime,
) -> Round:
    """``review -> closed`` in one transaction: lock the round, end every assignment whose
    reviewer is conflicted with its application now (however the conflict came about: its review
    never counts), compute the shortlist from the stored reviews, store it with its hashes, set
    each submitted application to ``shortlisted`` or ``not_selected``, and write the audit
    event. A second close is 409."""
    ensure_admin(actor)
    round_ = load_round(session=session, round_id=round_id, lock=True)
    ensure_status(round_, LIFECYCLE[RoundTransition.close])
    conflicted = end_conflicted_assignments(
        session=session, actor=actor, now=now, round_id=round_id
    )
    missing = missing_reviews(session=session, round_id=round_id)
    if missing and not allow_missing_reviews:
        raise Conflict(
            f"{len(missing)} assigned reviews are not submitted; "
            'send {"allow_missing_reviews": true} to close anyway',
            type="reviews-missing",
            errors=[
                {"loc": ["assignments", str(a.id)], "msg": "review not submitted"}
                for a in missing[:100]
            ],
        )
    with collector_paused():
        inputs, parsed = _gather(session, round_)
        result = _compute(parsed)
        inputs_json, result_json = canonical_json(inputs), canonical_json(result)
        inputs_sha256 = hashlib.sha256(inputs_json).hexdigest()
        result_sha256 = hashlib.sha256(result_json).hexdigest()
        if session.get_bind().dialect.name == "postgresql":
            # The stored inputs are megabytes of JSON: compressed with lz4 where the server has
            # it (a quarter of a second faster than the default pglz at 10,000 applications),
            # for this transaction only; reading either back is the same.
            session.execute(
                sa.text(
                    "SELECT set_config('default_toast_compression', 'lz4', true) "
                    "FROM pg_settings WHERE name = 'default_toast_compression' "
                    "AND 'lz4' = ANY(enumvals)"
                )
            )
        session.execute(
            sa.insert(_RESULT).values(
                round_id=round_id,
                closed_at=now,
                closed_by=actor.user_id,
                inputs=_json_value(session, inputs, inputs_json),
                inputs_sha256=inputs_sha256,
                result=_json_value(session, result, result_json),
                result_sha256=result_sha256,
            )
        )
        _set_outcomes(
            session=session,
            round_id=round_id,
            shortlisted=[
                uuid.UUID(r["application_id"]) for r in result["rows"] if r["shortlisted"]
            ],
            now=now,
        )
        return transition_round(
            session=session,
            actor=actor,
            round=round_,
            transition=RoundTransition.close,
            now=now,
            data={
                "inputs_sha256": inputs_sha256,
                "result_sha256": result_sha256,
                "shortlisted": [r["application_id"] for r in result["rows"] if r["shortlisted"]],
                "missing_reviews": len(missing),
                "conflicted_assignments": len(conflicted),
            },
        )


_APPLICATION = Application.__table__  # type: ignore[attr-defined]
_REVIEW = Review.__table__  # type: ignore[attr-defined]
_ASSIGNMENT = Assignment.__table__  # type: ignore[attr-defined]
_RESULT = RoundResult.__table__  # type: ignore[attr-defined]


def _json_value(session: Session, value: Any, canonical: bytes) -> Any:  # noqa: ARG001
    """What a JSON column of the stored result is given: the canonical JSON already made for
    the hash, not a second serialization of ``value``. The columns keep their text as given
    (``JSONText``), so the stored bytes are the hashed bytes, on both databases."""
    text = sa.literal(canonical.decode(), sa.Text)
    if session.get_bind().dialect.name == "postgresql":
        return sa.cast(text, postgresql.JSON)
    return text


_OUTCOME_CHUNK = 5_000
"""Ids per ``IN`` list when outcomes are set (SQLite takes up to 32,766 parameters)."""


def _set_outcomes(
    *, session: Session, round_id: uuid.UUID, shortlisted: list[uuid.UUID], now: datetime
) -> None:
    """Each submitted application of the round becomes ``shortlisted`` or ``not_selected``, in
    two statements (one more per 5,000 shortlisted) whatever the round's size (a new version,
    as any change makes)."""
    submitted = sa.and_(
        _APPLICATION.c.round_id == round_id,
        _APPLICATION.c.status == ApplicationStatus.submitted.value,
    )
    changed = {"version": _APPLICATION.c.version + 1, "updated_at": now}
    for start in range(0, len(shortlisted), _OUTCOME_CHUNK):
        session.execute(
            sa.update(_APPLICATION)
            .where(submitted, _APPLICATION.c.id.in_(shortlisted[start : start + _OUTCOME_CHUNK]))
            .values(status=ApplicationStatus.shortlisted.value, **changed)
        )
    session.execute(
        sa.update(_APPLICATION)
        .where(submitted)
        .values(status=ApplicationStatus.not_selected.value, **changed)
    )


def publish_round(*, session: Session, actor: Actor, round_id: uuid.UUID, now: datetime) -> Round:
    """``closed -> published``: applicants see their outcomes and feedback."""
    ensure_admin(actor)
    round_ = load_round(session=session, round_id=round_id, lock=True)
    return transition_round(
        session=session, actor=actor, round=round_, transition=RoundTransition.publish, now=now
    )


Row = TypeVar("Row", bound=RankingRowBase)
View = TypeVar("View", bound=RankingAdminBase)


def _number(value: str | None) -> float | None:
    return None if value is None else float(Decimal(value))


def _row(model: type[Row], row: dict[str, Any], **only_for: Any) -> Row:
    """A stored result row as ``model``: the fields every reader sees, and ``only_for`` that
    reader's own."""
    return model(
        application_id=row["application_id"],
        rank=row["rank"],
        total=_number(row["total"]),
        total_exact=row["total"],
        criteria={k: float(Decimal(v)) for k, v in row["criteria"].items()},
        n_reviews=row["n_reviews"],
        gates_passed=row["gates_passed"],
        shortlisted=row["shortlisted"],
        reason=row["reason"],
        **only_for,
    )


def _admin_row(row: dict[str, Any]) -> RankingRowAdmin:
    return _row(RankingRowAdmin, row, margin=_number(row["margin"]), stable=row["stable"])


def _admin_view(
    model: type[View],
    *,
    closed_at: datetime | None,
    inputs_sha256: str,
    result: dict[str, Any],
    missing: int = 0,
) -> View:
    return model(
        closed_at=closed_at,
        inputs_sha256=inputs_sha256,
        result_sha256=sha256_of(result),
        cutoff_total=_number(result["cutoff_total"]),
        n_shortlisted=result["n_shortlisted"],
        n_stable=result["n_stable"],
        missing_reviews=missing,
        ranking=[_admin_row(r) for r in result["rows"]],
    )


def _stored(session: Session, round_: Round) -> RoundResult:
    stored = session.get(RoundResult, round_.id)
    if stored is None:
        raise Conflict("the round has no result until it is closed", type="round-not-closed")
    return stored


def results(
    *, session: Session, actor: Actor, round_id: uuid.UUID
) -> ResultsAdmin | ResultsApplicant:
    """Admins: the whole ranking. Applicants, once published: their own applications' rows
    with the reviewers' comments to them (no identities, no confidential comments)."""
    round_ = load_round(session=session, round_id=round_id)
    if actor.is_admin:
        stored = _stored(session, round_)
        return _admin_view(
            ResultsAdmin,
            closed_at=stored.closed_at,
            inputs_sha256=stored.inputs_sha256,
            result=stored.result,
        )
    if not actor.has_role(Role.applicant):
        raise Forbidden("results are for admins and applicants", type="forbidden-role")
    published_at = round_.published_at
    if round_.status != RoundStatus.published or published_at is None:
        raise Forbidden("the results are not published yet", type="not-published")
    stored = _stored(session, round_)
    own = set(
        session.exec(
            select(ApplicationOrganization.application_id)
            .join(
                OrganizationMember,
                col(OrganizationMember.organization_id) == ApplicationOrganization.organization_id,
            )
            .where(
                ApplicationOrganization.round_id == round_id,
                OrganizationMember.user_id == actor.user_id,
            )
        ).all()
    )
    comments: dict[uuid.UUID, list[str]] = defaultdict(list)
    for review in session.exec(
        select(Review)
        .join(Assignment, col(Assignment.id) == Review.assignment_id)
        .where(
            col(Review.application_id).in_(own),
            Review.status == ReviewStatus.submitted,
            Assignment.status == AssignmentStatus.active,
        )
        .order_by(col(Review.submitted_at), col(Review.id))
    ):
        if review.comment_to_applicant.strip():
            comments[review.application_id].append(review.comment_to_applicant)
    rows = []
    for row in stored.result["rows"]:
        application_id = uuid.UUID(row["application_id"])
        if application_id in own:
            rows.append(
                _row(
                    RankingRowApplicant,
                    row,
                    comments_to_applicant=comments.get(application_id, []),
                )
            )
    return ResultsApplicant(closed_at=stored.closed_at, published_at=published_at, ranking=rows)


CSV_COLUMNS = (
    "rank",
    "application_id",
    "title",
    "total",
    "n_reviews",
    "gates_passed",
    "shortlisted",
    "reason",
    "margin",
    "stable",
)


def results_csv(*, session: Session, actor: Actor, round_id: uuid.UUID) -> str:
    """The ranking as CSV with exact decimals and one column per criterion (admin)."""
    ensure_admin(actor)
    round_ = load_round(session=session, round_id=round_id)
    stored = _stored(session, round_)
    titles = dict(
        session.exec(
            select(Application.id, Application.title).where(Application.round_id == round_id)
        ).all()
    )
    keys = sorted({k for row in stored.result["rows"] for k in row["criteria"]})
    # Every cell goes through export_cell: titles are the applicants' text (formula injection).
    lines = [csv_line([*CSV_COLUMNS, *(f"criterion:{k}" for k in keys)])]
    for row in stored.result["rows"]:
        lines.append(
            csv_line(
                [
                    row["rank"],
                    row["application_id"],
                    titles.get(uuid.UUID(row["application_id"]), ""),
                    _decimal(row["total"]),
                    row["n_reviews"],
                    row["gates_passed"],
                    row["shortlisted"],
                    row["reason"],
                    _decimal(row["margin"]),
                    row["stable"],
                    *(_decimal(row["criteria"].get(k)) for k in keys),
                ]
            )
        )
    return "".join(lines)


def _decimal(text: str | None) -> Decimal | None:
    """A stored exact value (the text the result's hash covers) as the number it spells."""
    return None if text is None else Decimal(text)


def verify_result(*, session: Session, round_id: uuid.UUID) -> dict[str, Any]:
    """Recompute a closed round's result from its stored inputs and compare the hashes."""
    stored = session.get(RoundResult, round_id)
    if stored is None:
        raise NotFound("the round has no stored result")
    with collector_paused():
        inputs_ok = sha256_of(stored.inputs) == stored.inputs_sha256
        recomputed = compute_from_inputs(stored.inputs)
        recomputed_sha = sha256_of(recomputed)
    return {
        "round_id": str(round_id),
        "inputs_sha256": stored.inputs_sha256,
        "inputs_intact": inputs_ok,
        "stored_result_sha256": stored.result_sha256,
        "recomputed_result_sha256": recomputed_sha,
        "ok": inputs_ok and recomputed_sha == stored.result_sha256,
    }
