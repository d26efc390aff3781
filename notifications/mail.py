"""Mail: what to tell whom, in their language, for each event and reminder (composition and
the outbox of mail); sending over SMTP is infra's (``infra.mail``).

- ``application.submitted``: the receipt (receipt id, received at, application SHA-256) to the
  submitter and the lead organization's owners: the bid's own people, so the seal holds.
- ``assignment.created``: a notice to the reviewer (the round is in review: the seal is off).
- reminders 72 and 24 hours before a round's ``review_deadline`` to each reviewer with an
  unsubmitted review (the latest one due only, when a pass comes late).
- ``round.published``: to the lead organization's owners of each bid, that bid's outcome only.

Each mail is a ``MailMessage`` row with a unique key (the event or reminder, the recipient and,
for outcomes, the bid), inserted once whatever the retries; sending claims it first, so two
processes never send the same row, and a crashed send is tried again only after ``STALE``.
"""

import hashlib
import html
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from models.applications import Application, ApplicationStatus
from models.events import Event, EventType
from models.identity import MemberRole, OrganizationMember, User
from models.mail import MailMessage, MailStatus
from models.reviewers import Assignment, AssignmentStatus, Review, ReviewStatus
from models.rounds import Round, RoundStatus
from notifications.webhooks import backoff, lock_cursor
from submissions.canonical import rfc3339

LOCALES = ("en", "ko")
REMINDER_HOURS = (72, 24)
STALE = timedelta(minutes=10)
"""A claimed mail not marked sent after this long (its sender died) is tried again."""
GIVE_UP_AFTER = timedelta(days=2)
TOO_LATE = GIVE_UP_AFTER
"""An event older than this when its mail would be queued gets none: mail turned on (or back on)
after a while must not send people receipts, notices and outcomes of days or months ago. The
same horizon after which a queued mail that could not be sent is given up."""

TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "receipt": {
        "en": (
            "Receipt for “{title}”",
            "We received your application “{title}”.\n\nReceipt: {receipt_id}\n"
            "Received at: {received_at}\nApplication SHA-256: {application_sha256}",
        ),
        "ko": (
            "“{title}” 접수증",
            "신청서 “{title}”이(가) 접수되었습니다.\n\n접수번호: {receipt_id}\n"
            "접수 시각: {received_at}\n신청서 SHA-256: {application_sha256}",
        ),
    },
    "assignment": {
        "en": (
            "New review assignment: {round}",
            "You have been assigned to review “{title}” in {round}.\n"
            "Reviews are due by {deadline}.",
        ),
        "ko": (
            "{round} 심사 배정 안내",
            "{round}의 “{title}” 심사가 배정되었습니다.\n심사 마감: {deadline}",
        ),
    },
    "reminder": {
        "en": (
            "Reviews due in {hours} hours: {round}",
            "You have {count} unsubmitted review(s) in {round}.\nThey are due by {deadline}.",
        ),
        "ko": (
            "{round} 심사 마감 {hours}시간 전",
            "{round}에 아직 제출하지 않은 심사가 {count}건 있습니다.\n심사 마감: {deadline}",
        ),
    },
    "shortlisted": {
        "en": ("Result for “{title}”", "“{title}” has been shortlisted in {round}."),
        "ko": ("“{title}” 결과 안내", "“{title}”이(가) {round}에서 선정되었습니다."),
    },
    "not_selected": {
        "en": ("Result for “{title}”", "“{title}” was not selected in {round}."),
        "ko": ("“{title}” 결과 안내", "“{title}”은(는) {round}에서 선정되지 않았습니다."),
    },
}


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(template: str, locale: str, **values: object) -> Rendered:
    """A mail in ``locale`` (English when unknown): plain text, and HTML with every value
    escaped."""
    subject, body = TEMPLATES[template].get(locale, TEMPLATES[template]["en"])
    text = body.format(**values)
    escaped = {k: html.escape(str(v)) for k, v in values.items()}
    paragraphs = "".join(
        f"<p>{line}</p>" for line in body.format(**escaped).split("\n") if line.strip()
    )
    page = (
        f'<!doctype html><html lang="{locale}"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject.format(**values))}</title></head><body>{paragraphs}</body></html>"
    )
    return Rendered(subject=subject.format(**values), text=text, html=page)


def locale_of(user: User, default: str) -> str:
    return user.locale if user.locale in LOCALES else default


