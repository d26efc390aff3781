"""Programs and rounds: configuration checked on the way in, and the round lifecycle
``draft -> open -> review -> closed -> published`` as explicit, audited transitions.

Every edge of the lifecycle is a row of ``LIFECYCLE``; ``transition_round`` moves a locked round
along one and writes its audit event. Each public transition (``open_round``, ``start_review``,
and later ``close_round``/``publish_round``) checks its own guards, then calls it.
"""

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlmodel import Session, col, select

from models.concurrency import Precondition
from models.errors import Conflict, InvalidTransition, NotFound, Unprocessable
from models.events import EventAudience, EventType
from models.identity import Actor
from models.pagination import Page, PageRequest
from models.rounds import (
    Program,
    ProgramCreate,
    ProgramPublic,
    Round,
    RoundConfig,
    RoundCreate,
    RoundPublic,
    RoundStatus,
    RoundUpdate,
)
from submissions import audit, outbox
from submissions.canonical import jsonable, rfc3339
from submissions.organizations import ensure_admin
from submissions.pagination import paginate

TIE_BREAK_FIELDS = frozenset({"submitted_at", "id"})
CRITERION_PREFIX = "criterion:"


class RoundTransition(StrEnum):
    open = "open"
    start_review = "start_review"
    close = "close"
    publish = "publish"


@dataclass(frozen=True, slots=True)
class Edge:
    source: RoundStatus
    target: RoundStatus
    action: str
    """The audit action written for the transition."""
    stamp: str
    """The round's timestamp column set to the moment of the transition."""


LIFECYCLE: Mapping[RoundTransition, Edge] = {
    RoundTransition.open: Edge(RoundStatus.draft, RoundStatus.open, "round.opened", "opened_at"),
    RoundTransition.start_review: Edge(
        RoundStatus.open, RoundStatus.review, "round.review_started", "review_started_at"
    ),
    RoundTransition.close: Edge(
        RoundStatus.review, RoundStatus.closed, "round.closed", "closed_at"
    ),
    RoundTransition.publish: Edge(
        RoundStatus.closed, RoundStatus.published, "round.published", "published_at"
    ),
}

CHANGEABLE_ONCE_OPEN: Mapping[RoundStatus, frozenset[str]] = {
    RoundStatus.open: frozenset({"submission_deadline", "grace_seconds", "review_deadline"}),
    RoundStatus.review: frozenset({"review_deadline"}),
}
"""What a PATCH may still change after the round has opened: deadlines, and only later."""


# --- programs ----------------------------------------------------------------------------------


def create_program(
    *, session: Session, actor: Actor, data: ProgramCreate, now: datetime
) -> Program:
    ensure_admin(actor)
    program = Program(
        name=data.name, description=data.description, created_by=actor.user_id, created_at=now
    )
    session.add(program)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="program.created",
        object_type="program",
        object_id=program.id,
        now=now,
        data={"name": program.name},
    )
    return program


def get_program(*, session: Session, actor: Actor, program_id: uuid.UUID) -> Program:
    ensure_admin(actor)
    program = session.get(Program, program_id)
    if program is None:
        raise NotFound("no such program")
    return program


def list_programs(*, session: Session, actor: Actor, page: PageRequest) -> Page[ProgramPublic]:
    ensure_admin(actor)
    return paginate(
        session,
        select(Program),
        keys=[Program.created_at, Program.id],  # type: ignore[list-item]
        page=page,
        present=lambda rows: [ProgramPublic.model_validate(p) for p in rows],
    )


# --- round configuration -----------------------------------------------------------------------


