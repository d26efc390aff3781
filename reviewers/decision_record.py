"""A closed round's decision record: who may have it, and its payload from the stored decision
(the pure part, pseudonyms and checks, is ``reviewers.decision.record``; signing is
``identity.decision_records``)."""

import uuid
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from models.audit import AuditEvent
from models.errors import Conflict, Forbidden
from models.identity import Actor
from models.reviewers import RoundResult
from models.rounds import RoundStatus
from reviewers.decision.record import record_payload
from reviewers.pool import load_round

CLOSE_ACTION = "round.closed"


def decision_record_payload(
    *, session: Session, actor: Actor, round_id: uuid.UUID, now: datetime
) -> dict[str, Any]:
    """The payload of the round's decision record. Admins once the round is closed; anyone with
    a valid token once it is published (the record then is public: it holds application ids,
    their submission times, scores and gate verdicts under reviewer pseudonyms, and the
    outcome; never titles, names, organizations, comments or reviewer ids). Before publish,
    others get 403 ``not-published`` whatever the round's state, as for results."""
    round_ = load_round(session=session, round_id=round_id)
    if round_.status != RoundStatus.published and not actor.is_admin:
        raise Forbidden("the decision record is not published yet", type="not-published")
    stored = session.get(RoundResult, round_.id)
    if stored is None:
        raise Conflict("the round has no decision until it is closed", type="round-not-closed")
    closing = session.exec(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "round",
            AuditEvent.object_id == str(round_id),
            AuditEvent.action == CLOSE_ACTION,
        )
        .order_by(col(AuditEvent.seq).desc())
    ).first()
    return record_payload(
        round_id=round_id,
        inputs=stored.inputs,
        result=stored.result,
        inputs_sha256=stored.inputs_sha256,
        result_sha256=stored.result_sha256,
        audit_head=None if closing is None else {"seq": closing.seq, "hash": closing.hash},
        issued_at=now,
    )
