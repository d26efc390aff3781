from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session

from models.documents import DocumentStatus
from models.pagination import PageRequest
from submissions.audit import append, count_events, list_events, verify
from submissions.documents import record_scan
from submissions.scanning import ScanResult, ScanVerdict
from tests.factories import (
    actor_of,
    make_admin,
    make_application,
    make_document,
    make_round,
    make_user,
)

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def _fill(session: Session, n: int) -> None:
    for i in range(n):
        append(
            session=session,
            actor="user:test",
            action="thing.changed",
            object_type="thing",
            object_id=f"t{i}",
            now=T0 + timedelta(seconds=i),
            data={"i": i, "note": "ünïcode", "ratio": 0.1},
        )
    session.commit()


def test_append_builds_a_chain_that_verifies(session: Session) -> None:
    _fill(session, 5)
    result = verify(session=session)
    assert result.ok
    assert result.length == 5
    assert count_events(session=session) == 5
    assert len(result.head) == 64


def test_empty_chain_verifies(session: Session) -> None:
    result = verify(session=session)
    assert result.ok
    assert result.length == 0


def test_changed_row_is_reported_at_its_seq(session: Session) -> None:
    _fill(session, 6)
    session.execute(
        sa.text("UPDATE audit_event SET object_id = 'forged' WHERE seq = 4"),
    )
    session.commit()
    result = verify(session=session)
    assert not result.ok
    assert result.first_bad_seq == 4
    assert result.length == 3


def test_changed_data_is_reported(session: Session) -> None:
    _fill(session, 3)
    session.execute(sa.text("UPDATE audit_event SET data = :d WHERE seq = 2"), {"d": '{"i": 99}'})
    session.commit()
    assert verify(session=session).first_bad_seq == 2


def test_removed_row_is_reported(session: Session) -> None:
    _fill(session, 5)
    session.execute(sa.text("DELETE FROM audit_event WHERE seq = 3"))
    session.commit()
    result = verify(session=session)
    assert not result.ok
    assert result.first_bad_seq == 3


def test_removed_tail_is_reported(session: Session) -> None:
    _fill(session, 5)
    session.execute(sa.text("DELETE FROM audit_event WHERE seq = 5"))
    session.commit()
    result = verify(session=session)
    assert not result.ok
    assert result.first_bad_seq == 5


def test_rolled_back_append_leaves_no_trace(session: Session) -> None:
    _fill(session, 2)
    append(session=session, actor="a", action="x", object_type="t", object_id="1", now=T0, data={})
    session.rollback()
    result = verify(session=session)
    assert result.ok
    assert result.length == 2


def test_scan_verdicts_of_a_sealed_bid_are_read_redacted(session: Session) -> None:
    """A scan (the system's own work, no HTTP route) names the document's application: its
    verdict and signature stay out of the audit log's answers until the seal lifts."""
    round = make_round(session)
    application = make_application(session, round, make_user(session))
    document = make_document(session, application, status=DocumentStatus.pending_scan)
    infected = ScanResult(ScanVerdict.INFECTED, signature="Eicar-zq81")
    assert record_scan(session=session, document_id=document.id, result=infected, now=T0)
    session.commit()
    admin = actor_of(make_admin(session))

    def scanned(now: datetime) -> dict[str, object]:
        page = list_events(
            session=session, actor=admin, page=PageRequest(), now=now, action="document.scanned"
        )
        [event] = page.items
        return event.data

    sealed_until = round.submissions_close_at
    assert scanned(sealed_until) == {"sealed": True, "application_id": str(application.id)}
    assert scanned(sealed_until + timedelta(microseconds=1))["signature"] == "Eicar-zq81"
    assert verify(session=session).ok