def round_config_errors(config: RoundConfig) -> list[dict[str, Any]]:
    """The cross-field rules a round configuration breaks (pure; ``loc`` under ``body``)."""
    errors: list[dict[str, Any]] = []

    def error(loc: Sequence[str | int], msg: str) -> None:
        errors.append({"loc": ["body", *loc], "msg": msg})

    if not config.opens_at < config.submission_deadline:
        error(["submission_deadline"], "must be after opens_at")
    if not config.submission_deadline <= config.review_deadline:
        error(["review_deadline"], "must not be before submission_deadline")

    criteria: set[str] = set()
    for i, criterion in enumerate(config.criteria):
        if criterion.key in criteria:
            error(["criteria", i, "key"], f"duplicate criterion key {criterion.key!r}")
        criteria.add(criterion.key)
        if not criterion.min < criterion.max:
            error(["criteria", i, "max"], "must be greater than min")
        elif criterion.threshold is not None and not (
            criterion.min <= criterion.threshold <= criterion.max
        ):
            error(["criteria", i, "threshold"], "must lie within [min, max]")
    gates: set[str] = set()
    for i, gate in enumerate(config.gates):
        if gate.key in gates:
            error(["gates", i, "key"], f"duplicate gate key {gate.key!r}")
        gates.add(gate.key)
    kinds: set[str] = set()
    for i, document in enumerate(config.required_documents):
        if document.kind in kinds:
            error(["required_documents", i, "kind"], f"duplicate document kind {document.kind!r}")
        kinds.add(document.kind)

    seen: set[str] = set()
    for i, item in enumerate(config.shortlist.tie_break):
        loc: list[str | int] = ["shortlist", "tie_break", i]
        if item in seen:
            error(loc, f"duplicate tie-break {item!r}")
        seen.add(item)
        if item in TIE_BREAK_FIELDS:
            continue
        if item.startswith(CRITERION_PREFIX):
            if item.removeprefix(CRITERION_PREFIX) not in criteria:
                error(loc, f"{item!r} names no criterion of this round")
            continue
        error(loc, "must be criterion:<key>, submitted_at or id")

    eligibility = config.eligibility
    if len(set(eligibility.exclude_shortlisted_from)) != len(eligibility.exclude_shortlisted_from):
        error(["eligibility", "exclude_shortlisted_from"], "lists a round twice")
    if eligibility.only_shortlisted_from in eligibility.exclude_shortlisted_from:
        error(
            ["eligibility", "only_shortlisted_from"],
            "a round cannot both admit and exclude its shortlist",
        )
    return errors


def validate_round_config(
    *,
    session: Session,
    config: RoundConfig,
    program_id: uuid.UUID,
    round_id: uuid.UUID | None = None,
) -> None:
    """Refuse (422, each problem in ``errors``) a configuration that breaks a rule, including
    eligibility that names a round outside this program (or the round itself)."""
    errors = round_config_errors(config)
    eligibility = config.eligibility
    references: list[tuple[list[str | int], uuid.UUID]] = []
    if eligibility.only_shortlisted_from is not None:
        references.append((["only_shortlisted_from"], eligibility.only_shortlisted_from))
    references += [
        (["exclude_shortlisted_from", i], rid)
        for i, rid in enumerate(eligibility.exclude_shortlisted_from)
    ]
    if references:
        known = set(
            session.exec(
                select(Round.id).where(
                    col(Round.id).in_([rid for _, rid in references]),
                    Round.program_id == program_id,
                )
            ).all()
        )
        for loc, rid in references:
            if rid == round_id:
                errors.append({"loc": ["body", "eligibility", *loc], "msg": "names this round"})
            elif rid not in known:
                errors.append(
                    {"loc": ["body", "eligibility", *loc], "msg": "no such round in this program"}
                )
    if errors:
        raise Unprocessable(
            "the round configuration is not valid: "
            + "; ".join(
                f"{'.'.join(str(p) for p in e['loc'][1:])}: {e['msg']}" for e in errors[:5]
            ),
            errors=errors,
        )


def _apply(round: Round, config: RoundConfig) -> None:
    round.name = config.name
    round.opens_at = config.opens_at
    round.submission_deadline = config.submission_deadline
    round.grace_seconds = config.grace_seconds
    round.review_deadline = config.review_deadline
    round.criteria = [c.model_dump(mode="json") for c in config.criteria]
    round.gates = [g.model_dump(mode="json") for g in config.gates]
    round.required_documents = [d.model_dump(mode="json") for d in config.required_documents]
    round.reviewers_per_application = config.reviewers_per_application
    round.shortlist = config.shortlist.model_dump(mode="json")
    round.eligibility = config.eligibility.model_dump(mode="json")
    round.blind = config.blind
    round.affinity = config.affinity