def _users(session: Session, ids: Iterable[uuid.UUID]) -> list[User]:
    wanted = sorted(set(ids), key=lambda u: u.int)
    if not wanted:
        return []
    return list(
        session.exec(
            select(User).where(col(User.id).in_(wanted), col(User.is_active).is_(True))
        ).all()
    )


def lead_owners(session: Session, application: Application) -> list[uuid.UUID]:
    if application.lead_organization_id is None:
        return []
    return list(
        session.exec(
            select(OrganizationMember.user_id).where(
                OrganizationMember.organization_id == application.lead_organization_id,
                OrganizationMember.role == MemberRole.owner,
            )
        ).all()
    )


def _add(
    session: Session, *, key: str, user: User, locale: str, mail: Rendered, now: datetime
) -> None:
    """Queue one mail unless its key is queued already."""
    values = {
        "id": uuid.uuid4(),
        "key": key,
        "recipient_id": user.id,
        "recipient": user.email,
        "locale": locale,
        "subject": mail.subject[:300],
        "text": mail.text,
        "html": mail.html,
        "status": MailStatus.pending.value,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
    table = MailMessage.__table__  # type: ignore[attr-defined]
    if session.get_bind().dialect.name == "postgresql":
        session.execute(postgresql.insert(table).values(values).on_conflict_do_nothing())
    else:
        session.execute(sqlite.insert(table).values(values).on_conflict_do_nothing())


def _deadline(round: Round, locale: str) -> str:
    stamp = rfc3339(round.review_deadline)
    return stamp if locale == "en" else stamp.replace("T", " ")


def mail_for_event(*, session: Session, event: Event, default_locale: str, now: datetime) -> int:
    """Queue the mail ``event`` causes; how many (new or not)."""
    count = 0
    if event.type == EventType.application_submitted and event.application_id is not None:
        application = session.get(Application, event.application_id)
        if application is None:
            return 0
        submitter = event.data.get("submitted_by")
        ids = [*lead_owners(session, application)]
        if isinstance(submitter, str):
            ids.append(uuid.UUID(submitter))
        for user in _users(session, ids):
            locale = locale_of(user, default_locale)
            mail = render(
                "receipt",
                locale,
                title=application.title,
                receipt_id=event.data.get("receipt_id", ""),
                received_at=event.data.get("received_at", ""),
                application_sha256=event.data.get("application_sha256", ""),
            )
            _add(session, key=f"{event.id}:{user.id}", user=user, locale=locale, mail=mail, now=now)
            count += 1
    elif event.type == EventType.assignment_created and event.reviewer_id is not None:
        application = session.get(Application, event.application_id)
        round = session.get(Round, event.round_id)
        if application is None or round is None:
            return 0
        for user in _users(session, [event.reviewer_id]):
            locale = locale_of(user, default_locale)
            mail = render(
                "assignment",
                locale,
                title=application.title,
                round=round.name,
                deadline=_deadline(round, locale),
            )
            _add(session, key=f"{event.id}:{user.id}", user=user, locale=locale, mail=mail, now=now)
            count += 1
    elif event.type == EventType.round_published:
        round = session.get(Round, event.round_id)
        if round is None:
            return 0
        applications = session.exec(
            select(Application).where(
                Application.round_id == round.id,
                col(Application.status).in_(
                    [ApplicationStatus.shortlisted, ApplicationStatus.not_selected]
                ),
            )
        ).all()
        for application in applications:
            outcome = ApplicationStatus(application.status).value
            for user in _users(session, lead_owners(session, application)):
                locale = locale_of(user, default_locale)
                mail = render(outcome, locale, title=application.title, round=round.name)
                _add(
                    session,
                    key=f"{event.id}:{user.id}:{application.id}",
                    user=user,
                    locale=locale,
                    mail=mail,
                    now=now,
                )
                count += 1
    return count


def queue_event_mail(
    *, session: Session, now: datetime, default_locale: str, batch: int = 500
) -> int:
    """Queue the mail of up to ``batch`` events past the mail cursor (none for an event older
    than ``TOO_LATE``); how many events were passed."""
    cursor = lock_cursor(session, "mail")
    events = session.exec(
        select(Event)
        .where(
            col(Event.seq) > cursor.seq,
            col(Event.type).in_(
                [
                    EventType.application_submitted.value,
                    EventType.assignment_created.value,
                    EventType.round_published.value,
                ]
            ),
        )
        .order_by(col(Event.seq))
        .limit(batch)
    ).all()
    for event in events:
        if now - event.occurred_at >= TOO_LATE:
            continue  # (the cursor passes it: no mail, ever)
        mail_for_event(session=session, event=event, default_locale=default_locale, now=now)
    if events:
        cursor.seq = events[-1].seq
        session.add(cursor)
    session.flush()
    return len(events)


def queue_reminders(*, session: Session, now: datetime, default_locale: str) -> int:
    """Queue the reminders due at ``now``: for each round in review whose review deadline is
    within 72 (or 24) hours, to each reviewer with an unsubmitted review."""
    rounds = session.exec(
        select(Round).where(
            Round.status == RoundStatus.review,
            col(Round.review_deadline) > now,
            col(Round.review_deadline) <= now + timedelta(hours=max(REMINDER_HOURS)),
        )
    ).all()
    count = 0
    for round in rounds:
        left = round.review_deadline - now
        hours = min(h for h in REMINDER_HOURS if left <= timedelta(hours=h))
        open_reviews = session.execute(
            sa.select(col(Assignment.reviewer_id), sa.func.count())
            .select_from(Assignment)
            .outerjoin(Review, col(Review.assignment_id) == col(Assignment.id))
            .where(
                col(Assignment.round_id) == round.id,
                col(Assignment.status) == AssignmentStatus.active,
                sa.or_(col(Review.id).is_(None), col(Review.status) != ReviewStatus.submitted),
            )
            .group_by(col(Assignment.reviewer_id))
        ).all()
        pending = {row[0]: int(row[1]) for row in open_reviews}
        for user in _users(session, pending):
            locale = locale_of(user, default_locale)
            mail = render(
                "reminder",
                locale,
                hours=hours,
                count=pending[user.id],
                round=round.name,
                deadline=_deadline(round, locale),
            )
            _add(
                session,
                key=f"reminder-{hours}:{round.id}:{user.id}",
                user=user,
                locale=locale,
                mail=mail,
                now=now,
            )
            count += 1
    session.flush()
    return count


def due_mail(*, session: Session, now: datetime, limit: int = 50) -> list[uuid.UUID]:
    """Mail to send now: pending and due, or claimed by a sender that never finished."""
    return list(
        session.exec(
            select(MailMessage.id)
            .where(
                col(MailMessage.status).in_([MailStatus.pending, MailStatus.sending]),
                col(MailMessage.next_attempt_at) <= now,
            )
            .order_by(col(MailMessage.created_at))
            .limit(limit)
        ).all()
    )


def claim(*, session: Session, mail_id: uuid.UUID, now: datetime) -> MailMessage | None:
    """Take a due mail for sending (locked, so one sender at a time); ``None`` if it is not
    due any more."""
    mail = session.exec(
        select(MailMessage).where(MailMessage.id == mail_id).with_for_update()
    ).first()
    if mail is None or mail.status not in (MailStatus.pending, MailStatus.sending):
        return None
    if mail.next_attempt_at is None or mail.next_attempt_at > now:
        return None
    mail.status = MailStatus.sending.value
    mail.attempts += 1
    mail.next_attempt_at = now + STALE
    session.add(mail)
    session.flush()
    return mail


def record_sending(
    *, session: Session, mail_id: uuid.UUID, now: datetime, error: str | None
) -> MailMessage | None:
    """Mark a claimed mail sent, or due again after its backoff (failed for good after
    ``GIVE_UP_AFTER``)."""
    mail = session.get(MailMessage, mail_id)
    if mail is None or mail.status != MailStatus.sending:
        return None
    if error is None:
        mail.status = MailStatus.sent.value
        mail.sent_at = now
        mail.next_attempt_at = None
        mail.last_error = None
    else:
        mail.last_error = error[:500]
        if now - mail.created_at >= GIVE_UP_AFTER:
            mail.status = MailStatus.failed.value
            mail.next_attempt_at = None
        else:
            mail.status = MailStatus.pending.value
            mail.next_attempt_at = now + backoff(mail.attempts)
    session.add(mail)
    session.flush()
    return mail


def message_id(mail: MailMessage, domain: str) -> str:
    """The same Message-ID for every attempt of one mail (receivers can drop a repeat)."""
    return f"<{hashlib.sha256(mail.key.encode()).hexdigest()[:32]}@{domain}>"
