"""Mail turned on (or back on) late sends nothing about old events: an event older than
``TOO_LATE`` when its mail would be queued gets none, so a server that ran for days without
``SHORTLIST_SMTP_URL`` does not mail everyone their receipts and outcomes of days ago the first
time it has one. (Mail end to end: tests/integration/test_mail.py.)"""

from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import func, select

from infra.db import open_session
from models.mail import MailMessage
from notifications.mail import TOO_LATE, queue_event_mail
from tests.api.test_review_flow import T0, Round


def queued_after(app: FastAPI, *, late: timedelta) -> tuple[int, int]:
    """Queue the mail of every event so far ``late`` after the world was made (T0), in a
    transaction that is rolled back: how many events were passed and mails queued."""
    session = open_session(app.state.engine, write=True)
    try:
        passed = 0
        while batch := queue_event_mail(session=session, now=T0 + late, default_locale="en"):
            passed += batch
        return passed, session.exec(select(func.count()).select_from(MailMessage)).one()
    finally:
        session.rollback()
        session.close()


def test_no_mail_for_events_older_than_the_horizon(app: FastAPI, client: TestClient) -> None:
    Round(app, client)  # five submitted bids at T0 (the app here has no SMTP: nothing queued)
    passed, mails = queued_after(app, late=timedelta(minutes=5))
    assert passed > 0
    assert mails >= 5  # a receipt for each bid, at least
    # The same events, mail turned on just past the horizon: passed, and no mail.
    passed_late, mails_late = queued_after(app, late=TOO_LATE + timedelta(seconds=1))
    assert passed_late == passed
    assert mails_late == 0
