"""The audit log: one ``append`` that every state change calls inside its own transaction,
``verify`` that walks the hash chain, and ``list_events`` that reads it under the sealed-bid
rules (``submissions.seal``: the stored events are whole, what readers get of a sealed bid is
not)."""

import hashlib
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.audit import AuditEvent, AuditEventPublic, AuditHead, AuditVerification
from models.errors import Forbidden
from models.identity import Actor
from models.pagination import Page, PageRequest
from submissions import seal
from submissions.canonical import canonical_json, jsonable, rfc3339
from submissions.pagination import paginate

GENESIS = "0" * 64


def event_hash(
    *,
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    object_type: str,
    object_id: str,
    data: Mapping[str, Any],
) -> str:
    body = canonical_json(
        {
            "seq": seq,
            "at": rfc3339(at),
            "actor": actor,
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "data": data,
        }
    )
    return hashlib.sha256(prev_hash.encode() + b"\n" + body).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    """Create the head row if needed and lock it until the transaction ends."""
    dialect = session.get_bind().dialect.name
    values = {"id": 1, "seq": 0, "hash": GENESIS}
    if dialect == "postgresql":
        session.execute(postgresql.insert(AuditHead).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(AuditHead).values(values).on_conflict_do_nothing())
    # On SQLite the write above already holds the database's single writer lock.
    return session.exec(
        select(AuditHead)
        .where(AuditHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def append(
    *,
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | uuid.UUID,
    now: datetime,
    data: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain in the caller's transaction (flushed, not committed).

    Appends are serialized by a lock on the chain's head row, so the chain has no forks.
    """
    head = _lock_head(session)
    seq = head.seq + 1
    plain = jsonable(dict(data or {}))
    digest = event_hash(
        prev_hash=head.hash,
        seq=seq,
        at=now,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data=plain,
    )
    event = AuditEvent(
        seq=seq,
        at=now,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        data=plain,
        prev_hash=head.hash,
        hash=digest,
    )
    head.seq = seq
    head.hash = digest
    session.add(event)
    session.add(head)
    session.flush()
    return event


def verify(*, session: Session, batch: int = 5000) -> AuditVerification:
    """Walk the whole chain; name the first event that was changed, removed or inserted."""
    prev = GENESIS
    expected_seq = 1
    last_seq = 0
    while True:
        rows = session.exec(
            select(AuditEvent)
            .where(AuditEvent.seq >= expected_seq)
            .order_by(col(AuditEvent.seq))
            .limit(batch)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.seq != expected_seq:
                return AuditVerification(
                    ok=False,
                    length=last_seq,
                    head=prev,
                    first_bad_seq=expected_seq,
                    detail=f"event {expected_seq} is missing",
                )
            recomputed = event_hash(
                prev_hash=prev,
                seq=event.seq,
                at=event.at,
                actor=event.actor,
                action=event.action,
                object_type=event.object_type,
                object_id=event.object_id,
                data=event.data,
            )
            if event.prev_hash != prev or event.hash != recomputed:
                return AuditVerification(
                    ok=False,
                    length=last_seq,
                    head=prev,
                    first_bad_seq=event.seq,
                    detail=f"event {event.seq} does not match its hash",
                )
            prev = event.hash
            last_seq = event.seq
            expected_seq += 1
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is not None and (head.seq != last_seq or head.hash != prev):
        return AuditVerification(
            ok=False,
            length=last_seq,
            head=prev,
            first_bad_seq=last_seq + 1,
            detail=f"the chain ends at {last_seq} but its head records {head.seq}",
        )
    return AuditVerification(ok=True, length=last_seq, head=prev)


def count_events(*, session: Session) -> int:
    return int(session.execute(sa.select(sa.func.count()).select_from(AuditEvent)).scalar_one())


def present_events(
    *, session: Session, events: Sequence[AuditEvent], now: datetime
) -> list[AuditEventPublic]:
    """Events as their readers see them: the data of an event about a bid still sealed at
    ``now`` is replaced by ``seal.sealed_data`` (its ``hash`` is the stored one)."""
    named = {
        event.seq: seal.application_named(
            object_type=event.object_type, object_id=event.object_id, data=event.data
        )
        for event in events
    }
    sealed = seal.sealed_application_ids(
        session=session,
        application_ids={a for a in named.values() if a is not None},
        now=now,
    )
    out: list[AuditEventPublic] = []
    for event in events:
        public = AuditEventPublic.model_validate(event, from_attributes=True)
        application_id = named[event.seq]
        if application_id is not None and application_id in sealed:
            public.data = seal.sealed_data(application_id)
        out.append(public)
    return out


def list_events(
    *,
    session: Session,
    actor: Actor,
    page: PageRequest,
    now: datetime,
    after_seq: int | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    action: str | None = None,
) -> Page[AuditEventPublic]:
    """The audit log in chain order, from after ``after_seq`` and optionally filtered (admins),
    each event about a still sealed bid redacted (``present_events``)."""
    if not actor.is_admin:
        raise Forbidden("only admins read the audit log", type="forbidden-role")
    statement = select(AuditEvent)
    if after_seq is not None:
        statement = statement.where(col(AuditEvent.seq) > after_seq)
    if object_type:
        statement = statement.where(AuditEvent.object_type == object_type)
    if object_id:
        statement = statement.where(AuditEvent.object_id == object_id)
    if action:
        statement = statement.where(AuditEvent.action == action)
    return paginate(
        session,
        statement,
        keys=[AuditEvent.seq],  # type: ignore[list-item]
        page=page,
        present=lambda rows: present_events(session=session, events=rows, now=now),
    )


def verify_for(*, session: Session, actor: Actor) -> AuditVerification:
    """``verify`` for the API (admins)."""
    if not actor.is_admin:
        raise Forbidden("only admins verify the audit log", type="forbidden-role")
    return verify(session=session)
