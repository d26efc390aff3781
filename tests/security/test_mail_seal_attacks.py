"""No mail carries another bidder's bid or outcome (moved from tests/integration/test_mail.py,
unchanged in what they assert), against the real SMTP server on loopback of tests/smtp_sink.py:
a receipt holds its own bid's hash and no other; nothing about outcomes goes out before
publishing; an outcome names only its own application and never a confidential comment."""

import time
from datetime import timedelta
from email.message import EmailMessage

import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.test_events import run_round
from tests.api.test_review_flow import T0, Round
from tests.factories import ok
from tests.smtp_sink import Sink, app, body, queue_all_mail, sink, to

__all__ = ["app", "sink"]  # (fixtures, used by name)


def is_outcome(mail: EmailMessage) -> bool:
    return "Result" in mail["Subject"] or "결과" in mail["Subject"]


def settle_mail(app: FastAPI, timeout: float = 30.0) -> None:
    """Queue the mail of every event so far (as the app's mail pass does, under the same lock
    on the mail cursor), then wait until none is left to send."""
    queue_all_mail(app)
    deadline = time.monotonic() + timeout
    while True:
        with app.state.engine.connect() as connection:
            unsent = connection.execute(
                sa.text("SELECT count(*) FROM mail_message WHERE status IN ('pending', 'sending')")
            ).scalar_one()
        if unsent == 0:
            return
        assert time.monotonic() < deadline, f"{unsent} mails still unsent"
        time.sleep(0.05)


def test_no_mail_carries_another_bid_or_outcome(
    app: FastAPI, client: TestClient, sink: tuple[Sink, int]
) -> None:
    smtp, _ = sink
    c = Round(app, client)
    c.clock.now = T0 + timedelta(seconds=30)
    receipts = smtp.wait_for(5)
    with app.state.engine.connect() as connection:
        hashes = dict(
            connection.execute(
                sa.text(
                    "SELECT a.title, r.application_sha256 FROM receipt r "
                    "JOIN application a ON a.id = r.application_id"
                )
            ).all()
        )
    assert len(hashes) == 5
    for i, user in enumerate(c.applicant_users):
        [mail] = [m for m in receipts if to(m) == user.email]
        text, page = body(mail), body(mail, "html")
        assert hashes[f"Model {i}"] in text
        assert all(h not in text for t, h in hashes.items() if t != f"Model {i}")
        assert all(h not in page for t, h in hashes.items() if t != f"Model {i}")

    # Reviews with confidential comments, then close: nothing about outcomes before publish.
    run_round(c, client)
    # Every event up to closing has had its mail queued, and all of it sent: none may be an
    # outcome, in the outbox or at the server.
    settle_mail(app)
    assert not any(is_outcome(m) for m in smtp.messages)
    with app.state.engine.connect() as connection:
        subjects = connection.execute(sa.text("SELECT subject FROM mail_message")).scalars()
        assert not any("Result" in s or "결과" in s for s in subjects)
    ok(client.post(f"/api/v1/rounds/{c.rid}/publish", headers=c.admin))
    # (Matched by subject: a notice may still be arriving as publishing starts.)
    outcomes = smtp.wait_matching(is_outcome, 5)
    for i, user in enumerate(c.applicant_users):
        [mail] = [m for m in outcomes if to(m) == user.email]
        for text in (body(mail), body(mail, "html")):
            assert f"Model {i}" in text
            assert all(f"Model {j}" not in text for j in range(5) if j != i)
            assert "secret note" not in text