def round_public(round: Round) -> RoundPublic:
    return RoundPublic.model_validate(
        {
            **round.config().model_dump(),
            "id": round.id,
            "program_id": round.program_id,
            "status": round.status,
            "version": round.version,
            "created_at": round.created_at,
            "updated_at": round.updated_at,
            "opened_at": round.opened_at,
            "review_started_at": round.review_started_at,
            "closed_at": round.closed_at,
            "published_at": round.published_at,
        }
    )


# --- rounds ------------------------------------------------------------------------------------


def lock_round(session: Session, round_id: uuid.UUID, *, shared: bool = False) -> Round | None:
    """The round, re-read and locked until the transaction ends (``shared``: against changes
    only, so many submissions may hold it at once while a transition waits for them)."""
    return session.exec(
        select(Round)
        .where(Round.id == round_id)
        .with_for_update(read=shared)
        .execution_options(populate_existing=True)
    ).first()


def create_round(
    *,
    session: Session,
    actor: Actor,
    program_id: uuid.UUID,
    data: RoundCreate,
    now: datetime,
) -> Round:
    """A new round in ``draft`` with a checked configuration."""
    program = get_program(session=session, actor=actor, program_id=program_id)
    validate_round_config(session=session, config=data, program_id=program.id)
    round = Round(
        program_id=program.id,
        name=data.name,
        opens_at=data.opens_at,
        submission_deadline=data.submission_deadline,
        review_deadline=data.review_deadline,
        created_by=actor.user_id,
        created_at=now,
        updated_at=now,
    )
    _apply(round, data)
    session.add(round)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="round.created",
        object_type="round",
        object_id=round.id,
        now=now,
        data={"program_id": str(program.id), "config": jsonable(data.model_dump())},
    )
    return round


def get_round(*, session: Session, actor: Actor, round_id: uuid.UUID) -> Round:
    ensure_admin(actor)
    round = session.get(Round, round_id)
    if round is None:
        raise NotFound("no such round")
    return round


def list_rounds(
    *, session: Session, actor: Actor, program_id: uuid.UUID, page: PageRequest
) -> Page[RoundPublic]:
    program = get_program(session=session, actor=actor, program_id=program_id)
    return paginate(
        session,
        select(Round).where(Round.program_id == program.id),
        keys=[Round.created_at, Round.id],  # type: ignore[list-item]
        page=page,
        present=lambda rows: [round_public(r) for r in rows],
    )


def update_round(
    *,
    session: Session,
    actor: Actor,
    round_id: uuid.UUID,
    data: RoundUpdate,
    precondition: Precondition,
    now: datetime,
) -> Round:
    """Change a round's configuration: anything in ``draft``; afterwards only deadlines, and
    only to later ones (``CHANGEABLE_ONCE_OPEN``). An unchanged value is not a change."""
    ensure_admin(actor)
    round = lock_round(session, round_id)
    if round is None:
        raise NotFound("no such round")
    precondition.ensure(round.version)
    current = round.config()
    merged = current.model_copy(update={k: getattr(data, k) for k in data.model_fields_set})
    changed = sorted(k for k in data.model_fields_set if getattr(merged, k) != getattr(current, k))
    if not changed:
        return round
    status = RoundStatus(round.status)
    if status != RoundStatus.draft:
        allowed = CHANGEABLE_ONCE_OPEN.get(status, frozenset())
        locked = [k for k in changed if k not in allowed]
        if locked:
            raise Conflict(
                f"the round is {status.value}: only later deadlines may change"
                if allowed
                else f"the round is {status.value}: its configuration is final",
                type="round-not-draft",
                errors=[{"loc": ["body", k], "msg": "cannot change now"} for k in locked],
            )
        earlier = [k for k in changed if getattr(merged, k) < getattr(current, k)]
        if earlier:
            raise Unprocessable(
                "once a round is open its deadlines may only move later",
                type="deadline-not-later",
                errors=[{"loc": ["body", k], "msg": "may only move later"} for k in earlier],
            )
    validate_round_config(
        session=session, config=merged, program_id=round.program_id, round_id=round.id
    )
    _apply(round, merged)
    round.version += 1
    round.updated_at = now
    session.add(round)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action="round.updated",
        object_type="round",
        object_id=round.id,
        now=now,
        data={
            "status": status.value,
            "fields": changed,
            "from": current.model_dump(mode="json", include=set(changed)),
            "to": merged.model_dump(mode="json", include=set(changed)),
        },
    )
    return round


