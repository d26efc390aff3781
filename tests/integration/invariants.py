"""What must hold in the database whatever happened before: after a crash at any point, after
any race. Each check returns the list of violations it found (empty when all is well), so a test
can report every one of them at once.

- Documents: every live document row has its blob, of the recorded size and SHA-256.
- Submissions: an application that was submitted (``submitted``, ``shortlisted``,
  ``not_selected``) has exactly one valid receipt, and that receipt names its own audit event
  (``application.submitted``, same hash); a draft or withdrawn one has none.
- Rounds: ``closed``/``published`` if and only if a stored result exists; in a closed round no
  application is still ``submitted`` and the outcomes are exactly the stored result's; before
  closing, no application has an outcome; the stored result recomputes from its inputs; each
  round has exactly one audit event per transition it went through.
- Audit: the hash chain verifies.
"""

import hashlib
import uuid
from collections import Counter
from pathlib import Path

from sqlmodel import Session, col, select

from models.applications import Application, ApplicationStatus, Receipt
from models.audit import AuditEvent
from models.documents import Document
from models.reviewers import RoundResult
from models.rounds import Round, RoundStatus
from reviewers.closing import verify_result
from submissions.audit import verify

SUBMITTED = {
    ApplicationStatus.submitted,
    ApplicationStatus.shortlisted,
    ApplicationStatus.not_selected,
}
OUTCOMES = {ApplicationStatus.shortlisted, ApplicationStatus.not_selected}
TRANSITIONS = {
    RoundStatus.draft: (),
    RoundStatus.open: ("round.opened",),
    RoundStatus.review: ("round.opened", "round.review_started"),
    RoundStatus.closed: ("round.opened", "round.review_started", "round.closed"),
    RoundStatus.published: (
        "round.opened",
        "round.review_started",
        "round.closed",
        "round.published",
    ),
}


def document_violations(
    session: Session, blob_root: Path | None, hashed: set[uuid.UUID] | None = None
) -> list[str]:
    """Live document rows without their blob (or with other bytes than recorded). The blobs of
    the documents in ``hashed`` are only checked for presence and size (they were hashed in an
    earlier check); the others are hashed, and added to it."""
    wrong = []
    rows = session.exec(select(Document).where(col(Document.deleted_at).is_(None))).all()
    uploaded = Counter(
        session.exec(
            select(AuditEvent.object_id).where(AuditEvent.action == "document.uploaded")
        ).all()
    )
    for row in rows:
        if uploaded[str(row.id)] != 1:
            wrong.append(f"document {row.id}: {uploaded[str(row.id)]} upload events")
        if blob_root is None:
            continue
        path = blob_root / row.storage_key
        if not path.is_file():
            wrong.append(f"document {row.id}: no blob at {row.storage_key}")
            continue
        if path.stat().st_size != row.size:
            wrong.append(f"document {row.id}: the blob is not the recorded size")
        elif hashed is None or row.id not in hashed:
            if hashlib.sha256(path.read_bytes()).hexdigest() != row.sha256:
                wrong.append(f"document {row.id}: the blob is not the recorded content")
            elif hashed is not None:
                hashed.add(row.id)
    return wrong


def submission_violations(session: Session, round_ids: set[uuid.UUID] | None = None) -> list[str]:
    wrong = []
    statement = select(Application)
    if round_ids is not None:
        statement = statement.where(col(Application.round_id).in_(round_ids))
    applications = session.exec(statement).all()
    ids = [a.id for a in applications]
    receipts: dict[uuid.UUID, list[Receipt]] = {i: [] for i in ids}
    for receipt in session.exec(
        select(Receipt).where(
            col(Receipt.application_id).in_(ids), col(Receipt.voided_at).is_(None)
        )
    ).all():
        receipts[receipt.application_id].append(receipt)
    seqs = [r.audit_seq for rs in receipts.values() for r in rs]
    events = {
        e.seq: e for e in session.exec(select(AuditEvent).where(col(AuditEvent.seq).in_(seqs)))
    }
    for application in applications:
        valid = receipts[application.id]
        if application.status in SUBMITTED:
            if len(valid) != 1:
                wrong.append(
                    f"{application.status} application {application.id}: {len(valid)} receipts"
                )
                continue
            event = events.get(valid[0].audit_seq)
            if (
                event is None
                or event.action != "application.submitted"
                or event.object_id != str(application.id)
                or event.hash != valid[0].audit_hash
            ):
                wrong.append(
                    f"application {application.id}: the receipt's audit event is not its own"
                )
            if application.submitted_at is None:
                wrong.append(f"application {application.id}: submitted without submitted_at")
        elif valid:
            wrong.append(f"{application.status} application {application.id}: a valid receipt")
    return wrong


def round_violations(session: Session, round_ids: set[uuid.UUID] | None = None) -> list[str]:
    wrong = []
    statement = select(Round)
    if round_ids is not None:
        statement = statement.where(col(Round.id).in_(round_ids))
    for round in session.exec(statement).all():
        status = RoundStatus(round.status)
        stored = session.get(RoundResult, round.id)
        applications = session.exec(
            select(Application).where(Application.round_id == round.id)
        ).all()
        outcomes = {a.id: a.status for a in applications if a.status in OUTCOMES}
        closed = status in (RoundStatus.closed, RoundStatus.published)
        if closed != (stored is not None):
            wrong.append(f"{status} round {round.id}: stored result {stored is not None}")
        if closed and stored is not None:
            if any(a.status == ApplicationStatus.submitted for a in applications):
                wrong.append(f"closed round {round.id}: applications still only submitted")
            decided = {
                uuid.UUID(r["application_id"]): r["shortlisted"] for r in stored.result["rows"]
            }
            if set(decided) != set(outcomes):
                wrong.append(f"closed round {round.id}: outcomes differ from the stored result")
            for application_id, shortlisted in decided.items():
                expected = (
                    ApplicationStatus.shortlisted if shortlisted else ApplicationStatus.not_selected
                )
                if outcomes.get(application_id) != expected:
                    wrong.append(f"closed round {round.id}: {application_id} is not {expected}")
            if not verify_result(session=session, round_id=round.id)["ok"]:
                wrong.append(f"closed round {round.id}: the stored result does not recompute")
        if not closed and outcomes:
            wrong.append(f"{status} round {round.id}: {len(outcomes)} applications with outcomes")
        actions = Counter(
            session.exec(
                select(AuditEvent.action).where(
                    AuditEvent.object_type == "round",
                    AuditEvent.object_id == str(round.id),
                    col(AuditEvent.action).in_(TRANSITIONS[RoundStatus.published]),
                )
            ).all()
        )
        if actions != Counter(TRANSITIONS[status]):
            wrong.append(f"{status} round {round.id}: transition events {dict(actions)}")
    return wrong


def audit_violations(session: Session) -> list[str]:
    result = verify(session=session)
    return [] if result.ok else [f"the audit chain does not verify: {result}"]


def all_violations(
    session: Session,
    *,
    blob_root: Path | None = None,
    hashed: set[uuid.UUID] | None = None,
    round_ids: set[uuid.UUID] | None = None,
) -> list[str]:
    return [
        *document_violations(session, blob_root, hashed),
        *submission_violations(session, round_ids),
        *round_violations(session, round_ids),
        *audit_violations(session),
    ]