def transition_round(
    *,
    session: Session,
    actor: Actor,
    round: Round,
    transition: RoundTransition,
    now: datetime,
    data: Mapping[str, Any] | None = None,
) -> Round:
    """Move a round (locked by the caller) along one edge of ``LIFECYCLE`` and audit it; 409
    ``invalid-transition`` from any other status. Guards beyond the status are the caller's."""
    edge = LIFECYCLE[transition]
    ensure_status(round, edge)
    round.status = edge.target
    setattr(round, edge.stamp, now)
    round.version += 1
    round.updated_at = now
    session.add(round)
    session.flush()
    audit.append(
        session=session,
        actor=actor.audit_name,
        action=edge.action,
        object_type="round",
        object_id=round.id,
        now=now,
        data={"from": edge.source.value, "to": edge.target.value, **(data or {})},
    )
    outbox.record(
        session=session,
        type=EventType(edge.action),
        round_id=round.id,
        audience=EventAudience.round,
        now=now,
        data={"name": round.name, "status": edge.target.value},
    )
    return round


def ensure_status(round: Round, edge: Edge) -> None:
    if round.status != edge.source:
        raise InvalidTransition(
            f"a round in {round.status} cannot go to {edge.target.value};"
            f" it must be {edge.source.value}",
            extra={"status": str(round.status)},
        )


def _locked_for_transition(session: Session, actor: Actor, round_id: uuid.UUID) -> Round:
    ensure_admin(actor)
    round = lock_round(session, round_id)
    if round is None:
        raise NotFound("no such round")
    return round


def open_round(*, session: Session, actor: Actor, round_id: uuid.UUID, now: datetime) -> Round:
    """``draft -> open``: refused once the submission deadline plus grace has passed, and for a
    round without criteria (there would be nothing to score)."""
    round = _locked_for_transition(session, actor, round_id)
    ensure_status(round, LIFECYCLE[RoundTransition.open])
    if now > round.submissions_close_at:
        raise Conflict(
            f"the submission deadline ({rfc3339(round.submissions_close_at)} with grace) has"
            " passed; move it later first",
            type="deadline-passed",
        )
    if not round.criteria:
        raise Conflict("a round needs at least one criterion to open", type="round-incomplete")
    return transition_round(
        session=session, actor=actor, round=round, transition=RoundTransition.open, now=now
    )


def start_review(*, session: Session, actor: Actor, round_id: uuid.UUID, now: datetime) -> Round:
    """``open -> review``: refused (409 ``deadline-not-passed``) until the submission deadline
    plus grace has passed by the server clock."""
    round = _locked_for_transition(session, actor, round_id)
    ensure_status(round, LIFECYCLE[RoundTransition.start_review])
    if now <= round.submissions_close_at:
        raise Conflict(
            "submissions are accepted until"
            f" {rfc3339(round.submissions_close_at)}; review starts after that",
            type="deadline-not-passed",
        )
    return transition_round(
        session=session, actor=actor, round=round, transition=RoundTransition.start_review, now=now
    )


# --- rules applications follow -----------------------------------------------------------------


def is_sealed(round: Round, now: datetime) -> bool:
    """Bids stay sealed until the submission deadline plus grace has passed."""
    return now <= round.submissions_close_at


def ensure_accepting(round: Round, now: datetime) -> None:
    """Applications may be created, changed and submitted only while the round is open, from
    ``opens_at`` until the submission deadline plus grace (inclusive)."""
    if round.status != RoundStatus.open:
        raise Conflict(f"the round is {round.status}, not open", type="round-not-open")
    if now < round.opens_at:
        raise Conflict(f"the round opens at {rfc3339(round.opens_at)}", type="round-not-open")
    if now > round.submissions_close_at:
        raise Conflict(
            f"the submission deadline ({rfc3339(round.submissions_close_at)} with grace) has"
            " passed",
            type="deadline-passed",
        )
